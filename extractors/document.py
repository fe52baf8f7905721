"""What extraction produces: frozen, JSON-friendly value objects.

Coordinates are PDF points (1/72 inch) with the origin at the page's top-left corner, whatever
the source (OCR pixel boxes are scaled back to points), so the web page can highlight a passage
on the rendered page image with one scale factor.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

__all__ = ["Word", "Page", "ExtractedDocument", "DocumentSummary"]


@dataclass(frozen=True, slots=True)
class Word:
    text: str
    x0: float
    top: float
    x1: float
    bottom: float


@dataclass(frozen=True, slots=True)
class Page:
    number: int  # 1-based
    text: str  # NFC-normalised, lines separated by "\n", table rows kept one per line
    words: tuple[Word, ...] = ()
    width: float = 0.0  # points
    height: float = 0.0
    ocr: bool = False
    ocr_confidence: float | None = None  # mean word confidence 0..100, None when not OCR'd
    rotation: int = 0  # degrees applied to make the page upright (OCR orientation detection)
    #: why this page was read the way it was (e.g. "text-layer", "ocr:no-text", "ocr:cid-glyphs")
    method: str = ""
    error: str | None = None  # Spanish message when only this page failed (e.g. OCR timeout)


@dataclass(frozen=True, slots=True)
class DocumentSummary:
    """What a reader knows of a whole document once its last page is read: a streaming parser
    (a generator of ``Page``) returns it."""

    extractor: str
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ExtractedDocument:
    mime: str
    pages: tuple[Page, ...]
    extractor: str  # name and version of what read it, e.g. "pdf:pdfplumber+pypdfium2/1"
    warnings: tuple[str, ...] = field(default=())

    @property
    def text(self) -> str:
        return "\n\n".join(p.text for p in self.pages)

    @property
    def ocr_pages(self) -> int:
        return sum(1 for p in self.pages if p.ocr)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ExtractedDocument:
        pages = tuple(
            Page(**{**p, "words": tuple(Word(**w) for w in p.get("words", ()))})
            for p in data["pages"]
        )
        return cls(
            mime=data["mime"],
            pages=pages,
            extractor=data["extractor"],
            warnings=tuple(data.get("warnings", ())),
        )
