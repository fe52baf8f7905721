"""Putting documents on the queue; finding the ones whose job was lost.

A document's job id is derived from its id and enqueued as unique, so enqueueing twice (an upload
and a concurrent ``requeue``) queues it once. The database says what must be done; Redis only
carries the work, so :func:`requeue` can rebuild the queues after Redis was flushed or restarted.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from functools import lru_cache

from evidencia_queue.defaults import (
    BATCH,
    FAILURE_TTL,
    INTERACTIVE,
    JOB_ID_PREFIX,
    QUEUES,
    RESULT_TTL,
    RETRY_INTERVALS,
)
from redis import Redis
from rq import Queue, Retry, Worker
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus

__all__ = [
    "INTERACTIVE",
    "BATCH",
    "QUEUES",
    "redis_connection",
    "get_queue",
    "job_id_for",
    "enqueue_document",
    "job_is_live",
    "requeue",
    "queue_depths",
]

log = logging.getLogger(__name__)

_LIVE = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}


@lru_cache(maxsize=8)
def _connection_for(url: str) -> Redis:
    return Redis.from_url(url, health_check_interval=30, socket_connect_timeout=5)


def redis_connection(url: str | None = None) -> Redis:
    from service.settings import get_settings

    return _connection_for(url or get_settings().redis_url)


def get_queue(name: str = INTERACTIVE, connection: Redis | None = None) -> Queue:
    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}; use one of {QUEUES}")
    return Queue(name, connection=connection or redis_connection())


def job_id_for(document_id: str) -> str:
    return f"{JOB_ID_PREFIX}{document_id}"


def enqueue_document(
    document_id: str, queue_name: str = INTERACTIVE, *, connection: Redis | None = None
) -> str:
    """Queue the processing of one document; return its job id (no-op if already queued)."""
    from service.settings import get_settings

    settings = get_settings()
    connection = connection or redis_connection()
    queue = get_queue(queue_name, connection)
    job_id = job_id_for(document_id)
    retry = (
        Retry(max=settings.job_retries, interval=list(RETRY_INTERVALS))
        if settings.job_retries
        else None
    )
    for _ in range(2):
        try:
            queue.enqueue_call(
                "evidencia_queue.jobs.process_document",
                args=(document_id,),
                job_id=job_id,
                unique=True,
                timeout=settings.job_timeout,
                result_ttl=RESULT_TTL,
                failure_ttl=FAILURE_TTL,
                retry=retry,
                description=f"process document {document_id}",
            )
            return job_id
        except DuplicateJobError:
            if job_is_live(document_id, connection):
                return job_id
            _delete_job(job_id, connection)  # finished, failed or orphaned: replace it
    raise RuntimeError(f"could not enqueue {job_id}")


def _delete_job(job_id: str, connection: Redis) -> None:
    try:
        Job.fetch(job_id, connection=connection).delete()
    except NoSuchJobError:
        pass


def job_is_live(document_id: str, connection: Redis | None = None) -> bool:
    """True when rq still holds a job that will run (or is running, on a living worker)."""
    connection = connection or redis_connection()
    try:
        job = Job.fetch(job_id_for(document_id), connection=connection)
        status = job.get_status(refresh=True)
    except NoSuchJobError:
        return False
    if status not in _LIVE:
        return False
    if status == JobStatus.STARTED:
        workers = {w.name for w in Worker.all(connection=connection)}
        return job.worker_name in workers
    return True


def requeue(
    session=None,
    connection: Redis | None = None,
    *,
    submission_ids: Iterable[str] | None = None,
    skip: Collection[str] = (),
) -> list[str]:
    """Re-enqueue documents the database says are queued or processing but rq does not hold.

    ``submission_ids`` limits it to those submissions (a resumed batch), ``skip`` leaves out
    documents the caller has just enqueued. Returns the ids re-enqueued. Safe to run any time
    and from several workers at once.
    """
    from sqlalchemy import select

    from service.db import SessionLocal
    from service.domain.models import Document, DocumentStatus, Stage

    connection = connection or redis_connection()
    own_session = session is None
    session = session or SessionLocal()
    unfinished = select(Document).where(
        Document.status.in_([DocumentStatus.queued.value, DocumentStatus.processing.value]),
        Document.sha256.is_not(None),
    )
    if submission_ids is None:
        queries = [unfinished]
    else:  # chunks keep the IN list within every database's parameter limit
        ids = list(submission_ids)
        queries = [
            unfinished.where(Document.submission_id.in_(ids[i : i + 500]))
            for i in range(0, len(ids), 500)
        ]
    done: list[str] = []
    try:
        for query in queries:
            for document in session.scalars(query).all():
                if document.id in skip or job_is_live(document.id, connection):
                    continue
                document.status = DocumentStatus.queued.value
                document.stage = Stage.queued.value
                document.stage_detail = None
                document.job_id = job_id_for(document.id)
                session.commit()
                enqueue_document(document.id, document.queue_name or INTERACTIVE,
                                 connection=connection)
                done.append(document.id)
        if done:
            log.info("requeued %d documents", len(done))
        return done
    finally:
        if own_session:
            session.close()


def queue_depths(connection: Redis | None = None) -> dict[str, int]:
    connection = connection or redis_connection()
    return {name: Queue(name, connection=connection).count for name in QUEUES}
