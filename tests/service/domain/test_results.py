"""Extraction rows written page by page as they are read (issue 12: memory grew with pages)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from extractors.document import Page, Word
from extractors.errors import CorruptFileError
from service.domain import results
from service.domain.models import Extraction, ExtractionPage, StoredFile

SHA = "ab" * 32


class _Stream:
    """A ``PageStream`` stand-in: pages from a generator, then the summary fields."""

    mime = "application/pdf"

    def __init__(self, pages):
        self._pages = pages
        self.extractor = "pdf:test/1"
        self.warnings = ("una advertencia",)

    def __iter__(self):
        return iter(self._pages)


def _page(n: int) -> Page:
    return Page(n, f"Página {n} del acta", words=(Word("Página", 1.0, 2.0, 3.0, 4.0),),
                ocr=True, ocr_confidence=91.0)


def _counts(session) -> tuple[int, int]:
    return (session.scalar(select(func.count()).select_from(Extraction)),
            session.scalar(select(func.count()).select_from(ExtractionPage)))


@pytest.fixture
def stored(db_session):
    db_session.add(StoredFile(sha256=SHA, size=1, mime="application/pdf"))
    db_session.commit()
    return db_session


def test_pages_are_stored_as_read_and_only_their_text_is_kept(stored):
    seen_mid_way = []

    def pages():
        for n in range(1, 22):
            if n == 20:  # rows of earlier pages are in; the extraction is not findable yet
                seen_mid_way.append((_counts(stored)[1],
                                     results.find_extraction(stored, SHA, "9.9")))
            yield _page(n)

    extraction, text = results.store_pages(stored, SHA, "9.9", _Stream(pages()))

    assert seen_mid_way == [(16, None)]
    assert results.find_extraction(stored, SHA, "9.9").id == extraction.id
    assert (extraction.page_count, extraction.ocr_pages) == (21, 21)
    assert extraction.warnings == ["una advertencia"]
    assert [p.text for p in text.pages] == [f"Página {n} del acta" for n in range(1, 22)]
    assert all(p.words == () for p in text.pages)
    row = results.extraction_page(stored, extraction.id, 21)
    assert row.words == [["Página", 1.0, 2.0, 3.0, 4.0]] and row.ocr_confidence == 91.0
    assert results.text_of(stored, extraction) == text


def test_a_failure_mid_way_leaves_no_rows(stored):
    def pages():
        yield from (_page(n) for n in range(1, 12))
        raise CorruptFileError(detail="page 12")

    with pytest.raises(CorruptFileError):
        results.store_pages(stored, SHA, "9.9", _Stream(pages()))
    assert _counts(stored) == (0, 0)


def test_the_same_bytes_stored_first_elsewhere_win(stored):
    def pages():
        yield _page(1)
        # another worker finishes the same bytes while this one reads
        other = Extraction(sha256=SHA, extractor_version="9.9", extractor="x", mime="m")
        stored.add(other)
        stored.commit()
        yield _page(2)

    extraction, text = results.store_pages(stored, SHA, "9.9", _Stream(pages()))
    assert extraction.extractor == "x"
    assert len(text.pages) == 2
    assert _counts(stored) == (1, 0)
