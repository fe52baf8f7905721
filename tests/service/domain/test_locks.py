"""service.domain.locks: one holder at a time, across connections (PostgreSQL) or open files
(SQLite), released when the block ends."""

from __future__ import annotations

import threading


def test_a_second_holder_waits_for_the_first(service_env):
    from service.domain import locks

    order: list[str] = []
    first_in, release = threading.Event(), threading.Event()

    def first() -> None:
        with locks.held("extraction:abc"):
            order.append("first in")
            first_in.set()
            release.wait(10)
            order.append("first out")

    def second() -> None:
        first_in.wait(10)
        with locks.held("extraction:abc"):
            order.append("second in")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    first_in.wait(10)
    with locks.held("extraction:other"):  # another name is free meanwhile
        order.append("other")
    release.set()
    for thread in threads:
        thread.join(20)
    assert order == ["first in", "other", "first out", "second in"]
