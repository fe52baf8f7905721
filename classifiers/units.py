"""Cut an extracted document into the units evidence is judged on.

A unit is a sentence of a paragraph, one table row (the extractor writes a row as one line with
cells joined by " | "), one list item, or a heading. Headings are kept as context (the section a
sentence belongs to, the document's title) but are never offered as evidence: reviewers want the
sentence or row that proves the point, not the title above it. Each unit keeps its page number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from classifiers import defaults

__all__ = ["Block", "Unit", "split_blocks", "make_units"]

_BULLET = re.compile(r"^\s*(?:[-•·*▪◦‣–]|\(?\d{1,2}[.)]|\(?[a-zA-Z][)])\s+")
_TABLE_SEPARATOR = re.compile(r"^[\s|:\-–—+]+$")
_HEADING_MARK = re.compile(r"^\s*#{1,6}\s+")
_TERMINAL = (".", ";", ":", "!", "?", "…", ",")
_SIGNATURE_ONLY = re.compile(r"^[_\s.\-]+$")


@dataclass(slots=True)
class Block:
    """A run of text of one kind on one page, before tagging."""

    kind: str  # "para" | "row" | "item" | "heading" | "line"
    text: str
    page: int
    heading: str = ""  # nearest heading above, on this page or an earlier one
    table_header: str = ""  # for rows: the first row of their table
    header_row: bool = False  # this row is itself a table header


@dataclass(slots=True)
class Unit:
    """One sentence, row, item or heading, with its tagged tokens (a spaCy Span)."""

    index: int
    kind: str  # "sentence" | "row" | "item" | "heading" | "line"
    page: int
    span: object  # spacy.tokens.Span
    block: Block
    matches: list = field(default_factory=list)  # (rule_id, start, end) within span.doc

    @property
    def text(self) -> str:
        return self.span.text.strip()

    @property
    def evidence_eligible(self) -> bool:
        return self.kind != "heading" and not self.block.header_row


def _is_heading(line: str) -> bool:
    stripped = line.strip()
    if _HEADING_MARK.match(stripped):
        return True
    if len(stripped) > defaults.HEADING_MAX_CHARS or stripped.endswith(_TERMINAL):
        return False
    if ":" in stripped:
        return False  # "Fecha: 12 de marzo" is a line of content, not a title
    first = stripped.lstrip("¿¡\"“'(0123456789.- ")[:1]
    return bool(first) and first.isupper()


def _join(previous: str, line: str) -> str:
    if previous.endswith("-") and not previous.endswith(" -"):
        return previous[:-1] + line  # hyphenated word wrapped at the line end
    return previous + " " + line


def split_blocks(pages) -> list[Block]:
    """Lines of every page grouped into paragraphs, rows, items and headings."""
    blocks: list[Block] = []
    heading = ""
    for page in pages:
        para: Block | None = None
        item: Block | None = None
        table_header = ""
        for raw in page.text.splitlines():
            line = raw.strip()
            if not line or _SIGNATURE_ONLY.match(line):
                para = item = None
                table_header = ""
                continue
            if " | " in line or (line.startswith("|") and line.endswith("|") and len(line) > 2):
                para = item = None
                if _TABLE_SEPARATOR.match(line):
                    continue
                cells = [c.strip() for c in line.strip("|").split("|")]
                row = " | ".join(c for c in cells)
                is_header = not table_header
                if is_header:
                    table_header = row
                blocks.append(
                    Block("row", row, page.number, heading, table_header, header_row=is_header)
                )
                continue
            table_header = ""
            bullet = _BULLET.match(line)
            if bullet:
                para = None
                item = Block("item", line[bullet.end():].strip(), page.number, heading)
                blocks.append(item)
                continue
            open_block = para or item
            if open_block is not None and not open_block.text.endswith(_TERMINAL[:-1]):
                open_block.text = _join(open_block.text, line)
                continue
            item = None
            if _is_heading(line):
                para = None
                heading = _HEADING_MARK.sub("", line).strip()
                blocks.append(Block("heading", heading, page.number, heading))
                continue
            if para is not None:
                para.text = _join(para.text, line)
            else:
                para = Block("para", line, page.number, heading)
                blocks.append(para)
    for block in blocks:
        if len(block.text) > defaults.MAX_BLOCK_CHARS:
            block.text = block.text[: defaults.MAX_BLOCK_CHARS]
    return blocks


def make_units(blocks: list[Block], docs) -> list[Unit]:
    """Units from blocks and their tagged docs: paragraphs split into sentences by ``senter``."""
    units: list[Unit] = []
    for block, doc in zip(blocks, docs, strict=True):
        if block.kind == "para":
            for sent in doc.sents:
                if sent.text.strip():
                    units.append(Unit(len(units), "sentence", block.page, sent, block))
        else:
            units.append(Unit(len(units), block.kind, block.page, doc[:], block))
    return units
