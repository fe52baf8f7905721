"""Outages for the recovery tests and ``bench/bench_recovery.py``: a Redis server and a
PostgreSQL cluster of their own (own ports, own folders), real ``evidencia worker`` processes,
SIGKILL, FLUSHALL, Redis and PostgreSQL restarts. The machine's shared services are never
touched."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import REPO, free_port


class OwnRedis:
    """``redis-server`` on a free port, data in ``folder`` (no persistence: a restart loses
    everything, as a crashed Redis without AOF does)."""

    def __init__(self, folder: Path):
        self.folder, self.port, self.proc = folder, free_port(), None
        folder.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir",
             str(self.folder), "--save", "", "--appendonly", "no"],
            stdout=(self.folder / "redis.log").open("ab"), stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if self.client().ping():
                    return
            except Exception:
                time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def client(self):
        import redis

        return redis.Redis.from_url(self.url, socket_connect_timeout=1, socket_timeout=5)


class OwnPostgres:
    """A PostgreSQL cluster of its own: ``initdb`` in a fresh folder, ``pg_ctl`` on a free port
    (trust, no fsync: it is thrown away). Run as the ``postgres`` user when the tests run as
    root, which ``initdb`` refuses."""

    def __init__(self):
        import tempfile

        self.folder = Path(tempfile.mkdtemp(prefix="evidencia-pg-"))
        self.data, self.port = self.folder / "data", free_port()
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run(_pg_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                  "-E", "UTF8", "--no-sync", "--no-instructions")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*as_postgres, *args], check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "pg.log"),
                  "-o", options, "-w", "-t", "60", "start")

    def stop(self) -> None:
        """As a crash would: connections cut, nothing flushed politely."""
        self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def remove(self) -> None:
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass  # not running
        shutil.rmtree(self.folder, ignore_errors=True)


def _pg_bin(name: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    return str(found[-1]) if found else name


def start_worker(log: Path, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "service.cli", "worker", "--ocr-threads", "1"],
        cwd=REPO, env={**os.environ, "EVIDENCIA_LOG_LEVEL": "INFO", **(env or {})},
        stdout=log.open("ab"), stderr=subprocess.STDOUT,
    )


def start_api(log: Path, port: int) -> subprocess.Popen:
    """``evidencia serve`` (uvicorn) on ``port``, answering once this returns; one process,
    so that killing it kills the API."""
    from tests.conftest import start_serve

    return start_serve(log, port, log_level="INFO", timeout=90, API_WORKERS="1")


def multipart(files: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    """A multipart/form-data body of ``files`` (field ``files``) and its content type."""
    boundary = "evidencia-fallas-7d1f"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
             f'filename="{name}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
             + data + b"\r\n" for name, data in files]
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def wait_workers(redis: OwnRedis, n: int, timeout: float = 120) -> None:
    """Until ``n`` workers are registered (a worker registers after loading its models)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if redis.client().scard("rq:workers") >= n:
            return
        time.sleep(0.3)
    raise TimeoutError(f"fewer than {n} workers registered")


def descendants(pid: int, *, direct: bool = False) -> list[int]:
    """Every process below ``pid`` (work horse, scheduler, Tesseract), or only its children."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    if direct:
        return children.get(pid, [])
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    """``pid`` runs (a zombie waiting for its parent to reap it does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def kill_whole_worker(proc: subprocess.Popen) -> None:
    """SIGKILL a worker and everything it started, as a machine or container dying would."""
    for pid in [proc.pid, *descendants(proc.pid)]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(timeout=10)


def statuses(document_ids: list[str]) -> dict[str, str]:
    from sqlalchemy import select

    from service.db import SessionLocal
    from service.domain.models import Document

    with SessionLocal() as session:
        rows = session.execute(
            select(Document.id, Document.status).where(Document.id.in_(document_ids)))
        return dict(rows.all())


def wait_until(predicate, timeout: float, poll: float = 0.5):
    """The first truthy value of ``predicate()``, or TimeoutError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll)
    raise TimeoutError(f"still waiting after {timeout:.0f} s")


def wait_finished(document_ids: list[str], timeout: float) -> float:
    """Seconds until every document is ``done`` or ``error``."""
    t0 = time.monotonic()
    wait_until(lambda: set(statuses(document_ids).values()) <= {"done", "error"}, timeout)
    return time.monotonic() - t0


def scanned_pdf(text: str, pages: int) -> bytes:
    """An image-only PDF (OCR needed: 0.2-1.5 s a page, by the machine's load), so a job lasts
    long enough to hit."""
    import io

    import pypdfium2 as pdfium

    from tests.conftest import make_text_pdf

    source = pdfium.PdfDocument(make_text_pdf([f"{text}\nPágina {i + 1}." for i in range(pages)]))
    images = [source[i].render(scale=150 / 72).to_pil().convert("L") for i in range(pages)]
    buf = io.BytesIO()
    images[0].save(buf, format="PDF", resolution=150, save_all=True, append_images=images[1:])
    return buf.getvalue()
