"""A reviewer's retry of documents in ``error``: back to the queue for a fresh start.

It stands above the queue's door (``dispatch``) and the review workflow (``workflow``): a retry
is refused under a final verdict (``workflow.VerdictLock.retry``) and queued through the
dispatcher, so neither of those needs the other.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.domain import lifecycle, workflow
from service.domain.codes import DocumentStatus, Lane
from service.domain.dispatch import get_dispatcher
from service.domain.errors import NotFoundError, ServiceError, UnavailableError
from service.domain.messages import error_message, not_in_error_message
from service.domain.models import Document, Submission

__all__ = ["RetryOutcome", "documents_in_error", "retry_documents"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RetryOutcome:
    """What :func:`retry_documents` did: the documents queued again, and why the others were
    not (document id -> the refusal, a ServiceError: its code and Spanish message, what the
    API answers for one document)."""

    queued: list[str]
    refused: dict[str, ServiceError]


def documents_in_error(session: Session, submission_id: str | None = None, *,
                       stored_only: bool = False) -> list[str]:
    """The documents in ``error`` that still count (not removed or replaced), of one
    submission or of all: what "retry every document in error" retries. ``stored_only``:
    only those whose bytes were kept (the others have nothing to read again)."""
    from service.domain.models import Document

    query = select(Document.id).where(Document.status == DocumentStatus.error.value,
                                      Document.removed_at.is_(None))
    if submission_id is not None:
        query = query.where(Document.submission_id == submission_id)
    if stored_only:
        query = query.where(Document.sha256.is_not(None))
    return list(session.scalars(query))


def retry_documents(session: Session, document_ids: Iterable[str]) -> RetryOutcome:
    """A reviewer's retry: documents in ``error`` go back to the queue for a fresh start.

    Any error may be retried, the reviewer decides: a damaged file will most likely fail the
    same way, but an extractor upgraded since, a set-up fixed (OCR, LibreOffice) or a document
    interrupted by a worker's lack of memory may now be read. What cannot be retried is said in
    Spanish: a document not in ``error`` (finished, or already pending), one whose bytes were
    refused at upload and never stored (nothing to read), and one whose submission has a final
    verdict (``workflow.VerdictLock.retry``: its passages would change the matrix under closed
    decisions; checked under the submission's row lock, so a verdict given at the same instant
    comes before or after the retry, never beside). Each row changes only together with its
    enqueue (compare-and-set, then commit); the queue unreachable raises UnavailableError,
    leaving the documents not yet queued in ``error``.
    """
    dispatcher = get_dispatcher()
    ids = list(dict.fromkeys(document_ids))
    rows = {r.id: r for r in session.execute(
        select(Document.id, Document.status, Document.sha256, Document.queue_name,
               Document.error, Document.submission_id)
        .where(Document.id.in_(ids), Document.removed_at.is_(None))
    ).all()} if ids else {}
    session.rollback()  # end the read: each change below is its own transaction
    queued: list[str] = []
    refused: dict[str, ServiceError] = {}
    for document_id in ids:
        row = rows.get(document_id)
        if row is None:
            refused[document_id] = NotFoundError(code="document_not_found")
        elif row.status != DocumentStatus.error:
            refused[document_id] = ServiceError(not_in_error_message(row.status),
                                                code="not_in_error")
        elif row.sha256 is None:  # refused at the door: who can send it again, said
            batch = row.queue_name == Lane.batch  # loaded by `evidencia batch`
            refused[document_id] = ServiceError(
                code="nothing_stored_batch" if batch else "nothing_stored",
                reason=(row.error or "").rstrip("."))
        elif (locked := _verdict_lock(session, row.submission_id)) is not None:
            session.rollback()
            refused[document_id] = locked
        elif not lifecycle.retry_if_error(session, document_id, dispatcher.job_id(document_id)):
            session.rollback()  # someone retried it meanwhile
            refused[document_id] = ServiceError(not_in_error_message("queued"),
                                                code="not_in_error")
        else:
            try:
                dispatcher.enqueue_document(document_id, Lane(row.queue_name or "interactive"))
            except Exception as exc:
                session.rollback()
                raise UnavailableError(error_message("retry_unavailable"),
                                       detail=repr(exc)) from exc
            session.commit()
            queued.append(document_id)
    if queued:
        log.info("retried %d documents in error", len(queued))
    return RetryOutcome(queued, refused)


def _verdict_lock(session: Session, submission_id: str) -> ServiceError | None:
    """The refusal of a retry in this submission (``retry_locked``), or None; either way the
    submission's row lock is taken for the rest of the transaction."""
    try:
        workflow.check_unlocked(workflow.lock(session, session.get(Submission, submission_id)),
                                workflow.VerdictLock.retry)
    except ServiceError as exc:
        return exc
    return None
