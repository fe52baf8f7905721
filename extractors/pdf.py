"""PDF reader: pdfium for triage, text and word boxes; pdfplumber and poppler where they earn it.

Pipeline, per document: ``open_pdf`` (passwords, encryption diagnosis) -> ``triage`` every page
(pdfium text layer, ~2-4 ms/page, judged by ``assess_text_layer``, the single source of truth for
"does this page have real text?") -> second opinions only for the pages that need them (pdfplumber
for garbled or unmappable fonts, poppler's pdftotext for pages where pdfium finds nothing) ->
``rasterize`` and OCR the pages still without real text -> merge, in page order. A document pdfium
cannot open at all is read by poppler, then pdfplumber, before giving up with a Spanish error.
"""

from __future__ import annotations

import ctypes
import html
import logging
import math
import re
import subprocess
import tempfile
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from extractors import defaults
from extractors.document import ExtractedDocument, Page, Word
from extractors.errors import (
    CorruptFileError,
    EncryptedError,
    UnsupportedEncryptionError,
    WrongPasswordError,
)
from extractors.normalize import RTL_RE, normalize_text

__all__ = ["parse_pdf", "assess_text_layer", "TextVerdict", "render_scale"]

log = logging.getLogger(__name__)

READER = "pdf:pypdfium2"

_CID_RE = re.compile(r"\(cid:\d+\)")
_UNMAPPABLE_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffd\ue000-\uf8ff]")
_ALNUM_RE = re.compile(r"[^\W_]")
_TOKEN_RE = re.compile("[^\\s\ufffe]+")  # pdfium marks a line-end hyphen as U+FFFE
_EDGE_PUNCT = "\"'()[]{}¿?¡!.,;:«»“”‘’-–—*•·/\\"
_ODD_IN_WORD = set("\\~^`{}|")
_ODD_CATEGORIES = {"So", "Sk", "Co", "Cn", "Cc", "Cs"}


# --------------------------------------------------------------------------------------------
# The one decision: does this page have real text?
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TextVerdict:
    ok: bool
    reason: str  # "text-layer" or "ocr:<why>", logged and stored as Page.method


def assess_text_layer(
    text: str,
    *,
    image_coverage: Callable[[], float] = lambda: 0.0,
    invisible_ratio: Callable[[], float] = lambda: 0.0,
) -> TextVerdict:
    """Decide whether a page's text layer is real text or the page must be OCR'd.

    This is the single source of truth (paperless-ngx style); every reader's output goes through
    it and the reason is logged. ``text`` is the raw layer text; the two callables are evaluated
    only when needed, since they cost page-object walks. A page is sent to OCR when:

    - ``ocr:no-text``: it has no meaningful character at all;
    - ``ocr:cid-glyphs``: the reader printed ``(cid:NNN)`` glyph codes instead of letters;
    - ``ocr:unmappable``: control characters, U+FFFD or private-use glyph codes (fonts without a
      Unicode map) exceed ``MAX_UNMAPPABLE_RATIO``;
    - ``ocr:garbled``: most characters sit in tokens no language writes (case soup such as
      ``3HQČåQtSURV``, symbols inside words): a broken font encoding;
    - ``ocr:little-text-over-image``: a handful of characters on top of a page-sized image (a scan
      with a digital stamp or page number);
    - ``ocr:invisible-text``: the text is mostly invisible (render mode 3) and there is no scan
      beneath it, i.e. hidden text a reader never sees (invisible text OVER a scan is an earlier
      OCR layer and is kept).
    """
    cid_chars = sum(len(m) for m in _CID_RE.findall(text))
    stripped = "".join(text.split())
    total = len(stripped)
    if total == 0:
        return TextVerdict(False, "ocr:no-text")
    if cid_chars / total > defaults.MAX_UNMAPPABLE_RATIO:
        return TextVerdict(False, "ocr:cid-glyphs")
    unmappable = len(_UNMAPPABLE_RE.findall(stripped))
    if unmappable / total > defaults.MAX_UNMAPPABLE_RATIO:
        return TextVerdict(False, "ocr:unmappable")
    meaningful = len(_ALNUM_RE.findall(stripped))
    if meaningful == 0:
        return TextVerdict(False, "ocr:no-text")
    if _garbled_ratio(text) > defaults.MAX_GARBLED_RATIO:
        return TextVerdict(False, "ocr:garbled")
    coverage = None
    if meaningful < defaults.MIN_TEXT_CHARS_OVER_IMAGE:
        coverage = image_coverage()
        if coverage >= defaults.SCAN_IMAGE_COVERAGE:
            return TextVerdict(False, "ocr:little-text-over-image")
    if invisible_ratio() > defaults.MAX_INVISIBLE_RATIO:
        coverage = image_coverage() if coverage is None else coverage
        if coverage < defaults.SCAN_IMAGE_COVERAGE:
            return TextVerdict(False, "ocr:invisible-text")
    return TextVerdict(True, "text-layer")


_CJK_RE = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


def _mostly_cjk(text: str) -> bool:
    """Vertical writing in the tategaki sense (not just a page turned sideways)."""
    return len(_CJK_RE.findall(text)) > 0.3 * max(_meaningful(text), 1)


def _meaningful(text: str) -> int:
    return len(_ALNUM_RE.findall(text))


def _garbled_ratio(text: str) -> float:
    """Share of letters in tokens that look like a broken encoding rather than a language.

    Estimated on at most GARBLED_SAMPLE tokens spread over the page (it is a ratio)."""
    tokens = _TOKEN_RE.findall(text)
    step = max(1, len(tokens) // defaults.GARBLED_SAMPLE)
    bad = total = 0
    for token in tokens[::step]:
        core = token.strip(_EDGE_PUNCT)
        if not core:
            continue
        total += len(core)
        if not (core.isalpha() and (core.islower() or core.isupper() or core.istitle())) and (
            _is_garbled_token(core)
        ):
            bad += len(core)
    return bad / total if total else 0.0


def _is_garbled_token(core: str) -> bool:
    case_flips = 0
    previous_lower = False
    for ch in core:
        if ch.isalpha():
            if ch.isupper() and previous_lower:
                case_flips += 1
            previous_lower = ch.islower()
        elif ch in _ODD_IN_WORD or unicodedata.category(ch) in _ODD_CATEGORIES:
            return True  # a symbol inside a word: "\\", "~", "^", dingbats...
    return case_flips >= 2


def _is_mark(ch: str) -> bool:
    return unicodedata.category(ch).startswith("M")


# --------------------------------------------------------------------------------------------
# Opening
# --------------------------------------------------------------------------------------------


def open_pdf(path: Path, password: str | None) -> pdfium.PdfDocument | None:
    """Open with pdfium; None when pdfium cannot parse it (another reader may still)."""
    try:
        return pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        code = getattr(exc, "err_code", None)
        if code == pdfium_c.FPDF_ERR_SECURITY:
            raise UnsupportedEncryptionError(detail=f"pdfium: {exc}") from exc
        if code != pdfium_c.FPDF_ERR_PASSWORD:
            log.info("pdfium cannot open %s: %s", path, exc)
            return None
    # Encrypted with a user password (the empty one was just tried).
    if password:
        try:
            return pdfium.PdfDocument(str(path), password=password)
        except pdfium.PdfiumError as exc:
            if getattr(exc, "err_code", None) == pdfium_c.FPDF_ERR_SECURITY:
                raise UnsupportedEncryptionError(detail=f"pdfium: {exc}") from exc
    _raise_encryption_error(path, password)
    raise AssertionError("unreachable")


def _raise_encryption_error(path: Path, password: str | None) -> None:
    """pdfium says "password error" both for a missing password and for crypt filters it does
    not implement; pdfminer tells them apart (PDFPasswordIncorrect vs PDFEncryptionError)."""
    try:
        from pdfminer.pdfdocument import PDFDocument, PDFEncryptionError, PDFPasswordIncorrect
        from pdfminer.pdfparser import PDFParser

        with open(path, "rb") as handle:
            PDFDocument(PDFParser(handle), password=password or "")
    except PDFPasswordIncorrect as exc:
        if password:
            raise WrongPasswordError(
                detail=f"pdfium and pdfminer reject the password: {exc}"
            ) from exc
        raise EncryptedError(detail="PDF requires a user password") from exc
    except PDFEncryptionError as exc:
        raise UnsupportedEncryptionError(detail=f"pdfminer: {exc!r}") from exc
    except Exception as exc:  # noqa: BLE001 - pdfminer raises anything on odd files
        if password:
            raise WrongPasswordError(detail=f"pdfium password error; pdfminer: {exc!r}") from exc
        raise EncryptedError(detail=f"pdfium password error; pdfminer: {exc!r}") from exc
    # pdfminer opened what pdfium calls password-protected: an encryption pdfium lacks.
    raise UnsupportedEncryptionError(detail="pdfium reports a password error, pdfminer opens it")


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _PagePlan:
    page: Page
    needs_ocr: bool = False
    empty: bool = False  # nothing drawn at all: no objects, no annotations


def parse_pdf(
    path: Path,
    *,
    password: str | None = None,
    progress: Callable[[int, int], object] | None = None,
) -> ExtractedDocument:
    pdf = open_pdf(path, password)
    if pdf is None:
        return _parse_without_pdfium(path, password)
    try:
        count = len(pdf)
        if count == 0:
            log.info("pdfium sees 0 pages in %s; asking poppler", path)
            return _parse_without_pdfium(path, password, pdfium_pages=0)
        second = _SecondOpinions(path, password)
        try:
            plans = [_triage_safely(pdf, index, second) for index in range(count)]
        finally:
            second.close()
        warnings: list[str] = []
        if all(p.empty for p in plans):
            raise CorruptFileError(
                "El PDF no tiene contenido legible: sus páginas están vacías o su estructura "
                "está dañada. Vuelva a exportarlo desde el programa original.",
                detail=f"{count} page(s), no page objects, no annotations, no text",
            )
        ocr_indexes = [i for i, p in enumerate(plans) if p.needs_ocr]
        skipped: list[int] = []
        if len(ocr_indexes) > defaults.MAX_OCR_PAGES:
            skipped = ocr_indexes[defaults.MAX_OCR_PAGES :]
            ocr_indexes = ocr_indexes[: defaults.MAX_OCR_PAGES]
            for i in skipped:
                plans[i].page = replace(
                    plans[i].page,
                    error=(
                        f"No se aplicó OCR: el documento tiene más de {defaults.MAX_OCR_PAGES} "
                        "páginas escaneadas. Divídalo en partes más pequeñas."
                    ),
                )
            warnings.append(
                f"Solo se leyeron con OCR las primeras {defaults.MAX_OCR_PAGES} páginas "
                f"escaneadas de {defaults.MAX_OCR_PAGES + len(skipped)}."
            )
        if ocr_indexes:
            _ocr_pages(pdf, plans, ocr_indexes, progress)
        pages = tuple(p.page for p in plans)
        if ocr_indexes and not any(p.text.strip() for p in pages):
            warnings.append("No se encontró texto legible en el documento (ni con OCR).")
        for i, p in enumerate(pages):
            if p.error and i not in skipped:
                warnings.append(f"Página {p.number}: {p.error}")
        extra = sorted(
            {"tesseract" if p.ocr else p.method.split(":", 1)[0] for p in pages}
            & {"tesseract", "pdfplumber", "poppler"}
        )
        return ExtractedDocument(
            mime="application/pdf",
            pages=pages,
            extractor="+".join([READER, *extra]),
            warnings=tuple(warnings),
        )
    finally:
        pdf.close()


def _triage_safely(pdf: pdfium.PdfDocument, index: int, second: _SecondOpinions) -> _PagePlan:
    """One broken page must not sink the document: its text layer is skipped, OCR may still
    render it."""
    try:
        return triage(pdf, index, second)
    except Exception as exc:  # noqa: BLE001 - pdfium/ctypes errors on a damaged page
        log.warning("page %d: text layer unreadable (%r); trying OCR", index + 1, exc)
        try:
            width, height = pdf.get_page_size(index)
        except Exception:  # noqa: BLE001
            width = height = 0.0
        page = Page(number=index + 1, text="", width=width, height=height,
                    method="ocr:text-layer-error")  # fmt: skip
        return _PagePlan(page, needs_ocr=True)


def triage(pdf: pdfium.PdfDocument, index: int, second: _SecondOpinions) -> _PagePlan:
    """Read one page's text layer with pdfium and decide whether it needs OCR."""
    page = pdf[index]
    try:
        width, height = page.get_size()
        textpage = page.get_textpage()
        try:
            layer = _read_pdfium_layer(page, textpage)
            facts = _PageFacts(page, textpage)
            verdict = assess_text_layer(
                layer.raw, image_coverage=facts.image_coverage, invisible_ratio=facts.invisible
            )
        finally:
            textpage.close()
        number = index + 1
        log.debug("page %d: pdfium verdict %s", number, verdict.reason)
        if verdict.ok and layer.vertical and _mostly_cjk(layer.raw):
            # pdfium's vertical-writing support is weak (it can drop most glyphs of a vertical
            # CJK font); pdfminer with detect_vertical reads it: keep whichever reads more.
            alt = second.pdfminer_vertical(index)
            if (
                alt is not None
                and len(alt.raw.split())
                and _meaningful(alt.raw) > _meaningful(layer.raw)
            ):
                alt_verdict = assess_text_layer(alt.raw)
                if alt_verdict.ok:
                    alt.words = layer.words
                    alt.normalized = True
                    return _PagePlan(
                        _make_page(number, width, height, alt, "pdfminer:text-layer-vertical")
                    )
        if verdict.ok:
            method = "text-layer"
            if (
                layer.rows is not None
                and page.get_rotation() % 360 == 0
                and not RTL_RE.search(layer.raw)  # pdfplumber gives RTL cells in visual order
                and facts.path_count() >= defaults.TABLE_MIN_PATHS
            ):
                tables = second.tables(index)
                rest = [
                    [top, bottom, [m for m in members if not any(t.contains(m) for t in tables)]]
                    for top, bottom, members in layer.rows
                ]
                if tables and not _looks_multi_column([r for r in rest if r[2]]):
                    with_tables = _render_rows_with_tables(layer.rows, tables)
                    if _keeps_words(layer.text, with_tables):
                        layer.text = with_tables
                        method = "text-layer+pdfplumber-tables"
                    else:
                        log.info("page %d: table rows would lose words; keeping row grouping",
                                 number)  # fmt: skip
            return _PagePlan(_make_page(number, width, height, layer, method))
        # Second opinions, cheapest first, only for this page.
        alternatives: list[tuple[str, Callable[[], _Layer | None]]] = []
        if verdict.reason in ("ocr:garbled", "ocr:unmappable", "ocr:cid-glyphs"):
            alternatives.append(("pdfplumber", lambda: second.pdfplumber(index)))
        if (
            verdict.reason == "ocr:no-text"
            and facts.image_coverage() < defaults.SCAN_IMAGE_COVERAGE
        ):
            alternatives.append(("poppler", lambda: second.poppler(index)))
        if verdict.reason in ("ocr:garbled", "ocr:unmappable"):
            alternatives.append(("poppler", lambda: second.poppler(index)))
        for name, read in alternatives:
            alt = read()
            if alt is None:
                continue
            alt_verdict = assess_text_layer(
                alt.raw, image_coverage=facts.image_coverage, invisible_ratio=lambda: 0.0
            )
            log.info("page %d: %s %s, %s says %s", number, "pdfium", verdict.reason, name,
                     alt_verdict.reason)  # fmt: skip
            if alt_verdict.ok:
                return _PagePlan(_make_page(number, width, height, alt, f"{name}:text-layer"))
        if facts.is_empty():
            log.info("page %d: nothing drawn on it, no OCR", number)
            return _PagePlan(
                Page(number=number, text="", width=width, height=height, method="empty"),
                empty=True,
            )
        log.info("page %d: %s -> OCR", number, verdict.reason)
        return _PagePlan(
            Page(number=number, text="", width=width, height=height, method=verdict.reason),
            needs_ocr=True,
        )
    finally:
        page.close()


def _make_page(number: int, width: float, height: float, layer: _Layer, method: str) -> Page:
    return Page(
        number=number,
        text=normalize_text(layer.text),
        words=layer.words
        if layer.normalized
        else tuple(
            w if w.text.isascii() else replace(w, text=normalize_text(w.text)) for w in layer.words
        ),
        width=round(width, 2),
        height=round(height, 2),
        method=method,
    )


class _PageFacts:
    """Lazily computed facts about a page, for ``assess_text_layer``."""

    def __init__(self, page: pdfium.PdfPage, textpage: pdfium.PdfTextPage):
        self._page = page
        self._textpage = textpage
        self._coverage: float | None = None
        self._invisible: float | None = None

    def image_coverage(self) -> float:
        if self._coverage is None:
            width, height = self._page.get_size()
            area = max(width * height, 1.0)
            covered = 0.0
            try:
                images = self._page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=3)
                for obj in images:
                    left, bottom, right, top = obj.get_bounds()
                    covered += max(0.0, right - left) * max(0.0, top - bottom)
            except Exception as exc:  # noqa: BLE001 - a broken object must not sink triage
                log.debug("image walk failed: %r", exc)
            self._coverage = min(covered / area, 1.0)
        return self._coverage

    def invisible(self) -> float:
        if self._invisible is None:
            count = self._textpage.count_chars()
            samples = min(count, defaults.INVISIBLE_SAMPLE)
            invisible = seen = 0
            for k in range(samples):
                i = k * count // samples
                obj = pdfium_c.FPDFText_GetTextObject(self._textpage.raw, i)
                if not obj:
                    continue
                seen += 1
                mode = pdfium_c.FPDFTextObj_GetTextRenderMode(obj)
                if mode == pdfium_c.FPDF_TEXTRENDERMODE_INVISIBLE:
                    invisible += 1
            self._invisible = invisible / seen if seen else 0.0
        return self._invisible

    def path_count(self) -> int:
        """Top-level vector paths (rules, boxes), counted up to TABLE_MIN_PATHS: a ruled table
        needs several. Raw calls: the object wrappers cost ~20x more on text-heavy pages."""
        raw = self._page.raw
        paths = 0
        for i in range(pdfium_c.FPDFPage_CountObjects(raw)):
            obj = pdfium_c.FPDFPage_GetObject(raw, i)
            kind = pdfium_c.FPDFPageObj_GetType(obj)
            if kind == pdfium_c.FPDF_PAGEOBJ_PATH:
                paths += 1
                if paths >= defaults.TABLE_MIN_PATHS:
                    break
            elif kind == pdfium_c.FPDF_PAGEOBJ_FORM:
                for j in range(min(pdfium_c.FPDFFormObj_CountObjects(obj), 500)):
                    child = pdfium_c.FPDFFormObj_GetObject(obj, j)
                    if pdfium_c.FPDFPageObj_GetType(child) == pdfium_c.FPDF_PAGEOBJ_PATH:
                        paths += 1
                if paths >= defaults.TABLE_MIN_PATHS:
                    break
        return paths

    def is_empty(self) -> bool:
        raw = self._page.raw
        return (
            pdfium_c.FPDFPage_CountObjects(raw) <= 0 and pdfium_c.FPDFPage_GetAnnotCount(raw) <= 0
        )


# --------------------------------------------------------------------------------------------
# pdfium text layer -> words with boxes -> lines in reading order
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Layer:
    raw: str  # the reader's own text, for assessment
    text: str  # lines in reading order
    words: tuple[Word, ...]
    normalized: bool = False  # word texts already went through normalize_text
    vertical: bool = False  # vertical writing (tategaki) detected
    rows: list | None = None  # visual rows, when the text was laid out by rows


@dataclass(slots=True)
class _Tok:
    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    rtl: bool
    segment: int  # pdfium's own line (run between its generated line breaks)


@dataclass(slots=True)
class _Segment:
    toks: list[_Tok]
    x0: float
    top: float
    x1: float
    bottom: float
    rtl: bool


def _char_spans(
    textpage: pdfium.PdfTextPage, count: int
) -> tuple[str, list[tuple[int, int, str, int]]]:
    """(raw text, [(first char index, last char index, token text, segment id)]).

    Fast path: one call for the whole text, split on whitespace (pdfium's text indexes are its
    char indexes). When they disagree (characters outside the BMP), read char by char.
    """
    raw = textpage.get_text_range(0, count)
    spans: list[tuple[int, int, str, int]] = []
    if len(raw) == count:
        segment = 0
        position = 0
        for match in _TOKEN_RE.finditer(raw):
            segment += raw.count("\n", position, match.start())
            position = match.start()
            text = match.group()
            if raw[match.end() : match.end() + 1] == "\ufffe":
                text += "-"
            spans.append((match.start(), match.end() - 1, text, segment))
        return raw, spans
    tp = textpage.raw
    chars: list[str] = []
    segment = 0
    current: list[str] = []
    first = -1
    for i in range(count):
        code = pdfium_c.FPDFText_GetUnicode(tp, i)
        ch = chr(code) if 0 < code < 0x110000 and not 0xD800 <= code < 0xE000 else "\ufffd"
        chars.append(ch)
        if ch.isspace() or ch == "\ufffe":
            if ch == "\ufffe" and current:
                current.append("-")
            if current:
                spans.append((first, i - 1, "".join(current), segment))
                current = []
            if ch == "\n":
                segment += 1
            continue
        if not current:
            first = i
        current.append(ch)
    if current:
        spans.append((first, count - 1, "".join(current), segment))
    return "".join(chars), spans


def _read_pdfium_layer(page: pdfium.PdfPage, textpage: pdfium.PdfTextPage) -> _Layer:
    count = textpage.count_chars()
    if count <= 0:
        return _Layer("", "", ())
    raw, spans = _char_spans(textpage, count)
    to_display = _display_transform(page)
    tp = textpage.raw
    rect = pdfium_c.FS_RECTF()
    rect_ref = ctypes.byref(rect)

    get_box = pdfium_c.FPDFText_GetLooseCharBox
    upright = page.get_rotation() % 360 == 0
    origin_x, origin_y, _, top_y = page.get_bbox()
    height = top_y - origin_y

    toks: list[_Tok] = []
    seen: set[tuple[str, int, int]] = set()
    has_rtl = RTL_RE.search(raw) is not None
    for start, end, text, segment in spans:
        # The loose box spans the font's ascent to descent: every word of a line gets the same
        # height, which the line grouping relies on (tight glyph boxes make "on" half as tall).
        get_box(tp, start, rect_ref)
        a_left, a_top, a_right, a_bottom = rect.left, rect.top, rect.right, rect.bottom
        if end != start:
            get_box(tp, end, rect_ref)
            b_left, b_top, b_right, b_bottom = rect.left, rect.top, rect.right, rect.bottom
        else:
            b_left, b_top, b_right, b_bottom = a_left, a_top, a_right, a_bottom
        if upright:  # the common case, without the general transform's call
            ax0, atop, ax1, abot = (
                a_left - origin_x,
                height - a_top + origin_y,
                a_right - origin_x,
                height - a_bottom + origin_y,
            )
            bx0, btop, bx1, bbot = (
                b_left - origin_x,
                height - b_top + origin_y,
                b_right - origin_x,
                height - b_bottom + origin_y,
            )
        else:
            ax0, atop, ax1, abot = to_display(a_left, a_bottom, a_right, a_top)
            bx0, btop, bx1, bbot = to_display(b_left, b_bottom, b_right, b_top)
        rtl = has_rtl and RTL_RE.search(text) is not None
        if rtl and end != start and ax0 < bx0 and not text.isascii():
            text = _reverse_visual(text)  # stored in visual (left-to-right) order
        x0 = ax0 if ax0 < bx0 else bx0
        x1 = ax1 if ax1 > bx1 else bx1
        y0 = atop if atop < btop else btop
        y1 = abot if abot > bbot else bbot
        if not text.isascii():
            text = normalize_text(text)
        key = (text, int(x0), int(y0))
        if key in seen:  # overprinted ("fake bold") duplicates
            continue
        seen.add(key)
        toks.append(_Tok(text, x0, y0, x1, y1, rtl, segment))
    words = tuple([Word(t.text, t.x0, t.top, t.x1, t.bottom) for t in toks])
    if _is_vertical(toks):
        # Vertical writing (tategaki): pdfium's stream order is the reading order.
        return _Layer(raw, raw, words, normalized=True, vertical=True)
    segments = _segments(toks)
    rows = _rows(segments)
    if _looks_multi_column(rows):
        # Columns of running text: authoring tools write each column in turn, so pdfium's stream
        # order reads them correctly, while visual rows would splice the columns together.
        return _Layer(raw, _lines_in_stream_order(segments), words, normalized=True, rows=rows)
    return _Layer(raw, _render_rows(rows), words, normalized=True, rows=rows)


def _reverse_visual(text: str) -> str:
    """Visual-order RTL token -> logical order, keeping combining marks after their base."""
    clusters: list[str] = []
    for ch in text:
        if clusters and _is_mark(ch):  # pdfium keeps a mark right after its base letter
            clusters[-1] += ch
        else:
            clusters.append(ch)
    return "".join(reversed(clusters))


def _display_transform(page: pdfium.PdfPage):
    """PDF user space (origin bottom-left, unrotated) -> displayed page, origin top-left."""
    x0, y0, x1, y1 = page.get_bbox()
    w, h = x1 - x0, y1 - y0
    rotation = page.get_rotation() % 360

    def to_display(left, bottom, right, top):
        lx, rx, by, ty = left - x0, right - x0, bottom - y0, top - y0
        if rotation == 90:
            return by, lx, ty, rx
        if rotation == 180:
            return w - rx, by, w - lx, ty
        if rotation == 270:
            return h - ty, w - rx, h - by, w - lx
        return lx, h - ty, rx, h - by

    return to_display


def _is_vertical(toks: list[_Tok]) -> bool:
    total = tall = 0
    for t in toks:
        total += len(t.text)
        if len(t.text) >= 3 and (t.bottom - t.top) > 2 * (t.x1 - t.x0):
            tall += len(t.text)
    return total > 0 and tall / total > 0.5


def _segments(toks: list[_Tok]) -> list[_Segment]:
    """Tokens -> pdfium's own lines, split where a token leaves the previous token's line
    (its vertical span no longer contains the previous token's middle) or goes backwards."""
    out: list[_Segment] = []
    current: list[_Tok] = []
    previous = None
    for tok in toks:
        if previous is not None:
            middle = (previous.top + previous.bottom) * 0.5
            if tok.segment != previous.segment or not (tok.top < middle < tok.bottom):
                out.append(_make_segment(current))
                current = []
        current.append(tok)
        previous = tok
    if current:
        out.append(_make_segment(current))
    if any(t.rtl for t in toks):
        for seg in out:
            rtl_chars = sum(len(t.text) for t in seg.toks if t.rtl)
            if rtl_chars * 2 > sum(len(t.text) for t in seg.toks):
                seg.rtl = True
                seg.toks.sort(key=lambda t: -t.x1)
    return out


def _make_segment(toks: list[_Tok]) -> _Segment:
    first = toks[0]
    x0, top, x1, bottom = first.x0, first.top, first.x1, first.bottom
    ordered = True
    last_x0 = x0
    for tok in toks[1:]:
        if tok.x0 < last_x0 - 1:
            ordered = False
        last_x0 = tok.x0
        if tok.x0 < x0:
            x0 = tok.x0
        if tok.x1 > x1:
            x1 = tok.x1
        if tok.top < top:
            top = tok.top
        if tok.bottom > bottom:
            bottom = tok.bottom
    if not ordered:
        toks.sort(key=lambda t: t.x0)
    return _Segment(toks, x0, top, x1, bottom, False)


def _rows(segments: list[_Segment]) -> list[list]:
    """Group pdfium's lines into visual rows, top to bottom: [ref_top, ref_bottom, [segments]]."""
    rows: list[list] = []
    for seg in sorted(segments, key=lambda s: (s.top, s.x0)):
        height = max(seg.bottom - seg.top, 0.1)
        for row in reversed(rows[-6:]):
            overlap = min(row[1], seg.bottom) - max(row[0], seg.top)
            if overlap >= 0.5 * min(row[1] - row[0], height):
                row[2].append(seg)
                break
        else:
            rows.append([seg.top, seg.bottom, [seg]])
    rows.sort(key=lambda row: row[0])
    return rows


def _looks_multi_column(rows: list[list]) -> bool:
    """Rows holding two long runs of prose side by side: a multi-column page, not a table."""
    side_by_side = with_prose = 0
    for _, _, members in rows:
        long_runs = sum(1 for m in members if sum(len(t.text) + 1 for t in m.toks) >= 30)
        with_prose += long_runs >= 1
        side_by_side += long_runs >= 2
    return side_by_side >= 3 and side_by_side >= 0.1 * with_prose


def _render_rows(rows: list[list]) -> str:
    """Visual rows as text lines; cells of a table row on one line.

    A row whose parts are far apart horizontally (more than CELL_GAP_FACTOR line heights) is a
    table row or a form line: its parts are joined with " | " so it stays one evidence unit.
    """
    out: list[str] = []
    previous_bottom = None
    for ref_top, ref_bottom, members in rows:
        height = max(ref_bottom - ref_top, 0.1)
        rtl = sum(1 for m in members if m.rtl) * 2 > len(members)
        members.sort(key=lambda m: -m.x1 if rtl else m.x0)
        gap_above = ref_top - previous_bottom if previous_bottom is not None else 0.0
        if gap_above > defaults.PARAGRAPH_GAP_FACTOR * height:
            out.append("")
        out.append(_join_cells(members, height, rtl))
        previous_bottom = ref_bottom
    return "\n".join(out)


def _render_rows_with_tables(rows: list[list], tables: list[_Table]) -> str:
    """Like ``_render_rows``, with each ruled table's text replaced by its rows from pdfplumber
    (a wrapped cell stays in its row, so every table row is one line and one evidence unit)."""
    items: list[tuple[float, float, str]] = []
    for ref_top, ref_bottom, members in rows:
        outside = [m for m in members if not any(t.contains(m) for t in tables)]
        if outside:
            items.append((ref_top, ref_bottom, _render_rows([[ref_top, ref_bottom, outside]])))
    for table in tables:
        items.append((table.top, table.bottom, "\n" + "\n".join(table.lines) + "\n"))
    items.sort(key=lambda item: item[0])
    out: list[str] = []
    previous_bottom = None
    for top, bottom, text in items:
        height = max(bottom - top, 0.1)
        if (
            previous_bottom is not None
            and top - previous_bottom > defaults.PARAGRAPH_GAP_FACTOR * min(height, 20)
        ):
            out.append("")
        out.append(text)
        previous_bottom = bottom
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip("\n")


def _keeps_words(before: str, after: str) -> bool:
    """The table finder may only regroup the page's words, never drop them (a partly ruled
    table can leave its label column outside every cell)."""
    split = re.compile(r"[\s|]+").split
    lost = Counter(t for t in split(before) if t) - Counter(t for t in split(after) if t)
    return sum(lost.values()) <= defaults.TABLE_MAX_LOST_WORDS


@dataclass(slots=True)
class _Table:
    x0: float
    top: float
    x1: float
    bottom: float
    lines: list[str]

    def contains(self, seg: _Segment) -> bool:
        cx, cy = (seg.x0 + seg.x1) / 2, (seg.top + seg.bottom) / 2
        return self.x0 <= cx <= self.x1 and self.top <= cy <= self.bottom


def _lines_in_stream_order(segments: list[_Segment]) -> str:
    """pdfium's lines in content-stream order; consecutive parts of one visual row joined."""
    out: list[str] = []
    row: list[_Segment] = []
    for seg in segments:
        if row:
            last = row[-1]
            height = max(min(last.bottom - last.top, seg.bottom - seg.top), 0.1)
            overlap = min(last.bottom, seg.bottom) - max(last.top, seg.top)
            if overlap >= 0.5 * height and seg.x0 >= last.x1 - 1:
                row.append(seg)
                continue
            out.append(_join_cells(row, max(last.bottom - last.top, 0.1), False))
            gap = seg.top - last.bottom
            if (
                gap > defaults.PARAGRAPH_GAP_FACTOR * max(last.bottom - last.top, 0.1)
                or gap < -height
            ):
                out.append("")
        row = [seg]
    if row:
        out.append(_join_cells(row, max(row[-1].bottom - row[-1].top, 0.1), False))
    return "\n".join(out)


def _join_cells(members: list[_Segment], height: float, rtl: bool) -> str:
    parts: list[str] = []
    previous = None
    for seg in members:
        if previous is not None:
            gap = (previous.x0 - seg.x1) if rtl else (seg.x0 - previous.x1)
            parts.append(" | " if gap > defaults.CELL_GAP_FACTOR * height else " ")
        parts.append(_segment_text(seg))
        previous = seg
    return "".join(parts)


def _segment_text(seg: _Segment) -> str:
    parts = [seg.toks[0].text]
    height = max(seg.bottom - seg.top, 0.1)
    for prev, tok in zip(seg.toks, seg.toks[1:], strict=False):
        gap = (prev.x0 - tok.x1) if seg.rtl else (tok.x0 - prev.x1)
        parts.append(" | " if gap > 2 * defaults.CELL_GAP_FACTOR * height else " ")
        parts.append(tok.text)
    return "".join(parts)


# --------------------------------------------------------------------------------------------
# Second opinions: pdfplumber (fonts pdfminer maps better) and poppler (what pdfium misses)
# --------------------------------------------------------------------------------------------


class _SecondOpinions:
    """Other readers, opened lazily and at most once per document."""

    def __init__(self, path: Path, password: str | None):
        self.path = path
        self.password = password
        self._plumber = None
        self._plumber_failed = False
        self.table_pages_left = defaults.TABLE_MAX_PAGES

    def pdfplumber(self, index: int) -> _Layer | None:
        try:
            if self._plumber is None and not self._plumber_failed:
                import pdfplumber

                self._plumber = pdfplumber.open(self.path, password=self.password or "")
            if self._plumber is None or index >= len(self._plumber.pages):
                return None
            page = self._plumber.pages[index].dedupe_chars()
            text = page.extract_text() or ""
            words = tuple(
                Word(w["text"], round(w["x0"], 2), round(w["top"], 2), round(w["x1"], 2),
                     round(w["bottom"], 2))
                for w in page.extract_words()
            )  # fmt: skip
            return _Layer(text, text, words)
        except (Exception, RecursionError) as exc:  # noqa: BLE001 - pdfminer raises anything
            log.info("pdfplumber failed on page %d: %r", index + 1, exc)
            self._plumber_failed = True
            return None

    def tables(self, index: int) -> list[_Table]:
        """Ruled tables of one page, rows as "cell | cell" lines (pdfplumber, ~0.1 s/page)."""
        if self.table_pages_left <= 0:
            return []
        self.table_pages_left -= 1
        try:
            page = self._open_plumber(index)
            if page is None:
                return []
            found = []
            for table in page.find_tables():
                lines = []
                for row in table.extract():
                    cells = [" ".join(c.split()) for c in row if c and c.strip()]
                    if cells:
                        lines.append(" | ".join(cells))
                cells = [c for row in table.extract() for c in row if c and c.strip()]
                longest = max((len(c) for c in cells), default=0)
                # A "table" that is a frame around running text (one huge cell) is not a table.
                if len(lines) >= 2 and len(cells) >= 4 and longest <= defaults.TABLE_MAX_CELL_CHARS:
                    found.append(_Table(*table.bbox, lines=lines))
            return found
        except (Exception, RecursionError) as exc:  # noqa: BLE001 - pdfminer raises anything
            log.info("pdfplumber table finder failed on page %d: %r", index + 1, exc)
            return []

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

    def pdfminer_vertical(self, index: int) -> _Layer | None:
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
        return _Layer(text, text, ())

    def poppler(self, index: int) -> _Layer | None:
        pages = _pdftotext_bbox(self.path, self.password, first=index + 1, last=index + 1)
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


def _pdftotext_bbox(
    path: Path, password: str | None, *, first: int | None = None, last: int | None = None
) -> list[tuple[float, float, _Layer]]:
    """poppler's pdftotext -bbox-layout: [(width, height, layer)] per page, [] on failure."""
    cmd = ["pdftotext", "-q", "-bbox-layout", "-enc", "UTF-8"]
    if first:
        cmd += ["-f", str(first), "-l", str(last or first)]
    if password:
        cmd += ["-upw", password]
    cmd += [str(path), "-"]
    try:
        proc = subprocess.run(
            cmd, capture_output=True, timeout=defaults.PDFTOTEXT_TIMEOUT, check=False
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
        pages.append((float(pm.group(1)), float(pm.group(2)), _Layer(text, text, tuple(words))))
    return pages


def _parse_without_pdfium(
    path: Path, password: str | None, pdfium_pages: int | None = None
) -> ExtractedDocument:
    """pdfium could not open the file (or saw no pages): poppler, then pdfplumber, or an error."""
    pages_out: list[Page] = []
    method = "poppler"
    for number, (width, height, layer) in enumerate(_pdftotext_bbox(path, password), start=1):
        verdict = assess_text_layer(layer.raw)
        pages_out.append(
            _make_page(number, width, height, layer, f"poppler:{verdict.reason}")
            if verdict.ok
            else Page(number=number, text="", width=width, height=height,
                      method=f"poppler:{verdict.reason}")
        )  # fmt: skip
    if not any(p.text for p in pages_out):
        pages_out = _pdfplumber_document(path, password)
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


def _pdfplumber_document(path: Path, password: str | None) -> list[Page]:
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


# --------------------------------------------------------------------------------------------
# OCR of the pages without real text
# --------------------------------------------------------------------------------------------


def render_scale(width: float, height: float) -> float:
    """Pixels per point for OCR: OCR_DPI, small pages up to a readable size, huge pages capped."""
    scale = defaults.OCR_DPI / 72
    long_side = max(width, height, 1.0)
    if long_side * scale < defaults.MIN_RENDER_LONG_SIDE:
        scale = defaults.MIN_RENDER_LONG_SIDE / long_side
    area = max(width * height, 1.0)
    if area * scale * scale > defaults.MAX_RENDER_PIXELS:
        scale = math.sqrt(defaults.MAX_RENDER_PIXELS / area)
    return scale


def _ocr_pages(
    pdf: pdfium.PdfDocument,
    plans: list[_PagePlan],
    indexes: list[int],
    progress: Callable[[int, int], object] | None,
) -> None:
    from extractors import ocr

    ocr.ensure_available()
    with tempfile.TemporaryDirectory(prefix="evidencia-ocr-") as tmp:
        render_errors: dict[int, str] = {}

        def rasterize() -> Iterator[ocr.OcrImage]:
            for index in indexes:
                try:
                    yield _rasterize(pdf, index, Path(tmp))
                except Exception as exc:  # noqa: BLE001 - a page that cannot render
                    log.warning("cannot render page %d: %r", index + 1, exc)
                    render_errors[index] = "No se pudo dibujar esta página para leerla con OCR."

        results = ocr.ocr_images(rasterize(), len(indexes), progress=progress)
    for result in results:
        plan = plans[result.index]
        plan.page = replace(
            plan.page,
            text=normalize_text(result.text),
            words=tuple(replace(w, text=normalize_text(w.text)) for w in result.words),
            ocr=True,
            ocr_confidence=result.confidence,
            rotation=result.rotation,
            error=result.error,
        )
    for index, message in render_errors.items():
        plans[index].page = replace(plans[index].page, error=message)
    if render_errors and progress is not None:
        progress(len(indexes), len(indexes))


def _rasterize(pdf: pdfium.PdfDocument, index: int, folder: Path):
    """Render one page in gray at ``render_scale`` into an uncompressed PGM file."""
    from extractors.ocr import OcrImage, write_pgm

    page = pdf[index]
    try:
        width, height = page.get_size()
        scale = render_scale(width, height)
        bitmap = page.render(scale=scale, grayscale=True, may_draw_forms=True)
        image = bitmap.to_pil()
        target = folder / f"page-{index + 1:05d}.pgm"
        write_pgm(image, target)
        px_w, px_h = image.size
        bitmap.close()
        return OcrImage(target, index, width / px_w, height / px_h)
    finally:
        page.close()
