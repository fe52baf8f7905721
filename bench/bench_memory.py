"""Peak memory of extraction and of ``evidencia analyze`` on long scans, page count by page count.

Issue 12 measured ``evidencia analyze`` on a 200-page scan (150 dpi JPEG pages, 69 MB) at 740 MB
peak RSS, growing by about 2.3 MB a page. Target: under 400 MB for any page count.

Each case runs in a fresh interpreter and reports that interpreter's own high-water RSS
(``VmHWM``), its wall time and the time per page:

- ``stream``: ``extractors.iter_pages`` with every page dropped as it comes (what a caller that
  stores page by page holds);
- ``extract``: ``extractors.extract`` (every page kept, word boxes included);
- ``analyze``: ``evidencia analyze FILE --json`` (extraction and classification, one process);
- ``worker``: a real ``evidencia worker`` (warmed up, SQLite, Redis) running the document as a
  job of ``evidencia batch FILE --wait``: the peak RSS of the worker and of its work horse,
  whichever is higher (Tesseract's own processes, ~50 MB each, are not counted).

``--kind scan`` (default) makes the pages JPEG scans, OCR'd; ``--kind text`` the same pages as
a born-digital text layer (same words and boxes, read in milliseconds), to measure what grows
with the page count on 1,000 pages without a quarter of an hour of OCR.

Run by hand (never in CI); several minutes per hundred OCR'd pages on two cores:

    OMP_THREAD_LIMIT=1 .venv/bin/python bench/bench_memory.py --pages 200 --cases analyze worker
    OMP_THREAD_LIMIT=1 .venv/bin/python bench/bench_memory.py --pages 1000 --kind text
    OMP_THREAD_LIMIT=1 .venv/bin/python bench/bench_memory.py --pages 20 --cases stream extract
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

_LINES = [
    "ACTA DE SESIÓN ORDINARIA DEL COMITÉ DE INCLUSIÓN",
    "En Santiago, a {n} de marzo de 2025, se reúne el comité de inclusión e interculturalidad.",
    "Asisten la encargada de diversidad, dos representantes del sindicato y tres trabajadores",
    "de nacionalidad venezolana, haitiana y peruana elegidos por sus compañeros.",
    "Se revisa el plan de capacitación en derechos laborales de las personas migrantes y se",
    "acuerda realizar una feria intercultural abierta a la comunidad en el mes de junio.",
    "La empresa mantiene su política de no discriminación por nacionalidad u origen en la",
    "selección, la remuneración y los ascensos, y un canal de denuncias confidencial.",
]


def _page_lines(number: int) -> list[tuple[int, str]]:
    """(y in 150 dpi pixels, line) of one page, text varying with the page number."""
    out, y = [], 120
    for _block in range(5):
        for line in _LINES:
            out.append((y, line.format(n=number % 28 + 1)))
            y += 34
        y += 20
        if y > 1754 - 150:
            break
    return out


def _page_jpeg(number: int) -> bytes:
    """One A4 page at 150 dpi, gray, as a JPEG (~300 KB), text varying with the page number."""
    from PIL import Image, ImageDraw, ImageFont

    width, height = 1240, 1754
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    try:
        font = ImageFont.truetype("DejaVuSans.ttf", 22)
    except OSError:
        font = ImageFont.load_default()
    for y, line in _page_lines(number):
        draw.text((110, y), line, fill=0, font=font)
    draw.text((width // 2 - 40, height - 90), f"Página {number}", fill=0, font=font)
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=85, dpi=(150, 150))
    return buf.getvalue()


def scanned_pdf(path: Path, pages: int, distinct: int = 12) -> Path:
    """A PDF of ``pages`` full-page JPEG scans (each page its own image object), written as it
    goes: a 1,000-page file is built without holding its pages in memory."""
    jpegs = [_page_jpeg(i + 1) for i in range(distinct)]
    offsets: list[int] = []
    with open(path, "wb") as out:

        def obj(body: bytes, stream: bytes | None = None) -> None:
            offsets.append(out.tell())
            out.write(f"{len(offsets)} 0 obj\n".encode() + body)
            if stream is not None:
                out.write(b"\nstream\n" + stream + b"\nendstream")
            out.write(b"\nendobj\n")

        out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        obj(b"<< /Type /Catalog /Pages 2 0 R >>")
        kids = " ".join(f"{3 + 3 * i} 0 R" for i in range(pages))
        obj(f"<< /Type /Pages /Count {pages} /Kids [{kids}] >>".encode())
        w_pt, h_pt = 1240 * 72 / 150, 1754 * 72 / 150
        for i in range(pages):
            page, content, image = 3 + 3 * i, 4 + 3 * i, 5 + 3 * i  # noqa: F841
            obj(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {w_pt:.2f} {h_pt:.2f}] "
                f"/Resources << /XObject << /Im0 {image} 0 R >> >> /Contents {content} 0 R >>"
                .encode())  # fmt: skip
            draw = f"q {w_pt:.2f} 0 0 {h_pt:.2f} 0 0 cm /Im0 Do Q".encode()
            obj(f"<< /Length {len(draw)} >>".encode(), draw)
            jpeg = jpegs[i % distinct]
            obj(f"<< /Type /XObject /Subtype /Image /Width 1240 /Height 1754 /ColorSpace "
                f"/DeviceGray /BitsPerComponent 8 /Filter /DCTDecode /Length {len(jpeg)} >>"
                .encode(), jpeg)  # fmt: skip
        xref = out.tell()
        out.write(f"xref\n0 {len(offsets) + 1}\n0000000000 65535 f \n".encode())
        for offset in offsets:
            out.write(f"{offset:010d} 00000 n \n".encode())
        out.write(f"trailer\n<< /Size {len(offsets) + 1} /Root 1 0 R >>\n"
                  f"startxref\n{xref}\n%%EOF\n".encode())  # fmt: skip
    return path


def text_pdf(path: Path, pages: int, distinct: int = 12) -> Path:
    """The same pages as ``scanned_pdf`` with a text layer instead of images (no OCR)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=A4)
    scale = 72 / 150
    for i in range(pages):
        number = i % distinct + 1
        pdf.setFont("Helvetica", 22 * scale * 1.05)
        for y, line in _page_lines(number):
            pdf.drawString(110 * scale, A4[1] - (y + 22) * scale, line)
        pdf.drawString(A4[0] / 2 - 20, 90 * scale, f"Página {number}")
        pdf.showPage()
    pdf.save()
    return path


_HWM = (
    "import re as _re\n"
    "print('RESULT', _re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1))\n"
)

CASES = {
    "stream": (
        "import extractors\n"
        "with extractors.iter_pages({path!r}) as doc:\n"
        "    n = sum(1 for _page in doc)\n"
        "print('PAGES', n)\n"
    ),
    "extract": (
        "import extractors\n"
        "doc = extractors.extract({path!r})\n"
        "print('PAGES', len(doc.pages))\n"
    ),
    "analyze": (
        "import contextlib, io\n"
        "from service.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    main(['analyze', {path!r}, '--json', '--jobs', '1'])\n"
        "import json\n"
        "document = json.loads(out.getvalue())['documents'][0]\n"
        "print('PAGES', document['pages'])\n"
        "print('ERROR', document.get('error') or '-')\n"
    ),
}


def _file_limit(path: Path) -> str:
    """``EVIDENCIA_MAX_FILE_BYTES`` lifted to ``path``'s size: 1,000 scanned pages at 150 dpi
    weigh ~450 MB, over the 100 MB default, and would end in the size error."""
    return str(max(path.stat().st_size + 1, 100 * 1024 * 1024))


def measure(case: str, path: Path) -> dict:
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", CASES[case].format(path=str(path)) + _HWM],
        cwd=REPO, capture_output=True, text=True, check=False,
        env={**os.environ, "EVIDENCIA_MAX_FILE_BYTES": _file_limit(path)},
    )
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        return {"case": case, "error": proc.stderr[-1500:]}
    found = dict(line.split(" ", 1) for line in proc.stdout.splitlines() if " " in line)
    if found.get("ERROR", "-") != "-":
        return {"case": case, "error": found["ERROR"]}
    pages = int(found["PAGES"])
    return {
        "case": case,
        "pages": pages,
        "peak_rss_mb": round(int(found["RESULT"]) / 1024),
        "seconds": round(seconds, 1),
        "seconds_per_page": round(seconds / max(pages, 1), 3),
    }


def measure_worker(path: Path, redis_db: int) -> dict:
    """One warm ``evidencia worker`` processing ``path`` as a batch job; peak RSS of the worker
    and its work horse (whichever is higher), the job's wall time and the worker tree's CPU."""
    sys.path.insert(0, str(REPO / "bench"))
    from bench_batch import (
        MemoryWatch,
        _db_counts,
        _env,
        _evidencia,
        _flush,
        _start_warm_workers,
        _stop_workers,
    )

    redis_url = f"redis://127.0.0.1:6379/{redis_db}"
    with tempfile.TemporaryDirectory(prefix="bench-memory-worker-") as tmp:
        db_url = f"sqlite:///{tmp}/evidencia.db"
        env = _env(Path(tmp) / "data", db_url, redis_url)
        env["EVIDENCIA_MAX_FILE_BYTES"] = _file_limit(path)
        _flush(redis_url)
        subprocess.run([sys.executable, "-m", "service.cli", "db", "upgrade"], env=env,
                       cwd=REPO, check=True, capture_output=True)
        procs, _warmup = _start_warm_workers(1, env, redis_url)
        watch = MemoryWatch([p.pid for p in procs], interval=0.05)
        watch.start()
        try:
            started = time.perf_counter()
            batch = _evidencia(["batch", str(path), "--wait"], env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
            batch.wait()
            seconds = time.perf_counter() - started
        finally:
            _stop_workers(procs)
            watch.stop()
            _flush(redis_url)
        counts = _db_counts(db_url)
    if counts["status"] != {"done": 1}:
        return {"case": "worker", "error": f"documents ended {counts['status']}"}
    return {
        "case": "worker",
        "pages": counts["pages"],
        "peak_rss_mb": round(watch.peak_process_kb / 1024),
        "seconds": round(seconds, 1),
        "seconds_per_page": round(seconds / max(counts["pages"], 1), 3),
        "extract_seconds": counts["mean_extract_seconds"],
        "classify_seconds": counts["mean_classify_seconds"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--cases", nargs="+", choices=[*CASES, "worker"],
                        default=["analyze", "worker"])
    parser.add_argument("--kind", choices=["scan", "text"], default="scan",
                        help="scanned pages (OCR) or the same pages with a text layer")
    parser.add_argument("--redis-db", type=int, default=12, help="flushed; not 0")
    parser.add_argument("--keep", type=Path, help="folder to keep the generated PDFs in")
    args = parser.parse_args()
    if args.redis_db == 0:
        parser.error("Redis database 0 is the application's: choose another")
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for pages in args.pages:
            name = "escaneo" if args.kind == "scan" else "texto"
            path = folder / f"{name}-{pages}.pdf"
            if not path.exists():
                (scanned_pdf if args.kind == "scan" else text_pdf)(path, pages)
            size_mb = path.stat().st_size / 1e6
            for case in args.cases:
                cpu0 = _children_cpu()
                result = (measure_worker(path, args.redis_db) if case == "worker"
                          else measure(case, path))
                row = {"kind": args.kind, "file_pages": pages, "file_mb": round(size_mb, 1),
                       **result, "cpu_seconds": round(_children_cpu() - cpu0, 1)}
                print(json.dumps(row, ensure_ascii=False), flush=True)


def _children_cpu() -> float:
    """CPU seconds of this script's finished children (the measured processes)."""
    usage = os.times()
    return usage.children_user + usage.children_system


if __name__ == "__main__":
    main()
