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

__all__ = ["Block", "Unit", "Spill", "SpilledSpan", "split_blocks", "make_units"]

_BULLET = re.compile(r"^\s*(?:[-•·*▪◦‣–]|\(?\d{1,2}[.)]|\(?[a-zA-Z][)])\s+")
_TABLE_SEPARATOR = re.compile(r"^[\s|:\-–—+]+$")
_HEADING_MARK = re.compile(r"^\s*#{1,6}\s+")
_TERMINAL = (".", ";", ":", "!", "?", "…", ",")
#: how a line that ends a paragraph ends (a sentence closed; a colon introduces what follows)
_PARAGRAPH_END = (".", "!", "?", "…", ".”", ".»", '."')
_SIGNATURE_ONLY = re.compile(r"^[_\s.\-]+$")
_NUMBERED = re.compile(r"^\d+(\.\d+)*\.?\s")
#: "Fecha: 12 de marzo", "Tema: ..." — a labelled field line; it starts its own unit
_FIELD = re.compile(r"^[A-ZÁÉÍÓÚÑ][\wÁÉÍÓÚÑáéíóúñ°º./() -]{0,30}:\s")
#: a line that is only a capitalised label with its colon ("DECRETO:", "RESUELVO:", "SE
#: RESUELVE:"): the operative part of a decree or resolution starts there, so it ends the
#: VISTOS / CONSIDERANDO paragraph above and heads what follows
_CAPS_LABEL = re.compile(r"^[A-ZÁÉÍÓÚÑ][A-ZÁÉÍÓÚÑ ]{2,28}:$")


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
    #: its spaCy Span, or where to read it back (``SpilledSpan``) once a long document's tagged
    #: text has been moved out of memory
    ref: object
    block: Block
    matches: list = field(default_factory=list)  # (rule_id, start, end) within span.doc

    @property
    def span(self):
        """The unit's tokens (a spaCy Span), read back from the spill when they were moved."""
        ref = self.ref
        return ref.load() if type(ref) is SpilledSpan else ref

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
    splitter = _BlockSplitter()
    for page in pages:
        splitter.add_page(page)
    return _finish_blocks(splitter.blocks)


class _BlockSplitter:
    """One pass over a document's physical lines: the blocks so far, the heading carried across
    pages, and the paragraph, item or table row a line may continue (open blocks end at a page)."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.heading = ""

    def add_page(self, page) -> None:
        self.ocr = bool(getattr(page, "ocr", False))
        self.page_number = page.number
        self._close_all()
        lines = page.text.splitlines()
        self.width = max((len(ln.strip()) for ln in lines), default=0)
        for n, raw in enumerate(lines):
            following = lines[n + 1].strip() if n + 1 < len(lines) else ""
            self._add_line(raw.strip(), following)

    def _close_all(self) -> None:
        self.para: Block | None = None
        self.item: Block | None = None
        self.row: Block | None = None
        self.table_header = ""

    def _add_line(self, line: str, following: str) -> None:
        if not line or _SIGNATURE_ONLY.match(line):
            self._close_all()
            return
        if self._is_table_region(line):
            self._add_table_line(line)
            return
        self.row = None
        self.table_header = ""
        bullet = _BULLET.match(line)
        if bullet and _NUMBERED.match(line) and _is_heading(line[bullet.end():]):
            bullet = None  # "1. Presentación": a numbered heading, not a list item
        if bullet:
            self.para = None
            self.item = self._open("item", line[bullet.end():].strip())
            return
        if not _CAPS_LABEL.match(line) and self._continues_open_block(line):
            return
        self.item = None
        if _CAPS_LABEL.match(line) or (_is_heading(line) and not following[:1].islower()):
            self._add_heading(line)
            return
        if self.para is not None and not _FIELD.match(line) and not self._ends_paragraph(line):
            self.para.text = _join(self.para.text, line)
            self.para.lines.append(line)
        else:
            kind = "line" if _FIELD.match(line) else "para"
            self.para = self._open(kind, line, lines=[line], ocr=self.ocr)

    def _ends_paragraph(self, line: str) -> bool:
        """A text layer writes no blank line between paragraphs: the paragraph above ended when
        its last line closed a sentence well short of the page's text width and this line opens
        a new one ("... que corresponda." / "Artículo 6. Los antecedentes ..."). Not on OCR
        pages, where a paragraph's line count tells prose from a table (``_unjoin_ocr_tables``)."""
        last = self.para.lines[-1] if self.para.lines else self.para.text
        return (
            not self.ocr
            and last.endswith(_PARAGRAPH_END)
            and len(last) < defaults.PARAGRAPH_END_WIDTH * self.width
            and line.lstrip("¿¡\"“«(")[:1].isupper()
        )

    def _open(self, kind: str, text: str, **extra) -> Block:
        block = Block(kind, text, self.page_number, self.heading, **extra)
        self.blocks.append(block)
        return block

    def _is_table_region(self, line: str) -> bool:
        if _is_table_line(line):
            return True
        wrapped = line.lstrip("|[ ")[:1].islower() or (
            len(line) < 28 and not _NUMBERED.match(line) and not line.endswith(":")
        )
        return self.row is not None and (self.ocr or wrapped) and not _HEADING_MARK.match(line)

    def _add_table_line(self, line: str) -> None:
        self.para = self.item = None
        if _TABLE_SEPARATOR.match(line):
            return
        text = _row_text(line)
        if not text:
            return
        row = self.row
        full_row = text.count(" | ") >= self.table_header.count(" | ") and " | " in text
        lower_start = line.lstrip("|[ ")[:1].islower()
        if row is not None and (lower_start or (not full_row and _is_continuation(line, self.ocr))):
            row.text = row.text + " " + text
            if row.header_row:
                self.table_header = row.text
            return
        is_header = not self.table_header
        if is_header:
            self.table_header = text
        self.row = self._open("row", text, table_header=self.table_header, header_row=is_header)

    def _continues_open_block(self, line: str) -> bool:
        """A wrapped line of the paragraph or item above (it has not ended its sentence)."""
        open_block = self.para or self.item
        if (
            open_block is None
            or open_block.text.endswith(_TERMINAL[:-1])
            or _FIELD.match(line)
            or (_NUMBERED.match(line) and _is_heading(line))
        ):
            return False
        open_block.text = _join(open_block.text, line)
        open_block.lines.append(line)
        return True

    def _add_heading(self, line: str) -> None:
        self.para = None
        self.heading = _HEADING_MARK.sub("", line).strip()
        # OCR turns table cells and signature blocks into short capitalised lines: on an OCR
        # page such a line gives its section context but stays a candidate unit
        kind = "fragment" if self.ocr and not _HEADING_MARK.match(line) else "heading"
        self._open(kind, self.heading)


def _finish_blocks(blocks: list[Block]) -> list[Block]:
    """Whole-document passes once every line is placed: OCR tables split again, boilerplate and
    mail headers marked, blocks capped, and rows given their table's header as finally assembled
    (wrapped header cells included)."""
    blocks = _unjoin_ocr_tables(blocks)
    _mark_boilerplate(blocks)
    _mark_mail_headers(blocks)
    for block in blocks:
        if len(block.text) > defaults.MAX_BLOCK_CHARS:
            block.text = block.text[: defaults.MAX_BLOCK_CHARS]
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


def _wrapped_sentence(lines: list[str]) -> bool:
    """One long sentence wrapped over several lines: it closes with a full stop and every line
    but the last runs close to the width of the longest (a table's lines end where their cells
    do, and do not close a sentence)."""
    widths = [len(ln) for ln in lines]
    return lines[-1].rstrip().endswith(_PARAGRAPH_END) and (
        min(widths[:-1]) >= defaults.WRAPPED_LINE_WIDTH * max(widths)
    )


def _unjoin_ocr_tables(blocks: list[Block]) -> list[Block]:
    """OCR writes a table without rules as plain lines, which the paragraph joiner glues into
    one endless "sentence". Prose has a full stop every line or two; a joined OCR block of three
    or more lines with far fewer stops is a table: its lines become units of their own."""
    out = []
    for b in blocks:
        stops = sum(b.text.count(c) for c in ".;!?")
        if (b.ocr and b.kind == "para" and len(b.lines) >= 3 and stops * 3 < len(b.lines)
                and not _wrapped_sentence(b.lines)):
            out.extend(Block("line", ln, b.page, b.heading, ocr=True) for ln in b.lines)
        else:
            out.append(b)
    return out


def make_units(blocks: list[Block], docs, first_index: int = 0) -> list[Unit]:
    """Units from blocks and their tagged docs: paragraphs split into sentences by ``senter``.
    ``first_index``: the index of the first unit (the units of the blocks before these)."""
    units: list[Unit] = []
    for block, doc in zip(blocks, docs, strict=True):
        if block.kind == "para" or (block.kind == "line" and len(block.lines) > 1):
            written = _written_tokens(doc)
            for sent in doc.sents:
                if any(written[sent.start:sent.end]):  # sent.text.strip(), without its text
                    units.append(Unit(first_index + len(units), "sentence", block.page, sent,
                                      block))
        else:
            units.append(Unit(first_index + len(units), block.kind, block.page, doc[:], block))
    return units


#: word id -> whether the word has a character other than white space (ids are hashes of the
#: words: the same in every vocabulary)
_WRITTEN: dict[int, bool] = {}


def _written_tokens(doc) -> list[bool]:
    """Per token of ``doc``: whether its text has a character other than white space. A span's
    text is its tokens' texts joined by single spaces, so ``span.text.strip()`` is not empty
    exactly when one of its tokens is written; read from the token array, not a Token object per
    word."""
    from classifiers.tokens import ORTH

    strings = doc.vocab.strings
    out = []
    for orth in doc.to_array([ORTH]).ravel().tolist():
        written = _WRITTEN.get(orth)
        if written is None:
            if len(_WRITTEN) > 500_000:
                _WRITTEN.clear()
            written = _WRITTEN[orth] = bool(strings[orth].strip())
        out.append(written)
    return out


class Spill:
    """Where a long document's tagged text waits once it has been matched: an unnamed temporary
    file of DocBin chunks, read back a chunk at a time (the last two kept decoded) when a unit's
    tokens are asked for again (conditions, features, excerpt text). A document then holds a few
    chunks of spaCy tokens at a time instead of all of them (~250 bytes a token, ~140 MB for 1,000
    pages). Spilled tokens carry what the annotation cache keeps (``nlp._CACHED_ATTRS``), the
    attributes the rules read; token arrays read from the cache (``tokens.TokenDoc``) are
    written as they are."""

    def __init__(self) -> None:
        import tempfile

        self._file = tempfile.TemporaryFile(prefix="evidencia-spill-")
        self._chunks: list[tuple[int, int, bool]] = []  # (offset, length, token arrays?)
        self._decoded: dict[int, list] = {}  # chunk -> its docs, the two last read

    def keep(self, units: list[Unit], docs: list) -> None:
        """Write ``docs`` out and point ``units`` (cut from them) at the copy."""
        from classifiers.tokens import TokenDoc

        arrays = bool(docs) and all(type(d) is TokenDoc for d in docs)
        if arrays:
            import pickle

            data = pickle.dumps(docs, protocol=pickle.HIGHEST_PROTOCOL)
        else:
            from spacy.tokens import DocBin

            from classifiers.nlp import _CACHED_ATTRS

            data = DocBin(_CACHED_ATTRS, docs=docs, store_user_data=False).to_bytes()
        self._file.seek(0, 2)
        chunk = len(self._chunks)
        self._chunks.append((self._file.tell(), len(data), arrays))
        self._file.write(data)
        position = {id(doc): k for k, doc in enumerate(docs)}
        for unit in units:
            span = unit.ref
            unit.ref = SpilledSpan(self, chunk, position[id(span.doc)], span.start, span.end)

    def docs(self, chunk: int) -> list:
        found = self._decoded.get(chunk)
        if found is None:
            offset, length, arrays = self._chunks[chunk]
            self._file.seek(offset)
            data = self._file.read(length)
            if arrays:
                import pickle

                found = pickle.loads(data)  # noqa: S301 (this process's own temporary file)
            else:
                from spacy.tokens import DocBin

                from classifiers.nlp import get_vocab

                found = list(DocBin().from_bytes(data).get_docs(get_vocab()))
            if len(self._decoded) >= 2:
                del self._decoded[next(iter(self._decoded))]
            self._decoded[chunk] = found
        return found


@dataclass(frozen=True, slots=True)
class SpilledSpan:
    """A unit's tokens in a ``Spill``: chunk, document within it and token range."""

    spill: Spill
    chunk: int
    doc: int
    start: int
    end: int

    def load(self):
        return self.spill.docs(self.chunk)[self.doc][self.start:self.end]
