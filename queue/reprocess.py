"""The reclassify job: run the current classifier over text already extracted, no file, no OCR.

A job takes a list of document ids (one job per chunk: the classifier is cheap next to rq's
per-job cost). For each document it rebuilds the ExtractedDocument from its stored Extraction
pages and writes a new Classification for the current classifier version through the same
``classify_document`` step the first pass uses. Earlier versions' rows are kept. A document that
already has a result for the current version is skipped, so a job that runs twice (a retry, a
rerun of ``evidencia reprocess``) does nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from extractors.document import ExtractedDocument

__all__ = ["reclassify_documents", "reclassify_document", "extracted_document", "current_version"]

log = logging.getLogger(__name__)


def current_version() -> str:
    """The classifier version now in force (read at call time: a test double may replace it)."""
    import classifiers

    return classifiers.CLASSIFIER_VERSION


def extracted_document(session: Session, extraction_id: int) -> ExtractedDocument:
    """Rebuild the classifier's input from the stored extraction (rows, not files)."""
    from evidencia_queue.jobs import extracted_from_row

    from service.domain.models import Extraction

    extraction = session.get(Extraction, extraction_id)
    if extraction is None:
        raise LookupError(f"extraction {extraction_id} not found")
    return extracted_from_row(extraction)


def reclassify_document(session: Session, document, version: str | None = None) -> bool:
    """Classify one document anew from its stored text; False when there was nothing to do.

    The classification is a function of the extracted text alone, so when another document
    with the same extraction (the same bytes found in two places) already has a result for this
    version, that result is copied instead of being computed again.
    """
    from evidencia_queue.jobs import classify_document

    from service.domain.models import Classification

    version = version or current_version()
    if document.extraction_id is None:
        return False
    exists = session.scalar(
        select(Classification.id).where(
            Classification.document_id == document.id,
            Classification.classifier_version == version,
        )
    )
    if exists is not None:
        return False
    twin = _twin_classification(session, document, version)
    if twin is not None:
        row = _copy_classification(session, document, twin)
    else:
        row = classify_document(session, document, extracted_document(session,
                                                                       document.extraction_id))
    document.doc_type = row.doc_type  # the newest result is the one the matrix shows
    session.commit()
    return True


def _twin_classification(session: Session, document, version: str):
    from service.domain.models import Classification, Document

    return session.scalar(
        select(Classification)
        .join(Document, Classification.document_id == Document.id)
        .where(
            Document.extraction_id == document.extraction_id,
            Document.id != document.id,
            Classification.classifier_version == version,
        )
        .limit(1)
    )


def _copy_classification(session: Session, document, source):
    from service.domain.models import Classification, CommitmentResult

    row = Classification(
        document_id=document.id,
        classifier_version=source.classifier_version,
        doc_type=source.doc_type,
        results=[
            CommitmentResult(commitment=r.commitment, supported=r.supported,
                             confidence=r.confidence, evidence=list(r.evidence or []))
            for r in source.results
        ],
    )
    session.add(row)
    session.flush()
    return row


def reclassify_documents(document_ids: Iterable[str]) -> dict:
    """rq job: reclassify each document; one failing document does not stop the others."""
    import classifiers
    from service.db import SessionLocal
    from service.domain.models import Document
    from service.settings import get_settings

    classifiers.load(annotation_cache=get_settings().annotations_dir, pipeline=False)
    version = current_version()
    counts = {"reclassified": 0, "skipped": 0, "failed": 0}
    session = SessionLocal()
    try:
        for document_id in document_ids:
            document = session.get(Document, document_id)
            try:
                if document is not None and reclassify_document(session, document, version):
                    counts["reclassified"] += 1
                else:
                    counts["skipped"] += 1
            except IntegrityError:  # another job wrote the same version first
                session.rollback()
                counts["skipped"] += 1
            except Exception:
                session.rollback()
                log.exception("reclassifying document %s failed", document_id)
                counts["failed"] += 1
    finally:
        session.close()
    return counts
