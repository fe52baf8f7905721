"""A document's lifecycle and a reviewer's decisions: the stable codes and every transition.

::

    queue() ──► queued ──start()──► processing ──finish()──► done
                  ▲                  (extracting → ocr n/m → classifying: advance())
                  └── back_to_queue() ──┤
                                        └──fail()──► error      (also straight from an upload)

Only the functions here assign ``Document.status`` and ``Document.stage``; everything else reads
the enums. The codes are stored as strings (``StrEnum`` compares equal to them); their Spanish
wording lives in ``service.domain.messages``.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime

__all__ = [
    "DocumentStatus",
    "Stage",
    "Lane",
    "DecisionAction",
    "PENDING_STATUSES",
    "POSITIVE_ACTIONS",
    "is_pending",
    "queue",
    "start",
    "advance",
    "finish",
    "fail",
    "back_to_queue",
]


class DocumentStatus(enum.StrEnum):
    """Coarse status in the API contract."""

    queued = "queued"
    processing = "processing"
    done = "done"
    error = "error"


class Stage(enum.StrEnum):
    """Fine-grained progress; ``ocr`` comes with ``Document.stage_detail`` "n/m"."""

    queued = "queued"
    extracting = "extracting"
    ocr = "ocr"
    classifying = "classifying"
    done = "done"
    error = "error"


class Lane(enum.StrEnum):
    """Which queue a document waits in: workers serve ``interactive`` before ``batch``."""

    interactive = "interactive"  # an applicant is watching the page
    batch = "batch"  # archives of past submissions: thousands of jobs that may wait


class DecisionAction(enum.StrEnum):
    """What a reviewer decided on one commitment of a submission."""

    confirm = "confirm"
    reject = "reject"
    attach = "attach"  # supported by a document or excerpt the reviewer names


#: Statuses whose document still has work ahead of it.
PENDING_STATUSES = frozenset({DocumentStatus.queued, DocumentStatus.processing})
#: Decisions that make a commitment count as fulfilled.
POSITIVE_ACTIONS = frozenset({DecisionAction.confirm, DecisionAction.attach})


def is_pending(status: str) -> bool:
    return status in PENDING_STATUSES


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything here is stored in UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def queue(document, job_id: str | None = None) -> None:
    """Waiting for a worker (an upload, or a requeue after Redis lost the job).

    A reason left by an earlier attempt (``transient``) stays until the document finishes.
    """
    document.status = DocumentStatus.queued.value
    document.stage = Stage.queued.value
    document.stage_detail = None
    if job_id is not None:
        document.job_id = job_id


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
    document.status = DocumentStatus.error.value
    document.stage = Stage.error.value
    document.stage_detail = None
    document.error_code = str(code)[:40]
    document.error = message
    if finished:
        document.finished_at = _now()


def back_to_queue(document, code: str, message: str) -> None:
    """Out of retries for a fault that is not the file's: ``queued`` again, with the reason,
    so the next ``evidencia requeue`` (or worker start-up) tries again."""
    queue(document)
    document.error_code = str(code)[:40]
    document.error = message
