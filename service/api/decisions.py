"""``/api/submissions/{id}/decisions``: reviewers confirm, reject, attach evidence, undo,
comment; history."""

from __future__ import annotations

from fastapi import APIRouter

from service.api.deps import CurrentReviewer, SessionDep, SubmissionAccess
from service.api.schemas import DecisionCreate, DecisionPublic, ErrorBody, decision_public
from service.domain.decisions import decision_history, record_decision
from service.domain.matrix import DecisionEntry

__all__ = ["router"]

router = APIRouter(prefix="/api/submissions", tags=["decisiones"])

_ERRORS = {
    401: {"model": ErrorBody, "description": "Solo revisores"},
    404: {"model": ErrorBody, "description": "La postulación o el documento no existe"},
    422: {"model": ErrorBody, "description": "Compromiso, acción o datos no válidos"},
}
_LOCKED = {409: {"model": ErrorBody, "description": "La postulación ya tiene su resultado "
                 "final (aprobada o no aprobada): sus decisiones están cerradas"}}


@router.post(
    "/{submission_id}/decisions",
    status_code=201,
    response_model=DecisionPublic,
    responses=_ERRORS | _LOCKED,
    summary="Registrar una decisión",
    description="Un revisor confirma (`confirm`), rechaza (`reject`) o adjunta (`attach`) la "
    "evidencia de un compromiso (c1…c5), opcionalmente con un documento, un extracto, su página "
    "y un comentario; `undo` deshace la decisión vigente del compromiso (la matriz vuelve a "
    "mostrar la anterior) y `comment` guarda solo un comentario, sin decidir. Lo registrado "
    "debe ser cierto en los documentos (422 con el motivo en español si no): confirmar exige un "
    "pasaje detectado o un extracto adjuntado; un extracto debe estar en el texto extraído del "
    "documento (sin importar mayúsculas, tildes ni espacios) y se guarda con la página donde "
    "está; la página debe existir. Nada se sobrescribe: cada entrada queda en el historial con "
    "quién y cuándo. Con el resultado final de la revisión (aprobada o no aprobada) las "
    "decisiones quedan cerradas: 409 `decisions_locked`, hasta que un administrador la "
    "reabra (vuelve a `en_revision`).",
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
