"""Every tunable value of the queue, each with why it has the value it has.

Job timeout and the number of retries come from ``service.settings`` (operators change them per
deployment); these are the values that follow from how rq and the pipeline behave.
"""

from service.domain.lifecycle import Lane

#: Applicants wait on this one: every worker serves it before BATCH.
INTERACTIVE = Lane.interactive.value
#: Archives of past submissions: thousands of jobs that may wait.
BATCH = Lane.batch.value
#: Order matters: rq takes from the first non-empty queue in this order.
QUEUES: tuple[str, ...] = (INTERACTIVE, BATCH)

#: Seconds between retries of a transient failure (Redis or database hiccup): quick first,
#: then long enough for a restarted database to come back.
RETRY_INTERVALS: tuple[int, ...] = (5, 30, 120)

#: Results live in the database; rq keeps its own record only long enough for debugging.
RESULT_TTL = 600
#: Failed jobs (with their traceback) stay in rq's FailedJobRegistry for a week.
FAILURE_TTL = 7 * 24 * 3600

#: Job ids are derived from the document id, so a document is never queued twice at once.
JOB_ID_PREFIX = "evidencia-doc-"

# --- recovery without an operator (a killed worker, a flushed or restarted Redis) ------------
#
# A worker's parent process marks each document it runs (``RUNNING_KEY_PREFIX``, kept alive by
# its heartbeat); every worker sweeps the database for pending documents with neither a waiting
# job nor a live mark and queues them again. Worst case after a whole worker is killed:
# RUNNING_TTL (mark expires) + SWEEP_INTERVAL (first sighting) + ORPHAN_CONFIRM_SECONDS and one
# more SWEEP_INTERVAL (second sighting) ≈ 35 s, then the job starts on another worker.

#: Seconds between heartbeats of a worker's parent while its work horse runs (rq's default
#: is 30): each refreshes the running mark and the rq job's heartbeat.
JOB_MONITORING_INTERVAL = 4
#: rq's worker TTL; an idle worker blocks on Redis for TTL − 15 s between heartbeats, so 20
#: gives a heartbeat (and a chance to sweep) every 5 s.
WORKER_TTL = 20
#: Lifetime of a running mark: three missed heartbeats and the job is presumed dead.
RUNNING_TTL = 12
RUNNING_KEY_PREFIX = "evidencia:running:"
#: How often a worker sweeps for orphaned documents; a lock lets one worker do it per period.
SWEEP_INTERVAL = 5
SWEEP_LOCK_KEY = "evidencia:sweep-lock"
#: A document is requeued only when two sweeps at least this far apart both found it orphaned:
#: longer than the gap between two mark refreshes, so a mark lost in a Redis flush is back by
#: the second look.
ORPHAN_CONFIRM_SECONDS = 8
SUSPECTS_KEY = "evidencia:orphan-suspects"
#: A registered worker silent this long is dead (SIGKILL, machine gone): its registration is
#: removed so nobody counts it as alive. Live ones beat every 5 s (WORKER_TTL) or 4 s (busy).
DEAD_WORKER_SECONDS = 60
#: Longest wait between attempts to reach a Redis that went away (the worker keeps trying).
RECONNECT_MAX_WAIT = 5
