"""API under concurrent load: status and matrix latency, and whether the API keeps answering.

A real ``evidencia serve`` (uvicorn) and one worker, as separate processes, on PostgreSQL; one
submission of ``--documents`` processed text PDFs. Then ``wrk`` (``apt-get install wrk``) holds
N connections open on ``GET /api/submissions/{id}`` (status) and ``.../matrix``, each for
``--seconds``; the reported figures are wrk's p50/p99 latency and requests per second, with
errors (timeouts, non-2xx). Meanwhile a separate client asks ``/healthz`` every 100 ms: its
latency shows whether requests that need no database still get through. A mixed round splits
the connections between status and matrix (the issue's "25 clients on each").

Usage::

    OMP_THREAD_LIMIT=1 .venv/bin/python bench/bench_api_load.py [--connections 50 100 200]
        [--seconds 10] [--documents 12] [--api-workers 1] [--redis redis://127.0.0.1:6379/14]

PostgreSQL is the one ``bench_batch.py`` uses (a database created and dropped per run).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_batch import _drop_db, _fresh_db  # noqa: E402
from bench_service import Service, text_pdf  # noqa: E402

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * _UNITS[unit]


def run_wrk(url: str, token: str, connections: int, seconds: int) -> dict:
    out = subprocess.run(
        ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s",
         "--timeout", "10s", "--latency", "-H", f"Authorization: Bearer {token}", url],
        capture_output=True, text=True, check=True,
    ).stdout
    percentiles = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", out, re.M))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    total = re.search(r"(\d+) requests in", out)
    return {
        "connections": connections,
        "requests": int(total.group(1)) if total else 0,
        "req_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50_ms": round(_ms(percentiles["50"]), 1) if "50" in percentiles else None,
        "p99_ms": round(_ms(percentiles["99"]), 1) if "99" in percentiles else None,
        "timeouts": int(errors.group(4)) if errors else 0,
        "socket_errors": sum(int(g) for g in errors.groups()[:3]) if errors else 0,
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
    }


class HealthProbe(threading.Thread):
    """``/healthz`` every 100 ms on its own connection; latencies in ms (30 s = no answer)."""

    def __init__(self, base: str):
        super().__init__(daemon=True)
        self.base, self.latencies, self._done = base, [], threading.Event()

    def run(self):
        with httpx.Client(timeout=30) as client:
            while not self._done.is_set():
                t0 = time.perf_counter()
                try:
                    client.get(f"{self.base}/healthz").raise_for_status()
                    self.latencies.append((time.perf_counter() - t0) * 1000)
                except httpx.HTTPError:
                    self.latencies.append(30_000.0)
                self._done.wait(0.1)

    def stop(self) -> dict:
        self._done.set()
        self.join()
        lat = sorted(self.latencies) or [float("nan")]
        return {"healthz_p50_ms": round(statistics.median(lat), 1),
                "healthz_max_ms": round(lat[-1], 1), "healthz_probes": len(self.latencies)}


def load_round(svc: Service, paths: list[str], token: str, connections: int,
               seconds: int) -> list[dict]:
    """wrk on each path at once (connections split evenly), with the /healthz probe."""
    probe = HealthProbe(svc.base)
    probe.start()
    share = max(1, connections // len(paths))
    results: list[dict] = [{}] * len(paths)

    def one(i: int, path: str) -> None:
        results[i] = {"path": path.rsplit("/", 1)[-1] if "matrix" in path else "status",
                      **run_wrk(svc.base + path, token, share, seconds)}

    threads = [threading.Thread(target=one, args=(i, p)) for i, p in enumerate(paths)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    health = probe.stop()
    return [{**r, **health} for r in results]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--connections", type=int, nargs="+", default=[50, 100, 200])
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--documents", type=int, default=12)
    ap.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    ap.add_argument("--api-workers", type=int, default=1, help="evidencia serve --workers")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is missing: apt-get install wrk", file=sys.stderr)
        return 2

    load_before = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    database_url, db_name = _fresh_db("postgresql", Path("."), "api_load")
    rows: list[dict] = []
    try:
        with Service(1, args.redis, database_url,
                     serve_args=("--workers", str(args.api_workers))) as svc:
            files = [(f"informe-{i}.pdf", text_pdf(i, 3, seed=int(time.time())))
                     for i in range(args.documents)]
            sub_id, token = svc.submit(files)
            matrix = svc.wait_matrix(sub_id, token)
            status_url = f"/api/submissions/{sub_id}"
            sizes = {
                "status_bytes": len(httpx.get(svc.base + status_url, headers={
                    "Authorization": f"Bearer {token}"}).content),
                "matrix_bytes": len(json.dumps(matrix).encode()),
            }
            print(f"# {args.documents} documents; {sizes}", file=sys.stderr)
            for path in (status_url, status_url + "/matrix"):  # warm-up
                run_wrk(svc.base + path, token, 4, 2)
            for n in args.connections:
                for paths in ([status_url], [status_url + "/matrix"],
                              [status_url, status_url + "/matrix"]):
                    for row in load_round(svc, paths, token, n, args.seconds):
                        row["round"] = "mixed" if len(paths) == 2 else "alone"
                        row["total_connections"] = n
                        rows.append(row)
                        print(json.dumps(row), file=sys.stderr)
    finally:
        _drop_db(db_name)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"# load average before: {load_before}")
    print(f"{'conns':>5} {'round':>5} {'path':>6} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'errors':>6} {'healthz p50/max ms':>19}")
    for r in rows:
        errors = r["timeouts"] + r["socket_errors"] + r["non_2xx"]
        print(f"{r['total_connections']:>5} {r['round']:>5} {r['path']:>6} {r['req_s']:>7.0f} "
              f"{r['p50_ms'] or float('nan'):>8.1f} {r['p99_ms'] or float('nan'):>8.1f} "
              f"{errors:>6} {r['healthz_p50_ms']:>9.1f}/{r['healthz_max_ms']:<9.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
