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
_NUMBERED = re.compile(r"^\d+(\.\d+)*\.?\s")
#: "Fecha: 12 de marzo", "Tema: ..." — a labelled field line; it starts its own unit
_FIELD = re.compile(r"^[A-ZÁÉÍÓÚÑ][\wÁÉÍÓÚÑáéíóúñ°º./() -]{0,30}:\s")


@dataclass(slots=True)
class Block:
    """A run of text of one kind on one page, before tagging."""

    kind: str  # "para" | "row" | "item" | "heading" | "line" | "fragment" (OCR title-like line)
    text: str
    page: int
    heading: str = ""  # nearest heading above, on this page or an earlier one
    table_header: str = ""  # for rows: the first row of their table
    header_row: bool = False  # this row is itself a table header
    lines: list = field(default_factory=list)  # the physical lines joined into this block
    ocr: bool = False


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
    if len(stripped) > 60 and ", " in stripped:
        return False  # a long line with commas is prose, wrapped
    first = stripped.lstrip("¿¡\"“'(0123456789.- ")[:1]
    return bool(first) and first.isupper()


def _join(previous: str, line: str) -> str:
    if previous.endswith("-") and not previous.endswith(" -"):
        return previous[:-1] + line  # hyphenated word wrapped at the line end
    return previous + " " + line


def _is_table_line(line: str) -> bool:
    return " | " in line or (line.startswith("|") or line.endswith("|")) and len(line) > 2


def _is_continuation(line: str, ocr: bool) -> bool:
    """A physical line that continues the row above (a wrapped cell), not a new row."""
    first = line.lstrip("|[ ")[:1]
    return (first.islower() or len(line) < 28) and not _BULLET.match(line) or (
        ocr and not first.isalnum()
    )


def _row_text(line: str) -> str:
    cells = [c.strip() for c in line.strip().strip("|[]").split("|")]
    return " | ".join(c for c in cells if c)


def split_blocks(pages) -> list[Block]:
    """Lines of every page grouped into paragraphs, table rows, items and headings.

    Tables come from the extractor as lines with " | " between cells, but a wrapped cell (PDF
    text layer) or OCR spreads one row over several physical lines, some without any "|": inside
    a table region a line that starts in lowercase, is very short or (OCR) carries no letters at
    its start continues the row above. On OCR pages a table region ends only at a blank line.
    """
    blocks: list[Block] = []
    heading = ""
    for page in pages:
        ocr = bool(getattr(page, "ocr", False))
        para: Block | None = None
        item: Block | None = None
        row: Block | None = None
        table_header = ""
        lines = page.text.splitlines()
        for n, raw in enumerate(lines):
            line = raw.strip()
            following = lines[n + 1].strip() if n + 1 < len(lines) else ""
            if not line or _SIGNATURE_ONLY.match(line):
                para = item = row = None
                table_header = ""
                continue
            in_table = row is not None
            wrapped = line.lstrip("|[ ")[:1].islower() or (
                len(line) < 28 and not _NUMBERED.match(line) and not line.endswith(":")
            )
            if _is_table_line(line) or (
                in_table and (ocr or wrapped) and not _HEADING_MARK.match(line)
            ):
                para = item = None
                if _TABLE_SEPARATOR.match(line):
                    continue
                text = _row_text(line)
                if not text:
                    continue
                cells = text.count(" | ") + 1
                full_row = cells >= table_header.count(" | ") + 1 and " | " in text
                lower_start = line.lstrip("|[ ")[:1].islower()
                if in_table and (lower_start or (not full_row and _is_continuation(line, ocr))):
                    row.text = row.text + " " + text
                    if row.header_row:
                        table_header = row.text
                    continue
                is_header = not table_header
                if is_header:
                    table_header = text
                row = Block("row", text, page.number, heading, table_header, header_row=is_header)
                blocks.append(row)
                continue
            row = None
            table_header = ""
            bullet = _BULLET.match(line)
            if bullet and _NUMBERED.match(line) and _is_heading(line[bullet.end():]):
                bullet = None  # "1. Presentación": a numbered heading, not a list item
            if bullet:
                para = None
                item = Block("item", line[bullet.end():].strip(), page.number, heading)
                blocks.append(item)
                continue
            open_block = para or item
            numbered_heading = bool(_NUMBERED.match(line)) and _is_heading(line)
            if (
                open_block is not None
                and not open_block.text.endswith(_TERMINAL[:-1])
                and not _FIELD.match(line)
                and not numbered_heading
            ):
                open_block.text = _join(open_block.text, line)
                open_block.lines.append(line)
                continue
            item = None
            if _is_heading(line) and not following[:1].islower():
                para = None
                heading = _HEADING_MARK.sub("", line).strip()
                # OCR turns table cells and signature blocks into short capitalised lines: on
                # an OCR page such a line gives its section context but stays a candidate unit
                kind = "fragment" if ocr and not _HEADING_MARK.match(line) else "heading"
                blocks.append(Block(kind, heading, page.number, heading))
                continue
            if para is not None and not _FIELD.match(line):
                para.text = _join(para.text, line)
                para.lines.append(line)
            else:
                kind = "line" if _FIELD.match(line) else "para"
                para = Block(kind, line, page.number, heading, lines=[line], ocr=ocr)
                blocks.append(para)
    blocks = _unjoin_ocr_tables(blocks)
    _mark_boilerplate(blocks)
    _mark_mail_headers(blocks)
    for block in blocks:
        if len(block.text) > defaults.MAX_BLOCK_CHARS:
            block.text = block.text[: defaults.MAX_BLOCK_CHARS]
    # rows share their table's header text as finally assembled (wrapped header cells included)
    header = ""
    for block in blocks:
        if block.kind == "row":
            if block.header_row:
                header = block.text
            block.table_header = header
    return blocks


_PAGE_NUMBER = re.compile(r"\b(p[áa]gina|page|p[áa]g\.)\s*\d+", re.IGNORECASE)
_DIGITS = re.compile(r"\d+")


def _mark_boilerplate(blocks: list[Block]) -> None:
    """Running headers and footers (a line with "Página N", or the same line on several pages)
    give context but are never evidence: they repeat the title, not the proof."""
    pages_of: dict[str, set[int]] = {}
    for b in blocks:
        pages_of.setdefault(_DIGITS.sub("#", b.text.lower()), set()).add(b.page)
    for b in blocks:
        if _PAGE_NUMBER.search(b.text) or len(pages_of[_DIGITS.sub("#", b.text.lower())]) > 1:
            b.kind = "heading"
            b.header_row = False


_MAIL_START = re.compile(
    r"^[\s\-_=>]*(?:(?:mensaje\s+(?:reenviado|original)|forwarded\s+message|original\s+message)"
    r"[\s\-_=]*)?(?:de|from)\s*:",
    re.IGNORECASE,
)
_MAIL_OTHER = re.compile(r"\b(?:para|to|asunto|subject|enviado|sent)\s*:", re.IGNORECASE)
_SUBJECT = re.compile(r"^\s*(?:asunto|subject|re|rv|fw|fwd|tr)\s*:", re.IGNORECASE)


def _mark_mail_headers(blocks: list[Block]) -> None:
    """An e-mail's header (De:/Para:/Asunto: ...) and its subject line name the topic, like a
    title: context, never evidence."""
    for b in blocks:
        text = b.text
        if _SUBJECT.match(text) or (_MAIL_START.match(text) and _MAIL_OTHER.search(text)):
            b.kind = "heading"
            b.header_row = False


def _unjoin_ocr_tables(blocks: list[Block]) -> list[Block]:
    """OCR writes a table without rules as plain lines, which the paragraph joiner glues into
    one endless "sentence". Prose has a full stop every line or two; a joined OCR block of three
    or more lines with far fewer stops is a table: its lines become units of their own."""
    out = []
    for b in blocks:
        stops = sum(b.text.count(c) for c in ".;!?")
        if b.ocr and b.kind == "para" and len(b.lines) >= 3 and stops * 3 < len(b.lines):
            out.extend(Block("line", ln, b.page, b.heading, ocr=True) for ln in b.lines)
        else:
            out.append(b)
    return out


def make_units(blocks: list[Block], docs) -> list[Unit]:
    """Units from blocks and their tagged docs: paragraphs split into sentences by ``senter``."""
    units: list[Unit] = []
    for block, doc in zip(blocks, docs, strict=True):
        if block.kind == "para" or (block.kind == "line" and len(block.lines) > 1):
            for sent in doc.sents:
                if sent.text.strip():
                    units.append(Unit(len(units), "sentence", block.page, sent, block))
        else:
            units.append(Unit(len(units), block.kind, block.page, doc[:], block))
    return units
