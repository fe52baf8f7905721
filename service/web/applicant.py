"""Applicants' pages: create a submission, upload to it, watch it fill in.

Applicants have no account: they reach their submission through its secret link
``/s/{id}?t={token}``; the token is then kept in a cookie scoped to that submission's path, so
the live updates need not repeat it. Access is decided by ``service.domain.access`` as for the
API; a link that does not open the submission gets the same answer whatever the reason.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from extractors.errors import EvidenciaError
from service.api.deps import OptionalReviewer, SessionDep
from service.api.submissions import applicant_url
from service.domain import documents, mail, organizations, workflow
from service.domain.access import APPLICANT_COOKIE, Access, check_access
from service.domain.errors import NotFoundError, ServiceError
from service.domain.matrix import load_matrix
from service.domain.messages import files_received, format_limit, notice
from service.domain.models import Document
from service.domain.submissions import (
    add_files,
    create_submission,
    get_submission,
    submission_problems,
)
from service.settings import get_settings
from service.throttle import client_address, limit_link_requests, limit_submissions
from service.web.pages import is_htmx, link_notice, notice_url, render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

#: Form field names of the fields the domain's validation names.
_FORM_FIELDS = {"organization": "organizacion", "rut": "rut", "email": "correo"}


@router.get("/", response_class=HTMLResponse)
def home(request: Request, reviewer: OptionalReviewer) -> HTMLResponse:
    return render(request, "home.html", reviewer=reviewer, errors={}, values={},
                  mail_on=mail.sending_enabled())


@router.post("/s")
def create(
    request: Request,
    session: SessionDep,
    organizacion: Annotated[str, Form()] = "",
    rut: Annotated[str, Form()] = "",
    correo: Annotated[str, Form()] = "",
) -> Response:
    problems = submission_problems(organizacion, rut, rut_required=True, email=correo)
    if not problems:
        try:
            limit_submissions(client_address(request))
            submission, token = create_submission(session, organizacion, rut, email=correo)
        except ServiceError as exc:
            problems = [exc]
    if problems:
        errors = {_FORM_FIELDS.get(p.field or "", "organizacion"): p.message for p in problems}
        values = {"organizacion": organizacion, "rut": rut, "correo": correo}
        status = max(p.status_code for p in problems)  # 429 when over the limit, else 422
        return render(request, "home.html", status_code=status, errors=errors, values=values,
                      mail_on=mail.sending_enabled())
    return RedirectResponse(f"/s/{submission.id}?{urlencode({'t': token})}", 303)


def _access(request: Request, session: Session, submission_id: str, t: str | None) -> Access:
    """The applicant's access from the link's token (or the cookie it left)."""
    try:
        submission = get_submission(session, submission_id)
        return check_access(submission, reviewer=None,
                            token=t or request.cookies.get(APPLICANT_COOKIE))
    except ServiceError:
        raise NotFoundError(code="invalid_link") from None


def _remember_token(response: Response, submission_id: str, token: str) -> None:
    response.set_cookie(
        APPLICANT_COOKIE,
        token,
        max_age=90 * 24 * 3600,
        httponly=True,
        samesite="lax",
        secure=get_settings().public_url.startswith("https://"),
        path=f"/s/{submission_id}",
    )


def _emailed(review: workflow.ReviewState) -> bool:
    """Whether the review's outcome will reach the applicant by e-mail (an address given and a
    server that sends mail), so the pages promise it only then."""
    return bool(review.contact_email) and mail.sending_enabled()


def _applicant_page(request: Request, session: Session, access: Access, *, status_code=200,
                    secret_link=None, notice=None, upload_error=None,
                    submit_error=None) -> HTMLResponse:
    settings = get_settings()
    review = workflow.review_state(session, access.submission.id)
    return render(
        request,
        "applicant.html",
        status_code=status_code,
        view=load_matrix(session, access.submission.id),
        review=review,
        emailed=_emailed(review),
        registered_as=organizations.registered_notice(session, access.submission),
        secret_link=secret_link,
        notice=notice,
        upload_error=upload_error,
        submit_error=submit_error,
        max_size=format_limit(settings.max_file_bytes),  # request_limit: this + the form
        max_bytes=settings.request_limit,
        max_file_bytes=settings.max_file_bytes,
        max_files=settings.max_files_per_upload,
    )


def _document_name(session: Session, submission_id: str, document_id: str) -> str | None:
    """A document's name for a notice: one of this submission's, removed ones included (the
    notice says it was removed or replaced)."""
    document = session.get(Document, document_id)
    return document.name if document and document.submission_id == submission_id else None


@router.get("/s/{submission_id}", response_class=HTMLResponse)
def applicant_page(
    request: Request, session: SessionDep, submission_id: str, t: str | None = None
) -> Response:
    access = _access(request, session, submission_id, t)
    response = _applicant_page(
        request, session, access, secret_link=applicant_url(submission_id, access.token),
        notice=link_notice(request, lambda document_id: _document_name(
            session, access.submission.id, document_id)),
    )
    _remember_token(response, submission_id, access.token)
    return response


@router.get("/s/{submission_id}/estado", response_class=HTMLResponse)
def applicant_status(
    request: Request, session: SessionDep, submission_id: str, t: str | None = None
) -> Response:
    access = _access(request, session, submission_id, t)
    return render(request, "_applicant_status.html",
                  view=load_matrix(session, access.submission.id),
                  review=workflow.review_state(session, access.submission.id))


@router.post("/s/{submission_id}/archivos")
def applicant_upload(  # sync: expanding ZIPs, hashing and storing must not block the event loop
    request: Request,
    session: SessionDep,
    submission_id: str,
    files: Annotated[list[UploadFile], File()] = None,
    t: Annotated[str | None, Form()] = None,
) -> Response:
    access = _access(request, session, submission_id, t)
    limit = get_settings().max_file_bytes
    # read at most one byte past the limit: add_files records "too large" on the document
    items = [(u.filename, u.file.read(limit + 1)) for u in files or [] if u.filename]
    problem, received = None, 0
    if not items:
        problem = notice("select_files")
    else:
        try:
            workflow.check_upload(access.submission)
            received = len(add_files(session, access.submission, items))  # a ZIP gives many
        except EvidenciaError as exc:
            session.rollback()
            problem = exc.message
    if is_htmx(request) or request.headers.get("X-Requested-With") == "fetch":
        return render(request, "_applicant_status.html", status_code=422 if problem else 200,
                      view=load_matrix(session, submission_id), upload_error=problem,
                      received=None if problem else files_received(received, len(items)),
                      review=workflow.review_state(session, submission_id))
    if problem:
        return _applicant_page(request, session, access, status_code=422, upload_error=problem)
    return RedirectResponse(notice_url(f"/s/{submission_id}", "files_received",
                                       (received, len(items))), 303)


@router.post("/s/{submission_id}/enviar")
def applicant_submit(
    request: Request,
    session: SessionDep,
    submission_id: str,
    t: Annotated[str | None, Form()] = None,
) -> Response:
    """"Enviar a revisión": in ``borrador``, and again after ``observada``; a refusal (no
    document yet, already sent) comes back on the page in Spanish."""
    access = _access(request, session, submission_id, t)
    try:
        workflow.submit(session, access.submission)
    except ServiceError as exc:
        session.rollback()
        return _applicant_page(request, session, access, status_code=exc.status_code,
                               submit_error=exc.message)
    emailed = _emailed(workflow.review_state(session, submission_id))
    done = "submitted" if emailed else "submitted_not_emailed"
    return RedirectResponse(notice_url(f"/s/{submission_id}", done), 303)


def _mail_off() -> str | None:
    """What "Perdí el enlace" says instead of its form on a server that sends no e-mail."""
    return None if mail.sending_enabled() else notice("link_not_sendable")


@router.get("/recuperar", response_class=HTMLResponse)
def lost_link_form(request: Request) -> HTMLResponse:
    return render(request, "lost_link.html", values={}, done=None, mail_off=_mail_off())


@router.post("/recuperar", response_class=HTMLResponse)
def lost_link(
    request: Request,
    session: SessionDep,
    rut: Annotated[str, Form()] = "",
    correo: Annotated[str, Form()] = "",
) -> HTMLResponse:
    """The same answer whether or not the pair exists (``service.domain.mail.request_link``)."""
    limit_link_requests(client_address(request))
    mail.request_link(session, rut, correo)
    return render(request, "lost_link.html", values={"rut": rut, "correo": correo},
                  done=notice("link_requested"), mail_off=_mail_off())


@router.post("/s/{submission_id}/documentos/{document_id}/eliminar")
def applicant_remove(
    request: Request, session: SessionDep, submission_id: str, document_id: str,
    t: Annotated[str | None, Form()] = None,
) -> Response:
    """Remove one document (a borrador or observada submission); a refusal in Spanish on the
    page (409)."""
    access = _access(request, session, submission_id, t)
    try:
        removed = documents.remove_document(session, access.submission, document_id)
    except ServiceError as exc:
        session.rollback()
        return _applicant_page(request, session, access, status_code=exc.status_code,
                               upload_error=exc.message)
    return RedirectResponse(
        notice_url(f"/s/{submission_id}", "document_removed", removed.id), 303)


@router.post("/s/{submission_id}/documentos/{document_id}/reemplazar")
def applicant_replace(
    request: Request, session: SessionDep, submission_id: str, document_id: str,
    archivo: Annotated[UploadFile | None, File()] = None,
    t: Annotated[str | None, Form()] = None,
) -> Response:
    """Replace one document by a new file, on the same terms as removing it."""
    access = _access(request, session, submission_id, t)
    if archivo is None or not archivo.filename:
        return _applicant_page(request, session, access, status_code=422,
                               upload_error=notice("select_files"))
    data = archivo.file.read(get_settings().max_file_bytes + 1)
    try:
        documents.replace_document(session, access.submission, document_id, archivo.filename,
                                   data)
    except EvidenciaError as exc:
        session.rollback()
        status = exc.status_code if isinstance(exc, ServiceError) else 422
        return _applicant_page(request, session, access, status_code=status,
                               upload_error=exc.message)
    return RedirectResponse(
        notice_url(f"/s/{submission_id}", "document_replaced", document_id), 303)
