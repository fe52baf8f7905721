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
import shutil

from evidencia_queue import jobs
from evidencia_queue.defaults import QUEUES
from evidencia_queue.dispatch import get_queue, redis_connection
from redis import Redis
from rq import SimpleWorker, Worker

from extractors.options import ExtractOptions
from service.db import get_engine
from service.domain import dispatch

__all__ = ["check_ocr", "warm_up", "run_worker", "EvidenciaWorker", "EvidenciaSimpleWorker"]

log = logging.getLogger(__name__)


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

        classifiers.load(annotation_cache=get_settings().annotations_dir)
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


class _RequeueOnMaintenance:
    """Every maintenance round (rq: every 10 minutes) also requeues documents whose work horse
    died (killed for memory, machine rebooted) so they never stay "processing" for ever."""

    def run_maintenance_tasks(self):
        first = self.last_cleaned_at is None  # start-up already requeued
        super().run_maintenance_tasks()
        if not first:
            _requeue_lost()


class EvidenciaWorker(_RequeueOnMaintenance, Worker):
    """rq's forking worker: one work horse per job, isolated from the others."""


class EvidenciaSimpleWorker(_RequeueOnMaintenance, SimpleWorker):
    """Runs jobs in the worker process itself (tests, debugging)."""


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
    worker = worker_class([get_queue(q, connection) for q in ordered], connection=connection)
    return worker.work(burst=burst, with_scheduler=with_scheduler)
