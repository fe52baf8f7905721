"""Content-type detection from the bytes (libmagic), never from the file name."""

from __future__ import annotations

import zipfile
from pathlib import Path

from extractors import defaults

__all__ = ["detect_mime", "DOCX_MIME", "ZIP_MIME"]

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ZIP_MIME = "application/zip"
_OOXML_OR_ZIP = {ZIP_MIME, "application/x-zip-compressed", "application/octet-stream", DOCX_MIME}


def detect_mime(path: str | Path) -> str:
    """MIME type of a file from its content.

    libmagic is asked first; two cases it gets wrong are settled by looking further: a ZIP whose
    entries make it a Word document (libmagic sometimes says zip or octet-stream), and a PDF with
    junk before its ``%PDF-`` header (readers accept it within the first 1024 bytes).
    """
    import magic

    path = Path(path)
    with open(path, "rb") as handle:
        head = handle.read(defaults.MAGIC_SNIFF_BYTES)
    if not head:
        return "application/x-empty"
    mime = magic.from_buffer(head, mime=True)
    if mime in _OOXML_OR_ZIP and head.startswith(b"PK"):
        return _zip_flavour(path)
    if mime == "application/octet-stream" and b"%PDF-" in head[:1024]:
        return "application/pdf"
    return mime


def _zip_flavour(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return "application/octet-stream"
    if "word/document.xml" in names:
        return DOCX_MIME
    return ZIP_MIME
