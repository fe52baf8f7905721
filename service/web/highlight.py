"""Where a passage is on a page: word boxes to light up on the image, text spans to mark.

Both match the passage as the classifier quoted it against what the extractor read, ignoring
case, accents and whitespace, and tolerating OCR slips, so a passage found on the page lights up
even when a word or two were misread.
"""

from __future__ import annotations

import difflib
import re

from service.domain.text import fold

__all__ = ["highlight_boxes", "highlight_text"]

_TOKEN = re.compile(r"\w+", re.UNICODE)


def _tokens(text: str) -> list[str]:
    return [fold(t) for t in _TOKEN.findall(text)]


def highlight_boxes(words: list, passages: list[str], width: float, height: float,
                    rotation: int = 0) -> list[dict]:
    """Boxes (in % of the page) of the words that make up each passage.

    ``words`` are ``[text, x0, top, x1, bottom]`` in points from the top-left of the page as
    given (``width`` × ``height``). Passages are matched as token sequences (accents and case
    ignored, OCR slips tolerated by difflib), so a passage found on the page lights up even when
    a word or two were misread. ``rotation`` is the clockwise angle OCR found makes the page
    upright (``Page.rotation``): the page image is shown turned by it
    (``page_images.page_png``), so the boxes are turned the same way.
    """
    if not words or not width or not height:
        return []
    if rotation % 360:
        words = [[w[0], *_turned(w[1:5], width, height, rotation)] for w in words]
        if rotation % 180:
            width, height = height, width
    word_tokens = []
    for i, w in enumerate(words):
        toks = _tokens(str(w[0]))
        word_tokens.extend((t, i) for t in toks)
    seq = [t for t, _ in word_tokens]
    boxes = []
    for n, passage in enumerate(passages):
        ptoks = _tokens(passage)
        if not ptoks:
            continue
        matcher = difflib.SequenceMatcher(None, seq, ptoks, autojunk=False)
        hit: set[int] = set()
        for block in matcher.get_matching_blocks():
            if block.size >= 2 or (block.size == 1 and len(ptoks) == 1):
                hit.update(word_tokens[k][1] for k in range(block.a, block.a + block.size))
        for i in sorted(hit):
            _, x0, top, x1, bottom = words[i][:5]
            boxes.append(
                {
                    "passage": n,
                    "left": 100 * float(x0) / width,
                    "top": 100 * float(top) / height,
                    "width": 100 * max(float(x1) - float(x0), 1) / width,
                    "height": 100 * max(float(bottom) - float(top), 1) / height,
                }
            )
    return boxes


def _turned(box, width: float, height: float, rotation: int) -> tuple[float, ...]:
    """A box (x0, top, x1, bottom) of a ``width`` × ``height`` page, on that page turned
    ``rotation`` degrees clockwise."""
    x0, top, x1, bottom = (float(v) for v in box)
    turn = rotation % 360
    if turn == 90:
        return height - bottom, x0, height - top, x1
    if turn == 180:
        return width - x1, height - bottom, width - x0, height - top
    if turn == 270:
        return top, width - x1, bottom, width - x0
    return x0, top, x1, bottom


def highlight_text(text: str, passages: list[str]) -> list[tuple[str, int | None]]:
    """Split page text into (segment, passage index or None) so templates can <mark> it.

    Segments are plain strings; the template escapes them. Matching ignores case, accents and
    whitespace differences by mapping a normalised copy back to the original offsets.
    """
    if not text:
        return []
    norm_chars: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        n = fold(ch)
        if ch.isspace():
            if norm_chars and norm_chars[-1] == " ":
                continue
            n = " "
        for c in n:
            norm_chars.append(c)
            index.append(i)
    norm_text = "".join(norm_chars)
    spans: list[tuple[int, int, int]] = []
    for n, passage in enumerate(passages):
        needle = " ".join(fold(passage).split())
        if not needle:
            continue
        at = norm_text.find(needle)
        if at < 0:
            continue
        start, end = index[at], index[at + len(needle) - 1] + 1
        if all(end <= s or start >= e for s, e, _ in spans):
            spans.append((start, end, n))
    spans.sort()
    out: list[tuple[str, int | None]] = []
    pos = 0
    for start, end, n in spans:
        if start > pos:
            out.append((text[pos:start], None))
        out.append((text[start:end], n))
        pos = end
    if pos < len(text):
        out.append((text[pos:], None))
    return out
