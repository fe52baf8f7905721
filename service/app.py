"""The web application, built in one place: API routers, web pages, static files, one error
boundary, operations endpoints, and the dispatcher the service queues work through.

``create_app()`` is the only entry point (``uvicorn --factory service.app:create_app``).
"""

from __future__ import annotations

import gc
from contextlib import asynccontextmanager
from functools import cache
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

__all__ = ["create_app"]

STATIC_DIR = Path(__file__).resolve().parent / "web" / "static"

_DESCRIPTION = """
API de **evidencia**: postulaciones al reconocimiento *Compromiso Migrante*.

- Postulantes: `POST /api/submissions` entrega un token secreto; con él
  (`Authorization: Bearer <token>`) se suben archivos y se consulta el avance y la matriz.
- Revisores: HTTP Basic, o el token de `POST /api/session` (también cookie `evidencia_session`).
- Errores: `{"detail": {"code": "...", "message": "..."}}` con mensaje en español.

Esta página y `/redoc` funcionan sin conexión a internet: sus archivos vienen con el servicio.
"""

#: Sections of the API page, in this order; every route names one (test_openapi.py checks).
_TAGS = [
    {"name": "postulaciones",
     "description": "Postulaciones, carga de archivos y matriz de evidencias"},
    {"name": "documentos",
     "description": "Texto extraído, evidencias y archivo original de cada documento"},
    {"name": "decisiones", "description": "Decisiones de los revisores e historial"},
    {"name": "búsqueda",
     "description": "Búsqueda por organización, RUT y texto de los documentos"},
    {"name": "revisión",
     "description": "Envío a revisión, estados, asignación, mensajes a la organización y "
                    "enlace perdido"},
    {"name": "panel", "description": "Panel de revisión: etapas, espera, faltantes, revisores"},
    {"name": "sesión", "description": "Ingreso y salida de revisores"},
    {"name": "operación", "description": "Salud del servicio y métricas"},
]


@asynccontextmanager
async def _lifespan(app: FastAPI):
    from service.api.deps import configure_concurrency

    configure_concurrency(app)
    _leave_with_supervisor()
    _freeze_start_up()
    yield


@cache
def _leave_with_supervisor() -> None:
    """Under ``serve --workers N`` each API process was spawned by uvicorn's supervisor: when
    the supervisor is gone, however it died (SIGKILL too), the process shuts down as on
    SIGTERM instead of serving on as an orphan that keeps the port from a restarted API."""
    import multiprocessing
    import os
    import signal
    import threading

    supervisor = multiprocessing.parent_process()  # None when uvicorn runs in this process
    if supervisor is None:
        return

    def watch() -> None:
        supervisor.join()  # returns when the supervisor's end of the pipe closes
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="supervisor-watch", daemon=True).start()


@cache
def _freeze_start_up() -> None:
    """What start-up built (modules, routes, schemas: ~160,000 objects) lives as long as the
    process: frozen, the garbage collector no longer walks it. Unfrozen, each full collection
    did, pausing every request in flight for up to 115 ms (the p99 at 50 clients). Once per
    process (a test process starts many apps)."""
    gc.collect()
    gc.freeze()


def create_app() -> FastAPI:
    from service import security
    from service.api import (
        dashboard,
        decisions,
        deps,
        documents,
        errors,
        openapi,
        operations,
        reviews,
        search,
        sessions,
        submissions,
    )
    from service.domain import dispatch
    from service.settings import get_settings
    from service.web import applicant, login, pages, reviewer

    settings = get_settings()  # fail fast on bad configuration
    security.require_secret_key()
    security.install_log_redaction()
    dispatch.install(dispatch.load(settings.dispatcher))
    app = FastAPI(lifespan=_lifespan, title="evidencia", version=_version(),
                  description=_DESCRIPTION, openapi_tags=_TAGS, docs_url=None, redoc_url=None,
                  dependencies=[Depends(check) for check in deps.APP_CHECKS])
    errors.install(app, html_page=pages.error_page)
    _outermost(app, security.SecurityMiddleware)
    for module in (reviews, submissions, documents, decisions, dashboard, search, sessions,
                   operations,
                   login, applicant, reviewer):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    openapi.install(app)  # /docs and /redoc from files shipped with the service
    return app


def _outermost(app: FastAPI, middleware) -> None:
    """Wrap the whole stack, Starlette's own error middleware included, so that even its
    500 answers carry the security headers (``add_middleware`` would sit inside it)."""
    build = app.build_middleware_stack
    app.build_middleware_stack = lambda: middleware(build())


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("evidencia")
    except Exception:
        return "0"
