"""HTML (web pages saved by applicants): the visible text in reading order, tables as rows.

Parsed with lxml's HTML parser (tolerant of the tag soup real pages are). What a visitor does not
see is dropped: ``script``, ``style``, ``template``, ``noscript``, form controls, elements marked
``hidden``, ``aria-hidden="true"`` or styled ``display:none``/``visibility:hidden`` inline. Block
elements become lines: the page title first, then headings and paragraphs, "- " before list items,
one line per table row with cells joined by " | " (nested tables after their row), as the DOCX
reader writes them. The text is only ever shown to reviewers as extracted text.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from extractors.document import ExtractedDocument
from extractors.docx_reader import _paginate
from extractors.errors import CorruptFileError
from extractors.normalize import normalize_text
from extractors.options import ExtractOptions
from extractors.plaintext import decode_text

__all__ = ["parse_html", "html_text"]

#: Never visible, or not text: skipped with everything inside.
_INVISIBLE = frozenset({
    "head", "script", "style", "template", "noscript", "iframe", "object", "embed", "svg",
    "math", "canvas", "audio", "video", "map", "select", "option", "datalist", "textarea",
    "input", "button", "dialog",
})  # fmt: skip
#: Elements that start and end a line of their own.
_BLOCKS = frozenset({
    "address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details",
    "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2",
    "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "html", "legend", "main", "menu", "nav",
    "ol", "p", "pre", "section", "summary", "ul",
})  # fmt: skip
_HIDDEN_STYLE = re.compile(r"(?:^|;)\s*(?:display\s*:\s*none|visibility\s*:\s*hidden)", re.I)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_SPACES = re.compile(r"[ \t\r\n\f\u00a0]+")


def parse_html(
    path: Path,
    *,
    options: ExtractOptions,
    password: str | None = None,
    progress: Callable[[int, int], object] | None = None,
) -> ExtractedDocument:
    text = html_text(Path(path).read_bytes())
    return ExtractedDocument(mime="", pages=_paginate(text), extractor="html:lxml")


def html_text(data: bytes, charset: str | None = None) -> str:
    """Visible text of an HTML document, one block per line (also used for HTML e-mail bodies,
    whose ``charset`` the message's headers declare)."""
    import lxml.html
    from lxml import etree

    text = data.decode(charset, errors="replace") if charset else _decode(data)
    source = _XML_DECLARATION.sub("", text, count=1)
    if not source.strip():
        return ""
    try:
        root = lxml.html.document_fromstring(source)
    except (etree.ParserError, ValueError) as exc:
        raise CorruptFileError(
            "La página web (HTML) no se pudo leer. Guárdela de nuevo desde el navegador o "
            "imprímala como PDF.",
            detail=repr(exc),
        ) from exc
    lines = _Walker().lines(root)
    title = _squash(root.findtext(".//head/title") or "")
    if title and title not in lines:  # often repeated as the first heading
        lines.insert(0, title)
    return normalize_text("\n".join(lines)).strip()


def _decode(data: bytes) -> str:
    """The charset a ``<meta>`` declares (what a browser would use), else UTF-8 or a guess."""
    if not data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        match = _META_CHARSET.search(data[:4096])
        if match:
            try:
                return data.decode(match.group(1).decode("ascii"), errors="replace")
            except LookupError:
                pass
    return decode_text(data)[0]


def _squash(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def _hidden(element) -> bool:
    if element.get("hidden") is not None or element.get("aria-hidden", "").lower() == "true":
        return True
    style = element.get("style")
    return bool(style) and bool(_HIDDEN_STYLE.search(style))


def _tag(element) -> str:
    tag = element.tag
    return tag.lower().rpartition("}")[2] if isinstance(tag, str) else ""


class _Walker:
    """Collects lines: inline text accumulates until a block boundary ends the line."""

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._parts: list[str] = []
        self._prefix = ""

    def lines(self, root) -> list[str]:
        self._walk(root)
        self._flush()
        return self._lines

    def _flush(self) -> None:
        text = _squash("".join(self._parts))
        if text:
            self._lines.append(self._prefix + text)
            self._prefix = ""
        self._parts = []

    def _walk(self, element) -> None:
        tag = _tag(element)
        if not tag or tag in _INVISIBLE or _hidden(element):
            return
        if tag == "br":
            self._flush()
        elif tag == "table":
            self._flush()
            self._lines.extend(_table_lines(element))
        elif tag == "li":
            self._flush()
            self._prefix = "- "
            self._children(element)
            self._flush()
        elif tag == "pre":
            self._flush()
            text = "".join(_visible_text(element))
            self._lines.extend(line.rstrip() for line in text.splitlines() if line.strip())
        elif tag in _BLOCKS:
            self._flush()
            self._children(element)
            self._flush()
        else:
            self._children(element)

    def _children(self, element) -> None:
        if element.text:
            self._parts.append(element.text)
        for child in element:
            self._walk(child)
            if child.tail:
                self._parts.append(child.tail)


def _visible_text(element) -> Iterator[str]:
    """All visible text under ``element``, nested tables excluded (they get rows of their own)."""
    if element.text:
        yield element.text
    for child in element:
        tag = _tag(child)
        if tag and tag not in _INVISIBLE and tag != "table" and not _hidden(child):
            if tag in ("br", "li") or tag in _BLOCKS:
                yield " "
            yield from _visible_text(child)
        if child.tail:
            yield child.tail


def _table_lines(table) -> Iterator[str]:
    caption = table.find("caption")
    if caption is not None and not _hidden(caption):
        text = _squash("".join(_visible_text(caption)))
        if text:
            yield text
    for row in _rows(table):
        if _hidden(row):
            continue
        cells: list[str] = []
        nested: list = []
        for cell in row:
            if _tag(cell) not in ("td", "th") or _hidden(cell):
                continue
            cells.append(_squash("".join(_visible_text(cell))).replace("|", "/"))
            nested.extend(cell.iter("table"))
        line = " | ".join(c for c in cells if c)
        if line:
            yield line
        for inner in nested:
            if inner.getparent() is not None and _is_direct_nested(inner, row):
                yield from _table_lines(inner)


def _is_direct_nested(inner, row) -> bool:
    """True for a table inside a cell of ``row`` but not inside another nested table."""
    parent = inner.getparent()
    while parent is not None and parent is not row:
        if _tag(parent) == "table":
            return False
        parent = parent.getparent()
    return parent is row


def _rows(table) -> Iterator:
    """Rows in order through thead/tbody/tfoot, not those of nested tables."""
    for child in table:
        tag = _tag(child)
        if tag == "tr":
            yield child
        elif tag in ("thead", "tbody", "tfoot"):
            yield from (row for row in child if _tag(row) == "tr")
