"""The connection pool: a pooled PostgreSQL connection is pinged before use only once it has
been idle (``service.db.PING_AFTER_IDLE_SECONDS``), and one the server dropped meanwhile is
replaced before any statement sees it."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import PG_ADMIN_URL


@pytest.fixture
def engine(postgres_url):
    from service.db import engine_for

    engine = engine_for(postgres_url + "?application_name=evidencia-ping-test")  # its own pool
    yield engine
    engine.dispose()


def _backend(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar_one()


def test_a_connection_back_from_recent_use_is_not_pinged(engine, monkeypatch):
    from service import db

    pings = []
    monkeypatch.setattr(engine.dialect, "do_ping", lambda dbapi_conn: pings.append(1) or True)
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 3600.0)
    first = _backend(engine)
    assert _backend(engine) == first  # the same pooled connection, used as it was
    assert pings == []
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)
    assert _backend(engine) == first
    assert pings == [1]


def test_a_dropped_idle_connection_is_replaced_before_use(engine, monkeypatch):
    from service import db

    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)  # every returned one counts as idle
    dropped = _backend(engine)
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:  # as a server restart or an idle timeout would
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": dropped}).scalar()
    admin.dispose()
    assert _backend(engine) != dropped  # no error reached the statement


def test_fetch_one_reads_in_autocommit_and_hands_the_connection_back_as_it_was(service_env):
    """``fetch_one`` (the cached answers' one statement) runs on the driver in autocommit; the
    pooled connection goes back transactional (a session's rolled-back change stays undone),
    and a driver error is raised as SQLAlchemy's, the pool still usable after it."""
    from sqlalchemy import bindparam, exc, select
    from sqlalchemy.sql import column, table

    from service.db import SessionLocal, get_engine
    from service.domain.submissions import create_submission, read_stamp

    with SessionLocal() as session:
        submission, _token = create_submission(session, "Fundación Puentes del Sur", None)
    version = read_stamp(submission.id).version
    assert get_engine().pool.checkedin() == 1  # the one connection, used by both
    with SessionLocal() as session:
        session.execute(text("UPDATE submissions SET version = version + 1"))
        session.rollback()
    assert read_stamp(submission.id).version == version

    from service.db import fetch_one

    missing = select(column("x")).select_from(table("no_such_table")).where(
        column("x") == bindparam("x"))
    with pytest.raises(exc.DBAPIError):
        fetch_one(missing, {"x": 1})
    assert read_stamp(submission.id).version == version
