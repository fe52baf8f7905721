"""Parsers chosen by the MIME type detected from the bytes (paperless-ngx style).

Each entry declares the MIME types its parser supports and where its ``parse_*`` function lives;
parser modules are imported on first use so ``import extractors`` stays cheap for the CLI's
start-up (pdfplumber alone costs ~0.5 s to import). A parser is called as
``parse(path, *, options: ExtractOptions, password, progress)`` and reads every limit from
``options``. It returns an ExtractedDocument (short formats), or is a generator of Page that
returns a DocumentSummary (PDF, images: formats as long as a scan can be), so that
``extractors.iter_pages`` gives pages out as they are read.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from extractors.detect import DOCX_MIME, ODS_MIME, ODT_MIME, XLSX_MIME

__all__ = ["Parser", "PARSERS", "parser_for", "register"]


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
    Parser("spreadsheet", "extractors.spreadsheet:parse_spreadsheet", (XLSX_MIME, ODS_MIME)),
    Parser("odt", "extractors.opendocument:parse_odt", (ODT_MIME,)),
    Parser(
        "legacy-word",
        "extractors.libreoffice:parse_legacy_word",
        ("application/msword", "text/rtf", "application/rtf"),
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
