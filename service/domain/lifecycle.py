"""A document's lifecycle and a reviewer's decisions: the stable codes and every transition.

::

    queue() ──► queued ──start()──► processing ──finish()──► done
                  ▲                  (extracting → ocr n/m → classifying: advance())
                  ├── back_to_queue() ──┤
                  ├── hand_back() ──────┤   (a worker stopped on purpose mid-job)
                  │                     └──fail()──► error      (also straight from an upload)
                  └──────── retry_if_error() ─────────┘          (a reviewer asks again)
    done, error ──reread()──► queued         (a reviewer asked for a new reading: forced OCR)

Only the functions here assign ``Document.status`` and ``Document.stage``; everything else reads
the enums. The codes are stored as strings (``StrEnum`` compares equal to them); they are
defined, and imported from, ``service.domain.codes`` alone (their one owner, below the tables
that store them, ``models.py``); their Spanish wording lives in ``service.domain.messages``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import update

from service.domain.codes import PENDING_STATUSES, DocumentStatus, Stage
from service.domain.models import Document

__all__ = [
    "is_pending",
    "interrupted_too_often",
    "queue",
    "reread",
    "start",
    "advance",
    "finish",
    "fail",
    "back_to_queue",
    "queue_if_pending",
    "fail_if_processing",
    "hand_back_if_processing",
]


def is_pending(status: str) -> bool:
    return status in PENDING_STATUSES


def interrupted_too_often(status: str, attempts: int | None, max_attempts: int) -> bool:
    """Still ``processing`` at a new start (or a sweep): every earlier start died without an
    outcome (its work horse killed, e.g. for memory); after ``max_attempts`` of them, stop."""
    return status == DocumentStatus.processing and (attempts or 0) >= max_attempts


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything here is stored in UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _queued(job_id: str | None = None) -> dict:
    values = {"status": DocumentStatus.queued.value, "stage": Stage.queued.value,
              "stage_detail": None}
    if job_id is not None:
        values["job_id"] = job_id
    return values


def _failed(code: str, message: str, *, finished: bool = True) -> dict:
    values = {"status": DocumentStatus.error.value, "stage": Stage.error.value,
              "stage_detail": None, "error_code": str(code)[:40], "error": message}
    if finished:
        values["finished_at"] = _now()
    return values


def _apply(document, values: dict) -> None:
    for name, value in values.items():
        setattr(document, name, value)


def queue(document, job_id: str | None = None) -> None:
    """Waiting for a worker (an upload, or a requeue after Redis lost the job).

    A reason left by an earlier attempt (``transient``) stays until the document finishes.
    """
    _apply(document, _queued(job_id))


def reread(document, job_id: str | None = None) -> None:
    """A finished document (done or failed) queued to be read again (a forced OCR): a fresh
    count of attempts; its old reason stays until the new reading ends."""
    if is_pending(document.status):
        raise ValueError(f"document {document.id} is still {document.status}")
    _apply(document, {**_queued(job_id), "attempts": 0})


def start(document) -> None:
    """A worker took the job: count the attempt and, the first time, the wait in the queue."""
    started = _now()
    if document.started_at is None:
        created = _aware(document.created_at)
        document.wait_seconds = (started - created).total_seconds() if created else None
    document.started_at = started
    document.attempts = (document.attempts or 0) + 1
    advance(document, Stage.extracting)


def advance(document, stage: Stage, detail: str | None = None) -> None:
    document.status = DocumentStatus.processing.value
    document.stage = Stage(stage).value
    document.stage_detail = detail


def finish(document, doc_type: str | None) -> None:
    document.doc_type = doc_type
    document.status = DocumentStatus.done.value
    document.stage = Stage.done.value
    document.stage_detail = None
    document.error_code = None
    document.error = None
    document.finished_at = _now()


def fail(document, code: str, message: str, *, finished: bool = True) -> None:
    """The document cannot be read (or the job gave up): a stable code and a Spanish reason.

    ``finished=False`` for files refused at upload, which never started.
    """
    _apply(document, _failed(code, message, finished=finished))


def queue_if_pending(session, document_id: str, job_id: str) -> bool:
    """:func:`queue` as a compare-and-set on the row: only while the document is still pending
    (a worker may have just finished it). Not committed: the caller commits with the enqueue."""
    return _compare_and_set(session, document_id, PENDING_STATUSES, _queued(job_id))


def fail_if_processing(session, document_id: str, code: str, message: str) -> bool:
    """:func:`fail` as a compare-and-set: only while the document is still ``processing``."""
    return _compare_and_set(session, document_id, {DocumentStatus.processing},
                            _failed(code, message))


def hand_back_if_processing(session, document_id: str, job_id: str) -> bool:
    """A worker told to stop at once (its cold shutdown) gives its document back: ``queued``
    again (compare-and-set: only while still ``processing``), and that start is not counted
    among the interrupted ones (:func:`interrupted_too_often`). Not committed: the caller
    commits with the enqueue."""
    return _compare_and_set(session, document_id, {DocumentStatus.processing},
                            {**_queued(job_id), "attempts": Document.attempts - 1})


def retry_if_error(session, document_id: str, job_id: str) -> bool:
    """``error`` → ``queued`` as a compare-and-set, for a reviewer's retry: a fresh start (the
    reason and the count of attempts cleared, so an interrupted document is not given up at
    once). Not committed: the caller commits with the enqueue."""
    values = {**_queued(job_id), "error_code": None, "error": None, "attempts": 0,
              "finished_at": None}
    return _compare_and_set(session, document_id, {DocumentStatus.error}, values)


def _compare_and_set(session, document_id: str, statuses, values: dict) -> bool:
    return bool(session.execute(
        update(Document)
        .where(Document.id == document_id, Document.status.in_([s.value for s in statuses]))
        .values(**values)
    ).rowcount)


def back_to_queue(document, code: str, message: str) -> None:
    """Out of retries for a fault that is not the file's: ``queued`` again, with the reason,
    so the next ``evidencia requeue`` (or worker start-up) tries again."""
    queue(document)
    document.error_code = str(code)[:40]
    document.error = message
