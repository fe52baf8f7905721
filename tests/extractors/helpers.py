"""Helpers for the extraction tests: text matching that tolerates layout and OCR noise."""

from __future__ import annotations

import re
import unicodedata

_ARABIC_MARKS = re.compile("[\u064b-\u0652\u0670]")


def squash(text: str) -> str:
    """Compare text the way a reader does: NFKC, casefolded, Arabic vowel marks and table
    separators dropped, whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _ARABIC_MARKS.sub("", text).replace(" | ", " ")
    return re.sub(r"\s+", " ", text).strip()


def assert_contains(text: str, *phrases: str) -> None:
    haystack = squash(text)
    missing = [p for p in phrases if squash(p) not in haystack]
    assert not missing, f"missing {missing!r} in {text[:600]!r}"
