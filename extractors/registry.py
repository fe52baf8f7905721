"""Parsers chosen by the MIME type detected from the bytes (paperless-ngx style).

Each entry declares the MIME types its parser supports and where its ``parse_*`` function lives;
parser modules are imported on first use so ``import extractors`` stays cheap for the CLI's
start-up (pdfplumber alone costs ~0.5 s to import). A parser is called as
``parse(path, *, options: ExtractOptions, password, progress)`` and reads every limit from
``options``. It returns an ExtractedDocument (short formats), or is a generator of Page that
returns a DocumentSummary (PDF, images: formats as long as a scan can be), so that
``extractors.iter_pages`` gives pages out as they are read.

``FORMATS`` is the one list of what uploads are accepted as people name them (kind, file name
extensions, the Spanish words for them): the upload pages' file picker and accepted-types
sentence, the API's description, the unsupported-type error and the wording of a damaged file's
error all derive from it, so a format added to ``PARSERS`` is added there too
(tests/extractors/test_registry.py checks they agree).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath

from extractors.detect import (
    DOC_MIME,
    DOCX_MIME,
    EMAIL_MIME,
    ODS_MIME,
    ODT_MIME,
    UNRECOGNISED_MIMES,
    XLS_MIME,
    XLSX_MIME,
    ZIP_MIME,
)

__all__ = [
    "Parser", "PARSERS", "parser_for", "register",
    "Format", "FORMATS", "accepted_extensions", "accepted_formats_text", "claimed_kind",
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Parser:
    name: str
    target: str  # "module:function", imported lazily
    mime_types: tuple[str, ...]  # exact types, or prefixes ending in "/"

    def accepts(self, mime: str) -> bool:
        return any(mime == m or (m.endswith("/") and mime.startswith(m)) for m in self.mime_types)

    def load(self) -> Callable:
        module, function = self.target.split(":")
        return getattr(importlib.import_module(module), function)


PARSERS: tuple[Parser, ...] = (
    Parser("pdf", "extractors.pdf:parse_pdf", ("application/pdf",)),
    Parser(
        "image",
        "extractors.images:parse_image",
        (
            "image/jpeg",
            "image/png",
            "image/tiff",
            "image/bmp",
            "image/gif",
            "image/webp",
            "image/x-ms-bmp",
        ),
    ),  # fmt: skip
    Parser("heif", "extractors.images:parse_image", ("image/heic", "image/heif")),
    Parser(
        "docx",
        "extractors.docx_reader:parse_docx",
        (DOCX_MIME,),
    ),
    Parser(
        "spreadsheet",
        "extractors.spreadsheet:parse_spreadsheet",
        (XLSX_MIME, XLS_MIME, ODS_MIME),
    ),
    Parser("odt", "extractors.opendocument:parse_odt", (ODT_MIME,)),
    Parser(
        "legacy-word",
        "extractors.libreoffice:parse_legacy_word",
        (DOC_MIME, "text/rtf", "application/rtf"),
    ),
    Parser("html", "extractors.html_reader:parse_html", ("text/html", "application/xhtml+xml")),
    # after every text/... type above: what is left of text/ is read as plain text
    Parser("text", "extractors.plaintext:parse_text", ("text/",)),
)


#: Parsers registered at run time, asked before the built-in ones.
_REGISTERED: list[Parser] = []


def register(parser: Parser) -> Callable[[], None]:
    """Put ``parser`` ahead of the built-in ones for its types (a deployment's own reader, a
    test's faulty one); returns the function that removes it again."""
    _REGISTERED.insert(0, parser)
    return lambda: _REGISTERED.remove(parser)


def parser_for(mime: str) -> Parser | None:
    for parser in (*_REGISTERED, *PARSERS):
        if parser.accepts(mime):
            return parser
    return None


@dataclass(frozen=True, slots=True)
class Format:
    """A kind of upload as applicants name it."""

    kind: str  # "XLS": how messages name it ("El archivo XLS está dañado...")
    extensions: tuple[str, ...]  # file name suffixes, lower case
    family: str  # the Spanish words it is listed under; kinds of one family are listed together
    mime: str  # a type its parser reads (containers: the type expanded instead)
    libreoffice: bool = False  # read only where LibreOffice converts it
    #: Bytes that are nothing at all under its name are this kind damaged on the way, not an
    #: unsupported type ("informe.pdf"); not so for text, which any bytes may claim to be
    #: (a ZIP polyglot named "acta.html" is refused as what it is).
    claimed_when_damaged: bool = True


FORMATS: tuple[Format, ...] = (
    Format("PDF", (".pdf",), "PDF", "application/pdf"),
    Format("DOCX", (".docx",), "documentos Word", DOCX_MIME),
    Format("DOC", (".doc",), "documentos Word", DOC_MIME, libreoffice=True),
    Format("ODT", (".odt",), "OpenDocument", ODT_MIME),
    Format("RTF", (".rtf",), "RTF", "text/rtf", libreoffice=True),
    Format("XLSX", (".xlsx",), "planillas Excel", XLSX_MIME),
    Format("XLS", (".xls",), "planillas Excel", XLS_MIME),
    Format("ODS", (".ods",), "planillas OpenDocument", ODS_MIME),
    Format("HTML", (".html", ".htm"), "páginas web guardadas", "text/html",
           claimed_when_damaged=False),
    Format("EML", (".eml",), "correos con sus adjuntos", EMAIL_MIME),
    Format("JPG", (".jpg", ".jpeg"), "fotos o escaneos", "image/jpeg"),
    Format("PNG", (".png",), "fotos o escaneos", "image/png"),
    Format("TIFF", (".tif", ".tiff"), "fotos o escaneos", "image/tiff"),
    Format("HEIC", (".heic", ".heif"), "fotos o escaneos", "image/heic"),
    Format("TXT", (".txt",), "texto", "text/plain", claimed_when_damaged=False),
    Format("ZIP", (".zip",), "archivos ZIP con carpetas", ZIP_MIME),
)  # fmt: skip


def _offered(libreoffice: bool) -> list[Format]:
    return [f for f in FORMATS if libreoffice or not f.libreoffice]


def accepted_extensions(*, libreoffice: bool = True) -> tuple[str, ...]:
    """File name extensions of the accepted formats (".pdf", ".xls"...), in FORMATS order."""
    return tuple(ext for f in _offered(libreoffice) for ext in f.extensions)


def accepted_formats_text(*, libreoffice: bool = True) -> str:
    """The Spanish sentence listing what is accepted: "Se aceptan PDF, documentos Word (DOCX,
    DOC), ..., planillas Excel (XLSX, XLS), ... y archivos ZIP con carpetas." DOC and RTF only
    where LibreOffice converts them."""
    families: dict[str, list[str]] = {}
    for f in _offered(libreoffice):
        families.setdefault(f.family, []).append(f.kind)
    named = [family if all(k in family for k in kinds) else f"{family} ({', '.join(kinds)})"
             for family, kinds in families.items()]  # fmt: skip
    return f"Se aceptan {', '.join(named[:-1])} y {named[-1]}."


def claimed_kind(name: str | PurePath, mime: str) -> str | None:
    """The kind of document a file's name says it is ("PDF"), when its bytes are not
    recognisable as anything (``mime`` unknown to libmagic); else None.

    Bytes recognisably of another type (an executable, an SVG) are simply not supported; bytes
    that are nothing at all under a name that says PDF are a PDF that got damaged on the way
    (a failed download, a truncated copy), and the applicant should be told so. Text is never
    claimed (any bytes may say they are text: a ZIP polyglot named "acta.html").
    """
    if mime not in UNRECOGNISED_MIMES:
        return None
    suffix = PurePath(str(name)).suffix.lower()
    claims = (f.kind for f in FORMATS if f.claimed_when_damaged and suffix in f.extensions)
    return next(claims, None)
