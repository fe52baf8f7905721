"""API under concurrent load: status and matrix latency, and whether the API keeps answering.

A real ``evidencia serve`` (uvicorn) and two workers, as separate processes, on PostgreSQL; one
submission of ``--documents`` processed text PDFs. Then N clients hold keep-alive connections on
``GET /api/submissions/{id}`` (status) and ``.../matrix``, each for ``--seconds``, one request
after another; the reported figures are p50/p99 latency, requests per second and errors
(timeouts, non-2xx), with the CPU seconds the API process spent in the round (the machine is
shared: CPU time says what wall time cannot). Meanwhile a separate client asks ``/healthz``
every 100 ms: its latency shows whether requests that need no database still get through. A
mixed round splits the connections between status and matrix (the issue's "25 clients on each").

The clients are ``wrk`` when installed, else a small asyncio HTTP/1.1 client in a separate
process (raw keep-alive sockets, so the generator costs little CPU next to the server).

Usage::

    OMP_THREAD_LIMIT=1 .venv/bin/python bench/bench_api_load.py [--connections 50 100 200]
        [--seconds 10] [--documents 12] [--api-workers N] [--workers 2]
        [--redis redis://127.0.0.1:6379/14] [--client python|wrk]

PostgreSQL is the one ``bench_batch.py`` uses (a database created and dropped per run).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_batch import PG_ADMIN_URL, _drop_db, _fresh_db  # noqa: E402
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


def run_python_load(url: str, token: str, connections: int, seconds: int) -> dict:
    """The same figures as ``run_wrk`` from :func:`_python_load`, run in its own process."""
    out = subprocess.run(
        [sys.executable, __file__, "_load", url, token, str(connections), str(seconds)],
        capture_output=True, text=True, check=True,
    ).stdout
    return json.loads(out)


async def _one_client(host: str, port: int, request: bytes, deadline: float,
                      latencies: list[float], errors: dict) -> None:
    """One keep-alive connection asking ``request`` again as soon as each answer is in."""
    reader = writer = None
    while time.perf_counter() < deadline:
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(host, port)
            t0 = time.perf_counter()
            writer.write(request)
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            status = int(head.split(b" ", 2)[1])
            length = re.search(rb"(?i)content-length:\s*(\d+)", head)
            if length is None:
                raise ValueError("no content-length")
            await asyncio.wait_for(reader.readexactly(int(length.group(1))), 10)
            latencies.append((time.perf_counter() - t0) * 1000)
            if not 200 <= status < 400:
                errors["non_2xx"] += 1
        except TimeoutError:
            errors["timeouts"] += 1
            writer.close()
            writer = None
        except (OSError, ValueError, asyncio.IncompleteReadError):
            errors["socket_errors"] += 1
            if writer is not None:
                writer.close()
            writer = None
            await asyncio.sleep(0.01)
    if writer is not None:
        writer.close()


def _python_load(url: str, token: str, connections: int, seconds: int) -> dict:
    """``connections`` clients on ``url`` for ``seconds``: latency percentiles and rate."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    request = (f"GET {parts.path}{'?' + parts.query if parts.query else ''} HTTP/1.1\r\n"
               f"Host: {parts.netloc}\r\nAuthorization: Bearer {token}\r\n\r\n").encode()
    latencies: list[float] = []
    errors = {"timeouts": 0, "socket_errors": 0, "non_2xx": 0}

    async def run() -> None:
        deadline = time.perf_counter() + seconds
        await asyncio.gather(*(
            _one_client(parts.hostname, parts.port, request, deadline, latencies, errors)
            for _ in range(connections)))

    cpu0, t0 = time.process_time(), time.perf_counter()
    asyncio.run(run())
    wall = time.perf_counter() - t0
    lat = sorted(latencies)

    def pct(q: float) -> float | None:
        return round(lat[min(len(lat) - 1, int(q * len(lat)))], 1) if lat else None

    return {"connections": connections, "requests": len(lat),
            "req_s": round(len(lat) / wall, 1), "p50_ms": pct(0.50), "p99_ms": pct(0.99),
            "client_cpu_s": round(time.process_time() - cpu0, 2), **errors}


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process, its reaped children and its live descendants
    (``serve --workers N``: uvicorn's supervisor and its N API processes) so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = [int(c) for task in Path(f"/proc/{pid}/task").iterdir()
                    for c in (task / "children").read_text().split()]
    except OSError:
        return 0.0
    own = sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    return own + sum(_cpu_seconds(child) for child in children)


def _database_cpu_seconds(db_name: str | None) -> float | None:
    """CPU seconds of the PostgreSQL backends connected to the bench's database (the server
    runs on this machine: its processes are in /proc). A backend opened during the round
    counts whole, start-up included."""
    if not db_name:
        return None
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN_URL)
    with admin.connect() as conn:
        pids = conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = :db"),
                            {"db": db_name}).scalars().all()
    admin.dispose()
    return sum(_cpu_seconds(pid) for pid in pids)


def _children_cpu_seconds() -> float:
    """CPU seconds of this process's finished children: the load generators (wrk, or the
    asyncio client's process)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


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
               seconds: int, client=run_wrk, db_name: str | None = None) -> list[dict]:
    """The clients on each path at once (connections split evenly), with the /healthz probe;
    the CPU the API (all its processes), the database backends and the clients spent over the
    round, per request."""
    probe = HealthProbe(svc.base)
    api_pid = svc.procs[0].pid
    cpu0, db0, clients0 = (_cpu_seconds(api_pid), _database_cpu_seconds(db_name),
                           _children_cpu_seconds())
    probe.start()
    share = max(1, connections // len(paths))
    results: list[dict] = [{}] * len(paths)

    def one(i: int, path: str) -> None:
        results[i] = {"path": path.rsplit("/", 1)[-1] if "matrix" in path else "status",
                      **client(svc.base + path, token, share, seconds)}

    threads = [threading.Thread(target=one, args=(i, p)) for i, p in enumerate(paths)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    health = probe.stop()
    api_cpu = _cpu_seconds(api_pid) - cpu0
    db_cpu = None if db0 is None else _database_cpu_seconds(db_name) - db0
    clients_cpu = _children_cpu_seconds() - clients0
    requests = sum(r.get("requests", 0) for r in results) or 1

    def per_request(seconds: float | None) -> float | None:
        return None if seconds is None else round(1000 * seconds / requests, 3)

    return [{**r, **health, "api_cpu_s": round(api_cpu, 2),
             "api_cpu_ms_per_request": per_request(api_cpu),
             "db_cpu_ms_per_request": per_request(db_cpu),
             "client_cpu_ms_per_request": per_request(clients_cpu)} for r in results]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--connections", type=int, nargs="+", default=[50, 100, 200])
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--documents", type=int, default=12)
    ap.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    ap.add_argument("--api-workers", type=int, default=None,
                    help="evidencia serve --workers (default: serve's own, one per core beyond "
                         "the first, at most 2)")
    ap.add_argument("--workers", type=int, default=2, help="evidencia worker processes")
    ap.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    use_wrk = args.client == "wrk" or (args.client == "auto" and shutil.which("wrk"))
    if use_wrk and shutil.which("wrk") is None:
        print("wrk is missing: apt-get install wrk, or --client python", file=sys.stderr)
        return 2
    client = run_wrk if use_wrk else run_python_load

    load_before = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    database_url, db_name = _fresh_db("postgresql", Path("."), "api_load")
    rows: list[dict] = []
    try:
        with Service(args.workers, args.redis, database_url,
                     serve_args=("--workers", str(args.api_workers)) if args.api_workers
                     else ()) as svc:
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
                client(svc.base + path, token, 4, 2)
            for n in args.connections:
                for paths in ([status_url], [status_url + "/matrix"],
                              [status_url, status_url + "/matrix"]):
                    for row in load_round(svc, paths, token, n, args.seconds, client,
                                          db_name):
                        row["round"] = "mixed" if len(paths) == 2 else "alone"
                        row["total_connections"] = n
                        rows.append(row)
                        print(json.dumps(row), file=sys.stderr)
    finally:
        _drop_db(db_name)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"# load average before: {load_before}, after: "
          f"{' '.join(Path('/proc/loadavg').read_text().split()[:3])}; client: "
          f"{'wrk' if use_wrk else 'python'}; {args.api_workers or 'default'} API processes, "
          f"{args.workers} workers")
    cores = len(os.sched_getaffinity(0))
    processes = min(args.api_workers or min(cores, 2), cores)  # serve's default: 1 a core, ≤ 2
    print(f"# CPU ms a request: API (all its processes), database backends, load generator; "
          f"'idle' = the mean latency that CPU would give N closed-loop clients on {cores} "
          f"otherwise idle cores, each API process using at most one (N / min(cores / all, "
          f"{processes} / API)): a projection, not a measurement")
    print(f"{'conns':>5} {'round':>5} {'path':>6} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'errors':>6} {'healthz p50/max ms':>19} {'API':>6} {'DB':>6} {'client':>6} "
          f"{'idle':>6}")
    nan = float("nan")
    for r in rows:
        errors = r["timeouts"] + r["socket_errors"] + r["non_2xx"]
        cpu = [r["api_cpu_ms_per_request"], r["db_cpu_ms_per_request"],
               r["client_cpu_ms_per_request"]]
        capacity = min(cores / sum(c or 0 for c in cpu), processes / cpu[0])  # requests a ms
        idle = r["total_connections"] / capacity
        print(f"{r['total_connections']:>5} {r['round']:>5} {r['path']:>6} {r['req_s']:>7.0f} "
              f"{r['p50_ms'] or nan:>8.1f} {r['p99_ms'] or nan:>8.1f} "
              f"{errors:>6} {r['healthz_p50_ms']:>9.1f}/{r['healthz_max_ms']:<9.0f} "
              + " ".join(f"{c if c is not None else nan:>6.2f}" for c in cpu)
              + f" {idle:>6.1f}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_load":
        url, token, conns, secs = sys.argv[2:6]
        print(json.dumps(_python_load(url, token, int(conns), int(secs))))
        sys.exit(0)
    sys.exit(main())
