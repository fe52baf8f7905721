"""``/api/submissions/...``: the review workflow (``service.domain.workflow``) over HTTP.

The applicant submits with its token; reviewers claim, request changes, approve or not; an
admin reassigns, and reopens a final verdict (``review`` with ``en_revision`` and the reason);
"next pending" claims the oldest waiting submission; a lost link is sent again by e-mail.
Illegal steps are 409s with the Spanish reason.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from service.api.deps import CurrentReviewer, SessionDep, SubmissionAccess
from service.api.schemas import (
    AssignRequest,
    ErrorBody,
    LinkRequest,
    LinkRequested,
    NextPending,
    ReviewCreate,
    ReviewPublic,
    review_public,
)
from service.domain import mail, workflow
from service.domain.errors import AuthenticationError
from service.domain.messages import notice
from service.throttle import client_address, limit_link_requests

__all__ = ["router"]

router = APIRouter(prefix="/api/submissions", tags=["revisión"])

_ERRORS = {
    401: {"model": ErrorBody, "description": "Sin credenciales"},
    403: {"model": ErrorBody, "description": "Sin permiso"},
    404: {"model": ErrorBody, "description": "La postulación no existe"},
    409: {"model": ErrorBody, "description": "El estado actual no permite ese paso (motivo "
          "en español)"},
    422: {"model": ErrorBody, "description": "Datos no válidos (p. ej. falta el mensaje)"},
}


def _state(session, submission_id: str, *, for_reviewer: bool) -> dict:
    return review_public(workflow.review_state(session, submission_id),
                         for_reviewer=for_reviewer)


@router.post(
    "/lost-link",
    status_code=202,
    response_model=LinkRequested,
    responses={429: {"model": ErrorBody, "description": "Demasiadas solicitudes desde esta "
                     "conexión"}},
    summary="Pedir de nuevo el enlace secreto",
    description="La organización que perdió su enlace indica su RUT y el correo de contacto "
    "que dio al postular. Si coinciden con una postulación, se crea un enlace nuevo (el "
    "anterior deja de funcionar) y se envía a ese correo. La respuesta es siempre la misma, "
    "exista o no la postulación. Un servidor sin correo configurado no cambia ningún enlace "
    "y lo dice.",
)
def lost_link(body: LinkRequest, request: Request, session: SessionDep) -> dict:
    limit_link_requests(client_address(request))
    mail.request_link(session, body.rut, body.email)
    return {"message": notice("link_requested" if mail.sending_enabled()
                              else "link_not_sendable")}


@router.post(
    "/next",
    response_model=NextPending,
    responses={401: _ERRORS[401]},
    summary="Tomar la siguiente pendiente",
    description="Solo revisores. Toma (pasa a `en_revision` y asigna a quien llama) la "
    "postulación enviada que lleva más tiempo esperando, sin asignar o asignada a quien "
    "llama. Si no hay ninguna, `id` viene vacío con un aviso.",
)
def next_pending(reviewer: CurrentReviewer, session: SessionDep) -> dict:
    submission = workflow.claim_next(session, reviewer)
    if submission is None:
        return {"id": None, "review": None, "message": notice("nothing_pending")}
    return {"id": submission.id,
            "review": _state(session, submission.id, for_reviewer=True)}


@router.post(
    "/{submission_id}/submit",
    response_model=ReviewPublic,
    responses=_ERRORS,
    summary="Enviar la postulación a revisión",
    description="Con el token de la postulación. Desde `borrador`, o desde `observada` "
    "después de agregar documentos, pasa a `enviada` y queda esperando revisor (si ya tenía "
    "uno asignado, vuelve a esa persona). Requiere al menos un documento.",
)
def submit(access: SubmissionAccess, session: SessionDep) -> dict:
    if access.is_reviewer:  # the applicant's step: a reviewer cannot send it for them
        raise AuthenticationError()
    workflow.submit(session, access.submission)
    return _state(session, access.submission.id, for_reviewer=False)


@router.post(
    "/{submission_id}/review",
    response_model=ReviewPublic,
    responses=_ERRORS,
    summary="Cambiar el estado de la revisión",
    description="Solo revisores. `en_revision` toma una postulación enviada (queda asignada "
    "a quien llama); luego quien la tiene (o un administrador) la deja `observada` (con un "
    "mensaje general o por compromiso: la organización puede agregar documentos y "
    "reenviarla), `aprobada` o `no_aprobada` (con la razón). Un resultado final cierra las "
    "decisiones; solo un administrador la reabre: `en_revision` desde `aprobada` o "
    "`no_aprobada`, con la razón en `message` (sigue asignada a quien la tenía y las decisiones "
    "se abren de nuevo; no se envía correo). Cada paso queda en el historial y, si la "
    "organización dio un correo, se le avisa de `observada`, `aprobada` y `no_aprobada`.",
)
def review(body: ReviewCreate, reviewer: CurrentReviewer, access: SubmissionAccess,
           session: SessionDep) -> dict:
    workflow.review(session, access.submission, reviewer, body.status, body.message,
                    dict(body.commitments))
    return _state(session, access.submission.id, for_reviewer=True)


@router.post(
    "/{submission_id}/assign",
    response_model=ReviewPublic,
    responses=_ERRORS,
    summary="Reasignar una postulación",
    description="Solo administradores. Entrega la postulación a otro revisor (`reviewer`), o "
    "la deja sin asignar (vacío). El estado no cambia; el historial lo registra.",
)
def assign(body: AssignRequest, reviewer: CurrentReviewer, access: SubmissionAccess,
           session: SessionDep) -> dict:
    workflow.assign(session, access.submission, reviewer, body.reviewer)
    return _state(session, access.submission.id, for_reviewer=True)
