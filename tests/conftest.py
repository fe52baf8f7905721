"""Shared fixtures: the real Redis and PostgreSQL this machine runs.

Redis tests use one dedicated database number (``EVIDENCIA_TEST_REDIS_DB``, default 15), flushed
before and after each test, as rq's own suite does. PostgreSQL tests get a fresh database created
for the test session and dropped afterwards, so parallel runs never see each other's rows.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("EVIDENCIA_SHARED_DIR", REPO.parent / "shared"))
PEERS = SHARED / "corpus" / "peers"
SAMPLES = REPO / "samples"

REDIS_HOST_URL = os.environ.get("EVIDENCIA_TEST_REDIS", "redis://127.0.0.1:6379")
REDIS_TEST_DB = int(os.environ.get("EVIDENCIA_TEST_REDIS_DB", "15"))
PG_ADMIN_URL = os.environ.get(
    "EVIDENCIA_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture
def redis_url() -> str:
    """URL of a flushed Redis database reserved for tests."""
    import redis

    url = f"{REDIS_HOST_URL}/{REDIS_TEST_DB}"
    conn = redis.Redis.from_url(url)
    conn.flushdb()
    yield url
    conn.flushdb()
    conn.close()


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """URL of a PostgreSQL database created for this test session."""
    from sqlalchemy import create_engine, text

    name = f"evidencia_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    from service.db import engine_for

    engine_for(url).dispose()
    engine_for.cache_clear()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    """Each test using it runs twice: on a SQLite file and on the real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'evidencia.db'}"
    return request.getfixturevalue("postgres_url")
