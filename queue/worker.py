"""Starting a worker: requeue what Redis lost, warm the models, then serve the queues in order.

The parent process loads the spaCy model once before rq forks a work horse per job, so every
job starts warm (copy-on-write). Database connections are dropped before forking: a pooled
connection must never be shared across processes.
"""

from __future__ import annotations

import logging
import shutil

from evidencia_queue.defaults import QUEUES
from evidencia_queue.enqueue import get_queue, redis_connection, requeue
from redis import Redis
from rq import SimpleWorker, Worker

__all__ = ["check_ocr", "warm_up", "run_worker"]

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

        classifiers.load()
        sample = "El comité de inclusión aprobó el plan de capacitación del personal."
        classifiers.classify(
            ExtractedDocument(mime="text/plain", pages=(Page(1, sample),), extractor="warm-up")
        )
    except Exception:
        log.warning("could not warm the classifier; jobs will load it", exc_info=True)


def run_worker(
    queues: list[str] | tuple[str, ...] = QUEUES,
    *,
    burst: bool = False,
    connection: Redis | None = None,
    simple: bool = False,
    with_scheduler: bool = True,
    do_requeue: bool = True,
) -> bool:
    """Run an rq worker on ``queues`` (interactive first). ``simple`` runs jobs in-process."""
    connection = connection or redis_connection()
    ordered = [q for q in QUEUES if q in queues] + [q for q in queues if q not in QUEUES]
    if do_requeue:
        try:
            ids = requeue(connection=connection)
            if ids:
                log.info("start-up requeue: %d documents", len(ids))
        except Exception:
            log.warning("start-up requeue failed", exc_info=True)
    warning = check_ocr()
    if warning:
        log.warning(warning)
    warm_up()
    from service.db import get_engine

    get_engine().dispose()  # no pooled connection crosses the fork into a work horse
    worker_class = SimpleWorker if simple else Worker
    worker = worker_class([get_queue(q, connection) for q in ordered], connection=connection)
    return worker.work(burst=burst, with_scheduler=with_scheduler)
