"""Time as people in Chile read it: every page, export and report converts here, once.

The database stores UTC (SQLite hands it back naive); applicants and reviewers live in
``America/Santiago``, whose offset changes twice a year (-04:00 in winter, -03:00 in summer),
so the conversion goes through the IANA database (``zoneinfo``; the ``tzdata`` package supplies
it where the system has none, as in slim containers), never a fixed offset.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

__all__ = ["CHILE", "now", "aware", "local", "iso", "display", "week_start"]

CHILE = ZoneInfo("America/Santiago")


def now() -> datetime:
    """The current instant (UTC, aware): what is stored."""
    return datetime.now(UTC)


def aware(value: datetime | None) -> datetime | None:
    """A stored time made explicit: naive values (SQLite) are UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def local(value: datetime | None) -> datetime | None:
    """The same instant on a Chilean clock."""
    value = aware(value)
    return value.astimezone(CHILE) if value is not None else None


def iso(value: datetime | None, *, timespec: str = "seconds") -> str | None:
    """ISO 8601 with the Chilean offset: ``2026-12-04T19:40:05-03:00`` (CSV, XLSX and JSON
    exports: a program reading it gets the exact instant, a person the local time). The API's
    JSON keeps the stored precision (``timespec="auto"``)."""
    shown = local(value)
    return shown.isoformat(timespec=timespec) if shown is not None else None


def display(value: datetime | None) -> str:
    """How pages and the PDF report show a time: ``04-12-2026 19:40`` in Chile."""
    shown = local(value)
    return shown.strftime("%d-%m-%Y %H:%M") if shown is not None else ""


def week_start(at: datetime | None = None) -> datetime:
    """Monday 00:00 on a Chilean clock of the week holding ``at`` (default: now), as UTC: what
    "this week" means to reviewers, whatever the offset that week."""
    day = local(at or now()).date()
    monday = day - timedelta(days=day.weekday())
    return datetime(monday.year, monday.month, monday.day, tzinfo=CHILE).astimezone(UTC)
