"""Service benchmark: the real API and real rq workers as separate processes, over HTTP.

Measures on this machine:
1. latency: upload of a 10-page born-digital PDF → its matrix complete (median of runs, warm
   worker, one worker idle and waiting);
2. throughput: documents per minute with N workers (default 2) for text PDFs and for scanned
   (image-only) PDFs, from the upload of the whole set to the last document done.

Every generated PDF is unique (no extraction reuse). Workers are started and warmed before the
clock starts. Usage::

    OMP_THREAD_LIMIT=1 .venv/bin/python bench/bench_service.py [--workers 2] [--text 40]
        [--scanned 10] [--scan-pages 2] [--redis redis://127.0.0.1:6379/14] [--database-url URL]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]

_SENTENCES = [
    "La organización aprobó un plan de capacitación en interculturalidad para todo su personal.",
    "El comité de inclusión sesionó y registró sus acuerdos en acta firmada por sus integrantes.",
    "Se realizó una feria intercultural con comunidades migrantes de la comuna.",
    "La política interna prohíbe toda discriminación por nacionalidad u origen en la selección.",
    "Dos personas de nacionalidad venezolana fueron elegidas como integrantes del comité.",
    "El área de personas coordinó clases de español para trabajadores haitianos.",
    "Los turnos de la planta se revisaron con la jefatura de operaciones y mantención.",
    "Se informó el presupuesto del semestre y el avance de las obras de la bodega.",
]


def _page_text(doc_no: int, page_no: int, rng: random.Random) -> str:
    lines = [f"Documento {doc_no} — página {page_no}", ""]
    for _ in range(36):
        lines.append(rng.choice(_SENTENCES)[:95])
    return "\n".join(lines)


def text_pdf(doc_no: int, pages: int, seed: int = 0) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    rng = random.Random(seed * 100003 + doc_no)
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4)
    for p in range(1, pages + 1):
        text = pdf.beginText(50, A4[1] - 60)
        text.setFont("Helvetica", 10)
        for line in _page_text(doc_no, p, rng).split("\n"):
            text.textLine(line)
        pdf.drawText(text)
        pdf.showPage()
    pdf.save()
    return buf.getvalue()


def scanned_pdf(doc_no: int, pages: int, seed: int = 0) -> bytes:
    """Image-only PDF: text pages rendered at 200 dpi, grey, slightly rotated, no text layer."""
    import pypdfium2 as pdfium

    source = pdfium.PdfDocument(text_pdf(doc_no, pages, seed + 7))
    images = []
    rng = random.Random(doc_no)
    for i in range(len(source)):
        img = source[i].render(scale=200 / 72).to_pil().convert("L")
        img = img.rotate(rng.uniform(-0.8, 0.8), fillcolor=255, expand=False)
        images.append(img)
    buf = io.BytesIO()
    images[0].save(buf, format="PDF", save_all=True, append_images=images[1:], resolution=200)
    return buf.getvalue()


def _cpu_seconds(pid: int) -> float:
    """CPU time of a process and its reaped children (work horses, and their Tesseract runs)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(v) for v in fields[11:15])
    return (utime + stime + cutime + cstime) / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Service:
    """API + workers as subprocesses on a fresh data folder."""

    def __init__(self, workers: int, redis_url: str, database_url: str | None,
                 ocr_threads: int | None = None, serve_args: tuple[str, ...] = ()):
        self.tmp = tempfile.mkdtemp(prefix="evidencia-bench-")
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "EVIDENCIA_DATA_DIR": self.tmp,
            "EVIDENCIA_REDIS_URL": redis_url,
            "EVIDENCIA_PUBLIC_URL": self.base,
            "OMP_THREAD_LIMIT": "1",
        }
        # the API refuses to start without a key of its own (service.security)
        self.env.setdefault("EVIDENCIA_SECRET_KEY", "clave-de-medicion-" + os.urandom(8).hex())
        if database_url:
            self.env["EVIDENCIA_DATABASE_URL"] = database_url
        self.n_workers = workers
        self.worker_args = ["--ocr-threads", str(ocr_threads)] if ocr_threads else []
        self.serve_args = list(serve_args)
        self.procs: list[subprocess.Popen] = []

    def __enter__(self):
        import redis

        redis.Redis.from_url(self.env["EVIDENCIA_REDIS_URL"]).flushdb()
        cli = [sys.executable, "-m", "service.cli"]
        subprocess.run([*cli, "db", "upgrade"], env=self.env, check=True, cwd=REPO,
                       stdout=subprocess.DEVNULL)
        log = open(Path(self.tmp) / "service.log", "w")  # noqa: SIM115
        self.procs.append(subprocess.Popen(
            [*cli, "serve", "--port", str(self.port), *self.serve_args], env=self.env, cwd=REPO,
            stdout=log, stderr=subprocess.STDOUT))
        for _ in range(self.n_workers):
            self.procs.append(subprocess.Popen([*cli, "worker", *self.worker_args],
                                               env=self.env, cwd=REPO,
                                               stdout=log, stderr=subprocess.STDOUT))
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 90):
        import redis
        from rq import Worker

        conn = redis.Redis.from_url(self.env["EVIDENCIA_REDIS_URL"])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                api = httpx.get(f"{self.base}/readyz", timeout=2).status_code == 200
            except httpx.HTTPError:
                api = False
            # a worker registers after its warm-up (model loaded): then it is ready
            if api and len(Worker.all(connection=conn)) >= self.n_workers:
                return
            time.sleep(0.3)
        raise RuntimeError(f"service not ready; see {self.tmp}/service.log")

    def __exit__(self, *exc):
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()

    # --- client side -----------------------------------------------------------------------

    def worker_cpu(self) -> float:
        return sum(_cpu_seconds(p.pid) for p in self.procs[1:])

    def submit(self, files: list[tuple[str, bytes]]) -> tuple[str, str]:
        r = httpx.post(f"{self.base}/api/submissions",
                       json={"organization": "Banco de pruebas", "rut": None}, timeout=30)
        r.raise_for_status()
        sub = r.json()
        r = httpx.post(
            f"{self.base}/api/submissions/{sub['id']}/documents",
            headers={"Authorization": f"Bearer {sub['token']}"},
            files=[("files", (name, data, "application/pdf")) for name, data in files],
            timeout=300,
        )
        r.raise_for_status()
        return sub["id"], sub["token"]

    def wait_matrix(self, sub_id: str, token: str, poll: float = 0.05) -> dict:
        while True:
            r = httpx.get(f"{self.base}/api/submissions/{sub_id}/matrix",
                          headers={"Authorization": f"Bearer {token}"}, timeout=30)
            r.raise_for_status()
            matrix = r.json()
            if matrix["complete"]:
                return matrix
            time.sleep(poll)


def bench_latency(svc: Service, runs: int, pages: int) -> dict:
    times = []
    for i in range(runs):
        pdf = text_pdf(10_000 + i, pages, seed=int(time.time()))
        t0 = time.perf_counter()
        sub_id, token = svc.submit([("informe-10-paginas.pdf", pdf)])
        matrix = svc.wait_matrix(sub_id, token, poll=0.02)
        times.append(time.perf_counter() - t0)
        assert matrix["documents"][0]["status"] == "done", matrix["documents"][0]
    return {"pages": pages, "runs": runs, "median_s": statistics.median(times),
            "min_s": min(times), "max_s": max(times)}


def bench_throughput(svc: Service, files: list[tuple[str, bytes]]) -> dict:
    cpu0 = svc.worker_cpu()
    t0 = time.perf_counter()
    sub_id, token = svc.submit(files)
    matrix = svc.wait_matrix(sub_id, token, poll=0.2)
    seconds = time.perf_counter() - t0
    time.sleep(0.5)  # let the last work horse be reaped so its CPU time is counted
    cpu_per_doc = (svc.worker_cpu() - cpu0) / len(files)
    errors = [d for d in matrix["documents"] if d["status"] != "done"]
    return {"documents": len(files), "seconds": seconds,
            "docs_per_minute": 60 * len(files) / seconds, "errors": len(errors),
            "worker_cpu_s_per_doc": cpu_per_doc,
            # what the same CPU work gives when the workers have the 2 cores to themselves
            "docs_per_minute_if_cores_free": 60 * min(svc.n_workers, os.cpu_count() or 1)
            / cpu_per_doc if cpu_per_doc else None}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--latency-runs", type=int, default=5)
    p.add_argument("--text", type=int, default=40, help="text PDFs for throughput")
    p.add_argument("--text-pages", type=int, default=3)
    p.add_argument("--scanned", type=int, default=10, help="scanned PDFs for throughput")
    p.add_argument("--scan-pages", type=int, default=2)
    p.add_argument("--redis", default=os.environ.get("EVIDENCIA_BENCH_REDIS",
                                                     "redis://127.0.0.1:6379/14"))
    p.add_argument("--database-url", default=None, help="default: SQLite in a temp folder")
    p.add_argument("--ocr-threads", type=int, default=None,
                   help="evidencia worker --ocr-threads for the throughput workers")
    p.add_argument("--skip-latency", action="store_true")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()

    seed = int(time.time())
    print("generating files…", file=sys.stderr)
    texts = [(f"texto-{i}.pdf", text_pdf(i, args.text_pages, seed)) for i in range(args.text)]
    scans = [(f"escaneo-{i}.pdf", scanned_pdf(i, args.scan_pages, seed))
             for i in range(args.scanned)]
    results = {"workers": args.workers, "database": args.database_url or "sqlite"}

    if not args.skip_latency:
        print("latency (1 worker)…", file=sys.stderr)
        with Service(1, args.redis, args.database_url) as svc:
            results["latency_10_page_text_pdf"] = bench_latency(svc, args.latency_runs, 10)
    print(f"throughput ({args.workers} workers)…", file=sys.stderr)
    with Service(args.workers, args.redis, args.database_url, args.ocr_threads) as svc:
        if texts:
            results["text_pdfs"] = {**bench_throughput(svc, texts),
                                    "pages_each": args.text_pages}
        if scans:
            results["scanned_pdfs"] = {**bench_throughput(svc, scans),
                                       "pages_each": args.scan_pages}
    results["ocr_threads"] = args.ocr_threads
    results["load_average_1min"] = os.getloadavg()[0]

    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    lat = results.get("latency_10_page_text_pdf")
    if lat:
        print(f"Upload → finished matrix, 10-page text PDF: median {lat['median_s']:.2f} s "
              f"(min {lat['min_s']:.2f}, max {lat['max_s']:.2f}, {lat['runs']} runs, 1 worker)")
    for key, label in (("text_pdfs", "text PDFs"), ("scanned_pdfs", "scanned PDFs")):
        r = results.get(key)
        if r is None:
            continue
        print(f"{args.workers} workers, {label} ({r['pages_each']} pages each): "
              f"{r['docs_per_minute']:.1f} documents/min ({r['documents']} in "
              f"{r['seconds']:.1f} s, {r['errors']} not done); worker CPU "
              f"{r['worker_cpu_s_per_doc']:.2f} s/doc → "
              f"{r['docs_per_minute_if_cores_free']:.1f} docs/min if the cores were free")
    print(f"load average (1 min) at the end: {results['load_average_1min']:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
