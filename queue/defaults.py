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
