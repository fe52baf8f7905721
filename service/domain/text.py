"""What people type: cleaned before it is stored, and compared with what documents say
(case and accents do not count)."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["fold", "clean", "from_file_system", "CONTROL_CHARACTERS", "BIDI_CONTROLS"]

#: NUL and the other control characters but tab and line breaks: PostgreSQL refuses NUL in
#: text (a 500 for the client) and XLSX any of them (an export broken for good).
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: Unicode's bidirectional controls: invisible, they reorder what follows, so a file named
#: "acta\u202efdp.bat" shows as "actatab.pdf" (and downloads as a .bat).
BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean(text: str | None) -> str | None:
    """``text`` without NUL and control characters (tab and line breaks kept)."""
    return CONTROL_CHARACTERS.sub("", text) if isinstance(text, str) else text


#: A byte of a file or folder name that is not UTF-8, as Python carries it (surrogate escape).
_UNDECODED_BYTE = re.compile("[\udc80-\udcff]")


def from_file_system(name: str) -> str:
    """A file or folder name read from the disk, as text the database takes: a byte that is
    not UTF-8 (an archive copied from an old Windows share or a Latin-1 USB stick:
    ``"acta-comit\\udce9.txt"``) read as Windows-1252, which such names were written in
    (``"acta-comité.txt"``); the same name gives the same text on every run."""
    return _UNDECODED_BYTE.sub(
        lambda m: bytes([ord(m.group()) - 0xDC00]).decode("cp1252", "replace"), name)


def fold(text: str) -> str:
    """Lower case without accents: ``"Inclusión"`` → ``"inclusion"`` (``"ñ"`` → ``"n"``)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))
