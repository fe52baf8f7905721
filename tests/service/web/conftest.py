"""Browser-test fixtures: a real server, a real rq worker, Debian's Chromium.

One test session starts, in subprocesses with the same ``EVIDENCIA_*`` environment,
``evidencia serve`` (API + web pages) on a free localhost port and ``evidencia worker`` (rq, the
real extractor and classifier); both use a temporary SQLite database (built by the Alembic
migrations) and the Redis database just below the test one (``tests.conftest.REDIS_TEST_DB``,
flushed before and after): the worker lives for the whole session, so on the other tests'
database it would take their jobs. Playwright drives ``/usr/bin/chromium``; no browser is
downloaded. Screenshots go to ``artifacts/screenshots/``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.conftest import REDIS_TEST_DB, free_port, stop_process, wait_http

REPO = Path(__file__).resolve().parents[3]
SAMPLES = REPO / "samples"
SCREENSHOTS = REPO / "artifacts" / "screenshots"
CHROMIUM = os.environ.get("EVIDENCIA_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REVIEWER = ("revisora", "clave-de-prueba-123")
#: A file whose name and text are markup: pages must show them as text, never run them.
HOSTILE_NAME = 'acta <img src=x onerror="window.__xss=1">.txt'
HOSTILE_TEXT = (  # no <script> or <b>: libmagic would call it HTML and the upload refuses it
    "Acta de reunión del Comité de Inclusión e Interculturalidad, <i>sesión 3</i>.\n"
    'Nota del sistema anterior: <svg onload="window.__xss=1"> fin de la nota.\n'
)
#: Seconds to wait for the worker to finish a handful of text documents (first job warms up).
PROCESSING_TIMEOUT = 120


@pytest.fixture(scope="session")
def web_server(tmp_path_factory):
    """Base URL of a running server + worker (its e-mails go to ``smtp``, an SMTP server in
    this process), with a reviewer account; env set in-process too."""
    import redis

    data_dir = tmp_path_factory.mktemp("web-data")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    redis_host = os.environ.get("EVIDENCIA_TEST_REDIS", "redis://127.0.0.1:6379")
    redis_db = REDIS_TEST_DB - 1
    assert redis_db > 0, "never run tests against Redis DB 0"
    redis_url = f"{redis_host}/{redis_db}"
    from tests.smtp import SmtpSink

    smtp = SmtpSink().__enter__()  # the worker's outcome e-mails land here
    env_vars = {
        **smtp.env(),
        "EVIDENCIA_DATA_DIR": str(data_dir),
        "EVIDENCIA_DATABASE_URL": f"sqlite:///{data_dir / 'evidencia.db'}",
        "EVIDENCIA_REDIS_URL": redis_url,
        "EVIDENCIA_SECRET_KEY": "clave-de-pruebas-web",
        "EVIDENCIA_PUBLIC_URL": base_url,
        "OMP_THREAD_LIMIT": "1",
    }
    saved = {k: os.environ.get(k) for k in env_vars}
    os.environ.update(env_vars)
    from service.db import engine_for
    from service.settings import get_settings

    get_settings.cache_clear()
    conn = redis.Redis.from_url(redis_url)
    conn.flushdb()

    from service.migrate import upgrade

    upgrade()
    from service.db import SessionLocal
    from service.domain.access import create_user

    with SessionLocal() as session:
        create_user(session, *REVIEWER)

    env = {**os.environ, **env_vars}
    server_log = data_dir / "server.log"
    worker_log = data_dir / "worker.log"
    evidencia = [sys.executable, "-m", "service.cli"]
    server = subprocess.Popen(
        [*evidencia, "serve", "--port", str(port)],
        cwd=REPO, env=env, stdout=server_log.open("wb"), stderr=subprocess.STDOUT,
    )
    worker = subprocess.Popen(
        [*evidencia, "worker"],
        cwd=REPO, env=env, stdout=worker_log.open("wb"), stderr=subprocess.STDOUT,
    )
    try:
        wait_http(base_url + "/", server, server_log)
        yield SimpleNamespace(
            url=base_url, data_dir=data_dir, server_log=server_log, worker_log=worker_log,
            worker=worker, smtp=smtp,
        )
    finally:
        stop_process(worker)
        stop_process(server)
        smtp.__exit__(None, None, None)
        conn.flushdb()
        conn.close()
        engine_for(env_vars["EVIDENCIA_DATABASE_URL"]).dispose()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        get_settings.cache_clear()


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        missing = f"{CHROMIUM} not installed (scripts/setup installs Debian's chromium)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{missing}: CI must run the browser tests", pytrace=False)
        pytest.skip(missing)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_page(chromium, web_server):
    """A fresh browser context (no cookies) at laptop size, with downloads accepted."""
    context = chromium.new_context(
        base_url=web_server.url, viewport={"width": 1280, "height": 900}, accept_downloads=True,
        locale="es-CL",
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def screenshot():
    """``screenshot(page, "name")`` saves a full-page PNG under artifacts/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str, full_page: bool = True) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take


def _wait_processed(submission_id: str, web_server, timeout: float = PROCESSING_TIMEOUT) -> None:
    """Block until no document of the submission is queued or processing (read from the DB)."""
    from sqlalchemy import select

    from service.db import SessionLocal
    from service.domain.models import Document

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with SessionLocal() as session:
            statuses = list(
                session.scalars(select(Document.status).where(
                    Document.submission_id == submission_id))
            )
        if statuses and all(s in ("done", "error") for s in statuses):
            return
        if web_server.worker.poll() is not None:
            raise RuntimeError(f"worker died:\n{web_server.worker_log.read_text()[-3000:]}")
        time.sleep(0.3)
    raise TimeoutError(
        f"documents still pending after {timeout}s: {statuses}\n"
        f"{web_server.worker_log.read_text()[-3000:]}"
    )


@pytest.fixture(scope="session")
def processed_submission(web_server):
    """Three sample documents (text PDFs, a DOCX) and a hostile text file, fully processed."""
    from service.db import SessionLocal
    from service.domain.submissions import add_files, create_submission

    names = ["informe-actividades-2025.pdf", "plan-capacitacion-2025.pdf",
             "politica-inclusion.docx"]
    with SessionLocal() as session:
        submission, token = create_submission(
            session, "Logística Andina SpA", "77.111.222-6"
        )
        files = [(n, (SAMPLES / "demo" / n).read_bytes()) for n in names]
        files.append((HOSTILE_NAME, HOSTILE_TEXT.encode()))
        add_files(session, submission, files)
        submission_id = submission.id
    _wait_processed(submission_id, web_server)
    return SimpleNamespace(id=submission_id, token=token, names=names, hostile=HOSTILE_NAME,
                           hostile_text=HOSTILE_TEXT)


@pytest.fixture
def wait_processed(web_server):
    """``wait_processed(submission_id)``: block until the worker finished every document."""
    return lambda submission_id, timeout=PROCESSING_TIMEOUT: _wait_processed(
        submission_id, web_server, timeout
    )


@pytest.fixture
def reviewer():
    """Name and password of the reviewer account the session created."""
    return SimpleNamespace(username=REVIEWER[0], password=REVIEWER[1])
