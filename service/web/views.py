"""Read-side queries the pages need, shaped for templates.

The pages read the database directly (it is the source of truth) with a few queries per page:
the reviewers' list aggregates in SQL so it stays fast with thousands of submissions; a
submission page loads its documents with their current classification (the newest one).
Decisions are written only through ``service.submissions.record_decision``.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, distinct, func, or_, select
from sqlalchemy.orm import Session, aliased, selectinload

from classifiers.result import COMMITMENT_IDS
from service.matrix import current_classification
from service.models import (
    Classification,
    CommitmentResult,
    Decision,
    Document,
    ExtractionPage,
    Organization,
    ReviewFlag,
    Submission,
)
from service.rut import format_rut  # noqa: F401 - the pages' filter

__all__ = [
    "Cell",
    "DocumentRow",
    "CommitmentRow",
    "SubmissionView",
    "load_submission_view",
    "list_submissions",
    "ListQuery",
    "highlight_boxes",
    "highlight_text",
    "PENDING_STATUSES",
]

PENDING_STATUSES = ("queued", "processing")
#: Actions that make a commitment count as fulfilled.
POSITIVE_ACTIONS = ("confirm", "attach")


@dataclass
class Cell:
    supported: bool
    confidence: float
    evidence: list[dict]

    @property
    def best(self) -> dict | None:
        return self.evidence[0] if self.evidence else None


@dataclass
class DocumentRow:
    id: str
    name: str
    status: str
    stage: str
    stage_detail: str | None
    error: str | None
    doc_type: str | None
    size: int
    mime: str | None
    pages: int
    ocr_pages: int
    created_at: datetime | None
    cells: dict[str, Cell] = field(default_factory=dict)

    @property
    def pending(self) -> bool:
        return self.status in PENDING_STATUSES

    @property
    def short_name(self) -> str:
        return self.name.rsplit("/", 1)[-1]


@dataclass
class CommitmentRow:
    id: str
    detected: bool
    confidence: float
    #: (document row, evidence dict) best first, across documents
    evidence: list[tuple[DocumentRow, dict]]
    decision: Decision | None
    flags: list[ReviewFlag]

    @property
    def status(self) -> str:
        """'confirmed' | 'rejected' | 'pending' (what the reviewer decided last)."""
        if self.decision is None:
            return "pending"
        return "confirmed" if self.decision.action in POSITIVE_ACTIONS else "rejected"

    @property
    def best(self) -> tuple[DocumentRow, dict] | None:
        return self.evidence[0] if self.evidence else None


@dataclass
class SubmissionView:
    submission: Submission
    documents: list[DocumentRow]
    commitments: list[CommitmentRow]
    history: list[Decision]

    @property
    def pending(self) -> bool:
        return any(d.pending for d in self.documents)

    @property
    def n_detected(self) -> int:
        return sum(1 for c in self.commitments if c.detected)

    @property
    def n_confirmed(self) -> int:
        return sum(1 for c in self.commitments if c.status == "confirmed")

    @property
    def n_errors(self) -> int:
        return sum(1 for d in self.documents if d.status == "error")

    @property
    def n_pending(self) -> int:
        return sum(1 for d in self.documents if d.pending)

    @property
    def n_done(self) -> int:
        return sum(1 for d in self.documents if d.status == "done")


def load_submission_view(session: Session, submission_id: str) -> SubmissionView | None:
    sub = session.get(
        Submission,
        submission_id,
        options=[
            selectinload(Submission.organization),
            selectinload(Submission.documents)
            .selectinload(Document.classifications)
            .selectinload(Classification.results),
            selectinload(Submission.documents).selectinload(Document.extraction),
        ],
    )
    if sub is None:
        return None
    docs: list[DocumentRow] = []
    for d in sub.documents:
        ext = d.extraction
        row = DocumentRow(
            id=d.id,
            name=d.name,
            status=d.status,
            stage=d.stage,
            stage_detail=d.stage_detail,
            error=d.error,
            doc_type=d.doc_type,
            size=d.size or 0,
            mime=d.mime,
            pages=ext.page_count if ext else 0,
            ocr_pages=ext.ocr_pages if ext else 0,
            created_at=d.created_at,
        )
        cls = current_classification(d)
        if cls is not None:
            row.doc_type = row.doc_type or cls.doc_type
            for r in cls.results:
                row.cells[r.commitment] = Cell(r.supported, r.confidence, list(r.evidence or []))
        docs.append(row)

    history = list(
        session.scalars(
            select(Decision)
            .options(selectinload(Decision.reviewer))
            .where(Decision.submission_id == submission_id)
            .order_by(Decision.id.desc())
        )
    )
    flags = list(
        session.scalars(
            select(ReviewFlag)
            .where(ReviewFlag.submission_id == submission_id, ReviewFlag.resolved_at.is_(None))
            .order_by(ReviewFlag.id)
        )
    )
    commitments = []
    for cid in COMMITMENT_IDS:
        supporting = [(d, d.cells[cid]) for d in docs if cid in d.cells and d.cells[cid].supported]
        supporting.sort(key=lambda pair: pair[1].confidence, reverse=True)
        # best passage first, as the API's matrix and the exports order them
        evidence = sorted(
            ((d, e) for d, cell in supporting for e in cell.evidence),
            key=lambda pair: (float(pair[1].get("score") or 0.0), pair[0].cells[cid].confidence),
            reverse=True,
        )
        confidences = [d.cells[cid].confidence for d in docs if cid in d.cells]
        best_conf = max((c.confidence for _, c in supporting), default=None)
        if best_conf is None:
            # not detected anywhere: how sure we are it is absent (the weakest "no")
            best_conf = min(confidences, default=0.0)
        decision = next((h for h in history if h.commitment == cid), None)
        commitments.append(
            CommitmentRow(
                id=cid,
                detected=bool(supporting),
                confidence=best_conf,
                evidence=evidence,
                decision=decision,
                flags=[f for f in flags if f.commitment == cid],
            )
        )
    return SubmissionView(sub, docs, commitments, history)


# --- the reviewers' list -------------------------------------------------------------------

FILTERS = ("todas", "pendientes", "falta", "errores")
PAGE_SIZE = 50


@dataclass
class ListQuery:
    filtro: str = "todas"
    orden: str = "fecha"
    desc: bool = True
    pagina: int = 1
    buscar: str = ""
    page_size: int = PAGE_SIZE


@dataclass
class ListRow:
    id: str
    organization: str
    rut: str | None
    created_at: datetime
    n_documents: int
    n_errors: int
    n_pending: int
    n_detected: int
    n_confirmed: int
    n_decided: int


def _detected_per_submission(ids=None):
    """(sid, n) commitments found by each document's newest classification, grouped.

    "Newest" is said with NOT EXISTS (no later classification of the same document), which
    both SQLite (index probe) and PostgreSQL (anti-join) answer in one pass.
    """
    newer = aliased(Classification)
    q = (
        select(
            Document.submission_id.label("sid"),
            func.count(distinct(CommitmentResult.commitment)).label("n"),
        )
        .join(Classification, Classification.document_id == Document.id)
        .join(CommitmentResult, CommitmentResult.classification_id == Classification.id)
        .where(
            Document.status == "done",
            CommitmentResult.supported.is_(True),
            ~select(newer.id)
            .where(newer.document_id == Classification.document_id, newer.id > Classification.id)
            .exists(),
        )
        .group_by(Document.submission_id)
    )
    if ids is not None:
        q = q.where(Document.submission_id.in_(ids))
    return q.subquery("detected")


def _confirmed_per_submission(ids=None):
    """(sid, n) commitments whose latest decision says fulfilled, and (sid, decided)."""
    later = aliased(Decision)
    q = (
        select(
            Decision.submission_id.label("sid"),
            func.count(Decision.id).label("decided"),
            func.sum(case((Decision.action.in_(POSITIVE_ACTIONS), 1), else_=0)).label("n"),
        )
        .where(
            ~select(later.id)
            .where(
                later.submission_id == Decision.submission_id,
                later.commitment == Decision.commitment,
                later.id > Decision.id,
            )
            .exists()
        )
        .group_by(Decision.submission_id)
    )
    if ids is not None:
        q = q.where(Decision.submission_id.in_(ids))
    return q.subquery("confirmed")


def _documents_per_submission(ids=None):
    q = select(
        Document.submission_id.label("sid"),
        func.count(Document.id).label("n"),
        func.sum(case((Document.status == "error", 1), else_=0)).label("errors"),
        func.sum(case((Document.status.in_(PENDING_STATUSES), 1), else_=0)).label("pending"),
    ).group_by(Document.submission_id)
    if ids is not None:
        q = q.where(Document.submission_id.in_(ids))
    return q.subquery("documents")


def list_submissions(session: Session, q: ListQuery) -> tuple[list[ListRow], int]:
    """One page of the reviewers' list and the total number of rows matching the filter.

    Two steps keep it fast with thousands of submissions: the page's ids are chosen with
    semi-joins for the filters and at most one grouped count for the sort; the counts shown
    are then computed for those (at most ``page_size``) ids only.
    """
    n = len(COMMITMENT_IDS)
    base = select(Submission.id).join(
        Organization, Organization.id == Submission.organization_id
    )
    joined: dict = {}

    def grouped(name: str):
        """Outer-join one grouped count subquery, once, for a filter or the sort."""
        if name not in joined:
            build = {"documents": _documents_per_submission,
                     "detected": _detected_per_submission,
                     "confirmed": _confirmed_per_submission}[name]
            joined[name] = build()
        return joined[name]

    conditions = []
    if q.filtro == "pendientes":
        fully_decided = (
            select(Decision.submission_id)
            .group_by(Decision.submission_id)
            .having(func.count(distinct(Decision.commitment)) >= n)
        )
        conditions += [
            Submission.id.in_(select(Document.submission_id)),
            Submission.id.not_in(fully_decided),
        ]
    elif q.filtro == "falta":
        conditions.append(func.coalesce(grouped("detected").c.n, 0) < n)
    elif q.filtro == "errores":
        conditions.append(
            Submission.id.in_(select(Document.submission_id).where(Document.status == "error"))
        )
    if q.buscar:
        like = f"%{q.buscar.strip()}%"
        conditions.append(or_(Organization.name.ilike(like), Organization.rut.ilike(like)))

    if q.orden in ("documentos", "errores"):
        agg = grouped("documents")
        col = func.coalesce(agg.c.n if q.orden == "documentos" else agg.c.errors, 0)
    elif q.orden == "detectados":
        col = func.coalesce(grouped("detected").c.n, 0)
    elif q.orden == "confirmados":
        col = func.coalesce(grouped("confirmed").c.n, 0)
    else:
        col = Organization.name if q.orden == "organizacion" else Submission.created_at
    for agg in joined.values():
        base = base.outerjoin(agg, agg.c.sid == Submission.id)
    base = base.where(*conditions)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0

    page = max(q.pagina, 1)
    ids = list(
        session.scalars(
            base.order_by(col.desc() if q.desc else col.asc(), Submission.id.desc())
            .limit(q.page_size)
            .offset((page - 1) * q.page_size)
        )
    )
    if not ids:
        return [], int(total)

    docs = _documents_per_submission(ids)
    detected = _detected_per_submission(ids)
    confirmed = _confirmed_per_submission(ids)
    found = session.execute(
        select(
            Submission.id,
            Organization.name,
            Organization.rut,
            Submission.created_at,
            func.coalesce(docs.c.n, 0),
            func.coalesce(docs.c.errors, 0),
            func.coalesce(docs.c.pending, 0),
            func.coalesce(detected.c.n, 0),
            func.coalesce(confirmed.c.n, 0),
            func.coalesce(confirmed.c.decided, 0),
        )
        .join(Organization, Organization.id == Submission.organization_id)
        .outerjoin(docs, docs.c.sid == Submission.id)
        .outerjoin(detected, detected.c.sid == Submission.id)
        .outerjoin(confirmed, confirmed.c.sid == Submission.id)
        .where(Submission.id.in_(ids))
    ).all()
    position = {sid: i for i, sid in enumerate(ids)}
    rows = sorted(found, key=lambda r: position[r[0]])
    return [ListRow(*(r[:4]), *(int(v) for v in r[4:])) for r in rows], int(total)


# --- highlighting evidence ---------------------------------------------------------------

_TOKEN = re.compile(r"\w+", re.UNICODE)


def _norm(token: str) -> str:
    decomposed = unicodedata.normalize("NFKD", token.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _tokens(text: str) -> list[str]:
    return [_norm(t) for t in _TOKEN.findall(text)]


def highlight_boxes(words: list, passages: list[str], width: float, height: float) -> list[dict]:
    """Boxes (in % of the page) of the words that make up each passage.

    ``words`` are ``[text, x0, top, x1, bottom]`` in points from the top-left. Passages are
    matched as token sequences (accents and case ignored, OCR slips tolerated by difflib), so
    a passage found on the page lights up even when a word or two were misread.
    """
    if not words or not width or not height:
        return []
    word_tokens = []
    for i, w in enumerate(words):
        toks = _tokens(str(w[0]))
        word_tokens.extend((t, i) for t in toks)
    seq = [t for t, _ in word_tokens]
    boxes = []
    for n, passage in enumerate(passages):
        ptoks = _tokens(passage)
        if not ptoks:
            continue
        matcher = difflib.SequenceMatcher(None, seq, ptoks, autojunk=False)
        hit: set[int] = set()
        for block in matcher.get_matching_blocks():
            if block.size >= 2 or (block.size == 1 and len(ptoks) == 1):
                hit.update(word_tokens[k][1] for k in range(block.a, block.a + block.size))
        for i in sorted(hit):
            _, x0, top, x1, bottom = words[i][:5]
            boxes.append(
                {
                    "passage": n,
                    "left": 100 * float(x0) / width,
                    "top": 100 * float(top) / height,
                    "width": 100 * max(float(x1) - float(x0), 1) / width,
                    "height": 100 * max(float(bottom) - float(top), 1) / height,
                }
            )
    return boxes


def highlight_text(text: str, passages: list[str]) -> list[tuple[str, int | None]]:
    """Split page text into (segment, passage index or None) so templates can <mark> it.

    Segments are plain strings; the template escapes them. Matching ignores case, accents and
    whitespace differences by mapping a normalised copy back to the original offsets.
    """
    if not text:
        return []
    norm_chars: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        n = _norm(ch)
        if ch.isspace():
            if norm_chars and norm_chars[-1] == " ":
                continue
            n = " "
        for c in n:
            norm_chars.append(c)
            index.append(i)
    norm_text = "".join(norm_chars)
    spans: list[tuple[int, int, int]] = []
    for n, passage in enumerate(passages):
        needle = " ".join(_norm(passage).split())
        if not needle:
            continue
        at = norm_text.find(needle)
        if at < 0:
            continue
        start, end = index[at], index[at + len(needle) - 1] + 1
        if all(end <= s or start >= e for s, e, _ in spans):
            spans.append((start, end, n))
    spans.sort()
    out: list[tuple[str, int | None]] = []
    pos = 0
    for start, end, n in spans:
        if start > pos:
            out.append((text[pos:start], None))
        out.append((text[start:end], n))
        pos = end
    if pos < len(text):
        out.append((text[pos:], None))
    return out


def page_of(session: Session, extraction_id: int, number: int) -> ExtractionPage | None:
    return session.scalar(
        select(ExtractionPage).where(
            ExtractionPage.extraction_id == extraction_id, ExtractionPage.number == number
        )
    )
