"""Fixtures for batch and reprocess tests: a migrated database, a flushed Redis, small files.

Each test gets its own database: a SQLite file, or a PostgreSQL database created for the test
(the session's shared PostgreSQL database would mix rows with other tests' submissions).
Jobs run in-process with rq's ``SimpleWorker(...).work(burst=True)``.
"""

from __future__ import annotations

import io
import uuid
import zipfile
from pathlib import Path

import pytest

from tests.conftest import PG_ADMIN_URL

#: A real RUT with a valid check digit (service.domain.submissions.normalize_rut checks it).
RUT_SOL = "76.543.210-3"


def _fresh_pg_database() -> tuple[str, str]:
    from sqlalchemy import create_engine, text

    name = f"evidencia_batch_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", name


def _drop_pg_database(name: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def service_env(request, database_url, redis_url, tmp_path, monkeypatch):
    """Settings pointing at a fresh migrated database, the test Redis DB and a temp data dir."""
    from service.db import engine_for
    from service.migrate import upgrade
    from service.settings import get_settings

    pg_name = None
    url = database_url
    if url.startswith("postgresql"):
        url, pg_name = _fresh_pg_database()
    data_dir = tmp_path / "data"
    monkeypatch.setenv("EVIDENCIA_DATABASE_URL", url)
    monkeypatch.setenv("EVIDENCIA_REDIS_URL", redis_url)
    monkeypatch.setenv("EVIDENCIA_DATA_DIR", str(data_dir))
    monkeypatch.setenv("OMP_THREAD_LIMIT", "1")
    get_settings.cache_clear()
    upgrade(url)
    yield url
    engine_for(url).dispose()
    get_settings.cache_clear()
    if pg_name:
        engine_for.cache_clear()
        _drop_pg_database(pg_name)


@pytest.fixture
def session(service_env):
    from service.db import SessionLocal

    s = SessionLocal()
    yield s
    s.close()


def run_jobs(queues=("interactive", "batch")) -> None:
    """Run every queued job in this process, as rq's own tests do."""
    from evidencia_queue.dispatch import get_queue, redis_connection
    from rq import SimpleWorker

    connection = redis_connection()
    worker = SimpleWorker([get_queue(q, connection) for q in queues], connection=connection)
    worker.work(burst=True, with_scheduler=False)


# ----------------------------------------------------------------------------- small files


def text_pdf(text: str) -> bytes:
    """A one-page PDF with a real text layer."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    y = 800
    for line in text.splitlines():
        c.drawString(60, y, line)
        y -= 16
    c.save()
    return buf.getvalue()


def zip_bytes(members: dict) -> bytes:
    """A ZIP from {name: bytes | dict}; a dict value becomes a nested ZIP."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, value in members.items():
            zf.writestr(name, zip_bytes(value) if isinstance(value, dict) else value)
    return buf.getvalue()


def write_tree(root: Path, tree: dict) -> Path:
    """Write {name: bytes | str | dict} under root; a dict is a folder, unless the name ends
    with .zip, then it is a ZIP archive (nested dicts inside become nested ZIPs)."""
    root.mkdir(parents=True, exist_ok=True)
    for name, value in tree.items():
        path = root / name
        if isinstance(value, dict) and name.endswith(".zip"):
            path.write_bytes(zip_bytes(value))
        elif isinstance(value, dict):
            write_tree(path, value)
        else:
            path.write_bytes(value.encode("utf-8") if isinstance(value, str) else value)
    return root


ACTA = (
    "Acta de constitución del Comité de Inclusión e Interculturalidad.\n"
    "En Santiago, el directorio acuerda crear el Comité de Inclusión, encargado de coordinar\n"
    "las acciones de inclusión, interculturalidad y no discriminación de la institución.\n"
)
PLAN = (
    "Plan anual de capacitación 2023.\n"
    "Se realizarán talleres de sensibilización sobre migración, interculturalidad y no\n"
    "discriminación dirigidos a todo el personal, con registro de asistencia.\n"
)
POLITICA = (
    "Política de buenas prácticas laborales.\n"
    "La institución garantiza igualdad de trato y no discriminación por nacionalidad u origen\n"
    "en los procesos de reclutamiento, selección, remuneraciones y ascensos.\n"
)
FERIA = (
    "Informe de actividades.\n"
    "Se organizó una feria intercultural abierta a la comunidad con organizaciones de personas\n"
    "migrantes, y se celebró el Día Internacional del Migrante con los trabajadores.\n"
)
COMITE = (
    "Acta de elección del comité de inclusión.\n"
    "Resultaron electos dos trabajadores de nacionalidad venezolana y una trabajadora haitiana\n"
    "como integrantes del comité de inclusión de la empresa.\n"
)
