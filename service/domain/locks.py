"""Exclusive locks between processes and machines, released when the holder dies.

Used so that the same bytes are extracted once: two workers handed the same new file at the
same moment, one extracts while the other waits and then reuses its extraction. The lock lives
where the workers already meet:

- PostgreSQL: a session advisory lock on a connection of its own (autocommit, so nothing waits
  "idle in transaction"); a killed worker's connection closes and the lock goes with it.
- SQLite (one machine): ``flock`` on a file under ``data_dir/locks``; the kernel releases it
  when the process dies.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
from collections.abc import Iterator

from sqlalchemy import text

__all__ = ["held"]

log = logging.getLogger(__name__)


@contextlib.contextmanager
def held(name: str) -> Iterator[None]:
    """Hold the lock called ``name`` for the block, waiting for any other holder first."""
    from service.db import get_engine

    engine = get_engine()
    lock = _advisory if engine.dialect.name == "postgresql" else _file_lock
    with lock(engine, name):
        yield


@contextlib.contextmanager
def _advisory(engine, name: str) -> Iterator[None]:
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
        try:
            yield
        finally:
            try:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            except Exception:  # the connection is gone, and the lock with it
                log.debug("advisory unlock of %s failed", name, exc_info=True)
                conn.invalidate()


@contextlib.contextmanager
def _file_lock(engine, name: str) -> Iterator[None]:
    from service.settings import get_settings

    folder = get_settings().data_dir / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (hashlib.sha256(name.encode()).hexdigest()[:32] + ".lock")
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
