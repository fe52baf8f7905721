"""Starting a worker: requeue what Redis lost, warm the models, then serve the queues in order.

The parent process loads the spaCy model once before rq forks a work horse per job, so every
job starts warm (copy-on-write). Database connections are dropped before forking: a pooled
connection must never be shared across processes.

A worker on another machine needs only three settings, the same as the API's:

    EVIDENCIA_DATABASE_URL=postgresql+psycopg://user:pass@db-host/evidencia
    EVIDENCIA_REDIS_URL=redis://redis-host:6379/0
    EVIDENCIA_DATA_DIR=/mnt/evidencia   # the same file store, e.g. an NFS mount
    evidencia worker                    # or: docker run ... evidencia worker

The job carries only a document id: the worker reads the bytes from the shared file store by
their sha256, writes results to the database, and Redis only tells it what to do next.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import time

from evidencia_queue import jobs, stamps
from evidencia_queue.defaults import LEFT_JOBS_PAUSE, QUEUES, RECONNECT_MAX_WAIT, pace
from evidencia_queue.dispatch import document_id_of, get_queue, redis_connection, running_key
from evidencia_queue.recovery import sweep
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import SimpleWorker, Worker

from extractors.options import ExtractOptions
from service.db import get_engine
from service.domain import dispatch

__all__ = ["check_ocr", "warm_up", "run_worker", "BoundedExit", "EvidenciaWorker",
           "EvidenciaSimpleWorker"]

log = logging.getLogger(__name__)

#: Redis going away: the worker waits for it rather than exiting.
REDIS_ERRORS = (RedisConnectionError, RedisTimeoutError)


def check_ocr() -> str | None:
    """A Spanish warning when Tesseract or its Spanish data is missing, else None."""
    if shutil.which("tesseract") is None:
        return "Falta Tesseract (paquete tesseract-ocr): los documentos escaneados fallarán."
    try:
        import pytesseract

        if "spa" not in pytesseract.get_languages(config=""):
            return "Falta el idioma español de Tesseract (paquete tesseract-ocr-spa)."
    except Exception as exc:  # pragma: no cover - depends on the machine
        return f"No se pudo consultar Tesseract: {exc}"
    return None


def warm_up() -> None:
    """Import the extractors and load the classifier now, in the parent: every forked work
    horse then starts with them in memory instead of paying ~1-2 s per job."""
    try:
        import extractors  # noqa: F401
        import extractors.ocr  # noqa: F401 - Tesseract wrapper, imported lazily otherwise
        import extractors.pdf  # noqa: F401 - pdfplumber and pypdfium2
    except Exception:
        log.warning("could not import the extractors", exc_info=True)
    try:
        import classifiers
        from extractors.document import ExtractedDocument, Page
        from service.settings import get_settings

        settings = get_settings()
        classifiers.load(annotation_cache=settings.annotations_dir,
                         options=settings.classifier_options())
        sample = "El comité de inclusión aprobó el plan de capacitación del personal."
        classifiers.classify(
            ExtractedDocument(mime="text/plain", pages=(Page(1, sample),), extractor="warm-up")
        )
    except Exception:
        log.warning("could not warm the classifier; jobs will load it", exc_info=True)


def _requeue_lost() -> None:
    """Re-enqueue documents whose job Redis lost, then drop the parent's database connections
    (the next job is forked from this process)."""
    try:
        ids = dispatch.requeue_lost()
        if ids:
            log.info("requeued %d documents whose job was lost", len(ids))
    except Exception:
        log.warning("requeue failed", exc_info=True)
    finally:
        get_engine().dispose()


class BoundedExit:
    """An rq worker that exits at once after its last job (mixed into rq's worker classes)."""

    def unsubscribe(self):
        """rq waits without a bound for its pubsub thread to end, and that thread (redis-py 8)
        may sit in a 60 s read when told to: a worker then took up to a minute to exit after
        its last job. The wait is bounded here; the thread, a daemon, closes its own
        connection when its read ends."""
        thread = getattr(self, "pubsub_thread", None)
        if thread is not None:
            self.pubsub.unsubscribe()
            _stop_listening(thread)


class _Recovering(BoundedExit):
    """What makes a worker recover on its own (mixed into rq's worker classes).

    - Each document job is marked running in Redis while its work horse lives (the parent
      refreshes the mark with every heartbeat), so the sweep tells live jobs from orphans even
      after Redis lost rq's own records.
    - Every heartbeat may run the orphan sweep (one worker per ``sweep_interval``), and
      registers the worker again if Redis lost its record (a FLUSHALL).
    - Work horses of an earlier run of this process (Redis went away mid-job) are "adopted":
      their marks are kept alive until they exit, so their document is not started twice.
    - A Redis failure while tearing down does not hide the reason the worker stopped.
    - A job (a document's, a reclassify chunk) stamped by newer code than the worker's is left
      for a worker that runs it (a rolling upgrade; ``evidencia_queue.stamps``): an old worker
      never stores stale results.
    """

    adopted: dict[int, str]
    stopping = False

    def _recovery_setup(self, adopted: dict[int, str] | None = None) -> None:
        self.adopted = adopted if adopted is not None else {}
        self._next_sweep = 0.0
        self.pace = pace()
        self._left: set[str] = set()  # jobs left for newer code (``_may_run``)

    def request_stop(self, signum, frame):
        self.stopping = True
        super().request_stop(signum, frame)

    def request_force_stop(self, signum, frame):
        """A second SIGTERM/SIGINT (cold shutdown): rq kills the work horse and exits; the
        document it ran goes back to the queue now instead of waiting for a sweep. The first
        signal (rq's warm shutdown) lets the job finish."""
        execution = next(iter(getattr(self, "executions", {}).values()), None)
        document_id = document_id_of(execution.job_id) if execution is not None else None
        try:
            super().request_force_stop(signum, frame)
        except SystemExit:
            if document_id is not None and getattr(self, "_horse_pid", 0):
                self._hand_back(document_id)
            raise

    def _hand_back(self, document_id: str) -> None:
        try:
            self.connection.delete(running_key(document_id))  # its work horse is dead
            dispatch.hand_back(document_id)
        except Exception:
            log.warning("could not hand document %s back; the sweep will requeue it",
                        document_id, exc_info=True)

    def work(self, *args, burst: bool = False, **kwargs):
        self._burst = burst
        return super().work(*args, burst=burst, **kwargs)

    def _may_run(self, job, queue) -> bool:
        """A job stamped by newer code than this worker's is left for a worker that runs it:
        handed back to the end of its queue, nothing stored, marked with this worker's stamp
        (``evidencia_queue.stamps``: who waits for it can tell why).
        Found again (the worker went round every such job), a burst worker stops; another
        waits a moment before it takes the next job."""
        stamp = (job.meta or {}).get(stamps.STAMP_META)
        if stamp is None:
            return True
        mine = stamps.own()
        verdict = stamps.judge(self.connection, stamp, mine)
        if verdict is stamps.Verdict.older:
            log.info("worker %s: job %s was stamped by older code (%s); it runs with this "
                     "worker's (%s), whose results supersede it", self.name, job.id, stamp, mine)
        if verdict.runs:
            return True
        if job.meta.get(stamps.LEFT_META) != mine:
            job.meta[stamps.LEFT_META] = mine
            job.save_meta()
        with self.connection.pipeline() as pipe:
            pipe.lrem(queue.intermediate_queue_key, 1, job.id)
            queue.push_job_id(job.id, pipeline=pipe)
            pipe.execute()
        again = job.id in self._left
        if len(self._left) > 10_000:
            self._left.clear()
        self._left.add(job.id)
        (log.debug if again else log.warning)(
            "worker %s runs older code (%s) than job %s was stamped with (%s): left in queue "
            "%s for a worker that runs it; nothing stored", self.name, mine, job.id, stamp,
            queue.name)
        if again and getattr(self, "_burst", False):
            log.info("worker %s: only jobs for newer code are left; stopping (burst)", self.name)
            self._stop_requested = True
        elif again:
            time.sleep(LEFT_JOBS_PAUSE)
        return False

    def execute_job(self, job, queue):
        if not self._may_run(job, queue):
            return
        document_id = document_id_of(job.id)
        if document_id is not None:
            self.connection.set(running_key(document_id), self.name, ex=self.pace.running_ttl)
        try:
            super().execute_job(job, queue)
        finally:
            if document_id is not None:
                try:
                    self.connection.delete(running_key(document_id))
                except REDIS_ERRORS:
                    pass  # the mark expires on its own

    def maintain_heartbeats(self, job, execution):
        super().maintain_heartbeats(job, execution)
        document_id = document_id_of(job.id)
        if document_id is not None:
            self.connection.set(running_key(document_id), self.name, ex=self.pace.running_ttl)
        self._tend()

    def heartbeat(self, timeout=None, pipeline=None):
        super().heartbeat(timeout, pipeline)
        if pipeline is None:  # not the pipelined beat inside maintain_heartbeats
            self._tend()

    def _tend(self) -> None:
        self._stay_registered()
        for pid, document_id in list(self.adopted.items()):
            if _exited(pid):
                del self.adopted[pid]
            else:
                self.connection.set(running_key(document_id), self.name, ex=self.pace.running_ttl)
        if time.monotonic() < self._next_sweep:
            return
        self._next_sweep = time.monotonic() + self.pace.sweep_interval
        try:
            sweep(self.connection, holder=self.name)
        except REDIS_ERRORS:
            raise
        except Exception:  # the database is down: the next sweep tries again
            log.warning("orphan sweep failed", exc_info=True)

    def _stay_registered(self) -> None:
        """After a FLUSHALL the worker lives on unregistered: nobody would count it alive
        (``/metrics``, the command line's "no worker" warning). Register it again."""
        from rq.worker_registration import REDIS_WORKER_KEYS

        if not self.connection.sismember(REDIS_WORKER_KEYS, self.key):
            log.warning("worker %s: its registration was lost; registering again", self.name)
            self.connection.delete(self.key)  # the heartbeat may have left a partial record
            self.register_birth()

    def teardown(self):
        try:
            super().teardown()
        except REDIS_ERRORS:
            log.warning("worker %s: Redis unreachable while stopping", self.name)
            _stop_listening(getattr(self, "pubsub_thread", None))



def _stop_listening(thread, wait: float = 1.0) -> None:
    """Stop a redis-py pubsub thread, waiting at most ``wait`` seconds for it."""
    if thread is None:
        return
    try:
        thread.stop(timeout=wait)
    except TypeError:  # redis-py before 8: stop() takes no timeout and does not wait
        thread.stop()


def _exited(pid: int) -> bool:
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return done != 0


class EvidenciaWorker(_Recovering, Worker):
    """rq's forking worker: one work horse per job, isolated from the others."""


class EvidenciaSimpleWorker(_Recovering, SimpleWorker):
    """Runs jobs in the worker process itself (tests, debugging). Its running marks are not
    refreshed during a job: a job longer than ``running_ttl`` may be swept by another worker."""


def run_worker(
    queues: list[str] | tuple[str, ...] = QUEUES,
    *,
    burst: bool = False,
    connection: Redis | None = None,
    simple: bool = False,
    with_scheduler: bool = True,
    do_requeue: bool = True,
    options: ExtractOptions | None = None,
) -> bool:
    """Run an rq worker on ``queues`` (interactive first). ``simple`` runs jobs in-process.

    ``options`` are the extraction options every job of this worker uses (the deployment's
    settings; ``evidencia worker --ocr-threads`` lowers the OCR processes per job).
    """
    if options is not None:
        jobs.use_options(options)
    connection = connection or redis_connection()
    ordered = [q for q in QUEUES if q in queues] + [q for q in queues if q not in QUEUES]
    if do_requeue:
        _requeue_lost()
    warning = check_ocr()
    if warning:
        log.warning(warning)
    warm_up()
    get_engine().dispose()  # no pooled connection crosses the fork into a work horse
    worker_class = EvidenciaSimpleWorker if simple else EvidenciaWorker
    return _serve(worker_class, [get_queue(q, connection) for q in ordered], connection,
                  burst=burst, with_scheduler=with_scheduler)


def _serve(worker_class, queues, connection: Redis, *, burst: bool, with_scheduler: bool) -> bool:
    """Run workers until asked to stop: when Redis goes away (even mid-job) a fresh worker
    starts once it is back, instead of the process exiting for good."""
    adopted: dict[int, str] = {}
    wait = 1.0
    while True:
        timings = pace()
        worker = worker_class(queues, connection=connection, worker_ttl=timings.worker_ttl,
                              job_monitoring_interval=timings.heartbeat)
        worker.max_connection_wait_time = RECONNECT_MAX_WAIT
        worker._recovery_setup(adopted)
        try:
            worked = worker.work(burst=burst, with_scheduler=with_scheduler)
        except REDIS_ERRORS as exc:
            log.warning("worker %s: lost Redis (%s)", worker.name, exc)
            worked = False
        if burst or worker.stopping:
            return worked
        _adopt(worker, adopted)
        if not _wait_for_redis(connection, wait):
            return worked
        wait = min(wait * 2, RECONNECT_MAX_WAIT)


def _adopt(worker, adopted: dict[int, str]) -> None:
    """A work horse still running after its worker stopped keeps its document's mark alive."""
    pid = getattr(worker, "_horse_pid", 0)
    execution = next(iter(getattr(worker, "executions", {}).values()), None)
    document_id = document_id_of(execution.job_id) if execution is not None else None
    if pid and document_id and not _exited(pid):
        adopted[pid] = document_id
        log.info("work horse %d keeps running document %s", pid, document_id)


def _wait_for_redis(connection: Redis, first_wait: float) -> bool:
    """Block until Redis answers; False if SIGTERM/SIGINT arrives meanwhile."""
    stop = []
    previous = {sig: signal.signal(sig, lambda *_: stop.append(True))
                for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        wait = first_wait
        while not stop:
            time.sleep(wait)
            try:
                connection.ping()
                log.info("Redis is back; starting a worker again")
                return not stop
            except REDIS_ERRORS:
                wait = min(wait * 2, RECONNECT_MAX_WAIT)
        return False
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
