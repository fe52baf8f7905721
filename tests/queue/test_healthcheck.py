"""The container's HEALTHCHECK (scripts/healthcheck), run as the image runs it, against the real
Redis: a worker is healthy only while it is registered from this host with a live process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from redis import Redis
from rq import Queue, Worker

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "healthcheck"


def _check(*args: str, redis_url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "EVIDENCIA_REDIS_URL": redis_url}
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=60
    )


def test_worker_is_healthy_only_while_registered(redis_url):
    before = _check("worker", redis_url=redis_url)
    assert before.returncode == 1
    assert "no live rq worker registered from " + socket.gethostname() in before.stderr

    connection = Redis.from_url(redis_url)
    worker = Worker([Queue("interactive", connection=connection)], connection=connection)
    worker.register_birth()  # this test process: this host, a live pid
    try:
        assert _check("worker", redis_url=redis_url).returncode == 0
    finally:
        worker.register_death()
    assert _check("worker", redis_url=redis_url).returncode == 1


def test_worker_without_redis_is_unhealthy():
    result = _check("worker", redis_url="redis://127.0.0.1:1/0")
    assert result.returncode == 1
    assert "Redis" in result.stderr


def test_serve_is_unhealthy_when_healthz_does_not_answer(redis_url):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = _check("serve", "--port", str(port), redis_url=redis_url)
    assert result.returncode == 1
    assert f"/healthz on port {port}" in result.stderr


def test_other_commands_have_nothing_to_check(redis_url):
    assert _check("db", "upgrade", redis_url=redis_url).returncode == 0
