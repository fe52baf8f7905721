"""Fixtures for the classifier tests: spaCy is loaded once per test session."""

from __future__ import annotations

import tomllib

import pytest

from extractors.document import ExtractedDocument, Page

from ..conftest import SAMPLES

#: the page break of a corpus source (``samples/corpus/README.md``)
PAGE_BREAK = "<!-- página -->"


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


def dev_source_documents(every: int = 1) -> list[ExtractedDocument]:
    """Every dev source of the corpus (or every ``every``-th, by path) as a document of its pages
    (the Markdown as written, no rendering): what the differential tests compare two readings of.
    The dev split doubled over issue 10's rounds (965 sources on 2026-12-06, 2,065 now): the
    tests that tag every source several times take every other one, about as many as they were
    written on, to keep the suite well under fifteen minutes."""
    docs = []
    for path in sorted((SAMPLES / "corpus").glob("org*/*.md"))[::every]:
        _, front, body = path.read_text(encoding="utf-8").split("+++", 2)
        if tomllib.loads(front).get("split") != "dev":
            continue
        pages = tuple(Page(n, text) for n, text in enumerate(body.split(PAGE_BREAK), 1))
        docs.append(ExtractedDocument(mime="text/markdown", extractor="test", pages=pages))
    return docs


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


@pytest.fixture
def found(classify):
    """The commitments for which the rules find a passage of evidence in a document of the given
    lines, whatever the calibration then decides: what the rules own. A one-sentence document's
    decision rests with the learned calibration, which moves as the dev pool grows (tenth round:
    a lone c4 passage of strength 1.8 in an untyped text is a positive 40 % of the time)."""
    from classifiers.engine import analyse

    def run(*lines: str) -> set[str]:
        analysis = analyse(make_doc("\n".join(lines) + "\n"))
        return {cid for cid, evidence in analysis.evidence.items() if evidence}

    return run
