"""OCR: the only module that runs Tesseract.

Callers rasterise pages themselves (pdfium for PDFs, Pillow for images) into uncompressed gray
PGM files, because encoding PNG costs 0.3-1.9 s per page and Tesseract reads PGM directly. This
module runs one single-threaded Tesseract process per core (``OMP_THREAD_LIMIT=1``: its OpenMP
threads are 7-9x slower here), each page under a timeout that becomes a page error, never a hang.

Each page is prepared first (``deskew``): a photographed sheet flattened (its outline against
the desk mapped onto a rectangle), levelled when tilted, its ruling lines painted out (a
table's grid). Tesseract then reads it as sparse text (``--psm 11``), and the
reading order is rebuilt here from the word boxes: visual rows top to bottom, the cells of a
table row joined by " | " (a vertical rule between two words, or a wide gap), as the text layer
of a born-digital PDF gives them, so a roster row stays one evidence unit. A page read with low
confidence (upside down, on its side) is read again with ``--psm 1``, which detects orientation;
that reading keeps Tesseract's own order. Word boxes come back in the pixel space of the image
that was given, so a page rendered the way it is displayed gets boxes that highlight correctly
whatever the orientation of its scan.
"""

from __future__ import annotations

import bisect
import logging
import os
import re
import shutil
import statistics
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

import numpy as np

from extractors import defaults, deskew, pdf_layout
from extractors.document import Page, Word
from extractors.errors import OCRUnavailableError
from extractors.normalize import normalize_text
from extractors.options import ExtractOptions

__all__ = [
    "OcrImage",
    "OcrResult",
    "as_page",
    "ensure_available",
    "ocr_in_order",
    "ocr_images",
    "write_pgm",
]

log = logging.getLogger(__name__)

T = TypeVar("T")

_checked: set[str] = set()
_check_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class OcrImage:
    """A rendered page waiting for OCR and how its pixels map back to page points. The file is
    the OCR's to delete once read."""

    path: Path
    index: int  # position in the caller's page list
    points_per_px_x: float
    points_per_px_y: float


@dataclass(frozen=True, slots=True)
class OcrResult:
    index: int
    text: str
    words: tuple[Word, ...]
    confidence: float | None  # mean word confidence 0..100
    rotation: int  # degrees that make the page upright (0, 90, 180, 270)
    error: str | None = None  # Spanish, when this page could not be read
    seconds: float = 0.0


def as_page(result: OcrResult, page: Page) -> Page:
    """``page`` (its number, size and method) with what OCR read on it, text normalised."""
    return replace(
        page,
        text=normalize_text(result.text),
        words=tuple(replace(w, text=normalize_text(w.text)) for w in result.words),
        ocr=True,
        ocr_confidence=result.confidence,
        rotation=result.rotation,
        error=result.error,
    )


def ensure_available(lang: str | None = None) -> None:
    """Fail fast, with a set-up message, when tesseract or its language data is missing."""
    lang = lang or defaults.OCR_LANG
    if lang in _checked:
        return
    with _check_lock:
        if lang in _checked:
            return
        exe = shutil.which("tesseract")
        if exe is None:
            raise OCRUnavailableError(detail="tesseract executable not found on PATH")
        try:
            out = subprocess.run(
                [exe, "--list-langs"], capture_output=True, text=True, timeout=30, check=False
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise OCRUnavailableError(detail=f"tesseract --list-langs failed: {exc}") from exc
        available = {line.strip() for line in (out.stdout + out.stderr).splitlines()}
        missing = [code for code in lang.split("+") if code not in available]
        if missing:
            raise OCRUnavailableError(detail=f"tesseract language data missing: {missing}")
        if {defaults.OCR_PSM, defaults.OCR_RETRY_PSM} & {0, 1, 12} and "osd" not in available:
            raise OCRUnavailableError(detail="tesseract 'osd' data missing (orientation detection)")
        _checked.add(lang)


def write_pgm(image, path: Path) -> None:
    """Write a Pillow image as an uncompressed 8-bit gray PGM (fast to write and to read)."""
    if image.mode != "L":
        image = image.convert("L")
    image.save(path, format="PPM")


def ocr_in_order(
    work: Iterable[tuple[T, OcrImage | None]], *, options: ExtractOptions
) -> Iterator[tuple[T, OcrResult | None]]:
    """OCR the images of ``work`` in parallel and give every item back in the order it came,
    with its result (None for items without an image), as soon as it and those before it are done.

    ``work`` is consumed lazily in the calling thread (pdfium is not thread-safe), so rendering
    overlaps recognition. At most ``2 * ocr_workers`` images are rendered or in Tesseract at once,
    and at most ``_HELD_PER_WORKER * ocr_workers`` items wait behind the oldest unfinished one:
    memory and disk hold a few pages whatever the document's length. Each image file is deleted
    once Tesseract has read it.
    """
    lang = defaults.OCR_LANG
    workers = options.ocr_workers
    held: deque[tuple[T, Future | None]] = deque()
    running = 0

    def take() -> tuple[T, OcrResult | None]:
        nonlocal running
        payload, future = held.popleft()
        if future is None:
            return payload, None
        running -= 1
        return payload, future.result()

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ocr")
    try:
        for payload, image in work:
            future = None
            if image is not None:
                ensure_available(lang)
                future = pool.submit(_ocr_one, image, lang=lang, timeout=options.ocr_page_timeout)
                running += 1
            held.append((payload, future))
            while held and (held[0][1] is None or held[0][1].done()):
                yield take()
            while running >= 2 * workers or len(held) >= _HELD_PER_WORKER * workers:
                yield take()
        while held:
            yield take()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


#: Items (pages) allowed to wait per OCR process behind the oldest page still in Tesseract: a
#: text page after a scan waits for it, and a long run of text pages must not pile up.
_HELD_PER_WORKER = 4


def ocr_images(
    images: Iterable[OcrImage],
    total: int,
    *,
    options: ExtractOptions,
    progress: Callable[[int, int], object] | None = None,
) -> list[OcrResult]:
    """OCR a few rendered images (``ocr_in_order``); all results in input order, and
    ``progress(done, total)`` after each."""
    results: list[OcrResult] = []
    for _none, result in ocr_in_order(((None, image) for image in images), options=options):
        results.append(result)
        if progress is not None:
            progress(len(results), total)
    return results


def _ocr_one(image: OcrImage, *, lang: str, timeout: float) -> OcrResult:
    try:
        angle, size, rules, warp = _prepare(image.path)
        page = {"angle": angle, "size": size, "rules": rules, "warp": warp}
        result = _run_tesseract(image, lang=lang, timeout=timeout, **page)
        if (
            result.confidence is not None
            and result.confidence < defaults.OCR_RETRY_CONFIDENCE
            and defaults.OCR_RETRY_PSM != defaults.OCR_PSM
        ):
            log.info("page index %d read at confidence %.0f: read again with --psm %d",
                     image.index, result.confidence, defaults.OCR_RETRY_PSM)  # fmt: skip
            again = _run_tesseract(image, lang=lang, timeout=timeout, **page,
                                   psm=defaults.OCR_RETRY_PSM)  # fmt: skip
            seconds = result.seconds + again.seconds
            if again.error is None and (again.confidence or 0) > result.confidence:
                result = again
            result = replace(result, seconds=seconds)
        return result
    finally:
        image.path.unlink(missing_ok=True)  # read: a long scan never holds its pages on disk


def _prepare(path: Path):
    """Flatten a photographed sheet, level a tilted page image and paint out its ruling lines,
    in place (``deskew``): (degrees turned, size of the image turned, the rules found or None,
    the flattening's coefficients or None)."""
    from PIL import Image

    try:
        with Image.open(path) as gray:
            gray.load()
    except (OSError, ValueError) as exc:  # Tesseract reports its own error on such a file
        log.warning("cannot read %s to level it: %r", path.name, exc)
        return 0.0, (0, 0), None, None
    flat, warp = deskew.flatten(gray) if defaults.OCR_FLATTEN_PHOTOS else (gray, None)
    levelled, angle, pitch = deskew.level(flat)
    rules = None
    if defaults.OCR_REMOVE_RULES:
        levelled, rules = deskew.remove_rules(levelled, pitch)
    if angle or rules is not None or warp is not None:
        write_pgm(levelled, path)
    return angle, flat.size, rules, warp


def _run_tesseract(
    image: OcrImage, *, lang: str, timeout: float, angle: float = 0.0, size=(0, 0),
    rules=None, warp=None, psm: int | None = None,
) -> OcrResult:
    started = time.perf_counter()
    cmd = [
        "tesseract", str(image.path), "stdout",
        "-l", lang, "--psm", str(psm or defaults.OCR_PSM), "tsv",
    ]  # fmt: skip
    env = {**os.environ, **defaults.OCR_ENV}
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired:
        log.warning("OCR timeout after %.1f s on page index %d", timeout, image.index)
        return OcrResult(
            image.index, "", (), None, 0,
            error=(
                f"El reconocimiento de texto (OCR) de esta página superó el tiempo máximo "
                f"({timeout:g} s) y se omitió."
            ),
            seconds=time.perf_counter() - started,
        )  # fmt: skip
    except OSError as exc:
        raise OCRUnavailableError(detail=f"cannot run tesseract: {exc}") from exc
    if proc.returncode != 0:
        detail = proc.stderr.decode("utf-8", "replace")[-500:]
        log.warning("tesseract failed on page index %d: %s", image.index, detail)
        return OcrResult(
            image.index, "", (), None, 0,
            error="No se pudo aplicar el reconocimiento de texto (OCR) a esta página.",
            seconds=time.perf_counter() - started,
        )  # fmt: skip
    tsv = proc.stdout.decode("utf-8", "replace")
    extra = None
    if rules is not None and (psm or defaults.OCR_PSM) == 11 and defaults.OCR_REREAD_EMPTY_CELLS:
        extra = _read_empty_cells(image.path, tsv, rules, lang=lang, timeout=timeout)
    text, words, confidence, rotation = _parse_tsv(
        tsv, image.points_per_px_x, image.points_per_px_y,
        angle=angle, size=size, rules=rules, warp=warp, extra=extra,
    )
    return OcrResult(
        image.index, text, words, confidence, rotation, seconds=time.perf_counter() - started
    )


def _parse_tsv(
    tsv: str, sx: float, sy: float, *, angle: float = 0.0, size=(0, 0), rules=None, warp=None,
    extra=None,
) -> tuple[str, tuple[Word, ...], float | None, int]:
    """Tesseract TSV -> (text in reading order, words in points, mean conf, rotation); boxes read
    on an image levelled by ``angle`` degrees (and flattened by ``warp``) are turned back into
    the image as given."""
    lines: dict[tuple[int, int, int], list[tuple[str, float, float, float, float]]] = {}
    blocks_order: list[tuple[int, int, int]] = []
    confs: list[float] = []
    for row in tsv.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) < 12 or cols[0] != "5":
            continue
        token = cols[11].strip()
        conf = float(cols[10])
        if not token or conf < 0:
            continue
        confs.append(conf)
        if conf < defaults.OCR_MIN_WORD_CONF and not _WORDLIKE.match(token):
            continue
        left, top, width, height = (int(c) for c in cols[6:10])
        key = (int(cols[2]), int(cols[3]), int(cols[4]))
        if key not in lines:
            lines[key] = []
            blocks_order.append(key)
        lines[key].append((token, left, top, left + width, top + height))
    for number, entries in enumerate(extra or ()):  # cells read again: a line each
        lines[(-1, number, 0)] = entries
        blocks_order.append((-1, number, 0))
    words: list[Word] = []
    text_lines: list[str] = []
    votes = {0: 0, 90: 0, 180: 0, 270: 0}
    previous_block = None
    for key in blocks_order:
        entries = lines[key]
        if previous_block is not None and key[0] != previous_block:
            text_lines.append("")
        previous_block = key[0]
        text_lines.append(" ".join(e[0] for e in entries))
        for token, x0, y0, x1, y1 in entries:
            if angle:
                x0, y0, x1, y1 = deskew.unlevel_box((x0, y0, x1, y1), angle, size)
            if warp is not None:
                x0, y0, x1, y1 = deskew.unflatten_box((x0, y0, x1, y1), warp)
            words.append(Word(token, round(x0 * sx, 2), round(y0 * sy, 2),
                              round(x1 * sx, 2), round(y1 * sy, 2)))  # fmt: skip
        if len(entries) >= 2:
            first, last = entries[0], entries[-1]
            dx = (last[1] + last[3]) - (first[1] + first[3])
            dy = (last[2] + last[4]) - (first[2] + first[4])
            if abs(dx) >= abs(dy):
                votes[0 if dx > 0 else 180] += len(entries)
            else:
                votes[270 if dy > 0 else 90] += len(entries)
    rotation = max(votes, key=votes.get) if any(votes.values()) else 0
    confidence = round(sum(confs) / len(confs), 2) if confs else None
    text = (_text_in_rows([lines[key] for key in blocks_order], rules)
            if rotation == 0 else None)  # fmt: skip
    if text is None:
        text = "\n".join(text_lines)
    text = _NUMERO.sub("N°", _BULLET.sub("• ", text))
    return text.strip(), tuple(words), confidence, rotation


#: What Tesseract makes of the degree sign of "N° 54" (número): "N? 54", "N* 54", "N” 54".
_NUMERO = re.compile(r"\bN[?*”\"](?= ?\d)")
#: What Tesseract makes of a round bullet ("•") at the start of a line.
_BULLET = re.compile(r"^[+«»¢·](?= )", re.MULTILINE)


_RULE = re.compile(r"^[|\[\]]+$")
#: A token of four letters or more (punctuation around it allowed) is a word even when Tesseract
#: doubts it: in sparse-text mode it gives some clean words 10-20 (one in a few hundred), while
#: specks and rules read as letters mix symbols and letters ("oloj=sjaju|sjw").
_WORDLIKE = re.compile(r"^[(¿¡\"“«]?[^\W\d_]{4,}[.,;:)?!\"”»]*$")
_RULES_IN_LINE = re.compile(r"(?:\s*\|)+\s*")


def _text_in_rows(lines: list[list[tuple[str, float, float, float, float]]],
                  rules: deskew.Rules | None = None) -> str | None:  # fmt: skip
    """Tesseract's lines (upright page, pixel boxes) -> text in visual rows, table cells joined
    by " | " as the text layer of a born-digital PDF gives them (``pdf_layout.rows_from_runs``);
    None for a page in columns of running text, whose block order is kept.

    Tesseract reads a ruled table column by column, each column a block, so a roster row
    (name, nationality, role) comes out as words far apart. Its lines are levelled first (the
    median slope of the long lines: a photographed page is tilted a few degrees, which would
    move a row's last cell into the next row). A ruled table (``rules``, found by
    ``deskew.remove_rules``) is assembled cell by cell (``_grid_tables``): a wrapped cell stays
    in its row. Elsewhere two words are in different cells when a vertical rule stands between
    them (or a "|" read from one) or, without a rule, when the gap is wider than
    ``OCR_CELL_GAP_FACTOR`` line heights: a justified line of a narrow column stretches its
    spaces to 1.5 heights and more.
    """
    down_rules = rules.down if rules is not None else None
    slopes = []
    for entries in lines:
        if len(entries) >= 3:
            first, last = entries[0], entries[-1]
            dx = (last[1] + last[3] - first[1] - first[3]) / 2
            height = max(e[4] for e in entries) - min(e[2] for e in entries)
            if dx > 5 * height > 0:
                slopes.append((last[2] + last[4] - first[2] - first[4]) / 2 / dx)
    slope = statistics.median(slopes) if slopes else 0.0
    if abs(slope) > _MAX_SLOPE:
        slope = 0.0

    def cell_break(left, right, height: float) -> bool:
        gap = right[0] - left[2]
        if gap > defaults.OCR_CELL_GAP_FACTOR * height:
            return True
        if down_rules is None or gap < 2:
            return False
        # the rows were levelled by ``slope``: back to the image's pixels for the mask
        x0, x1 = int(left[2]), int(right[0]) + 1
        top = min(left[1], right[1]) + slope * (x0 + x1) / 2
        bottom = max(left[3], right[3]) + slope * (x0 + x1) / 2
        return bool(down_rules[max(0, int(top)):max(0, int(bottom) + 1), max(0, x0):x1].any())

    runs: list[list[tuple[str, float, float, float, float]]] = []
    for entries in lines:
        level = [(t, x0, y0 - slope * (x0 + x1) / 2, x1, y1 - slope * (x0 + x1) / 2)
                 for t, x0, y0, x1, y1 in entries]  # fmt: skip
        height = max(e[4] for e in level) - min(e[2] for e in level)
        run: list = []
        for entry in level:
            if run and (
                _RULE.match(entry[0])
                or _RULE.match(run[-1][0])
                or cell_break(run[-1][1:], entry[1:], height)
            ):
                runs.append(run)
                run = []
            run.append(entry)
        runs.append(run)
    tables = _grid_tables(lines, rules, slope) if rules is not None else []
    text = pdf_layout.rows_from_runs(runs, cell_break, tables)
    if text is None:
        return None
    return _close_table_gaps([_RULES_IN_LINE.sub(" | ", line).strip(" |")
                              for line in text.split("\n")])  # fmt: skip


def _grid_tables(lines, rules: deskew.Rules, slope: float) -> list[pdf_layout.Table]:
    """The ruled tables of a page, each row one line of its cells' words joined by " | ", as
    pdfplumber gives a text layer's tables: a cell's lines (a wrapped name, a long role) stay
    in their cell. A table is three vertical rules or more side by side (two columns at least:
    a framed paragraph is not a table) with rules across between its rows; its boxes are
    levelled by ``slope`` like the runs they replace."""
    tables = []
    words = [e for entries in lines for e in entries if not _RULE.match(e[0])]
    for x_rules, edges in _grids(rules):
        left, right = x_rules[0][0], x_rules[-1][0]
        if any(
            edges[0] < (w[2] + w[4]) / 2 < edges[-1] and not left < (w[1] + w[3]) / 2 < right
            for w in words
        ):
            continue  # words beside it: only part of a table's rules were found (a photo's
            # slanted borders), its rows would lose their first or last cells
        cells: dict[tuple[int, int], list] = {}
        for word in words:
            cx, cy = (word[1] + word[3]) / 2, (word[2] + word[4]) / 2
            if not (left < cx < right and edges[0] < cy < edges[-1]):
                continue
            row = bisect.bisect(edges, cy) - 1
            columns = [x for x, y0, y1 in x_rules if y0 <= cy <= y1]
            cells.setdefault((row, bisect.bisect(columns, cx)), []).append(word)
        table_lines = []
        for row in range(len(edges) - 1):
            texts = [_cell_text(cells[key]) for key in sorted(cells) if key[0] == row]
            if any(texts):
                table_lines.append(" | ".join(t for t in texts if t))
        if table_lines:
            mid = (left + right) / 2
            tables.append(pdf_layout.Table(left, edges[0] - slope * mid, right,
                                           edges[-1] - slope * mid, table_lines))  # fmt: skip
    return tables


def _read_empty_cells(path: Path, tsv: str, rules: deskew.Rules, *, lang: str, timeout: float):
    """The ruled cells with ink in which sparse text found no word, read again together: each
    cell's ink cut out and stacked in one small image read as a block (``--psm 6``); a line of
    (word, box in the page's pixels) per cell read. Tesseract's sparse text drops a lone
    character (an item number "1", a tick "X" in its cell: tesseract-ocr/tesseract#2389), which
    loses a roster row's first cell; a block of text reads it."""
    from PIL import Image

    boxes = []
    for row in tsv.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) >= 12 and cols[0] == "5" and cols[11].strip() and float(cols[10]) >= 0:
            left, top, width, height = (int(c) for c in cols[6:10])
            boxes.append((left + width / 2, top + height / 2))
    try:
        with Image.open(path) as page:
            pixels = np.asarray(page.convert("L"))
    except (OSError, ValueError):
        return None
    pad = defaults.RULE_MAX_THICKNESS + 2
    crops = []
    for x_rules, edges in _grids(rules):
        for top, bottom in zip(edges, edges[1:], strict=False):
            cy = (top + bottom) / 2
            columns = [x for x, y0, y1 in x_rules if y0 <= cy <= y1]
            for x0, x1 in zip(columns, columns[1:], strict=False):
                if any(x0 < bx < x1 and top < by < bottom for bx, by in boxes):
                    continue
                cell = pixels[int(top) + pad : int(bottom) - pad, int(x0) + pad : int(x1) - pad]
                if cell.size == 0:
                    continue
                ink = cell < min(160, int(np.median(cell)) - defaults.DESKEW_INK_CONTRAST)
                if ink.sum() < defaults.OCR_CELL_MIN_INK_PX:
                    continue
                ys, xs = np.nonzero(ink)
                box = (int(x0) + pad + xs.min(), int(top) + pad + ys.min(),
                       int(x0) + pad + xs.max() + 1, int(top) + pad + ys.max() + 1)  # fmt: skip
                crops.append(box)
    if not crops or len(crops) > defaults.OCR_MAX_CELLS_REREAD:
        return None
    gap = max(b[3] - b[1] for b in crops) + 10
    sheet = Image.new("L", (max(b[2] - b[0] for b in crops) + 40, gap * len(crops) + 20), 255)
    for number, (x0, y0, x1, y1) in enumerate(crops):
        sheet.paste(Image.fromarray(pixels[y0:y1, x0:x1]), (20, 10 + number * gap))
    stacked = path.with_suffix(".cells.pgm")
    write_pgm(sheet, stacked)
    cmd = ["tesseract", str(stacked), "stdout", "-l", lang, "--psm", "6", "tsv"]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False,
                              env={**os.environ, **defaults.OCR_ENV})  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    finally:
        stacked.unlink(missing_ok=True)
    read: dict[int, list[str]] = {}
    for row in proc.stdout.decode("utf-8", "replace").splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) < 12 or cols[0] != "5" or not cols[11].strip():
            continue
        if float(cols[10]) < defaults.OCR_CELL_MIN_CONF:
            continue
        number = int((int(cols[7]) + int(cols[9]) / 2 - 10) // gap)
        if 0 <= number < len(crops):
            read.setdefault(number, []).append(cols[11].strip())
    return [[(" ".join(tokens), *crops[number])] for number, tokens in sorted(read.items())]


def _grids(rules: deskew.Rules):
    """The ruled tables of a page as (vertical rules [(x, top, bottom)], rows' edges [y]) in the
    pixels of the image read: three rules down or more, two rules across at least."""
    for x_rules, top, bottom in _column_rules(rules.down):
        left, right = x_rules[0][0], x_rules[-1][0]
        band = rules.across[max(0, top - 3) : bottom + 4, int(left) : int(right) + 1]
        across = np.nonzero(band.sum(axis=1) >= 0.5 * (right - left))[0] + max(0, top - 3)
        edges = [int(g.mean()) for g in np.split(across, np.nonzero(np.diff(across) > 2)[0] + 1)
                 if len(g)]  # fmt: skip
        if len(edges) >= 2:
            yield x_rules, edges


def _column_rules(down: np.ndarray):
    """Vertical rules grouped into tables: [([(x, top, bottom) by x], top, bottom)] for groups
    of three or more rules spanning about the same height (a scanner's dark edge down the whole
    page is no border of the table beside it)."""
    xs = np.nonzero(down.any(axis=0))[0]
    segments = []
    for group in np.split(xs, np.nonzero(np.diff(xs) > 3)[0] + 1):
        if not len(group):
            continue
        ys = np.nonzero(down[:, group[0] : group[-1] + 1].any(axis=1))[0]
        for run in np.split(ys, np.nonzero(np.diff(ys) > 10)[0] + 1):
            if len(run):
                segments.append((float(group.mean()), int(run[0]), int(run[-1])))
    segments.sort(key=lambda s: s[1])
    tables: list[list] = []
    for seg in segments:
        for table in tables:
            top, bottom = min(s[1] for s in table), max(s[2] for s in table)
            overlap = min(bottom, seg[2]) - max(top, seg[1])
            if overlap >= 0.5 * (seg[2] - seg[1]):
                table.append(seg)
                break
        else:
            tables.append([seg])
    found = []
    for table in tables:
        lengths = sorted((s[2] - s[1] for s in table), reverse=True)
        if len(lengths) >= 2 and lengths[0] > 2 * lengths[1]:  # a line down the whole page
            table = [s for s in table if s[2] - s[1] < lengths[0]]
        if len(table) >= 3:
            found.append((sorted(table), min(s[1] for s in table), max(s[2] for s in table)))
    return found


def _cell_text(words: list) -> str:
    """A cell's words in reading order: its lines top to bottom, a word cut by a hyphen at a
    line's end joined again."""
    lines: list[list] = []
    for word in sorted(words, key=lambda w: (w[2] + w[4]) / 2):
        cy, height = (word[2] + word[4]) / 2, word[4] - word[2]
        if lines and abs(cy - lines[-1][0]) < 0.5 * max(height, lines[-1][1]):
            lines[-1][2].append(word)
        else:
            lines.append([cy, height, [word]])
    text = ""
    for _, _, members in lines:
        line = " ".join(w[0] for w in sorted(members, key=lambda w: w[1]))
        if text.endswith("-") and line[:1].islower():
            text = text[:-1] + line
        else:
            text = f"{text} {line}" if text else line
    return text


def _close_table_gaps(lines: list[str]) -> str:
    """No empty line between the rows of one table: a ruled row's padding leaves a gap that
    looks like a paragraph break, and an empty line ends a table for the classifier (each row
    would become a header of its own). Wrapped cells (lines without " | ") stay in between."""
    out: list[str] = []
    in_table = False
    for n, line in enumerate(lines):
        if not line:
            following = next((x for x in lines[n + 1 :] if x), "")
            if in_table and " | " in following:
                continue
            in_table = False
        elif " | " in line:
            in_table = True
        out.append(line)
    return "\n".join(out)


#: Slopes (dy/dx) beyond this (about 8 degrees) are not a tilted photo but a page Tesseract read
#: oddly: its lines are then taken as they are.
_MAX_SLOPE = 0.14
