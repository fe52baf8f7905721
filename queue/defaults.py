"""Every tunable value of the queue, each with why it has the value it has.

Job timeout and the number of retries come from ``service.settings`` (operators change them per
deployment); these are the values that follow from how rq and the pipeline behave.
"""

from dataclasses import dataclass

from service.domain.codes import Lane

#: Applicants wait on this one: every worker serves it before BATCH.
INTERACTIVE = Lane.interactive.value
#: Archives of past submissions: thousands of jobs that may wait.
BATCH = Lane.batch.value
#: Order matters: rq takes from the first non-empty queue in this order.
QUEUES: tuple[str, ...] = (INTERACTIVE, BATCH)

#: Seconds between retries of a transient failure (Redis or database hiccup): quick first,
#: then long enough for a restarted database to come back.
RETRY_INTERVALS: tuple[int, ...] = (5, 30, 120)

#: Seconds between attempts to send an e-mail: an SMTP server that is down or refusing for a
#: while (greylisting asks for a retry after minutes) gets up to an hour; the settings say how
#: many attempts (``EVIDENCIA_MAIL_RETRIES``), the last interval repeats.
MAIL_RETRY_INTERVALS: tuple[int, ...] = (30, 120, 600, 1800, 3600)
#: Job ids of e-mails are derived from the outbox row, so a row is never queued twice at once.
MAIL_JOB_ID_PREFIX = "evidencia-mail-"

#: Results live in the database; rq keeps its own record only long enough for debugging.
RESULT_TTL = 600
#: Failed jobs (with their traceback) stay in rq's FailedJobRegistry for a week.
FAILURE_TTL = 7 * 24 * 3600

#: Job ids are derived from the document id, so a document is never queued twice at once.
JOB_ID_PREFIX = "evidencia-doc-"

#: When this Redis first saw each code's stamp (``evidencia_queue.stamps``): which of two codes
#: is newer during a rolling upgrade.
STAMPS_KEY = "evidencia:stamps"
#: Seconds a worker waits after it found again a job it had left for newer code (it went round
#: every such job in its queues): a lone old worker does not spin on them.
LEFT_JOBS_PAUSE = 1.0

# --- recovery without an operator (a killed worker, a flushed or restarted Redis) ------------
#
# A worker's parent process marks each document it runs (``RUNNING_KEY_PREFIX``, kept alive by
# its heartbeat); every worker sweeps the database for pending documents with neither a waiting
# job nor a live mark and queues them again. Every timing follows from one setting, the
# heartbeat (``EVIDENCIA_HEARTBEAT_SECONDS``, 4 by default; tests use 1): see :class:`Pace`.

RUNNING_KEY_PREFIX = "evidencia:running:"
SWEEP_LOCK_KEY = "evidencia:sweep-lock"
SUSPECTS_KEY = "evidencia:orphan-suspects"


@dataclass(frozen=True, slots=True)
class Pace:
    """The recovery timings for a heartbeat of ``heartbeat`` seconds (defaults for 4 s).

    Worst case after a whole worker is killed: ``running_ttl`` (mark expires) +
    ``sweep_interval`` (first sighting) + ``orphan_confirm`` and one more ``sweep_interval``
    (second sighting) ≈ 9 heartbeats (35 s at 4 s), then the job starts on another worker.
    """

    #: Seconds between heartbeats of a worker's parent while its work horse runs (rq's
    #: default is 30): each refreshes the running mark and the rq job's heartbeat.
    heartbeat: int = 4

    @property
    def worker_ttl(self) -> int:
        """rq's worker TTL: an idle worker blocks on Redis for TTL − 15 s between heartbeats,
        so this gives an idle heartbeat (and a chance to sweep) every ``heartbeat + 1`` s."""
        return 15 + self.heartbeat + 1

    @property
    def running_ttl(self) -> int:
        """Lifetime of a running mark: three missed heartbeats and the job is presumed dead."""
        return 3 * self.heartbeat

    @property
    def sweep_interval(self) -> int:
        """How often a worker sweeps for orphans; a lock lets one worker do it per period."""
        return self.heartbeat + 1

    @property
    def orphan_confirm(self) -> int:
        """A document is requeued only when two sweeps at least this far apart both found it
        orphaned: longer than the gap between two mark refreshes, so a mark lost in a Redis
        flush is back by the second look."""
        return 2 * self.heartbeat

    @property
    def dead_worker(self) -> int:
        """A registered worker silent this long is dead (SIGKILL, machine gone): its
        registration is removed so nobody counts it as alive."""
        return 15 * self.heartbeat


def pace() -> Pace:
    """The timings of this deployment (read at call time)."""
    from service.settings import get_settings

    return Pace(get_settings().heartbeat_seconds)


#: Longest wait between attempts to reach a Redis that went away (the worker keeps trying).
RECONNECT_MAX_WAIT = 5
