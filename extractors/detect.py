"""Content-type detection from the bytes (libmagic), never from the file name."""

from __future__ import annotations

import logging
import zipfile
import zlib
from pathlib import Path

from extractors import defaults

log = logging.getLogger(__name__)

__all__ = [
    "detect_mime", "UNRECOGNISED_MIMES",
    "DOCX_MIME", "XLSX_MIME", "ODS_MIME", "ODT_MIME", "ZIP_MIME", "EMAIL_MIME", "DOC_MIME",
    "XLS_MIME", "OLE_SIGNATURE",
]  # fmt: skip

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODS_MIME = "application/vnd.oasis.opendocument.spreadsheet"
ODT_MIME = "application/vnd.oasis.opendocument.text"
ZIP_MIME = "application/zip"
EMAIL_MIME = "message/rfc822"
DOC_MIME = "application/msword"
XLS_MIME = "application/vnd.ms-excel"
_OOXML_OR_ZIP = {
    ZIP_MIME, "application/x-zip-compressed", "application/octet-stream",
    DOCX_MIME, XLSX_MIME, ODS_MIME, ODT_MIME,
}  # fmt: skip
#: The first bytes of every OLE2 compound file (DOC, XLS, encrypted DOCX, Outlook MSG...).
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: What libmagic says of an OLE file it cannot place: its directory lies past the bytes it was
#: given, or is damaged (a truncated copy).
_OLE_UNSURE = {"application/x-ole-storage", "application/CDFV2"}
#: The stream at an OLE file's root that makes it a document of one kind ("Book": Excel 5/95).
_OLE_MAIN_STREAM = {"WordDocument": DOC_MIME, "Workbook": XLS_MIME, "Book": XLS_MIME}
#: What libmagic says of bytes it cannot tell anything about (random bytes, a truncated header),
#: and of an OLE file whose directory cannot be read: both are damaged under a claiming name
#: (``registry.claimed_kind``).
UNRECOGNISED_MIMES = {"application/octet-stream", "application/x-empty", *_OLE_UNSURE}
#: Entries that make a ZIP an Office Open XML document of one kind.
_OOXML_MAIN_PART = {"word/document.xml": DOCX_MIME, "xl/workbook.xml": XLSX_MIME}


def detect_mime(path: str | Path) -> str:
    """MIME type of a file from its content.

    libmagic is asked first; three cases it gets wrong are settled by looking further: an OLE
    file, by the stream at its root (libmagic places one by its summary's application name or
    class id before its streams, and says only "OLE" of one whose directory lies past the
    first bytes), a ZIP whose entries make it an office document (libmagic says zip or
    octet-stream when the entries are not in the order it expects, as some generators write
    them), and a PDF with junk before its ``%PDF-`` header (readers accept it within the first
    1024 bytes).
    """
    import magic

    path = Path(path)
    with open(path, "rb") as handle:
        head = handle.read(defaults.MAGIC_SNIFF_BYTES)
    if not head:
        return "application/x-empty"
    mime = magic.from_buffer(head, mime=True)
    if head.startswith(OLE_SIGNATURE):
        flavour = _ole_flavour(path)
        if flavour is not None:
            return flavour
        if mime in _OLE_UNSURE:  # its directory lies anywhere in the file: libmagic reads it
            mime = magic.from_file(str(path), mime=True)
    if mime in _OOXML_OR_ZIP and head.startswith(b"PK"):
        return _zip_flavour(path)
    if mime == "application/octet-stream" and b"%PDF-" in head[:1024]:
        return "application/pdf"
    return mime


def _zip_flavour(path: Path) -> str:
    """DOCX and XLSX by their main part; OpenDocument by its ``mimetype`` entry."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            for part, mime in _OOXML_MAIN_PART.items():
                if part in names:
                    return mime
            if "mimetype" in names and zf.getinfo("mimetype").file_size < 100:
                declared = zf.read("mimetype").decode("ascii", "replace").strip()
                if declared in (ODS_MIME, ODT_MIME):
                    return declared
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError, RuntimeError,
            NotImplementedError, zlib.error):  # fmt: skip
        return "application/octet-stream"
    return ZIP_MIME


def _ole_flavour(path: Path) -> str | None:
    """DOC and XLS by the stream at the compound file's root; None for other OLE files
    (encrypted DOCX, Outlook messages) and for one whose directory cannot be read."""
    import olefile

    try:
        with olefile.OleFileIO(str(path)) as ole:
            for stream, mime in _OLE_MAIN_STREAM.items():
                if ole.exists(stream) and ole.get_type(stream) == olefile.STGTY_STREAM:
                    return mime
    except Exception as exc:  # noqa: BLE001 - any broken directory: a kind neither stream tells
        log.info("OLE directory of %s unreadable: %r", path.name, exc)
    return None
