"""Errors the service raises for requests (the pipeline's own live in ``extractors.errors``).

All subclass ``EvidenciaError`` so the API turns every one of them into an HTTP status and a
Spanish body in exactly one exception handler (``service.api.errors``).
"""

from __future__ import annotations

from extractors.errors import EvidenciaError
from service.domain.messages import error_message

__all__ = [
    "ServiceError",
    "ValidationError",
    "LimitError",
    "NotFoundError",
    "AuthenticationError",
    "PermissionDeniedError",
]


class ServiceError(EvidenciaError):
    code = "error"
    #: HTTP status the API answers with
    status_code = 400

    def __init__(
        self, message: str | None = None, *, code: str | None = None, detail: str | None = None
    ):
        if code:
            self.code = code
        super().__init__(message or error_message(self.code), detail=detail)


class ValidationError(ServiceError):
    """Input the user can fix (bad RUT, missing organisation, unknown commitment)."""

    code = "validation"
    status_code = 422


class LimitError(ServiceError):
    """A request-level limit (files per upload); per-file limits become document errors."""

    code = "too_many_files"
    status_code = 413


class NotFoundError(ServiceError):
    code = "not_found"
    status_code = 404


class AuthenticationError(ServiceError):
    code = "unauthorized"
    status_code = 401


class PermissionDeniedError(ServiceError):
    code = "forbidden"
    status_code = 403
