"""A document after its upload: the applicant removes or replaces it, a reviewer has it read
again with OCR.

Removing never deletes: the row gets ``removed_at`` and from then on it counts nowhere (the
matrix, the reviewers' list, the search and the exports leave it out), while its results and
any decision that named it stay for the history. Its bytes stay in the content-addressed store,
where another document may share them. Replacing is removing plus an upload, in one commit,
each new document naming the one it replaced (``replaces_id``: the reviewer's
``workflow.document_changes`` tells "acta.pdf → acta-firmada.pdf").

Forcing OCR sends the document back through the queue like any job (``queued`` → ``done``):
the pipeline reads every page with OCR, stores that reading apart from the normal one (its own
extractor version) and classifies the document again from it. A final verdict refuses it
(``workflow.VerdictLock``): the passages under its closed decisions stay as they were.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from service.domain import lifecycle, workflow
from service.domain.codes import DocumentStatus, Lane
from service.domain.dispatch import get_dispatcher
from service.domain.errors import NotFoundError, ServiceError, ValidationError
from service.domain.models import Document, Submission

__all__ = [
    "OCR_TYPES",
    "documents_editable",
    "live_document",
    "remove_document",
    "replace_document",
    "force_ocr",
    "ocr_applies",
]

log = logging.getLogger(__name__)

#: Types a forced OCR reads differently: PDFs (every page rendered and OCR'd instead of its text
#: layer) and images (read again).
OCR_TYPES = frozenset({"application/pdf"})


def documents_editable(submission: Submission) -> bool:
    """The applicant may remove or replace documents: while drafting (``borrador``) or after
    the reviewers asked for changes (``observada``), the statuses in which the review workflow
    lets them upload (``workflow.OPEN_TO_APPLICANT``)."""
    return workflow.open_to_applicant(submission.status)


def live_document(session: Session, submission_id: str, document_id: str) -> Document:
    """A document of this submission that was not removed; raises NotFoundError."""
    document = session.get(Document, document_id)
    if document is None or document.submission_id != submission_id or document.removed_at:
        raise NotFoundError(code="document_not_found")
    return document


def _check_editable(submission: Submission) -> None:
    if not documents_editable(submission):
        raise ServiceError(code="documents_locked")


def remove_document(session: Session, submission: Submission, document_id: str, *,
                    from_archive: bool = False) -> Document:
    """Take a document out of the submission (409 once it is under review or decided); its
    row stays, marked removed, for the history.

    ``from_archive``: ``evidencia batch --retire-missing`` found its file gone from the
    organisation's folder. As for a replacement from the archive (:func:`replace_document`),
    taken in any status of the review except under a final verdict (409 ``remove_locked``,
    ``workflow.VerdictLock.remove``), checked under the submission's row lock."""
    if from_archive:
        workflow.check_unlocked(workflow.lock(session, submission), workflow.VerdictLock.remove)
    else:
        _check_editable(submission)
    document = live_document(session, submission.id, document_id)
    document.removed_at = datetime.now(UTC)
    session.commit()
    return document


def replace_document(
    session: Session, submission: Submission, document_id: str, name: str, data: bytes, *,
    queue_name: str = Lane.interactive,
    on_unqueued: Callable[[Document, Exception], None] | None = None,
    from_archive: bool = False,
) -> list[Document]:
    """Remove a document and upload its replacement (a ZIP gives its members), committed
    together; returns the new documents, queued. A replacement refused as it arrives (empty,
    too large, of a type not read, an unreadable ZIP: nothing of it stored) raises
    ValidationError ``replacement_refused`` before anything is committed, so the document it
    was meant to replace stays: a wrong file picked must not cost the applicant a good one.

    ``from_archive``: ``evidencia batch`` found the file at the document's path re-exported
    (other bytes). The archive is the programme's own record of what the organisation sent, so
    its replacement is taken in any status of the review (a batch load starts ``enviada``), as
    a reviewer's upload is, except under a final verdict: then, as for the applicant, the
    document stays (409 ``replace_locked``, ``workflow.VerdictLock.replace``), checked before
    anything is stored and again under the submission's row lock before the commit, so a
    verdict given meanwhile comes before (refused) or after, never beside. ``queue_name`` and
    ``on_unqueued`` are ``add_files``'s."""
    from service.domain.submissions import add_files

    if from_archive:
        workflow.check_unlocked(submission, workflow.VerdictLock.replace)
    else:
        _check_editable(submission)
    document = live_document(session, submission.id, document_id)
    document.removed_at = datetime.now(UTC)  # committed by add_files with the new rows

    def _refuse_if_nothing_stored(new: list[Document]) -> None:
        for replacement in new:  # what the reviewer is told: «acta.pdf → acta-firmada.pdf»
            replacement.replaces_id = document.id
        if new and all(d.status == DocumentStatus.error for d in new):
            reason = new[0].error or ""
            raise ValidationError(code="replacement_refused", name=document.name,
                                  reason=reason[:1].lower() + reason[1:])
        if from_archive:
            workflow.check_unlocked(workflow.lock(session, submission),
                                    workflow.VerdictLock.replace)

    return add_files(session, submission, [(name, data)], queue_name=queue_name,
                     before_commit=_refuse_if_nothing_stored, on_unqueued=on_unqueued)


def force_ocr(session: Session, document_id: str) -> Document:
    """Queue the document to be read again with every page through OCR (a reviewer's call
    when the text layer is wrong); 409 once its submission has a final verdict (the passages
    its closed decisions rest on stay as they are until an admin reopens it), while it is still
    being read, or for a type OCR does not read. The submission's row lock is held to the
    commit: a verdict given at the same instant comes before (409) or after, never beside."""
    document = session.get(Document, document_id)
    if document is None or document.removed_at:
        raise NotFoundError(code="document_not_found")
    workflow.check_unlocked(workflow.lock(session, document.submission),
                            workflow.VerdictLock.reread)
    if lifecycle.is_pending(document.status):
        raise ServiceError(code="document_busy")
    if document.sha256 is None or not ocr_applies(document.mime):
        raise ServiceError(code="ocr_not_applicable")
    document.force_ocr = True
    dispatcher = get_dispatcher()
    lifecycle.reread(document, dispatcher.job_id(document.id))
    session.commit()
    try:
        dispatcher.enqueue_document(document.id, Lane.interactive)
    except Exception:  # Redis down: the row is committed as queued; the workers' sweep picks it up
        log.warning("could not enqueue document %s; it is requeued later", document.id,
                    exc_info=True)
    return document


def ocr_applies(mime: str | None) -> bool:
    """A forced OCR reads this type: a PDF or an image."""
    return bool(mime) and (mime in OCR_TYPES or mime.startswith("image/"))
