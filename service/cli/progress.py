"""Waiting for the workers, with a progress bar: the one polling loop of the command line.

``evidencia batch --wait`` polls the database for its documents' statuses and ``evidencia
reprocess`` polls the queue for its reclassify jobs; both read as ``wait_for(poll, ...)``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Progress", "wait_for", "bar"]

#: Seconds without a living worker before saying so (they take a moment to register).
_WORKER_GRACE = 10


@dataclass
class Progress:
    """What one poll found: work finished so far of the total, and figures to show beside."""

    done: int
    total: int
    figures: dict[str, int] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.done >= self.total


def bar(total: int, desc: str, *, show: bool = True, initial: int = 0):
    """A progress bar on stderr; ``initial``: work already done before it started, shown but
    not counted in its rate and time left."""
    from tqdm import tqdm

    return tqdm(total=total, unit="doc", desc=desc, file=sys.stderr, disable=not show,
                dynamic_ncols=True, initial=initial)


def wait_for(
    poll: Callable[[], Progress],
    *,
    desc: str,
    no_workers: str,
    show: bool = True,
    interval: float = 1.0,
    first_interval: float | None = None,
    timeout: float | None = None,
    stalled: Callable[[], str | None] | None = None,
    pause: Callable[[float], None] | None = None,
) -> Progress:
    """Call ``poll`` every ``interval`` seconds until it says the work is finished (or
    ``timeout`` passes); warn once, with ``no_workers``, if no worker serves the queue.
    ``first_interval``: start polling that often and wait half as long again each time, up to
    ``interval`` (work that ends in a fraction of a second is not left waiting a whole
    interval; a long wait is polled every ``interval`` as before). ``stalled``: asked at each
    poll until it answers, why the work waits though workers run (said once; still waiting).
    ``pause(seconds)``: how to wait between polls (``time.sleep`` by default); one that
    returns when the work may have ended (the queue's
    :meth:`~service.domain.dispatch.Dispatcher.wait`) makes the next poll see the end as it
    happens."""
    from service.domain.dispatch import get_dispatcher

    progress = poll()
    # what was finished before (a resumed batch) is not this wait's speed
    shown = bar(progress.total, desc, show=show, initial=progress.done)
    started = time.monotonic()
    warned = False
    seconds = interval if first_interval is None else min(first_interval, interval)
    try:
        while True:
            shown.total = progress.total
            shown.set_postfix(**progress.figures, refresh=False)
            shown.update(progress.done - shown.n)
            elapsed = time.monotonic() - started
            if progress.finished or (timeout is not None and elapsed > timeout):
                return progress
            if not warned and elapsed > _WORKER_GRACE and not get_dispatcher().workers_alive():
                shown.write(no_workers, file=sys.stderr)  # beside the bar, not in the output
                warned = True
            if stalled is not None and (why := stalled()):
                shown.write(why, file=sys.stderr)
                stalled = None
            (pause or time.sleep)(seconds)
            seconds = min(seconds * 1.5, interval)
            progress = poll()
    finally:
        shown.close()
