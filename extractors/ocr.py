"""OCR: the only module that runs Tesseract.

Callers rasterise pages themselves (pdfium for PDFs, Pillow for images) into uncompressed gray
PGM files, because encoding PNG costs 0.3-1.9 s per page and Tesseract reads PGM directly. This
module runs one single-threaded Tesseract process per core (``OMP_THREAD_LIMIT=1``: its OpenMP
threads are 7-9x slower here), each page under a timeout that becomes a page error, never a hang.
Orientation is handled by ``--psm 1`` (page segmentation with orientation detection) in the same
pass; word boxes come back in the pixel space of the image that was given, so a page rendered the
way it is displayed gets boxes that highlight correctly whatever the orientation of its scan.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from extractors import defaults
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
        if defaults.OCR_PSM in (0, 1) and "osd" not in available:
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
        return _run_tesseract(image, lang=lang, timeout=timeout)
    finally:
        image.path.unlink(missing_ok=True)  # read: a long scan never holds its pages on disk


def _run_tesseract(image: OcrImage, *, lang: str, timeout: float) -> OcrResult:
    started = time.perf_counter()
    cmd = [
        "tesseract", str(image.path), "stdout",
        "-l", lang, "--psm", str(defaults.OCR_PSM), "tsv",
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
    text, words, confidence, rotation = _parse_tsv(
        proc.stdout.decode("utf-8", "replace"), image.points_per_px_x, image.points_per_px_y
    )
    return OcrResult(
        image.index, text, words, confidence, rotation, seconds=time.perf_counter() - started
    )


def _parse_tsv(tsv: str, sx: float, sy: float) -> tuple[str, tuple[Word, ...], float | None, int]:
    """Tesseract TSV -> (text with one line per OCR line, words in points, mean conf, rotation)."""
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
        if conf < defaults.OCR_MIN_WORD_CONF:
            continue
        left, top, width, height = (int(c) for c in cols[6:10])
        key = (int(cols[2]), int(cols[3]), int(cols[4]))
        if key not in lines:
            lines[key] = []
            blocks_order.append(key)
        lines[key].append((token, left, top, left + width, top + height))
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
    return "\n".join(text_lines).strip(), tuple(words), confidence, rotation
