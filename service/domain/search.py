"""Reviewers' search: organisation name, RUT in any format, and the documents' extracted text.

One search, two databases. Case and accents never count: names are compared through
``evidencia_fold`` (lower case without accents: a SQL function from the migrations on
PostgreSQL, registered by ``service.db`` on SQLite), a RUT is compared by its digits
(``rut.rut_fragment``), and page text goes through each database's full-text search: PostgreSQL's
``evidencia_es`` configuration (``unaccent``, then Spanish stemming: "capacitaciones" finds
"capacitación") kept per page in a stored ``search_vector`` column with a GIN index, SQLite's
FTS5 table ``page_search`` (``remove_diacritics``; every word matched as a prefix). Both are
built by migrations ``0003_search`` and ``0009_search_vector``.

:func:`matching_submissions` is the condition (the reviewers' list filters with it);
:func:`search` gives one page of hits for the API; :func:`excerpts` the passages with their page
that show why a submission matched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Integer,
    bindparam,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    union,
)
from sqlalchemy.orm import Session

from service.domain.models import Document, ExtractionPage, Organization, Submission
from service.domain.rut import rut_fragment
from service.domain.text import fold

__all__ = [
    "MAX_QUERY_CHARS",
    "MAX_OFFSET",
    "Excerpt",
    "SearchHit",
    "SearchResults",
    "clean_query",
    "matching_submissions",
    "excerpts",
    "search",
]

#: Longest query kept: longer adds nothing a reviewer means, and costs the database.
MAX_QUERY_CHARS = 200
#: Furthest a page of results may start (a bigger number is a typo or a probe, not a reader).
MAX_OFFSET = 100_000
#: Passages shown per submission.
EXCERPTS_PER_SUBMISSION = 3

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_WORD = re.compile(r"\w+")
#: Marks around the matched words in a passage (control characters: stripped from page text).
_START, _STOP = "\x02", "\x03"
_CONFIG = literal_column("'evidencia_es'::regconfig")
_VECTOR = literal_column("extraction_pages.search_vector")


@dataclass(frozen=True, slots=True)
class Excerpt:
    """A passage of a page that matched, split into (text, matched) parts for highlighting."""

    document_id: str
    document: str
    page: int
    parts: tuple[tuple[str, bool], ...]

    @property
    def snippet(self) -> str:
        return "".join(part for part, _ in self.parts)


@dataclass(frozen=True, slots=True)
class SearchHit:
    submission_id: str
    organization: str
    rut: str | None
    created_at: datetime | None
    #: the organisation's name or RUT matched (else only the documents' text did)
    organization_matched: bool
    excerpts: tuple[Excerpt, ...]


@dataclass(frozen=True, slots=True)
class SearchResults:
    query: str
    total: int
    offset: int
    limit: int
    hits: tuple[SearchHit, ...]


def clean_query(query: str | None) -> str:
    """The query as searched: control characters (a NUL byte…) dropped, spaces collapsed, at
    most ``MAX_QUERY_CHARS``."""
    return " ".join(_CONTROL.sub(" ", query or "").split())[:MAX_QUERY_CHARS]


def _words(query: str) -> list[str]:
    return _WORD.findall(fold(query))


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _organization_condition(query: str):
    """Name contains the query (folded), or the RUT contains its digits."""
    conditions = [func.evidencia_fold(Organization.name).contains(fold(query), autoescape=True)]
    fragment = rut_fragment(query)
    if fragment:
        conditions.append(func.replace(Organization.rut, "-", "").contains(fragment))
    return or_(*conditions)


def _fts_query(words: list[str]) -> str:
    """FTS5 syntax for "every word, each as a prefix", quoted so nothing typed is an operator."""
    return " ".join(f'"{w}"*' for w in words)


def _matching_pages(session: Session, words: list[str]):
    """Condition on ``ExtractionPage``: its text holds every word."""
    if _is_postgres(session):  # the page's stored tsvector (migration 0009_search_vector)
        return _VECTOR.op("@@")(func.plainto_tsquery(_CONFIG, " ".join(words)))
    rows = text("SELECT rowid FROM page_search WHERE page_search MATCH :fts").bindparams(
        fts=_fts_query(words)
    ).columns(rowid=Integer)
    return ExtractionPage.id.in_(rows)


def _text_hits(session: Session, words: list[str]):
    """(submission id, document id, page id, page number, order) of every matching page."""
    return (
        select(
            Document.submission_id.label("sid"),
            Document.id.label("document_id"),
            Document.name.label("document"),
            ExtractionPage.id.label("page_id"),
            ExtractionPage.number.label("number"),
            Document.created_at.label("created_at"),
        )
        .join(ExtractionPage, ExtractionPage.extraction_id == Document.extraction_id)
        .where(Document.removed_at.is_(None), _matching_pages(session, words))
    )


def matching_submissions(session: Session, query: str):
    """A select of the ids of the submissions the query finds (empty query: none)."""
    query = clean_query(query)
    by_organization = (
        select(Submission.id.label("sid"))
        .join(Organization, Organization.id == Submission.organization_id)
        .where(_organization_condition(query))
    )
    words = _words(query)
    if not query:
        return by_organization.where(literal(False))
    if not words:
        return by_organization
    by_text = _text_hits(session, words).with_only_columns(Document.submission_id.label("sid"))
    return union(by_organization, by_text)


def excerpts(
    session: Session, query: str, submission_ids: list[str], per_submission: int = (
        EXCERPTS_PER_SUBMISSION)
) -> dict[str, tuple[Excerpt, ...]]:
    """Up to ``per_submission`` passages per submission, in document and page order, with the
    matched words marked; a page shared by two documents (the same file twice) shown once."""
    words = _words(clean_query(query))
    if not words or not submission_ids:
        return {}
    hits = _text_hits(session, words).where(Document.submission_id.in_(submission_ids)).add_columns(
        func.row_number().over(
            partition_by=Document.submission_id,
            order_by=(Document.created_at, Document.id, ExtractionPage.number),
        ).label("rn")
    ).subquery()
    rows = session.execute(
        select(hits).where(hits.c.rn <= per_submission * 4).order_by(hits.c.sid, hits.c.rn)
    ).all()
    chosen: dict[str, list] = {}
    for row in rows:
        shown = chosen.setdefault(row.sid, [])
        if len(shown) < per_submission and all(r.page_id != row.page_id for r in shown):
            shown.append(row)
    snippets = _snippets(session, words, [r.page_id for rs in chosen.values() for r in rs])
    return {
        sid: tuple(
            Excerpt(r.document_id, r.document, r.number, _parts(snippets.get(r.page_id, "")))
            for r in rs
        )
        for sid, rs in chosen.items()
    }


def _snippets(session: Session, words: list[str], page_ids: list[int]) -> dict[int, str]:
    """Page id -> a short passage around the matched words, marked with ``_START``/``_STOP``."""
    if not page_ids:
        return {}
    if _is_postgres(session):
        options = f"StartSel={_START}, StopSel={_STOP}, MaxWords=30, MinWords=12"
        rows = session.execute(
            select(
                ExtractionPage.id,
                func.ts_headline(_CONFIG, ExtractionPage.text,
                                 func.plainto_tsquery(_CONFIG, " ".join(words)), options),
            ).where(ExtractionPage.id.in_(page_ids))
        )
    else:
        statement = text(
            "SELECT rowid, snippet(page_search, 0, char(2), char(3), '…', 24) "
            "FROM page_search WHERE page_search MATCH :fts AND rowid IN :ids"
        ).bindparams(bindparam("ids", expanding=True))
        rows = session.execute(statement, {"fts": _fts_query(words), "ids": page_ids})
    return {page_id: snippet or "" for page_id, snippet in rows}


def _parts(snippet: str) -> tuple[tuple[str, bool], ...]:
    """``"a \\x02b\\x03 c"`` → ``(("a ", False), ("b", True), (" c", False))``, whitespace
    collapsed."""
    parts = []
    for i, piece in enumerate(re.split(f"[{_START}{_STOP}]", snippet)):
        piece = re.sub(r"\s+", " ", _CONTROL.sub(" ", piece))
        if piece:
            parts.append((piece, i % 2 == 1))
    return tuple(parts)


def search(session: Session, query: str, *, offset: int = 0, limit: int = 20) -> SearchResults:
    """One page of the submissions the query finds: those whose organisation matched first,
    then the newest; each with the passages that matched."""
    query = clean_query(query)
    offset = min(max(offset, 0), MAX_OFFSET)
    matching = matching_submissions(session, query).subquery()
    total = session.scalar(select(func.count()).select_from(matching)) or 0
    direct = Submission.id.in_(
        select(Submission.id)
        .join(Organization, Organization.id == Submission.organization_id)
        .where(_organization_condition(query))
    ) if query else literal(False)
    rows = session.execute(
        select(Submission.id, Organization.name, Organization.rut, Submission.created_at,
               direct.label("direct"))
        .join(Organization, Organization.id == Submission.organization_id)
        .where(Submission.id.in_(select(matching.c.sid)))
        .order_by(direct.desc(), Submission.created_at.desc(), Submission.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    found = excerpts(session, query, [r.id for r in rows])
    hits = tuple(
        SearchHit(r.id, r.name, r.rut, r.created_at, bool(r.direct), found.get(r.id, ()))
        for r in rows
    )
    return SearchResults(query, int(total), offset, limit, hits)
