"""What people type: cleaned before it is stored, and compared with what documents say
(case and accents do not count)."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["fold", "clean", "CONTROL_CHARACTERS", "BIDI_CONTROLS"]

#: NUL and the other control characters but tab and line breaks: PostgreSQL refuses NUL in
#: text (a 500 for the client) and XLSX any of them (an export broken for good).
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: Unicode's bidirectional controls: invisible, they reorder what follows, so a file named
#: "acta\u202efdp.bat" shows as "actatab.pdf" (and downloads as a .bat).
BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean(text: str | None) -> str | None:
    """``text`` without NUL and control characters (tab and line breaks kept)."""
    return CONTROL_CHARACTERS.sub("", text) if isinstance(text, str) else text


def fold(text: str) -> str:
    """Lower case without accents: ``"Inclusión"`` → ``"inclusion"`` (``"ñ"`` → ``"n"``)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))
