"""Reviewers log in and out: the server-side session whose cookie the API recognises too."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from service.api.deps import OptionalReviewer, SessionDep
from service.api.sessions import clear_session_cookie, set_device_cookie, set_session_cookie
from service.domain.access import SESSION_COOKIE, close_session, open_session
from service.domain.errors import AuthenticationError, RateLimitError
from service.domain.messages import error_message
from service.throttle import DEVICE_COOKIE, authenticate_limited, client_address
from service.web.pages import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only a path of this site: a login link must not send anyone elsewhere."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/revision"


@router.get("/revision/ingresar", response_class=HTMLResponse)
def login_form(request: Request, reviewer: OptionalReviewer, siguiente: str = "") -> HTMLResponse:
    return render(request, "login.html", reviewer=reviewer, siguiente=_safe_next(siguiente),
                  error=None, usuario="")


@router.post("/revision/ingresar")
def login(
    request: Request,
    session: SessionDep,
    usuario: Annotated[str, Form()] = "",
    clave: Annotated[str, Form()] = "",
    siguiente: Annotated[str, Form()] = "",
) -> Response:
    try:
        if not (usuario.strip() and clave):
            raise AuthenticationError(error_message("bad_credentials"))
        user = authenticate_limited(session, usuario.strip(), clave, client_address(request),
                                    request.cookies.get(DEVICE_COOKIE))
    except (AuthenticationError, RateLimitError) as exc:
        page = render(request, "login.html", status_code=exc.status_code,
                      siguiente=_safe_next(siguiente), usuario=usuario, error=exc.message)
        if isinstance(exc, RateLimitError):
            page.headers["Retry-After"] = str(exc.retry_after)
        return page
    response = RedirectResponse(_safe_next(siguiente), status_code=303)
    set_session_cookie(response, open_session(session, user))
    set_device_cookie(response, user.username)
    return response


@router.post("/revision/salir")
def logout(request: Request, session: SessionDep) -> Response:
    close_session(session, request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/revision/ingresar", status_code=303)
    clear_session_cookie(response)
    return response
