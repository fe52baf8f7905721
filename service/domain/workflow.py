"""A submission's review workflow: one state machine, its history, assignment and the queue.

::

    borrador ──submit──► enviada ──claim──► en_revision ──► aprobada        (final)
                            ▲                 ▲  │ ├──────► no_aprobada     (final, reason)
                            │                 │  │ └──────► observada       (message)
                            └──── resubmit ───┼──┴─────────────┘
                                              └──── reopen (admin, reason) ◄── aprobada, no_aprobada

The applicant submits (``borrador → enviada``) and, after changes were requested, adds documents
and resubmits (``observada → enviada``). A resubmission goes back to ``enviada``, not straight
to ``en_revision``: the reviewer sees it waiting again (in "next pending" and "assigned to me",
since the assignment is kept) and claims it when they start reading, so "en revisión" always
means someone is reading it now, and the age in the queue restarts from the resubmission.

A final verdict locks the decisions and what they rest on (:class:`VerdictLock`, the one list,
checked by :func:`check_unlocked`): a forced OCR reading, which would replace the passages
detected, and a retry of a document in error, which would bring its passages in, are refused
too. A mistaken verdict is corrected by
an admin reopening it (``aprobada``/``no_aprobada → en_revision``, with the reason, kept by the
reviewer it was assigned to): the decisions open again and the applicant's page says "en
revisión" again, without the withdrawn verdict's message. Like the claim (the other step into
``en_revision``), it sends no e-mail: the applicant hears of the next outcome.

:data:`TRANSITIONS` is the one table of what may follow what, and who may take the step; only
this module assigns ``Submission.status`` and ``assigned_to_id``, each change under the
submission's row lock (:func:`lock`, which a decision takes too) with a compare-and-set on the
status (two reviewers clicking at once: one wins, the other gets the 409), and every step
appends a :class:`~service.domain.models.ReviewEvent` (who, when, from, to, message, messages
per commitment) in the same transaction. An outcome the applicant must hear
of (``observada``, ``aprobada``, ``no_aprobada``) writes its e-mail to the outbox in that
transaction too (``service.domain.mail``): the transition is never lost to a mail failure.

The documents are not steps of the history, but the reviewer reading a resubmission must know
what the applicant changed in answer: :func:`document_changes` (one query) says what was added,
replaced and removed since the last ``observada`` (or since it was first sent), read from the
documents' own times and the link a replacement keeps to what it replaced.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, selectinload

from classifiers.result import COMMITMENT_IDS
from service.domain import clock, messages
from service.domain.errors import PermissionDeniedError, ServiceError, ValidationError
from service.domain.models import Document, ReviewEvent, Submission, User

__all__ = [
    "ReviewStatus",
    "Actor",
    "Transition",
    "TRANSITIONS",
    "NOTIFIED",
    "FINAL",
    "OPEN_TO_APPLICANT",
    "open_to_applicant",
    "HistoryEntry",
    "ReviewState",
    "initial_status",
    "submit",
    "review",
    "assign",
    "claim_next",
    "check_upload",
    "VerdictLock",
    "check_unlocked",
    "lock",
    "review_state",
    "review_states",
    "queue_age",
    "DocumentChanges",
    "document_changes",
]

#: Longest message a reviewer may write (general or per commitment).
MAX_MESSAGE_CHARS = 5000


class ReviewStatus(enum.StrEnum):
    borrador = "borrador"  # the applicant is still uploading
    enviada = "enviada"  # submitted (or resubmitted): waiting for a reviewer
    en_revision = "en_revision"  # a reviewer claimed it and is reading it
    observada = "observada"  # changes requested: the applicant adds documents and resubmits
    aprobada = "aprobada"
    no_aprobada = "no_aprobada"

    @property
    def label(self) -> str:
        return messages.review_status_label(self.value)


class Actor(enum.StrEnum):
    applicant = "applicant"  # the holder of the submission's secret token
    reviewer = "reviewer"
    admin = "admin"  # a reviewer with the role ``admin`` (``evidencia user add --role admin``)


@dataclass(frozen=True, slots=True)
class Transition:
    source: ReviewStatus
    target: ReviewStatus
    by: Actor
    #: a general message or one per commitment is required (what the applicant must read)
    needs_message: bool = False
    #: a general message is required: why the step is taken (reopening a final verdict)
    needs_reason: bool = False


_S = ReviewStatus
#: Every step the workflow allows, and who takes it: the one table.
TRANSITIONS: Mapping[tuple[ReviewStatus, ReviewStatus], Transition] = {
    (t.source, t.target): t
    for t in (
        Transition(_S.borrador, _S.enviada, Actor.applicant),
        Transition(_S.observada, _S.enviada, Actor.applicant),  # resubmitted
        Transition(_S.enviada, _S.en_revision, Actor.reviewer),  # claimed
        Transition(_S.en_revision, _S.observada, Actor.reviewer, needs_message=True),
        Transition(_S.en_revision, _S.aprobada, Actor.reviewer),
        Transition(_S.en_revision, _S.no_aprobada, Actor.reviewer, needs_message=True),
        # reopened: a mistaken final verdict is corrected
        *(Transition(final, _S.en_revision, Actor.admin, needs_reason=True)
          for final in (_S.aprobada, _S.no_aprobada)),
    )
}
#: Outcomes the applicant is told of by e-mail.
NOTIFIED = frozenset({_S.observada, _S.aprobada, _S.no_aprobada})
FINAL = frozenset({_S.aprobada, _S.no_aprobada})
#: Sent for review and not decided: what the reviewers' queue holds.
IN_QUEUE = frozenset({_S.enviada, _S.en_revision})
#: Statuses in which the applicant may add documents.
OPEN_TO_APPLICANT = frozenset({_S.borrador, _S.observada})


def open_to_applicant(status: str | ReviewStatus) -> bool:
    """Whether a submission in ``status`` takes the applicant's uploads (and removals): the one
    answer, read by the upload check, the document changes, the pages and the wording of
    documents' errors (``matrix.DocumentEntry.error``), so none decides it apart."""
    return ReviewStatus(status) in OPEN_TO_APPLICANT


def initial_status(source: str) -> ReviewStatus:
    """Uploads start as drafts; a batch of past archives goes straight to the reviewers
    (nobody will press "send" for it)."""
    return _S.enviada if source == "batch" else _S.borrador


# --- steps ---------------------------------------------------------------------------------------


def submit(session: Session, submission: Submission) -> ReviewEvent:
    """The applicant sends the submission to review (first time, or after ``observada``).
    Commits; raises ``illegal_transition`` (409) or ``nothing_to_submit`` (422)."""
    target = _S.enviada
    lock(session, submission)
    _check(submission, target, Actor.applicant)
    has_documents = session.scalar(  # one that counts: stored (not refused at upload), not removed
        select(Document.id).where(
            Document.submission_id == submission.id,
            Document.sha256.is_not(None),
            Document.removed_at.is_(None),
        ).limit(1)
    )
    if has_documents is None:
        raise ValidationError(code="nothing_to_submit")
    event = _move(session, submission, target, actor=None,
                  assigned_to_id=submission.assigned_to_id, submitted=True)
    session.commit()
    return event


def review(
    session: Session,
    submission: Submission,
    reviewer: User,
    status: str,
    message: str | None = None,
    commitments: Mapping[str, str] | None = None,
) -> ReviewEvent:
    """A reviewer's step: claim (``en_revision``), request changes (``observada``), approve
    or not; an admin's: reopen a final verdict (``en_revision``, with the reason). Claiming
    assigns the submission to the reviewer; the other steps are the assignee's (or an
    admin's), and reopening keeps the assignee. Commits, then queues the outcome e-mail."""
    try:
        target = ReviewStatus(status)
    except ValueError:
        raise ValidationError(code="invalid_review_status", field="status") from None
    text, per_commitment = _clean_messages(message, commitments)
    lock(session, submission)
    transition = _check(submission, target, _actor(reviewer))
    _check_assignee(submission, reviewer)
    if transition.needs_message and not (text or per_commitment):
        raise ValidationError(code="message_required", field="message", what=target.label)
    if transition.needs_reason and not text:
        raise ValidationError(code="reason_required", field="message",
                              current=transition.source.label)
    claimed = target == _S.en_revision and transition.by == Actor.reviewer
    assigned = reviewer.id if claimed else submission.assigned_to_id
    event = _move(session, submission, target, actor=reviewer, assigned_to_id=assigned,
                  message=text, commitments=per_commitment)
    outbox = None
    if target in NOTIFIED:
        from service.domain import mail

        outbox = mail.queue_outcome(session, submission, event)
    session.commit()
    if outbox is not None:
        from service.domain import mail

        mail.dispatch(outbox.id)
    return event


def assign(session: Session, submission: Submission, admin: User,
           username: str | None) -> ReviewEvent:
    """An admin gives the submission to another reviewer (or none: back to the pool). The
    status does not change; the history records it. Commits."""
    if admin.role != "admin":
        raise PermissionDeniedError(code="admin_only")
    assignee = None
    if username:
        assignee = session.scalar(select(User).where(User.username == username.strip()))
        if assignee is None or not assignee.active:
            raise ValidationError(code="unknown_reviewer", field="reviewer")
    lock(session, submission)
    current = ReviewStatus(submission.status)
    if current in FINAL:
        raise _illegal(current, current)
    note = (messages.notice("reassigned", username=assignee.username) if assignee
            else messages.notice("unassigned"))
    event = _move(session, submission, current, actor=admin,
                  assigned_to_id=assignee.id if assignee else None, message=note)
    session.commit()
    return event


def claim_next(session: Session, reviewer: User) -> Submission | None:
    """"Siguiente pendiente": the oldest submission waiting (``enviada``), unassigned or
    assigned to this reviewer, claimed by them (``en_revision``); None when none waits. A
    submission another reviewer claims at the same instant is skipped for the next one."""
    for _ in range(5):
        submission = session.scalar(
            select(Submission)
            .where(
                Submission.status == _S.enviada.value,
                or_(Submission.assigned_to_id.is_(None),
                    Submission.assigned_to_id == reviewer.id),
            )
            .order_by(Submission.submitted_at.asc().nulls_first(), Submission.id)
            .limit(1)
        )
        if submission is None:
            return None
        try:
            review(session, submission, reviewer, _S.en_revision)
        except ServiceError:
            session.rollback()
            continue
        return submission
    return None


def check_upload(submission: Submission) -> None:
    """Applicants add documents while drafting or after changes were requested; in review or
    decided, the documents under review stay as they are (409)."""
    if not open_to_applicant(submission.status):
        raise ServiceError(code="closed_for_upload",
                           current=ReviewStatus(submission.status).label)


class VerdictLock(enum.StrEnum):
    """What a final verdict locks until an admin reopens the submission, each with the code
    of its refusal (409, Spanish reason): what the applicant was told stays what the matrix
    shows. The decisions (a decision, undo or comment), and the readings they rest on: a
    forced OCR reading would replace the passages detected in a document, a retry of a
    document in error would bring its passages into the matrix, a document replaced by its
    re-exported file (``evidencia batch``; the applicant's replacements stop earlier, at
    ``enviada``) would take its passages out and bring others in, and a document added by a
    reviewer's upload or by ``evidencia batch`` (a new file in the organisation's folder, or a
    file that failed re-exported to take the failed copy's place) would bring its passages in,
    and a document retired by ``evidencia batch --retire-missing`` (its file no longer in the
    folder) would take its passages out."""

    decisions = "decisions_locked"
    reread = "reread_locked"
    retry = "retry_locked"
    replace = "replace_locked"
    add = "add_locked"
    remove = "remove_locked"


def check_unlocked(submission: Submission, what: VerdictLock) -> None:
    """Refuse ``what`` once the submission has a final verdict (:class:`VerdictLock`); only an
    admin's reopening (back to ``en_revision``) allows it again. The caller holds the
    submission's row lock (:func:`lock`), so a verdict committed meanwhile is seen, not
    raced."""
    current = ReviewStatus(submission.status)
    if current in FINAL:
        raise ServiceError(code=VerdictLock(what).value, current=current.label)


def lock(session: Session, submission: Submission) -> Submission:
    """Take the submission's row lock for the rest of the transaction and re-read it: a status
    step and a decision on the same submission serialize, each seeing what the other
    committed (a verdict and a decision sent in the same instant: the decision comes first or
    gets the 409). PostgreSQL: ``SELECT … FOR UPDATE``. SQLite has no row locks and reads
    outside a transaction, so the check would still race the write that follows it: there, a
    no-op write on the row first takes the database's one write lock (waiting, like any
    writer, up to ``busy_timeout``)."""
    if session.get_bind().dialect.name == "sqlite":
        table = Submission.__table__
        session.connection().execute(  # not through the ORM: the version stays as it is
            update(table).where(table.c.id == submission.id).values(version=table.c.version))
    session.scalar(
        select(Submission).where(Submission.id == submission.id).with_for_update()
        .execution_options(populate_existing=True)
    )
    return submission


# --- the rules ----------------------------------------------------------------------------------


def _illegal(current: ReviewStatus, target: ReviewStatus) -> ServiceError:
    return ServiceError(code="illegal_transition", current=current.label, target=target.label,
                        hint=messages.transition_hint(current.value),
                        detail=f"{current} -> {target}")


def _actor(user: User) -> Actor:
    return Actor.admin if user.role == "admin" else Actor.reviewer


def _allowed(step: Actor, by: Actor) -> bool:
    """An admin is a reviewer too: takes the reviewers' steps and the admins' own."""
    return step == by or (step == Actor.reviewer and by == Actor.admin)


def _check(submission: Submission, target: ReviewStatus, by: Actor) -> Transition:
    current = ReviewStatus(submission.status)
    transition = TRANSITIONS.get((current, target))
    if transition is None:
        raise _illegal(current, target)
    if transition.by == Actor.admin and by == Actor.reviewer:
        raise PermissionDeniedError(code="admin_only_reopen")
    if not _allowed(transition.by, by):
        raise _illegal(current, target)
    return transition


def _check_assignee(submission: Submission, reviewer: User) -> None:
    """Only the assignee (or an admin) moves a submission someone holds."""
    if submission.assigned_to_id in (None, reviewer.id) or reviewer.role == "admin":
        return
    holder = submission.assigned_to.username if submission.assigned_to else "otra persona"
    raise ServiceError(code="not_assignee", assignee=holder)


def _message_text(value: str | None) -> str:
    """A message as typed: line breaks as one character (a browser sends a textarea's as CRLF,
    while its ``maxlength`` counted each as one), outer blanks trimmed."""
    return (value or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def _check_length(text: str, where: str) -> None:
    if len(text) > MAX_MESSAGE_CHARS:
        raise ValidationError(code="message_too_long", field="message", where=where,
                              max=f"{MAX_MESSAGE_CHARS:,}".replace(",", "."),
                              length=f"{len(text):,}".replace(",", "."))


def _clean_messages(message: str | None,
                    commitments: Mapping[str, str] | None) -> tuple[str | None, dict[str, str]]:
    text = _message_text(message) or None
    _check_length(text or "", "para la organización")
    per_commitment = {}
    for cid, value in (commitments or {}).items():
        if cid not in COMMITMENT_IDS:
            raise ValidationError(code="invalid_commitment", field="commitments")
        if _message_text(value):
            per_commitment[cid] = _message_text(value)
            _check_length(per_commitment[cid], f"de «{messages.commitment_short(cid)}»")
    return text, {cid: per_commitment[cid] for cid in COMMITMENT_IDS if cid in per_commitment}


def _move(session: Session, submission: Submission, target: ReviewStatus, *, actor: User | None,
          assigned_to_id: int | None, message: str | None = None,
          commitments: dict[str, str] | None = None, submitted: bool = False) -> ReviewEvent:
    """Change the status if it is still what was read (compare-and-set), append the event."""
    current = submission.status
    now = clock.now()
    values = {"status": target.value, "assigned_to_id": assigned_to_id}
    if submitted:
        values["submitted_at"] = now
    changed = session.execute(
        update(Submission)
        .where(and_(Submission.id == submission.id, Submission.status == current))
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:  # someone else moved it first
        session.rollback()
        session.refresh(submission)
        raise _illegal(ReviewStatus(submission.status), target)
    event = ReviewEvent(
        submission_id=submission.id, from_status=current, to_status=target.value,
        actor_id=actor.id if actor else None, assigned_to_id=assigned_to_id, message=message,
        commitments=commitments or {}, created_at=now,
    )
    session.add(event)
    session.flush()
    session.refresh(submission)
    return event


# --- reading it ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    status: str
    from_status: str | None
    message: str | None
    commitments: Mapping[str, str]
    by: str | None  # the reviewer's username; None for the applicant
    assigned_to: str | None
    at: datetime | None

    @property
    def label(self) -> str:
        return messages.review_status_label(self.status)

    @property
    def reassignment(self) -> bool:
        return self.status == self.from_status

    @property
    def reopening(self) -> bool:
        """An admin took back a final verdict."""
        return self.from_status in FINAL and self.status not in FINAL


@dataclass(frozen=True, slots=True)
class ReviewState:
    """Where a submission stands in the review, for pages, the API and e-mails."""

    status: ReviewStatus
    assigned_to: str | None
    submitted_at: datetime | None
    contact_email: str | None
    history: tuple[HistoryEntry, ...]  # oldest first

    @property
    def label(self) -> str:
        return self.status.label

    @property
    def outcome(self) -> HistoryEntry | None:
        """The reviewers' latest word to the applicant (observada, aprobada, no_aprobada):
        still shown after a resubmission, until the next one; a reopened verdict is withdrawn
        (None until the next outcome)."""
        for h in reversed(self.history):
            if h.reopening:
                return None
            if h.status in NOTIFIED:
                return h
        return None

    @property
    def message(self) -> str | None:
        return self.outcome.message if self.outcome else None

    @property
    def messages(self) -> Mapping[str, str]:
        return self.outcome.commitments if self.outcome else {}

    @property
    def can_submit(self) -> bool:
        return (self.status, _S.enviada) in TRANSITIONS

    @property
    def open_to_applicant(self) -> bool:
        return open_to_applicant(self.status)

    @property
    def final(self) -> bool:
        return self.status in FINAL

    @property
    def decisions_open(self) -> bool:
        """Nothing a final verdict locks is refused yet (:class:`VerdictLock`): reviewers may
        record decisions, read a document again with OCR, retry one in error."""
        return self.status not in FINAL

    def next_statuses(self, role: str = "reviewer") -> list[ReviewStatus]:
        """What a reviewer (``role``: reviewer or admin) may move it to now."""
        by = Actor.admin if role == "admin" else Actor.reviewer
        return [t.target for (s, _), t in TRANSITIONS.items()
                if s == self.status and _allowed(t.by, by)]


def _entry(event: ReviewEvent) -> HistoryEntry:
    return HistoryEntry(
        status=event.to_status, from_status=event.from_status, message=event.message,
        commitments=dict(event.commitments or {}),
        by=event.actor.username if event.actor else None,
        assigned_to=event.assigned_to.username if event.assigned_to else None,
        at=event.created_at,
    )


def review_states(session: Session, submission_ids: list[str]) -> dict[str, ReviewState]:
    """The review state of many submissions in three queries (a list page)."""
    ids = list(dict.fromkeys(submission_ids))
    if not ids:
        return {}
    subs = session.scalars(
        select(Submission).where(Submission.id.in_(ids))
        .options(selectinload(Submission.assigned_to))
    ).all()
    events: dict[str, list[HistoryEntry]] = {sid: [] for sid in ids}
    for event in session.scalars(
        select(ReviewEvent).where(ReviewEvent.submission_id.in_(ids))
        .options(selectinload(ReviewEvent.actor), selectinload(ReviewEvent.assigned_to))
        .order_by(ReviewEvent.id)
    ):
        events[event.submission_id].append(_entry(event))
    return {
        s.id: ReviewState(
            status=ReviewStatus(s.status),
            assigned_to=s.assigned_to.username if s.assigned_to else None,
            submitted_at=s.submitted_at,
            contact_email=s.contact_email,
            history=tuple(events[s.id]),
        )
        for s in subs
    }


def review_state(session: Session, submission_id: str) -> ReviewState:
    from service.domain.errors import NotFoundError

    state = review_states(session, [submission_id]).get(submission_id)
    if state is None:
        raise NotFoundError(code="submission_not_found")
    return state


def queue_age(submitted_at: datetime | None, now: datetime | None = None) -> timedelta | None:
    """How long a submission has waited since it was (re)submitted."""
    if submitted_at is None:
        return None
    return (now or clock.now()) - clock.aware(submitted_at)


# --- what changed in the documents since the reviewers last looked -----------------------------


@dataclass(frozen=True, slots=True)
class DocumentEvent:
    """A document added, or removed, and when."""

    name: str
    at: datetime


@dataclass(frozen=True, slots=True)
class ReplacedDocument:
    old: str  # the name the reviewer saw
    new: tuple[str, ...]  # what took its place (a replacing ZIP gives several)
    at: datetime



@dataclass(frozen=True, slots=True)
class DocumentChanges:
    """What changed in a submission's documents since ``since``: the last ``observada`` step
    (``since_status``), or, in a first round, its first sending (``enviada``). Net changes: a
    document added then removed in the round is nothing, one added then replaced is added, a
    replacement replaced again is one replacement, from the name the reviewer saw to the last."""

    since_status: str
    since: datetime
    added: tuple[DocumentEvent, ...]
    replaced: tuple[ReplacedDocument, ...]
    removed: tuple[DocumentEvent, ...]

    @property
    def changed(self) -> bool:
        return bool(self.added or self.replaced or self.removed)

    @property
    def summary(self) -> str:
        return messages.document_changes_summary(
            self.since_status, self.since, len(self.added),
            [(r.old, r.new) for r in self.replaced], len(self.removed))


def _changes_since(history: tuple[HistoryEntry, ...]) -> HistoryEntry | None:
    """The step the changes count from: the last observation, else the first sending."""
    steps = [h for h in history if not h.reassignment and h.at is not None]
    for h in reversed(steps):
        if h.status == _S.observada:
            return h
    return next((h for h in steps if h.status == _S.enviada), None)


def document_changes(session: Session, submission_id: str,
                     state: ReviewState) -> DocumentChanges | None:
    """The documents added, replaced (``Document.replaces_id``) and removed since the last
    ``observada`` of ``state`` (or the first sending), each with when: one query, the
    documents created or removed since. None for a submission never sent (nothing to compare
    with). For the reviewer's status (``GET /api/submissions/{id}``) and page."""
    start = _changes_since(state.history)
    if start is None:
        return None
    since = start.at
    rows = {r.id: r for r in session.execute(
        select(Document.id, Document.name, Document.created_at, Document.removed_at,
               Document.replaces_id)
        .where(Document.submission_id == submission_id,
               or_(Document.created_at > since, Document.removed_at > since))
    )}
    after = clock.aware(since)

    def new(row) -> bool:
        return clock.aware(row.created_at) > after

    added: list[DocumentEvent] = []
    replacing: dict[str, list] = {}  # a document the reviewer saw -> what stands in its place
    for row in rows.values():
        if row.removed_at is not None or not new(row):
            continue
        origin = row
        while origin.replaces_id in rows and new(rows[origin.replaces_id]):
            origin = rows[origin.replaces_id]  # replaced within the round: follow it back
        seen = rows.get(origin.replaces_id)
        if seen is not None and not new(seen):
            replacing.setdefault(seen.id, []).append(row)
        else:
            added.append(DocumentEvent(row.name, clock.aware(row.created_at)))
    replaced = [
        ReplacedDocument(rows[old].name, tuple(r.name for r in sorted(new_rows, key=_by_time)),
                         max(clock.aware(r.created_at) for r in new_rows))
        for old, new_rows in replacing.items()
    ]
    removed = [DocumentEvent(row.name, clock.aware(row.removed_at)) for row in rows.values()
               if row.removed_at is not None and not new(row) and row.id not in replacing]
    return DocumentChanges(
        since_status=start.status, since=clock.aware(since),
        added=tuple(sorted(added, key=_when)), replaced=tuple(sorted(replaced, key=_when)),
        removed=tuple(sorted(removed, key=_when)))


def _by_time(row) -> tuple:
    return clock.aware(row.created_at), row.name


def _when(change) -> tuple:
    return change.at, getattr(change, "name", None) or getattr(change, "old", "")
