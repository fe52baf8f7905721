"""Reviewers' pages: the triage list, the dashboard, a submission's evidence matrix with its
decisions, a document page with the evidence highlighted, the printable report.

Every page depends on ``CurrentReviewer`` (the API's own dependency: the session cookie, a
bearer token or HTTP Basic); without a session the error boundary sends a browser to the login
form and back. Decisions are recorded by ``service.domain.decisions.record_decision``, whose
Spanish message the page shows next to the matrix when it refuses one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from service.api.deps import CurrentReviewer, SessionDep
from service.domain import documents, listing, organizations, search, workflow
from service.domain.decisions import record_decision
from service.domain.errors import ErrorCode, NotFoundError, ServiceError
from service.domain.matrix import SubmissionMatrix, load_matrix
from service.domain.models import Document, User
from service.domain.results import extraction_page
from service.domain.retry import retry_documents
from service.domain.submissions import get_submission
from service.web.highlight import highlight_boxes, highlight_text
from service.web.page_images import page_png, renderable
from service.web.pages import is_htmx, link_notice, notice_url, render

__all__ = ["router"]

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
#: The list's URL parameters are Spanish, as people read them in the address bar.
_FILTERS = {
    "todas": listing.ListFilter.all,
    "pendientes": listing.ListFilter.pending_review,
    "falta": listing.ListFilter.missing,
    "errores": listing.ListFilter.errors,
    "mias": listing.ListFilter.mine,
    "sin_asignar": listing.ListFilter.unassigned,
}
_ORDERS = {
    "fecha": listing.ListOrder.created,
    "organizacion": listing.ListOrder.organization,
    "documentos": listing.ListOrder.documents,
    "errores": listing.ListOrder.errors,
    "detectados": listing.ListOrder.detected,
    "confirmados": listing.ListOrder.confirmed,
}


@dataclass(frozen=True)
class _ListParams:
    """The list's parameters as the page and its links spell them."""

    filtro: str
    orden: str
    desc: bool
    pagina: int
    buscar: str

    def link(self, **changes) -> str:
        params = {"filtro": self.filtro, "orden": self.orden,
                  "dir": "desc" if self.desc else "asc", "pagina": self.pagina,
                  "buscar": self.buscar, **changes}
        return "/revision?" + urlencode({k: v for k, v in params.items() if v not in ("", None)})

    def query(self, reviewer_id: int | None = None) -> listing.ListQuery:
        return listing.ListQuery(
            filter=_FILTERS[self.filtro], order=_ORDERS[self.orden], desc=self.desc,
            search=self.buscar, offset=(self.pagina - 1) * PAGE_SIZE, limit=PAGE_SIZE,
            reviewer_id=reviewer_id,
        )


@router.get("/revision", response_class=HTMLResponse)
def reviewer_list(
    request: Request,
    session: SessionDep,
    reviewer: CurrentReviewer,
    filtro: str = "todas",
    orden: str = "fecha",
    dir: str = "desc",
    pagina: int = 1,
    buscar: str = "",
) -> Response:
    q = _ListParams(filtro=filtro if filtro in _FILTERS else "todas",
                    orden=orden if orden in _ORDERS else "fecha", desc=dir != "asc",
                    pagina=min(max(pagina, 1), search.MAX_OFFSET // PAGE_SIZE),
                    buscar=search.clean_query(buscar))
    rows, total = listing.list_submissions(session, q.query(reviewer.id))
    last = max(1, -(-total // PAGE_SIZE))
    if q.pagina > last:  # the list shrank under the page (decisions, a verdict): its last page
        q = replace(q, pagina=last)
        rows, total = listing.list_submissions(session, q.query(reviewer.id))
    found = search.excerpts(session, q.buscar, [r.id for r in rows])
    return render(request, "review_list.html", reviewer=reviewer, rows=rows, total=total, q=q,
                  pages=max(1, -(-total // PAGE_SIZE)), link=q.link, excerpts=found,
                  reviews=workflow.review_states(session, [r.id for r in rows]),
                  notice=link_notice(request))


@router.get("/revision/panel", response_class=HTMLResponse)
def reviewer_dashboard(request: Request, session: SessionDep, reviewer: CurrentReviewer
                       ) -> Response:
    from service.domain.dashboard import load_dashboard

    return render(request, "review_dashboard.html", reviewer=reviewer,
                  board=load_dashboard(session))


def _matrix_page(request: Request, reviewer, view: SubmissionMatrix, *, status_code: int = 200,
                 message: str | None = None, focus: str | None = None, session=None,
                 workflow_error: str | None = None, values: dict | None = None
                 ) -> HTMLResponse:
    """``session``: given, the review workflow's panel is shown too."""
    done = [d for d in view.counted if d.status == "done"]
    review = workflow.review_state(session, view.id) if session is not None else None
    changes = workflow.document_changes(session, view.id, review) if review else None
    return render(request, "review_submission.html", status_code=status_code, reviewer=reviewer,
                  view=view, done_docs=done, message=message, focus=focus, review=review,
                  document_changes=changes,
                  aliases=_aliases(session, view.id) if session is not None else (),
                  reviewers=_reviewers(session) if review and reviewer.role == "admin" else (),
                  workflow_error=workflow_error, values=values or {},
                  notice=link_notice(request))


def _aliases(session, submission_id: str) -> list:
    """Other names the submission's organisation was submitted under (reviewers only)."""
    submission = get_submission(session, submission_id)
    return [n for n in organizations.name_history(session, submission.organization_id)
            if n.kind == organizations.ALIAS]


def _reviewers(session) -> list[str]:
    return list(session.scalars(
        select(User.username).where(User.active.is_(True)).order_by(User.username)))


@router.get("/revision/s/{submission_id}", response_class=HTMLResponse)
def reviewer_submission(
    request: Request, session: SessionDep, reviewer: CurrentReviewer, submission_id: str
) -> Response:
    return _matrix_page(request, reviewer, load_matrix(session, submission_id), session=session)


@router.post("/revision/s/{submission_id}/estado")
def reviewer_review(
    request: Request,
    session: SessionDep,
    reviewer: CurrentReviewer,
    submission_id: str,
    estado: Annotated[str, Form()],
    mensaje: Annotated[str, Form()] = "",
    mensaje_c1: Annotated[str, Form()] = "",
    mensaje_c2: Annotated[str, Form()] = "",
    mensaje_c3: Annotated[str, Form()] = "",
    mensaje_c4: Annotated[str, Form()] = "",
    mensaje_c5: Annotated[str, Form()] = "",
) -> Response:
    """A step of the review workflow (claim, request changes, approve or not); a refusal is
    shown above the form with what was typed kept."""
    submission = get_submission(session, submission_id)
    per_commitment = {"c1": mensaje_c1, "c2": mensaje_c2, "c3": mensaje_c3, "c4": mensaje_c4,
                      "c5": mensaje_c5}
    try:
        workflow.review(session, submission, reviewer, estado, mensaje, per_commitment)
    except ServiceError as exc:
        session.rollback()
        values = {"estado": estado, "mensaje": mensaje, **per_commitment}
        return _matrix_page(request, reviewer, load_matrix(session, submission_id),
                            status_code=exc.status_code, session=session,
                            workflow_error=exc.message, values=values)
    return RedirectResponse(
        notice_url(f"/revision/s/{submission_id}", "reviewed", estado) + "#flujo", 303)


@router.post("/revision/s/{submission_id}/asignar")
def reviewer_assign(
    request: Request,
    session: SessionDep,
    reviewer: CurrentReviewer,
    submission_id: str,
    revisor: Annotated[str, Form()] = "",
) -> Response:
    submission = get_submission(session, submission_id)
    try:
        workflow.assign(session, submission, reviewer, revisor or None)
    except ServiceError as exc:
        session.rollback()
        return _matrix_page(request, reviewer, load_matrix(session, submission_id),
                            status_code=exc.status_code, session=session,
                            workflow_error=exc.message)
    return RedirectResponse(f"/revision/s/{submission_id}#flujo", 303)


@router.post("/revision/siguiente")
def reviewer_next(session: SessionDep, reviewer: CurrentReviewer) -> Response:
    """"Siguiente pendiente": claim the oldest waiting submission and open it."""
    submission = workflow.claim_next(session, reviewer)
    if submission is None:
        return RedirectResponse(notice_url("/revision", "nothing_pending"), 303)
    return RedirectResponse(f"/revision/s/{submission.id}", 303)


@router.post("/revision/s/{submission_id}/decision")
def reviewer_decision(
    request: Request,
    session: SessionDep,
    reviewer: CurrentReviewer,
    submission_id: str,
    compromiso: Annotated[str, Form()],
    accion: Annotated[str, Form()],
    comentario: Annotated[str, Form()] = "",
    documento: Annotated[str, Form()] = "",
    pagina: Annotated[str, Form()] = "",
    extracto: Annotated[str, Form()] = "",
) -> Response:
    message, status_code = None, 200
    try:
        record_decision(
            session, submission_id, compromiso, accion, reviewer,
            document_id=documento or None, excerpt=extracto.strip() or None,
            page=int(pagina) if pagina.strip().isdigit() else None,
            comment=comentario.strip() or None,
        )
    except ServiceError as exc:
        if exc.code == ErrorCode.submission_not_found:
            raise  # the error page, not the matrix
        session.rollback()
        message, status_code = exc.message, exc.status_code
    if not is_htmx(request) and message is None:
        return RedirectResponse(f"/revision/s/{submission_id}#{compromiso}", 303)
    return _matrix_page(request, reviewer, load_matrix(session, submission_id),
                        status_code=status_code, message=message, focus=compromiso,
                        session=session)


def _retried(request: Request, session, reviewer, submission_id: str, ids: list[str]
             ) -> Response:
    """Back to the submission's page once the documents are queued again; a refusal (not in
    error any more, bytes never stored, a final verdict) is shown there in Spanish."""
    outcome = retry_documents(session, ids)
    if not outcome.refused:
        return RedirectResponse(f"/revision/s/{submission_id}#documentos-titulo", 303)
    message = " ".join(dict.fromkeys(r.message for r in outcome.refused.values()))
    return _matrix_page(request, reviewer, load_matrix(session, submission_id),
                        status_code=409, message=message, session=session)


@router.post("/revision/d/{document_id}/reintentar")
def reviewer_retry_document(
    request: Request, session: SessionDep, reviewer: CurrentReviewer, document_id: str
) -> Response:
    doc = _document(session, document_id)
    return _retried(request, session, reviewer, doc.submission_id, [doc.id])


@router.post("/revision/s/{submission_id}/reintentar")
def reviewer_retry_submission(
    request: Request, session: SessionDep, reviewer: CurrentReviewer, submission_id: str
) -> Response:
    from service.domain.retry import documents_in_error

    submission = get_submission(session, submission_id)  # 404 for an unknown one
    ids = documents_in_error(session, submission.id, stored_only=True)
    return _retried(request, session, reviewer, submission_id, ids)


def _highlights(row, page, pagina: int, compromiso: str) -> dict:
    """The passages on this page (of one commitment, or all): boxes on the image, marks in the
    text, and the pages that hold any; each passage evidence or, in a cell that does not
    support its commitment, considered and not enough (``Passage.supports``), said apart."""
    passages: list[str] = []
    passage_commitments: list[str] = []
    passage_supports: list[bool] = []
    for cid, cell in row.cells.items():
        if compromiso and cid != compromiso:
            continue
        for p in cell.passages:
            if (p.page or 0) == pagina and p.text:
                passages.append(p.text)
                passage_commitments.append(cid)
                passage_supports.append(p.supports)
    boxes, segments = [], []
    if page is not None:
        boxes = highlight_boxes(page.words or [], passages, page.width, page.height,
                                page.rotation or 0)
        segments = highlight_text(page.text or "", passages)

    def pages(supports: bool) -> list[int]:
        return sorted({(p.page or 0) for c in row.cells.values() for p in c.passages
                       if p.supports == supports} - {0})

    shown = list(zip(passage_commitments, passage_supports, strict=True))
    return {"boxes": boxes, "segments": segments, "passage_commitments": passage_commitments,
            "passage_supports": passage_supports,
            "evidence_of": list(dict.fromkeys(cid for cid, ok in shown if ok)),
            "considered_of": list(dict.fromkeys(cid for cid, ok in shown if not ok)),
            "evidence_pages": pages(True), "considered_pages": pages(False)}


def _document_page(request: Request, session, reviewer, doc: Document, pagina: int,
                   compromiso: str, *, status_code: int = 200, attach_error: str | None = None,
                   values: dict | None = None, ocr_error: str | None = None) -> HTMLResponse:
    view = load_matrix(session, doc.submission_id)
    row = view.document(doc.id)
    decisions_open = workflow.review_state(session, doc.submission_id).decisions_open
    rereadable = (not row.pending and row.sha256 is not None
                  and documents.ocr_applies(row.mime))
    page = None
    if doc.extraction_id is not None:
        pagina = min(max(pagina, 1), max(row.pages, 1))
        page = extraction_page(session, doc.extraction_id, pagina)
    return render(
        request, "review_document.html", status_code=status_code, reviewer=reviewer, view=view,
        doc=row, page=page, pagina=pagina, n_pages=row.pages, compromiso=compromiso,
        has_image=renderable(row.mime) and doc.sha256 is not None and page is not None,
        attach_error=attach_error, values=values or {}, ocr_error=ocr_error,
        can_force_ocr=decisions_open and rereadable,
        reread_locked=not decisions_open and rereadable,
        decisions_open=decisions_open,
        **_highlights(row, page, pagina, compromiso),
    )


def _document(session, document_id: str) -> Document:
    doc = session.get(Document, document_id)
    if doc is None or doc.removed_at is not None:
        raise NotFoundError(code="document_not_found")
    return doc


@router.get("/revision/d/{document_id}", response_class=HTMLResponse)
def reviewer_document(
    request: Request, session: SessionDep, reviewer: CurrentReviewer, document_id: str,
    pagina: int = 1, compromiso: str = "",
) -> Response:
    return _document_page(request, session, reviewer, _document(session, document_id), pagina,
                          compromiso)


@router.post("/revision/d/{document_id}/extracto")
def reviewer_attach_selection(
    request: Request,
    session: SessionDep,
    reviewer: CurrentReviewer,
    document_id: str,
    compromiso: Annotated[str, Form()],
    extracto: Annotated[str, Form()] = "",
    pagina: Annotated[str, Form()] = "",
    comentario: Annotated[str, Form()] = "",
) -> Response:
    """Text a reviewer selected on a page of the document view, attached as the evidence of a
    commitment; a refusal (the text is not in the document, the page does not exist) comes back
    on the same page in Spanish, with what was typed kept."""
    doc = _document(session, document_id)
    page = int(pagina) if pagina.strip().isdigit() else None
    try:
        record_decision(
            session, doc.submission_id, compromiso, "attach", reviewer,
            document_id=doc.id, excerpt=extracto.strip() or None, page=page,
            comment=comentario.strip() or None,
        )
    except ServiceError as exc:
        if exc.code in (ErrorCode.submission_not_found, ErrorCode.document_not_found):
            raise
        session.rollback()
        values = {"extracto": extracto, "compromiso": compromiso, "comentario": comentario}
        return _document_page(request, session, reviewer, doc, page or 1, compromiso,
                              status_code=exc.status_code, attach_error=exc.message,
                              values=values)
    return RedirectResponse(f"/revision/s/{doc.submission_id}#{compromiso}", 303)


@router.post("/revision/d/{document_id}/ocr")
def reviewer_force_ocr(
    request: Request, session: SessionDep, reviewer: CurrentReviewer, document_id: str
) -> Response:
    """Read the document again with every page through OCR (queued like any job); a refusal
    (a final verdict, still being read, not a PDF or an image) comes back on the document page
    in Spanish."""
    doc = _document(session, document_id)
    try:
        documents.force_ocr(session, doc.id)
    except ServiceError as exc:
        if exc.code == ErrorCode.document_not_found:
            raise
        session.rollback()
        return _document_page(request, session, reviewer, doc, 1, "",
                              status_code=exc.status_code, ocr_error=exc.message)
    return RedirectResponse(f"/revision/d/{doc.id}", 303)


@router.get("/revision/d/{document_id}/pagina/{number}.png")
def reviewer_page_image(
    session: SessionDep, reviewer: CurrentReviewer, document_id: str, number: int
) -> Response:
    doc = session.get(Document, document_id)
    if doc is None or doc.sha256 is None or not renderable(doc.mime):
        raise NotFoundError(code="document_not_found")
    rotation = 0
    if doc.extraction_id is not None:
        page = extraction_page(session, doc.extraction_id, number)
        if page is None:
            raise NotFoundError()
        rotation = page.rotation or 0
    try:
        path = page_png(doc.sha256, doc.mime, number, rotation)
    except Exception:  # an unreadable page: the text is still shown next to it
        log.exception("rendering page %s of %s failed", number, document_id)
        raise NotFoundError() from None
    return FileResponse(path, media_type="image/png", headers={"Cache-Control": "private"})


@router.get("/revision/s/{submission_id}/informe.pdf")
def reviewer_report(session: SessionDep, reviewer: CurrentReviewer, submission_id: str
                    ) -> Response:
    from service.outputs.exports import download_name
    from service.outputs.report import build_report

    view = load_matrix(session, submission_id)
    pdf = build_report(view, generated_by=reviewer.username)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition":
                 f'attachment; filename="{download_name("informe", view, "pdf")}"'},
    )
