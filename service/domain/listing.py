"""Lists of submissions for reviewers: one query for the API's list and the reviewers' page.

It aggregates in SQL so it stays fast with thousands of submissions, in two steps: the page's
ids are chosen with semi-joins for the filters and at most one grouped count for the order; the
counts shown are then computed for those (at most ``limit``) ids only. The counts say in SQL what
``service.domain.matrix`` says in Python (a document counts with its newest classification once
done; one decision in force per commitment, ``matrix.in_force_query``);
``tests/service/test_listing.py`` holds the two to the same answers.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, or_, select, union_all
from sqlalchemy.orm import Session, aliased

from classifiers.result import COMMITMENT_IDS
from service.domain import search, workflow
from service.domain.codes import PENDING_STATUSES, POSITIVE_ACTIONS, DocumentStatus
from service.domain.matrix import in_force_query
from service.domain.models import (
    Classification,
    CommitmentResult,
    Document,
    Organization,
    Submission,
)

__all__ = ["ListFilter", "ListOrder", "ListQuery", "ListRow", "is_duplicate", "list_submissions"]


class ListFilter(enum.StrEnum):
    all = "all"
    pending_review = "pending_review"  # sent for review, awaiting a verdict (workflow.IN_QUEUE)
    missing = "missing"  # a commitment not covered, as the matrix says (none found, rejected)
    errors = "errors"  # a document failed
    mine = "mine"  # assigned to ``ListQuery.reviewer_id``, still open (workflow)
    unassigned = "unassigned"  # sent for review, nobody assigned yet


class ListOrder(enum.StrEnum):
    created = "created"
    organization = "organization"
    documents = "documents"
    errors = "errors"
    detected = "detected"
    confirmed = "confirmed"


@dataclass(frozen=True, slots=True)
class ListQuery:
    filter: ListFilter = ListFilter.all
    order: ListOrder = ListOrder.created
    desc: bool = True
    search: str = ""  # ``service.domain.search``: organisation, RUT or documents' text
    reviewer_id: int | None = None  # who "mine" means
    offset: int = 0
    limit: int = 50


@dataclass(frozen=True, slots=True)
class ListRow:
    id: str
    organization: str
    rut: str | None
    source: str
    created_at: datetime
    n_documents: int
    n_errors: int
    n_pending: int
    n_detected: int
    n_confirmed: int
    n_decided: int


def _detected_pairs(ids=None):
    """(sid, cid) once per commitment some document supports by its newest classification.

    "Newest" is said with NOT EXISTS (no later classification of the same document), which
    both SQLite (index probe) and PostgreSQL (anti-join) answer in one pass.
    """
    newer = aliased(Classification)
    q = (
        select(
            Document.submission_id.label("sid"),
            CommitmentResult.commitment.label("cid"),
        )
        .join(Classification, Classification.document_id == Document.id)
        .join(CommitmentResult, CommitmentResult.classification_id == Classification.id)
        .where(
            Document.status == DocumentStatus.done.value,
            Document.removed_at.is_(None),
            CommitmentResult.supported.is_(True),
            ~select(newer.id)
            .where(newer.document_id == Classification.document_id, newer.id > Classification.id)
            .exists(),
        )
        .distinct()
    )
    if ids is not None:
        q = q.where(Document.submission_id.in_(ids))
    return q


def _detected_per_submission(ids=None):
    """(sid, n) commitments found by each document's newest classification, grouped."""
    pairs = _detected_pairs(ids).subquery()
    return (select(pairs.c.sid, func.count().label("n"))
            .group_by(pairs.c.sid).subquery("detected"))


def _covered_per_submission(ids=None):
    """(sid, n) commitments the matrix counts as covered (``matrix.cell_status``): a decision
    in force that says fulfilled, else found by a document and not decided.

    The decisions in force are a CTE, read twice and so computed once (both databases
    materialise a CTE read twice): as a subquery, the "not decided" test said the rule again
    for every detected pair."""
    decided = in_force_query(ids).cte("decided")
    pairs = _detected_pairs(ids).subquery()
    undecided = ~select(decided.c.id).where(decided.c.submission_id == pairs.c.sid,
                                            decided.c.commitment == pairs.c.cid).exists()
    positive = (select(decided.c.submission_id.label("sid"), decided.c.commitment.label("cid"))
                .where(decided.c.action.in_([a.value for a in POSITIVE_ACTIONS])))
    covered = union_all(select(pairs.c.sid, pairs.c.cid).where(undecided), positive).subquery()
    return (select(covered.c.sid, func.count().label("n"))
            .group_by(covered.c.sid).subquery("covered"))


def _confirmed_per_submission(ids=None):
    """(sid, n) commitments whose decision in force says fulfilled, and (sid, decided)."""
    decided = in_force_query(ids).subquery("in_force")
    q = (
        select(
            decided.c.submission_id.label("sid"),
            func.count(decided.c.id).label("decided"),
            func.sum(
                case((decided.c.action.in_([a.value for a in POSITIVE_ACTIONS]), 1), else_=0)
            ).label("n"),
        )
        .group_by(decided.c.submission_id)
    )
    return q.subquery("confirmed")


def is_duplicate():
    """The document repeats the bytes of an earlier one of its submission (the matrix's
    ``_mark_duplicates`` in SQL): it is listed, not counted (the reviewers' list, the change
    report of ``reprocess``)."""
    earlier = aliased(Document)
    return (
        select(earlier.id)
        .where(
            earlier.submission_id == Document.submission_id,
            earlier.sha256 == Document.sha256,
            earlier.removed_at.is_(None),
            or_(earlier.created_at < Document.created_at,
                and_(earlier.created_at == Document.created_at, earlier.id < Document.id)),
        )
        .exists()
    )


def _documents_per_submission(ids=None):
    pending = [s.value for s in PENDING_STATUSES]
    counted = ~is_duplicate()
    q = select(
        Document.submission_id.label("sid"),
        func.sum(case((counted, 1), else_=0)).label("n"),
        func.sum(
            case((and_(counted, Document.status == DocumentStatus.error.value), 1), else_=0)
        ).label("errors"),
        func.sum(case((Document.status.in_(pending), 1), else_=0)).label("pending"),
    ).where(Document.removed_at.is_(None)).group_by(Document.submission_id)
    if ids is not None:
        q = q.where(Document.submission_id.in_(ids))
    return q.subquery("documents")


_GROUPED = {
    "documents": _documents_per_submission,
    "detected": _detected_per_submission,
    "confirmed": _confirmed_per_submission,
    "covered": _covered_per_submission,
}


class _Grouped:
    """The grouped-count subqueries a filter or the order needs, each built (and joined) once."""

    def __init__(self):
        self.joined: dict = {}

    def __call__(self, name: str):
        if name not in self.joined:
            self.joined[name] = _GROUPED[name]()
        return self.joined[name]


def _conditions(session: Session, q: ListQuery, grouped: _Grouped) -> list:
    conditions = []
    if q.filter == ListFilter.pending_review:
        # the workflow's status, not the decisions: a draft nobody sent is not pending, and a
        # submission is pending until its verdict, however many commitments are decided
        conditions.append(Submission.status.in_([s.value for s in workflow.IN_QUEUE]))
    elif q.filter == ListFilter.missing:
        conditions.append(func.coalesce(grouped("covered").c.n, 0) < len(COMMITMENT_IDS))
    elif q.filter == ListFilter.errors:
        conditions.append(
            Submission.id.in_(
                select(Document.submission_id).where(
                    Document.status == DocumentStatus.error.value,
                    Document.removed_at.is_(None),
                )
            )
        )
    elif q.filter == ListFilter.mine:
        conditions += [Submission.assigned_to_id == q.reviewer_id,
                       Submission.status.not_in([s.value for s in workflow.FINAL])]
    elif q.filter == ListFilter.unassigned:
        conditions += [Submission.assigned_to_id.is_(None),
                       Submission.status.in_([s.value for s in workflow.IN_QUEUE])]
    if search.clean_query(q.search):
        conditions.append(Submission.id.in_(search.matching_submissions(session, q.search)))
    return conditions


def _order_column(q: ListQuery, grouped: _Grouped):
    if q.order in (ListOrder.documents, ListOrder.errors):
        agg = grouped("documents")
        return func.coalesce(agg.c.n if q.order == ListOrder.documents else agg.c.errors, 0)
    if q.order == ListOrder.detected:
        return func.coalesce(grouped("detected").c.n, 0)
    if q.order == ListOrder.confirmed:
        return func.coalesce(grouped("confirmed").c.n, 0)
    return Organization.name if q.order == ListOrder.organization else Submission.created_at


def _page_ids(session: Session, q: ListQuery) -> tuple[list[str], int]:
    """The ids on the page, in order, and how many submissions match the filter."""
    grouped = _Grouped()
    conditions = _conditions(session, q, grouped)
    column = _order_column(q, grouped)
    base = select(Submission.id).join(Organization, Organization.id == Submission.organization_id)
    for agg in grouped.joined.values():
        base = base.outerjoin(agg, agg.c.sid == Submission.id)
    base = base.where(*conditions)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    ids = list(
        session.scalars(
            base.order_by(column.desc() if q.desc else column.asc(), Submission.id.desc())
            .limit(q.limit)
            .offset(max(q.offset, 0))
        )
    )
    return ids, int(total)


def list_submissions(session: Session, q: ListQuery) -> tuple[list[ListRow], int]:
    """One page of submissions with their counts, and the total matching the filter."""
    ids, total = _page_ids(session, q)
    if not ids:
        return [], total
    docs = _documents_per_submission(ids)
    detected = _detected_per_submission(ids)
    confirmed = _confirmed_per_submission(ids)
    found = session.execute(
        select(
            Submission.id,
            Organization.name,
            Organization.rut,
            Submission.source,
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
    return [ListRow(*(r[:5]), *(int(v) for v in r[5:])) for r in rows], total
