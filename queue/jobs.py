"""The rq job: one document id in, extraction and classification rows out.

``process_document`` reads top to bottom as the pipeline: load → extract (or reuse) → classify →
store, committing the document's stage at each step so clients can show progress. It takes an id,
not request state, so a worker on any machine with the database URL, the Redis URL and the file
store can run it.

Failures are data: a bad file ends the job in status ``error`` with a Spanish reason and is not
retried; a transient failure (database or Redis unreachable) is raised so rq retries it with
backoff; anything else is recorded as an internal error and raised (no retry) so rq files the
traceback in its FailedJobRegistry.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from rq.timeouts import JobTimeoutException
from sqlalchemy import exc as sa_exc
from sqlalchemy import select
from sqlalchemy.orm import Session

from extractors.document import ExtractedDocument, Page, Word
from extractors.errors import EvidenciaError
from extractors.options import ExtractOptions
from service.domain.messages import error_message
from service.domain.models import (
    Classification,
    CommitmentResult,
    Document,
    DocumentStatus,
    Extraction,
    ExtractionPage,
    Stage,
)

__all__ = [
    "TRANSIENT_ERRORS",
    "process_document",
    "classify_document",
    "find_extraction",
    "store_extraction",
    "extracted_from_row",
]

log = logging.getLogger(__name__)

#: The extraction options of this worker process, set once by ``run_worker`` before it serves
#: (work horses fork from it and inherit them).
EXTRACT_OPTIONS = ExtractOptions()


def _transient_errors() -> tuple[type[BaseException], ...]:
    import redis.exceptions

    return (
        sa_exc.OperationalError,
        sa_exc.InterfaceError,
        sa_exc.DisconnectionError,
        sa_exc.TimeoutError,  # connection pool exhausted
        redis.exceptions.ConnectionError,
        redis.exceptions.TimeoutError,
    )


#: Errors worth retrying: the infrastructure hiccupped, the file is not at fault.
TRANSIENT_ERRORS = _transient_errors()


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything here is stored in UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def process_document(document_id: str) -> dict:
    """Extract (or reuse the extraction of the same bytes), classify and store one document."""
    from service.db import SessionLocal

    session = SessionLocal()
    try:
        return _process(session, document_id)
    finally:
        session.close()


def _process(session: Session, document_id: str) -> dict:
    document = session.get(Document, document_id)
    if document is None:
        log.warning("document %s not found; nothing to do", document_id)
        return {"document_id": document_id, "status": "missing"}
    if document.status in (DocumentStatus.done.value, DocumentStatus.error.value):
        return {"document_id": document_id, "status": document.status, "skipped": True}

    started = _now()
    if document.started_at is None:
        created = _aware(document.created_at)
        document.wait_seconds = (started - created).total_seconds() if created else None
    document.started_at = started
    document.attempts = (document.attempts or 0) + 1
    _set_stage(session, document, Stage.extracting)
    try:
        extracted, extraction, extract_seconds = _extract_or_reuse(session, document)
        document.extraction_id = extraction.id
        document.extract_seconds = extract_seconds
        _set_stage(session, document, Stage.classifying)
        t0 = time.perf_counter()
        classification = classify_document(session, document, extracted)
        document.classify_seconds = time.perf_counter() - t0
        document.doc_type = classification.doc_type
        document.status = DocumentStatus.done.value
        document.stage = Stage.done.value
        document.stage_detail = None
        document.error_code = None
        document.error = None
        document.finished_at = _now()
        session.commit()
        log.info("document %s done (%s)", document_id, classification.classifier_version)
        return {"document_id": document_id, "status": "done"}
    except TRANSIENT_ERRORS:
        session.rollback()
        log.warning("transient failure on document %s; rq retries", document_id, exc_info=True)
        _record_if_last_attempt(session, document_id)
        raise
    except EvidenciaError as exc:  # the file is at fault (or OCR is not installed): no retry
        session.rollback()
        log.info("document %s failed: %s (%s)", document_id, exc.code, exc.detail or exc.message)
        _record_failure(session, document_id, exc.code, exc.message)
        return {"document_id": document_id, "status": "error", "error_code": exc.code}
    except JobTimeoutException:
        session.rollback()
        log.warning("document %s: job timed out", document_id)
        _record_failure(session, document_id, "timeout", error_message("timeout"))
        _no_more_retries()
        raise
    except Exception:
        session.rollback()
        log.exception("document %s: internal error", document_id)
        _record_failure(session, document_id, "internal", error_message("internal"))
        _no_more_retries()
        raise


def _set_stage(session: Session, document: Document, stage: Stage, detail: str | None = None):
    document.status = DocumentStatus.processing.value
    document.stage = stage.value
    document.stage_detail = detail
    session.commit()


def _record_failure(session: Session, document_id: str, code: str, message: str) -> None:
    try:
        document = session.get(Document, document_id)
        document.status = DocumentStatus.error.value
        document.stage = Stage.error.value
        document.stage_detail = None
        document.error_code = code
        document.error = message
        document.finished_at = _now()
        session.commit()
    except TRANSIENT_ERRORS:
        session.rollback()
        log.exception("could not record the failure of document %s", document_id)


def _current_job():
    from rq import get_current_job

    return get_current_job()


def _no_more_retries() -> None:
    """A bug is not a hiccup: stop rq from retrying the running job."""
    job = _current_job()
    if job is not None:
        job.retries_left = 0


def _record_if_last_attempt(session: Session, document_id: str) -> None:
    """Out of retries: put the document back to ``queued`` with the reason, so the next
    ``evidencia requeue`` (or worker start-up) tries again; it is not the file's fault."""
    job = _current_job()
    if job is None or job.retries_left:
        return
    try:
        document = session.get(Document, document_id)
        document.status = DocumentStatus.queued.value
        document.stage = Stage.queued.value
        document.stage_detail = None
        document.error_code = "transient"
        document.error = error_message("transient")
        session.commit()
    except TRANSIENT_ERRORS:
        session.rollback()
        log.warning("document %s stays in progress; requeue will pick it up", document_id)


def _extract_or_reuse(
    session: Session, document: Document
) -> tuple[ExtractedDocument, Extraction, float]:
    import extractors
    from service.domain.storage import path_for

    version = extractors.EXTRACTOR_VERSION
    existing = find_extraction(session, document.sha256, version)
    if existing is not None:
        log.info("document %s reuses extraction %s", document.id, existing.id)
        return extracted_from_row(existing), existing, 0.0

    def progress(done: int, total: int) -> None:
        """"OCR página n/m" for clients; a failed update must not throw away the OCR work."""
        try:
            document.stage = Stage.ocr.value
            document.stage_detail = f"{done}/{total}"
            session.commit()
        except TRANSIENT_ERRORS:
            session.rollback()
            log.warning("progress of document %s not recorded", document.id, exc_info=True)

    t0 = time.perf_counter()
    extracted = extractors.extract(
        path_for(document.sha256), options=EXTRACT_OPTIONS, progress=progress
    )
    seconds = time.perf_counter() - t0
    extraction = store_extraction(session, document.sha256, version, extracted, seconds)
    return extracted, extraction, seconds


def find_extraction(session: Session, sha256: str, version: str) -> Extraction | None:
    return session.scalar(
        select(Extraction).where(
            Extraction.sha256 == sha256, Extraction.extractor_version == version
        )
    )


def store_extraction(
    session: Session, sha256: str, version: str, extracted: ExtractedDocument, seconds: float
) -> Extraction:
    """Store the extraction of these bytes; if another worker stored it first, return that one."""
    extraction = Extraction(
        sha256=sha256,
        extractor_version=version,
        extractor=extracted.extractor,
        mime=extracted.mime,
        page_count=len(extracted.pages),
        ocr_pages=extracted.ocr_pages,
        warnings=list(extracted.warnings),
        seconds=seconds,
        pages=[
            ExtractionPage(
                number=p.number,
                text=p.text,
                words=[[w.text, w.x0, w.top, w.x1, w.bottom] for w in p.words],
                width=p.width,
                height=p.height,
                ocr=p.ocr,
                ocr_confidence=p.ocr_confidence,
                rotation=p.rotation,
                method=p.method,
                error=p.error,
            )
            for p in extracted.pages
        ],
    )
    try:
        with session.begin_nested():  # a savepoint: a lost race rolls back only this
            session.add(extraction)
    except sa_exc.IntegrityError:  # another worker extracted the same bytes first
        existing = find_extraction(session, sha256, version)
        if existing is None:
            raise
        return existing
    session.commit()
    return extraction


def extracted_from_row(extraction: Extraction) -> ExtractedDocument:
    """Rebuild the extractor's value object from stored rows (no file read, no OCR)."""
    return ExtractedDocument(
        mime=extraction.mime,
        extractor=extraction.extractor,
        warnings=tuple(extraction.warnings or ()),
        pages=tuple(
            Page(
                number=p.number,
                text=p.text,
                words=tuple(Word(w[0], w[1], w[2], w[3], w[4]) for w in (p.words or ())),
                width=p.width,
                height=p.height,
                ocr=p.ocr,
                ocr_confidence=p.ocr_confidence,
                rotation=p.rotation,
                method=p.method,
                error=p.error,
            )
            for p in extraction.pages
        ),
    )


def classify_document(
    session: Session, document: Document, extracted: ExtractedDocument
) -> Classification:
    """The document's classification by the current classifier, computed and stored if missing.

    Earlier versions' rows are kept. Commits (the caller's pending changes go with it).
    """
    import classifiers

    version = classifiers.CLASSIFIER_VERSION
    existing = _find_classification(session, document.id, version)
    if existing is not None:
        return existing
    result = classifiers.classify(extracted)
    row = Classification(
        document_id=document.id,
        classifier_version=result.classifier_version,
        doc_type=result.doc_type,
        results=[
            CommitmentResult(
                commitment=c.id,
                supported=c.supported,
                confidence=c.confidence,
                evidence=[
                    {
                        "text": e.text,
                        "page": e.page,
                        "pattern_ids": list(e.pattern_ids),
                        "score": e.score,
                    }
                    for e in c.evidence
                ],
            )
            for c in result.commitments
        ],
    )
    try:
        with session.begin_nested():
            session.add(row)
    except sa_exc.IntegrityError:  # the same document classified concurrently
        existing = _find_classification(session, document.id, result.classifier_version)
        if existing is None:
            raise
        return existing
    session.commit()
    session.expire(document, ["classifications"])
    return row


def _find_classification(session: Session, document_id: str, version: str):
    return session.scalar(
        select(Classification).where(
            Classification.document_id == document_id,
            Classification.classifier_version == version,
        )
    )
