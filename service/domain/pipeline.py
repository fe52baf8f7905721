"""The work a job does for one document: load → extract (or reuse) → classify → store.

:func:`process_document` reads top to bottom as the pipeline, committing the document's stage
at each step so clients can show progress, and is the one error boundary of a job: failures
become data on the document (a stable code and a Spanish reason), and the error code says
whether it is worth another attempt (``service.domain.errors.ErrorCode.retryable``). The queue
only supplies an :class:`Attempt` (is this the last try? stop retrying) and the extraction
options the worker was started with; a job takes an id, not request state, so a worker on any
machine with the database, the Redis URL and the file store can run it.

:func:`reclassify_documents` is the cheap second pass: the current classifier over text
already stored, no file read and no OCR.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import replace
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from extractors.document import ExtractedDocument
from service.domain import lifecycle, locks, results
from service.domain.codes import Stage
from service.domain.errors import ErrorCode, fault_of
from service.domain.messages import error_message
from service.domain.models import Document, Extraction

__all__ = [
    "Attempt",
    "LastAttempt",
    "process_document",
    "extract_or_reuse",
    "classify_document",
    "reclassify_documents",
    "reclassify_document",
    "current_version",
]

log = logging.getLogger(__name__)

#: Appended to the extractor version of a reading with every page OCR'd (``force_ocr``).
FORCED_OCR_SUFFIX = "+ocr"


class Attempt(Protocol):
    """What the job runner knows about this run of a job."""

    #: exceptions the runner raises when the job ran out of time
    timeout_errors: tuple[type[BaseException], ...]

    @property
    def last(self) -> bool:
        """No retry is left after this one."""

    def stop_retries(self) -> None:
        """A bug is not a hiccup: do not run this job again."""


class LastAttempt:
    """An attempt with no retry behind it (a job run outside a queue)."""

    timeout_errors: tuple[type[BaseException], ...] = ()
    last = True

    def stop_retries(self) -> None:
        pass


def current_version() -> str:
    """The classifier version now in force (read at call time: a test double may replace it),
    with the deployment's model, picked up again when ``evidencia train`` promoted another."""
    import classifiers
    from service.settings import get_settings

    classifiers.use_options(get_settings().classifier_options())
    return classifiers.CLASSIFIER_VERSION


# --- the first pass -----------------------------------------------------------------------------


def process_document(document_id: str, *, options=None, attempt: Attempt | None = None) -> dict:
    """Extract (or reuse the extraction of the same bytes), classify and store one document."""
    from service.db import SessionLocal

    attempt = attempt or LastAttempt()
    session = SessionLocal()
    try:
        document = session.get(Document, document_id)
        if document is None:
            log.warning("document %s not found; nothing to do", document_id)
            return {"document_id": document_id, "status": "missing"}
        if not lifecycle.is_pending(document.status):
            return {"document_id": document_id, "status": document.status, "skipped": True}
        if _interrupted_too_often(document):
            log.warning("document %s: %d starts never finished; giving up", document_id,
                        document.attempts)
            _record(session, document_id, lambda d: lifecycle.fail(
                d, ErrorCode.interrupted,
                error_message(ErrorCode.interrupted, attempts=d.attempts)))
            attempt.stop_retries()
            return {"document_id": document_id, "status": "error",
                    "error_code": ErrorCode.interrupted.value}
        try:
            return _run(session, document, options)
        except BaseException as exc:
            return _on_failure(session, document_id, exc, attempt)
    finally:
        session.close()


def _interrupted_too_often(document: Document) -> bool:
    from service.settings import get_settings

    return lifecycle.interrupted_too_often(document.status, document.attempts,
                                           get_settings().job_max_attempts)


def _run(session: Session, document: Document, options) -> dict:
    lifecycle.start(document)
    session.commit()
    previous = document.extraction_id
    extracted, extraction, document.extract_seconds = extract_or_reuse(session, document, options)
    document.extraction_id = extraction.id
    if previous not in (None, extraction.id):  # read anew (forced OCR): classify anew
        results.drop_classification(session, document.id, current_version())
    lifecycle.advance(document, Stage.classifying)
    session.commit()
    t0 = time.perf_counter()
    classification = classify_document(session, document, extracted)
    document.classify_seconds = time.perf_counter() - t0
    lifecycle.finish(document, classification.doc_type)
    session.commit()
    log.info("document %s done (%s)", document.id, classification.classifier_version)
    return {"document_id": document.id, "status": "done"}


def _on_failure(session: Session, document_id: str, exc: BaseException, attempt: Attempt):
    """The job's error boundary: record the failure on the document, then return (the file is
    at fault: no retry) or raise (the runner retries what is retryable and files the rest)."""
    _rollback_quietly(session)
    code = fault_of(exc, timeout_errors=attempt.timeout_errors)
    if code.retryable:
        log.warning("document %s: %s; the queue retries it", document_id, code, exc_info=True)
        if attempt.last:
            _record(session, document_id, lambda d: lifecycle.back_to_queue(
                d, code, error_message(code)))
        raise exc
    if code.document_fault:
        log.info("document %s failed: %s (%s)", document_id, code,
                 getattr(exc, "detail", None) or exc)
        # the extractor's own code: a newer one than ErrorCode knows stays specific
        _record(session, document_id, lambda d: lifecycle.fail(d, exc.code, exc.message))
        return {"document_id": document_id, "status": "error", "error_code": exc.code}
    if code is ErrorCode.timeout:
        log.warning("document %s: job timed out", document_id)
    else:
        log.error("document %s: internal error", document_id, exc_info=exc)
    _record(session, document_id, lambda d: lifecycle.fail(d, code, error_message(code)))
    attempt.stop_retries()
    raise exc


def _rollback_quietly(session: Session) -> None:
    """Roll back after a database failure; a connection already gone is not a second one."""
    try:
        session.rollback()
    except Exception:
        log.debug("rollback failed", exc_info=True)


def _record(session: Session, document_id: str, change) -> None:
    """Apply a lifecycle change in a fresh transaction; if even that fails, the document stays
    unfinished and ``requeue`` picks it up."""
    try:
        change(session.get(Document, document_id))
        session.commit()
    except Exception:
        _rollback_quietly(session)
        log.exception("could not record the outcome of document %s", document_id)


def extract_or_reuse(
    session: Session, document: Document, options=None
) -> tuple[ExtractedDocument, Extraction, float]:
    """The document's text: stored already for the same bytes and extractor version, or
    extracted now, each page stored as it is read (OCR pages reported as "n/m"). Returns the
    text (pages without their word boxes, which stay in the rows), its row and the seconds
    spent.

    The same new bytes are extracted once: under a lock per sha256 (``service.domain.locks``),
    a job handed bytes another job is extracting waits for it, then reuses its extraction.
    A document with ``force_ocr`` is read with every page OCR'd, stored under the extractor
    version with ``FORCED_OCR_SUFFIX``.
    """
    import extractors

    version = extractors.EXTRACTOR_VERSION
    if document.force_ocr:  # a reviewer's request: every page OCR'd, kept apart
        from extractors.options import DEFAULT_OPTIONS

        version = f"{version}{FORCED_OCR_SUFFIX}"
        options = replace(options or DEFAULT_OPTIONS, force_ocr=True)
    reused = _reuse(session, document, version)
    if reused is not None:
        return reused
    with locks.held(f"extraction:{document.sha256}:{version}"):
        session.commit()  # a fresh read: SQLite keeps the snapshot of an open transaction
        reused = _reuse(session, document, version)
        if reused is not None:
            return reused
        return _extract(session, document, version, options)


def _reuse(session: Session, document: Document, version: str):
    existing = results.find_extraction(session, document.sha256, version)
    if existing is None:
        return None
    log.info("document %s reuses extraction %s", document.id, existing.id)
    return results.text_of(session, existing), existing, 0.0


def _extract(session: Session, document: Document, version: str, options):
    import extractors
    from service.domain.storage import path_for
    from service.settings import get_settings

    document_id = document.id  # read now: after a failed commit the object is expired

    def progress(done: int, total: int) -> None:
        """"OCR página n/m" for clients. A failed update (the database gone) must neither
        throw away the OCR work nor pass for a damaged file: it is logged, and the database
        is asked again when the extraction is stored (a failure there is retried)."""
        try:
            lifecycle.advance(document, Stage.ocr, f"{done}/{total}")
            session.commit()
        except Exception as exc:
            _rollback_quietly(session)
            log.warning("progress of document %s not recorded: %s", document_id, exc)

    extra = {"options": options} if options is not None else {}
    t0 = time.perf_counter()
    with extractors.iter_pages(path_for(document.sha256), progress=progress, **extra) as stream:
        extraction, extracted = results.store_pages(
            session, document.sha256, version, stream,
            stale_after=get_settings().job_timeout)
    return extracted, extraction, time.perf_counter() - t0


def classify_document(session: Session, document: Document, extracted: ExtractedDocument):
    """The document's classification by the current classifier, computed and stored if missing.
    Commits (the caller's pending changes go with it)."""
    import classifiers

    existing = results.find_classification(session, document.id, current_version())
    if existing is not None:
        return existing
    return results.store_classification(session, document, classifiers.classify(extracted))


# --- the second pass ----------------------------------------------------------------------------


def reclassify_document(session: Session, document: Document, version: str | None = None) -> bool:
    """Classify one document anew from its stored text; False when there was nothing to do.

    When another document with the same extraction already has a result for this version, that
    result is copied instead of being computed again.
    """
    version = version or current_version()
    if document.extraction_id is None:
        return False
    if results.classified_documents(session, [document.id], version):
        return False
    twin = results.twin_classification(session, document, version)
    results.forget_classifications(session, results.superseded(session, [document.id], version))
    if twin is not None:
        row = results.copy_classification(session, document, twin)
    else:
        extracted = results.load_extracted(session, document.extraction_id)
        row = classify_document(session, document, extracted)
    document.doc_type = row.doc_type  # the newest result is the one the matrix shows
    session.commit()
    return True


def reclassify_documents(document_ids: Iterable[str]) -> dict:
    """Reclassify a chunk of documents (a job's, or ``reprocess --inline``'s) in one
    transaction: their text read in two queries, each distinct text classified once (or its
    result copied from a document with the same text already classified), the results written
    in bulk. If the bulk write loses a race with another job, the chunk is done one document
    at a time; one failing document does not stop the rest."""
    import classifiers
    from service.db import SessionLocal
    from service.settings import get_settings

    settings = get_settings()
    classifiers.load(annotation_cache=settings.annotations_dir, pipeline=False,
                     options=settings.classifier_options())
    version = current_version()
    ids = list(dict.fromkeys(document_ids))
    counts = {"reclassified": 0, "skipped": 0, "failed": 0}
    session = SessionLocal()
    try:
        try:
            _reclassify_in_bulk(session, ids, version, counts)
            session.commit()
            return counts
        except IntegrityError:  # another job wrote some of them first
            session.rollback()
            counts = {"reclassified": 0, "skipped": 0, "failed": 0}
        for document_id in ids:
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


def _reclassify_in_bulk(session: Session, ids: list[str], version: str, counts: dict) -> None:
    import classifiers

    done = results.classified_documents(session, ids, version)
    rows = session.execute(
        select(Document.id, Document.submission_id, Document.extraction_id)
        .where(Document.id.in_(ids), Document.extraction_id.is_not(None))
    ).all()
    todo = [r for r in rows if r.id not in done]
    counts["skipped"] += len(ids) - len(todo)
    extraction_ids = {r.extraction_id for r in todo}
    known = results.twin_results(session, extraction_ids, version)
    # a version taken back: its old rows (read above as twins) go, stored again as the newest
    results.forget_classifications(
        session, results.superseded(session, [r.id for r in todo], version))
    texts = results.texts_of(session, extraction_ids - set(known))
    items = []
    for row in todo:
        if row.extraction_id not in known:
            try:
                result = classifiers.classify(texts[row.extraction_id])
            except Exception:
                log.exception("reclassifying document %s failed", row.id)
                counts["failed"] += 1
                continue
            known[row.extraction_id] = (result.doc_type, results.result_values(result))
        doc_type, values = known[row.extraction_id]
        items.append((row.id, row.submission_id, doc_type, values))
    results.store_classifications(session, version, items)
    counts["reclassified"] += len(items)
