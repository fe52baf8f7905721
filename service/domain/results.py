"""What the pipeline stores, and back: extraction and classification rows ↔ the value objects.

``ExtractedDocument`` and ``Classification`` are the two public verbs' frozen results
(``extractors``, ``classifiers``). Rows are written from them and rebuilt into them field by
field, so the mapping follows their definitions (a new field of ``Page`` needs a column, and
nothing else here). Both writes tolerate a concurrent writer of the same row: the same bytes
extracted by two workers, the same document classified by two jobs.
"""

from __future__ import annotations

from dataclasses import asdict, fields

from sqlalchemy import exc as sa_exc
from sqlalchemy import select
from sqlalchemy.orm import Session

from classifiers.result import Classification as ClassificationResult
from extractors.document import ExtractedDocument, Page, Word
from service.domain.errors import NotFoundError
from service.domain.models import (
    Classification,
    CommitmentResult,
    Document,
    Extraction,
    ExtractionPage,
)

__all__ = [
    "find_extraction",
    "store_extraction",
    "extracted_from_row",
    "load_extracted",
    "find_classification",
    "store_classification",
    "drop_classification",
    "copy_classification",
    "twin_classification",
    "extraction_page",
]

#: Page fields stored as columns of the same name (``words`` is stored as lists).
_PAGE_COLUMNS = tuple(f.name for f in fields(Page) if f.name != "words")


def find_extraction(session: Session, sha256: str, version: str) -> Extraction | None:
    return session.scalar(
        select(Extraction).where(
            Extraction.sha256 == sha256, Extraction.extractor_version == version
        )
    )


def _page_row(page: Page) -> ExtractionPage:
    return ExtractionPage(
        **{name: getattr(page, name) for name in _PAGE_COLUMNS},
        words=[[w.text, w.x0, w.top, w.x1, w.bottom] for w in page.words],
    )


def store_extraction(
    session: Session, sha256: str, version: str, extracted: ExtractedDocument, seconds: float
) -> Extraction:
    """Store the extraction of these bytes; if another worker stored it first, return that one."""
    extraction = Extraction(
        sha256=sha256,
        extractor_version=version,
        extractor=extracted.extractor,
        mime=extracted.mime,
        page_count=len(extracted.pages),
        ocr_pages=extracted.ocr_pages,
        warnings=list(extracted.warnings),
        seconds=seconds,
        pages=[_page_row(p) for p in extracted.pages],
    )
    try:
        with session.begin_nested():  # a savepoint: a lost race rolls back only this
            session.add(extraction)
    except sa_exc.IntegrityError:  # another worker extracted the same bytes first
        existing = find_extraction(session, sha256, version)
        if existing is None:
            raise
        return existing
    session.commit()
    return extraction


def extracted_from_row(extraction: Extraction) -> ExtractedDocument:
    """Rebuild the extractor's value object from stored rows (no file read, no OCR)."""
    return ExtractedDocument(
        mime=extraction.mime,
        extractor=extraction.extractor,
        warnings=tuple(extraction.warnings or ()),
        pages=tuple(
            Page(
                **{name: getattr(p, name) for name in _PAGE_COLUMNS},
                words=tuple(Word(*w[:5]) for w in (p.words or ())),
            )
            for p in extraction.pages
        ),
    )


def load_extracted(session: Session, extraction_id: int) -> ExtractedDocument:
    """The classifier's input rebuilt from a stored extraction (rows, not files)."""
    extraction = session.get(Extraction, extraction_id)
    if extraction is None:
        raise NotFoundError(detail=f"extraction {extraction_id} not found")
    return extracted_from_row(extraction)


def find_classification(session: Session, document_id: str, version: str):
    return session.scalar(
        select(Classification).where(
            Classification.document_id == document_id,
            Classification.classifier_version == version,
        )
    )


def _result_rows(result: ClassificationResult) -> list[CommitmentResult]:
    return [
        CommitmentResult(
            commitment=c.id,
            supported=c.supported,
            confidence=c.confidence,
            evidence=[
                {**asdict(e), "pattern_ids": list(e.pattern_ids)} for e in c.evidence
            ],
        )
        for c in result.commitments
    ]


def store_classification(
    session: Session, document: Document, result: ClassificationResult
) -> Classification:
    """Store the document's classification; if a concurrent job stored it first, that one.

    Earlier versions' rows are kept. Commits (the caller's pending changes go with it).
    """
    row = Classification(
        document_id=document.id,
        classifier_version=result.classifier_version,
        doc_type=result.doc_type,
        results=_result_rows(result),
    )
    try:
        with session.begin_nested():
            session.add(row)
    except sa_exc.IntegrityError:  # the same document classified concurrently
        existing = find_classification(session, document.id, result.classifier_version)
        if existing is None:
            raise
        return existing
    session.commit()
    session.expire(document, ["classifications"])
    return row


def drop_classification(session: Session, document_id: str, version: str) -> None:
    """Forget the document's classification under ``version`` (its text was read anew), so
    the next classification replaces it; other versions' rows stay."""
    row = find_classification(session, document_id, version)
    if row is not None:
        session.delete(row)
        session.flush()


def twin_classification(session: Session, document: Document, version: str):
    """A classification under ``version`` of another document with the same extraction (the
    same bytes found in two places): the classification is a function of the text alone."""
    return session.scalar(
        select(Classification)
        .join(Document, Classification.document_id == Document.id)
        .where(
            Document.extraction_id == document.extraction_id,
            Document.id != document.id,
            Classification.classifier_version == version,
        )
        .limit(1)
    )


def copy_classification(session: Session, document: Document, source: Classification):
    row = Classification(
        document_id=document.id,
        classifier_version=source.classifier_version,
        doc_type=source.doc_type,
        results=[
            CommitmentResult(commitment=r.commitment, supported=r.supported,
                             confidence=r.confidence, evidence=list(r.evidence or []))
            for r in source.results
        ],
    )
    session.add(row)
    session.flush()
    return row


def extraction_page(session: Session, extraction_id: int, number: int) -> ExtractionPage | None:
    """One stored page (text, word boxes, rotation) of an extraction."""
    return session.scalar(
        select(ExtractionPage).where(
            ExtractionPage.extraction_id == extraction_id, ExtractionPage.number == number
        )
    )
