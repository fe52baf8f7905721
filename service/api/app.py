"""The FastAPI application: routers, the one error boundary, health and metrics.

``create_app()`` is the only entry point (``uvicorn --factory service.api.app:create_app``).
Every error becomes ``{"detail": {"code", "message"}}`` with a Spanish message and the status
its class declares, in :func:`_error_response` and nowhere else.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from extractors.errors import EvidenciaError, ExtractionError
from service.api import decisions, documents, sessions, submissions
from service.api.schemas import Health
from service.domain.errors import ServiceError
from service.domain.messages import error_message

__all__ = ["create_app"]

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parents[1] / "web" / "static"

_HTTP_CODES = {
    400: "validation",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "not_found",
    413: "too_large",
    422: "validation",
    503: "unavailable",
}

_DESCRIPTION = """
API de **evidencia**: postulaciones al reconocimiento *Compromiso Migrante*.

- Postulantes: `POST /api/submissions` entrega un token secreto; con él
  (`Authorization: Bearer <token>`) se suben archivos y se consulta el avance y la matriz.
- Revisores: HTTP Basic, o el token de `POST /api/session` (también cookie `evidencia_session`).
- Errores: `{"detail": {"code": "...", "message": "..."}}` con mensaje en español.
"""


def _error_response(request: Request, exc: Exception) -> Response:
    """The single boundary where exceptions become HTTP statuses and Spanish bodies."""
    headers = None
    extra: dict = {}
    if isinstance(exc, ServiceError):
        status, code, message = exc.status_code, exc.code, exc.message
        if status == 401 and request.url.path.startswith("/api/"):
            headers = {"WWW-Authenticate": 'Basic realm="evidencia", Bearer'}
    elif isinstance(exc, ExtractionError):
        status, code, message = 422, exc.code, exc.message
    elif isinstance(exc, EvidenciaError):
        status, code, message = 400, exc.code, exc.message
    elif isinstance(exc, RequestValidationError):
        status, code, message = 422, "validation", error_message("validation")
        extra["errors"] = [
            {"loc": list(e.get("loc", ())), "type": e.get("type"), "msg": e.get("msg")}
            for e in exc.errors()
        ]
    elif isinstance(exc, StarletteHTTPException):
        status = exc.status_code
        code = _HTTP_CODES.get(status, "error")
        message = error_message(code) if code in _HTTP_CODES.values() else str(exc.detail)
        if status == 413:
            message = "La solicitud es demasiado grande."
        headers = getattr(exc, "headers", None)
    else:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        status, code, message = 500, "internal", error_message("internal")
    web_error = _web_error_page()
    if web_error is not None and not request.url.path.startswith("/api/") and (
        "text/html" in request.headers.get("accept", "")
    ):
        return web_error(request, status, code, message)
    return JSONResponse(
        {"detail": {"code": code, "message": message, **extra}}, status_code=status,
        headers=headers,
    )


def _web_error_page():
    """The web pages' HTML error renderer, if they provide one (``service.web.routes``)."""
    try:
        from service.web.routes import error_page
    except ImportError:
        return None
    return error_page


def create_app() -> FastAPI:
    from service.settings import get_settings

    get_settings()  # fail fast on bad configuration
    app = FastAPI(
        title="evidencia",
        version=_version(),
        description=_DESCRIPTION,
        openapi_tags=[
            {"name": "submissions", "description": "Postulaciones, carga de archivos y matriz"},
            {"name": "documents", "description": "Texto extraído y evidencias por documento"},
            {"name": "decisions", "description": "Decisiones de revisores e historial"},
            {"name": "session", "description": "Sesión de revisores"},
            {"name": "operations", "description": "Salud y métricas"},
        ],
    )
    for exc_class in (EvidenciaError, RequestValidationError, StarletteHTTPException, Exception):
        app.add_exception_handler(exc_class, _error_response)

    app.include_router(submissions.router)
    app.include_router(documents.router)
    app.include_router(decisions.router)
    app.include_router(sessions.router)
    _add_operations(app)

    _describe_errors_as_sent(app)

    try:
        from service.web.routes import router as web_router
    except ImportError:
        log.info("web pages not available (service.web.routes did not import)")
    else:
        app.include_router(web_router)
    if STATIC_DIR.is_dir():
        app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


def _describe_errors_as_sent(app: FastAPI) -> None:
    """FastAPI documents 422 as its own HTTPValidationError; ours is ErrorBody, say so."""
    from fastapi.openapi.utils import get_openapi

    def openapi() -> dict:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description,
            routes=app.routes, tags=app.openapi_tags,
        )
        ref = {"$ref": "#/components/schemas/ErrorBody"}
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                response = operation.get("responses", {}).get("422")
                if response:
                    response["description"] = "Datos no válidos"
                    response["content"] = {"application/json": {"schema": ref}}
        components = schema.get("components", {}).get("schemas", {})
        for name in ("HTTPValidationError", "ValidationError"):
            components.pop(name, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("evidencia")
    except Exception:
        return "0"


def _add_operations(app: FastAPI) -> None:
    from service.metrics import build_registry, render_metrics

    registry = build_registry()

    @app.get("/healthz", response_model=Health, tags=["operations"], summary="Process is up")
    def healthz() -> dict:
        return {"status": "ok", "checks": {}}

    @app.get(
        "/readyz",
        response_model=Health,
        tags=["operations"],
        summary="Database and Redis reachable (503 otherwise)",
        responses={503: {"model": Health}},
    )
    def readyz():
        checks = {"database": _check_database(), "redis": _check_redis()}
        if checks["database"] == "ok":
            checks["schema"] = _check_schema()
        ok = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ok" if ok else "unavailable", "checks": checks},
            status_code=200 if ok else 503,
        )

    @app.get("/metrics", tags=["operations"], summary="Prometheus metrics",
             response_class=Response)
    def metrics() -> Response:
        from prometheus_client import CONTENT_TYPE_LATEST

        return Response(render_metrics(registry), media_type=CONTENT_TYPE_LATEST)


def _check_database() -> str:
    from sqlalchemy import text

    from service.db import get_engine

    try:
        with get_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
        return "ok"
    except Exception as exc:
        log.warning("readyz: database: %r", exc)
        return f"error: {type(exc).__name__}"


def _check_schema() -> str:
    """The database was migrated to this code's head (`evidencia db upgrade`)."""
    from sqlalchemy import text

    from service.db import get_engine
    from service.migrate import current_heads

    try:
        with get_engine().connect() as conn:
            rows = conn.execute(text("SELECT version_num FROM alembic_version"))
            versions = {row[0] for row in rows}
    except Exception as exc:
        return f"error: {type(exc).__name__} (run `evidencia db upgrade`)"
    expected = set(current_heads())
    if versions != expected:
        return f"error: at {sorted(versions)}, expected {sorted(expected)} (evidencia db upgrade)"
    return "ok"


def _check_redis() -> str:
    from evidencia_queue.enqueue import redis_connection

    try:
        redis_connection().ping()
        return "ok"
    except Exception as exc:
        log.warning("readyz: redis: %r", exc)
        return f"error: {type(exc).__name__}"
