"""Server-rendered Spanish pages for applicants and reviewers.

``router`` is included by ``service.api.app:create_app()``. Pages are plain HTML forms that work
without JavaScript; htmx (vendored in ``static/``) adds live progress and in-place decisions,
and a few lines of our own JavaScript add drag and drop, the upload progress bar and keyboard
shortcuts. Every string a user reads is Spanish; extracted text goes through Jinja autoescape.

Applicants reach their submission through a secret link ``/s/{id}?t={token}``; the token is then
kept in a cookie scoped to that submission's path so the live updates need not repeat it.
Reviewers log in once and get the signed session cookie the API also recognises.
"""

from __future__ import annotations

import logging
import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from sqlalchemy.orm import Session

from classifiers.result import COMMITMENT_IDS
from extractors.errors import EvidenciaError
from service.api.deps import SessionDep
from service.domain import listing, messages
from service.domain.access import (
    SESSION_COOKIE,
    SESSION_MAX_AGE,
    authenticate,
    check_submission_token,
    load_session,
    sign_session,
)
from service.domain.errors import NotFoundError
from service.domain.matrix import DocumentEntry, SubmissionMatrix, load_matrix
from service.domain.messages import format_datetime
from service.domain.models import Document, ExtractionPage, Submission, User
from service.domain.rut import RutError, format_rut, normalize_rut
from service.settings import get_settings
from service.web import hints
from service.web.highlight import highlight_boxes, highlight_text
from service.web.page_images import page_png, renderable

log = logging.getLogger(__name__)

__all__ = ["router", "error_page"]

WEB_DIR = Path(__file__).resolve().parent
STATIC_DIR = WEB_DIR / "static"
templates = Jinja2Templates(directory=str(WEB_DIR / "templates"))

router = APIRouter(include_in_schema=False)

_TOKEN_COOKIE = "evidencia_t"
_STATIC_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}

# --- template helpers ----------------------------------------------------------------------

def _tamano(n: int | None) -> str:
    n = n or 0
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n / 1024 / 1024:.1f} MB".replace(".", ",")


def _pct(value: float | None) -> str:
    return f"{round(100 * (value or 0))}\u00a0%"


def _stage_text(doc: DocumentEntry) -> str:
    if doc.status == "error":
        return "Error"
    text = doc.stage_label
    return text[:1].upper() + text[1:]


templates.env.globals.update(
    COMMITMENT_IDS=COMMITMENT_IDS,
    commitment_name=messages.commitment_name,
    commitment_short=messages.commitment_short,
    doc_type_name=messages.doc_type_name,
    missing_hint=hints.missing_hint,
    example_documents=lambda cid: hints.EXAMPLE_DOCUMENTS.get(cid, ()),
    stage_text=_stage_text,
)
templates.env.filters.update(fecha=format_datetime, tamano=_tamano, pct=_pct, rut=format_rut)


def _render(request: Request, name: str, status_code: int = 200, **context) -> HTMLResponse:
    context.setdefault("reviewer", getattr(request.state, "reviewer", None))
    return templates.TemplateResponse(request, name, context, status_code=status_code)


DB = SessionDep  # the API's own session dependency: one per request, closed after it


def _matrix(session: Session, submission_id: str) -> SubmissionMatrix | None:
    try:
        return load_matrix(session, submission_id)
    except NotFoundError:
        return None


def _page_of(session: Session, extraction_id: int, number: int) -> ExtractionPage | None:
    return session.scalar(
        select(ExtractionPage).where(
            ExtractionPage.extraction_id == extraction_id, ExtractionPage.number == number
        )
    )


def _is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _error_page(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    return _render(request, "error.html", status_code=status, title=title, message=message)


_ERROR_TITLES = {
    401: "Debe identificarse",
    403: "Sin permiso",
    404: "Página no encontrada",
    413: "Archivo demasiado grande",
    422: "Datos no válidos",
    500: "Error interno",
    503: "Servicio no disponible",
}


def error_page(request: Request, status: int, code: str, message: str) -> HTMLResponse:
    """HTML error page for browsers; ``service.api.app`` calls it from its error boundary."""
    title = _ERROR_TITLES.get(status, "No se pudo completar la solicitud")
    return _error_page(request, status, title, message)


# --- static files (the router cannot carry a StaticFiles mount) -----------------------------


@router.get("/static/{name}")
def static_file(name: str) -> Response:
    if not re.fullmatch(r"[A-Za-z0-9._-]+", name) or name.startswith("."):
        raise HTTPException(404)
    path = STATIC_DIR / name
    if not path.is_file():
        raise HTTPException(404)
    media = _STATIC_TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0]
    return FileResponse(
        path, media_type=media, headers={"Cache-Control": "public, max-age=3600"}
    )


# --- reviewer session ------------------------------------------------------------------------


def _reviewer_from_cookie(request: Request, session: Session) -> User | None:
    user = load_session(session, request.cookies.get(SESSION_COOKIE))
    request.state.reviewer = user
    return user


def _require_reviewer(request: Request, session: Session) -> User | RedirectResponse:
    user = _reviewer_from_cookie(request, session)
    if user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/revision/ingresar?{urlencode({'siguiente': target})}", 303)
    return user


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/revision"


@router.get("/revision/ingresar", response_class=HTMLResponse)
def login_form(request: Request, session: DB, siguiente: str = "") -> HTMLResponse:
    _reviewer_from_cookie(request, session)
    return _render(request, "login.html", siguiente=_safe_next(siguiente), error=None, usuario="")


@router.post("/revision/ingresar")
def login(
    request: Request,
    session: DB,
    usuario: Annotated[str, Form()] = "",
    clave: Annotated[str, Form()] = "",
    siguiente: Annotated[str, Form()] = "",
) -> Response:
    user = authenticate(session, usuario.strip(), clave) if usuario and clave else None
    if user is None:
        return _render(
            request,
            "login.html",
            status_code=401,
            siguiente=_safe_next(siguiente),
            usuario=usuario,
            error="Usuario o contraseña incorrectos.",
        )
    response = RedirectResponse(_safe_next(siguiente), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        sign_session(user),
        max_age=SESSION_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/revision/salir")
def logout() -> Response:
    response = RedirectResponse("/revision/ingresar", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# --- applicants ------------------------------------------------------------------------------

_RUT_MESSAGES = {
    "empty": "Ingrese el RUT de la organización.",
    "format": "El RUT debe tener la forma 76.123.456-0 (número, guion y dígito verificador).",
    "check_digit": "El dígito verificador del RUT no corresponde. Revise el número.",
}


def _rut_problem(rut: str) -> str | None:
    """Spanish message when the RUT is malformed or its check digit is wrong, else None."""
    try:
        normalize_rut(rut)
    except RutError as exc:
        return _RUT_MESSAGES[exc.reason]
    return None


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: DB) -> HTMLResponse:
    _reviewer_from_cookie(request, session)
    return _render(request, "home.html", errors={}, values={})


@router.post("/s")
def create(
    request: Request,
    session: DB,
    organizacion: Annotated[str, Form()] = "",
    rut: Annotated[str, Form()] = "",
) -> Response:
    from service.domain.submissions import create_submission

    errors: dict[str, str] = {}
    if not organizacion.strip():
        errors["organizacion"] = "Ingrese el nombre de la organización."
    elif len(organizacion.strip()) > 300:
        errors["organizacion"] = "El nombre no puede superar 300 caracteres."
    problem = _rut_problem(rut)
    if problem:
        errors["rut"] = problem
    if not errors:
        try:
            submission, token = create_submission(session, organizacion.strip(), rut.strip())
        except EvidenciaError as exc:
            errors["rut" if "rut" in exc.code.lower() else "organizacion"] = exc.message
    if errors:
        values = {"organizacion": organizacion, "rut": rut}
        return _render(request, "home.html", status_code=422, errors=errors, values=values)
    response = RedirectResponse(f"/s/{submission.id}?{urlencode({'t': token})}", 303)
    return response


def _applicant_submission(
    request: Request, session: Session, submission_id: str, t: str | None
) -> tuple[Submission | None, str | None]:
    token = t or request.cookies.get(_TOKEN_COOKIE)
    submission = session.get(Submission, submission_id)
    if submission is None or not check_submission_token(submission, token):
        return None, None
    return submission, token


def _remember_token(response: Response, submission_id: str, token: str, request: Request) -> None:
    response.set_cookie(
        _TOKEN_COOKIE,
        token,
        max_age=90 * 24 * 3600,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path=f"/s/{submission_id}",
    )


def _bad_link(request: Request) -> HTMLResponse:
    return _error_page(
        request,
        404,
        "Enlace no válido",
        "No encontramos esta postulación o el enlace está incompleto. Use el enlace secreto "
        "completo que recibió al crearla (incluye «?t=…»).",
    )


@router.get("/s/{submission_id}", response_class=HTMLResponse)
def applicant_page(
    request: Request, session: DB, submission_id: str, t: str | None = None
) -> Response:
    submission, token = _applicant_submission(request, session, submission_id, t)
    if submission is None:
        return _bad_link(request)
    view = _matrix(session, submission_id)
    settings = get_settings()
    link = f"{settings.public_url.rstrip('/')}/s/{submission_id}?{urlencode({'t': token})}"
    response = _render(
        request,
        "applicant.html",
        view=view,
        secret_link=link,
        notice=request.query_params.get("aviso"),
        upload_error=None,
        max_mb=settings.max_file_bytes // (1024 * 1024),
        max_files=settings.max_files_per_upload,
    )
    _remember_token(response, submission_id, token, request)
    return response


@router.get("/s/{submission_id}/estado", response_class=HTMLResponse)
def applicant_status(
    request: Request, session: DB, submission_id: str, t: str | None = None
) -> Response:
    submission, _ = _applicant_submission(request, session, submission_id, t)
    if submission is None:
        return _bad_link(request)
    view = _matrix(session, submission_id)
    return _render(request, "_applicant_status.html", view=view)


@router.post("/s/{submission_id}/archivos")
async def applicant_upload(
    request: Request,
    session: DB,
    submission_id: str,
    files: Annotated[list[UploadFile], File()] = None,
    t: Annotated[str | None, Form()] = None,
) -> Response:
    from service.domain.submissions import add_files

    submission, token = _applicant_submission(request, session, submission_id, t)
    if submission is None:
        return _bad_link(request)
    settings = get_settings()
    items: list[tuple[str, bytes]] = []
    problem = None
    for upload in files or []:
        if not upload.filename:
            continue
        # read at most one byte past the limit: add_files records "too large" on the document
        data = await upload.read(settings.max_file_bytes + 1)
        items.append((upload.filename, data))
    if not items:
        problem = "Seleccione al menos un archivo para subir."
    else:
        try:
            add_files(session, submission, items)
        except EvidenciaError as exc:
            session.rollback()
            problem = exc.message
    if _is_htmx(request) or request.headers.get("X-Requested-With") == "fetch":
        view = _matrix(session, submission_id)
        status = 422 if problem else 200
        return _render(
            request, "_applicant_status.html", status_code=status, view=view, upload_error=problem
        )
    if problem:
        view = _matrix(session, submission_id)
        return _render(
            request,
            "applicant.html",
            status_code=422,
            view=view,
            secret_link=None,
            notice=None,
            upload_error=problem,
            max_mb=settings.max_file_bytes // (1024 * 1024),
            max_files=settings.max_files_per_upload,
        )
    aviso = f"Se recibieron {len(items)} archivo(s)."
    return RedirectResponse(f"/s/{submission_id}?{urlencode({'aviso': aviso})}", 303)


# --- reviewers -------------------------------------------------------------------------------

PAGE_SIZE = 50
#: The list's URL parameters are Spanish, as people read them in the address bar.
_FILTERS = {
    "todas": listing.ListFilter.all,
    "pendientes": listing.ListFilter.pending_review,
    "falta": listing.ListFilter.missing,
    "errores": listing.ListFilter.errors,
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
    filtro: str
    orden: str
    desc: bool
    pagina: int
    buscar: str


@router.get("/revision", response_class=HTMLResponse)
def reviewer_list(
    request: Request,
    session: DB,
    filtro: str = "todas",
    orden: str = "fecha",
    dir: str = "desc",
    pagina: int = 1,
    buscar: str = "",
) -> Response:
    user = _require_reviewer(request, session)
    if isinstance(user, Response):
        return user
    if filtro not in _FILTERS:
        filtro = "todas"
    q = _ListParams(filtro=filtro, orden=orden if orden in _ORDERS else "fecha", desc=dir != "asc",
                    pagina=max(pagina, 1), buscar=buscar[:200])
    rows, total = listing.list_submissions(session, listing.ListQuery(
        filter=_FILTERS[q.filtro], order=_ORDERS[q.orden], desc=q.desc, search=q.buscar,
        offset=(q.pagina - 1) * PAGE_SIZE, limit=PAGE_SIZE,
    ))
    pages = max(1, -(-total // PAGE_SIZE))

    def link(**changes) -> str:
        params = {"filtro": q.filtro, "orden": q.orden, "dir": "desc" if q.desc else "asc",
                  "pagina": q.pagina, "buscar": q.buscar}
        params.update(changes)
        return "/revision?" + urlencode({k: v for k, v in params.items() if v not in ("", None)})

    return _render(
        request, "review_list.html", rows=rows, total=total, q=q, pages=pages, link=link
    )


def _review_context(session: Session, submission_id: str) -> dict | None:
    view = _matrix(session, submission_id)
    if view is None:
        return None
    return {"view": view, "done_docs": [d for d in view.documents if d.status == "done"]}


@router.get("/revision/s/{submission_id}", response_class=HTMLResponse)
def reviewer_submission(request: Request, session: DB, submission_id: str) -> Response:
    user = _require_reviewer(request, session)
    if isinstance(user, Response):
        return user
    ctx = _review_context(session, submission_id)
    if ctx is None:
        return _error_page(request, 404, "Postulación no encontrada", "No existe esa postulación.")
    return _render(request, "review_submission.html", **ctx, message=None)


@router.post("/revision/s/{submission_id}/decision")
def reviewer_decision(
    request: Request,
    session: DB,
    submission_id: str,
    compromiso: Annotated[str, Form()],
    accion: Annotated[str, Form()],
    comentario: Annotated[str, Form()] = "",
    documento: Annotated[str, Form()] = "",
    pagina: Annotated[str, Form()] = "",
    extracto: Annotated[str, Form()] = "",
) -> Response:
    from service.domain.submissions import record_decision

    user = _require_reviewer(request, session)
    if isinstance(user, Response):
        return user
    message = None
    if compromiso not in COMMITMENT_IDS or accion not in ("confirm", "reject", "attach"):
        message = "Decisión no válida."
    elif accion == "attach" and not (documento and extracto.strip()):
        message = "Para adjuntar un extracto elija el documento y pegue el texto del extracto."
    else:
        page = int(pagina) if pagina.strip().isdigit() else None
        try:
            record_decision(
                session,
                submission_id,
                compromiso,
                accion,
                user,
                document_id=documento or None,
                excerpt=extracto.strip() or None,
                page=page,
                comment=comentario.strip() or None,
            )
        except EvidenciaError as exc:
            session.rollback()
            message = exc.message
    if not _is_htmx(request) and message is None:
        return RedirectResponse(f"/revision/s/{submission_id}#{compromiso}", 303)
    ctx = _review_context(session, submission_id)
    if ctx is None:
        return _error_page(request, 404, "Postulación no encontrada", "No existe esa postulación.")
    return _render(
        request,
        "review_submission.html",
        status_code=422 if message else 200,
        **ctx,
        message=message,
        focus=compromiso,
    )


@router.get("/revision/d/{document_id}", response_class=HTMLResponse)
def reviewer_document(
    request: Request, session: DB, document_id: str, pagina: int = 1, compromiso: str = ""
) -> Response:
    user = _require_reviewer(request, session)
    if isinstance(user, Response):
        return user
    doc = session.get(Document, document_id)
    if doc is None:
        return _error_page(request, 404, "Documento no encontrado", "No existe ese documento.")
    view = _matrix(session, doc.submission_id)
    row = view.document(document_id)
    page = None
    n_pages = row.pages
    if doc.extraction_id is not None:
        pagina = min(max(pagina, 1), max(n_pages, 1))
        page = _page_of(session, doc.extraction_id, pagina)
    # evidence on this page, per commitment (optionally only the one asked for)
    passages: list[str] = []
    passage_commitments: list[str] = []
    for cid, cell in row.cells.items():
        if compromiso and cid != compromiso:
            continue
        for p in cell.passages:
            if (p.page or 0) == pagina and p.text:
                passages.append(p.text)
                passage_commitments.append(cid)
    boxes, segments = [], []
    if page is not None:
        boxes = highlight_boxes(page.words or [], passages, page.width, page.height)
        segments = highlight_text(page.text or "", passages)
    evidence_pages = sorted(
        {(p.page or 0) for c in row.cells.values() for p in c.passages} - {0}
    )
    return _render(
        request,
        "review_document.html",
        view=view,
        doc=row,
        page=page,
        pagina=pagina,
        n_pages=n_pages,
        boxes=boxes,
        segments=segments,
        passage_commitments=passage_commitments,
        compromiso=compromiso,
        evidence_pages=evidence_pages,
        has_image=renderable(row.mime) and doc.sha256 is not None and page is not None,
    )


@router.get("/revision/d/{document_id}/pagina/{number}.png")
def reviewer_page_image(request: Request, session: DB, document_id: str, number: int) -> Response:
    user = _reviewer_from_cookie(request, session)
    if user is None:
        raise HTTPException(401)
    doc = session.get(Document, document_id)
    if doc is None or doc.sha256 is None or not renderable(doc.mime):
        raise HTTPException(404)
    rotation = 0
    if doc.extraction_id is not None:
        page = _page_of(session, doc.extraction_id, number)
        if page is None:
            raise HTTPException(404)
        rotation = page.rotation or 0
    try:
        path = page_png(doc.sha256, doc.mime, number, rotation)
    except Exception:  # an unreadable page: the text is still shown next to it
        log.exception("rendering page %s of %s failed", number, document_id)
        raise HTTPException(404) from None
    return FileResponse(path, media_type="image/png", headers={"Cache-Control": "private"})


@router.get("/revision/s/{submission_id}/informe.pdf")
def reviewer_report(request: Request, session: DB, submission_id: str) -> Response:
    from service.outputs.report import build_report

    user = _require_reviewer(request, session)
    if isinstance(user, Response):
        return user
    view = _matrix(session, submission_id)
    if view is None:
        return _error_page(request, 404, "Postulación no encontrada", "No existe esa postulación.")
    pdf = build_report(view, generated_by=user.username)
    filename = f"informe-{submission_id[:8]}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
