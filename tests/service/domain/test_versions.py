"""A submission's version stamp moves with every change its status or matrix shows, in the
same transaction, and with nothing else (the API's cached answers are keyed by it)."""

from __future__ import annotations

from sqlalchemy import select, update

from service.domain import lifecycle
from service.domain.models import (
    Classification,
    CommitmentResult,
    Decision,
    Document,
    Extraction,
    ReviewFlag,
    StoredFile,
    Submission,
    bump_versions,
)
from tests.service.domain.conftest import seed


def _versions(session) -> dict[str, int]:
    session.expire_all()
    return dict(session.execute(select(Submission.id, Submission.version)).all())


def test_every_change_the_matrix_shows_bumps_its_submission_only(db_session):
    subs = seed(db_session)
    full, error = subs["full"].id, subs["error"].id
    doc = db_session.scalar(select(Document).where(Document.submission_id == error,
                                                   Document.status == "queued"))
    steps = []

    def step(name, change):
        before = _versions(db_session)
        change()
        db_session.commit()
        after = _versions(db_session)
        steps.append((name, {k for k in after if after[k] != before[k]}))

    step("document progress", lambda: setattr(doc, "stage", "ocr"))
    step("classification", lambda: db_session.add(Classification(
        document_id=doc.id, classifier_version="v9", doc_type="acta",
        results=[CommitmentResult(commitment="c1", supported=True, confidence=0.7)])))
    step("decision", lambda: db_session.add(Decision(
        submission_id=full, commitment="c2", action="reject", reviewer_id=1)))
    step("flag", lambda: db_session.add(ReviewFlag(
        submission_id=full, commitment="c2", old_version="v1", new_version="v2",
        old_supported=True, new_supported=False)))
    step("organisation renamed", lambda: setattr(subs["error"].organization, "name", "Beta 2"))
    step("new document", lambda: db_session.add(Document(submission_id=full, name="n.pdf")))
    step("bulk write", lambda: bump_versions(db_session, documents=[doc.id]))
    failed = db_session.scalar(select(Document.id).where(Document.status == "error"))
    step("compare-and-set", lambda: lifecycle.retry_if_error(db_session, failed, "job-1"))
    step("submission updated", lambda: db_session.execute(
        update(Submission).where(Submission.id == full).values(contact_email="a@b.cl")))

    def unrelated():
        db_session.add(StoredFile(sha256="cd" * 32, size=1, mime="text/plain"))
        db_session.flush()
        db_session.add(Extraction(sha256="cd" * 32, extractor_version="1", extractor="x",
                                  mime="text/plain"))

    step("an extraction alone", unrelated)
    assert steps == [
        ("document progress", {error}),
        ("classification", {error}),
        ("decision", {full}),
        ("flag", {full}),
        ("organisation renamed", {error}),
        ("new document", {full}),
        ("bulk write", {error}),
        ("compare-and-set", {error}),
        ("submission updated", {full}),
        ("an extraction alone", set()),
    ]


def test_a_rolled_back_change_leaves_the_version(db_session):
    subs = seed(db_session)
    before = _versions(db_session)
    db_session.add(Decision(submission_id=subs["full"].id, commitment="c1", action="reject",
                            reviewer_id=1))
    db_session.flush()
    db_session.rollback()
    assert _versions(db_session) == before
