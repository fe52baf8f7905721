"""Fixtures for the classifier tests: spaCy is loaded once per test session."""

from __future__ import annotations

import pytest

from extractors.document import ExtractedDocument, Page


@pytest.fixture(scope="session")
def classify():
    import classifiers

    classifiers.load()
    return classifiers.classify


def make_doc(*pages: str, ocr: bool = False) -> ExtractedDocument:
    """A document whose pages hold the given texts (lines separated by newlines)."""
    return ExtractedDocument(
        mime="text/plain",
        pages=tuple(Page(number=i, text=t, ocr=ocr) for i, t in enumerate(pages, 1)),
        extractor="test",
    )


@pytest.fixture
def doc():
    return make_doc
