"""Content-type detection from the bytes (libmagic), never from the file name."""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

from extractors import defaults

__all__ = [
    "detect_mime", "claimed_kind",
    "DOCX_MIME", "XLSX_MIME", "ODS_MIME", "ODT_MIME", "ZIP_MIME", "EMAIL_MIME",
]  # fmt: skip

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODS_MIME = "application/vnd.oasis.opendocument.spreadsheet"
ODT_MIME = "application/vnd.oasis.opendocument.text"
ZIP_MIME = "application/zip"
EMAIL_MIME = "message/rfc822"
_OOXML_OR_ZIP = {
    ZIP_MIME, "application/x-zip-compressed", "application/octet-stream",
    DOCX_MIME, XLSX_MIME, ODS_MIME, ODT_MIME,
}  # fmt: skip
#: What libmagic says of an OLE file whose directory lies past the bytes it was given.
_OLE_UNSURE = {"application/x-ole-storage", "application/CDFV2"}
#: What libmagic says of bytes it cannot tell anything about (random bytes, a truncated header).
_UNKNOWN = {"application/octet-stream", "application/x-empty"}
#: Kinds a file's name can claim, by suffix: only to word the error of bytes nothing reads
#: (a random-bytes "informe.pdf" is a damaged PDF), never to choose a parser.
_CLAIMED_KINDS = {
    ".pdf": "PDF", ".docx": "DOCX", ".doc": "DOC", ".odt": "ODT", ".rtf": "RTF",
    ".xlsx": "XLSX", ".ods": "ODS", ".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG",
    ".tif": "TIFF", ".tiff": "TIFF", ".heic": "HEIC", ".zip": "ZIP", ".eml": "EML",
}  # fmt: skip
#: Entries that make a ZIP an Office Open XML document of one kind.
_OOXML_MAIN_PART = {"word/document.xml": DOCX_MIME, "xl/workbook.xml": XLSX_MIME}


def detect_mime(path: str | Path) -> str:
    """MIME type of a file from its content.

    libmagic is asked first; three cases it gets wrong are settled by looking further: an OLE file
    (DOC) whose directory lies past the first bytes, a ZIP whose
    entries make it an office document (libmagic says zip or octet-stream when the entries are
    not in the order it expects, as some generators write them), and a PDF with
    junk before its ``%PDF-`` header (readers accept it within the first 1024 bytes).
    """
    import magic

    path = Path(path)
    with open(path, "rb") as handle:
        head = handle.read(defaults.MAGIC_SNIFF_BYTES)
    if not head:
        return "application/x-empty"
    mime = magic.from_buffer(head, mime=True)
    if mime in _OLE_UNSURE:
        # an OLE container (DOC, XLS, encrypted DOCX) keeps its directory anywhere in the file:
        # from the first 64 KB libmagic can only say "OLE"; it reads what it needs from the file
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


def claimed_kind(name: str | Path, mime: str) -> str | None:
    """The kind of document a file's name says it is ("PDF"), when its bytes are not
    recognisable as anything (``mime`` unknown to libmagic); else None.

    Bytes recognisably of another type (an executable, an SVG) are simply not supported; bytes
    that are nothing at all under a name that says PDF are a PDF that got damaged on the way
    (a failed download, a truncated copy), and the applicant should be told so.
    """
    if mime not in _UNKNOWN:
        return None
    return _CLAIMED_KINDS.get(Path(str(name)).suffix.lower())
