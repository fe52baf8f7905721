"""Recovery without an operator: the sweep every worker runs, and dead workers forgotten.

Every ``sweep_interval`` seconds (``evidencia_queue.defaults.Pace``) one worker (a Redis lock)
looks for documents the database says are pending but Redis holds no work for (a worker killed
mid-job, Redis flushed or restarted, an upload whose enqueue failed) and queues them again through
:func:`service.domain.dispatch.requeue_lost`. An orphan is acted on only when a second sweep, at
least ``orphan_confirm`` seconds later, still finds it (the sightings live in Redis, so any
worker can make the second one): a running mark lost in a flush comes back with the next
heartbeat, long before that. Workers whose heartbeat stopped are removed from rq's registry.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from evidencia_queue.defaults import QUEUES, SUSPECTS_KEY, SWEEP_LOCK_KEY, pace
from redis import Redis

from service.domain.dispatch import requeue_lost

__all__ = ["sweep", "confirm_orphans", "forget_dead_workers"]

log = logging.getLogger(__name__)


def sweep(connection: Redis, *, holder: str = "") -> list[str] | None:
    """One sweep, if no other worker swept in the last ``sweep_interval`` seconds (else None).

    Cheap: one query for the pending documents' ids, one Redis round trip per 500 of them.
    Returns the documents requeued.
    """
    if not connection.set(SWEEP_LOCK_KEY, holder or "1", nx=True, ex=pace().sweep_interval):
        return None
    forget_dead_workers(connection)
    seen: set[str] = set()

    def confirm(orphans: list[str]) -> list[str]:
        seen.update(orphans)
        return confirm_orphans(connection, orphans)

    requeued = requeue_lost(confirm=confirm)
    _forget_suspects(connection, keep=seen - set(requeued))
    _requeue_mail()
    return requeued


def _requeue_mail() -> None:
    """E-mails still pending long after they were written (their job was never queued, or
    lost with Redis): queue them again (idempotent: a waiting or scheduled job is kept)."""
    from service.db import SessionLocal
    from service.domain import mail

    try:
        with SessionLocal() as session:
            ids = mail.unsent(session)
        for outbox_id in ids:
            mail.dispatch(outbox_id)
    except Exception:
        log.warning("could not sweep the e-mail outbox", exc_info=True)


def confirm_orphans(connection: Redis, orphans: list[str], now: float | None = None) -> list[str]:
    """The orphans first seen at least ``orphan_confirm`` seconds ago; records the new ones."""
    now = time.time() if now is None else now
    if not orphans:
        return []
    first_seen = connection.hmget(SUSPECTS_KEY, orphans)
    confirm_after = pace().orphan_confirm
    confirmed, new = [], {}
    for document_id, seen in zip(orphans, first_seen, strict=True):
        if seen is None:
            new[document_id] = now
        elif now - float(seen) >= confirm_after:
            confirmed.append(document_id)
    if new:
        connection.hset(SUSPECTS_KEY, mapping=new)
    return confirmed


def _forget_suspects(connection: Redis, keep: set[str]) -> None:
    """Drop sightings of documents no longer orphaned (finished, requeued, alive again)."""
    gone = [k for k in connection.hkeys(SUSPECTS_KEY) if k.decode() not in keep]
    if gone:
        connection.hdel(SUSPECTS_KEY, *gone)


def forget_dead_workers(connection: Redis) -> list[str]:
    """Unregister workers whose heartbeat is older than ``dead_worker`` seconds (or whose
    record expired), so nothing takes a killed worker for a live one. Returns their keys."""
    from rq.worker_registration import REDIS_WORKER_KEYS, WORKERS_BY_QUEUE_KEY

    keys = [k.decode() for k in connection.smembers(REDIS_WORKER_KEYS)]
    if not keys:
        return []
    pipe = connection.pipeline(transaction=False)
    for key in keys:
        pipe.hget(key, "last_heartbeat")
    beats = pipe.execute()
    now, silent = datetime.now(UTC), pace().dead_worker
    dead = [key for key, beat in zip(keys, beats, strict=True)
            if beat is None or (now - _parse(beat)).total_seconds() > silent]
    if dead:
        pipe = connection.pipeline(transaction=False)
        pipe.srem(REDIS_WORKER_KEYS, *dead)
        for name in QUEUES:
            pipe.srem(WORKERS_BY_QUEUE_KEY % name, *dead)
        pipe.delete(*dead)
        pipe.execute()
        log.warning("forgot %d dead workers: %s", len(dead), ", ".join(dead))
    return dead


def _parse(value: bytes) -> datetime:
    from rq.utils import utcparse

    parsed = utcparse(value.decode())
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
