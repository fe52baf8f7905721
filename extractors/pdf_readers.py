"""Second opinions on a PDF: pdfplumber (fonts pdfminer maps better, ruled tables), pdfminer
(vertical CJK writing) and poppler's pdftotext (text pdfium misses, files pdfium cannot open).

Each is asked only about the pages that need it; every failure of theirs is logged and becomes
"no opinion", never an exception (pdfminer raises TypeError, RecursionError, IndexError,
binascii.Error... on broken files).
"""

from __future__ import annotations

import html
import logging
import re
import subprocess
from pathlib import Path

from extractors import defaults
from extractors.document import ExtractedDocument, Page, Word
from extractors.errors import CorruptFileError
from extractors.normalize import normalize_text
from extractors.options import ExtractOptions
from extractors.pdf_layout import Layer, Table, make_page
from extractors.text_layer import assess_text_layer

__all__ = ["SecondOpinions", "pdftotext_bbox", "parse_without_pdfium"]

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------------
# Second opinions: pdfplumber (fonts pdfminer maps better) and poppler (what pdfium misses)
# --------------------------------------------------------------------------------------------


class SecondOpinions:
    """Other readers, opened lazily and at most once per document."""

    def __init__(self, path: Path, password: str | None, options: ExtractOptions):
        self.path = path
        self.password = password
        self.options = options
        self._plumber = None
        self._plumber_failed = False
        self.table_pages_left = options.table_max_pages

    def pdfplumber(self, index: int) -> Layer | None:
        try:
            if self._plumber is None and not self._plumber_failed:
                import pdfplumber

                self._plumber = pdfplumber.open(self.path, password=self.password or "")
            if self._plumber is None or index >= len(self._plumber.pages):
                return None
            original = self._plumber.pages[index]
            page = original.dedupe_chars()
            text = page.extract_text() or ""
            words = tuple(
                Word(w["text"], round(w["x0"], 2), round(w["top"], 2), round(w["x1"], 2),
                     round(w["bottom"], 2))
                for w in page.extract_words()
            )  # fmt: skip
            original.close()  # drop its cached characters: pages are read once, in order
            return Layer(text, text, words)
        except (Exception, RecursionError) as exc:  # noqa: BLE001 - pdfminer raises anything
            log.info("pdfplumber failed on page %d: %r", index + 1, exc)
            self._plumber_failed = True
            return None

    def tables(self, index: int) -> list[Table]:
        """Ruled tables of one page, rows as "cell | cell" lines (pdfplumber, ~0.1 s/page)."""
        if self.table_pages_left <= 0:
            return []
        self.table_pages_left -= 1
        try:
            page = self._open_plumber(index)
            if page is None:
                return []
            try:
                return self._find_tables(page)
            finally:
                page.close()  # drop its cached objects: pages are read once, in order
        except (Exception, RecursionError) as exc:  # noqa: BLE001 - pdfminer raises anything
            log.info("pdfplumber table finder failed on page %d: %r", index + 1, exc)
            return []

    @staticmethod
    def _find_tables(page) -> list[Table]:
        found = []
        for table in page.find_tables():
            rows = table.extract()
            lines = []
            for row in rows:
                row_cells = [" ".join(c.split()) for c in row if c and c.strip()]
                if row_cells:
                    lines.append(" | ".join(row_cells))
            cells = [c for row in rows for c in row if c and c.strip()]
            longest = max((len(c) for c in cells), default=0)
            # A "table" that is a frame around running text (one huge cell) is not a table.
            if len(lines) >= 2 and len(cells) >= 4 and longest <= defaults.TABLE_MAX_CELL_CHARS:
                found.append(Table(*table.bbox, lines=lines))
        return found

    def _open_plumber(self, index: int):
        if self._plumber is None and not self._plumber_failed:
            import pdfplumber

            try:
                self._plumber = pdfplumber.open(self.path, password=self.password or "")
            except (Exception, RecursionError) as exc:  # noqa: BLE001
                log.info("pdfplumber cannot open %s: %r", self.path, exc)
                self._plumber_failed = True
        if self._plumber is None or index >= len(self._plumber.pages):
            return None
        return self._plumber.pages[index]

    def pdfminer_vertical(self, index: int) -> Layer | None:
        try:
            from pdfminer.high_level import extract_text
            from pdfminer.layout import LAParams

            text = extract_text(
                self.path,
                password=self.password or "",
                page_numbers=[index],
                laparams=LAParams(detect_vertical=True),
            )
        except (Exception, RecursionError) as exc:  # noqa: BLE001 - pdfminer raises anything
            log.info("pdfminer failed on page %d: %r", index + 1, exc)
            return None
        text = "\n".join(line for line in text.splitlines() if line.strip())
        return Layer(text, text, ())

    def poppler(self, index: int) -> Layer | None:
        pages = pdftotext_bbox(self.path, self.password, self.options.pdftotext_timeout,
                               first=index + 1, last=index + 1)  # fmt: skip
        return pages[0][2] if pages else None

    def close(self) -> None:
        if self._plumber is not None:
            try:
                self._plumber.close()
            except Exception as exc:  # noqa: BLE001 - closing must not mask the result
                log.debug("pdfplumber close failed: %r", exc)
            self._plumber = None


_PAGE_RE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', re.S)
_LINE_RE = re.compile(r"<line[^>]*>(.*?)</line>", re.S)
_WORD_RE = re.compile(
    r'<word xMin="([\d.-]+)" yMin="([\d.-]+)" xMax="([\d.-]+)" yMax="([\d.-]+)">(.*?)</word>', re.S
)


def pdftotext_bbox(
    path: Path,
    password: str | None,
    timeout: float,
    *,
    first: int | None = None,
    last: int | None = None,
) -> list[tuple[float, float, Layer]]:
    """poppler's pdftotext -bbox-layout: [(width, height, layer)] per page, [] on failure."""
    cmd = ["pdftotext", "-q", "-bbox-layout", "-enc", "UTF-8"]
    if first:
        cmd += ["-f", str(first), "-l", str(last or first)]
    if password:
        cmd += ["-upw", password]
    cmd += [str(path), "-"]
    try:
        proc = subprocess.run(
            cmd, capture_output=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        log.warning("pdftotext timed out on %s", path)
        return []
    except OSError as exc:
        log.warning("pdftotext unavailable: %s", exc)
        return []
    if proc.returncode != 0:
        return []
    out = proc.stdout.decode("utf-8", "replace")
    pages = []
    for pm in _PAGE_RE.finditer(out):
        lines: list[str] = []
        words: list[Word] = []
        for lm in _LINE_RE.finditer(pm.group(3)):
            line_words = [
                Word(html.unescape(w[4]), float(w[0]), float(w[1]), float(w[2]), float(w[3]))
                for w in _WORD_RE.findall(lm.group(1))
            ]
            if line_words:
                words.extend(line_words)
                lines.append(" ".join(w.text for w in line_words))
        text = "\n".join(lines)
        pages.append((float(pm.group(1)), float(pm.group(2)), Layer(text, text, tuple(words))))
    return pages


def parse_without_pdfium(
    path: Path, password: str | None, *, options: ExtractOptions, pdfium_pages: int | None = None
) -> ExtractedDocument:
    """pdfium could not open the file (or saw no pages): poppler, then pdfplumber, or an error."""
    pages_out: list[Page] = []
    method = "poppler"
    for number, (width, height, layer) in enumerate(
        pdftotext_bbox(path, password, options.pdftotext_timeout), start=1
    ):
        verdict = assess_text_layer(layer.raw)
        pages_out.append(
            make_page(number, width, height, layer, f"poppler:{verdict.reason}")
            if verdict.ok
            else Page(number=number, text="", width=width, height=height,
                      method=f"poppler:{verdict.reason}")
        )  # fmt: skip
    if not any(p.text for p in pages_out):
        pages_out = pdfplumber_document(path, password)
        method = "pdfplumber"
    if not any(p.text for p in pages_out):
        if pdfium_pages == 0:
            raise CorruptFileError(
                "El PDF no contiene páginas legibles: su árbol de páginas está dañado. "
                "Vuelva a exportarlo desde el programa original.",
                detail="pdfium reports 0 pages; poppler and pdfplumber find no text",
            )
        raise CorruptFileError(
            "El archivo no es un PDF válido o está dañado y no se pudo leer. Vuelva a exportarlo "
            "desde el programa original.",
            detail="pdfium cannot open it; poppler and pdfplumber find no text",
        )
    return ExtractedDocument(
        mime="application/pdf",
        pages=tuple(pages_out),
        extractor=f"pdf:{method}",
        warnings=("El PDF está dañado; se recuperó su texto con un lector alternativo (sin OCR).",),
    )


def pdfplumber_document(path: Path, password: str | None) -> list[Page]:
    try:
        import pdfplumber

        pages = []
        with pdfplumber.open(path, password=password or "") as pdf:
            for number, page in enumerate(pdf.pages, start=1):
                text = page.dedupe_chars().extract_text() or ""
                verdict = assess_text_layer(text)
                pages.append(
                    Page(number=number, text=normalize_text(text) if verdict.ok else "",
                         width=float(page.width), height=float(page.height),
                         method=f"pdfplumber:{verdict.reason}")
                )  # fmt: skip
        return pages
    except (Exception, RecursionError) as exc:  # noqa: BLE001 - pdfminer raises anything
        log.info("pdfplumber cannot read %s either: %r", path, exc)
        return []
