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

__all__ = [
    "Rules",
    "estimate_skew",
    "flatten",
    "level",
    "measure",
    "remove_rules",
    "unflatten_box",
    "unlevel_box",
]


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
    # darker than its surroundings by the contrast, in bytes (no wider copy of a huge page)
    floor = np.maximum(background, defaults.DESKEW_INK_CONTRAST)
    floor -= defaults.DESKEW_INK_CONTRAST
    dark = pixels < floor
    del floor, pixels  # read again to paint: a copy, not held while the masks are built
    length = int(max(defaults.RULE_MIN_PX, min(dark.shape) * defaults.RULE_MIN_FRACTION,
                     defaults.RULE_MIN_PITCHES * (pitch or 0)))  # fmt: skip
    across = _thin_runs(dark, None, length, 1)
    down = _thin_runs(dark, across, length, 0)
    across |= _thin_runs(dark, down, length, 1)
    del dark
    rules = across | down
    if not rules.any():
        return gray, None
    grown = rules.copy()
    for step in (1, 2, -1, -2):
        for axis in (0, 1):
            _shift_or(grown, rules, step, axis)
    del rules
    pixels = np.asarray(gray)
    painted = np.maximum(background, pixels)
    np.copyto(painted, pixels, where=~grown)
    cleaned = Image.fromarray(painted)
    return cleaned, (Rules(across, down) if down.any() else None)


def _thin_runs(dark: np.ndarray, taken: np.ndarray | None, length: int, axis: int) -> np.ndarray:
    """Pixels of runs along ``axis`` (1 across, 0 down) at least ``length`` long of dark pixels
    with no dark pixel outside ``taken`` ``RULE_MAX_THICKNESS`` away on either side."""
    other = 1 - axis
    gap = defaults.RULE_MAX_THICKNESS
    # page-sized masks made in place and dropped once used: a 40-MP page is 40 MB a mask
    if taken is None:
        around = dark
    else:
        around = np.logical_not(taken)
        around &= dark
    thin = np.zeros_like(dark)
    _shift_or(thin, around, gap, other)
    _shift_or(thin, around, -gap, other)
    del around
    np.logical_not(thin, out=thin)
    thin &= dark
    thick = thin.copy()  # a line tilted by a degree steps aside a pixel every ~60
    _shift_or(thick, thin, 1, other)
    _shift_or(thick, thin, -1, other)
    del thin
    # where a rule crosses another its sides are dark for the other's width: a dark gap that
    # short is bridged, or a narrow column's rules (an item number's, 55-85 px between
    # crossings) fall apart into pieces shorter than ``length`` and stay on the page; the light
    # gaps between a bold line's letters are not
    bridged = thick.copy()
    both = np.empty_like(thick)
    for step in range(1, gap + 2):  # dark, with thick on both sides ``step`` away
        both.fill(False)
        _shift_or(both, thick, step, axis)
        _shift_and(both, thick, -step, axis)
        both &= dark
        bridged |= both
    del thick, both
    return _runs(bridged, length, axis)


def _shift_or(out: np.ndarray, mask: np.ndarray, step: int, axis: int) -> None:
    """out |= mask moved by ``step`` pixels along ``axis``."""
    src = [slice(None), slice(None)]
    dst = [slice(None), slice(None)]
    if step > 0:
        src[axis], dst[axis] = slice(None, -step), slice(step, None)
    else:
        src[axis], dst[axis] = slice(-step, None), slice(None, step)
    out[tuple(dst)] |= mask[tuple(src)]


def _shift_and(out: np.ndarray, mask: np.ndarray, step: int, axis: int) -> None:
    """out &= mask moved by ``step`` pixels along ``axis`` (False where nothing moves in)."""
    src = [slice(None), slice(None)]
    dst = [slice(None), slice(None)]
    edge = [slice(None), slice(None)]
    if step > 0:
        src[axis], dst[axis], edge[axis] = slice(None, -step), slice(step, None), slice(None, step)
    else:
        src[axis], dst[axis], edge[axis] = slice(-step, None), slice(None, step), slice(step, None)
    out[tuple(dst)] &= mask[tuple(src)]
    out[tuple(edge)] = False


def _runs(mask: np.ndarray, length: int, axis: int) -> np.ndarray:
    """The pixels of ``mask`` that belong to a run of at least ``length`` along ``axis``
    (an opening by a 1 x length line, in log2(length) shifted ANDs and ORs). ``mask`` is
    overwritten with the result."""
    starts = mask
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
    before = np.empty_like(out)
    done = 1
    while done < length:
        step = min(done, length - done)
        np.copyto(before, out)
        _shift_or(out, before, step, axis)
        done += step
    return out


# --- A photographed sheet: its outline found and the page flattened ------------------------------


def flatten(gray: Image.Image) -> tuple[Image.Image, tuple[float, ...] | None]:
    """``gray`` cropped to the sheet it shows and its perspective undone, and the coefficients
    that map a point of the flattened page back into ``gray`` (``unflatten_box``); the same
    image and None when no sheet's outline stands out (a scan, a page filling the frame).

    A phone held over a desk sees the page as a trapezoid (the far edge narrower) turned a few
    degrees: levelling turns it, but its side borders stay slanted against each other, so a
    table's vertical rules are not found as a grid and its wrapped cells fall apart into rows.
    The sheet is lighter than the desk around it: its four edges are fitted on a reduced copy
    (the first and last light pixel of each row and column, the middle of each side only, a
    line fitted and refitted without its outliers) and the page mapped onto a rectangle as wide
    and tall as its longer sides, its light made even, as a document scanner app does.
    """
    corners = _sheet_corners(gray)
    if corners is None:
        return gray, None
    corners, inset = corners
    (tl, tr, br, bl) = corners
    width = round(max(math.dist(tl, tr), math.dist(bl, br)))
    height = round(max(math.dist(tl, bl), math.dist(tr, br)))
    # the page's own border stays out of the flattened page (a dark line down its side would
    # be taken for a ruling line): the rectangle is cut ``inset`` pixels inside the fitted edges
    box = [(-inset, -inset), (width - inset, -inset), (width - inset, height - inset),
           (-inset, height - inset)]  # fmt: skip
    coefficients = _perspective(box, corners)
    flat = gray.transform((width - 2 * inset, height - 2 * inset), Image.Transform.PERSPECTIVE,
                          coefficients, Image.Resampling.BILINEAR, fillcolor=255)  # fmt: skip
    return _even_light(flat), coefficients


def _even_light(gray: Image.Image) -> Image.Image:
    """The sheet with its light made even: each pixel divided by the paper's brightness around
    it (the lightest level nearby, smoothed). Without the dark desk around it, a sheet lit from
    one side is one broad hump of grays, and Tesseract's global threshold cuts through its
    shaded half (a heading read "¡Espec Edicion Conilista Forida")."""
    factor = 8
    small = gray.reduce(factor)
    paper = small.filter(ImageFilter.MaxFilter(5)).filter(ImageFilter.BoxBlur(3))
    paper = paper.resize(gray.size, Image.Resampling.BILINEAR)
    pixels = np.asarray(gray, dtype=np.float32)
    light = np.maximum(np.asarray(paper, dtype=np.float32), 1.0)
    return Image.fromarray(np.clip(pixels * (255.0 / light), 0, 255).astype(np.uint8))


def unflatten_box(box: tuple[float, float, float, float], coefficients: tuple[float, ...]):
    """A word box read on the flattened page -> the box around it in the image as given."""
    a, b, c, d, e, f, g, h = coefficients
    xs, ys = [], []
    for x, y in ((box[0], box[1]), (box[2], box[1]), (box[2], box[3]), (box[0], box[3])):
        w = g * x + h * y + 1
        xs.append((a * x + b * y + c) / w)
        ys.append((d * x + e * y + f) / w)
    return min(xs), min(ys), max(xs), max(ys)


def _sheet_corners(gray: Image.Image):
    """The corners (top-left, top-right, bottom-right, bottom-left) of a light sheet on a darker
    ground, in ``gray``'s pixels, and how far they may be off (pixels), or None."""
    factor = max(1, round(max(gray.size) / defaults.SHEET_SAMPLE_PX))
    small = gray.reduce(factor) if factor > 1 else gray
    small = small.filter(ImageFilter.BoxBlur(2))  # the desk's grain and the JPEG's noise
    pixels = np.asarray(small)
    threshold, contrast = _otsu(pixels)
    if contrast < defaults.SHEET_MIN_CONTRAST:
        return None
    light = pixels > threshold
    rows_h, cols_w = light.shape
    margin = defaults.SHEET_MIN_MARGIN
    sides = []
    for mask in (light, light.T):  # left and right edges on rows, then top and bottom on columns
        filled = mask.sum(axis=1) > 0.25 * mask.shape[1]
        lines = np.nonzero(filled)[0]
        if len(lines) < 20:
            return None
        first = np.argmax(mask, axis=1)
        last = mask.shape[1] - 1 - np.argmax(mask[:, ::-1], axis=1)
        span = lines[-1] - lines[0]
        middle = lines[(lines > lines[0] + 0.15 * span) & (lines < lines[-1] - 0.15 * span)]
        for edge in (first, last):
            fit = _fit_line(middle, edge[middle].astype(np.float64))
            if fit is None:
                return None
            sides.append(fit)
    (left, right, top, bottom) = sides
    # a side on the frame's border is the photo's edge, not the sheet's: no outline to undo
    for slope, offset in (left, right):
        xs = (offset, slope * rows_h + offset)
        if min(xs) < margin or max(xs) > cols_w - 1 - margin:
            return None
    for slope, offset in (top, bottom):
        ys = (offset, slope * cols_w + offset)
        if min(ys) < margin or max(ys) > rows_h - 1 - margin:
            return None
    corners = [_cross(left, top), _cross(right, top), _cross(right, bottom), _cross(left, bottom)]
    area = 0.5 * abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1)
                         in zip(corners, corners[1:] + corners[:1], strict=True)))  # fmt: skip
    if area < defaults.SHEET_MIN_AREA * rows_h * cols_w:
        return None
    return [(x * factor, y * factor) for x, y in corners], 2 * factor


def _otsu(pixels: np.ndarray) -> tuple[float, float]:
    """Otsu's threshold of an 8-bit image and the gap between the means of its two classes."""
    counts = np.bincount(pixels.ravel(), minlength=256).astype(np.float64)
    levels = np.arange(256, dtype=np.float64)
    weight = np.cumsum(counts)
    total = weight[-1]
    mass = np.cumsum(counts * levels)
    below = weight[:-1]
    above = total - below
    valid = (below > 0) & (above > 0)
    mean_below = np.where(valid, mass[:-1] / np.maximum(below, 1), 0)
    mean_above = np.where(valid, (mass[-1] - mass[:-1]) / np.maximum(above, 1), 0)
    between = np.where(valid, below * above * (mean_above - mean_below) ** 2, -1)
    t = int(np.argmax(between))
    return float(t), float(mean_above[t] - mean_below[t])


def _fit_line(at: np.ndarray, values: np.ndarray) -> tuple[float, float] | None:
    """values ~ slope * at + offset: of the lines through pairs of points half the side apart,
    the one most points lie on (within 2 px), refitted on those; None when fewer than
    ``SHEET_MIN_INLIERS`` of them do (no straight edge there). A shadow or a hand over part of
    a side bends its points away; the rest still lie on the sheet's edge."""
    count = len(at)
    if count < 10:
        return None
    half = count // 2
    best = None
    for i in range(0, count - half, max(1, (count - half) // 40)):
        j = i + half
        slope = (values[j] - values[i]) / (at[j] - at[i]) if at[j] != at[i] else 0.0
        keep = np.abs(values - (slope * at + values[i] - slope * at[i])) <= 2.0
        if best is None or keep.sum() > best.sum():
            best = keep
    keep = best
    for _ in range(2):
        if keep.sum() < 10:
            return None
        slope, offset = np.polyfit(at[keep], values[keep], 1)
        keep = np.abs(values - (slope * at + offset)) <= 2.0
    if keep.mean() < defaults.SHEET_MIN_INLIERS or abs(slope) > 0.25:
        return None
    return float(slope), float(offset)


def _cross(vertical: tuple[float, float], horizontal: tuple[float, float]) -> tuple[float, float]:
    """Where x = a*y + b meets y = c*x + d."""
    a, b = vertical
    c, d = horizontal
    y = (c * b + d) / (1 - a * c)
    return a * y + b, y


def _perspective(output, source) -> tuple[float, ...]:
    """Coefficients for Pillow's PERSPECTIVE transform taking ``output`` points to ``source``."""
    matrix, rhs = [], []
    for (x, y), (u, v) in zip(output, source, strict=True):
        matrix.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        matrix.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs += [u, v]
    return tuple(float(c) for c in np.linalg.solve(np.array(matrix), np.array(rhs)))
