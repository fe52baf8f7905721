"""Recovery on its own (issue 12): real ``evidencia worker`` processes against a Redis the test
starts itself; a worker SIGKILLed mid-job, Redis flushed, Redis restarted, a work horse killed
every time. Every document ends ``done`` or ``error`` exactly once with no operator command.
A worker stopped on purpose (SIGTERM) finishes its job, or hands it back when told twice.

The deadlines only stop a hung test; the recovery times are measured and reported by
``bench/bench_recovery.py``.
"""

from __future__ import annotations

import signal
import time

import pytest

from tests.queue.outages import (
    OwnRedis,
    alive,
    descendants,
    kill_whole_worker,
    scanned_pdf,
    start_worker,
    statuses,
    wait_finished,
    wait_until,
    wait_workers,
)

pytestmark = pytest.mark.slow

#: Generous: recovery takes ~30 s by design (see queue/defaults.py), OCR on a busy machine more.
DEADLINE = 240


@pytest.fixture
def own_redis(tmp_path):
    redis = OwnRedis(tmp_path / "redis")
    redis.start()
    yield redis
    redis.kill()


@pytest.fixture
def recovery_env(service_env, own_redis, monkeypatch):
    from service.settings import get_settings

    monkeypatch.setenv("EVIDENCIA_REDIS_URL", own_redis.url)
    get_settings.cache_clear()
    return service_env


@pytest.fixture
def workers(recovery_env, tmp_path):
    procs = []

    def start(n: int = 1, **env) -> list:
        new = [start_worker(tmp_path / f"worker-{len(procs) + i}.log", env) for i in range(n)]
        procs.extend(new)
        return new

    yield start
    for proc in procs:
        if proc.poll() is None:
            kill_whole_worker(proc)


def _submit(files) -> list[str]:
    from service.db import SessionLocal
    from service.domain.submissions import add_files, create_submission

    with SessionLocal() as session:
        submission, _ = create_submission(session, "Fundación Puentes del Sur", None)
        return [d.id for d in add_files(session, submission, files)]


def _files(scans: int = 2, pages: int = 3):
    return [(f"acta-{i}.pdf", scanned_pdf(f"Acta {i} del comité de inclusión.", pages))
            for i in range(scans)]


def _processing(ids):
    return [i for i, s in statuses(ids).items() if s == "processing"]


def _assert_ended_once(ids) -> None:
    """done or error, one classification per done document, and nothing moves afterwards."""
    from sqlalchemy import func, select

    from service.db import SessionLocal
    from service.domain.models import Classification

    final = statuses(ids)
    assert set(final.values()) <= {"done", "error"}, final
    with SessionLocal() as session:
        counts = dict(session.execute(
            select(Classification.document_id, func.count())
            .where(Classification.document_id.in_(ids))
            .group_by(Classification.document_id)).all())
    assert all(counts.get(i) == 1 for i, s in final.items() if s == "done"), counts
    time.sleep(6)  # a sweep later: still the same
    assert statuses(ids) == final


@pytest.mark.parametrize("service_env", ["postgresql"], indirect=True)
def test_a_worker_killed_mid_job_is_recovered_by_the_other(workers, own_redis):
    first, second = workers(2)
    wait_workers(own_redis, 2)
    ids = _submit(_files())
    busy = wait_until(lambda: _processing(ids), DEADLINE, poll=0.2)
    victim_name = own_redis.client().get(f"evidencia:running:{busy[0]}").decode()
    victim_pid = int(own_redis.client().hget(f"rq:worker:{victim_name}", "pid"))
    victim = next(p for p in (first, second) if p.pid == victim_pid)
    kill_whole_worker(victim)
    wait_finished(ids, DEADLINE)
    _assert_ended_once(ids)
    assert set(statuses(ids).values()) == {"done"}
    # the dead worker is no longer counted among the living
    wait_until(lambda: own_redis.client().scard("rq:workers") == 1, 90)


@pytest.mark.parametrize("service_env", ["postgresql"], indirect=True)
def test_redis_flushed_mid_job(workers, own_redis):
    workers(2)
    wait_workers(own_redis, 2)
    ids = _submit(_files(scans=2, pages=2))
    wait_until(lambda: _processing(ids), DEADLINE, poll=0.2)
    own_redis.client().flushall()
    wait_finished(ids, DEADLINE)
    _assert_ended_once(ids)
    assert set(statuses(ids).values()) == {"done"}


@pytest.mark.parametrize("service_env", ["postgresql"], indirect=True)
def test_workers_outlive_a_redis_restart(workers, own_redis):
    procs = workers(2)
    wait_workers(own_redis, 2)
    ids = _submit(_files(scans=2, pages=2))
    wait_until(lambda: _processing(ids), DEADLINE, poll=0.2)
    own_redis.kill()  # everything it held is lost
    time.sleep(3)
    own_redis.start()
    wait_finished(ids, DEADLINE)
    _assert_ended_once(ids)
    assert set(statuses(ids).values()) == {"done"}
    assert all(p.poll() is None for p in procs)  # nobody exited for good


@pytest.mark.parametrize("service_env", ["postgresql"], indirect=True)
def test_a_document_whose_work_horse_is_killed_every_time_ends_in_error(workers, own_redis):
    import os

    from service.db import SessionLocal
    from service.domain.models import Document
    from tests.queue.outages import descendants

    (worker,) = workers(1, EVIDENCIA_JOB_RETRIES="0", EVIDENCIA_JOB_MAX_ATTEMPTS="2")
    wait_workers(own_redis, 1)
    before = set(descendants(worker.pid, direct=True))  # its scheduler: not a work horse
    (doc,) = _submit(_files(scans=1, pages=4))
    killed: set[int] = set()

    def kill_each_horse() -> bool:  # what the OOM killer does to a memory bomb, every time
        status = statuses([doc])[doc]
        if status == "processing":
            for pid in set(descendants(worker.pid, direct=True)) - before - killed:
                try:
                    os.kill(pid, signal.SIGKILL)
                    killed.add(pid)
                except ProcessLookupError:
                    pass
        return status == "error"

    wait_until(kill_each_horse, DEADLINE, poll=0.2)
    with SessionLocal() as session:
        document = session.get(Document, doc)
        assert (document.status, document.error_code) == ("error", "interrupted")
        assert "2 veces" in document.error
    assert len(killed) >= 2
    assert worker.poll() is None  # the worker itself lives on


@pytest.mark.parametrize("service_env", ["postgresql"], indirect=True)
def test_sigterm_lets_the_running_job_finish_then_the_worker_exits(workers, own_redis):
    (worker,) = workers(1)
    wait_workers(own_redis, 1)
    (doc,) = _submit(_files(scans=1, pages=3))
    wait_until(lambda: _processing([doc]), DEADLINE, poll=0.2)
    below = descendants(worker.pid)  # its scheduler and the work horse
    worker.send_signal(signal.SIGTERM)  # rq's warm shutdown
    assert worker.wait(timeout=DEADLINE) == 0
    assert statuses([doc]) == {doc: "done"}
    assert not [pid for pid in below if alive(pid)]


@pytest.mark.parametrize("service_env", ["postgresql"], indirect=True)
def test_a_second_sigterm_hands_the_running_job_back_to_the_queue(workers, own_redis):
    from service.db import SessionLocal
    from service.domain.dispatch import get_dispatcher
    from service.domain.models import Document

    (worker,) = workers(1)
    wait_workers(own_redis, 1)
    (doc,) = _submit(_files(scans=1, pages=6))
    wait_until(lambda: _processing([doc]), DEADLINE, poll=0.2)
    below = descendants(worker.pid)
    worker.send_signal(signal.SIGTERM)
    time.sleep(1.5)  # rq takes a repeat within 1 s for the same signal delivered twice
    worker.send_signal(signal.SIGTERM)  # cold shutdown: the work horse is killed
    worker.wait(timeout=60)
    assert not [pid for pid in below if alive(pid)]
    with SessionLocal() as session:
        document = session.get(Document, doc)
        assert (document.status, document.stage, document.attempts) == ("queued", "queued", 0)
    assert get_dispatcher().is_live(doc)  # its job waits in the queue, no sweep needed
    workers(1)
    wait_finished([doc], DEADLINE)
    _assert_ended_once([doc])
    assert statuses([doc]) == {doc: "done"}
