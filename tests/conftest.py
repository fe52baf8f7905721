"""Shared fixtures: the real Redis and PostgreSQL this machine runs.

Redis tests use one dedicated database number (``EVIDENCIA_TEST_REDIS_DB``, default 15), flushed
before and after each test, as rq's own suite does; under pytest-xdist (``scripts/test`` runs two
processes) each worker takes its own pair, two below the previous worker's (see
``REDIS_TEST_DB``). PostgreSQL tests get a fresh database created for the test session and
dropped afterwards, so parallel runs never see each other's rows.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from tests.documents import TRAINING_PLAN_TEXT, make_text_pdf

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("EVIDENCIA_SHARED_DIR", REPO.parent / "shared"))
PEERS = SHARED / "corpus" / "peers"
SAMPLES = REPO / "samples"

REDIS_HOST_URL = os.environ.get("EVIDENCIA_TEST_REDIS", "redis://127.0.0.1:6379")
#: pytest-xdist's worker number (0 without xdist): gw0 uses databases 15 and 14 (the browser tests'
#: server, tests/service/web/conftest.py), gw1 13 and 12, and so on; a flush never reaches
#: another worker's jobs.
XDIST_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
REDIS_TEST_DB = int(os.environ.get("EVIDENCIA_TEST_REDIS_DB", "15")) - 2 * XDIST_WORKER
assert REDIS_TEST_DB > 1, "never run tests against Redis DB 0: too many xdist workers for this base"
PG_ADMIN_URL = os.environ.get(
    "EVIDENCIA_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
#: The API refuses to start without a secret key of its own (service.security); every app and
#: server the tests start (in-process or as a subprocess inheriting this environment) gets one.
os.environ.setdefault("EVIDENCIA_SECRET_KEY", "clave-de-pruebas-" + uuid.uuid4().hex)
#: One API process per ``evidencia serve`` the tests start (the default is one per core): the
#: tests count the database turns of one process and SIGKILL the API as one process. The
#: several-process server has its own test (tests/service/api/test_concurrency.py).
os.environ.setdefault("EVIDENCIA_API_WORKERS", "1")


#: The heaviest test files, heaviest first (pytest's own seconds per file on this machine, the
#: full suite under ``scripts/test``): collected first, so that pytest-xdist hands them out
#: first and the light files fill in around them. ``--dist loadfile`` gives whole files to the
#: two processes in collection order (``pytest_configure`` below turns off xdist's own reorder,
#: by number of tests, which left a one-test file of three minutes for last: one process
#: idled while the other ran it).
HEAVY_FILES = (
    "tests/classifiers/test_pattern_edits.py",
    "tests/classifiers/test_matcher_differential.py",
    "tests/queue/test_recovery.py",
    "tests/classifiers/test_token_rows.py",
    "tests/extractors/test_peer_corpus.py",
    "tests/classifiers/test_tokens.py",
    "tests/classifiers/test_token_arrays_differential.py",
    "tests/service/api/test_applicant_feedback.py",
    "tests/service/api/test_report.py",
    "tests/service/api/test_api.py",
    "tests/service/api/test_fuzz.py",
    "tests/classifiers/test_readings.py",
    "tests/service/cli/test_batch.py",
    "tests/service/domain/test_training.py",
    "tests/service/cli/test_reprocess.py",
    "tests/service/api/test_login_limits.py",
)


def pytest_configure(config) -> None:
    if hasattr(config.option, "loadscopereorder"):  # pytest-xdist's: keep the order below
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(config, items) -> None:
    """The files of ``HEAVY_FILES`` first, in its order; the rest as collected."""
    rank = {name: k for k, name in enumerate(HEAVY_FILES)}

    def heavy_first(item) -> int:
        path = item.nodeid.split("::", 1)[0]
        return rank.get(path, len(rank))

    items.sort(key=heavy_first)  # stable: each file's tests keep their order


@pytest.fixture(autouse=True)
def _classifier_state_restored():
    """What a test changes of the classifier's process-wide state is put back after it: the
    annotation and reading caches' folders and the second-stage model in force. A test that runs
    the pipeline in this process (an in-process worker, ``evidencia reprocess --inline``) loads
    the classifier with its data folder and its promoted model, and the next test in the process
    would inherit them (a cached reading instead of an analysis; another model): under
    pytest-xdist the files a process runs, and their order, differ from run to run."""
    import classifiers  # cheap (the model and spaCy load later, on demand)
    from classifiers import annotation_cache, readings

    saved = (annotation_cache.annotation_dir(), readings.reading_dir(),
             classifiers.second_stage_model, classifiers.second_stage_refusal,
             classifiers.CLASSIFIER_VERSION, classifiers._model_seen)
    yield
    annotation_cache.use_annotation_cache(saved[0])
    readings.use_reading_cache(saved[1])
    (classifiers.second_stage_model, classifiers.second_stage_refusal,
     classifiers.CLASSIFIER_VERSION, classifiers._model_seen) = saved[2:]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc, log: Path, timeout: float = 45) -> None:
    """Block until ``url`` answers (any status below 500); fail with the log if ``proc`` dies."""
    import time
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status < 500:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server did not answer at {url}:\n{log.read_text()[-3000:]}")


def stop_process(proc) -> None:
    """SIGTERM, then SIGKILL if it has not exited within 10 s."""
    import subprocess

    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def start_serve(log: Path, port: int, *, log_level: str = "WARNING", timeout: float = 45,
                **settings: str):
    """A real ``evidencia serve`` on ``port``, answering once this returns, its output appended
    to ``log``; ``settings`` are ``EVIDENCIA_*`` values (``DB_POOL_SIZE="2"``). Stopped again if
    it never answers."""
    import subprocess
    import sys

    env = {**os.environ, "EVIDENCIA_LOG_LEVEL": log_level,
           **{f"EVIDENCIA_{name}": value for name, value in settings.items()}}
    proc = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "serve", "--port", str(port)],
        cwd=REPO, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", proc, log, timeout=timeout)
    except BaseException:
        stop_process(proc)
        raise
    return proc


@pytest.fixture
def redis_url() -> str:
    """URL of a flushed Redis database reserved for tests."""
    import redis

    url = f"{REDIS_HOST_URL}/{REDIS_TEST_DB}"
    conn = redis.Redis.from_url(url)
    conn.flushdb()
    yield url
    conn.flushdb()
    conn.close()


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """URL of a PostgreSQL database created for this test session."""
    from sqlalchemy import create_engine, text

    name = f"evidencia_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    from service.db import engine_for

    engine_for(url).dispose()
    engine_for.cache_clear()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    """Each test using it runs twice: on a SQLite file and on the real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'evidencia.db'}"
    return request.getfixturevalue("postgres_url")


# --- service and queue fixtures (service engineer; used by tests/service and tests/queue) ------


@pytest.fixture(scope="session")
def _migrated_sqlite(tmp_path_factory) -> Path:
    """A SQLite file the migrations built, once per test process: each test's database is a
    copy of it (``migrated_database``). The migrations run in this process, as before, and the
    copy is the very file they built; only building it again for every test is saved."""
    from service.db import engine_for
    from service.migrate import upgrade

    path = tmp_path_factory.mktemp("migrated") / "evidencia.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    engine_for(url).dispose()  # WAL checkpointed: the file alone holds the schema
    return path


@pytest.fixture(scope="session")
def _migrated_postgres():
    """The name of a PostgreSQL database the migrations built, once per test process: each
    test's database is created from it (``CREATE DATABASE ... TEMPLATE``, a copy of its files)."""
    from sqlalchemy import create_engine, text

    from service.db import engine_for
    from service.migrate import upgrade

    name = f"evidencia_tpl_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    engine_for(url).dispose()  # a template takes no connections while it is copied
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def migrated_database(request, kind: str, path: Path, prefix: str) -> tuple[str, str | None]:
    """(URL, PostgreSQL name or None) of a new database with the migrated schema: a copy of the
    test process's migrated SQLite file at ``path``, or a new PostgreSQL database named
    ``prefix`` + a random suffix made from the migrated template. Alembic migrated 11 revisions
    per test before (0.3 s on SQLite, 0.7 s on PostgreSQL here); a copy takes milliseconds on
    SQLite and ~0.3 s on PostgreSQL. The migrations themselves: tests/service/test_migrations.py."""
    import shutil

    from sqlalchemy import create_engine, text

    if kind == "sqlite":
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(request.getfixturevalue("_migrated_sqlite"), path)
        return f"sqlite:///{path}", None
    template = request.getfixturevalue("_migrated_postgres")
    name = f"{prefix}{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", name


def drop_database(name: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def service_env(request, tmp_path, redis_url, monkeypatch):
    """A migrated database (fresh per test: SQLite file or new PostgreSQL database, copies of
    the migrated one, ``migrated_database``), the test Redis and a data folder, all set through
    ``EVIDENCIA_*`` as a deployment would."""
    from types import SimpleNamespace

    from service.db import engine_for
    from service.settings import get_settings

    url, pg_name = migrated_database(request, request.param, tmp_path / "evidencia.db",
                                     "evidencia_svc_")
    data_dir = tmp_path / "data"
    monkeypatch.setenv("EVIDENCIA_DATABASE_URL", url)
    monkeypatch.setenv("EVIDENCIA_REDIS_URL", redis_url)
    monkeypatch.setenv("EVIDENCIA_DATA_DIR", str(data_dir))
    monkeypatch.setenv("EVIDENCIA_PUBLIC_URL", "http://testserver")
    monkeypatch.setenv("OMP_THREAD_LIMIT", "1")
    # no SMTP server unless the test asks for one (the ``smtp`` fixtures): the browser tests'
    # session-wide server sets these in the process for their own worker
    for key in ("EVIDENCIA_SMTP_HOST", "EVIDENCIA_SMTP_PORT", "EVIDENCIA_SMTP_TLS",
                "EVIDENCIA_SMTP_FROM"):
        monkeypatch.delenv(key, raising=False)
    get_settings.cache_clear()
    yield SimpleNamespace(url=url, redis_url=redis_url, data_dir=data_dir, kind=request.param)
    engine_for(url).dispose()
    get_settings.cache_clear()
    if pg_name:
        drop_database(pg_name)


@pytest.fixture
def session(service_env):
    """A database session on the test's migrated database."""
    from service.db import SessionLocal

    s = SessionLocal()
    yield s
    s.close()


@pytest.fixture
def run_worker_burst(service_env):
    """Run every queued job in this process (rq SimpleWorker, burst), interactive first."""

    def run(max_jobs: int | None = None, requeue: bool = False) -> None:
        from evidencia_queue.dispatch import get_queue, redis_connection
        from evidencia_queue.worker import BoundedExit, run_worker
        from rq import SimpleWorker

        if max_jobs is None:
            run_worker(simple=True, burst=True, with_scheduler=False, do_requeue=requeue)
            return

        class Worker(BoundedExit, SimpleWorker):
            """rq's own, without the recovery's sweep, exiting at once (a bare SimpleWorker
            once took 60 s to leave: test_redis_flushed_midway in the suite)."""

        connection = redis_connection()
        queues = [get_queue(q, connection) for q in ("interactive", "batch")]
        Worker(queues, connection=connection).work(burst=True, max_jobs=max_jobs)

    return run


@pytest.fixture
def text_pdf():
    """``text_pdf(["page 1 text", ...]) -> bytes``: a small born-digital PDF."""
    return make_text_pdf


@pytest.fixture
def training_plan_pdf() -> bytes:
    return make_text_pdf([TRAINING_PLAN_TEXT])
