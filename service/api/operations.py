"""``/healthz``, ``/readyz`` and ``/metrics``: is the process up, can it work, what is it doing."""

from __future__ import annotations

import hmac
import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from service.api.deps import BearerDep, OptionalReviewer
from service.api.metrics import build_registry, render_metrics
from service.api.schemas import ErrorBody, Health
from service.domain.errors import AuthenticationError
from service.settings import get_settings

__all__ = ["router"]

log = logging.getLogger(__name__)

router = APIRouter(tags=["operación"])
_registry = build_registry()


@router.get(
    "/healthz",
    response_model=Health,
    summary="El proceso responde",
    description="Responde 200 mientras el proceso de la API esté vivo, aunque la base de datos "
    "o Redis no respondan (para eso, `/readyz`).",
)
async def healthz() -> dict:  # async: answers even when every thread is busy
    return {"status": "ok", "checks": {}}


@router.get(
    "/readyz",
    response_model=Health,
    summary="Listo para trabajar",
    description="200 cuando la base de datos y Redis responden y el esquema de la base está al "
    "día (`evidencia db upgrade`); si no, 503 con el detalle de cada revisión en `checks`.",
    responses={503: {"model": Health, "description": "Algún componente no responde"}},
)
def readyz():
    checks = {"database": _check_database(), "redis": _check_queue()}
    if checks["database"] == "ok":
        checks["schema"] = _check_schema()
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ok" if ok else "unavailable", "checks": checks},
        status_code=200 if ok else 503,
    )


@router.get(
    "/metrics",
    summary="Métricas para Prometheus",
    description="Documentos por estado y por código de error, duración de cada etapa, colas y "
    "workers vivos, en el formato de texto de Prometheus. Se leen de la base de datos y de "
    "Redis en cada consulta, así que todas las réplicas de la API informan lo mismo. No es "
    "público: `Authorization: Bearer <EVIDENCIA_METRICS_TOKEN>` (Prometheus) o la sesión de "
    "un revisor.",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Métricas"},
               401: {"model": ErrorBody, "description": "Falta el token de métricas o una "
                     "sesión de revisor"}},
)
def metrics(reviewer: OptionalReviewer, bearer: BearerDep) -> Response:
    from prometheus_client import CONTENT_TYPE_LATEST

    if reviewer is None and not _metrics_token_matches(bearer):
        raise AuthenticationError(code="metrics_token")

    return Response(render_metrics(_registry), media_type=CONTENT_TYPE_LATEST)


def _metrics_token_matches(bearer) -> bool:
    expected = get_settings().metrics_token
    return bool(expected and bearer is not None and hmac.compare_digest(
        bearer.credentials.encode("utf-8", "replace"), expected.encode("utf-8")))


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


def _check_queue() -> str:
    from service.domain.dispatch import get_dispatcher

    try:
        get_dispatcher().ping()
        return "ok"
    except Exception as exc:
        log.warning("readyz: queue: %r", exc)
        return f"error: {type(exc).__name__}"
