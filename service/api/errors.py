"""The API's error boundary: every exception becomes a status and a Spanish body, here only.

JSON clients get ``{"detail": {"code", "message"}}`` with the status the code's ``ErrorCode``
declares. A browser asking for a page (not under ``/api/``) gets the HTML page the web layer
renders, and one that must log in first is sent to the login form.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from extractors.errors import EvidenciaError
from service.domain.errors import ErrorCode, fault_of
from service.domain.messages import error_message, format_limit, validation_problem
from service.settings import get_settings

__all__ = ["install", "HtmlErrorPage"]

log = logging.getLogger(__name__)

#: ``(request, status, code, message) -> Response``: the web layer's page for an error.
HtmlErrorPage = Callable[[Request, int, str, str], Response]

#: Statuses Starlette raises itself (unknown route, wrong method, body too large).
_HTTP_CODES = {
    400: ErrorCode.validation,
    401: ErrorCode.unauthorized,
    403: ErrorCode.forbidden,
    404: ErrorCode.not_found,
    405: ErrorCode.method_not_allowed,
    413: ErrorCode.request_too_large,
    422: ErrorCode.validation,
    503: ErrorCode.unavailable,
}

#: Database errors that mean "try again shortly", answered 503 with a Spanish message.
_DATABASE_UNAVAILABLE = (sa_exc.TimeoutError, sa_exc.OperationalError, sa_exc.InterfaceError)

#: Where a browser goes to log in when a reviewers' page needs it.
LOGIN_PATH = "/revision/ingresar"


def _answer(request: Request, exc: Exception) -> tuple[int, str, str, dict, dict | None]:
    """(status, code, message, extra body fields, headers) for any exception."""
    if isinstance(exc, EvidenciaError):  # the service's and the pipeline's own errors
        status = fault_of(exc).http_status
        headers = None
        if status == 401 and request.url.path.startswith("/api/"):
            headers = {"WWW-Authenticate": 'Basic realm="evidencia", Bearer'}
        elif status == 503:
            headers = {"Retry-After": "2"}
        elif status == 429:
            headers = {"Retry-After": str(getattr(exc, "retry_after", 60))}
        return status, str(exc.code), exc.message, {}, headers
    if isinstance(exc, _DATABASE_UNAVAILABLE):  # pool timed out, database down: not a bug
        log.warning("database unavailable on %s %s: %r", request.method, request.url.path, exc)
        return 503, "unavailable", error_message("unavailable"), {}, {"Retry-After": "5"}
    if isinstance(exc, sa_exc.DataError):  # a value the column refuses, past the schemas
        log.warning("invalid data for the database on %s %s: %s", request.method,
                    request.url.path, str(exc).splitlines()[0][:300])
        return 422, "validation", error_message("unstorable_input"), {}, None
    if isinstance(exc, RequestValidationError):  # each problem in Spanish, the first named
        errors = [
            {"loc": list(e.get("loc", ())), "type": e.get("type"),
             "msg": validation_problem(e.get("type"), e.get("ctx"))}
            for e in exc.errors()
        ]
        message = error_message("validation")
        if errors:  # "body"/"query" first, then the field's name (numbers: list items, offsets)
            field = ".".join(p for p in errors[0]["loc"][1:] if isinstance(p, str))
            message = error_message("validation_field" if field else "validation_problem",
                                    field=field, problem=errors[0]["msg"])
        return 422, "validation", message, {"errors": errors}, None
    if isinstance(exc, StarletteHTTPException):
        code = _HTTP_CODES.get(exc.status_code)
        message = str(exc.detail) if code is None else error_message(code)
        if exc.status_code == 413:
            limit = getattr(exc, "limit", None) or get_settings().request_limit
            message = error_message("request_too_large", limit=format_limit(limit))
        return exc.status_code, str(code or "error"), message, {}, getattr(exc, "headers", None)
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return 500, "internal", error_message("internal_request"), {}, None


def _wants_page(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and (
        "text/html" in request.headers.get("accept", "")
    )


def install(app: FastAPI, html_page: HtmlErrorPage | None = None) -> None:
    """Make this the app's one handler for every exception."""

    def error_response(request: Request, exc: Exception) -> Response:
        status, code, message, extra, headers = _answer(request, exc)
        if html_page is not None and _wants_page(request):
            if status == 401:  # a reviewers' page: log in, then come back
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"{LOGIN_PATH}?{urlencode({'siguiente': target})}", 303)
            return html_page(request, status, code, message)
        return JSONResponse(
            {"detail": {"code": code, "message": message, **extra}}, status_code=status,
            headers=headers,
        )

    for exc_class in (EvidenciaError, RequestValidationError, StarletteHTTPException,
                      *_DATABASE_UNAVAILABLE, sa_exc.DataError, Exception):
        app.add_exception_handler(exc_class, error_response)
