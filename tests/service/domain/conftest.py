"""A migrated database (SQLite file and PostgreSQL) seeded with submissions in known states."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import sessionmaker

from tests.conftest import drop_database, migrated_database


@pytest.fixture(params=["sqlite", "postgresql"])
def db_session(request, tmp_path):
    """A session on a migrated database of its own: a SQLite file, or a new PostgreSQL one
    (copies of the migrated one, ``tests.conftest.migrated_database``)."""
    from service.db import engine_for

    url, pg_name = migrated_database(request, request.param, tmp_path / "evidencia.db",
                                     "evidencia_dom_")
    session = sessionmaker(bind=engine_for(url))()
    yield session
    session.close()
    engine_for(url).dispose()
    if pg_name:
        drop_database(pg_name)


def seed(session) -> dict:
    """Three submissions: one complete and confirmed, one with an error, one still empty.

    The complete one's document was classified twice (only the newest, v2, counts) and every
    commitment was rejected, then confirmed (only the newest decision counts).
    """
    from service.domain.models import (
        Classification,
        CommitmentResult,
        Decision,
        Document,
        Organization,
        Submission,
        User,
    )

    reviewer = User(username="r", password_hash="x")
    session.add(reviewer)
    subs = {}
    for key, name in (("full", "Alfa"), ("error", "Beta"), ("empty", "Gamma")):
        sub = Submission(organization=Organization(name=name), token_hash="0" * 64)
        session.add(sub)
        subs[key] = sub
    session.flush()

    doc = Document(submission_id=subs["full"].id, name="a.pdf", status="done", stage="done")
    session.add(doc)
    session.flush()
    old = Classification(document_id=doc.id, classifier_version="v1", doc_type="otro")
    old.results = [CommitmentResult(commitment="c1", supported=False, confidence=0.9)]
    session.add(old)
    session.flush()
    new = Classification(document_id=doc.id, classifier_version="v2", doc_type="acta")
    new.results = [
        CommitmentResult(commitment=c, supported=True, confidence=0.9)
        for c in ("c1", "c2", "c3", "c4", "c5")
    ]
    session.add(new)
    for cid in ("c1", "c2", "c3", "c4", "c5"):
        session.add(Decision(submission_id=subs["full"].id, commitment=cid, action="reject",
                             reviewer_id=reviewer.id))
        session.flush()
        session.add(Decision(submission_id=subs["full"].id, commitment=cid, action="confirm",
                             reviewer_id=reviewer.id))
    session.add(Document(submission_id=subs["error"].id, name="b.pdf", status="error",
                         stage="error", error="dañado"))
    session.add(Document(submission_id=subs["error"].id, name="c.pdf", status="queued"))
    session.commit()
    return subs


@pytest.fixture
def seeded(db_session) -> dict:
    return seed(db_session)
