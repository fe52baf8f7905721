"""The web application, built in one place: API routers, web pages, static files, one error
boundary, operations endpoints, and the dispatcher the service queues work through.

``create_app()`` is the only entry point (``uvicorn --factory service.app:create_app``).
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

__all__ = ["create_app"]

STATIC_DIR = Path(__file__).resolve().parent / "web" / "static"

_DESCRIPTION = """
API de **evidencia**: postulaciones al reconocimiento *Compromiso Migrante*.

- Postulantes: `POST /api/submissions` entrega un token secreto; con él
  (`Authorization: Bearer <token>`) se suben archivos y se consulta el avance y la matriz.
- Revisores: HTTP Basic, o el token de `POST /api/session` (también cookie `evidencia_session`).
- Errores: `{"detail": {"code": "...", "message": "..."}}` con mensaje en español.
"""

_TAGS = [
    {"name": "submissions", "description": "Postulaciones, carga de archivos y matriz"},
    {"name": "documents", "description": "Texto extraído y evidencias por documento"},
    {"name": "decisions", "description": "Decisiones de revisores e historial"},
    {"name": "session", "description": "Sesión de revisores"},
    {"name": "operations", "description": "Salud y métricas"},
]


@asynccontextmanager
async def _lifespan(app: FastAPI):
    from service.api.deps import configure_concurrency

    configure_concurrency(app)
    yield


def create_app() -> FastAPI:
    from service.api import decisions, documents, errors, operations, sessions, submissions
    from service.domain import dispatch
    from service.settings import get_settings
    from service.web import applicant, login, pages, reviewer

    settings = get_settings()  # fail fast on bad configuration
    dispatch.install(dispatch.load(settings.dispatcher))
    app = FastAPI(lifespan=_lifespan, title="evidencia", version=_version(),
                  description=_DESCRIPTION, openapi_tags=_TAGS)
    errors.install(app, html_page=pages.error_page)
    for module in (submissions, documents, decisions, sessions, operations,
                   login, applicant, reviewer):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    _describe_errors_as_sent(app)
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
