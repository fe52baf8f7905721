"""Recovery time per fault, with no operator command: seconds from the fault until every
document is ``done`` or ``error`` again (issue 12's target: within a minute).

Everything runs on services of its own: a PostgreSQL cluster (initdb/pg_ctl, own port and
folder; a fresh database per round) and a ``redis-server`` per round, two ``evidencia worker``
processes at the default heartbeat (4 s), and scanned PDFs (OCR keeps a job running long
enough to be hit). The machine's shared services are never touched. Faults:

- ``worker-sigkill``: a whole worker (parent, work horse, scheduler) SIGKILLed mid-job;
- ``flushall``: Redis FLUSHALL mid-job;
- ``redis-restart``: Redis killed and restarted empty mid-job;
- ``postgres-restart``: PostgreSQL stopped (immediate) mid-OCR and started 5 s later;
- ``api-restart``: ``evidencia serve`` SIGKILLed as soon as an upload's documents are
  committed, restarted, and the client's retry sent with the same ``Idempotency-Key``
  (measured from the kill; the time includes the API's restart).

For comparison it also reports how long the same documents take without a fault (``none``).

Usage::

    OMP_THREAD_LIMIT=1 .venv/bin/python bench/bench_recovery.py [--rounds 1] [--scans 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.conftest import free_port  # noqa: E402
from tests.queue.outages import (  # noqa: E402
    OwnPostgres,
    OwnRedis,
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

FAULTS = ["none", "worker-sigkill", "flushall", "redis-restart", "postgres-restart",
          "api-restart"]


def _database(postgres: OwnPostgres, name: str) -> str:
    from sqlalchemy import create_engine, text

    admin = create_engine(postgres.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return postgres.url.rsplit("/", 1)[0] + f"/{name}"


def _round(fault: str, scans: int, work: Path, postgres: OwnPostgres) -> float:
    from service.db import engine_for
    from service.migrate import upgrade
    from service.settings import get_settings

    redis = OwnRedis(work / f"redis-{fault}")
    redis.start()
    url = _database(postgres, f"recovery_{fault.replace('-', '_')}")
    os.environ.update(EVIDENCIA_DATABASE_URL=url, EVIDENCIA_REDIS_URL=redis.url,
                      EVIDENCIA_DATA_DIR=str(work / f"data-{fault}"), OMP_THREAD_LIMIT="1",
                      EVIDENCIA_SECRET_KEY="clave-del-banco-de-recuperacion")
    get_settings.cache_clear()
    procs = []
    try:
        upgrade(url)
        procs = [start_worker(work / f"{fault}-worker-{i}.log") for i in range(2)]
        wait_workers(redis, 2)
        files = [(f"acta-{i}.pdf", scanned_pdf(f"Acta {i} {fault}.", 3)) for i in range(scans)]
        if fault == "api-restart":
            ids, t_fault = _api_restart(files, work)
        else:
            ids = _submit(files)
            t_submit = time.monotonic()
            wait_until(lambda: "ocr" in _stages(ids), 120, 0.1)
            t_fault = _fault(fault, ids, redis, postgres, procs) or t_submit
        wait_finished(ids, 600)
        seconds = time.monotonic() - t_fault
        final = statuses(ids)
        print(f"  {fault}: {seconds:.1f} s to all done/error ({sorted(set(final.values()))}, "
              f"{len(final)} documents)", file=sys.stderr)
        return seconds
    finally:
        for proc in procs:
            if proc.poll() is None:
                kill_whole_worker(proc)
        redis.kill()
        engine_for(url).dispose()


def _fault(fault: str, ids, redis, postgres, procs) -> float | None:
    """Inflict the fault mid-job; the moment it happened (None: no fault)."""
    if fault == "worker-sigkill":
        busy = next(i for i, s in statuses(ids).items() if s == "processing")
        name = wait_until(lambda: redis.client().get(f"evidencia:running:{busy}"), 30, 0.1)
        pid = int(redis.client().hget(f"rq:worker:{name.decode()}", "pid"))
        kill_whole_worker(next(p for p in procs if p.pid == pid))
    elif fault == "flushall":
        redis.client().flushall()
    elif fault == "redis-restart":
        redis.kill()
        time.sleep(2)
        redis.start()
    elif fault == "postgres-restart":
        from service.db import get_engine

        postgres.stop()
        t_fault = time.monotonic()
        time.sleep(5)
        postgres.start()
        get_engine().dispose()
        return t_fault
    else:
        return None
    return time.monotonic()


def _submit(files) -> list[str]:
    from service.db import SessionLocal
    from service.domain.submissions import add_files, create_submission

    with SessionLocal() as session:
        submission, _ = create_submission(session, "Banco de recuperación", None)
        return [d.id for d in add_files(session, submission, files)]


def _stages(ids) -> set[str]:
    from sqlalchemy import select

    from service.db import SessionLocal
    from service.domain.models import Document

    with SessionLocal() as session:
        return set(session.scalars(select(Document.stage).where(Document.id.in_(ids))))


def _api_restart(files, work: Path) -> tuple[list[str], float]:
    """Upload through a real API killed once the documents are committed; the client retries."""
    import httpx
    from sqlalchemy import func, select

    from service.db import SessionLocal
    from service.domain.models import Document

    port, log = free_port(), work / "api.log"
    base = f"http://127.0.0.1:{port}"
    api = start_api(log, port)
    sub = httpx.post(f"{base}/api/submissions", json={"organization": "Banco de recuperación"}
                     ).json()
    body, content_type = multipart(files)
    headers = {"Authorization": f"Bearer {sub['token']}", "Content-Type": content_type,
               "Idempotency-Key": "banco-1"}
    url = f"{base}/api/submissions/{sub['id']}/documents"
    killed: list[float] = []

    def committed() -> int:
        with SessionLocal() as session:
            return session.scalar(select(func.count()).select_from(Document)
                                  .where(Document.submission_id == sub["id"]))

    def kill_once_committed() -> None:
        wait_until(committed, 60, poll=0.005)
        api.kill()
        killed.append(time.monotonic())

    killer = threading.Thread(target=kill_once_committed)
    killer.start()
    try:
        httpx.post(url, content=body, headers=headers, timeout=60)
    except httpx.TransportError:
        pass
    killer.join(60)
    api.wait(10)
    api = start_api(log, port)
    try:
        answer = httpx.post(url, content=body, headers=headers, timeout=60)
        answer.raise_for_status()
    finally:
        api.terminate()
        api.wait(10)
    return [d["id"] for d in answer.json()["documents"]], killed[0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--scans", type=int, default=3)
    ap.add_argument("--faults", nargs="+", default=FAULTS, choices=FAULTS)
    args = ap.parse_args()
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    results: dict[str, list[float]] = {}
    postgres = OwnPostgres()
    postgres.start()
    try:
        with tempfile.TemporaryDirectory(prefix="evidencia-recovery-") as tmp:
            for n in range(args.rounds):
                for fault in args.faults:
                    work = Path(tmp) / f"round-{n}"
                    work.mkdir(exist_ok=True)
                    results.setdefault(fault, []).append(
                        _round(fault, args.scans, work, postgres))
                    _drop(postgres, f"recovery_{fault.replace('-', '_')}")
    finally:
        postgres.remove()
    print(f"# {args.scans} scanned PDFs of 3 pages, 2 workers (heartbeat 4 s), own PostgreSQL "
          f"and Redis; load before {load}")
    print(f"{'fault':>17} {'seconds after the fault until all documents ended':>52}")
    for fault, values in results.items():
        label = "(no fault: from submit)" if fault == "none" else ""
        print(f"{fault:>17} {statistics.median(values):>8.1f}  "
              f"(runs: {', '.join(f'{v:.1f}' for v in values)}) {label}")
    return 0


def _drop(postgres: OwnPostgres, name: str) -> None:
    from sqlalchemy import create_engine, text

    from service.db import engine_for

    engine_for.cache_clear()
    admin = create_engine(postgres.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


if __name__ == "__main__":
    sys.exit(main())
