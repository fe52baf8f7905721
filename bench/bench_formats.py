"""Extraction time of the formats beyond PDF/DOCX/photos (run by hand; prints a table).

    .venv/bin/python bench/bench_formats.py [--runs 5] [--keep DIR]

Every format carries the same content as bench_pipeline's 10-page text PDF (10 x ~460 Spanish
words), so "per page" compares across formats: XLSX, XLS (the XLSX saved by LibreOffice Calc) and
ODS hold it as 10 sheets of 50 rows x 5 cells (a page per sheet), ODT/DOC/RTF/HTML as 10 pages of
paragraphs plus a table. Also: one sheet at the row cap (5,000 rows x 8 columns, XLSX and XLS),
and one HEIC phone photo against the same photo
as JPEG (the difference is the HEIF decoding). Medians of warm runs in one process; DOC and RTF
pay a LibreOffice start per document, so their figure is per document as well as per page.
Wall time and CPU time (this process and the programs it ran: Tesseract, LibreOffice); on a
shared machine the CPU figure moves far less with the load, printed before and after.
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

from bench.bench_pipeline import spanish_pages  # noqa: E402

SHEETS, ROWS_PER_SHEET, CELLS_PER_ROW = 10, 50, 5


def sheet_rows(page: str) -> list[list[str]]:
    """One page of words as 50 rows of 5 cells (about 460 words), a header row first."""
    words = page.split()
    per_cell = max(1, len(words) // (ROWS_PER_SHEET * CELLS_PER_ROW))
    rows = [["Nombre", "Cargo", "Nacionalidad", "Área", "Observaciones"]]
    for r in range(ROWS_PER_SHEET - 1):
        start = r * CELLS_PER_ROW * per_cell
        rows.append([" ".join(words[start + c * per_cell : start + (c + 1) * per_cell]) or "-"
                     for c in range(CELLS_PER_ROW)])  # fmt: skip
    return rows


def make_files(folder: Path) -> dict[str, tuple[Path, int]]:
    """{label: (path, pages or sheets)}."""
    import openpyxl

    from tests.extractors.format_makers import convert_with_libreoffice, heic_photo, ods, odt
    from tests.extractors.makers import SPANISH_LINES, phone_photo

    pages = spanish_pages()
    files: dict[str, tuple[Path, int]] = {}

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for i, page in enumerate(pages, start=1):
        ws = wb.create_sheet(f"Hoja {i}")
        for row in sheet_rows(page):
            ws.append(row)
    wb.save(folder / "libro.xlsx")
    files["xlsx, 10 sheets x 50 rows"] = (folder / "libro.xlsx", SHEETS)
    xls = convert_with_libreoffice(folder / "libro.xlsx", "xls", folder)
    files["xls, 10 sheets x 50 rows"] = (xls, SHEETS)
    ods(folder / "libro.ods", {f"Hoja {i}": sheet_rows(p) for i, p in enumerate(pages, start=1)})
    files["ods, 10 sheets x 50 rows"] = (folder / "libro.ods", SHEETS)

    big = openpyxl.Workbook(write_only=True)
    ws = big.create_sheet("Planilla")
    for r in range(5000):
        ws.append([f"Persona {r}", "Operario", "Venezolana", r, 3.5, "Sí", "Turno A", "Planta"])
    big.save(folder / "grande.xlsx")
    files["xlsx, 1 sheet x 5,000 rows (cap)"] = (folder / "grande.xlsx", 1)
    big_xls = convert_with_libreoffice(folder / "grande.xlsx", "xls", folder)
    files["xls, 1 sheet x 5,000 rows (cap)"] = (big_xls, 1)

    from xml.sax.saxutils import escape

    body = ""
    for page in pages:
        body += "".join(f"<text:p>{escape(s.strip())}.</text:p>" for s in page.split(".") if s)
    table = "".join("<table:table-row>" + "".join(
        f"<table:table-cell><text:p>{escape(c)}</text:p></table:table-cell>" for c in row
    ) + "</table:table-row>" for row in sheet_rows(pages[0])[:10])  # fmt: skip
    odt(folder / "informe.odt", body + f"<table:table>{table}</table:table>")
    files["odt, 10 pages"] = (folder / "informe.odt", len(pages))

    import docx

    document = docx.Document()
    for page in pages:
        for sentence in page.split("."):
            if sentence.strip():
                document.add_paragraph(sentence.strip() + ".")
    document.save(folder / "informe.docx")
    files["docx, 10 pages (reference)"] = (folder / "informe.docx", len(pages))
    rtf = convert_with_libreoffice(folder / "informe.docx", "rtf", folder)
    files["rtf, 10 pages (LibreOffice)"] = (rtf, len(pages))
    doc = convert_with_libreoffice(rtf, "doc", folder)
    files["doc, 10 pages (LibreOffice)"] = (doc, len(pages))

    html = "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Informe</title></head><body>"
    for page in pages:
        html += "<h2>Sección</h2>" + "".join(f"<p>{escape(s)}.</p>" for s in page.split(".") if s)
    rows = sheet_rows(pages[0])
    cells = ("".join(f"<td>{escape(c)}</td>" for c in row) for row in rows)
    html += "<table>" + "".join(f"<tr>{row}</tr>" for row in cells) + "</table></body></html>"
    (folder / "pagina.html").write_text(html, encoding="utf-8")
    files["html, 10 pages"] = (folder / "pagina.html", len(pages))

    from tests.extractors.format_makers import email_with_attachments

    mail = email_with_attachments("Adjunto el informe.", html, [
        ("informe.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
         (folder / "informe.docx").read_bytes()),
        ("libro.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         (folder / "libro.xlsx").read_bytes()),
    ])  # fmt: skip
    (folder / "correo.eml").write_bytes(mail)
    files["eml: html body + docx + xlsx"] = (folder / "correo.eml", 1 + len(pages) + SHEETS)

    photo = phone_photo(SPANISH_LINES)
    photo.save(folder / "foto.jpg", quality=90)
    files["jpeg photo (reference)"] = (folder / "foto.jpg", 1)
    heic_photo(folder / "foto.heic", photo, exif_orientation=1)
    files["heic photo"] = (folder / "foto.heic", 1)
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="keep generated files in this folder")
    args = parser.parse_args()

    import extractors
    from extractors.archive import is_container

    with tempfile.TemporaryDirectory(prefix="bench-formats-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        files = make_files(folder)
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"{'format':<36} {'pages':>5} {'median ms':>10} {'ms/page':>8} "
              f"{'CPU ms/page':>11}  extractor")
        for label, (path, pages) in files.items():
            read = _read_container if is_container(path) else extractors.extract
            read(path)  # warm: imports, Tesseract check
            times, cpu = [], []
            for _ in range(args.runs if "photo" not in label else max(1, args.runs // 2)):
                t0, c0 = time.perf_counter(), _cpu_seconds()
                doc = read(path)
                times.append(time.perf_counter() - t0)
                cpu.append(_cpu_seconds() - c0)
            median = statistics.median(times) * 1000
            cpu_ms = statistics.median(cpu) * 1000
            assert len(doc.text) > 100, (label, doc.text[:200])
            print(f"{label:<36} {pages:>5} {median:>10.0f} {median / pages:>8.1f} "
                  f"{cpu_ms / pages:>11.1f}  {doc.extractor}")
        print(f"load average {os.getloadavg()[0]:.1f}")


def _cpu_seconds() -> float:
    """CPU seconds of this process and of the children it waited for."""
    import resource

    own, children = (resource.getrusage(w) for w in (resource.RUSAGE_SELF,
                                                     resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _read_container(path: Path):
    """List an e-mail and extract every member: what an upload of it costs the pipeline."""
    import extractors
    from extractors.archive import open_archive
    from extractors.document import ExtractedDocument

    pages = []
    with open_archive(path) as members:
        for member in members:
            pages.extend(extractors.extract_bytes(member.read()).pages)
    return ExtractedDocument(mime="message/rfc822", pages=tuple(pages), extractor="eml+members")


if __name__ == "__main__":
    main()
