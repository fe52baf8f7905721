"""Comparing what people type with what documents say: case and accents do not count."""

from __future__ import annotations

import unicodedata

__all__ = ["fold"]


def fold(text: str) -> str:
    """Lower case without accents: ``"Inclusión"`` → ``"inclusion"`` (``"ñ"`` → ``"n"``)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))
