"""Submissions: create one, add files to it, record reviewers' decisions.

The upload path is store → commit → enqueue: rows are committed before their jobs are queued, so
a worker never sees a job whose document it cannot load, and if Redis is down the committed
``queued`` documents are picked up later by ``evidencia requeue`` (the database is the truth).
A bad file never sinks an upload: it becomes a document in status ``error`` with a Spanish reason.
"""

from __future__ import annotations

import logging
import tempfile
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from classifiers.result import COMMITMENT_IDS
from service.domain import lifecycle
from service.domain import rut as rut_module
from service.domain.access import hash_token, new_token
from service.domain.errors import LimitError, NotFoundError, ValidationError
from service.domain.lifecycle import DecisionAction, DocumentStatus, Lane
from service.domain.messages import error_message
from service.domain.models import (
    Classification,
    Decision,
    Document,
    Organization,
    ReviewFlag,
    StoredFile,
    Submission,
    User,
)
from service.domain.storage import path_for, store_bytes
from service.settings import get_settings

__all__ = [
    "ValidationError",
    "ZIP_MIMES",
    "normalize_rut",
    "create_submission",
    "find_submission",
    "get_submission",
    "add_files",
    "record_decision",
    "decision_history",
]

log = logging.getLogger(__name__)

ZIP_MIMES = frozenset({"application/zip", "application/x-zip-compressed"})
_ZIP_LIKE = ZIP_MIMES | {"application/octet-stream"}

def normalize_rut(rut: str) -> str:
    """``"76.543.210-3"`` → ``"76543210-3"``; raises ValidationError if the check digit is wrong."""
    try:
        return rut_module.normalize_rut(rut)
    except rut_module.RutError as exc:
        raise ValidationError(code="invalid_rut", detail=str(exc)) from None


def create_submission(
    session: Session,
    organization: str,
    rut: str | None,
    *,
    source: str = "upload",
    source_key: str | None = None,
) -> tuple[Submission, str]:
    """Create a submission; return it with its secret token (shown once, only its hash kept).

    The organisation is reused when one with the same RUT exists. A ``source_key`` already used
    raises ValidationError: look it up first with :func:`find_submission`.
    """
    name = " ".join((organization or "").split())
    if not name:
        raise ValidationError(code="missing_organization")
    normalized = normalize_rut(rut) if rut and rut.strip() else None
    if source_key is not None and find_submission(session, source_key) is not None:
        raise ValidationError(code="duplicate_source", detail=f"source_key {source_key!r} exists")
    org = None
    if normalized:
        org = session.scalar(select(Organization).where(Organization.rut == normalized))
    if org is None:
        org = Organization(name=name, rut=normalized)
        session.add(org)
    token = new_token()
    submission = Submission(
        organization=org, token_hash=hash_token(token), source=source, source_key=source_key
    )
    session.add(submission)
    session.commit()
    return submission, token


def find_submission(session: Session, source_key: str) -> Submission | None:
    return session.scalar(select(Submission).where(Submission.source_key == source_key))


def get_submission(session: Session, submission_id: str) -> Submission:
    submission = session.get(Submission, submission_id)
    if submission is None:
        raise NotFoundError(code="submission_not_found")
    return submission


@dataclass(frozen=True, slots=True)
class _Entry:
    """One file to become a Document: its bytes, or the reason it cannot be read."""

    name: str
    data: bytes | None
    error_code: str | None = None
    error: str | None = None
    sha: str | None = None  # set once the bytes are in the file store
    mime: str | None = None


def add_files(
    session: Session,
    submission: Submission,
    files: Iterable[tuple[str, bytes]],
    *,
    queue_name: str = Lane.interactive,
) -> list[Document]:
    """Store files (ZIPs expanded) as documents of ``submission``, commit, then enqueue them.

    Raises LimitError only for the request as a whole (too many files); every per-file problem
    (empty, too large, unsupported type, bad archive member) becomes a document in error.
    """
    settings = get_settings()
    entries: list[_Entry] = []
    for name, data in files:
        entries.extend(_expand(name, data, settings.max_file_bytes))
        if len(entries) > settings.max_files_per_upload:
            raise LimitError(
                error_message("too_many_files", limit=settings.max_files_per_upload),
                detail=f"more than {settings.max_files_per_upload} files",
            )
    mimes: dict[str, str] = {}
    entries = [_store_bytes(entry, mimes) for entry in entries]
    documents = [_document_for(session, submission, entry, queue_name) for entry in entries]
    session.commit()
    _enqueue(documents)
    return documents


def _expand(name: str, data: bytes, max_bytes: int) -> list[_Entry]:
    name = _clean_name(name)
    problem = _size_problem(data, max_bytes)
    if problem:
        return [_Entry(name, None, *problem)]
    # a ZIP, or bytes that start like one but libmagic cannot name (a damaged ZIP): the
    # archive walker reports what it cannot open. DOCX, XLSX… are ZIPs with a type of their own.
    if not data.startswith(b"PK") or _detect_mime_bytes(data) not in _ZIP_LIKE:
        return [_Entry(name, data)]
    from extractors.archive import iter_archive

    entries: list[_Entry] = []
    with tempfile.TemporaryDirectory(prefix="evidencia-zip-") as tmp:
        path = Path(tmp) / "upload.zip"
        path.write_bytes(data)
        try:
            for member in iter_archive(path):
                # the archive itself unreadable is reported under the temporary file's name
                member_name = name if member.name == path.name else f"{name}/{member.name}"
                if member.error is not None:
                    entries.append(
                        _Entry(member_name, None, member.error.code, member.error.message)
                    )
                elif member.data is not None:
                    problem = _size_problem(member.data, max_bytes)
                    entries.append(_Entry(member_name, None if problem else member.data,
                                          *(problem or (None, None))))
        except Exception as exc:  # the archive itself is unreadable: one error document
            code = getattr(exc, "code", "corrupt")
            message = getattr(exc, "message", None) or error_message("corrupt")
            log.info("archive %s rejected: %r", name, exc)
            entries.append(_Entry(name, None, code, message))
    return entries


def _clean_name(name: str) -> str:
    name = (name or "").replace("\\", "/").strip().lstrip("/")
    return name[:1000] or "archivo"


def _size_problem(data: bytes, max_bytes: int) -> tuple[str, str] | None:
    if not data:
        return "empty_file", error_message("empty_file")
    if len(data) > max_bytes:
        return "too_large", error_message("too_large", limit_mb=max_bytes // (1024 * 1024))
    return None


def _store_bytes(entry: _Entry, mimes: dict[str, str]) -> _Entry:
    """File I/O before any database write: SQLite's write lock is then held only briefly."""
    if entry.data is None:
        return entry
    sha = store_bytes(entry.data)
    if sha not in mimes:
        mimes[sha] = _detect_mime(path_for(sha))
    return replace(entry, sha=sha, mime=mimes[sha])


def _document_for(session: Session, submission: Submission, entry: _Entry, queue: str) -> Document:
    from evidencia_queue.enqueue import job_id_for

    document = Document(id=uuid.uuid4().hex, submission=submission, name=entry.name,
                        queue_name=queue)
    session.add(document)
    if entry.sha is None:
        _mark_error(document, entry.error_code or "extraction_failed", entry.error)
        return document
    if not _accepted(entry.mime):
        # refused bytes (SVG, executables…) are not kept: nothing can ever serve them back
        document.size, document.mime = len(entry.data), entry.mime
        _mark_error(document, "unsupported_type", None)
        _discard_refused(session, entry.sha)
        return document
    stored = session.get(StoredFile, entry.sha)
    if stored is None:
        stored = StoredFile(sha256=entry.sha, size=len(entry.data), mime=entry.mime)
        try:
            with session.begin_nested():  # the same bytes may arrive in a concurrent upload
                session.add(stored)
        except IntegrityError:
            stored = session.get(StoredFile, entry.sha, populate_existing=True)
    document.sha256 = stored.sha256
    document.size = stored.size
    document.mime = stored.mime
    lifecycle.queue(document, job_id_for(document.id))
    return document


def _discard_refused(session: Session, sha: str) -> None:
    """Remove refused bytes from the store, unless a row kept from before references them."""
    if session.get(StoredFile, sha) is None:
        path_for(sha).unlink(missing_ok=True)


def _mark_error(document: Document, code: str, message: str | None) -> None:
    lifecycle.fail(document, code, message or error_message(code), finished=False)


def _enqueue(documents: list[Document]) -> None:
    from evidencia_queue.enqueue import enqueue_document

    for document in documents:
        if document.status != DocumentStatus.queued:
            continue
        try:
            enqueue_document(document.id, document.queue_name)
        except Exception:  # Redis down: the row is committed as queued; requeue picks it up
            log.warning("could not enqueue document %s; `evidencia requeue` will", document.id,
                        exc_info=True)


def _detect_mime(path: Path) -> str:
    from extractors import detect_mime

    return detect_mime(path)


def _accepted(mime: str | None) -> bool:
    """Whether an extractor reads this type (the extractors' registry is the one list)."""
    from extractors.registry import parser_for

    return bool(mime) and parser_for(mime) is not None


def _detect_mime_bytes(data: bytes) -> str:
    with tempfile.NamedTemporaryFile(prefix="evidencia-mime-") as tmp:
        tmp.write(data)
        tmp.flush()
        return _detect_mime(Path(tmp.name))


def record_decision(
    session: Session,
    submission_id: str,
    commitment: str,
    action: str,
    reviewer: User,
    *,
    document_id: str | None = None,
    excerpt: str | None = None,
    page: int | None = None,
    comment: str | None = None,
) -> Decision:
    """Append a reviewer decision; the newest one per commitment is in force, none is erased.

    It also resolves the commitment's open review flags (reprocessing flipped a decided cell).
    """
    submission = get_submission(session, submission_id)
    if commitment not in COMMITMENT_IDS:
        raise ValidationError(code="invalid_commitment")
    if action not in DecisionAction.__members__:
        raise ValidationError(code="invalid_action")
    if document_id is not None:
        document = session.get(Document, document_id)
        if document is None or document.submission_id != submission.id:
            raise NotFoundError(code="document_not_found")
    if action == DecisionAction.attach and not (document_id or (excerpt and excerpt.strip())):
        raise ValidationError(error_message("attach_needs_evidence"), code="validation")
    decision = Decision(
        submission_id=submission.id,
        commitment=commitment,
        action=action,
        document_id=document_id,
        excerpt=excerpt.strip() if excerpt else None,
        page=page,
        comment=comment.strip() if comment and comment.strip() else None,
        classifier_version=_current_classifier_version(session, submission.id),
        reviewer_id=reviewer.id,
    )
    session.add(decision)
    # deciding again is the reviewer's answer to "reprocessing flipped this cell"
    for flag in session.scalars(
        select(ReviewFlag).where(
            ReviewFlag.submission_id == submission.id,
            ReviewFlag.commitment == commitment,
            ReviewFlag.resolved_at.is_(None),
        )
    ):
        flag.resolved_at = datetime.now(UTC)
    session.commit()
    return decision


def decision_history(session: Session, submission_id: str) -> list[Decision]:
    """Every decision on the submission, oldest first."""
    get_submission(session, submission_id)
    return list(
        session.scalars(
            select(Decision)
            .where(Decision.submission_id == submission_id)
            .options(selectinload(Decision.reviewer))
            .order_by(Decision.created_at, Decision.id)
        )
    )


def _current_classifier_version(session: Session, submission_id: str) -> str | None:
    return session.scalar(
        select(Classification.classifier_version)
        .join(Document, Document.id == Classification.document_id)
        .where(Document.submission_id == submission_id)
        .order_by(Classification.id.desc())
        .limit(1)
    )
