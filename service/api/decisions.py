"""``/api/submissions/{id}/decisions``: reviewers confirm, reject or attach evidence; history."""

from __future__ import annotations

from fastapi import APIRouter

from service.api.deps import CurrentReviewer, SessionDep, SubmissionAccess
from service.api.schemas import DecisionCreate, DecisionPublic, ErrorBody, decision_public
from service.domain.matrix import DecisionEntry
from service.domain.submissions import decision_history, record_decision

__all__ = ["router"]

router = APIRouter(prefix="/api/submissions", tags=["decisiones"])

_ERRORS = {
    401: {"model": ErrorBody, "description": "Solo revisores"},
    404: {"model": ErrorBody, "description": "La postulación o el documento no existe"},
    422: {"model": ErrorBody, "description": "Compromiso, acción o datos no válidos"},
}


@router.post(
    "/{submission_id}/decisions",
    status_code=201,
    response_model=DecisionPublic,
    responses=_ERRORS,
    summary="Registrar una decisión",
    description="Un revisor confirma (`confirm`), rechaza (`reject`) o adjunta (`attach`) la "
    "evidencia de un compromiso (c1…c5), opcionalmente con un documento, un extracto, su página "
    "y un comentario. Nada se sobrescribe: cada decisión queda en el historial con quién y "
    "cuándo, y la más reciente es la que cuenta en la matriz.",
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
    summary="Historial de decisiones",
    description="Todas las decisiones de la postulación, de la más antigua a la más reciente: "
    "quién, cuándo, qué compromiso y con qué versión del clasificador a la vista.",
)
def list_decisions(
    reviewer: CurrentReviewer, access: SubmissionAccess, session: SessionDep
) -> list[dict]:
    return [
        decision_public(DecisionEntry.of(d))
        for d in decision_history(session, access.submission.id)
    ]
