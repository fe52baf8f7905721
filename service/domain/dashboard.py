"""The reviewers' dashboard (issue 11, item 10): submissions per workflow status, how many
wait for a reviewer and for how long, which commitments applicants most often lack, and who
decided how much this week.

A read model computed in SQL aggregates plus a per-submission pass in Python that applies the
matrix's own rule for a covered commitment (``matrix.cell_status``), so the dashboard never
disagrees with the matrix. Statuses and the age in the queue are the workflow's
(``service.domain.workflow``).
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, aliased

from classifiers.result import COMMITMENT_IDS
from service.domain import clock, messages
from service.domain.codes import DECIDING_ACTIONS, PENDING_STATUSES, DecisionAction, DocumentStatus
from service.domain.matrix import cell_status, in_force_query
from service.domain.models import (
    Classification,
    CommitmentResult,
    Decision,
    Document,
    Submission,
    User,
)
from service.domain.workflow import IN_QUEUE, ReviewStatus, queue_age

__all__ = ["WAITING", "Dashboard", "ReviewerWeek", "load_dashboard"]

#: Statuses a reviewer still has to act on (the workflow's queue, what the list's "Pendientes
#: de revisión" shows): their age in the queue is the backlog's.
WAITING = IN_QUEUE


@dataclass(frozen=True, slots=True)
class ReviewerWeek:
    reviewer: str
    decisions: int  # confirm, reject, attach
    undone: int  # undo entries
    comments: int  # comments saved on their own


@dataclass(frozen=True, slots=True)
class Dashboard:
    statuses: tuple[tuple[str, int], ...]  # every workflow status, in the workflow's order
    waiting: int
    oldest_wait: timedelta | None
    median_wait: timedelta | None
    #: (commitment, submissions lacking it), most often missing first; only submissions whose
    #: documents are all read count (a commitment still being read is not missing)
    missing: tuple[tuple[str, int], ...]
    assessed: int  # submissions the missing counts are out of
    week_start: datetime  # Monday 00:00 in Chile (UTC)
    reviewers: tuple[ReviewerWeek, ...]  # most decisions first

    def status_label(self, code: str) -> str:
        return messages.review_status_label(code)


def _documents(session: Session) -> dict[str, tuple[int, int]]:
    pending = [s.value for s in PENDING_STATUSES]
    rows = session.execute(
        select(
            Document.submission_id,
            func.count(Document.id),
            func.sum(case((Document.status.in_(pending), 1), else_=0)),
        ).where(Document.removed_at.is_(None)).group_by(Document.submission_id)
    )
    return {sid: (int(n), int(p or 0)) for sid, n, p in rows}


def _detected(session: Session) -> set[tuple[str, str]]:
    """(submission, commitment) some document supports, by its newest classification once
    done (the matrix's rule; a removed or replaced document counts nowhere)."""
    newer = aliased(Classification)
    rows = session.execute(
        select(Document.submission_id, CommitmentResult.commitment)
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
    return {(sid, cid) for sid, cid in rows}


def _in_force(session: Session) -> dict[tuple[str, str], str]:
    decided = in_force_query().subquery()
    rows = session.execute(select(decided.c.submission_id, decided.c.commitment,
                                  decided.c.action))
    return {(sid, cid): action for sid, cid, action in rows}


def _reviewers(session: Session, since: datetime) -> tuple[ReviewerWeek, ...]:
    rows = session.execute(
        select(User.username, Decision.action, func.count(Decision.id))
        .join(User, User.id == Decision.reviewer_id)
        .where(Decision.created_at >= since)
        .group_by(User.username, Decision.action)
    )
    counts: dict[str, Counter] = {}
    for username, action, n in rows:
        kind = ("decisions" if action in DECIDING_ACTIONS
                else "undone" if action == DecisionAction.undo else "comments")
        counts.setdefault(username, Counter())[kind] += n
    weeks = [ReviewerWeek(name, c["decisions"], c["undone"], c["comments"])
             for name, c in counts.items()]
    return tuple(sorted(weeks, key=lambda w: (-w.decisions, w.reviewer)))


def load_dashboard(session: Session, at: datetime | None = None) -> Dashboard:
    """The dashboard as of ``at`` (default: now)."""
    now = clock.aware(at) or clock.now()
    documents = _documents(session)
    detected = _detected(session)
    decided = _in_force(session)
    statuses: Counter = Counter()
    waits: list[timedelta] = []
    missing: Counter = Counter()
    assessed = 0
    for sid, status, submitted in session.execute(
        select(Submission.id, Submission.status, Submission.submitted_at)
    ):
        statuses[status] += 1
        if status in WAITING:
            waits.append(queue_age(submitted, now) or timedelta(0))
        n, pending = documents.get(sid, (0, 0))
        if n and not pending:
            assessed += 1
            for cid in COMMITMENT_IDS:
                if not cell_status((sid, cid) in detected, decided.get((sid, cid))).covered:
                    missing[cid] += 1
    since = clock.week_start(now)
    return Dashboard(
        statuses=tuple((status.value, statuses[status.value]) for status in ReviewStatus),
        waiting=len(waits),
        oldest_wait=max(waits, default=None),
        median_wait=statistics.median(waits) if waits else None,
        missing=tuple(sorted(missing.items(), key=lambda kv: (-kv[1], kv[0]))),
        assessed=assessed,
        week_start=since,
        reviewers=_reviewers(session, since),
    )
