"""The one door from the service to the job queue.

The service says what must be done (process this document, reclassify these) and asks what is
running; how it is carried (rq over Redis) is the dispatcher's business. The dispatcher is named
in the settings (``EVIDENCIA_DISPATCHER``, by default ``evidencia_queue.dispatch:RqDispatcher``)
and installed at start-up by the app, the command line and the worker, so no module of
``service`` imports the queue package: imports run ``queue → service`` only. A test plugs a
failing dispatcher in the same way (:func:`install`).

The database is the truth; the queue only carries work. :func:`requeue_lost` rebuilds the queue
from the database after Redis lost it (a flush, a restart, a worker killed mid-job).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.domain import lifecycle
from service.domain.codes import PENDING_STATUSES, Lane

__all__ = [
    "Ticket",
    "QueueStats",
    "Dispatcher",
    "install",
    "get_dispatcher",
    "requeue_lost",
    "hand_back",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Ticket:
    """A queued reclassify job: its id and how many documents it carries."""

    id: str
    size: int


@dataclass(frozen=True, slots=True)
class QueueStats:
    """One queue, for /metrics: jobs waiting, running and failed."""

    name: str
    waiting: int
    running: int
    failed: int


class Dispatcher(Protocol):
    """What the service asks of the job queue."""

    def job_id(self, document_id: str) -> str:
        """The id the document's job has (or will have) in the queue."""

    def enqueue_document(self, document_id: str, lane: Lane) -> str:
        """Queue the processing of a document, once (no-op if its job is waiting or running)."""

    def enqueue_email(self, outbox_id: int) -> str:
        """Queue the sending of an outbox e-mail, once (retried with growing intervals)."""

    def is_live(self, document_id: str) -> bool:
        """The queue holds a job for the document that will run, or runs on a living worker."""

    def enqueue_reclassify(self, document_ids: Sequence[str], description: str) -> Ticket:
        """Queue one job that reclassifies these documents from their stored text."""

    def finished(self, tickets: Sequence[Ticket]) -> dict[str, dict | None]:
        """Ticket id -> counts the job returned (None if it failed), for the ones that ended."""

    def wait(self, tickets: Sequence[Ticket], seconds: float) -> None:
        """Return as soon as one of these jobs has ended, or after ``seconds``: a poll of
        ``finished`` right after it sees the end when it happens, not at the next tick."""

    def left_for_newer(self, tickets: Sequence[Ticket]) -> frozenset[tuple[str, str]]:
        """The code (classifier version, extractor version) of the workers that left these
        jobs, still waiting, for a worker that runs newer code (a rolling upgrade, or workers
        not restarted since the code changed): empty while nothing was left."""

    def workers_alive(self) -> bool:
        """Some worker serves the queues (a hint for people waiting on the command line)."""

    def reclassify_workers(self) -> int:
        """How many workers serve reclassify jobs (0 when none, or none can be counted): how
        many jobs a reprocess shares its documents among."""

    def ping(self) -> None:
        """Raise if the queue cannot be reached (``/readyz``)."""

    def stats(self) -> tuple[list[QueueStats], int]:
        """Every queue's numbers, and how many workers are alive (``/metrics``)."""

    def work(self, lanes: Sequence[str], *, burst: bool, options) -> bool:
        """Serve the lanes (interactive first) in this process: ``evidencia worker``."""


_installed: Dispatcher | None = None


def install(dispatcher: Dispatcher | None) -> Dispatcher | None:
    """Make ``dispatcher`` the one the service uses; return the previous one."""
    global _installed
    previous, _installed = _installed, dispatcher
    return previous


def load(spec: str) -> Dispatcher:
    """A dispatcher from ``"module:Class"`` (as ``EVIDENCIA_DISPATCHER`` names it)."""
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)()


def get_dispatcher() -> Dispatcher:
    """The installed dispatcher; a process that installed none (a script, a test) gets the
    configured one on first use."""
    if _installed is None:
        from service.settings import get_settings

        install(load(get_settings().dispatcher))
    return _installed


def requeue_lost(
    session: Session | None = None,
    *,
    submission_ids: Iterable[str] | None = None,
    skip: Collection[str] = (),
    confirm: Callable[[list[str]], list[str]] | None = None,
) -> list[str]:
    """Queue again the documents the database says are unfinished but the queue does not hold.

    ``submission_ids`` limits it to those submissions (a resumed batch), ``skip`` leaves out
    documents the caller has just queued, ``confirm`` narrows the orphans found to those to act
    on now (the workers' sweep asks for two sightings). A document left in ``processing`` after
    ``job_max_attempts`` starts ends in ``error`` instead. Each row changes only together with a
    successful enqueue, one document's failure never stops the others, and it is safe to run
    any time from several processes. Returns the ids queued.
    """
    from service.db import SessionLocal

    dispatcher = get_dispatcher()
    own_session = session is None
    session = session or SessionLocal()
    done: list[str] = []
    failed = 0
    try:
        for query in _unfinished(submission_ids):
            rows = [r for r in session.execute(query).all() if r.id not in skip]
            session.rollback()  # end the read: each change below is its own transaction
            orphans = [r for r in rows if not dispatcher.is_live(r.id)]
            if confirm is not None and orphans:
                chosen = set(confirm([r.id for r in orphans]))
                orphans = [r for r in orphans if r.id in chosen]
            for row in orphans:
                try:
                    if _recover(session, dispatcher, row):
                        done.append(row.id)
                except Exception:
                    session.rollback()
                    failed += 1
                    log.warning("could not requeue document %s", row.id, exc_info=True)
        if done or failed:
            log.info("requeued %d documents (%d could not be)", len(done), failed)
        return done
    finally:
        if own_session:
            session.close()


def _unfinished(submission_ids: Iterable[str] | None) -> list:
    """Queries for the pending documents with stored bytes (of these submissions, if given),
    in chunks that keep the IN list within every database's parameter limit."""
    from service.domain.models import Document

    unfinished = select(Document.id, Document.status, Document.attempts,
                        Document.queue_name).where(
        Document.status.in_([s.value for s in PENDING_STATUSES]),
        Document.sha256.is_not(None),
    )
    if submission_ids is None:
        return [unfinished]
    ids = list(submission_ids)
    return [unfinished.where(Document.submission_id.in_(ids[i : i + 500]))
            for i in range(0, len(ids), 500)]


def _recover(session: Session, dispatcher: Dispatcher, row) -> bool:
    """Queue one orphaned document again, or end it in error after too many starts.

    The row changes only if it is still pending (compare-and-set: a worker may have just
    finished it) and is committed only once its job is in the queue.
    """
    from service.domain.errors import ErrorCode
    from service.domain.messages import error_message
    from service.settings import get_settings

    if lifecycle.interrupted_too_often(row.status, row.attempts,
                                       get_settings().job_max_attempts):
        message = error_message(ErrorCode.interrupted, attempts=row.attempts)
        if lifecycle.fail_if_processing(session, row.id, ErrorCode.interrupted, message):
            log.warning("document %s: %d starts never finished; giving up", row.id,
                        row.attempts)
        session.commit()
        return False
    if not lifecycle.queue_if_pending(session, row.id, dispatcher.job_id(row.id)):
        session.rollback()
        return False
    try:
        dispatcher.enqueue_document(row.id, Lane(row.queue_name or "interactive"))
    except BaseException:
        session.rollback()
        raise
    session.commit()
    return True


def hand_back(document_id: str) -> bool:
    """Queue again, at once, the document a worker was running when told to stop at once
    (rather than leave it ``processing`` for the sweep to find). False if it had already
    ended. Committed only with the enqueue."""
    from service.db import SessionLocal
    from service.domain.models import Document

    dispatcher = get_dispatcher()
    with SessionLocal() as session:
        lane = session.scalar(select(Document.queue_name).where(Document.id == document_id))
        if not lifecycle.hand_back_if_processing(session, document_id,
                                                 dispatcher.job_id(document_id)):
            session.rollback()
            return False
        try:
            dispatcher.enqueue_document(document_id, Lane(lane or Lane.interactive))
        except BaseException:
            session.rollback()
            raise
        session.commit()
        log.info("document %s handed back to the queue", document_id)
        return True
