"""ODT (OpenDocument text, LibreOffice Writer's own format): body in reading order, like a DOCX.

``content.xml`` is walked with lxml, as the DOCX reader walks ``word/document.xml``: one line per
paragraph and heading, "- " before list items, one line per table row with cells joined by " | "
(nested tables after their row), text boxes after the paragraph that anchors them, footnotes at
the end. Tracked deletions, and the tracked-changes log, are skipped: they are not in the text a
reader sees. The XML part is bounded before it is parsed (a small ODT can inflate to gigabytes).
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

from extractors.document import ExtractedDocument
from extractors.docx_reader import _paginate
from extractors.errors import CorruptFileError, EncryptedError, TooLargeError
from extractors.normalize import normalize_text
from extractors.options import ExtractOptions

__all__ = ["parse_odt"]

TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
DRAW = "{urn:oasis:names:tc:opendocument:xmlns:drawing:1.0}"

_DAMAGED = "El documento OpenDocument (ODT) está dañado y no se pudo leer."
#: Containers whose children are read in order as if they were the body.
_CONTAINERS = {f"{TEXT}section", f"{TEXT}index-body", f"{TEXT}table-of-content",
               f"{TEXT}alphabetical-index", f"{TEXT}illustration-index", f"{TEXT}table-index",
               f"{TEXT}user-index", f"{TEXT}object-index", f"{TEXT}bibliography"}  # fmt: skip
#: Never read: not part of the text a reader sees, or read elsewhere (notes at the end).
_SKIPPED = {f"{TEXT}tracked-changes", f"{TEXT}sequence-decls", f"{TEXT}variable-decls",
            f"{TEXT}user-field-decls", f"{OFFICE}forms", f"{TEXT}index-title-template",
            f"{TEXT}table-of-content-source", f"{TEXT}alphabetical-index-source"}  # fmt: skip

#: Inside a paragraph: deleted text (tracked changes), comments, change marks.
_NOT_TEXT = {f"{TEXT}deletion", f"{TEXT}change", f"{TEXT}change-start", f"{TEXT}change-end",
             f"{OFFICE}annotation", f"{OFFICE}annotation-end"}  # fmt: skip


def parse_odt(
    path: Path,
    *,
    options: ExtractOptions,
    password: str | None = None,
    progress: Callable[[int, int], object] | None = None,
) -> ExtractedDocument:
    root = _content_root(path, options.max_docx_part_bytes)
    body = root.find(f"{OFFICE}body/{OFFICE}text")
    if body is None:
        raise CorruptFileError(_DAMAGED, detail="content.xml has no office:body/office:text")
    notes: list[str] = []
    lines = list(_body_lines(body, notes))
    if notes:
        lines += ["", *notes]
    text = normalize_text("\n".join(lines)).strip()
    return ExtractedDocument(mime="", pages=_paginate(text), extractor="odt:lxml")


def _content_root(path: Path, max_bytes: int):
    from lxml import etree

    try:
        with zipfile.ZipFile(path) as zf:
            if "META-INF/manifest.xml" in zf.namelist() and b"encryption-data" in zf.read(
                "META-INF/manifest.xml"
            ):
                raise EncryptedError(
                    "El documento está protegido con contraseña. Guárdelo sin contraseña y "
                    "súbalo de nuevo.",
                    detail="ODF manifest declares encryption-data",
                )
            info = zf.getinfo("content.xml")
            if info.file_size > max_bytes:
                raise TooLargeError(
                    "El documento es demasiado grande para leerlo "
                    f"({info.file_size / 1_048_576:.0f} MB de texto sin comprimir). Divídalo en "
                    "varios archivos.",
                    detail=f"content.xml {info.file_size} bytes",
                )
            with zf.open(info) as handle:
                xml = handle.read(max_bytes + 1)
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, zlib.error, RuntimeError) as exc:
        raise CorruptFileError(_DAMAGED, detail=repr(exc)) from exc
    if len(xml) > max_bytes:
        raise TooLargeError(detail="content.xml larger than its declared size")
    try:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
        return etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as exc:
        raise CorruptFileError(_DAMAGED, detail=repr(exc)) from exc


def _body_lines(container, notes: list[str]) -> Iterator[str]:
    for child in container.iterchildren():
        yield from _element_lines(child, notes)


def _element_lines(element, notes: list[str]) -> Iterator[str]:
    tag = element.tag
    if not isinstance(tag, str) or tag in _SKIPPED:
        return
    if tag in (f"{TEXT}p", f"{TEXT}h"):
        text, frames = _paragraph(element, notes)
        if text.strip():
            yield text.strip()
        yield from frames
    elif tag == f"{TEXT}list":
        for item in element.iterchildren(f"{TEXT}list-item", f"{TEXT}list-header"):
            for line in _body_lines(item, notes):
                # a nested list's items already carry their "- "
                yield line if line.startswith("- ") else f"- {line}"
    elif tag == f"{TABLE}table":
        yield from _table_lines(element, notes)
    elif tag in _CONTAINERS:
        yield from _body_lines(element, notes)


def _table_lines(table, notes: list[str]) -> Iterator[str]:
    """One line per row, cells joined by " | "; a table nested in a cell follows its row."""
    for row in _rows(table):
        nested: list[str] = []
        cells = [_cell_text(cell, notes, nested)
                 for cell in row.iterchildren(f"{TABLE}table-cell")]  # covered cells: merges
        line = " | ".join(c for c in cells if c)
        if line:
            yield line
        yield from nested


def _cell_text(cell, notes: list[str], nested: list[str]) -> str:
    parts: list[str] = []
    for child in cell.iterchildren():
        if child.tag == f"{TABLE}table":
            nested.extend(_table_lines(child, notes))
        else:
            parts.extend(line.removeprefix("- ") for line in _element_lines(child, notes))
    return " ".join(" ".join(p.split()) for p in parts if p)


def _rows(table) -> Iterator:
    """Rows in order, through header-row, row-group and rows wrappers."""
    for child in table.iterchildren():
        if child.tag == f"{TABLE}table-row":
            yield child
        elif child.tag in (f"{TABLE}table-header-rows", f"{TABLE}table-rows",
                           f"{TABLE}table-row-group"):  # fmt: skip
            yield from _rows(child)


def _paragraph(p, notes: list[str]) -> tuple[str, list[str]]:
    """(text of a paragraph, lines of the text boxes anchored in it)."""
    out: list[str] = []
    frames: list[str] = []

    def walk(node) -> None:
        tag = node.tag
        if tag == f"{TEXT}s":
            out.append(" " * int(node.get(f"{TEXT}c", "1") or 1))
        elif tag == f"{TEXT}tab":
            out.append("\t")
        elif tag == f"{TEXT}line-break":
            out.append("\n")
        elif tag == f"{TEXT}note":
            body = node.find(f"{TEXT}note-body")
            if body is not None:
                notes.extend(_body_lines(body, notes))
        elif tag == f"{DRAW}frame":
            for box in node.iterchildren(f"{DRAW}text-box"):
                frames.extend(_body_lines(box, notes))
        elif tag in _NOT_TEXT:
            pass
        else:
            if node.text:
                out.append(node.text)
            for child in node.iterchildren():
                if isinstance(child.tag, str):
                    walk(child)
                if child.tail:
                    out.append(child.tail)

    walk(p)
    return "".join(out), frames
