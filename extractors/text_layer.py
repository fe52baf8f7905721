"""The one decision: does a page's text layer hold real text, or must the page be OCR'd?

``assess_text_layer`` is the single source of truth (paperless-ngx style): every reader's output
(pdfium, pdfplumber, poppler) goes through it, and the reason it gives is logged and stored as the
page's ``method``.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from extractors import defaults

__all__ = [
    "LayerReason",
    "TextVerdict",
    "assess_text_layer",
    "meaningful_chars",
    "mostly_cjk",
    "is_mark",
    "TOKEN_RE",
]

_CID_RE = re.compile(r"\(cid:\d+\)")
_UNMAPPABLE_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffd\ue000-\uf8ff]")
_ALNUM_RE = re.compile(r"[^\W_]")
TOKEN_RE = re.compile("[^\\s\ufffe]+")  # pdfium marks a line-end hyphen as U+FFFE
_EDGE_PUNCT = "\"'()[]{}¿?¡!.,;:«»“”‘’-–—*•·/\\"
_ODD_IN_WORD = set("\\~^`{}|")
_ODD_CATEGORIES = {"So", "Sk", "Co", "Cn", "Cc", "Cs"}
# --------------------------------------------------------------------------------------------
# The one decision: does this page have real text?
# --------------------------------------------------------------------------------------------


class LayerReason(enum.StrEnum):
    """Why a text layer was kept or the page sent to OCR (see :func:`assess_text_layer`): stable
    codes, logged and stored as ``Page.method`` (equal to their strings)."""

    text_layer = "text-layer"
    no_text = "ocr:no-text"
    cid_glyphs = "ocr:cid-glyphs"
    unmappable = "ocr:unmappable"
    garbled = "ocr:garbled"
    little_text_over_image = "ocr:little-text-over-image"
    invisible_text = "ocr:invisible-text"


@dataclass(frozen=True, slots=True)
class TextVerdict:
    ok: bool
    reason: LayerReason


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
        return TextVerdict(False, LayerReason.no_text)
    if cid_chars / total > defaults.MAX_UNMAPPABLE_RATIO:
        return TextVerdict(False, LayerReason.cid_glyphs)
    unmappable = len(_UNMAPPABLE_RE.findall(stripped))
    if unmappable / total > defaults.MAX_UNMAPPABLE_RATIO:
        return TextVerdict(False, LayerReason.unmappable)
    meaningful = len(_ALNUM_RE.findall(stripped))
    if meaningful == 0:
        return TextVerdict(False, LayerReason.no_text)
    if _garbled_ratio(text) > defaults.MAX_GARBLED_RATIO:
        return TextVerdict(False, LayerReason.garbled)
    coverage = None
    if meaningful < defaults.MIN_TEXT_CHARS_OVER_IMAGE:
        coverage = image_coverage()
        if coverage >= defaults.SCAN_IMAGE_COVERAGE:
            return TextVerdict(False, LayerReason.little_text_over_image)
    if invisible_ratio() > defaults.MAX_INVISIBLE_RATIO:
        coverage = image_coverage() if coverage is None else coverage
        if coverage < defaults.SCAN_IMAGE_COVERAGE:
            return TextVerdict(False, LayerReason.invisible_text)
    return TextVerdict(True, LayerReason.text_layer)


_CJK_RE = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


def mostly_cjk(text: str) -> bool:
    """Vertical writing in the tategaki sense (not just a page turned sideways)."""
    return len(_CJK_RE.findall(text)) > 0.3 * max(meaningful_chars(text), 1)


def meaningful_chars(text: str) -> int:
    return len(_ALNUM_RE.findall(text))


def _garbled_ratio(text: str) -> float:
    """Share of letters in tokens that look like a broken encoding rather than a language.

    Estimated on at most GARBLED_SAMPLE tokens spread over the page (it is a ratio)."""
    tokens = TOKEN_RE.findall(text)
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


def is_mark(ch: str) -> bool:
    return unicodedata.category(ch).startswith("M")
