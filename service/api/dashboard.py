"""``/api/dashboard``: the reviewers' dashboard (``service.domain.dashboard``)."""

from __future__ import annotations

from fastapi import APIRouter

from service.api.deps import CurrentReviewer, SessionDep
from service.api.schemas import DashboardPublic, ErrorBody
from service.domain import clock, messages
from service.domain.dashboard import Dashboard, load_dashboard

__all__ = ["router", "dashboard_public"]

router = APIRouter(prefix="/api", tags=["panel"])


def _seconds(value) -> float | None:
    return round(value.total_seconds(), 1) if value is not None else None


def dashboard_public(d: Dashboard) -> dict:
    return {
        "statuses": [{"status": code, "label": d.status_label(code), "count": n}
                     for code, n in d.statuses],
        "backlog": {"waiting": d.waiting, "oldest_seconds": _seconds(d.oldest_wait),
                    "median_seconds": _seconds(d.median_wait)},
        "missing": [{"commitment": cid, "label": messages.commitment_short(cid), "count": n}
                    for cid, n in d.missing],
        "assessed": d.assessed,
        "week_start": clock.iso(d.week_start),
        "reviewers": [{"reviewer": w.reviewer, "decisions": w.decisions, "undone": w.undone,
                       "comments": w.comments} for w in d.reviewers],
    }


@router.get(
    "/dashboard",
    response_model=DashboardPublic,
    responses={401: {"model": ErrorBody, "description": "Solo revisores"}},
    summary="Panel de revisión",
    description="Solo revisores. Cuántas postulaciones hay en cada estado (borrador, "
    "enviada, en revisión, observada, aprobada, no aprobada), cuántas esperan a un revisor "
    "(enviadas o en revisión) y desde hace cuánto (la más antigua y la mediana, desde su envío "
    "o reenvío), qué compromisos faltan con más frecuencia en "
    "las postulaciones ya leídas y cuántas decisiones tomó cada revisor esta semana (desde el "
    "lunes a las 00:00, hora de Chile).",
)
def dashboard(session: SessionDep, reviewer: CurrentReviewer) -> dict:
    return dashboard_public(load_dashboard(session))
