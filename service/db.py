"""Engine and sessions, built once per process from the settings."""

from __future__ import annotations

import os
import time
import weakref
from functools import lru_cache
from typing import Any

from sqlalchemy import Dialect, Engine, Executable, create_engine, event, exc
from sqlalchemy.orm import Session, sessionmaker

from service.settings import get_settings

__all__ = ["engine_for", "get_engine", "SessionLocal", "PING_AFTER_IDLE_SECONDS", "fetch_one"]

#: A pooled connection idle longer than this is pinged before it is handed out (the server
#: may have restarted or dropped it meanwhile); one back in the pool for less is used as it
#: is. Pinging every checkout (``pool_pre_ping``) was one round trip in two on the API's
#: cached reads; a server gone within the last second fails that one statement, answered 503,
#: and the pool starts afresh.
PING_AFTER_IDLE_SECONDS = 1.0

_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()


def _forget_inherited_connections() -> None:
    """In a forked child (an rq work horse), never reuse the parent's pooled connections: the
    parent keeps using them (its sweep), and two processes on one socket corrupt both."""
    for engine in list(_ENGINES):
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_inherited_connections)


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    settings = get_settings()
    pool = {  # sized with the API's gate and threads (service.settings owns all three)
        "pool_size": settings.db_pool_size,
        "max_overflow": settings.db_pool_overflow,
        "pool_timeout": settings.db_pool_timeout,
    }
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **pool
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # WAL lets the API read while a worker writes
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()
            # the search's name matching (PostgreSQL has it from the migrations)
            dbapi_conn.create_function("evidencia_fold", 1, _fold, deterministic=True)

        _ENGINES.add(engine)
        return engine
    engine = create_engine(url, **pool)
    _ping_when_idle(engine)
    _ENGINES.add(engine)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    """``pool_pre_ping`` for connections idle over :data:`PING_AFTER_IDLE_SECONDS` only."""

    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_conn, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_conn, record, _proxy) -> None:
        since = record.info.get("idle_since")  # none yet: a fresh connection
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as error:
            # as pre_ping does: every pooled connection is suspect; the pool retries anew
            raise exc.InvalidatePoolError(str(error)) from error


def _fold(value: str | None) -> str | None:
    from service.domain.text import fold

    return None if value is None else fold(value)


def get_engine() -> Engine:
    return engine_for(get_settings().sqlalchemy_url)


@lru_cache(maxsize=8)
def _sessionmaker_for(engine: Engine) -> sessionmaker:
    return sessionmaker(bind=engine, expire_on_commit=False)


def SessionLocal() -> Session:  # noqa: N802 - reads like the class it builds
    return _sessionmaker_for(get_engine())()


def fetch_one(statement: Executable, parameters: dict[str, Any]) -> tuple | None:
    """The first row of a lone ``SELECT``, on a pooled connection in autocommit (one round
    trip: no BEGIN, no ROLLBACK), through the driver: SQLAlchemy's ``Connection``, execution
    context and result cost as much CPU as the statement itself (0.3 of 0.6 ms, the cached
    status and matrix answers' one statement). The pool is the same (its idle ping included),
    and so are the errors: a driver error is raised as SQLAlchemy's (``OperationalError``:
    503) and a connection found dead is invalidated."""
    engine = get_engine()
    dialect = engine.dialect
    sql, names = _compiled(statement, dialect)
    params = tuple(parameters[name] for name in names) if names is not None else parameters
    try:
        raw = engine.raw_connection()
    except dialect.loaded_dbapi.Error as error:
        raise _wrapped(error, sql, params, dialect) from error
    cursor = None
    try:
        dialect.set_isolation_level(raw.dbapi_connection, "AUTOCOMMIT")
        try:
            cursor = raw.cursor()
            cursor.execute(sql, params)
            return cursor.fetchone()
        finally:
            dialect.reset_isolation_level(raw.dbapi_connection)
    except dialect.loaded_dbapi.Error as error:
        if dialect.is_disconnect(error, raw.dbapi_connection, cursor):
            raw.invalidate(error)
        raise _wrapped(error, sql, params, dialect) from error
    finally:
        if cursor is not None:
            cursor.close()
        raw.close()


@lru_cache(maxsize=32)
def _compiled(statement: Executable, dialect: Dialect) -> tuple[str, tuple[str, ...] | None]:
    """The statement's SQL for the dialect, and its parameters' order if they are positional."""
    compiled = statement.compile(dialect=dialect)
    return str(compiled), tuple(compiled.positiontup) if compiled.positional else None


def _wrapped(error: Exception, sql: str, params, dialect: Dialect) -> exc.DBAPIError:
    return exc.DBAPIError.instance(sql, params, error, dialect.loaded_dbapi.Error,
                                   dialect=dialect)
