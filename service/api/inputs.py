"""Input no request may carry into the database, refused with a Spanish 422 before any route
runs (an app-wide dependency, beside the CSRF check).

PostgreSQL's text columns refuse NUL bytes, and its integer columns (and SQLite's) numbers past
their width: left alone, a stray ``%00`` in an id or a comment became a 500. Here a NUL byte
in the path or a form field, and an integer beyond 64 bits in the query, are
``unstorable_input`` (422). JSON bodies are cleaned by their schemas instead
(``service.api.schemas.RequestBody``), numbers in them bounded field by field, and text query
parameters by the routes that read them (a search drops the NUL); uploaded files' names fail
that file alone (``service.domain.submissions``); and the error boundary answers
422 for anything that still reaches the database as invalid data.
"""

from __future__ import annotations

import re

from fastapi import Request

from service.domain.errors import ValidationError
from service.domain.messages import error_message

__all__ = ["refuse_unstorable_input"]

_INTEGER = re.compile(r"[+-]?\d{19,}")
_LIMIT = 2**63


async def refuse_unstorable_input(request: Request) -> None:
    if "\x00" in request.url.path or any(
        _too_big(value) for value in request.query_params.values()):
        raise _refused()
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.form()  # Starlette keeps it: the route reads the same form
        if any(isinstance(v, str) and "\x00" in v for v in form.values()):
            raise _refused()


def _too_big(value: str) -> bool:
    return bool(_INTEGER.fullmatch(value.strip())) and abs(int(value)) >= _LIMIT


def _refused() -> ValidationError:
    return ValidationError(error_message("unstorable_input"), code="validation")
