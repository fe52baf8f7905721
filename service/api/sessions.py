"""``/api/session``: a reviewer logs in once and gets a server-side session (cookie and bearer
token); logging out ends it on the server."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from service.api.deps import BearerDep, OptionalReviewer, SessionDep
from service.api.schemas import ErrorBody, LoginRequest, SessionPublic
from service.domain.access import SESSION_COOKIE, SESSION_MAX_AGE, close_session, open_session
from service.settings import get_settings
from service.throttle import (
    DEVICE_COOKIE,
    DEVICE_MAX_AGE,
    authenticate_limited,
    client_address,
    device_token,
)

__all__ = ["router", "set_session_cookie", "clear_session_cookie", "set_device_cookie"]

router = APIRouter(prefix="/api/session", tags=["sesión"])


def set_session_cookie(response: Response, token: str) -> None:
    """The reviewer's session cookie, for the API and the pages alike: ``Secure`` whenever the
    service is published over HTTPS (``EVIDENCIA_PUBLIC_URL``)."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=SESSION_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=get_settings().public_url.startswith("https://"),
        path="/",
    )


def set_device_cookie(response: Response, username: str) -> None:
    """After a correct login: this client is known for the account (``service.throttle``), so
    guesses from elsewhere cannot lock its reviewer out of it. Kept across logouts."""
    response.set_cookie(
        DEVICE_COOKIE,
        device_token(username),
        max_age=DEVICE_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=get_settings().public_url.startswith("https://"),
        path="/",
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.post(
    "",
    response_model=SessionPublic,
    responses={401: {"model": ErrorBody, "description": "Usuario o contraseña incorrectos"},
               429: {"model": ErrorBody, "description": "Demasiados intentos: espere "
                     "(`Retry-After`)"}},
    summary="Ingresar como revisor",
    description="Recibe usuario y contraseña (JSON) y entrega un token de sesión, válido por 12 "
    "horas o hasta salir (`DELETE /api/session`), cambiar la contraseña o dar de baja la cuenta; "
    "el mismo token queda en la cookie `evidencia_session`. Úselo como "
    "`Authorization: Bearer <token>`. Tras 10 intentos fallidos para una cuenta (o 50 desde "
    "una dirección) en 15 minutos se responde 429 hasta que termine ese plazo; un cliente donde "
    "ya se ingresó a esa cuenta (cookie `evidencia_dispositivo`) cuenta sus intentos aparte.",
)
def login(body: LoginRequest, session: SessionDep, request: Request, response: Response) -> dict:
    user = authenticate_limited(session, body.username, body.password, client_address(request),
                                request.cookies.get(DEVICE_COOKIE))
    token = open_session(session, user)
    set_session_cookie(response, token)
    set_device_cookie(response, user.username)
    return {
        "token": token, "username": user.username, "role": user.role, "expires_in": SESSION_MAX_AGE
    }


@router.get(
    "",
    response_model=SessionPublic | None,
    summary="Revisor de la sesión actual",
    description="El revisor identificado por la cookie, el token o HTTP Basic; `null` si no hay "
    "sesión. El token no se repite (campo vacío).",
)
def whoami(reviewer: OptionalReviewer) -> dict | None:
    if reviewer is None:
        return None
    return {"token": "", "username": reviewer.username, "role": reviewer.role,
            "expires_in": SESSION_MAX_AGE}


@router.delete(
    "",
    status_code=204,
    summary="Salir",
    description="Cierra la sesión en el servidor: el token (`Authorization: Bearer`) o la "
    "cookie con que se llama deja de ser válido desde ya, y se borra la cookie del navegador.",
)
def logout(request: Request, session: SessionDep, bearer: BearerDep) -> Response:
    if bearer is not None:
        close_session(session, bearer.credentials)
    close_session(session, request.cookies.get(SESSION_COOKIE))
    response = Response(status_code=204)
    clear_session_cookie(response)
    return response
