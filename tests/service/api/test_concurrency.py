"""The API never deadlocks under concurrency (issue 12): a real uvicorn server with a small pool.

Before the database gate, 56 concurrent requests got no answer at all: the threads waited for
connections held by requests that waited for a thread. Here 200 requests at once must all be
answered (200, or 503 with a Spanish message), and while the database is blocked, requests beyond
the pool get a quick 503 and ``/healthz`` still answers. No timing is asserted; the limits below
only stop a hung test.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.conftest import free_port, start_serve, stop_process


def _serve(tmp_path, **settings: str) -> tuple[subprocess.Popen, str]:
    """A real ``evidencia serve`` with these ``EVIDENCIA_*`` settings, answering; its URL."""
    port = free_port()
    return start_serve(tmp_path / "server.log", port, **settings), f"http://127.0.0.1:{port}"


@pytest.fixture
def small_pool_server(service_env, tmp_path):
    """``evidencia serve`` with two pooled connections and a 1 s turn, on ``service_env``."""
    proc, base = _serve(tmp_path, DB_POOL_SIZE="2", DB_POOL_TIMEOUT="1")
    try:
        yield base
    finally:
        stop_process(proc)


def _submission(base: str) -> tuple[str, dict]:
    r = httpx.post(f"{base}/api/submissions",
                   json={"organization": "Fundación Puentes del Sur", "rut": "76.543.210-3"})
    sub = r.json()
    headers = {"Authorization": f"Bearer {sub['token']}"}
    files = [("files", (f"nota-{i}.txt", f"Acta {i} del comité.".encode(), "text/plain"))
             for i in range(3)]
    r = httpx.post(f"{base}/api/submissions/{sub['id']}/documents", files=files,
                   headers=headers, timeout=30)
    assert r.status_code == 202, r.text
    return sub["id"], headers


def _get(base: str, path: str, headers: dict) -> httpx.Response | Exception:
    try:
        return httpx.get(base + path, headers=headers, timeout=60)
    except httpx.HTTPError as exc:  # recorded: the assertion names what never came back
        return exc


def test_200_concurrent_requests_all_get_an_answer(small_pool_server):
    base = small_pool_server
    sub_id, headers = _submission(base)
    paths = [f"/api/submissions/{sub_id}", f"/api/submissions/{sub_id}/matrix", "/healthz"]
    requests = [paths[i % 3] for i in range(200)]
    barrier = threading.Barrier(200)

    def one(path: str):
        barrier.wait()  # all 200 in flight together
        return path, _get(base, path, headers)

    with ThreadPoolExecutor(max_workers=200) as pool:
        answers = list(pool.map(one, requests))
    unanswered = [(p, r) for p, r in answers if isinstance(r, Exception)]
    assert not unanswered, unanswered[:3]
    statuses = {r.status_code for _, r in answers}
    assert statuses <= {200, 503}, statuses
    assert all(r.status_code == 200 for p, r in answers if p == "/healthz")
    assert sum(r.status_code == 200 for _, r in answers) >= 67
    for _, r in answers:
        if r.status_code == 503:
            assert r.json()["detail"]["code"] == "busy"
            assert "intente nuevamente" in r.json()["detail"]["message"].lower()


@pytest.mark.parametrize("service_env", ["postgresql"], indirect=True)
def test_a_blocked_database_gives_quick_503s_and_health_still_answers(
    small_pool_server, service_env
):
    from sqlalchemy import create_engine, text

    base = small_pool_server
    sub_id, headers = _submission(base)
    locker = create_engine(service_env.url)
    with locker.connect() as conn:
        conn.execute(text("LOCK TABLE documents IN ACCESS EXCLUSIVE MODE"))  # a long migration
        # status and matrix: two answers to build, one turn each (the pool's two); the other
        # requests wait for those builds, as long as for a turn, then 503
        paths = [f"/api/submissions/{sub_id}", f"/api/submissions/{sub_id}/matrix"]
        with ThreadPoolExecutor(max_workers=12) as pool:
            pending = [pool.submit(_get, base, paths[i % 2], headers) for i in range(12)]
            time.sleep(2.5)  # past the 1 s turn: the requests beyond the pool have been answered
            health = httpx.get(f"{base}/healthz", timeout=30)
            answered = [f.result() for f in pending if f.done()]
            conn.rollback()  # the lock goes: the two requests holding the pool finish
            finished = [f.result() for f in pending]
    locker.dispose()
    assert health.status_code == 200
    assert len(answered) >= 10
    busy = [r for r in answered if r.status_code == 503]
    assert len(busy) >= 10, [r.status_code for r in answered]
    assert busy[0].json()["detail"]["code"] == "busy"
    assert busy[0].headers["retry-after"]
    assert sorted(r.status_code for r in finished) == [200] * 2 + [503] * 10


def _api_processes(supervisor: int) -> list[int]:
    """The API processes uvicorn's supervisor spawned (not multiprocessing's resource tracker)."""
    children = [int(pid) for task in os.listdir(f"/proc/{supervisor}/task")
                for pid in open(f"/proc/{supervisor}/task/{task}/children").read().split()]
    return [pid for pid in children
            if b"spawn_main" in open(f"/proc/{pid}/cmdline", "rb").read()]


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("service_env", ["postgresql"], indirect=True)
def test_several_api_processes_answer_the_current_version_and_leave_with_their_supervisor(
    service_env, tmp_path
):
    """``serve`` with two processes (the default from three cores): each keeps its own answers per
    submission version, so after a change every request, whichever process takes it, shows
    the change; and when the supervisor is SIGKILLed its processes leave, freeing the port."""
    proc, base = _serve(tmp_path, API_WORKERS="2")
    try:
        api = _api_processes(proc.pid)
        assert len(api) == 2, api
        sub_id, headers = _submission(base)
        status = f"{base}/api/submissions/{sub_id}"

        def answers() -> set[tuple[str, int]]:  # a new connection each: either process
            return {(r.headers["etag"], len(r.json()["documents"]))
                    for r in (httpx.get(status, headers=headers) for _ in range(12))}

        before = answers()
        assert len(before) == 1 and next(iter(before))[1] == 3, before
        r = httpx.post(f"{status}/documents", headers=headers, timeout=30,
                       files=[("files", ("otra.txt", b"Acta de la feria intercultural.",
                                         "text/plain"))])
        assert r.status_code == 202, r.text
        after = answers()
        assert len(after) == 1 and next(iter(after))[1] == 4, after
        assert after != before
    finally:
        proc.kill()  # the supervisor only, as the kernel's OOM killer or kill -9 would
        proc.wait(timeout=10)
    deadline = time.monotonic() + 30  # only stops a hung test
    while any(_running(pid) for pid in api) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_running(pid) for pid in api)
    with pytest.raises(httpx.ConnectError):
        httpx.get(base + "/healthz")


@pytest.mark.parametrize("service_env", ["postgresql"], indirect=True)
def test_requests_that_miss_the_cache_together_wait_for_one_build(service_env, monkeypatch):
    """After a version bump every client polling a submission misses the cache at once: one
    build, the others wait for it (25 builds side by side stalled a process for a second)."""
    import asyncio

    from service.api import submissions
    from service.app import create_app

    app = create_app()
    builds, release = [], threading.Event()
    real_build = submissions._build

    def held_build(*args):
        builds.append(args[0])
        release.wait(30)  # until the test has sent every request
        return real_build(*args)

    async def scenario():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            sub = (await c.post("/api/submissions", json={
                "organization": "Fundación Puentes del Sur"})).json()
            headers = {"Authorization": f"Bearer {sub['token']}"}
            monkeypatch.setattr(submissions, "_build", held_build)
            requests = [asyncio.create_task(c.get(f"/api/submissions/{sub['id']}",
                                                  headers=headers)) for _ in range(8)]
            while not builds:  # the first request is building
                await asyncio.sleep(0.01)
            for _ in range(50):  # the others reach the cache and find the build under way
                await asyncio.sleep(0.01)
            release.set()
            return await asyncio.gather(*requests)

    # in a thread of its own: a browser test's Playwright (sync API) keeps an event loop running
    # in this process's main thread for the session, and asyncio.run refuses to nest in it
    with ThreadPoolExecutor(1) as pool:
        answers = pool.submit(asyncio.run, scenario()).result()
    assert [r.status_code for r in answers] == [200] * 8
    assert len({r.headers["etag"] for r in answers}) == 1
    assert builds == ["status"]
