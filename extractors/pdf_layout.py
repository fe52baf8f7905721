"""pdfium's text layer -> words with boxes (PDF points, origin top-left) -> lines in reading order.

Words come from pdfium's loose character boxes (first and last character of each token); lines
are pdfium's own line runs grouped into visual rows, top to bottom, with far-apart parts of a row
joined by " | " so a table row stays one evidence unit. Multi-column prose keeps pdfium's
content-stream order (columns in turn), vertical CJK writing keeps it too, RTL tokens stored in
visual order are turned to logical order.
"""

from __future__ import annotations

import ctypes
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from extractors import defaults
from extractors.document import Page, Word
from extractors.normalize import RTL_RE, normalize_text
from extractors.text_layer import TOKEN_RE, is_mark

__all__ = [
    "Layer",
    "Table",
    "read_pdfium_layer",
    "render_rows_with_tables",
    "rows_from_runs",
    "keeps_words",
    "looks_multi_column",
    "make_page",
]

# --------------------------------------------------------------------------------------------
# pdfium text layer -> words with boxes -> lines in reading order
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Layer:
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
        for match in TOKEN_RE.finditer(raw):
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


def read_pdfium_layer(page: pdfium.PdfPage, textpage: pdfium.PdfTextPage) -> Layer:
    count = textpage.count_chars()
    if count <= 0:
        return Layer("", "", ())
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
        return Layer(raw, raw, words, normalized=True, vertical=True)
    segments = _segments(toks)
    rows = _rows(segments)
    if looks_multi_column(rows):
        # Columns of running text: authoring tools write each column in turn, so pdfium's stream
        # order reads them correctly, while visual rows would splice the columns together.
        return Layer(raw, _lines_in_stream_order(segments), words, normalized=True, rows=rows)
    return Layer(raw, _render_rows(rows), words, normalized=True, rows=rows)


def rows_from_runs(
    runs: list[list[tuple[str, float, float, float, float]]],
    cell_break: Callable[[tuple, tuple, float], bool] | None = None,
    tables: list[Table] | None = None,
) -> str | None:
    """Runs of words with boxes (``(text, x0, top, x1, bottom)``, upright, any unit) -> text lines
    in visual rows, runs of a row joined by " | " where ``cell_break(left box, right box, row
    height)`` says so (boxes as ``(x0, top, x1, bottom)``; by default: far apart, as for a text
    layer); None when the rows look like columns of running text (the caller keeps its own
    reading order then).

    OCR uses it: Tesseract reads a ruled table column by column, as separate blocks, which
    scatters every row of a roster; its lines, cut at the cell gaps, are such runs. ``tables``
    (assembled from the grid's cells, in the same units) replace the runs inside them, as
    pdfplumber's tables do on a text layer.
    """
    tables = tables or []
    segments = [
        _make_segment([_Tok(t, x0, top, x1, bottom, False, n) for t, x0, top, x1, bottom in run])
        for n, run in enumerate(runs)
        if run
    ]
    if not segments:
        return "\n".join(line for table in tables for line in table.lines)
    rows = _rows(segments)
    outside = _rows([s for s in segments if not any(t.contains(s) for t in tables)])
    if looks_multi_column(outside):
        return None
    if tables:
        return render_rows_with_tables(rows, tables, cell_break)
    return _render_rows(rows, cell_break)


def _reverse_visual(text: str) -> str:
    """Visual-order RTL token -> logical order, keeping combining marks after their base."""
    clusters: list[str] = []
    for ch in text:
        if clusters and is_mark(ch):  # pdfium keeps a mark right after its base letter
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


def looks_multi_column(rows: list[list]) -> bool:
    """Rows holding two long runs of prose side by side: a multi-column page, not a table."""
    side_by_side = with_prose = 0
    for _, _, members in rows:
        long_runs = sum(1 for m in members if sum(len(t.text) + 1 for t in m.toks) >= 30)
        with_prose += long_runs >= 1
        side_by_side += long_runs >= 2
    return side_by_side >= 3 and side_by_side >= 0.1 * with_prose


def _render_rows(rows: list[list], cell_break=None) -> str:
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
        out.append(_join_cells(members, height, rtl, cell_break))
        previous_bottom = ref_bottom
    return "\n".join(out)


def render_rows_with_tables(rows: list[list], tables: list[Table], cell_break=None) -> str:
    """Like ``_render_rows``, with each ruled table's text replaced by its rows from pdfplumber
    (a wrapped cell stays in its row, so every table row is one line and one evidence unit)."""
    items: list[tuple[float, float, str]] = []
    for ref_top, ref_bottom, members in rows:
        outside = [m for m in members if not any(t.contains(m) for t in tables)]
        if outside:
            items.append((ref_top, ref_bottom,
                          _render_rows([[ref_top, ref_bottom, outside]], cell_break)))  # fmt: skip
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


def keeps_words(before: str, after: str) -> bool:
    """The table finder may only regroup the page's words, never drop them (a partly ruled
    table can leave its label column outside every cell)."""
    split = re.compile(r"[\s|]+").split
    lost = Counter(t for t in split(before) if t) - Counter(t for t in split(after) if t)
    return sum(lost.values()) <= defaults.TABLE_MAX_LOST_WORDS


@dataclass(slots=True)
class Table:
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


def _join_cells(members: list[_Segment], height: float, rtl: bool, cell_break=None) -> str:
    parts: list[str] = []
    previous = None
    for seg in members:
        if previous is not None:
            if cell_break is not None:
                cell = cell_break((previous.x0, previous.top, previous.x1, previous.bottom),
                                  (seg.x0, seg.top, seg.x1, seg.bottom), height)  # fmt: skip
            else:
                gap = (previous.x0 - seg.x1) if rtl else (seg.x0 - previous.x1)
                cell = gap > defaults.CELL_GAP_FACTOR * height
            parts.append(" | " if cell else " ")
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


def make_page(number: int, width: float, height: float, layer: Layer, method: str) -> Page:
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
