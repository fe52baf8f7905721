"""``/api/submissions``: create, upload to, follow and read the matrix of a submission."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, File, Query, UploadFile
from fastapi.responses import Response

from service.api.deps import CurrentReviewer, SessionDep, SubmissionAccess
from service.api.schemas import (
    ErrorBody,
    MatrixPublic,
    SubmissionCreate,
    SubmissionCreated,
    SubmissionList,
    SubmissionPublic,
    UploadAccepted,
    matrix_public,
    progress_public,
)
from service.domain import listing
from service.domain.errors import LimitError, ValidationError
from service.domain.matrix import load_matrix, load_progress
from service.domain.messages import error_message
from service.domain.submissions import add_files, create_submission
from service.settings import get_settings

__all__ = ["router"]

router = APIRouter(prefix="/api/submissions", tags=["submissions"])

_ERRORS = {
    401: {"model": ErrorBody, "description": "Sin credenciales"},
    403: {"model": ErrorBody, "description": "Token de otra postulación"},
    404: {"model": ErrorBody, "description": "No existe"},
}


def applicant_url(submission_id: str, token: str) -> str:
    return f"{get_settings().public_url.rstrip('/')}/s/{submission_id}?t={token}"


@router.post(
    "",
    status_code=201,
    response_model=SubmissionCreated,
    responses={422: {"model": ErrorBody, "description": "Organización o RUT no válidos"}},
    summary="Create a submission (returns its secret applicant token once)",
)
def create(body: SubmissionCreate, session: SessionDep) -> dict:
    submission, token = create_submission(session, body.organization, body.rut)
    return {
        "id": submission.id,
        "token": token,
        "organization": submission.organization.name,
        "rut": submission.organization.rut,
        "created_at": submission.created_at.isoformat() if submission.created_at else None,
        "applicant_url": applicant_url(submission.id, token),
    }


@router.get(
    "",
    response_model=SubmissionList,
    responses={401: _ERRORS[401]},
    summary="List submissions (reviewers)",
)
def list_submissions(
    session: SessionDep,
    reviewer: CurrentReviewer,
    q: str | None = Query(default=None, description="Part of the organisation's name or RUT"),
    offset: int = Query(default=0, ge=0),
    limit: int = Query(default=50, ge=1, le=500),
) -> dict:
    rows, total = listing.list_submissions(
        session, listing.ListQuery(search=q or "", offset=offset, limit=limit)
    )
    return {
        "items": [
            {
                "id": r.id,
                "organization": r.organization,
                "rut": r.rut,
                "source": r.source,
                "created_at": r.created_at.isoformat() if r.created_at else None,
                "documents": r.n_documents,
                "errors": r.n_errors,
                "pending": r.n_pending,
            }
            for r in rows
        ],
        "total": total,
        "offset": offset,
        "limit": limit,
    }


@router.post(
    "/{submission_id}/documents",
    status_code=202,
    response_model=UploadAccepted,
    responses={**_ERRORS, 413: {"model": ErrorBody, "description": "Demasiados archivos"}},
    summary="Upload one or many files or a ZIP (multipart field `files`, repeatable)",
)
def upload(
    access: SubmissionAccess,
    session: SessionDep,
    files: list[UploadFile] | None = File(default=None, description="Files or ZIP archives"),
) -> dict:
    settings = get_settings()
    if not files:
        raise ValidationError(code="no_files")
    if len(files) > settings.max_files_per_upload:
        raise LimitError(error_message("too_many_files", limit=settings.max_files_per_upload))
    # Read at most one byte past the limit: an oversized file is rejected, never held whole.
    payload = [
        (f.filename or "archivo", f.file.read(settings.max_file_bytes + 1)) for f in files
    ]
    documents = add_files(session, access.submission, payload, queue_name="interactive")
    return {
        "documents": [
            {
                "id": d.id,
                "name": d.name,
                "status": d.status,
                "error_code": d.error_code,
                "error": d.error,
            }
            for d in documents
        ]
    }


@router.get(
    "/{submission_id}",
    response_model=SubmissionPublic,
    responses=_ERRORS,
    summary="Submission with per-document progress",
)
def status(access: SubmissionAccess, session: SessionDep) -> dict:
    return progress_public(load_progress(session, access.submission.id))


_DOWNLOADS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@router.get(
    "/{submission_id}/matrix",
    response_model=MatrixPublic,
    responses={
        **_ERRORS,
        200: {
            "description": "The matrix (JSON), or a CSV / XLSX download with ?format=",
            "content": {_DOWNLOADS["csv"]: {}, _DOWNLOADS["xlsx"]: {}},
        },
    },
    summary="Evidence matrix: commitments × documents, excerpts, pages, decisions",
)
def matrix(
    access: SubmissionAccess,
    session: SessionDep,
    format: Literal["json", "csv", "xlsx"] = Query(default="json"),  # noqa: A002
):
    data = load_matrix(session, access.submission.id)
    if format == "json":
        return matrix_public(data)
    from service.outputs.exports import matrix_csv, matrix_xlsx

    filename = f"matriz-{access.submission.id[:8]}.{format}"
    if format == "csv":
        body = matrix_csv(data)
    else:  # the decision history is for reviewers only
        body = matrix_xlsx(data, with_history=access.is_reviewer)
    return Response(
        body,
        media_type=_DOWNLOADS[format],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
