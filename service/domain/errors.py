"""Every error a person can meet, as a stable code that says how each surface reports it.

``ErrorCode`` is the one table: for each code the HTTP status the API answers with, the exit
code of the command line, whether another attempt may succeed (``retryable``: the fault is the
server's and passes) and whether the file is at fault (``document_fault``: that document fails,
the others go on). The Spanish words live in ``service.domain.messages``.

Exceptions are the pipeline's (``extractors.errors``) and the service's own
(:class:`ServiceError` and its subclasses, all ``EvidenciaError``). Each surface turns them into
its answer at exactly one boundary: ``service.api.errors`` (HTTP), ``service.cli.main`` (exit
codes), ``service.domain.pipeline`` (a job). :func:`fault_of` says which code any exception is.
"""

from __future__ import annotations

import enum

from extractors.errors import EvidenciaError, ExtractionError
from service.domain.messages import error_message

__all__ = [
    "ErrorCode",
    "fault_of",
    "ServiceError",
    "ValidationError",
    "LimitError",
    "NotFoundError",
    "AuthenticationError",
    "PermissionDeniedError",
    "RateLimitError",
    "UsageError",
    "UnavailableError",
]

# exit codes of the command line
_FAILED = 1  # some file or job failed
_USAGE = 2  # usage or configuration error


def _request(code: str, status: int = 422) -> tuple:
    """A request or command the user can fix (or may not make)."""
    return code, status, _USAGE, False, False


def _document(code: str, status: int = 422) -> tuple:
    """A file that cannot be read: that document fails, the others go on."""
    return code, status, _FAILED, False, True


def _not_here(code: str, status: int = 415) -> tuple:
    """A kind of file this deployment does not read (its converter was left out of the image on
    purpose): that document fails, saying what to send instead; another attempt cannot help."""
    return code, status, _FAILED, False, True


def _server(code: str, status: int = 503, exit_code: int = _FAILED) -> tuple:
    """The server, not the file: set-up missing or an infrastructure hiccup; try again."""
    return code, status, exit_code, True, False


class ErrorCode(enum.StrEnum):
    def __new__(cls, value: str, http_status: int, exit_code: int, retryable: bool,
                document_fault: bool):
        member = str.__new__(cls, value)
        member._value_ = value
        member.http_status = http_status
        member.exit_code = exit_code
        member.retryable = retryable
        member.document_fault = document_fault
        return member

    validation = _request("validation")
    weak_password = _request("weak_password")
    invalid_rut = _request("invalid_rut")
    missing_rut = _request("missing_rut")
    missing_organization = _request("missing_organization")
    organization_too_long = _request("organization_too_long")
    duplicate_source = _request("duplicate_source")
    invalid_commitment = _request("invalid_commitment")
    invalid_action = _request("invalid_action")
    attach_needs_evidence = _request("attach_needs_evidence")
    confirm_needs_evidence = _request("confirm_needs_evidence")
    excerpt_not_found = _request("excerpt_not_found")
    excerpt_not_on_page = _request("excerpt_not_on_page")
    page_not_in_document = _request("page_not_in_document")
    document_not_read = _request("document_not_read")
    nothing_to_undo = _request("nothing_to_undo")
    empty_comment = _request("empty_comment")
    invalid_format = _request("invalid_format")
    no_files = _request("no_files")
    too_many_files = _request("too_many_files", 413)
    request_too_large = _request("request_too_large", 413)
    # documents after upload (service.domain.documents)
    documents_locked = _request("documents_locked", 409)  # in review or decided
    replacement_refused = _request("replacement_refused")  # the new file refused at the door
    document_busy = _request("document_busy", 409)  # still being read
    ocr_not_applicable = _request("ocr_not_applicable", 409)  # not a PDF or an image
    usage = _request("usage", 400)
    unauthorized = _request("unauthorized", 401)
    bad_credentials = _request("bad_credentials", 401)
    metrics_token = _request("metrics_token", 401)
    forbidden = _request("forbidden", 403)
    too_many_logins = _request("too_many_logins", 429)
    too_many_submissions = _request("too_many_submissions", 429)
    too_many_link_requests = _request("too_many_link_requests", 429)
    csrf = _request("csrf", 403)  # a state change without this site's token, or from another
    not_found = _request("not_found", 404)
    method_not_allowed = _request("method_not_allowed", 405)
    submission_not_found = _request("submission_not_found", 404)
    document_not_found = _request("document_not_found", 404)
    invalid_link = _request("invalid_link", 404)
    not_in_error = _request("not_in_error", 409)  # a retry of a document that did not fail
    nothing_stored = _request("nothing_stored", 409)  # a retry of bytes refused at upload
    nothing_stored_batch = _request("nothing_stored_batch", 409)  # … refused by `batch`
    invalid_idempotency_key = _request("invalid_idempotency_key")
    invalid_page = _request("invalid_page")
    idempotency_conflict = _request("idempotency_conflict", 409)  # same key, another request
    invalid_email = _request("invalid_email")
    invalid_review_status = _request("invalid_review_status")
    message_required = _request("message_required")  # observada, no_aprobada need words
    message_too_long = _request("message_too_long")  # over workflow.MAX_MESSAGE_CHARS
    nothing_to_submit = _request("nothing_to_submit")  # no document uploaded yet
    admin_only = _request("admin_only", 403)
    admin_only_reopen = _request("admin_only_reopen", 403)  # a final verdict: admins reopen it
    reason_required = _request("reason_required")  # reopening says why
    unknown_reviewer = _request("unknown_reviewer")
    # the review workflow (service.domain.workflow): a step the submission's state forbids
    illegal_transition = _request("illegal_transition", 409)
    not_assignee = _request("not_assignee", 409)  # another reviewer holds it
    closed_for_upload = _request("closed_for_upload", 409)  # in review or decided
    decisions_locked = _request("decisions_locked", 409)  # a final verdict was given
    reread_locked = _request("reread_locked", 409)  # a forced OCR under a final verdict
    retry_locked = _request("retry_locked", 409)  # a retry under a final verdict
    replace_locked = _request("replace_locked", 409)  # a batch replacement under a final verdict
    add_locked = _request("add_locked", 409)  # a new document under a final verdict
    remove_locked = _request("remove_locked", 409)  # a batch retirement under a final verdict

    error = _document("error", 400)
    extraction_failed = _document("extraction_failed")
    empty_file = _document("empty_file")
    empty_archive = _document("empty_archive")  # a ZIP or e-mail with no document in it
    unsupported_type = _document("unsupported_type")
    encrypted = _document("encrypted")
    wrong_password = _document("wrong_password")
    encryption_unsupported = _document("encryption_unsupported")
    corrupt = _document("corrupt")
    too_large = _document("too_large")
    unsafe_archive = _document("unsafe_archive")
    not_in_csv = _document("not_in_csv")
    unreadable = _document("unreadable")
    invalid_name = _document("invalid_name")
    name_too_long = _document("name_too_long")
    converter_unavailable = _not_here("converter_unavailable")  # DOC/RTF without LibreOffice

    ocr_unavailable = _server("ocr_unavailable", exit_code=_USAGE)
    database_unavailable = _server("database_unavailable", exit_code=_USAGE)
    transient = _server("transient")
    unavailable = _server("unavailable")
    busy = _server("busy")  # every database connection in use: answer again in seconds

    timeout = "timeout", 504, _FAILED, False, False  # the document fails, not retried
    interrupted = "interrupted", 500, _FAILED, False, False  # its work horse died every time
    internal = "internal", 500, _FAILED, False, False  # a bug: filed with its traceback

    @classmethod
    def of(cls, code: str) -> ErrorCode | None:
        try:
            return cls(code)
        except ValueError:
            return None


def _transient_errors() -> tuple[type[BaseException], ...]:
    from sqlalchemy import exc as sa_exc

    return (
        sa_exc.OperationalError,
        sa_exc.InterfaceError,
        sa_exc.DisconnectionError,
        sa_exc.TimeoutError,  # connection pool exhausted
        ConnectionError,  # the standard library's: sockets to Redis and the like
        TimeoutError,
    )


def fault_of(exc: BaseException, *, timeout_errors: tuple = ()) -> ErrorCode:
    """Which code an exception is. Codes a newer extractor invents fall back by class: a file
    that cannot be read, or the server's set-up."""
    if isinstance(exc, EvidenciaError):
        known = ErrorCode.of(exc.code)
        if known is not None:
            return known
        if isinstance(exc, ExtractionError):
            return ErrorCode.extraction_failed
        return ErrorCode.unavailable
    if timeout_errors and isinstance(exc, timeout_errors):
        return ErrorCode.timeout
    if isinstance(exc, _transient_errors()):
        return ErrorCode.transient
    return ErrorCode.internal


class ServiceError(EvidenciaError):
    """An error of a request or command; ``code`` (an ``ErrorCode``) decides how it is told."""

    code = ErrorCode.error

    def __init__(
        self, message: str | None = None, *, code: str | None = None, detail: str | None = None,
        field: str | None = None, **params: object,
    ):
        if code:
            self.code = ErrorCode(code)
        #: the form field at fault, when a page shows the message next to it
        self.field = field
        #: what the message was worded with, for a surface that words it its own way
        self.params = params
        super().__init__(message or error_message(self.code, **params), detail=detail)

    @property
    def status_code(self) -> int:
        return self.code.http_status


class ValidationError(ServiceError):
    """Input the user can fix (bad RUT, missing organisation, unknown commitment)."""

    code = ErrorCode.validation


class LimitError(ServiceError):
    """A request-level limit (files per upload); per-file limits become document errors."""

    code = ErrorCode.too_many_files


class NotFoundError(ServiceError):
    code = ErrorCode.not_found


class AuthenticationError(ServiceError):
    code = ErrorCode.unauthorized


class PermissionDeniedError(ServiceError):
    code = ErrorCode.forbidden


class RateLimitError(ServiceError):
    """Too many attempts from one account or address: wait ``retry_after`` seconds."""

    code = ErrorCode.too_many_logins

    def __init__(self, message: str | None = None, *, retry_after: int = 60, **kwargs):
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class UsageError(ServiceError):
    """Bad arguments or unreadable inputs on the command line."""

    code = ErrorCode.usage


class UnavailableError(ServiceError):
    """The service cannot answer now (database busy or unreachable, Redis down): retry."""

    code = ErrorCode.unavailable
