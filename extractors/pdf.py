"""PDF reader: pdfium for triage, text and word boxes; pdfplumber and poppler where they earn it.

Modules: this one orchestrates (open, triage, OCR, merge); ``text_layer`` holds the one decision
"real text or OCR?"; ``pdf_layout`` turns pdfium's characters into words and lines;
``pdf_readers`` wraps the second-opinion readers.

Pipeline, page by page: ``open_pdf`` once (passwords, encryption diagnosis), then for each page
``triage`` (pdfium text layer, ~2-4 ms/page, judged by ``assess_text_layer``, the single source of
truth for "does this page have real text?") -> second opinions only for the pages that need them
(pdfplumber for garbled or unmappable fonts, poppler's pdftotext for pages where pdfium finds
nothing) -> ``rasterize`` the page if it still has no real text and hand it to OCR, which works a
few pages ahead -> give the page out, in page order. Nothing waits for the whole document, so a
caller that stores each page as it comes holds a few pages of any length. A document pdfium
cannot open at all is read by poppler, then pdfplumber, before giving up with a Spanish error.
"""

from __future__ import annotations

import logging
import math
import tempfile
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from extractors import defaults
from extractors.document import DocumentSummary, ExtractedDocument, Page
from extractors.errors import (
    CorruptFileError,
    EncryptedError,
    UnsupportedEncryptionError,
    WrongPasswordError,
)
from extractors.normalize import RTL_RE
from extractors.ocr import OcrImage, OcrResult, as_page, ocr_in_order, write_pgm
from extractors.options import ExtractOptions
from extractors.pdf_layout import (
    Layer,
    keeps_words,
    looks_multi_column,
    make_page,
    read_pdfium_layer,
    render_rows_with_tables,
)
from extractors.pdf_readers import SecondOpinions, parse_without_pdfium
from extractors.text_layer import (
    LayerReason,
    TextVerdict,
    assess_text_layer,
    meaningful_chars,
    mostly_cjk,
)

__all__ = ["parse_pdf", "assess_text_layer", "TextVerdict", "render_scale"]

log = logging.getLogger(__name__)

READER = "pdf:pypdfium2"

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
    skipped: bool = False  # scanned, but past the OCR cap


def parse_pdf(
    path: Path,
    *,
    options: ExtractOptions,
    password: str | None = None,
    progress: Callable[[int, int], object] | None = None,
) -> Generator[Page, None, DocumentSummary]:
    """Pages in page order as they are read (a generator: ``extractors.PageStream`` drives it).

    Triage runs page by page and each page without real text is rendered and handed to OCR,
    which works a few pages ahead; a page is given out as soon as it and those before it are
    done, so memory holds a few pages whatever the document's length. ``progress(done, total)``
    counts pages read out of the document's pages, called as OCR'd pages come out.
    """
    first = open_pdf(path, password)
    if first is None:
        return (yield from _whole(parse_without_pdfium(path, password, options=options)))
    pdf = _ReopeningPdf(path, password, first)
    try:
        count = len(first)
        if count == 0:
            log.info("pdfium sees 0 pages in %s; asking poppler", path)
            fallback = parse_without_pdfium(path, password, options=options, pdfium_pages=0)
            return (yield from _whole(fallback))
        tally = _Tally(count, options.max_ocr_pages)
        second = SecondOpinions(path, password, options)
        held: list[Page] = []  # leading pages with nothing drawn: the document may be all empty
        try:
            with tempfile.TemporaryDirectory(prefix="evidencia-ocr-") as tmp:
                work = _plan_pages(pdf, count, second, tally, Path(tmp), options)
                for plan, result in ocr_in_order(work, options=options):
                    page = tally.add(plan, result)
                    if progress is not None and plan.needs_ocr and not plan.skipped:
                        progress(tally.read, count)
                    if plan.empty and not tally.drawn:
                        held.append(page)
                        continue
                    tally.drawn = True
                    yield from held
                    held.clear()
                    yield page
        finally:
            second.close()
        if not tally.drawn:
            raise CorruptFileError(
                "El PDF no tiene contenido legible: sus páginas están vacías o su estructura "
                "está dañada. Vuelva a exportarlo desde el programa original.",
                detail=f"{count} page(s), no page objects, no annotations, no text",
            )
        return tally.summary()
    finally:
        pdf.close()


def _whole(document: ExtractedDocument) -> Generator[Page, None, DocumentSummary]:
    """A document read in one go (the fallback readers) given out page by page."""
    yield from document.pages
    return DocumentSummary(document.extractor, document.warnings)


class _ReopeningPdf:
    """The pdfium document, reopened every ``PDF_REOPEN_PAGES`` pages: pdfium keeps every stream
    it has read (the JPEG of each scanned page, ~0.45 MB) until the document is closed, so a long
    scan would otherwise grow by its whole file size (measured: +99 MB over 200 pages, flat
    when reopened every 25)."""

    def __init__(self, path: Path, password: str | None, first: pdfium.PdfDocument):
        self.path = path
        self.password = password
        self.document = first
        self._opened_at = 0

    def at(self, index: int) -> pdfium.PdfDocument:
        """The document to read page ``index`` from (no page object of it may be open)."""
        if index - self._opened_at >= defaults.PDF_REOPEN_PAGES:
            self.document.close()
            try:  # as open_pdf did: without a password first (owner-only encryption)
                self.document = pdfium.PdfDocument(str(self.path))
            except pdfium.PdfiumError:
                if not self.password:
                    raise
                self.document = pdfium.PdfDocument(str(self.path), password=self.password)
            self._opened_at = index
        return self.document

    def close(self) -> None:
        self.document.close()


@dataclass(slots=True)
class _Tally:
    """What the page-by-page reading learns about the whole document (for its summary)."""

    count: int
    cap: int
    read: int = 0
    scanned: int = 0  # pages that needed OCR, past the cap included
    sent_to_ocr: int = 0
    drawn: bool = False  # a page with something on it was seen
    any_text: bool = False
    readers: set[str] = field(default_factory=set)
    page_errors: list[str] = field(default_factory=list)

    def add(self, plan: _PagePlan, result: OcrResult | None) -> Page:
        page = plan.page if result is None else as_page(result, plan.page)
        self.read += 1
        self.any_text = self.any_text or bool(page.text.strip())
        reader = "tesseract" if page.ocr else page.method.split(":", 1)[0]
        if reader in ("tesseract", "pdfplumber", "poppler"):
            self.readers.add(reader)
        if page.error and not plan.skipped:
            self.page_errors.append(f"Página {page.number}: {page.error}")
        return page

    def summary(self) -> DocumentSummary:
        warnings: list[str] = []
        if self.scanned > self.cap:
            warnings.append(
                f"Solo se leyeron con OCR las primeras {self.cap} páginas escaneadas de "
                f"{self.scanned}."
            )
        if self.sent_to_ocr and not self.any_text:
            warnings.append("No se encontró texto legible en el documento (ni con OCR).")
        warnings.extend(self.page_errors)
        extractor = "+".join([READER, *sorted(self.readers)])
        return DocumentSummary(extractor, tuple(warnings))


def _plan_pages(
    pdf: _ReopeningPdf,
    count: int,
    second: SecondOpinions,
    tally: _Tally,
    folder: Path,
    options: ExtractOptions,
) -> Iterator[tuple[_PagePlan, OcrImage | None]]:
    """Triage each page in turn; a page without real text comes with its rendering for OCR."""
    for index in range(count):
        if options.force_ocr:
            plan = _forced(pdf.at(index), index)
        else:
            plan = _triage_safely(pdf.at(index), index, second)
        if not plan.needs_ocr:
            yield plan, None
            continue
        tally.scanned += 1
        if tally.scanned > options.max_ocr_pages:
            plan.skipped = True
            plan.page = replace(plan.page, error=(
                f"No se aplicó OCR: el documento tiene más de {options.max_ocr_pages} páginas "
                "escaneadas. Divídalo en partes más pequeñas."
            ))  # fmt: skip
            yield plan, None
            continue
        tally.sent_to_ocr += 1
        try:
            image = _rasterize(pdf.at(index), index, folder, options.max_render_pixels)
        except Exception as exc:  # noqa: BLE001 - a page that cannot render
            log.warning("cannot render page %d: %r", index + 1, exc)
            plan.page = replace(plan.page,
                                error="No se pudo dibujar esta página para leerla con OCR.")
            yield plan, None
            continue
        yield plan, image


def _forced(pdf: pdfium.PdfDocument, index: int) -> _PagePlan:
    """Every page to OCR, its text layer not read (``ExtractOptions.force_ocr``)."""
    try:
        width, height = pdf.get_page_size(index)
    except Exception:  # noqa: BLE001 - a damaged page: OCR may still render it
        width = height = 0.0
    log.info("page %d: OCR forced", index + 1)
    page = Page(number=index + 1, text="", width=width, height=height, method="ocr:forced")
    return _PagePlan(page, needs_ocr=True)


def _triage_safely(pdf: pdfium.PdfDocument, index: int, second: SecondOpinions) -> _PagePlan:
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


#: Verdicts on pdfium's reading of a font's encoding that another reader may overturn.
_ASK_PDFPLUMBER = frozenset({LayerReason.garbled, LayerReason.unmappable, LayerReason.cid_glyphs})
_ASK_POPPLER = frozenset({LayerReason.garbled, LayerReason.unmappable})


def triage(pdf: pdfium.PdfDocument, index: int, second: SecondOpinions) -> _PagePlan:
    """Read one page's text layer with pdfium and decide whether it needs OCR."""
    page = pdf[index]
    try:
        width, height = page.get_size()
        textpage = page.get_textpage()
        try:
            layer = read_pdfium_layer(page, textpage)
            facts = _PageFacts(page, textpage)
            verdict = assess_text_layer(
                layer.raw, image_coverage=facts.image_coverage, invisible_ratio=facts.invisible
            )
        finally:
            textpage.close()
        number = index + 1
        log.debug("page %d: pdfium verdict %s", number, verdict.reason)
        if verdict.ok and layer.vertical and mostly_cjk(layer.raw):
            alt = _vertical_reading(second, index, layer)
            if alt is not None:
                return _PagePlan(
                    make_page(number, width, height, alt, "pdfminer:text-layer-vertical")
                )
        if verdict.ok:
            method = _with_tables(page, facts, second, index, layer)
            return _PagePlan(make_page(number, width, height, layer, method))
        alt, name = _second_opinion(second, index, verdict, facts)
        if alt is not None:
            return _PagePlan(make_page(number, width, height, alt, f"{name}:text-layer"))
        if facts.is_empty():
            log.info("page %d: nothing drawn on it, no OCR", number)
            return _PagePlan(
                Page(number=number, text="", width=width, height=height, method="empty"),
                empty=True,
            )
        log.info("page %d: %s -> OCR", number, verdict.reason)
        return _PagePlan(
            Page(number=number, text="", width=width, height=height,
                 method=verdict.reason.value),
            needs_ocr=True,
        )
    finally:
        page.close()


def _vertical_reading(second: SecondOpinions, index: int, layer: Layer) -> Layer | None:
    """pdfium's vertical-writing support is weak (it can drop most glyphs of a vertical CJK
    font); pdfminer with detect_vertical reads it: its layer when it reads more, else None."""
    alt = second.pdfminer_vertical(index)
    if (
        alt is not None
        and len(alt.raw.split())
        and meaningful_chars(alt.raw) > meaningful_chars(layer.raw)
        and assess_text_layer(alt.raw).ok
    ):
        alt.words = layer.words
        alt.normalized = True
        return alt
    return None


def _with_tables(page, facts: _PageFacts, second: SecondOpinions, index: int,
                 layer: Layer) -> str:
    """A good text layer's rows, with pdfplumber's ruled tables written in where they keep every
    word (``layer.text`` replaced); the page's method."""
    if not (
        layer.rows is not None
        and page.get_rotation() % 360 == 0
        and not RTL_RE.search(layer.raw)  # pdfplumber gives RTL cells in visual order
        and facts.path_count() >= defaults.TABLE_MIN_PATHS
    ):
        return "text-layer"
    tables = second.tables(index)
    rest = [
        [top, bottom, [m for m in members if not any(t.contains(m) for t in tables)]]
        for top, bottom, members in layer.rows
    ]
    if not tables or looks_multi_column([r for r in rest if r[2]]):
        return "text-layer"
    with_tables = render_rows_with_tables(layer.rows, tables)
    if not keeps_words(layer.text, with_tables):
        log.info("page %d: table rows would lose words; keeping row grouping", index + 1)
        return "text-layer"
    layer.text = with_tables
    return "text-layer+pdfplumber-tables"


def _second_opinion(second: SecondOpinions, index: int, verdict, facts: _PageFacts):
    """Other readers for a page pdfium reads badly, cheapest first: (layer, reader name) of the
    first that reads it well, or (None, None)."""
    alternatives: list[tuple[str, Callable[[], Layer | None]]] = []
    if verdict.reason in _ASK_PDFPLUMBER:
        alternatives.append(("pdfplumber", lambda: second.pdfplumber(index)))
    if (
        verdict.reason == LayerReason.no_text
        and facts.image_coverage() < defaults.SCAN_IMAGE_COVERAGE
    ):
        alternatives.append(("poppler", lambda: second.poppler(index)))
    if verdict.reason in _ASK_POPPLER:
        alternatives.append(("poppler", lambda: second.poppler(index)))
    for name, read in alternatives:
        alt = read()
        if alt is None:
            continue
        alt_verdict = assess_text_layer(
            alt.raw, image_coverage=facts.image_coverage, invisible_ratio=lambda: 0.0
        )
        log.info("page %d: %s %s, %s says %s", index + 1, "pdfium", verdict.reason, name,
                 alt_verdict.reason)  # fmt: skip
        if alt_verdict.ok:
            return alt, name
    return None, None


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
# OCR of the pages without real text
# --------------------------------------------------------------------------------------------


def render_scale(width: float, height: float, max_pixels: int) -> float:
    """Pixels per point for OCR: OCR_DPI, small pages up to a readable size, huge pages capped
    to ``max_pixels``."""
    scale = defaults.OCR_DPI / 72
    long_side = max(width, height, 1.0)
    if long_side * scale < defaults.MIN_RENDER_LONG_SIDE:
        scale = defaults.MIN_RENDER_LONG_SIDE / long_side
    area = max(width * height, 1.0)
    if area * scale * scale > max_pixels:
        scale = math.sqrt(max_pixels / area)
    return scale


def _rasterize(pdf: pdfium.PdfDocument, index: int, folder: Path, max_pixels: int):
    """Render one page in gray at ``render_scale`` into an uncompressed PGM file."""
    page = pdf[index]
    try:
        width, height = page.get_size()
        target = folder / f"page-{index + 1:05d}.pgm"
        image = _embedded_scan(page, width, height, max_pixels)
        if image is None:
            bitmap = page.render(scale=render_scale(width, height, max_pixels), grayscale=True,
                                 may_draw_forms=True)  # fmt: skip
            image = bitmap.to_pil()
            bitmap.close()
        write_pgm(image, target)
        px_w, px_h = image.size
        return OcrImage(target, index, width / px_w, height / px_h)
    finally:
        page.close()


def _embedded_scan(page: pdfium.PdfPage, width: float, height: float, max_pixels: int):
    """The page's own scan image, when the page is exactly one upright image covering it at
    about the OCR resolution: decoding it is ~5x cheaper than rendering the page (14 vs 72 ms)
    and gives the same pixels. Anything else (rotation, stamps, masks, 300-dpi scans that OCR
    faster downsampled) returns None and is rendered."""
    try:
        if page.get_rotation() % 360 or pdfium_c.FPDFPage_CountObjects(page.raw) != 1:
            return None
        if pdfium_c.FPDFPage_GetAnnotCount(page.raw) > 0:
            return None
        obj = next(iter(page.get_objects(max_depth=1)))
        if obj.type != pdfium_c.FPDF_PAGEOBJ_IMAGE:
            return None
        a, b, c, d, _, _ = obj.get_matrix().get()
        left, bottom, right, top = obj.get_bounds()
        covered = (right - left) * (top - bottom) / max(width * height, 1.0)
        if b or c or a <= 0 or d <= 0 or covered < 0.98:
            return None
        px_w, px_h = obj.get_px_size()
        if px_w * px_h > max_pixels:  # decoding it would hold every pixel: render it capped
            return None
        dpi = px_w / (width / 72)
        low, high = defaults.EMBEDDED_SCAN_DPI
        if not (low <= dpi <= high) or abs(px_h / (height / 72) - dpi) > 0.05 * dpi:
            return None
        image = obj.get_bitmap(render=False).to_pil()  # shares pdfium's buffer: copy it
        return image.convert("L") if image.mode != "L" else image.copy()
    except Exception as exc:  # noqa: BLE001 - any doubt: render the page instead
        log.debug("embedded scan not usable: %r", exc)
        return None
