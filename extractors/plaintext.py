"""Plain text: encoding detected from the bytes (UTF-8/BOM first, then charset-normalizer)."""

from __future__ import annotations

import codecs
from collections.abc import Callable
from pathlib import Path

from extractors.document import ExtractedDocument
from extractors.docx_reader import _paginate
from extractors.normalize import normalize_text
from extractors.options import ExtractOptions

__all__ = ["parse_text", "decode_text"]

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode_text(data: bytes) -> tuple[str, str]:
    """(text, encoding). UTF-8 is tried strictly first: it is what almost everything is today,
    and a strict decode never succeeds by accident on Latin-1 text with accents."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding, errors="replace"), encoding
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=["cp1252", "latin_1", "iso8859_15", "utf_16", "cp850",
                                          "mac_roman"]).best()  # fmt: skip
    if best is not None:
        return str(best), best.encoding
    return data.decode("cp1252", errors="replace"), "cp1252"


def parse_text(
    path: Path,
    *,
    options: ExtractOptions,
    password: str | None = None,
    progress: Callable[[int, int], object] | None = None,
) -> ExtractedDocument:
    text, encoding = decode_text(Path(path).read_bytes())
    return ExtractedDocument(
        mime="", pages=_paginate(normalize_text(text).strip()), extractor=f"text:{encoding}"
    )
