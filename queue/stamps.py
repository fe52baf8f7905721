"""Which code a job was enqueued by, and whether a worker's code may run it.

During a rolling upgrade two codes run side by side: an old worker may take a job that new code
enqueued (and the reverse). Stored results carry the versions of the code that made them (the
classification its classifier version, the extraction its extractor version), so an old worker
that ran a new job would store stale results stamped as its own (a reclassify job of
``evidencia reprocess`` run by an old worker finds its documents "up to date" with the old
classifier and reclassifies none). To prevent it, every job of a document and every reclassify
job carries a stamp, the classifier and extractor versions of the code that enqueued it
(:func:`own`, in the job's meta under :data:`STAMP_META`), and the worker judges it before
running it (:func:`judge`):

- the same stamp as its own: it runs;
- an older stamp: it runs, and its results (newer code) supersede what the enqueuer would have
  made: nothing stale is stored;
- a newer stamp: the worker leaves the job for a worker that runs that code (handed back, at
  the end of its queue, nothing stored), and marks it with its own stamp (:data:`LEFT_META`),
  so whoever waits for the job can tell why it waits (:func:`versions`);
- no stamp (enqueued before stamps existed), or a stamp this Redis never saw announced (its
  record was flushed): it runs, rather than waiting for an order nobody can tell.

Versions are hashes, not ordered: which of two stamps is newer is the order in which this
deployment's Redis first saw them (:data:`STAMPS_KEY`, stamp -> first time seen), announced by
every enqueue and by every worker as it judges a job. New code is seen first when it starts,
after the old code it replaces. A code taken back is not newer for it: after taking a version
back, jobs that the code taken back had stamped wait until the key is deleted
(``redis-cli DEL evidencia:stamps``), after which they run anywhere.
"""

from __future__ import annotations

import enum
import time

from evidencia_queue.defaults import STAMPS_KEY
from redis import Redis

__all__ = ["STAMP_META", "LEFT_META", "Verdict", "own", "versions", "announce", "judge"]

#: The key of a job's meta that holds its stamp.
STAMP_META = "evidencia_stamp"
#: The key of a job's meta that holds the stamp of the last worker that left it for newer code.
LEFT_META = "evidencia_left_by"


class Verdict(enum.StrEnum):
    same = "same"  # run
    older = "older"  # run: this worker's results supersede it
    unknown = "unknown"  # no stamp, or never announced here: run
    newer = "newer"  # leave it for a worker that runs that code

    @property
    def runs(self) -> bool:
        return self is not Verdict.newer


def own() -> str:
    """This process's stamp: the classifier version in force and the extractor version."""
    import extractors
    from service.domain.pipeline import current_version

    return f"classifier={current_version()};extractor={extractors.EXTRACTOR_VERSION}"


def versions(stamp: str) -> tuple[str, str]:
    """(classifier version, extractor version) of a stamp :func:`own` made."""
    parts = dict(part.partition("=")[::2] for part in stamp.split(";"))
    return parts.get("classifier", ""), parts.get("extractor", "")


def announce(connection: Redis, stamp: str, pipeline=None) -> None:
    """Record when this Redis first saw ``stamp`` (a later announcement changes nothing)."""
    (pipeline or connection).hsetnx(STAMPS_KEY, stamp, repr(time.time()))


def judge(connection: Redis, stamp: str | None, mine: str) -> Verdict:
    """How a job stamped ``stamp`` stands to a worker stamped ``mine``."""
    if not stamp:
        return Verdict.unknown
    if stamp == mine:
        return Verdict.same
    pipe = connection.pipeline(transaction=False)
    announce(connection, mine, pipe)
    pipe.hmget(STAMPS_KEY, [stamp, mine])
    _, (theirs, ours) = pipe.execute()
    if theirs is None:
        return Verdict.unknown
    return Verdict.newer if float(theirs) > float(ours) else Verdict.older
