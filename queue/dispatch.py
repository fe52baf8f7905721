"""The service's dispatcher over rq: documents and reclassify chunks become rq jobs.

``RqDispatcher`` is what ``service.domain.dispatch`` reaches when it queues work or asks what
runs (``EVIDENCIA_DISPATCHER`` names it). A document's job id is derived from its id and
enqueued as unique, so queueing twice (an upload and a concurrent requeue) queues it once. Jobs
carry ids only; the worker reads everything else from the database and the file store. A
document's job and a reclassify job are stamped with the code that enqueued them
(``evidencia_queue.stamps``): a worker running older code leaves them for one that runs it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from functools import lru_cache

from evidencia_queue import stamps
from evidencia_queue.defaults import (
    BATCH,
    FAILURE_TTL,
    INTERACTIVE,
    JOB_ID_PREFIX,
    MAIL_JOB_ID_PREFIX,
    MAIL_RETRY_INTERVALS,
    QUEUES,
    RESULT_TTL,
    RETRY_INTERVALS,
    RUNNING_KEY_PREFIX,
)
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry, Worker
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry, StartedJobRegistry
from rq.results import Result

from service.domain.dispatch import QueueStats, Ticket
from service.domain.errors import UnavailableError
from service.settings import get_settings

__all__ = [
    "RqDispatcher",
    "redis_connection",
    "get_queue",
    "job_id_for",
    "running_key",
    "document_id_of",
    "queue_depths",
]

log = logging.getLogger(__name__)

#: rq job states that will run without anyone's help.
_WAITING = {JobStatus.QUEUED, JobStatus.DEFERRED}
_ENDED = {JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED}


@lru_cache(maxsize=8)
def _connection_for(url: str) -> Redis:
    return Redis.from_url(url, health_check_interval=30, socket_connect_timeout=5)


def redis_connection(url: str | None = None) -> Redis:
    """The Redis the settings name (read at call time: a test may point elsewhere)."""
    return _connection_for(url or get_settings().redis_url)


def get_queue(name: str = INTERACTIVE, connection: Redis | None = None) -> Queue:
    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}; use one of {QUEUES}")
    return Queue(name, connection=connection or redis_connection())


def job_id_for(document_id: str) -> str:
    return f"{JOB_ID_PREFIX}{document_id}"


def queue_depths(connection: Redis | None = None) -> dict[str, int]:
    connection = connection or redis_connection()
    return {name: Queue(name, connection=connection).count for name in QUEUES}


class RqDispatcher:
    """``service.domain.dispatch.Dispatcher`` over rq and Redis."""

    def job_id(self, document_id: str) -> str:
        return job_id_for(document_id)

    def enqueue_document(self, document_id: str, lane: str = INTERACTIVE) -> str:
        settings = get_settings()
        connection = redis_connection()
        queue = get_queue(str(lane), connection)
        job_id = job_id_for(document_id)
        retry = (
            Retry(max=settings.job_retries, interval=list(RETRY_INTERVALS))
            if settings.job_retries
            else None
        )
        stamp = stamps.own()
        stamps.announce(connection, stamp)
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
                    meta={stamps.STAMP_META: stamp},
                )
                return job_id
            except DuplicateJobError:
                if self.is_live(document_id):
                    return job_id
                _delete_job(job_id, connection)  # finished, failed or orphaned: replace it
        raise UnavailableError(detail=f"could not enqueue {job_id}")

    def enqueue_email(self, outbox_id: int) -> str:
        """Queue the e-mail's job (interactive lane: a person waits for it); a job already
        waiting or scheduled for a retry is left alone, an ended one replaced."""
        settings = get_settings()
        connection = redis_connection()
        job_id = f"{MAIL_JOB_ID_PREFIX}{outbox_id}"
        retries = settings.mail_retries
        intervals = [MAIL_RETRY_INTERVALS[min(i, len(MAIL_RETRY_INTERVALS) - 1)]
                     for i in range(retries)]
        for _ in range(2):
            try:
                get_queue(INTERACTIVE, connection).enqueue_call(
                    "evidencia_queue.jobs.send_email",
                    args=(outbox_id,),
                    job_id=job_id,
                    unique=True,
                    timeout=max(int(settings.smtp_timeout * 4), 60),
                    result_ttl=RESULT_TTL,
                    failure_ttl=FAILURE_TTL,
                    retry=Retry(max=retries, interval=intervals) if retries else None,
                    description=f"send e-mail {outbox_id}",
                )
                return job_id
            except DuplicateJobError:
                status = Job.fetch(job_id, connection=connection).get_status(refresh=True)
                if status not in _ENDED:
                    return job_id
                _delete_job(job_id, connection)
        raise UnavailableError(detail=f"could not enqueue {job_id}")

    def is_live(self, document_id: str) -> bool:
        """Redis holds work that will finish the document: a worker's running mark (kept
        alive by its heartbeat, see ``evidencia_queue.worker``), or a job waiting in a queue,
        or waiting for a retry while a scheduler holds that queue's lock. A job rq calls
        "started" without a running mark belongs to a dead worker."""
        from rq.scheduler import RQScheduler

        connection = redis_connection()
        pipe = connection.pipeline(transaction=False)
        pipe.exists(running_key(document_id))
        pipe.hmget(Job.key_for(job_id_for(document_id)), "status", "origin")
        running, (status, origin) = pipe.execute()
        status = status.decode() if status else None
        if running or status in _WAITING:
            return True
        return status == JobStatus.SCHEDULED and origin is not None and bool(
            connection.exists(RQScheduler.get_locking_key(origin.decode())))

    def enqueue_reclassify(self, document_ids: Sequence[str], description: str) -> Ticket:
        connection = redis_connection()
        stamp = stamps.own()
        stamps.announce(connection, stamp)
        job = get_queue(BATCH, connection).enqueue_call(
            "evidencia_queue.jobs.reclassify_documents",
            args=(list(document_ids),),
            timeout=get_settings().job_timeout,
            result_ttl=RESULT_TTL,
            failure_ttl=FAILURE_TTL,
            description=description,
            meta={stamps.STAMP_META: stamp},
        )
        return Ticket(job.id, len(document_ids))

    def left_for_newer(self, tickets: Sequence[Ticket]) -> frozenset[tuple[str, str]]:
        """The code (classifier version, extractor version) of the workers that left these
        jobs, still waiting, for a worker that runs the code that stamped them."""
        connection = redis_connection()
        pipe = connection.pipeline(transaction=False)
        for ticket in tickets:
            pipe.hmget(Job.key_for(ticket.id), "status", "meta")
        mark = stamps.LEFT_META.encode()
        waiting = [t for t, (status, meta) in zip(tickets, pipe.execute(), strict=True)
                   if status is not None and status.decode() in _WAITING
                   and meta is not None and mark in meta]  # read whole only when marked
        left = set()
        for ticket in waiting:
            try:
                meta = Job.fetch(ticket.id, connection=connection).meta or {}
            except NoSuchJobError:
                continue
            if meta.get(stamps.LEFT_META):
                left.add(stamps.versions(meta[stamps.LEFT_META]))
        return frozenset(left)

    def finished(self, tickets: Sequence[Ticket]) -> dict[str, dict | None]:
        connection = redis_connection()
        out: dict[str, dict | None] = {}
        for ticket in tickets:
            try:
                job = Job.fetch(ticket.id, connection=connection)
                status = job.get_status(refresh=True)
            except NoSuchJobError:
                out[ticket.id] = None  # expired or flushed: its documents are not counted
                continue
            if status in _ENDED or status is None:
                value = job.return_value() if status == JobStatus.FINISHED else None
                out[ticket.id] = value if isinstance(value, dict) else None
        return out

    def wait(self, tickets: Sequence[Ticket], seconds: float) -> None:
        """Blocks on the jobs' result streams: rq adds a job's result (success or failure) there
        in the transaction that marks it ended. Read from each stream's start, so a result added
        since the last poll wakes it at once. A job that ends without a result (deleted,
        expired) is left to the next poll; so is Redis being unreachable, after the pause."""
        if not tickets or seconds <= 0:
            return
        streams = {Result.get_key(ticket.id): "0-0" for ticket in tickets}
        try:
            redis_connection().xread(streams, count=1, block=max(1, round(seconds * 1000)))
        except RedisError:
            time.sleep(seconds)

    def workers_alive(self) -> bool:
        try:
            return bool(Worker.all(connection=redis_connection()))
        except Exception:  # Redis down: a "no workers" warning would mislead, stay quiet
            return True

    def reclassify_workers(self) -> int:
        try:
            connection = redis_connection()
            return Worker.count(connection=connection, queue=get_queue(BATCH, connection))
        except RedisError:
            return 0

    def ping(self) -> None:
        redis_connection().ping()

    def stats(self) -> tuple[list[QueueStats], int]:
        connection = redis_connection()
        queues = []
        for name in QUEUES:
            queue = Queue(name, connection=connection)
            queues.append(QueueStats(name, queue.count, StartedJobRegistry(queue=queue).count,
                                     FailedJobRegistry(queue=queue).count))
        return queues, len(Worker.all(connection=connection))

    def work(self, lanes: Sequence[str], *, burst: bool, options) -> bool:
        from evidencia_queue.worker import run_worker

        return run_worker(list(lanes), burst=burst, options=options)


def _delete_job(job_id: str, connection: Redis) -> None:
    """Remove a finished, failed or orphaned job so its id can be enqueued again.

    rq's ``Job.delete()`` needs every record of the job intact; after a worker was killed or
    Redis lost part of its keys it raises (an execution "not found in Redis"). Then the job's
    keys and registry entries are removed directly: nothing else must stop a requeue.
    """
    try:
        Job.fetch(job_id, connection=connection).delete()
        return
    except NoSuchJobError:
        pass
    except Exception:
        log.info("job %s: rq could not delete it; removing its keys", job_id, exc_info=True)
    _purge_job(job_id, connection)


def _purge_job(job_id: str, connection: Redis) -> None:
    from rq.registry import (
        CanceledJobRegistry,
        DeferredJobRegistry,
        FailedJobRegistry,
        FinishedJobRegistry,
        ScheduledJobRegistry,
        StartedJobRegistry,
    )

    pipe = connection.pipeline(transaction=False)
    pipe.delete(Job.key_for(job_id), f"{Job.key_for(job_id)}:dependents",
                f"rq:executions:{job_id}")
    for name in QUEUES:
        pipe.lrem(f"rq:queue:{name}", 0, job_id)
        for registry in (FailedJobRegistry, FinishedJobRegistry, ScheduledJobRegistry,
                         DeferredJobRegistry, CanceledJobRegistry):
            pipe.zrem(registry(name, connection=connection).key, job_id)
    pipe.execute()
    for name in QUEUES:  # started entries are "<job id>:<execution id>"
        key = StartedJobRegistry(name, connection=connection).key
        stale = [m for m in connection.zrange(key, 0, -1)
                 if m.decode().split(":", 1)[0] == job_id]
        if stale:
            connection.zrem(key, *stale)


def running_key(document_id: str) -> str:
    return f"{RUNNING_KEY_PREFIX}{document_id}"


def document_id_of(job_id: str) -> str | None:
    """The document a job processes, or None for other jobs (reclassification…)."""
    return job_id[len(JOB_ID_PREFIX):] if job_id.startswith(JOB_ID_PREFIX) else None
