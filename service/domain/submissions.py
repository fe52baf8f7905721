"""Submissions: create one, add files to it (reviewers' decisions: ``decisions``).

The upload path is store → commit → enqueue: rows are committed before their jobs are queued, so
a worker never sees a job whose document it cannot load, and if Redis is down the committed
``queued`` documents are picked up later by ``evidencia requeue`` (the database is the truth).
A bad file never sinks an upload: it becomes a document in status ``error`` with a Spanish reason.
"""

from __future__ import annotations

import contextlib
import logging
import re
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from extractors.archive import Archive, is_container, open_archive
from extractors.errors import EvidenciaError
from extractors.options import ExtractOptions
from service.db import fetch_one
from service.domain import clock, lifecycle, organizations, text
from service.domain import rut as rut_module
from service.domain.access import SubmissionStamp, hash_token, new_token
from service.domain.codes import DocumentStatus, Lane
from service.domain.dispatch import get_dispatcher
from service.domain.errors import LimitError, NotFoundError, ValidationError
from service.domain.mail import normalize_email
from service.domain.messages import RUT_PROBLEMS, error_message, format_limit
from service.domain.models import (
    Document,
    StoredFile,
    Submission,
)
from service.domain.storage import path_for, store_bytes, store_stream
from service.domain.text import BIDI_CONTROLS, CONTROL_CHARACTERS
from service.domain.workflow import ReviewStatus, initial_status
from service.settings import get_settings

__all__ = [
    "ValidationError",
    "normalize_rut",
    "submission_problems",
    "create_submission",
    "find_submission",
    "get_submission",
    "read_stamp",
    "add_files",
    "duplicates_of",
    "stored_name",
]

log = logging.getLogger(__name__)

#: Longest organisation name kept (the column's size).
MAX_ORGANIZATION_CHARS = 300
#: Longest name an uploaded file may have (what file systems allow for one name).
MAX_NAME_CHARS = 255
#: Longest document name kept (the column's size): an archive member's full path.
MAX_STORED_NAME_CHARS = 1000


def normalize_rut(rut: str) -> str:
    """``"76.543.210-3"`` → ``"76543210-3"``; raises ValidationError (field "rut") saying
    what is wrong: missing, malformed, or a check digit that does not match."""
    try:
        return rut_module.normalize_rut(rut)
    except rut_module.RutError as exc:
        code = "missing_rut" if exc.reason == "empty" else "invalid_rut"
        raise ValidationError(RUT_PROBLEMS[exc.reason], code=code, field="rut",
                              detail=str(exc)) from None


def submission_problems(
    organization: str, rut: str | None, *, rut_required: bool = False, email: str | None = None
) -> list[ValidationError]:
    """Everything wrong with a new submission's fields at once (a form shows each by its
    field); empty when it can be created."""
    problems = []
    name = " ".join((organization or "").split())
    if not name:
        problems.append(ValidationError(code="missing_organization", field="organization"))
    elif len(name) > MAX_ORGANIZATION_CHARS:
        problems.append(ValidationError(code="organization_too_long", field="organization"))
    if rut_required or (rut and rut.strip()):
        try:
            normalize_rut(rut or "")
        except ValidationError as exc:
            problems.append(exc)
    try:
        normalize_email(email)
    except ValidationError as exc:
        problems.append(exc)
    return problems


def create_submission(
    session: Session,
    organization: str,
    rut: str | None,
    *,
    source: str = "upload",
    source_key: str | None = None,
    email: str | None = None,
    before_commit: Callable[[Submission, str], None] | None = None,
) -> tuple[Submission, str]:
    """Create a submission; return it with its secret token (shown once, only its hash kept).

    The organisation is reused when one with the same RUT exists: its registered name stays,
    a different name is kept as an alias (``service.domain.organizations``). A ``source_key``
    already used raises ValidationError: look it up first with :func:`find_submission`.
    ``before_commit`` adds to the same transaction (the answer kept for an idempotency key).
    """
    organization, rut, email = text.clean(organization), text.clean(rut), text.clean(email)
    problems = submission_problems(organization, rut, email=email)
    if problems:
        raise problems[0]
    name = " ".join(organization.split())
    normalized = normalize_rut(rut) if rut and rut.strip() else None
    if source_key is not None and find_submission(session, source_key) is not None:
        raise ValidationError(code="duplicate_source", detail=f"source_key {source_key!r} exists")
    status = initial_status(source)
    for attempt in range(2):  # another request may register the same new RUT at once
        org, new = organizations.find_or_register(session, name, normalized)
        token = new_token()
        submission = Submission(
            id=uuid.uuid4().hex, organization=org, token_hash=hash_token(token), source=source,
            source_key=source_key, contact_email=normalize_email(email), status=status,
            submitted_at=clock.now() if status == ReviewStatus.enviada else None,
        )
        session.add(submission)
        try:
            session.flush()
            organizations.record_name(session, org, name, submission, new=new)
            if before_commit is not None:
                before_commit(submission, token)
            session.commit()
        except IntegrityError:
            session.rollback()
            if attempt or not new:
                raise
            continue
        return submission, token
    raise AssertionError("unreachable")


def find_submission(session: Session, source_key: str) -> Submission | None:
    return session.scalar(select(Submission).where(Submission.source_key == source_key))


def get_submission(session: Session, submission_id: str) -> Submission:
    """The submission with its organisation (one query: every caller shows its name)."""
    submission = session.get(
        Submission, submission_id, options=[joinedload(Submission.organization)]
    )
    if submission is None:
        raise NotFoundError(code="submission_not_found")
    return submission


_STAMP = select(Submission.__table__.c.version, Submission.__table__.c.token_hash).where(
    Submission.__table__.c.id == bindparam("id"))


def read_stamp(submission_id: str) -> SubmissionStamp:
    """The submission's version stamp and token digest: one indexed row, one statement in
    autocommit (no ORM session, no SQLAlchemy ``Connection``: ``service.db.fetch_one``), for
    the reads answered from a cache kept per version."""
    row = fetch_one(_STAMP, {"id": submission_id})
    if row is None:
        raise NotFoundError(code="submission_not_found")
    return SubmissionStamp(submission_id, *row)


@dataclass(frozen=True, slots=True)
class _Entry:
    """One file to become a Document: where its bytes are stored, or why they cannot be read."""

    name: str
    sha: str | None = None  # set once the bytes are in the file store
    size: int = 0
    mime: str | None = None
    error_code: str | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class _Upload:
    """One uploaded file: a document, or an archive already listed from its directory."""

    name: str
    data: bytes | None = None
    archive: Archive | None = None  # open until the upload is stored
    archive_file: str = ""  # the temporary file's name, shown when the archive is unreadable
    problem: tuple[str, str] | None = None

    def documents(self) -> int:
        return len(self.archive) if self.archive is not None else 1


def add_files(
    session: Session,
    submission: Submission,
    files: Iterable[tuple[str, bytes]],
    *,
    queue_name: str = Lane.interactive,
    before_commit: Callable[[list[Document]], None] | None = None,
    on_unqueued: Callable[[Document, Exception], None] | None = None,
) -> list[Document]:
    """Store files (ZIPs expanded) as documents of ``submission``, commit, then enqueue them.

    ``before_commit`` adds to the transaction of the documents (the answer kept for an
    idempotency key): what the client is told and what was created are durable together.
    ``on_unqueued(document, exc)`` is told of each document committed as queued that the
    queue refused (Redis down; the workers' sweep queues it later) instead of the log
    (``evidencia batch`` says it once, in Spanish).

    Archives are counted from their directory before anything is expanded, then each member is
    streamed into the file store (never held whole in memory). Raises LimitError only for the
    request as a whole (too many files); every per-file problem (empty, too large, unsupported
    type, bad or bomb archive member) becomes a document in error.
    """
    settings = get_settings()
    options = settings.extract_options()
    with contextlib.ExitStack() as stack:
        uploads = [_open_upload(stack, name, data, options) for name, data in files]
        if sum(u.documents() for u in uploads) > settings.max_files_per_upload:
            raise LimitError(
                error_message("too_many_files", limit=settings.max_files_per_upload),
                detail=f"more than {settings.max_files_per_upload} files",
            )
        mimes: dict[str, str] = {}
        # file I/O before any database write: SQLite's write lock is then held only briefly
        entries = [entry for upload in uploads for entry in _store(upload, mimes)]
    documents = [_document_for(session, submission, entry, queue_name) for entry in entries]
    if before_commit is not None:
        before_commit(documents)
    session.commit()
    _enqueue(documents, on_unqueued)
    return documents


def duplicates_of(session: Session, documents: Iterable[Document]) -> dict[str, str]:
    """Each of ``documents`` that is a later copy (the same bytes) of a document of its
    submission, mapped to that first document's id, by the matrix's rule
    (``matrix.first_copies``), so an upload's answer says what the matrix and the listing will
    say."""
    from service.domain.matrix import first_copies

    documents = [d for d in documents if d.sha256]
    if not documents:
        return {}
    session.flush()  # the new rows' created_at, as the listing will read them
    firsts: dict[tuple[str, str], str] = {}
    for submission_id in {d.submission_id for d in documents}:
        rows = session.execute(
            select(Document.id, Document.sha256, Document.created_at).where(
                Document.submission_id == submission_id, Document.removed_at.is_(None),
                Document.sha256.in_({d.sha256 for d in documents})))
        for sha, doc_id in first_copies(rows).items():
            firsts[(submission_id, sha)] = doc_id
    found = {d.id: firsts.get((d.submission_id, d.sha256), d.id) for d in documents}
    return {doc_id: first for doc_id, first in found.items() if first != doc_id}


def _open_upload(
    stack: contextlib.ExitStack, name: str, data: bytes, options: ExtractOptions
) -> _Upload:
    name, problem = _upload_name(name)
    problem = problem or _size_problem(len(data), options.max_file_bytes)
    if problem:
        return _Upload(name, problem=problem)
    # a container (a ZIP, even a damaged one, whose lister reports what it cannot open; an
    # e-mail) is listed; DOCX, XLSX, ODT… are ZIPs too, but documents
    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="evidencia-up-")))
    path = folder / "upload"
    path.write_bytes(data)
    if not is_container(path):
        return _Upload(name, data)
    try:
        archive = stack.enter_context(open_archive(path, options=options))
    except Exception as exc:  # the archive itself is unreadable: one error document
        log.info("archive %s rejected: %r", name, exc)
        code = getattr(exc, "code", "corrupt")
        return _Upload(name, problem=(code, getattr(exc, "message", None) or error_message(code)))
    return _Upload(name, archive=archive, archive_file=path.name)


def _store(upload: _Upload, mimes: dict[str, str]) -> Iterator[_Entry]:
    """Entries of one upload, their bytes in the store: members are streamed one at a time."""
    if upload.problem is not None:
        yield _Entry(upload.name, error_code=upload.problem[0], error=upload.problem[1])
        return
    if upload.archive is None:
        sha = store_bytes(upload.data)
        yield _Entry(upload.name, sha, len(upload.data), _mime_of(sha, mimes))
        return
    listed = False
    for member in upload.archive:
        listed = True
        # the archive itself unreadable is reported under the temporary file's name
        name = _fit(upload.name if member.name == upload.archive_file
                    else f"{upload.name}/{_shown(member.name)}", MAX_STORED_NAME_CHARS)
        if member.error is not None:
            yield _Entry(name, error_code=member.error.code, error=member.error.message)
            continue
        if member.size == 0:
            yield _Entry(name, error_code="empty_file", error=error_message("empty_file"))
            continue
        try:
            with member.open() as stream:
                sha, size = store_stream(stream)
        except EvidenciaError as exc:  # damaged member data, or more bytes than declared
            yield _Entry(name, error_code=exc.code, error=exc.message)
            continue
        yield _Entry(name, sha, size, _mime_of(sha, mimes))
    if not listed:  # empty, or only hidden and system files: said, never nothing at all
        yield _Entry(upload.name, error_code="empty_archive", error=error_message("empty_archive"))


def stored_name(raw: str | None) -> str:
    """The name :func:`add_files` stores a file sent as ``raw`` under (control characters as
    ``?``, empty and ``..`` parts dropped, shortened past ``MAX_NAME_CHARS``), so a caller
    that finds its documents again by name (``evidencia batch``) asks for that one, even for
    a file refused for its name."""
    return _upload_name(raw)[0]


def _upload_name(raw: str | None) -> tuple[str, tuple[str, str] | None]:
    """The name an uploaded file is shown under, and the problem when the name itself is
    hostile: control characters (a NUL byte…, or a bidirectional control that disguises
    its extension), a path that is absolute or climbs (``..``), or
    longer than ``MAX_NAME_CHARS``. Such a file becomes a document in error saying so; the
    rest of the upload goes on."""
    raw = (raw or "").replace("\\", "/")
    parts = [p for p in _shown(raw).strip().split("/") if p not in ("", ".")]
    shown = "/".join(p for p in parts if p != "..") or "archivo"
    problem = None
    if CONTROL_CHARACTERS.search(raw) or BIDI_CONTROLS.search(raw):
        problem = "invalid_name", error_message("invalid_name")
    elif ".." in parts or raw.startswith("/") or re.match(r"[A-Za-z]:/", raw):
        problem = "invalid_name", error_message("invalid_name")
    elif len(shown) > MAX_NAME_CHARS:
        problem = "name_too_long", error_message("name_too_long", limit=MAX_NAME_CHARS)
    return _fit(shown, MAX_NAME_CHARS), problem


def _shown(name: str) -> str:
    """A name fit to show and store: control characters (bidirectional ones too) as ``?``."""
    return BIDI_CONTROLS.sub("?", CONTROL_CHARACTERS.sub("?", name))


def _fit(name: str, limit: int) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def _size_problem(size: int, max_bytes: int) -> tuple[str, str] | None:
    if not size:
        return "empty_file", error_message("empty_file")
    if size > max_bytes:
        return "too_large", error_message("too_large", limit=format_limit(max_bytes))
    return None


def _mime_of(sha: str, mimes: dict[str, str]) -> str:
    if sha not in mimes:
        mimes[sha] = _detect_mime(path_for(sha))
    return mimes[sha]


def _document_for(session: Session, submission: Submission, entry: _Entry, queue: str) -> Document:
    document = Document(id=uuid.uuid4().hex, submission=submission, name=entry.name,
                        queue_name=queue)
    session.add(document)
    if entry.sha is None:
        _mark_error(document, entry.error_code or "extraction_failed", entry.error)
        return document
    if not _accepted(entry.mime):
        # refused bytes (SVG, executables…) are not kept: nothing can ever serve them back
        document.size, document.mime = entry.size, entry.mime
        refusal = _refusal(entry.name, entry.mime)
        _mark_error(document, refusal.code, refusal.message)
        _discard_refused(session, entry.sha)
        return document
    stored = session.get(StoredFile, entry.sha)
    if stored is None:
        stored = StoredFile(sha256=entry.sha, size=entry.size, mime=entry.mime)
        try:
            with session.begin_nested():  # the same bytes may arrive in a concurrent upload
                session.add(stored)
        except IntegrityError:
            stored = session.get(StoredFile, entry.sha, populate_existing=True)
    document.sha256 = stored.sha256
    document.size = stored.size
    document.mime = stored.mime
    lifecycle.queue(document, get_dispatcher().job_id(document.id))
    return document


def _discard_refused(session: Session, sha: str) -> None:
    """Remove refused bytes from the store, unless a row kept from before references them."""
    if session.get(StoredFile, sha) is None:
        path_for(sha).unlink(missing_ok=True)


def _mark_error(document: Document, code: str, message: str | None) -> None:
    lifecycle.fail(document, code, message or error_message(code), finished=False)


def _enqueue(documents: list[Document],
             on_unqueued: Callable[[Document, Exception], None] | None = None) -> None:
    dispatcher = get_dispatcher()
    for document in documents:
        if document.status != DocumentStatus.queued:
            continue
        try:
            dispatcher.enqueue_document(document.id, Lane(document.queue_name))
        except Exception as exc:  # Redis down: the row is committed as queued; requeue picks it up
            if on_unqueued is not None:
                on_unqueued(document, exc)
            else:
                log.warning("could not enqueue document %s; `evidencia requeue` will",
                            document.id, exc_info=True)


def _detect_mime(path: Path) -> str:
    from extractors import detect_mime

    return detect_mime(path)


def _refusal(name: str, mime: str | None) -> EvidenciaError:
    """Why bytes no extractor reads are refused: a damaged file when they are nothing at all
    under a name that says what they should be ("informe.pdf"), else an unsupported type."""
    from extractors.errors import DamagedFileError, UnsupportedTypeError
    from extractors.registry import claimed_kind

    kind = claimed_kind(name, mime or "application/octet-stream")
    if kind is not None:
        return DamagedFileError(kind)
    return UnsupportedTypeError()


def _accepted(mime: str | None) -> bool:
    """Whether an extractor reads this type (the extractors' registry is the one list)."""
    from extractors.registry import parser_for

    return bool(mime) and parser_for(mime) is not None
