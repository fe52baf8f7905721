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


@pytest.fixture
def rules(classify):
    """The commitments the rules alone find in a document of the given lines (the second stage,
    when installed, is measured by `evidencia eval`, not here)."""
    import classifiers

    def run(*lines: str) -> set[str]:
        result = classifiers.classify(make_doc("\n".join(lines) + "\n"), use_model=False)
        return {c.id for c in result.commitments if c.supported}

    return run
