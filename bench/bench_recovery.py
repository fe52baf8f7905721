"""Recovery time per fault, with no operator command: seconds from the fault until every
document is ``done`` or ``error`` again (issue 12's target: within a minute).

Each round starts its own ``redis-server`` (own port, own folder; the shared one is never
touched), a fresh PostgreSQL database, two ``evidencia worker`` processes, and submits scanned
PDFs (OCR keeps a job running long enough to be hit). Faults: SIGKILL of a whole worker
(parent, work horse, scheduler) mid-job; FLUSHALL mid-job; Redis killed and restarted empty
mid-job. For comparison it also reports how long the same documents take without a fault.

Usage::

    OMP_THREAD_LIMIT=1 .venv/bin/python bench/bench_recovery.py [--rounds 1] [--scans 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from bench_batch import _drop_db, _fresh_db  # noqa: E402

from tests.queue.outages import (  # noqa: E402
    OwnRedis,
    kill_whole_worker,
    scanned_pdf,
    start_worker,
    statuses,
    wait_finished,
    wait_until,
    wait_workers,
)


def _round(fault: str, scans: int, work: Path) -> float:
    from service.db import engine_for
    from service.domain.submissions import add_files, create_submission
    from service.migrate import upgrade
    from service.settings import get_settings

    redis = OwnRedis(work / f"redis-{fault}")
    redis.start()
    url, db_name = _fresh_db("postgresql", work, "recovery")
    os.environ.update(EVIDENCIA_DATABASE_URL=url, EVIDENCIA_REDIS_URL=redis.url,
                      EVIDENCIA_DATA_DIR=str(work / f"data-{fault}"), OMP_THREAD_LIMIT="1")
    get_settings.cache_clear()
    procs = []
    try:
        upgrade(url)
        procs = [start_worker(work / f"{fault}-worker-{i}.log") for i in range(2)]
        wait_workers(redis, 2)
        from service.db import SessionLocal

        files = [(f"acta-{i}.pdf", scanned_pdf(f"Acta {i} {fault}.", 3)) for i in range(scans)]
        with SessionLocal() as session:
            submission, _ = create_submission(session, "Banco de recuperación", None)
            ids = [d.id for d in add_files(session, submission, files)]
        t_submit = time.monotonic()
        wait_until(lambda: [i for i, s in statuses(ids).items() if s == "processing"], 120, 0.1)
        if fault == "worker-sigkill":
            busy = next(i for i, s in statuses(ids).items() if s == "processing")
            name = redis.client().get(f"evidencia:running:{busy}").decode()
            pid = int(redis.client().hget(f"rq:worker:{name}", "pid"))
            kill_whole_worker(next(p for p in procs if p.pid == pid))
        elif fault == "flushall":
            redis.client().flushall()
        elif fault == "redis-restart":
            redis.kill()
            time.sleep(2)
            redis.start()
        t_fault = time.monotonic()
        wait_finished(ids, 600)
        seconds = time.monotonic() - (t_fault if fault != "none" else t_submit)
        final = statuses(ids)
        print(f"  {fault}: {seconds:.1f} s to all done/error ({sorted(set(final.values()))})",
              file=sys.stderr)
        return seconds
    finally:
        for proc in procs:
            if proc.poll() is None:
                kill_whole_worker(proc)
        redis.kill()
        engine_for(url).dispose()
        _drop_db(db_name)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--scans", type=int, default=3)
    ap.add_argument("--faults", nargs="+",
                    default=["none", "worker-sigkill", "flushall", "redis-restart"])
    args = ap.parse_args()
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    results: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="evidencia-recovery-") as tmp:
        for _ in range(args.rounds):
            for fault in args.faults:
                results.setdefault(fault, []).append(_round(fault, args.scans, Path(tmp)))
    print(f"# {args.scans} scanned PDFs of 3 pages, 2 workers, PostgreSQL; load before {load}")
    print(f"{'fault':>15} {'seconds after the fault until all documents ended':>52}")
    for fault, values in results.items():
        label = "(no fault: from submit)" if fault == "none" else ""
        print(f"{fault:>15} {statistics.median(values):>8.1f}  "
              f"(runs: {', '.join(f'{v:.1f}' for v in values)}) {label}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
