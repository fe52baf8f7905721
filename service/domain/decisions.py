"""Reviewers' decisions: record one (checked against the documents), undo one, comment alone.

Every entry is appended, none is changed or erased (``service.domain.matrix.in_force`` says
which one counts). What a reviewer records must be true of the documents, because the exports
show it as the evidence that was verified:

- ``confirm`` needs evidence: a passage the classifier found, an excerpt attached earlier and
  still in force, or an excerpt given with the confirmation;
- a ``confirm`` naming no document records the documents it rests on, those the matrix the
  reviewer saw showed as supporting the commitment (``matrix.CommitmentRow.rests_on``): it
  holds while one of them remains in the submission, and speaks for none uploaded after it;
- an excerpt must be in the document's extracted text (case, accents and spaces aside, as
  ``service.domain.text.fold`` compares), on the page given if one is; the page it was found on
  is stored with it;
- a page must exist in the document;
- ``undo`` takes back the commitment's decision in force (a new entry naming it);
- ``comment`` saves words without deciding.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from classifiers.result import COMMITMENT_IDS
from service.domain.codes import DECIDING_ACTIONS, DecisionAction
from service.domain.errors import NotFoundError, ValidationError
from service.domain.matrix import load_matrix
from service.domain.messages import commitment_short
from service.domain.models import (
    Classification,
    Decision,
    DecisionDocument,
    Document,
    ExtractionPage,
    ReviewFlag,
    User,
)
from service.domain.submissions import get_submission
from service.domain.text import clean, fold
from service.domain.workflow import VerdictLock, check_unlocked, lock

__all__ = ["MAX_PAGE", "record_decision", "decision_history", "locate_excerpt"]

#: Highest page number a decision may name (no document has more; a 64-bit one is refused).
MAX_PAGE = 100_000


def record_decision(
    session: Session,
    submission_id: str,
    commitment: str,
    action: str,
    reviewer: User,
    *,
    document_id: str | None = None,
    excerpt: str | None = None,
    page: int | None = None,
    comment: str | None = None,
) -> Decision:
    """Append a reviewer's entry on one commitment; raises ValidationError (422, Spanish) when
    it would record something the documents do not show, and ServiceError
    ``decisions_locked`` (409) once the submission has a final verdict. The submission's row
    lock is held to the commit: a verdict given at the same instant comes before (409) or
    after this entry, never beside it.

    A decision also resolves the commitment's open review flags (reprocessing flipped a
    decided cell); an undo or a comment does not.
    """
    excerpt, comment = clean(excerpt), clean(comment)  # forms reach here too
    if page is not None and not 1 <= page <= MAX_PAGE:
        raise ValidationError(code="invalid_page", field="page")
    submission = lock(session, get_submission(session, submission_id))  # vs. a verdict
    check_unlocked(submission, VerdictLock.decisions)
    if commitment not in COMMITMENT_IDS:
        raise ValidationError(code="invalid_commitment")
    if action not in DecisionAction.__members__:
        raise ValidationError(code="invalid_action")
    action = DecisionAction(action)
    excerpt, comment = _clean(excerpt), _clean(comment)
    document = _own_document(session, submission.id, document_id)
    row = load_matrix(session, submission.id).commitment(commitment)
    decision = Decision(
        submission_id=submission.id, commitment=commitment, action=action.value,
        comment=comment, reviewer_id=reviewer.id,
        classifier_version=_current_classifier_version(session, submission.id),
    )
    if action == DecisionAction.comment:
        if not comment:
            raise ValidationError(code="empty_comment", field="comment")
    elif action == DecisionAction.undo:
        if row.decision is None:
            raise ValidationError(code="nothing_to_undo", commitment=commitment_short(commitment))
        decision.undoes_id = row.decision.id
    else:
        if action == DecisionAction.attach and not (document or excerpt):
            raise ValidationError(code="attach_needs_evidence")
        if excerpt or page is not None:
            found = _verify(session, submission.id, document, excerpt, page)
            document, page = found.document, found.page
        if action == DecisionAction.confirm and not (excerpt or row.passages or row.attached):
            raise ValidationError(code="confirm_needs_evidence",
                                  commitment=commitment_short(commitment))
        decision.document_id = document.id if document else None
        decision.excerpt, decision.page = excerpt, page
        if action == DecisionAction.confirm and document is None:
            decision.endorsements = [DecisionDocument(document_id=d) for d in row.rests_on]
    session.add(decision)
    if action in DECIDING_ACTIONS:
        _resolve_flags(session, submission.id, commitment)
    try:
        session.commit()
    except IntegrityError:  # another reviewer undid the same decision a moment ago
        session.rollback()
        raise ValidationError(code="nothing_to_undo",
                              commitment=commitment_short(commitment)) from None
    return decision


def decision_history(session: Session, submission_id: str) -> list[Decision]:
    """Every entry on the submission, oldest first."""
    get_submission(session, submission_id)
    return list(
        session.scalars(
            select(Decision)
            .where(Decision.submission_id == submission_id)
            .options(selectinload(Decision.reviewer))
            .order_by(Decision.id)
        )
    )


def _clean(text: str | None) -> str | None:
    return text.strip() if text and text.strip() else None


def _own_document(session: Session, submission_id: str, document_id: str | None
                  ) -> Document | None:
    if document_id is None:
        return None
    document = session.get(Document, document_id)
    if document is None or document.submission_id != submission_id or document.removed_at:
        raise NotFoundError(code="document_not_found")  # a removed document counts nowhere
    return document


# --- excerpts -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Found:
    document: Document
    page: int | None


def _key(text: str) -> str:
    """What is compared: folded (no case, no accents) and without any whitespace."""
    return "".join(fold(text).split())


def locate_excerpt(pages: list[tuple[int, str]], excerpt: str, page: int | None = None
                   ) -> int | None:
    """The page an excerpt starts on in a document's pages (number, text), or None; with
    ``page``, the excerpt must start on that page (it may run onto the next), else the page it
    was found on elsewhere is returned so the caller can say so."""
    key = _key(excerpt)
    if not key:
        return None
    starts, joined = [], []
    offset = 0
    for number, text in pages:
        starts.append((offset, number))
        k = _key(text or "")
        joined.append(k)
        offset += len(k)
    text = "".join(joined)

    def page_at(index: int) -> int:
        return max((s for s in starts if s[0] <= index), key=lambda s: s[0])[1]

    if page is not None:
        bounds = [s for s in starts if s[1] == page]
        if bounds:
            begin = bounds[0][0]
            index = text.find(key, begin)
            if index >= 0 and page_at(index) == page:
                return page
    index = text.find(key)
    return page_at(index) if index >= 0 else None


def _pages(session: Session, document: Document) -> list[tuple[int, str]]:
    rows = session.execute(
        select(ExtractionPage.number, ExtractionPage.text)
        .where(ExtractionPage.extraction_id == document.extraction_id)
        .order_by(ExtractionPage.number)
    )
    return [(number, text) for number, text in rows]


def _verify(session: Session, submission_id: str, document: Document | None,
            excerpt: str | None, page: int | None) -> _Found:
    """The document and page an excerpt (or a page alone) is verified on; raises
    ValidationError saying what does not match."""
    if document is not None:
        return _verify_in(session, document, excerpt, page)
    candidates = session.scalars(
        select(Document)
        .where(Document.submission_id == submission_id, Document.extraction_id.is_not(None),
               Document.removed_at.is_(None))
        .order_by(Document.created_at, Document.id)
    )
    for candidate in candidates:
        try:
            return _verify_in(session, candidate, excerpt, page)
        except ValidationError:
            continue
    raise ValidationError(code="excerpt_not_found",
                          where="ningún documento analizado de esta postulación")


def _verify_in(session: Session, document: Document, excerpt: str | None, page: int | None
               ) -> _Found:
    name = document.name.rsplit("/", 1)[-1]
    if document.extraction_id is None:
        raise ValidationError(code="document_not_read", document=name)
    pages = _pages(session, document)
    if page is not None and not any(number == page for number, _ in pages):
        raise ValidationError(code="page_not_in_document", document=name, page=page,
                              pages=len(pages))
    if not excerpt:
        return _Found(document, page)
    found = locate_excerpt(pages, excerpt, page)
    if found is None:
        raise ValidationError(code="excerpt_not_found", where=f"«{name}»")
    if page is not None and found != page:
        raise ValidationError(code="excerpt_not_on_page", document=name, page=page, found=found)
    return _Found(document, found)


def _resolve_flags(session: Session, submission_id: str, commitment: str) -> None:
    """Deciding again is the reviewer's answer to "reprocessing flipped this cell"."""
    for flag in session.scalars(
        select(ReviewFlag).where(
            ReviewFlag.submission_id == submission_id,
            ReviewFlag.commitment == commitment,
            ReviewFlag.resolved_at.is_(None),
        )
    ):
        flag.resolved_at = datetime.now(UTC)


def _current_classifier_version(session: Session, submission_id: str) -> str | None:
    return session.scalar(
        select(Classification.classifier_version)
        .join(Document, Document.id == Classification.document_id)
        .where(Document.submission_id == submission_id)
        .order_by(Classification.id.desc())
        .limit(1)
    )
