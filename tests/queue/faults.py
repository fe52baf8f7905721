"""Faults that plug in where the real components do: a parser in the extractors' registry, a
listener on the real database engine. Nothing of the pipeline is patched."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from extractors.errors import OCRUnavailableError

#: paths each parser double was called with, in order (reset by the ``registered`` fixture)
calls: list[str] = []


def counting_pdf(path, **kwargs):
    """The real PDF parser, counting its calls."""
    from extractors.pdf import parse_pdf

    calls.append(str(path))
    return parse_pdf(path, **kwargs)


def ocr_missing(path, **kwargs):
    """Tesseract is not installed on this worker (a set-up fault, not the file's)."""
    calls.append(str(path))
    raise OCRUnavailableError(detail="test: tesseract not on PATH")


@contextmanager
def database_drops(statement_prefix: str, times: int | None = 1, *, with_value=None):
    """The real engine loses its connection when it runs a statement starting with
    ``statement_prefix`` (and, if given, carrying ``with_value`` among its parameters),
    ``times`` times (None: until the block ends)."""
    from service.db import get_engine

    engine = get_engine()
    failures: list[str] = []

    def carries(parameters) -> bool:
        values = parameters.values() if isinstance(parameters, dict) else parameters or ()
        return with_value is None or with_value in tuple(values)

    def drop(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(statement_prefix.upper()) and (
            times is None or len(failures) < times
        ) and carries(parameters):
            failures.append(statement)
            raise OperationalError(statement, parameters, Exception("server closed the connection"))

    event.listen(engine, "before_cursor_execute", drop)
    try:
        yield failures
    finally:
        event.remove(engine, "before_cursor_execute", drop)


@contextmanager
def database_outage(starts_with: str, *, with_value=None, lasts: int = 2):
    """The database goes away at the first statement starting with ``starts_with`` (carrying
    ``with_value``, if given) and fails that one and the next ``lasts - 1``; then it is back."""
    from service.db import get_engine

    engine = get_engine()
    failures: list[str] = []

    def carries(parameters) -> bool:
        values = parameters.values() if isinstance(parameters, dict) else parameters or ()
        return with_value is None or with_value in tuple(values)

    def drop(conn, cursor, statement, parameters, context, executemany):
        if len(failures) >= lasts:
            return
        if failures or (statement.lstrip().upper().startswith(starts_with.upper())
                        and carries(parameters)):
            failures.append(statement)
            raise OperationalError(statement, parameters, Exception("server closed the connection"))

    event.listen(engine, "before_cursor_execute", drop)
    try:
        yield failures
    finally:
        event.remove(engine, "before_cursor_execute", drop)
