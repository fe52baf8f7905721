"""Recovery on its own (issue 12): real ``evidencia worker`` processes against a PostgreSQL and
a Redis the module starts itself (own ports, own folders); a work horse killed every time,
PostgreSQL stopped mid-OCR, Redis flushed, Redis restarted, a whole worker SIGKILLed. Every
document ends ``done`` or ``error`` exactly once with no operator command. A worker stopped on
purpose (SIGTERM) finishes its job, or hands it back when told twice.

Lean on purpose: one cluster (PostgreSQL, Redis, two workers) serves the module, each test
submits its own small scans, and the workers beat every second (``EVIDENCIA_HEARTBEAT_SECONDS``)
so a recovery takes a few seconds, not half a minute. The deadlines only stop a hung test; the
recovery times are measured and reported by ``bench/bench_recovery.py``.
"""

from __future__ import annotations

import os
import signal
import time
from types import SimpleNamespace

import pytest

from tests.conftest import free_port, stop_process
from tests.queue.outages import (
    OwnPostgres,
    OwnRedis,
    alive,
    descendants,
    kill_whole_worker,
    multipart,
    scanned_pdf,
    start_api,
    start_worker,
    statuses,
    wait_finished,
    wait_until,
    wait_workers,
)

pytestmark = pytest.mark.slow

#: Generous: OCR on a busy machine is slow; recovery itself takes a few heartbeats.
DEADLINE = 240
#: Workers of this module beat every second: every recovery timing scales with it.
HEARTBEAT = "1"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """PostgreSQL and Redis of the module's own, migrated, named by ``EVIDENCIA_*``."""
    from service.db import engine_for
    from service.migrate import upgrade
    from service.settings import get_settings

    folder = tmp_path_factory.mktemp("faults")
    postgres, redis = OwnPostgres(), OwnRedis(folder / "redis")
    postgres.start()
    redis.start()
    with pytest.MonkeyPatch.context() as env:
        for name, value in {"DATABASE_URL": postgres.url, "REDIS_URL": redis.url,
                            "DATA_DIR": str(folder / "data"), "HEARTBEAT_SECONDS": HEARTBEAT,
                            "PUBLIC_URL": "http://testserver",
                            "SECRET_KEY": "clave-de-pruebas-de-fallas"}.items():
            env.setenv(f"EVIDENCIA_{name}", value)
        env.setenv("OMP_THREAD_LIMIT", "1")
        get_settings.cache_clear()
        upgrade(postgres.url)
        try:
            yield SimpleNamespace(postgres=postgres, redis=redis, folder=folder)
        finally:
            engine_for(postgres.url).dispose()
            get_settings.cache_clear()
            redis.kill()
            postgres.remove()


class Workers:
    """The module's ``evidencia worker`` processes; :meth:`ensure` replaces killed ones."""

    def __init__(self, stack):
        self.stack, self.procs, self.started = stack, [], 0

    def start(self, n: int = 1, **env) -> list:
        new = []
        for _ in range(n):
            self.started += 1
            new.append(start_worker(self.stack.folder / f"worker-{self.started}.log", env))
        self.procs.extend(new)
        return new

    def ensure(self, n: int) -> list:
        """``n`` of this module's workers alive and registered (a killed one may still be)."""
        self.procs = [p for p in self.procs if p.poll() is None]
        self.start(max(0, n - len(self.procs)))
        client, pids = self.stack.redis.client(), {p.pid for p in self.procs}

        def registered() -> bool:
            keys = client.smembers("rq:workers")
            return sum(int(client.hget(k, "pid") or 0) in pids for k in keys) >= n

        wait_until(registered, 120, 0.3)
        return list(self.procs)

    def stop(self, procs=None) -> None:
        for proc in list(procs if procs is not None else self.procs):
            stop_process(proc)  # SIGTERM: it unregisters
            self.procs.remove(proc)

    def log(self) -> str:
        return "".join(p.read_text(errors="replace")
                       for p in sorted(self.stack.folder.glob("worker-*.log")))


@pytest.fixture(scope="module")
def workers(stack):
    pool = Workers(stack)
    yield pool
    pool.stop()


def _submit(files) -> list[str]:
    from service.db import SessionLocal
    from service.domain.submissions import add_files, create_submission

    with SessionLocal() as session:
        submission, _ = create_submission(session, "Fundación Puentes del Sur", None)
        return [d.id for d in add_files(session, submission, files)]


def _files(label: str, scans: int = 2, pages: int = 2):
    """Scans no other test submits (same bytes would reuse an extraction)."""
    return [(f"acta-{i}.pdf", scanned_pdf(f"Acta {i} {label} del comité de inclusión.", pages))
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
    time.sleep(3)  # a few sweeps later: still the same
    assert statuses(ids) == final


def test_a_document_whose_work_horse_is_killed_every_time_ends_in_error(
    stack, workers, monkeypatch
):
    """Its lone worker (the module's two start later) gives up after two starts (rq retries
    none: the job is enqueued with none)."""
    from service.db import SessionLocal
    from service.domain.models import Document
    from service.settings import get_settings

    limits = {"EVIDENCIA_JOB_RETRIES": "0", "EVIDENCIA_JOB_MAX_ATTEMPTS": "2"}
    for name, value in limits.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    (worker,) = workers.start(1, **limits)
    wait_workers(stack.redis, 1)
    before = set(descendants(worker.pid, direct=True))  # its scheduler: not a work horse
    (doc,) = _submit(_files("killed", scans=1, pages=3))
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

    try:
        wait_until(kill_each_horse, DEADLINE, poll=0.2)
        with SessionLocal() as session:
            document = session.get(Document, doc)
            assert (document.status, document.error_code) == ("error", "interrupted")
            assert "2 veces" in document.error
        assert len(killed) >= 2
        assert worker.poll() is None  # the worker itself lives on
    finally:
        workers.stop([worker])
        monkeypatch.undo()
        get_settings.cache_clear()


def test_sigterm_lets_the_running_job_finish_then_the_worker_exits(stack, workers):
    (worker,) = workers.start(1)
    wait_workers(stack.redis, 1)
    (doc,) = _submit(_files("sigterm", scans=1, pages=3))
    wait_until(lambda: _processing([doc]), DEADLINE, poll=0.1)
    below = descendants(worker.pid)  # its scheduler and the work horse
    worker.send_signal(signal.SIGTERM)  # rq's warm shutdown
    assert worker.wait(timeout=DEADLINE) == 0
    workers.stop([worker])
    assert statuses([doc]) == {doc: "done"}
    assert not [pid for pid in below if alive(pid)]


def test_a_second_sigterm_hands_the_running_job_back_to_the_queue(stack, workers):
    from service.db import SessionLocal
    from service.domain.dispatch import get_dispatcher
    from service.domain.models import Document

    (worker,) = workers.start(1)
    wait_workers(stack.redis, 1)
    (doc,) = _submit(_files("second-sigterm", scans=1, pages=30))  # still running 1.5 s on
    wait_until(lambda: _processing([doc]), DEADLINE, poll=0.1)
    below = descendants(worker.pid)
    worker.send_signal(signal.SIGTERM)
    time.sleep(1.5)  # rq takes a repeat within 1 s for the same signal delivered twice
    worker.send_signal(signal.SIGTERM)  # cold shutdown: the work horse is killed
    worker.wait(timeout=60)
    workers.stop([worker])
    assert not [pid for pid in below if alive(pid)]
    with SessionLocal() as session:
        document = session.get(Document, doc)
        assert (document.status, document.stage, document.attempts) == ("queued", "queued", 0)
    assert get_dispatcher().is_live(doc)  # its job waits in the queue, no sweep needed
    workers.ensure(2)  # the module's workers from here on
    wait_finished([doc], DEADLINE)
    _assert_ended_once([doc])
    assert statuses([doc]) == {doc: "done"}


def test_postgresql_stopped_mid_ocr_is_retried_not_a_corrupt_file(stack, workers):
    """Issue 12: a database outage during OCR went down the corrupt-file path, rq said "Job OK"
    and the document stayed ``processing``. Now the progress updates fail quietly, storing the
    extraction fails, the job fails (rq retries it) and the retry finishes it."""
    from service.db import SessionLocal, get_engine
    from service.domain.models import Document

    workers.ensure(2)
    (doc,) = _submit(_files("postgres", scans=1, pages=3))
    wait_until(lambda: _stage(doc) == "ocr", DEADLINE, poll=0.1)
    stack.postgres.stop()
    try:
        wait_until(lambda: f"document {doc}: transient; the queue retries it" in workers.log(),
                   DEADLINE)
    finally:
        stack.postgres.start()
    get_engine().dispose()  # this process's pooled connections died with the server
    wait_finished([doc], DEADLINE)
    _assert_ended_once([doc])
    with SessionLocal() as session:
        document = session.get(Document, doc)
        assert (document.status, document.error_code, document.error) == ("done", None, None)
        assert document.attempts >= 2
    assert "corrupt" not in workers.log()


def test_postgresql_down_the_api_answers_503_in_spanish_then_recovers(stack):
    """Issue 12: a database outage was answered 500. A real ``evidencia serve`` on the module's
    PostgreSQL: while the server is down, the status and the matrix are 503 ``unavailable`` with
    a Spanish message and ``Retry-After``, ``/healthz`` still answers and ``/readyz`` says which
    component is down; once PostgreSQL is back, the same API answers 200 again, not restarted."""
    import httpx

    port = free_port()
    api = start_api(stack.folder / "api-outage.log", port)
    base = f"http://127.0.0.1:{port}"
    try:
        sub = httpx.post(f"{base}/api/submissions",
                         json={"organization": "Corporación Puerto Abierto"}).json()
        auth = {"Authorization": f"Bearer {sub['token']}"}
        paths = [f"/api/submissions/{sub['id']}", f"/api/submissions/{sub['id']}/matrix"]
        assert [httpx.get(base + p, headers=auth).status_code for p in paths] == [200, 200]
        _checkpoint(stack)  # the cluster runs without synchronous commit: keep what we made
        stack.postgres.stop()
        try:
            down = [httpx.get(base + p, headers=auth, timeout=60) for p in paths]
            health = httpx.get(f"{base}/healthz", timeout=30)
            ready = httpx.get(f"{base}/readyz", timeout=60)
        finally:
            stack.postgres.start()
        for answer in down:
            assert answer.status_code == 503, answer.text
            assert answer.headers["retry-after"]
            detail = answer.json()["detail"]
            assert detail["code"] == "unavailable"
            assert "no está disponible" in detail["message"]
        assert health.status_code == 200
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"] != "ok"
        wait_until(lambda: [httpx.get(base + p, headers=auth, timeout=30).status_code
                            for p in paths] == [200, 200], 60, poll=0.5)
    finally:
        stop_process(api)
    assert "Traceback" not in (stack.folder / "api-outage.log").read_text(errors="replace")


def _checkpoint(stack) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(stack.postgres.url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("CHECKPOINT"))
    engine.dispose()


def _stage(document_id: str) -> str | None:
    from service.db import SessionLocal
    from service.domain.models import Document

    with SessionLocal() as session:
        document = session.get(Document, document_id)
        return document.stage if document is not None else None


def test_two_workers_given_the_same_new_bytes_extract_them_once(stack, workers):
    """Issue 12: both OCR'd the same bytes at the same moment (one row kept, the work done
    twice). Now one extracts under the sha256's lock; the other waits and reuses it."""
    from sqlalchemy import select

    from service.db import SessionLocal
    from service.domain.models import Document

    workers.ensure(2)
    scan = _files("twice", scans=1, pages=3)
    first, second = _submit(scan), _submit(scan)  # two applicants, the same file
    ids = first + second
    wait_finished(ids, DEADLINE)
    _assert_ended_once(ids)
    with SessionLocal() as session:
        docs = session.scalars(select(Document).where(Document.id.in_(ids))).all()
        assert {d.status for d in docs} == {"done"}
        assert len({d.extraction_id for d in docs}) == 1
        assert sorted(d.extract_seconds > 0 for d in docs) == [False, True]  # one reused
        started = sorted(d.started_at for d in docs)
        assert started[1] < min(d.finished_at for d in docs)  # side by side, not one after


def test_api_killed_mid_upload_then_the_clients_retry(stack, workers):
    """Issue 12: an API killed after its commit left documents ``queued`` with no job, and the
    client's retry created duplicates. A real ``evidencia serve`` is SIGKILLed twice: while the
    multipart body is still arriving, and as soon as the documents are in the database (the
    answer lost or not); each time it restarts and the client sends the same request again
    with its ``Idempotency-Key``. Everything is created once and ends once."""
    import threading

    import httpx

    from service.db import SessionLocal
    from service.domain.models import Document

    workers.ensure(2)
    port = free_port()
    log = stack.folder / "api.log"
    api = start_api(log, port)
    base = f"http://127.0.0.1:{port}"
    try:
        sub = httpx.post(f"{base}/api/submissions", json={
            "organization": "Fundación Puentes del Sur"}, headers={"Idempotency-Key": "org-1"})
        sub = sub.json()
        files = [(f"nota-{i}.txt", f"Acta {i} del comité de inclusión laboral.".encode() * 200)
                 for i in range(3)]
        body, content_type = multipart(files)
        headers = {"Authorization": f"Bearer {sub['token']}", "Content-Type": content_type}
        url = f"{base}/api/submissions/{sub['id']}/documents"

        def slowly(kill_after: int):
            for i in range(0, len(body), 2048):
                if i // 2048 == kill_after:
                    api.kill()  # the API dies with half the body received
                    api.wait(10)
                yield body[i:i + 2048]
                time.sleep(0.05)

        # 1. killed while the body arrives: nothing was created; the retry creates it once
        with pytest.raises(httpx.TransportError):
            httpx.post(url, content=slowly(kill_after=4),
                       headers={**headers, "Idempotency-Key": "subida-1"}, timeout=30)
        assert _document_count(sub["id"]) == 0
        api = start_api(log, port)
        first = httpx.post(url, content=body, headers={**headers, "Idempotency-Key": "subida-1"})
        assert first.status_code == 202, first.text

        # 2. killed as soon as the documents are committed (before or after it answered)
        def kill_once_committed() -> None:
            wait_until(lambda: _document_count(sub["id"]) > 3, 60, poll=0.01)
            api.kill()

        killer = threading.Thread(target=kill_once_committed)
        killer.start()
        again = [(f"otra-{n}", d) for n, d in files]
        body, content_type = multipart(again)
        headers["Content-Type"] = content_type
        try:
            httpx.post(url, content=body, headers={**headers, "Idempotency-Key": "subida-2"})
        except httpx.TransportError:
            pass  # the answer was lost
        killer.join(60)
        api.wait(10)
        api = start_api(log, port)
        second = httpx.post(url, content=body, headers={**headers, "Idempotency-Key": "subida-2"})
        assert second.status_code == 202, second.text
    finally:
        stop_process(api)

    ids = [d["id"] for d in first.json()["documents"] + second.json()["documents"]]
    assert _document_count(sub["id"]) == len(ids) == 6  # nothing created twice
    wait_finished(ids, DEADLINE)
    _assert_ended_once(ids)
    with SessionLocal() as session:
        assert {session.get(Document, i).status for i in ids} == {"done"}


def _document_count(submission_id: str) -> int:
    from sqlalchemy import func, select

    from service.db import SessionLocal
    from service.domain.models import Document

    with SessionLocal() as session:
        return session.scalar(select(func.count()).select_from(Document)
                              .where(Document.submission_id == submission_id))


def test_redis_flushed_mid_job(stack, workers):
    workers.ensure(2)
    ids = _submit(_files("flushed"))
    wait_until(lambda: _processing(ids), DEADLINE, poll=0.1)
    stack.redis.client().flushall()
    wait_finished(ids, DEADLINE)
    _assert_ended_once(ids)
    assert set(statuses(ids).values()) == {"done"}


def test_workers_outlive_a_redis_restart(stack, workers):
    procs = workers.ensure(2)
    ids = _submit(_files("restarted"))
    wait_until(lambda: _processing(ids), DEADLINE, poll=0.1)
    stack.redis.kill()  # everything it held is lost
    time.sleep(1)
    stack.redis.start()
    wait_finished(ids, DEADLINE)
    _assert_ended_once(ids)
    assert set(statuses(ids).values()) == {"done"}
    assert all(p.poll() is None for p in procs)  # nobody exited for good


def test_a_worker_killed_mid_job_is_recovered_by_the_other(stack, workers):
    """Last: it leaves one worker."""
    procs = workers.ensure(2)
    ids = _submit(_files("sigkill"))
    busy = wait_until(lambda: _processing(ids), DEADLINE, poll=0.1)
    client = stack.redis.client()
    victim_name = wait_until(lambda: client.get(f"evidencia:running:{busy[0]}"), 30, 0.1)
    victim_pid = int(client.hget(f"rq:worker:{victim_name.decode()}", "pid"))
    victim = next(p for p in procs if p.pid == victim_pid)
    kill_whole_worker(victim)
    wait_finished(ids, DEADLINE)
    _assert_ended_once(ids)
    assert set(statuses(ids).values()) == {"done"}
    # the dead worker is no longer counted among the living
    wait_until(lambda: client.scard("rq:workers") == 1, 90)
