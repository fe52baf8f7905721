"""What the pipeline stores, and back: extraction and classification rows ↔ the value objects.

``ExtractedDocument`` and ``Classification`` are the two public verbs' frozen results
(``extractors``, ``classifiers``). Rows are written from them and rebuilt into them field by
field, so the mapping follows their definitions (a new field of ``Page`` needs a column, and
nothing else here). Both writes tolerate a concurrent writer of the same row: the same bytes
extracted by two workers, the same document classified by two jobs.

An extraction is written as its pages are read (:func:`store_pages`): each page's row goes to
the database a few pages at a time and only its text stays in memory, for the classifier, so
a 1,000-page scan costs its text, not its word boxes. Until its last page is in, the
extraction row carries a partial version (``1.3.0~partial-<id>``) that no lookup matches.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from classifiers.result import Classification as ClassificationResult
from extractors.document import ExtractedDocument, Page
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
    "store_pages",
    "text_of",
    "texts_of",
    "classified_documents",
    "superseded",
    "forget_classifications",
    "twin_results",
    "result_values",
    "store_classifications",
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

#: Pages written to the database per statement while an extraction streams in.
PAGE_BATCH = 8
#: Marks the version of an extraction whose pages are still being written.
_PARTIAL = "~partial-"


def find_extraction(session: Session, sha256: str, version: str) -> Extraction | None:
    return session.scalar(
        select(Extraction).where(
            Extraction.sha256 == sha256, Extraction.extractor_version == version
        )
    )


def _page_values(extraction_id: int, page: Page) -> dict:
    return {
        "extraction_id": extraction_id,
        **{name: getattr(page, name) for name in _PAGE_COLUMNS},
        "words": [[w.text, w.x0, w.top, w.x1, w.bottom] for w in page.words],
    }


def store_pages(
    session: Session, sha256: str, version: str, stream, *, stale_after: float = 3600.0
) -> tuple[Extraction, ExtractedDocument]:
    """Store the pages of ``stream`` (an ``extractors.PageStream``) as they are read, committing
    every ``PAGE_BATCH`` pages; return the extraction row and the document with its pages' text
    only (word boxes stay in the rows: the classifier reads text).

    If another worker stored the same bytes first, this one's rows are dropped and that
    extraction is returned (with this one's text, identical). On any failure the partial rows
    are deleted; a worker killed mid-way leaves them until the next extraction of the same
    bytes starts ``stale_after`` seconds later (the job timeout: never a live one's rows).
    """
    started = datetime.now(UTC)
    _drop_stale_partials(session, sha256, version, started - timedelta(seconds=stale_after))
    partial = Extraction(
        sha256=sha256, extractor_version=f"{version}{_PARTIAL}{uuid.uuid4().hex[:12]}",
        extractor="", mime=stream.mime,
    )
    session.add(partial)
    session.commit()
    partial_id = partial.id
    pages: list[Page] = []
    batch: list[dict] = []
    try:
        for page in stream:
            batch.append(_page_values(partial_id, page))
            pages.append(replace(page, words=()))
            if len(batch) >= PAGE_BATCH:
                session.execute(insert(ExtractionPage), batch)
                session.commit()
                batch.clear()
        if batch:
            session.execute(insert(ExtractionPage), batch)
        text_only = ExtractedDocument(stream.mime, tuple(pages), stream.extractor,
                                      stream.warnings)
        seconds = (datetime.now(UTC) - started).total_seconds()
        try:
            with session.begin_nested():  # a savepoint: a lost race rolls back only this
                session.execute(
                    update(Extraction).where(Extraction.id == partial_id).values(
                        extractor_version=version, extractor=stream.extractor,
                        page_count=len(pages), ocr_pages=text_only.ocr_pages,
                        warnings=list(stream.warnings), seconds=seconds,
                    ))
        except sa_exc.IntegrityError:  # another worker extracted the same bytes first
            existing = find_extraction(session, sha256, version)
            if existing is None:
                raise
            _drop_extractions(session, [partial_id])
            session.commit()
            return existing, text_only
        session.commit()
    except BaseException:
        session.rollback()
        try:
            _drop_extractions(session, [partial_id])
            session.commit()
        except Exception:  # the database is away: the next extraction of these bytes cleans up
            session.rollback()
        raise
    extraction = session.get(Extraction, partial_id)
    session.refresh(extraction)
    return extraction, text_only


def _drop_stale_partials(session: Session, sha256: str, version: str, before: datetime) -> None:
    ids = list(session.scalars(select(Extraction.id).where(
        Extraction.sha256 == sha256,
        Extraction.extractor_version.like(f"{version}{_PARTIAL}%"),
        Extraction.created_at < before,
    )))
    if ids:
        _drop_extractions(session, ids)
        session.commit()


def _drop_extractions(session: Session, ids: Iterable[int]) -> None:
    ids = list(ids)
    session.execute(delete(ExtractionPage).where(ExtractionPage.extraction_id.in_(ids)))
    session.execute(delete(Extraction).where(Extraction.id.in_(ids)))


def text_of(session: Session, extraction: Extraction) -> ExtractedDocument:
    """The classifier's input from a stored extraction: every page's fields but its word boxes
    (read column by column, so a long document's boxes are never loaded)."""
    columns = [getattr(ExtractionPage, name) for name in _PAGE_COLUMNS]
    rows = session.execute(
        select(*columns).where(ExtractionPage.extraction_id == extraction.id)
        .order_by(ExtractionPage.number)
    )
    return ExtractedDocument(
        mime=extraction.mime,
        extractor=extraction.extractor,
        warnings=tuple(extraction.warnings or ()),
        pages=tuple(Page(**dict(zip(_PAGE_COLUMNS, row, strict=True))) for row in rows),
    )


def texts_of(session: Session, extraction_ids: Iterable[int]) -> dict[int, ExtractedDocument]:
    """Many extractions' text (as :func:`text_of`) in two queries, for a reprocessing chunk."""
    ids = sorted(set(extraction_ids))
    if not ids:
        return {}
    # the heads' columns, not ORM objects: one reprocessing chunk loads hundreds of them
    heads = {row.id: row for row in session.execute(
        select(Extraction.id, Extraction.mime, Extraction.extractor, Extraction.warnings)
        .where(Extraction.id.in_(ids)))}
    columns = [getattr(ExtractionPage, name) for name in _PAGE_COLUMNS]
    pages: dict[int, list[Page]] = {i: [] for i in heads}
    for row in session.execute(
        select(ExtractionPage.extraction_id, *columns)
        .where(ExtractionPage.extraction_id.in_(ids))
        .order_by(ExtractionPage.extraction_id, ExtractionPage.number)
    ):
        pages[row[0]].append(Page(**dict(zip(_PAGE_COLUMNS, row[1:], strict=True))))
    return {
        i: ExtractedDocument(mime=e.mime, extractor=e.extractor,
                             warnings=tuple(e.warnings or ()), pages=tuple(pages[i]))
        for i, e in heads.items()
    }


def classified_documents(session: Session, document_ids: Iterable[str], version: str) -> set[str]:
    """Which of these documents already show a classification under ``version``: their newest
    (the one the matrix counts) is under it. A document classified under ``version`` before a
    later version (a classifier taken back) is not among them: see :func:`superseded`."""
    return set(session.scalars(select(Classification.document_id).where(
        Classification.id.in_(_newest_ids(document_ids)),
        Classification.classifier_version == version,
    )))


def superseded(session: Session, document_ids: Iterable[str], version: str) -> list[int]:
    """Classifications under ``version`` of these documents that a later version's hides (the
    classifier went back to ``version``): reclassifying deletes them and stores the result
    again, newest, so the matrix shows the version in force."""
    return list(session.scalars(select(Classification.id).where(
        Classification.document_id.in_(list(document_ids)),
        Classification.classifier_version == version,
        Classification.id.not_in(_newest_ids(document_ids)),
    )))


def forget_classifications(session: Session, classification_ids: list[int]) -> None:
    """Delete these classifications and their results (not committed)."""
    if classification_ids:
        session.execute(delete(CommitmentResult).where(
            CommitmentResult.classification_id.in_(classification_ids)))
        session.execute(delete(Classification).where(Classification.id.in_(classification_ids)))


def _newest_ids(document_ids: Iterable[str]):
    """The id of each document's newest classification (a subquery)."""
    return (select(func.max(Classification.id))
            .where(Classification.document_id.in_(list(document_ids)))
            .group_by(Classification.document_id))


def twin_results(session: Session, extraction_ids: Iterable[int], version: str
                 ) -> dict[int, tuple[str, list[dict]]]:
    """extraction id -> (doc type, result values) of a classification under ``version`` of some
    document with that extraction: the same text needs no second run (see
    :func:`twin_classification`)."""
    out: dict[int, tuple[str, list[dict]]] = {}
    ids = sorted(set(extraction_ids))
    if not ids:
        return out
    # the documents with these texts first, then their classifications through the index on
    # (document, version): the plain join let SQLite scan every version's classifications once
    # per chunk. The lowest id first, as that scan read them.
    found = session.execute(
        select(Document.extraction_id, Classification.id, Classification.doc_type)
        .join(Classification, Classification.document_id == Document.id)
        .where(Classification.document_id.in_(
                   select(Document.id).where(Document.extraction_id.in_(ids))),
               Classification.classifier_version == version)
        .order_by(Classification.id)
    ).all()
    first = {}
    for extraction_id, classification_id, doc_type in found:
        first.setdefault(extraction_id, (classification_id, doc_type))
    rows: dict[int, list[dict]] = {cid: [] for cid, _t in first.values()}
    # columns, not ORM objects: a chunk of twins is hundreds of rows
    for r in session.execute(select(
            CommitmentResult.classification_id, CommitmentResult.commitment,
            CommitmentResult.supported, CommitmentResult.confidence,
            CommitmentResult.rules_supported, CommitmentResult.evidence)
            .where(CommitmentResult.classification_id.in_(list(rows)))
            .order_by(CommitmentResult.commitment)):
        rows[r.classification_id].append({
            "commitment": r.commitment, "supported": r.supported, "confidence": r.confidence,
            "rules_supported": r.rules_supported, "evidence": list(r.evidence or [])})
    for extraction_id, (cid, doc_type) in first.items():
        out[extraction_id] = (doc_type, rows[cid])
    return out


def result_values(result: ClassificationResult) -> list[dict]:
    """A classifier result's commitment rows as plain values (for bulk inserts)."""
    return [
        {"commitment": c.id, "supported": c.supported, "confidence": c.confidence,
         "rules_supported": c.rules_supported,
         "evidence": [{"text": e.text, "page": e.page, "pattern_ids": list(e.pattern_ids),
                       "score": e.score} for e in c.evidence]}
        for c in result.commitments
    ]


def store_classifications(session: Session, version: str,
                          items: list[tuple[str, str, str, list[dict]]]) -> None:
    """Store many classifications under ``version`` in a few statements, not committed:
    ``items`` are (document id, submission id, doc type, result values). The documents'
    ``doc_type`` follows (the newest result is the one the matrix shows) and their submissions'
    version stamps move, in the same transaction. A document classified meanwhile by another
    job makes the whole batch fail with IntegrityError (the caller goes one by one then)."""
    from service.domain.models import bump_versions

    if not items:
        return
    now = datetime.now(UTC)
    # Core statements on the session's connection: the ORM's bulk forms cost as much again in
    # Python for the same SQL (no object of these rows is in the session)
    connection = session.connection()
    classifications = Classification.__table__
    # one executemany, then the new rows' ids read back by (document, version), which is
    # unique: an INSERT … RETURNING in parameter order runs one statement a row on SQLite
    # (2,000 statements for a 2,000-document reprocess)
    connection.execute(
        insert(classifications),
        [{"document_id": d, "classifier_version": version, "doc_type": t, "created_at": now}
         for d, _s, t, _r in items],
    )
    by_document = dict(connection.execute(
        select(classifications.c.document_id, classifications.c.id).where(
            classifications.c.classifier_version == version,
            classifications.c.document_id.in_([d for d, _s, _t, _r in items]))).all())
    connection.execute(insert(CommitmentResult.__table__), [
        {**values, "classification_id": by_document[d]} for d, _s, _t, rows in items
        for values in rows
    ])
    documents = Document.__table__
    connection.execute(
        update(documents).where(documents.c.id == bindparam("document_id"))
        .values(doc_type=bindparam("new_doc_type")),
        [{"document_id": d, "new_doc_type": t} for d, _s, t, _r in items])
    bump_versions(session, submissions={s for _d, s, _t, _r in items})


def load_extracted(session: Session, extraction_id: int) -> ExtractedDocument:
    """The classifier's input rebuilt from a stored extraction (rows, not files; text, not
    word boxes)."""
    extraction = session.get(Extraction, extraction_id)
    if extraction is None:
        raise NotFoundError(detail=f"extraction {extraction_id} not found")
    return text_of(session, extraction)


def find_classification(session: Session, document_id: str, version: str):
    return session.scalar(
        select(Classification).where(
            Classification.document_id == document_id,
            Classification.classifier_version == version,
        )
    )


def _result_rows(result: ClassificationResult) -> list[CommitmentResult]:
    return [CommitmentResult(**values) for values in result_values(result)]


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
                             confidence=r.confidence, evidence=list(r.evidence or []),
                             rules_supported=r.rules_supported)
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
