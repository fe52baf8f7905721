"""``/api/submissions``: create, upload to, follow and read the matrix of a submission."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Annotated, Literal

import anyio
from fastapi import APIRouter, File, Header, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from sqlalchemy.exc import IntegrityError

from extractors.registry import accepted_formats_text
from service.api.deps import (
    CurrentReviewer,
    SessionDep,
    StampAccess,
    SubmissionAccess,
    database_turn,
    resolve_stamp_access,
)
from service.api.schemas import (
    ErrorBody,
    MatrixPublic,
    SubmissionCreate,
    SubmissionCreated,
    SubmissionList,
    SubmissionPublic,
    UploadAccepted,
    matrix_public,
    outcomes_public,
    progress_public,
    review_public,
    uploaded_public,
)
from service.db import SessionLocal
from service.domain import clock, idempotency, listing, organizations, search, workflow
from service.domain.dispatch import requeue_lost
from service.domain.errors import LimitError, UnavailableError, ValidationError
from service.domain.matrix import load_matrix, load_progress
from service.domain.messages import error_message
from service.domain.submissions import add_files, create_submission, duplicates_of
from service.settings import get_settings
from service.throttle import client_address, limit_submissions

__all__ = ["router"]

log = logging.getLogger(__name__)


class _Route(APIRoute):
    """This router's routes. Those marked :func:`_cached_read` (status, matrix: answered from
    :class:`_Answers`) answer a request with no query string (the JSON answer, what a polling
    client asks) without FastAPI's dependency resolution: :func:`~service.api.deps.
    resolve_stamp_access` calls the same checks in the same order, then the route's own code
    runs. Anything else (``?format=``, ``?token=``, every other route) goes through FastAPI's
    handler. The generic resolution was the largest part of the CPU such a request costs
    (``bench/HISTORY.md``, "The API under load")."""

    def get_route_handler(self):
        resolved = super().get_route_handler()
        kind = getattr(self.endpoint, "cached_read", None)
        if kind is None:
            return resolved

        async def handler(request: Request) -> Response:
            if request.scope.get("query_string"):
                return await resolved(request)
            return await _json_answer(request, await resolve_stamp_access(request), kind)

        return handler


def _cached_read(kind: str) -> Callable:
    """Mark a route that takes ``Request`` and ``StampAccess`` (any other parameter from the
    query string) and, without a query string, answers :func:`_json_answer` of ``kind``."""

    def mark(endpoint: Callable) -> Callable:
        endpoint.cached_read = kind
        return endpoint

    return mark


router = APIRouter(prefix="/api/submissions", tags=["postulaciones"], route_class=_Route)

_ERRORS = {
    401: {"model": ErrorBody, "description": "Sin credenciales"},
    403: {"model": ErrorBody, "description": "Token de otra postulación"},
    404: {"model": ErrorBody, "description": "No existe"},
}


def applicant_url(submission_id: str, token: str) -> str:
    return f"{get_settings().public_url.rstrip('/')}/s/{submission_id}?t={token}"


_IDEMPOTENCY = (
    "Con la cabecera `Idempotency-Key` (una clave única por solicitud, p. ej. un UUID) la "
    "solicitud puede repetirse sin riesgo si no llegó la respuesta (corte de red, servicio "
    "reiniciado): la repetición con la misma clave y el mismo contenido recibe la misma "
    "respuesta (con `Idempotent-Replayed: true`) y no crea nada dos veces; la misma clave con "
    "otro contenido recibe 409. Las claves se recuerdan 24 horas."
)

IdempotencyKeyHeader = Annotated[str | None, Header(
    alias=idempotency.HEADER,
    description="Clave única de esta solicitud (p. ej. un UUID), para repetirla sin duplicar "
    "nada: de 1 a 200 letras, dígitos, «-», «_», «.» o «:».",
)]

_IDEMPOTENCY_ERRORS = {
    409: {"model": ErrorBody, "description": "La clave `Idempotency-Key` ya se usó con otra "
          "solicitud"},
}


def _replay(answer: idempotency.Answer) -> JSONResponse:
    return JSONResponse(answer.body, status_code=answer.status_code,
                        headers={"Idempotent-Replayed": "true"})


def _replay_after_race(session, scope: str, key: str | None, request_id: str) -> JSONResponse:
    """Two requests with one key at once: the second's commit failed on the key; it answers
    what the first stored."""
    session.rollback()
    answer = idempotency.recall(session, scope, key, request_id) if key else None
    if answer is None:
        raise UnavailableError()
    return _replay(answer)


@router.post(
    "",
    status_code=201,
    response_model=SubmissionCreated,
    responses={422: {"model": ErrorBody, "description": "Organización o RUT no válidos"},
               **_IDEMPOTENCY_ERRORS,
               429: {"model": ErrorBody,
                     "description": "Demasiadas postulaciones nuevas desde esta dirección"}},
    summary="Crear una postulación",
    description="Registra la organización (nombre y RUT, que se valida con su dígito "
    "verificador), con un correo de contacto opcional (recibe el resultado de la revisión), "
    "en estado `borrador`, y entrega, una sola vez, el token secreto de la postulación y el enlace "
    "privado a su página. Con ese token (`Authorization: Bearer <token>`) se suben archivos "
    "y se consultan el avance y la matriz. Cada dirección puede crear un número limitado de "
    "postulaciones por hora (429 con `Retry-After` al superarlo). " + _IDEMPOTENCY,
)
def create(body: SubmissionCreate, session: SessionDep, request: Request,
           idempotency_key: IdempotencyKeyHeader = None):
    key = idempotency.check_key(idempotency_key) if idempotency_key is not None else None
    request_id = idempotency.fingerprint([body.model_dump_json()])
    if key is not None:
        answer = idempotency.recall(session, "submission", key, request_id)
        if answer is not None:  # a retry: not counted against the address's limit
            return _replay(answer)
    limit_submissions(client_address(request))

    def keep(submission, token) -> None:
        idempotency.remember(session, "submission", key, request_id, 201,
                             _created(session, submission, token))

    try:
        submission, token = create_submission(session, body.organization, body.rut,
                                              email=body.email,
                                              before_commit=keep if key else None)
    except IntegrityError:  # a concurrent retry with the same key committed first
        return _replay_after_race(session, "submission", key, request_id)
    return _created(session, submission, token)


def _created(session, submission, token: str) -> dict:
    return {
        "email": submission.contact_email,
        "status": submission.status,
        "id": submission.id,
        "token": token,
        "organization": submission.organization.name,
        "rut": submission.organization.rut,
        "created_at": clock.iso(submission.created_at, timespec="auto"),
        "applicant_url": applicant_url(submission.id, token),
        "notice": organizations.registered_notice(session, submission),
    }


@router.get(
    "",
    response_model=SubmissionList,
    responses={401: _ERRORS[401]},
    summary="Listar postulaciones",
    description="Solo revisores. Las postulaciones más recientes primero, con cuántos "
    "documentos tiene cada una, cuántos con error y cuántos pendientes, su estado de revisión, "
    "revisor a cargo y desde cuándo espera; `assigned` deja las asignadas a quien consulta "
    "(`me`) o las sin asignar (`none`); `q` filtra como "
    "`GET /api/search` (organización, RUT en cualquier formato o texto de los documentos, "
    "sin distinguir mayúsculas ni tildes).",
)
def list_submissions(
    session: SessionDep,
    reviewer: CurrentReviewer,
    q: str | None = Query(default=None, max_length=search.MAX_QUERY_CHARS,
                          description="Nombre, RUT o palabras de los documentos"),
    offset: int = Query(default=0, ge=0, le=search.MAX_OFFSET,
                        description="Cuántas saltar (paginación)"),
    limit: int = Query(default=50, ge=1, le=500, description="Cuántas entregar, hasta 500"),
    assigned: Literal["me", "none"] | None = Query(
        default=None, description="`me`: asignadas a quien consulta y abiertas; `none`: "
        "enviadas o en revisión sin revisor asignado"),
) -> dict:
    chosen = {"me": listing.ListFilter.mine, "none": listing.ListFilter.unassigned}
    rows, total = listing.list_submissions(
        session, listing.ListQuery(search=q or "", offset=offset, limit=limit,
                                   filter=chosen.get(assigned, listing.ListFilter.all),
                                   reviewer_id=reviewer.id)
    )
    reviews = workflow.review_states(session, [r.id for r in rows])
    return {
        "items": [
            {
                "id": r.id,
                "organization": r.organization,
                "rut": r.rut,
                "source": r.source,
                "created_at": clock.iso(r.created_at, timespec="auto"),
                "documents": r.n_documents,
                "errors": r.n_errors,
                "pending": r.n_pending,
                "review_status": reviews[r.id].status.value,
                "assigned_to": reviews[r.id].assigned_to,
                "submitted_at": clock.iso(reviews[r.id].submitted_at, timespec="auto"),
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
    responses={**_ERRORS, **_IDEMPOTENCY_ERRORS,
               413: {"model": ErrorBody, "description": "Demasiados archivos"}},
    summary="Subir archivos",
    description="Uno o varios archivos en el campo multipart `files` (repetible). "
    + accepted_formats_text() + " Cada ZIP y cada correo se abre: cada "
    "archivo que contiene es un documento. Responde 202 de inmediato; el procesamiento sigue "
    "en segundo plano (`GET /api/submissions/{id}`). Un archivo ilegible queda en `error` con "
    "su motivo en español sin afectar a los demás. Los documentos y la respuesta se guardan "
    "juntos: si el servicio se detiene antes de encolarlos, se encolan solos en segundos, o "
    "al repetir la solicitud con la misma `Idempotency-Key`. " + _IDEMPOTENCY,
)
def upload(
    access: SubmissionAccess,
    session: SessionDep,
    files: list[UploadFile] | None = File(default=None, description="Archivos o ZIP"),
    idempotency_key: IdempotencyKeyHeader = None,
):
    settings = get_settings()
    if not access.is_reviewer:
        workflow.check_upload(access.submission)
    else:  # taken in any status of the review but a final verdict's, as batch's new files
        workflow.check_unlocked(access.submission, workflow.VerdictLock.add)
    if not files:
        raise ValidationError(code="no_files")
    if len(files) > settings.max_files_per_upload:
        raise LimitError(error_message("too_many_files", limit=settings.max_files_per_upload))
    # Read at most one byte past the limit: an oversized file is rejected, never held whole.
    payload = [
        (f.filename or "archivo", f.file.read(settings.max_file_bytes + 1)) for f in files
    ]
    key = idempotency.check_key(idempotency_key) if idempotency_key is not None else None
    scope = f"upload:{access.submission.id}"
    request_id = idempotency.fingerprint(part for name, data in payload for part in (name, data))
    if key is not None:
        answer = idempotency.recall(session, scope, key, request_id)
        if answer is not None:
            _enqueue_unfinished(session, access.submission.id)
            return _replay(answer)

    def keep(documents) -> None:
        idempotency.remember(session, scope, key, request_id, 202,
                             uploaded_public(documents, duplicates_of(session, documents)))

    try:
        documents = add_files(session, access.submission, payload, queue_name="interactive",
                              before_commit=keep if key else None)
    except IntegrityError:  # a concurrent retry with the same key committed first
        return _replay_after_race(session, scope, key, request_id)
    return uploaded_public(documents, duplicates_of(session, documents))


def _enqueue_unfinished(session, submission_id: str) -> None:
    """A retried upload: the first one's documents may be committed without their jobs (the
    API stopped in between); queue them now rather than at the workers' next sweep."""
    try:
        requeue_lost(session, submission_ids=[submission_id])
    except Exception:  # the queue unreachable: the sweep will, once it is back
        log.warning("could not requeue the documents of %s", submission_id, exc_info=True)


@router.get(
    "/{submission_id}",
    response_model=SubmissionPublic,
    responses=_ERRORS,
    summary="Avance de una postulación",
    description="Cada documento con su estado (`queued`, `processing`, `done`, `error`), su "
    "etapa («OCR página 3/8») y, si falló, el motivo en español; `complete` es verdadero "
    "cuando ninguno queda pendiente. `review` dice en qué va la revisión (estado, revisor a "
    "cargo, historial y mensajes del equipo revisor por compromiso) y `commitments`, por "
    "compromiso, qué está confirmado, qué falta y la decisión vigente del revisor. Lleva "
    "`ETag`: con `If-None-Match` responde 304 si nada cambió.",
)
@_cached_read("status")
async def status(request: Request, access: StampAccess) -> Response:
    return await _json_answer(request, access, "status")


_DOWNLOADS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class _Answers:
    """Built answers (the read model and its JSON) per submission and kind, reused while the
    submission's version stamp is the one they were built at: the stamp comes with the access
    check's one statement (``StampAccess``), so a repeated status or matrix request costs no
    other query and no serialisation. Per process (each ``serve --workers`` process keeps its
    own, checked against the same stamp in the database); the least recently used go first."""

    def __init__(self, size: int = 512):
        self._items: OrderedDict[tuple, tuple[int, object, bytes]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: tuple, version: int) -> tuple[object, bytes] | None:
        with self._lock:
            item = self._items.get(key)
            if item is None or item[0] != version:
                return None
            self._items.move_to_end(key)
            return item[1], item[2]

    def put(self, key: tuple, version: int, data: object, body: bytes) -> None:
        with self._lock:
            self._items[key] = (version, data, body)
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


_answers = _Answers()


def _build_matrix(session, access, version: int) -> tuple[object, bytes]:
    data = load_matrix(session, access.submission.id)
    body = matrix_public(data, for_reviewer=access.is_reviewer)
    return data, MatrixPublic.model_validate(body).model_dump_json().encode()


def _build_status(session, access, version: int) -> tuple[object, bytes]:
    """The documents' progress, the review and each commitment's outcome (from the matrix
    built at the same version); a reviewer also sees who took each review step and what
    changed in the documents since the last observation (``workflow.document_changes``)."""
    sid = access.submission.id
    key = (sid, "matrix", access.is_reviewer)  # the caller's matrix: a reviewer's names them
    matrix = _answers.get(key, version)
    if matrix is None:
        matrix = _build_matrix(session, access, version)
        _answers.put(key, version, *matrix)
    state = workflow.review_state(session, sid)
    data = load_progress(session, sid)
    changes = (workflow.document_changes(session, sid, state) if access.is_reviewer
               else None)  # one query, per version built: a repeated request reads the cache
    review = review_public(state, for_reviewer=access.is_reviewer, changes=changes)
    body = progress_public(data, review=review,
                           outcomes=outcomes_public(matrix[0], state))
    return data, SubmissionPublic.model_validate(body).model_dump_json().encode()


_BUILDERS: dict[str, Callable] = {"status": _build_status, "matrix": _build_matrix}


def _build(kind: str, access, version: int) -> tuple[object, bytes]:
    with SessionLocal() as session:
        return _BUILDERS[kind](session, access, version)


#: Builds under way in this process, per answer and version: requests that miss the cache
#: together wait for the one build instead of each making it (after a version bump, or in a
#: process just started, every client polling that submission misses at once: 25 builds side
#: by side stalled a process for a second). Touched only from the event loop.
_building: dict[tuple, anyio.Event] = {}


async def _answer(request: Request, access, kind: str) -> tuple[object, bytes, str]:
    """The read model, its JSON and its ETag, from the cache when built at the submission's
    current version; otherwise built once in a thread (database reads, on a turn of its own)
    and kept, the requests that missed meanwhile waiting for it (as long as for a turn: then
    503 ``busy``). The status differs for reviewers (who took each review step), so it is kept
    per role, and so does the matrix (an applicant is not shown who decided, nor the
    reviewers' own notes).

    The version was read before the rows: a change landing in between gives newer rows under
    an older version, which the next request rebuilds, never the reverse.
    """
    submission_id, version = access.submission.id, access.submission.version
    role = access.is_reviewer
    key = (submission_id, kind, role)
    cached = _answers.get(key, version)
    while cached is None:
        under_way = _building.get((key, version))
        if under_way is None:
            cached = await _build_once(request, key, access, version)
        else:  # after it, the cache has the answer (or, if that build failed, build here)
            try:
                with anyio.fail_after(get_settings().db_pool_timeout):
                    await under_way.wait()
            except TimeoutError:
                raise UnavailableError(code="busy") from None
            cached = _answers.get(key, version)
    return cached[0], cached[1], f'"{kind[0]}{"r" if role else ""}{version}"'


async def _build_once(request: Request, key: tuple, access, version: int) -> tuple[object, bytes]:
    done = _building[(key, version)] = anyio.Event()
    try:
        async with database_turn(request):
            built = await anyio.to_thread.run_sync(_build, key[1], access, version)
        _answers.put(key, version, *built)
        return built
    finally:
        del _building[(key, version)]
        done.set()


async def _json_answer(request: Request, access, kind: str) -> Response:
    _data, body, etag = await _answer(request, access, kind)
    return _json(request, body, etag)


def _json(request: Request, body: bytes, etag: str) -> Response:
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


@router.get(
    "/{submission_id}/matrix",
    response_model=MatrixPublic,
    responses={
        **_ERRORS,
        200: {
            "description": "La matriz (JSON), o una descarga CSV o XLSX con ?format=",
            "content": {_DOWNLOADS["csv"]: {}, _DOWNLOADS["xlsx"]: {}},
        },
    },
    summary="Matriz de evidencias",
    description="Los cinco compromisos (c1…c5) por documento: si hay evidencia, los pasajes "
    "con su página y confianza, la decisión vigente del revisor y los compromisos que nadie "
    "cubre (`missing`). Lleva `ETag`: con `If-None-Match` responde 304 si nada cambió. "
    "`format=csv` o `format=xlsx` la entrega como planilla. Con el token de la organización "
    "no dice qué revisor decidió ni incluye las notas que los revisores guardan solas.",
)
@_cached_read("matrix")
async def matrix(
    request: Request,
    access: StampAccess,
    format: Literal["json", "csv", "xlsx"] = Query(  # noqa: A002
        default="json", description="json (por defecto), csv o xlsx"),
):
    data, body, etag = await _answer(request, access, "matrix")
    if format == "json":
        return _json(request, body, etag)
    return await anyio.to_thread.run_sync(_download, access, data, format)


def _download(access, data, format: str) -> Response:  # noqa: A002
    from service.outputs.exports import download_name, matrix_csv, matrix_xlsx

    filename = download_name("matriz", data, format)
    if format == "csv":
        body = matrix_csv(data, for_reviewer=access.is_reviewer)
    else:  # the decision history is for reviewers only
        body = matrix_xlsx(data, with_history=access.is_reviewer)
    return Response(
        body,
        media_type=_DOWNLOADS[format],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
