"""Database tables: the single source of truth (Redis only carries work).

Extraction results are keyed by the file's sha256 and extractor version, so the same bytes
uploaded twice (or found twice in an archive) are extracted and OCR'd once. Classification
results keep every classifier version; the newest one is the current one. Reviewer decisions
are append-only: the latest decision per (submission, commitment) is in force, the rest is
history.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
    select,
    true,
    update,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from service.domain.codes import DocumentStatus, Lane, Stage

__all__ = [
    "IdempotencyKey",
    "Base",
    "Organization",
    "OrganizationName",
    "Submission",
    "StoredFile",
    "Extraction",
    "ExtractionPage",
    "Document",
    "Classification",
    "CommitmentResult",
    "User",
    "ReviewerSession",
    "Decision",
    "DecisionDocument",
    "ReviewFlag",
    "ReviewEvent",
    "OutboxEmail",
    "bump_versions",
]


def _uuid() -> str:
    return uuid.uuid4().hex


def _now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Organization(Base):
    __tablename__ = "organizations"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=_uuid)
    name: Mapped[str] = mapped_column(String(300))
    rut: Mapped[str | None] = mapped_column(String(20), unique=True, nullable=True)  # "76123456-7"
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    submissions: Mapped[list[Submission]] = relationship(back_populates="organization")
    names: Mapped[list[OrganizationName]] = relationship(
        back_populates="organization", order_by="OrganizationName.id"
    )


class OrganizationName(Base):
    """Every name an organisation was submitted under, never overwritten: the first is the
    registered name (``Organization.name``), later different ones are aliases, each with the
    submission (and so the applicant's secret link or the batch) that brought it, and when."""

    __tablename__ = "organization_names"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    #: "registered" (the name the organisation was created with) or "alias"
    kind: Mapped[str] = mapped_column(String(20))
    submission_id: Mapped[str | None] = mapped_column(ForeignKey("submissions.id"),
                                                      nullable=True)
    #: where the submission came from: "upload" (an applicant) or "batch" (programme staff)
    source: Mapped[str | None] = mapped_column(String(20), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    organization: Mapped[Organization] = relationship(back_populates="names")


class Submission(Base):
    __tablename__ = "submissions"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=_uuid)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    #: sha256 of the applicant's secret token; the token itself is shown once.
    token_hash: Mapped[str] = mapped_column(String(64), index=True)
    #: "upload" (applicant) or "batch" (programme staff archive)
    source: Mapped[str] = mapped_column(String(20), default="upload")
    #: stable key of a batch source (top folder, archive path or CSV key), for resumable batches
    source_key: Mapped[str | None] = mapped_column(String(1000), nullable=True, unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)
    #: a ``service.domain.workflow.ReviewStatus``; only ``workflow`` assigns it
    status: Mapped[str] = mapped_column(String(20), default="borrador", index=True)
    assigned_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id"), nullable=True, index=True
    )
    #: when it last became ``enviada`` (its age in the reviewers' queue)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    #: the applicant's contact address (outcome e-mails, a lost link sent again)
    contact_email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    #: bumped in the same transaction as any change its status or matrix shows (itself, its
    #: documents, classifications, decisions, flags, review events, the organisation): what
    #: clients and caches compare
    #: instead of the rows themselves (see ``_stamp_changes``)
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    organization: Mapped[Organization] = relationship(back_populates="submissions")
    assigned_to: Mapped[User | None] = relationship()
    documents: Mapped[list[Document]] = relationship(
        back_populates="submission", order_by="Document.created_at"
    )


class StoredFile(Base):
    """Bytes kept once in the content-addressed store (``files/ab/cd/<sha256>``)."""

    __tablename__ = "stored_files"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    mime: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class Extraction(Base):
    __tablename__ = "extractions"
    __table_args__ = (UniqueConstraint("sha256", "extractor_version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("stored_files.sha256"), index=True)
    extractor_version: Mapped[str] = mapped_column(String(40))
    extractor: Mapped[str] = mapped_column(String(120))
    mime: Mapped[str] = mapped_column(String(120))
    page_count: Mapped[int] = mapped_column(Integer, default=0)
    ocr_pages: Mapped[int] = mapped_column(Integer, default=0)
    warnings: Mapped[list] = mapped_column(JSON, default=list)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    pages: Mapped[list[ExtractionPage]] = relationship(
        back_populates="extraction", order_by="ExtractionPage.number", cascade="all, delete-orphan"
    )


class ExtractionPage(Base):
    __tablename__ = "extraction_pages"
    __table_args__ = (UniqueConstraint("extraction_id", "number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    extraction_id: Mapped[int] = mapped_column(ForeignKey("extractions.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text, default="")
    #: [[text, x0, top, x1, bottom], ...] in points, origin top-left
    words: Mapped[list] = mapped_column(JSON, default=list)
    width: Mapped[float] = mapped_column(Float, default=0.0)
    height: Mapped[float] = mapped_column(Float, default=0.0)
    ocr: Mapped[bool] = mapped_column(Boolean, default=False)
    ocr_confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    rotation: Mapped[int] = mapped_column(Integer, default=0)
    method: Mapped[str] = mapped_column(String(60), default="")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    extraction: Mapped[Extraction] = relationship(back_populates="pages")


class Document(Base):
    __tablename__ = "documents"
    __table_args__ = (Index("ix_documents_status", "status"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=_uuid)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), index=True)
    #: name as the user sees it; ZIP members are "archive.zip/folder/file.pdf"
    name: Mapped[str] = mapped_column(String(1000))
    sha256: Mapped[str | None] = mapped_column(ForeignKey("stored_files.sha256"), nullable=True)
    size: Mapped[int] = mapped_column(Integer, default=0)
    mime: Mapped[str | None] = mapped_column(String(120), nullable=True)
    doc_type: Mapped[str | None] = mapped_column(String(40), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default=DocumentStatus.queued.value)
    stage: Mapped[str] = mapped_column(String(20), default=Stage.queued.value)
    stage_detail: Mapped[str | None] = mapped_column(String(40), nullable=True)  # "3/8"
    error_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)  # Spanish, for users
    queue_name: Mapped[str] = mapped_column(String(20), default=Lane.interactive.value)
    job_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: processing timings, for progress pages and the /metrics stage durations
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    wait_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)  # queued → started
    extract_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)  # 0 when reused
    classify_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    extraction_id: Mapped[int | None] = mapped_column(
        ForeignKey("extractions.id"), nullable=True, index=True
    )
    #: the applicant removed (or replaced) it: it no longer counts; the row stays for history
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    #: the document this one replaced (``documents.replace_document``: every document a
    #: replacing ZIP gives names it); None for an upload, and for replacements before 0013
    replaces_id: Mapped[str | None] = mapped_column(ForeignKey("documents.id"), nullable=True)
    #: a reviewer asked for every page to be read with OCR (``service.domain.documents``)
    force_ocr: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=_now, onupdate=_now
    )
    submission: Mapped[Submission] = relationship(back_populates="documents")
    extraction: Mapped[Extraction | None] = relationship()
    classifications: Mapped[list[Classification]] = relationship(
        back_populates="document", order_by="Classification.id"
    )


class Classification(Base):
    __tablename__ = "classifications"
    __table_args__ = (UniqueConstraint("document_id", "classifier_version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), index=True)
    classifier_version: Mapped[str] = mapped_column(String(60))
    doc_type: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    document: Mapped[Document] = relationship(back_populates="classifications")
    results: Mapped[list[CommitmentResult]] = relationship(
        back_populates="classification",
        order_by="CommitmentResult.commitment",
        cascade="all, delete-orphan",
    )


class CommitmentResult(Base):
    __tablename__ = "commitment_results"
    __table_args__ = (UniqueConstraint("classification_id", "commitment"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    classification_id: Mapped[int] = mapped_column(
        ForeignKey("classifications.id", ondelete="CASCADE")
    )
    commitment: Mapped[str] = mapped_column(String(4))
    supported: Mapped[bool] = mapped_column(Boolean)
    confidence: Mapped[float] = mapped_column(Float)
    #: [{"text", "page", "pattern_ids", "score"}, ...] best first
    evidence: Mapped[list] = mapped_column(JSON, default=list)
    #: what the rules alone decided where the learned model took part (its decision rule decides and
    #: may overturn them); None where the rules alone decided, or stored before it was kept
    rules_supported: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    classification: Mapped[Classification] = relationship(back_populates="results")


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(120), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(20), default="reviewer")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    #: False once removed (``evidencia user remove``): the row stays, its decisions name it.
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class ReviewerSession(Base):
    """A reviewer's login, server-side so that logout, a password change or the account's
    removal ends it. The client holds a random token; only its keyed digest is stored here."""

    __tablename__ = "reviewer_sessions"
    #: HMAC-SHA256 of the token under the secret key (``service.domain.access``)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    user: Mapped[User] = relationship()


class Decision(Base):
    """A reviewer's decision on one commitment of a submission; never updated, never deleted."""

    __tablename__ = "decisions"
    __table_args__ = (
        Index("ix_decisions_sub_commitment", "submission_id", "commitment"),
        UniqueConstraint("undoes_id", name="uq_decisions_undoes_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"))
    commitment: Mapped[str] = mapped_column(String(4))
    #: a ``DecisionAction``: confirm, reject, attach (supported by a given document/excerpt),
    #: undo (takes back the entry ``undoes_id``) or comment (decides nothing)
    action: Mapped[str] = mapped_column(String(20))
    document_id: Mapped[str | None] = mapped_column(ForeignKey("documents.id"), nullable=True)
    excerpt: Mapped[str | None] = mapped_column(Text, nullable=True)
    page: Mapped[int | None] = mapped_column(Integer, nullable=True)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: classifier version of the matrix the reviewer saw when deciding
    classifier_version: Mapped[str | None] = mapped_column(String(60), nullable=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    #: for ``undo``: the decision it takes back
    undoes_id: Mapped[int | None] = mapped_column(
        ForeignKey("decisions.id", name="fk_decisions_undoes_id"), nullable=True,
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    reviewer: Mapped[User] = relationship()
    #: for ``confirm`` naming no document: the documents it rests on (``DecisionDocument``);
    #: empty for every other entry and for confirmations stored before migration 0014
    endorsements: Mapped[list[DecisionDocument]] = relationship(
        lazy="selectin", order_by=lambda: DecisionDocument.document_id)


class DecisionDocument(Base):
    """A document a confirmation rests on without naming it: each document the matrix showed
    as supporting the commitment when the reviewer confirmed (and the document of the verified
    excerpt in force it stood on). Written with the decision, never changed: the confirmation
    holds while one of them is still in the submission (``matrix.decision_stacks``), and
    ``evidencia train`` labels these documents, not the ones uploaded after it."""

    __tablename__ = "decision_documents"
    decision_id: Mapped[int] = mapped_column(
        ForeignKey("decisions.id", name="fk_decision_documents_decision_id"), primary_key=True)
    document_id: Mapped[str] = mapped_column(
        ForeignKey("documents.id", name="fk_decision_documents_document_id"), primary_key=True)


class ReviewFlag(Base):
    """Set when reprocessing flips a cell that a reviewer already decided: never auto-changed."""

    __tablename__ = "review_flags"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), index=True)
    commitment: Mapped[str] = mapped_column(String(4))
    old_version: Mapped[str] = mapped_column(String(60))
    new_version: Mapped[str] = mapped_column(String(60))
    old_supported: Mapped[bool] = mapped_column(Boolean)
    new_supported: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ModelTraining(Base):
    """One run of ``evidencia train``: the candidate model and the model in force scored on the
    same held-out data, and whether the candidate was promoted. Never updated."""

    __tablename__ = "model_trainings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    promoted: Mapped[bool] = mapped_column(Boolean)
    #: classifier versions before and after the run (the same when nothing was promoted)
    version_before: Mapped[str] = mapped_column(String(60))
    version_after: Mapped[str] = mapped_column(String(60))
    #: checksum of the candidate artefact, and of its training data
    candidate_checksum: Mapped[str] = mapped_column(String(64))
    data_fingerprint: Mapped[str] = mapped_column(String(64))
    #: {"decisions": {...}, "corpus": {...}}: macro-F1, per-commitment F1, precision@3
    candidate_scores: Mapped[dict] = mapped_column(JSON)
    current_scores: Mapped[dict] = mapped_column(JSON)
    #: what it learned from: corpus files, decided documents (training / held out), organisations
    counts: Mapped[dict] = mapped_column(JSON)


class ReviewEvent(Base):
    """One step of a submission's review workflow (``service.domain.workflow``): append-only."""

    __tablename__ = "review_events"
    __table_args__ = (Index("ix_review_events_submission", "submission_id", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"))
    from_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    to_status: Mapped[str] = mapped_column(String(20))
    #: the reviewer who acted; None when the applicant did (submit, resubmit)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    #: who the submission is assigned to after this step
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: {"c1": "message to the applicant about c1", ...}
    commitments: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    assigned_to: Mapped[User | None] = relationship(foreign_keys=[assigned_to_id])


class OutboxEmail(Base):
    """An e-mail to send, written in the transaction of what caused it; an rq job sends it."""

    __tablename__ = "outbox_emails"
    __table_args__ = (Index("ix_outbox_emails_status", "status"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[str | None] = mapped_column(ForeignKey("submissions.id"), nullable=True)
    #: what it tells: observada, aprobada, no_aprobada, lost_link
    kind: Mapped[str] = mapped_column(String(20))
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    #: the text; ``{link}`` stands for the secret link, kept in ``secret`` only until sent
    body: Mapped[str] = mapped_column(Text)
    secret: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: pending, sent, failed (retries used up) or skipped (no SMTP host configured)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class IdempotencyKey(Base):
    """The answer given to a request sent with an ``Idempotency-Key``, stored with what it
    created, so a retry gets the same answer (``service.domain.idempotency``)."""

    __tablename__ = "idempotency_keys"
    #: what the key is for: "submission", or "upload:<submission id>"
    scope: Mapped[str] = mapped_column(String(80), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    #: sha256 of the request, to refuse the same key with another request
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    #: {"body": {...}, "sealed": {"token": <Fernet>}}
    response: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now,
                                                 index=True)


# --- version stamps -----------------------------------------------------------------------------


def bump_versions(
    session: Session, *, submissions=(), documents=(), organizations=()
) -> None:
    """Bump the version of these submissions, of those holding these documents and of those
    of these organisations, in the session's transaction. The ORM does it on every flush;
    statements that bypass it (bulk inserts) call this themselves."""
    table, version = Submission.__table__, Submission.__table__.c.version
    conditions = []
    if submissions:
        conditions.append(table.c.id.in_(sorted(set(submissions))))
    if documents:
        conditions.append(table.c.id.in_(
            select(Document.submission_id).where(Document.id.in_(sorted(set(documents))))))
    if organizations:
        conditions.append(table.c.organization_id.in_(sorted(set(organizations))))
    connection = session.connection()  # not session.execute: no autoflush from inside a flush
    for condition in conditions:
        connection.execute(update(table).where(condition).values(version=version + 1))


@event.listens_for(Session, "before_flush")
def _stamp_changes(session: Session, _context, _instances) -> None:
    """Every flush that adds, changes or deletes what a submission's status or matrix shows
    bumps that submission's version first (so, on PostgreSQL, the submission row is locked
    before its documents: concurrent writers queue in one order)."""
    submissions: set[str] = set()
    documents: set[str] = set()
    organizations: set[str] = set()
    with session.no_autoflush:
        _changed(session, submissions, documents, organizations)
    if submissions or documents or organizations:
        bump_versions(session, submissions=submissions, documents=documents,
                      organizations=organizations)


@event.listens_for(Session, "do_orm_execute")
def _stamp_statements(state) -> None:
    """The same for UPDATE and DELETE statements run through the session (the lifecycle's and
    the review workflow's compare-and-set): a submission's own update bumps its version in
    the statement itself; a documents' update first bumps the submissions of the documents it
    targets."""
    if not (state.is_update or state.is_delete):
        return
    entity = state.bind_mapper.class_ if state.bind_mapper is not None else None
    statement = state.statement
    if entity is Submission and state.is_update:
        state.statement = statement.values(version=Submission.version + 1)
    elif entity is Document and statement.whereclause is not None:
        targets = select(Document.submission_id).where(statement.whereclause)
        table = Submission.__table__
        state.session.connection().execute(
            update(table).where(table.c.id.in_(targets)).values(version=table.c.version + 1))


def _changed(session: Session, submissions: set, documents: set, organizations: set) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Document):
            sub = obj.submission_id or (obj.submission.id if obj.submission else None)
            if sub:
                submissions.add(sub)
        elif isinstance(obj, (Decision, ReviewFlag, ReviewEvent)):
            if obj.submission_id:
                submissions.add(obj.submission_id)
        elif isinstance(obj, Submission) and obj not in session.new:
            submissions.add(obj.id)  # its review status, assignment, contact
        elif isinstance(obj, Classification):
            if obj.document_id:
                documents.add(obj.document_id)
        elif isinstance(obj, CommitmentResult):
            classification = obj.classification
            if classification is not None and classification.document_id:
                documents.add(classification.document_id)
        elif isinstance(obj, Organization) and obj.id and obj not in session.new:
            organizations.add(obj.id)
