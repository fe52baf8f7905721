"""Peak memory of extraction and of ``evidencia analyze`` on long scans, page count by page count.

Issue 12 measured ``evidencia analyze`` on a 200-page scan (150 dpi JPEG pages, 69 MB) at 740 MB
peak RSS, growing by about 2.3 MB a page. Target: under 400 MB for any page count.

Each case runs in a fresh interpreter and reports that interpreter's own high-water RSS
(``VmHWM``), its wall time and the time per page:

- ``stream``: ``extractors.iter_pages`` with every page dropped as it comes (what a caller that
  stores page by page holds);
- ``extract``: ``extractors.extract`` (every page kept, as the worker does today);
- ``analyze``: ``evidencia analyze FILE --json`` (extraction and classification, one process).

Run by hand (never in CI); several minutes per hundred OCR'd pages on two cores:

    OMP_THREAD_LIMIT=1 .venv/bin/python bench/bench_memory.py --pages 200 1000
    OMP_THREAD_LIMIT=1 .venv/bin/python bench/bench_memory.py --pages 20 --cases stream extract
"""

from __future__ import annotations

import argparse
import io
import json
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
    y = 120
    for block in range(5):
        for line in _LINES:
            draw.text((110, y), line.format(n=number % 28 + 1), fill=0, font=font)
            y += 34
        y += 20
        if y > height - 150:
            break
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
            page, content, image = 3 + 3 * i, 4 + 3 * i, 5 + 3 * i
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
        "print('PAGES', json.loads(out.getvalue())['documents'][0]['pages'])\n"
    ),
}


def measure(case: str, path: Path) -> dict:
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", CASES[case].format(path=str(path)) + _HWM],
        cwd=REPO, capture_output=True, text=True, check=False,
    )
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        return {"case": case, "error": proc.stderr[-1500:]}
    found = dict(line.split(" ", 1) for line in proc.stdout.splitlines() if " " in line)
    pages = int(found["PAGES"])
    return {
        "case": case,
        "pages": pages,
        "peak_rss_mb": round(int(found["RESULT"]) / 1024),
        "seconds": round(seconds, 1),
        "seconds_per_page": round(seconds / max(pages, 1), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES))
    parser.add_argument("--keep", type=Path, help="folder to keep the generated PDFs in")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for pages in args.pages:
            path = folder / f"escaneo-{pages}.pdf"
            if not path.exists():
                scanned_pdf(path, pages)
            size_mb = path.stat().st_size / 1e6
            for case in args.cases:
                row = {"file_pages": pages, "file_mb": round(size_mb, 1), **measure(case, path)}
                print(json.dumps(row, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
