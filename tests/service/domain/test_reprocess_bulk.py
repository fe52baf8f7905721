"""Reprocessing in bulk (issue 12: per-document round trips) writes exactly what reprocessing
one document at a time writes."""

from __future__ import annotations

from sqlalchemy import select

from service.domain.models import (
    Classification,
    Document,
    Extraction,
    ExtractionPage,
    Organization,
    StoredFile,
    Submission,
)
from tests.documents import TRAINING_PLAN_TEXT

OTHER_TEXT = ("ACTA DE SESIÓN\nEl comité de inclusión se reunió con trabajadores de nacionalidad "
              "venezolana y haitiana y acordó una feria intercultural abierta a la comunidad.")


def _documents(session) -> list[str]:
    """Three documents of one submission: two with the same text (the same bytes twice), one
    with its own; one more without any text."""
    sub = Submission(organization=Organization(name="Alfa"), token_hash="0" * 64)
    session.add(sub)
    extractions = []
    for n, text in enumerate((TRAINING_PLAN_TEXT, OTHER_TEXT)):
        sha = f"{n:064d}"
        session.add(StoredFile(sha256=sha, size=1, mime="text/plain"))
        session.flush()
        extraction = Extraction(sha256=sha, extractor_version="1", extractor="x",
                                mime="text/plain", page_count=1,
                                pages=[ExtractionPage(number=1, text=text)])
        session.add(extraction)
        extractions.append(extraction)
    session.flush()
    docs = [Document(submission=sub, name=f"d{n}.txt", status="done",
                     extraction_id=extractions[e].id) for n, e in enumerate((0, 1, 0))]
    docs.append(Document(submission=sub, name="vacio.txt", status="error"))
    session.add_all(docs)
    session.commit()
    return [d.id for d in docs]


def _written(session, version: str) -> dict:
    session.expire_all()
    out = {}
    for c in session.scalars(select(Classification)
                             .where(Classification.classifier_version == version)):
        out[c.document_id] = (c.doc_type, [(r.commitment, r.supported, r.confidence, r.evidence)
                                           for r in c.results],
                              session.get(Document, c.document_id).doc_type)
    return out


def test_bulk_reprocess_writes_what_one_document_at_a_time_writes(
    service_env, session, monkeypatch
):
    import classifiers
    from service.domain import pipeline

    ids = _documents(session)
    monkeypatch.setattr(classifiers, "CLASSIFIER_VERSION", "bulk")
    before = session.scalar(select(Submission.version))
    assert pipeline.reclassify_documents(ids + ids[:1]) == {
        "reclassified": 3, "skipped": 1, "failed": 0}
    assert session.scalar(select(Submission.version)) == before + 1  # one transaction
    assert pipeline.reclassify_documents(ids) == {"reclassified": 0, "skipped": 4, "failed": 0}

    monkeypatch.setattr(classifiers, "CLASSIFIER_VERSION", "one-by-one")
    for document in session.scalars(select(Document).where(Document.id.in_(ids))).all():
        pipeline.reclassify_document(session, document, "one-by-one")

    bulk, single = _written(session, "bulk"), _written(session, "one-by-one")
    assert set(bulk) == set(ids[:3])
    assert bulk == single
    assert bulk[ids[0]] == bulk[ids[2]] != bulk[ids[1]]


def _rows_reading_every_version(session, document_ids, version):
    """``reprocess._compared_rows`` as the flips read them before (every version's rows of each
    document, ordered by id, the newest other version winning): the reference of the test below."""
    from service.domain.reprocess import _chunks

    previous, current = {}, {}
    for chunk in _chunks(document_ids):
        for cid, doc_id, ver in session.execute(
            select(Classification.id, Classification.document_id,
                   Classification.classifier_version)
            .where(Classification.document_id.in_(chunk)).order_by(Classification.id)
        ):
            if ver == version:
                current[doc_id] = cid
            else:
                previous[doc_id] = (cid, ver)
    return previous, current


def test_the_flips_read_the_two_rows_they_compare_as_reading_every_version_did(
    service_env, session, monkeypatch
):
    """Issue 12 item 3: the flips read, per document, the row under the new version and the
    newest under another (not every version's rows): the same pairs as before, with many
    versions, a version taken back (its row older than another's), a document only ever
    classified under the new version and one never classified; and twins' results are read
    from the lowest classification id, as the join that scanned every version read them."""
    import classifiers
    from service.domain import pipeline, results
    from service.domain.models import CommitmentResult
    from service.domain.reprocess import _compared_rows

    ids = _documents(session)
    versions = ["v1", "v2", "v3"]
    for k, version in enumerate(versions):
        monkeypatch.setattr(classifiers, "CLASSIFIER_VERSION", version)
        pipeline.reclassify_documents(ids[: 3 - (k == 2)])  # ids[2] has no v3
        # vary the stored results, so that each version differs from the one before
        for r in session.scalars(select(CommitmentResult).join(Classification).where(
                Classification.classifier_version == version)):
            r.supported = (r.classification_id + int(r.commitment[1])) % 2 == 0
        session.commit()
    monkeypatch.setattr(classifiers, "CLASSIFIER_VERSION", "v1")  # taken back to v1
    results.forget_classifications(session, results.superseded(session, ids[:1], "v1"))
    session.commit()
    pipeline.reclassify_documents(ids[:1])
    monkeypatch.setattr(classifiers, "CLASSIFIER_VERSION", "v4")
    pipeline.reclassify_documents(ids[1:2])  # only ever v4 besides the others: a fifth row
    session.expire_all()

    for version in (*versions, "v4", "v5"):
        assert _compared_rows(session, ids, version) == \
            _rows_reading_every_version(session, ids, version)

    extraction_ids = {session.get(Document, d).extraction_id for d in ids[:3]}
    for version in (*versions, "v4"):
        twins = results.twin_results(session, extraction_ids, version)
        for extraction_id, (doc_type, rows) in twins.items():
            lowest = session.scalar(
                select(Classification).join(Document).where(
                    Document.extraction_id == extraction_id,
                    Classification.classifier_version == version)
                .order_by(Classification.id).limit(1))
            assert doc_type == lowest.doc_type
            assert rows == [
                {"commitment": r.commitment, "supported": r.supported,
                 "confidence": r.confidence, "rules_supported": r.rules_supported,
                 "evidence": list(r.evidence or [])} for r in lowest.results]
            assert rows and all(type(r["supported"]) is bool for r in rows)
