"""Levelling a tilted page image before OCR (phone photos, crooked scans).

Tesseract reads a page tilted by a degree or two, but past about two degrees its layout analysis
starts to drop whole paragraphs and table columns (measured on the corpus' phone photos: a page
tilted 2.5 degrees lost half its words, levelled it lost none). The tilt is measured on a reduced
copy: the dark pixels of the page (darker than their surroundings, so a dark desk around a
photographed sheet does not count) are projected onto the vertical axis along each candidate
angle, and the angle whose projection is sharpest (text lines stacked exactly) wins. That costs
about 10 ms a page; rotating the full image about 30-60 ms, paid only on tilted pages.

Word boxes read on the levelled image are turned back into the pixels of the image as given
(``unlevel_box``), so highlights land on the page the reviewer sees.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

from extractors import defaults

__all__ = ["Rules", "estimate_skew", "level", "measure", "remove_rules", "unlevel_box"]


def estimate_skew(gray: Image.Image) -> float:
    """Degrees to rotate ``gray`` counter-clockwise (Pillow's ``rotate``) to level its text
    lines; 0.0 when there is too little text to tell. A page on its side or upside down is
    Tesseract's orientation detection's to turn (``ocr``)."""
    return measure(gray)[0]


def measure(gray: Image.Image) -> tuple[float, float | None]:
    """(tilt in degrees as ``estimate_skew``, distance between text lines in pixels or None):
    the sharpest projection of the ink is the level one, and its strongest period the line
    pitch, which scales what counts as a ruling line (``remove_rules``)."""
    factor = max(1, round(min(gray.size) / defaults.DESKEW_SAMPLE_PX))
    small = gray.reduce(factor) if factor > 1 else gray
    pixels = np.asarray(small, dtype=np.int16)
    background = np.asarray(small.filter(ImageFilter.BoxBlur(8)), dtype=np.int16)
    ys, xs = np.nonzero(pixels < background - defaults.DESKEW_INK_CONTRAST)
    if len(xs) < defaults.DESKEW_MIN_INK_PIXELS:
        return 0.0, None
    xs = xs - xs.mean()
    ys = ys - ys.mean()

    def profile(degrees: float) -> np.ndarray:
        shifted = np.round(ys - xs * math.tan(math.radians(degrees))).astype(np.int64)
        return np.bincount(shifted - shifted.min()).astype(np.float64)

    def sharpness(degrees: float) -> float:
        counts = profile(degrees)
        return float((counts * counts).sum())

    limit, step = defaults.DESKEW_MAX_DEGREES, 0.5
    coarse = np.arange(-limit, limit + step / 2, step)
    best = float(coarse[int(np.argmax([sharpness(d) for d in coarse]))])
    fine = np.arange(best - step, best + step + 0.05, 0.1)
    angle = round(float(fine[int(np.argmax([sharpness(d) for d in fine]))]), 2)
    counts = profile(angle)
    # only the line-to-line rhythm: the page's large blocks (text, blank half, a desk) removed
    width = max(3, min(len(counts), int(defaults.DESKEW_PITCH_WINDOW_PX / factor)))
    counts -= np.convolve(counts, np.ones(width) / width, mode="same")
    lags = np.correlate(counts, counts, "full")[len(counts) - 1 :]
    # half a pitch away the profile is out of step with itself (a line against a gap); the
    # strongest match after that, within a few of those, is one line further
    below = np.nonzero(lags < 0)[0]
    if not len(below):
        return angle, None
    half = int(below[0])
    window = lags[half : half * 4 + 1]
    lag = half + int(np.argmax(window))
    return angle, (float(lag * factor) if window.max() > 0 else None)


def level(gray: Image.Image) -> tuple[Image.Image, float, float | None]:
    """``gray`` levelled, the angle turned (0.0 and the same image when it is level enough:
    below ``DESKEW_MIN_DEGREES`` Tesseract copes on its own) and the line pitch (``measure``)."""
    angle, pitch = measure(gray)
    if abs(angle) < defaults.DESKEW_MIN_DEGREES:
        return gray, 0.0, pitch
    return gray.rotate(angle, resample=Image.Resampling.BILINEAR, fillcolor=255), angle, pitch


def unlevel_box(box: tuple[float, float, float, float], angle: float, size: tuple[int, int]):
    """A word box (x0, top, x1, bottom) read on the image levelled by ``angle`` degrees -> the
    same word's box in the image as given (its centre turned back, its size kept)."""
    x0, top, x1, bottom = box
    cx, cy = size[0] / 2, size[1] / 2
    dx, dy = (x0 + x1) / 2 - cx, (top + bottom) / 2 - cy
    theta = math.radians(angle)
    ox = cx + dx * math.cos(theta) - dy * math.sin(theta)
    oy = cy + dx * math.sin(theta) + dy * math.cos(theta)
    half_w, half_h = (x1 - x0) / 2, (bottom - top) / 2
    return ox - half_w, oy - half_h, ox + half_w, oy + half_h


@dataclass(frozen=True, slots=True)
class Rules:
    """The ruling lines found on a page image: masks of the rules across and down."""

    across: np.ndarray
    down: np.ndarray


def remove_rules(gray: Image.Image, pitch: float | None = None) -> tuple[Image.Image, Rules | None]:
    """``gray`` without its ruling lines (table grids, underlines), painted with the background,
    and where they were (None when there is no vertical one: no table's cells to find).

    A rule is a thin dark run, light on both sides ``RULE_MAX_THICKNESS`` pixels away (a word
    whose letters a blurred scan has run together rises above its baseline), and longer than
    ``RULE_MIN_FRACTION`` of the short side and than ``RULE_MIN_PITCHES`` text lines (``pitch``,
    from ``measure``: large print): an "l" is shorter than a line, a table's border spans its
    rows. Rules
    across are found first, then rules down (their crossings with the rules across do not count
    against them), then rules across again, cut short before by the rules down. Tesseract takes
    a grid's lines for letters ("|", "[") and lays a ruled table out as separate blocks.
    """
    pixels = np.asarray(gray)
    background = np.asarray(gray.filter(ImageFilter.BoxBlur(15)))
    dark = pixels.astype(np.int16) < background.astype(np.int16) - defaults.DESKEW_INK_CONTRAST
    length = int(max(defaults.RULE_MIN_PX, min(pixels.shape) * defaults.RULE_MIN_FRACTION,
                     defaults.RULE_MIN_PITCHES * (pitch or 0)))  # fmt: skip
    across = _thin_runs(dark, dark, length, 1)
    down = _thin_runs(dark, dark & ~across, length, 0)
    across |= _thin_runs(dark, dark & ~down, length, 1)
    rules = across | down
    if not rules.any():
        return gray, None
    grown = rules.copy()
    for step in (1, 2, -1, -2):
        for axis in (0, 1):
            _shift_or(grown, rules, step, axis)
    cleaned = Image.fromarray(np.where(grown, np.maximum(background, pixels), pixels))
    return cleaned, (Rules(across, down) if down.any() else None)


def _thin_runs(dark: np.ndarray, around: np.ndarray, length: int, axis: int) -> np.ndarray:
    """Pixels of runs along ``axis`` (1 across, 0 down) at least ``length`` long of dark pixels
    with no ``around`` pixel ``RULE_MAX_THICKNESS`` away on either side."""
    other = 1 - axis
    gap = defaults.RULE_MAX_THICKNESS
    beside = np.zeros_like(dark)
    _shift_or(beside, around, gap, other)
    _shift_or(beside, around, -gap, other)
    thin = dark & ~beside
    thick = thin.copy()  # a line tilted by a degree steps aside a pixel every ~60
    _shift_or(thick, thin, 1, other)
    _shift_or(thick, thin, -1, other)
    return _runs(thick, length, axis)


def _shift_or(out: np.ndarray, mask: np.ndarray, step: int, axis: int) -> None:
    """out |= mask moved by ``step`` pixels along ``axis``."""
    src = [slice(None), slice(None)]
    dst = [slice(None), slice(None)]
    if step > 0:
        src[axis], dst[axis] = slice(None, -step), slice(step, None)
    else:
        src[axis], dst[axis] = slice(-step, None), slice(None, step)
    out[tuple(dst)] |= mask[tuple(src)]


def _runs(mask: np.ndarray, length: int, axis: int) -> np.ndarray:
    """The pixels of ``mask`` that belong to a run of at least ``length`` along ``axis``
    (an opening by a 1 x length line, in log2(length) shifted ANDs and ORs)."""
    starts = mask.copy()
    done = 1
    while done < length:
        step = min(done, length - done)
        src = [slice(None), slice(None)]
        dst = [slice(None), slice(None)]
        dst[axis], src[axis] = slice(None, -step), slice(step, None)
        starts[tuple(dst)] &= starts[tuple(src)]
        tail = [slice(None), slice(None)]
        tail[axis] = slice(-step, None)
        starts[tuple(tail)] = False
        done += step
    out = starts
    done = 1
    while done < length:
        step = min(done, length - done)
        _shift_or(out, out.copy(), step, axis)
        done += step
    return out
