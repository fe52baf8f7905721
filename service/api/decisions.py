"""``/api/submissions/{id}/decisions``: reviewers confirm, reject or attach evidence; history."""

from __future__ import annotations

from fastapi import APIRouter

from service.api.deps import CurrentReviewer, SessionDep, SubmissionAccess
from service.api.schemas import DecisionCreate, DecisionPublic, ErrorBody, decision_public
from service.domain.matrix import DecisionEntry
from service.domain.submissions import decision_history, record_decision

__all__ = ["router"]

router = APIRouter(prefix="/api/submissions", tags=["decisions"])

_ERRORS = {code: {"model": ErrorBody} for code in (401, 404, 422)}


@router.post(
    "/{submission_id}/decisions",
    status_code=201,
    response_model=DecisionPublic,
    responses=_ERRORS,
    summary="Record a reviewer decision (append-only: history keeps every one)",
)
def create_decision(
    body: DecisionCreate, reviewer: CurrentReviewer, access: SubmissionAccess, session: SessionDep
) -> dict:
    decision = record_decision(
        session,
        access.submission.id,
        body.commitment,
        body.action,
        reviewer,
        document_id=body.document_id,
        excerpt=body.excerpt,
        page=body.page,
        comment=body.comment,
    )
    return decision_public(DecisionEntry.of(decision))


@router.get(
    "/{submission_id}/decisions",
    response_model=list[DecisionPublic],
    responses=_ERRORS,
    summary="Decision history, oldest first (who, when, what)",
)
def list_decisions(
    reviewer: CurrentReviewer, access: SubmissionAccess, session: SessionDep
) -> list[dict]:
    return [
        decision_public(DecisionEntry.of(d))
        for d in decision_history(session, access.submission.id)
    ]
