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
