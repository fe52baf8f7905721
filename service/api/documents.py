"""``/api/submissions/{id}/documents/{document_id}``: extracted text and evidence of a document,
its original file; removing or replacing it (the applicant), reading it again with OCR (a
reviewer), through ``service.domain.documents``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Query, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, Response

from extractors.registry import FORMATS, accepted_extensions
from service.api.deps import CurrentReviewer, SessionDep, SubmissionAccess
from service.api.schemas import (
    DocumentDetail,
    DocumentPublic,
    ErrorBody,
    RetryAccepted,
    UploadAccepted,
    document_public,
    retry_public,
    uploaded_public,
)
from service.domain import documents as documents_domain
from service.domain.documents import live_document
from service.domain.errors import NotFoundError
from service.domain.matrix import current_classification, document_entry
from service.domain.models import Document
from service.domain.retry import documents_in_error, retry_documents
from service.domain.submissions import duplicates_of
from service.settings import get_settings

__all__ = ["router", "document_detail", "original_file_response", "INERT_TYPES"]

router = APIRouter(prefix="/api/submissions", tags=["documentos"])

DocumentId = Annotated[str, PathParam(description="Identificador del documento")]

_ERRORS = {
    401: {"model": ErrorBody, "description": "Sin credenciales"},
    403: {"model": ErrorBody, "description": "Token de otra postulación"},
    404: {"model": ErrorBody, "description": "La postulación o el documento no existe"},
}


def _document(session, access, document_id: str) -> Document:
    """A document of the caller's submission that was not removed (404 otherwise)."""
    return live_document(session, access.submission.id, document_id)


def document_detail(document: Document, *, words: bool = False) -> dict:
    """Text per page (OCR flags, method) and the newest classification's evidence."""
    data = document_public(document_entry(document))
    data["submission_id"] = document.submission_id
    extraction = document.extraction
    if extraction is not None:
        data.update(
            extractor=extraction.extractor,
            extractor_version=extraction.extractor_version,
            page_count=extraction.page_count,
            ocr_pages=extraction.ocr_pages,
            warnings=list(extraction.warnings or []),
            text="\n\n".join(p.text for p in extraction.pages),
            pages=[
                {
                    "number": p.number,
                    "text": p.text,
                    "ocr": p.ocr,
                    "ocr_confidence": p.ocr_confidence,
                    "method": p.method,
                    "width": p.width,
                    "height": p.height,
                    "rotation": p.rotation,
                    "error": p.error,
                    "words": p.words if words else None,
                }
                for p in extraction.pages
            ],
        )
    classification = current_classification(document)
    if classification is not None:
        data["classifier_version"] = classification.classifier_version
        data["evidence"] = [
            {
                "commitment": r.commitment,
                "supported": r.supported,
                "confidence": r.confidence,
                "text": e.get("text", ""),
                "page": e.get("page"),
                "score": float(e.get("score") or 0.0),
                "pattern_ids": list(e.get("pattern_ids") or []),
            }
            for r in classification.results
            for e in (r.evidence or [])
        ]
    return data


@router.get(
    "/{submission_id}/documents/{document_id}",
    response_model=DocumentDetail,
    responses=_ERRORS,
    summary="Texto y evidencias de un documento",
    description="El texto extraído por página (si se leyó con OCR, su confianza y el método), "
    "las advertencias de la extracción y los pasajes que el clasificador encontró para cada "
    "compromiso, con su página y puntaje. `words=true` agrega la posición de cada palabra "
    "para resaltarla sobre la imagen de la página.",
)
def get_document(
    document_id: DocumentId,
    access: SubmissionAccess,
    session: SessionDep,
    words: bool = Query(default=False,
                        description="Incluir la caja de cada palabra (para resaltar)"),
) -> dict:
    return document_detail(_document(session, access, document_id), words=words)


#: Types a browser only displays or hands to a viewer, never executes. Anything else an
#: applicant uploaded (HTML, SVG, XML, a PDF-named HTML page, a polyglot) goes out as
#: ``application/octet-stream``: its bytes came from a stranger and are read by reviewers.
INERT_TYPES = frozenset({
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "image/tiff",
    "image/bmp",
    "text/plain",
})

#: Headers on every uploaded file sent back: always a download, never sniffed into an active
#: type, and sandboxed (no script, no same-origin access) should a browser render it anyway.
_ORIGINAL_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox; default-src 'none'",
    "Cache-Control": "private, no-store",
}


#: Extensions a downloaded original may keep: the document types uploads accept
#: (``extractors.registry.FORMATS``; the pictures ``images.py`` reads too), opened by a viewer,
#: never run. Any other name gets its type's first extension added (``_TYPE_EXTENSIONS``),
#: else ``.bin``: a text file named "acta.bat" or an HTML page named "acta.hta" would run on a
#: double click under Windows.
_PICTURES_NOT_OFFERED = {"image/gif": ".gif", "image/bmp": ".bmp", "image/webp": ".webp"}
_DOCUMENT_EXTENSIONS = frozenset(accepted_extensions()) | set(_PICTURES_NOT_OFFERED.values())
_TYPE_EXTENSIONS = {f.mime: f.extensions[0] for f in FORMATS} | _PICTURES_NOT_OFFERED


def download_name(name: str, mime: str | None) -> str:
    """The file name a downloaded original is saved under: its own, with a document type's
    extension added when its own extension is not one (``acta.bat`` → ``acta.bat.txt``)."""
    base = name.rsplit("/", 1)[-1] or "archivo"
    suffix = Path(base).suffix.lower()
    if suffix in _DOCUMENT_EXTENSIONS:
        return base
    return base + _TYPE_EXTENSIONS.get(mime or "", ".bin")


def original_file_response(path: Path, name: str, mime: str | None) -> FileResponse:
    """The uploaded bytes as an attachment with an inert type: a stored HTML or SVG file must
    never run script on this origin (a reviewer's session could act for the uploader), and
    its name never one Windows would run (:func:`download_name`)."""
    media_type = mime if mime in INERT_TYPES else "application/octet-stream"
    filename = quote(download_name(name, mime))
    return FileResponse(  # streamed from the store, not read into memory
        path,
        media_type=media_type,
        headers={
            **_ORIGINAL_HEADERS,
            "Content-Disposition": f"attachment; filename*=UTF-8''{filename}",
        },
    )


@router.get(
    "/{submission_id}/documents/{document_id}/file",
    responses={**_ERRORS, 200: {"content": {"application/octet-stream": {}},
                                "description": "El archivo, como descarga"}},
    summary="Descargar el archivo original",
    description="Los bytes tal como se subieron, siempre como descarga y con un tipo inerte: "
    "PDF, DOCX, imágenes y texto conservan el suyo; cualquier otro (HTML, XML…) se entrega "
    "como `application/octet-stream`, para que un archivo ajeno nunca se ejecute en el "
    "navegador del revisor. Un nombre cuya extensión no es de documento recibe la de su tipo "
    "(«acta.bat» se descarga como «acta.bat.txt»).",
)
def get_file(document_id: DocumentId, access: SubmissionAccess, session: SessionDep) -> Response:
    from service.domain.storage import path_for

    document = _document(session, access, document_id)
    if document.sha256 is None or not path_for(document.sha256).exists():
        raise NotFoundError(code="document_not_found")
    return original_file_response(path_for(document.sha256), document.name, document.mime)


_RETRY_ERRORS = {
    401: {"model": ErrorBody, "description": "Solo revisores"},
    404: _ERRORS[404],
    409: {"model": ErrorBody, "description": "El documento no está con error, su archivo "
          "se rechazó al subirlo y no se guardó, o la postulación ya tiene su resultado final "
          "(`retry_locked`)"},
    503: {"model": ErrorBody, "description": "La cola de trabajos no responde"},
}

_RETRY_RULE = (
    "Cualquier error puede reintentarse (lo decide el revisor): un archivo dañado "
    "probablemente falle igual, pero uno interrumpido por falta de memoria, o que falló antes de "
    "una mejora del lector o de instalar el OCR, puede leerse ahora. No se reintenta un "
    "archivo rechazado al subirlo, porque no se guardó, ni un documento de una postulación "
    "con resultado final (aprobada o no aprobada: lo leído cambiaría la matriz en que se basan "
    "sus decisiones cerradas), salvo que un administrador la reabra."
)


@router.post(
    "/{submission_id}/documents/{document_id}/retry",
    status_code=202,
    response_model=RetryAccepted,
    responses=_RETRY_ERRORS,
    summary="Reintentar un documento con error",
    description="Solo revisores. El documento vuelve a la cola (`queued`) para leerse de "
    "nuevo desde cero: se borran su motivo de error y su cuenta de intentos. "
    + _RETRY_RULE,
)
def retry_document(
    document_id: DocumentId, reviewer: CurrentReviewer, access: SubmissionAccess,
    session: SessionDep,
) -> dict:
    document = _document(session, access, document_id)
    outcome = retry_documents(session, [document.id])
    if document.id in outcome.refused:
        raise outcome.refused[document.id]
    return retry_public(outcome)


@router.post(
    "/{submission_id}/retry",
    status_code=202,
    response_model=RetryAccepted,
    responses={k: v for k, v in _RETRY_ERRORS.items() if k != 409},
    summary="Reintentar los documentos con error de una postulación",
    description="Solo revisores. Cada documento con error de la postulación vuelve a la cola; "
    "los que no pueden reintentarse se listan en `refused` con su motivo. " + _RETRY_RULE,
)
def retry_submission(
    reviewer: CurrentReviewer, access: SubmissionAccess, session: SessionDep
) -> dict:
    ids = documents_in_error(session, access.submission.id)
    return retry_public(retry_documents(session, ids))


_CHANGE_ERRORS = {
    **_ERRORS,
    409: {"model": ErrorBody, "description": "La postulación ya no admite cambios de documentos"},
}


@router.delete(
    "/{submission_id}/documents/{document_id}",
    status_code=204,
    responses=_CHANGE_ERRORS,
    summary="Eliminar un documento",
    description="La organización quita un documento mientras la postulación es un borrador "
    "o está observada (el equipo revisor pidió cambios); en revisión o ya decidida responde "
    "409 con el motivo en español. El documento deja de contar en la matriz, los listados, "
    "la búsqueda y las exportaciones; su historial y el archivo guardado se conservan.",
)
def delete_document(document_id: DocumentId, access: SubmissionAccess,
                    session: SessionDep) -> Response:
    documents_domain.remove_document(session, access.submission, document_id)
    return Response(status_code=204)


@router.put(
    "/{submission_id}/documents/{document_id}",
    status_code=202,
    response_model=UploadAccepted,
    responses=_CHANGE_ERRORS,
    summary="Reemplazar un documento",
    description="Sube el archivo del campo multipart `file` en lugar del documento indicado, "
    "con las mismas condiciones que eliminarlo (borrador u observada; si no, 409). El "
    "documento anterior deja de contar y el nuevo se procesa como cualquier carga (un ZIP "
    "se abre en sus archivos); responde 202 con los documentos nuevos. Si el archivo nuevo se "
    "rechaza al recibirlo (vacío, demasiado grande, de un tipo que no se lee, un ZIP "
    "ilegible), responde 422 `replacement_refused` con el motivo y el documento anterior se "
    "mantiene.",
)
def replace_document(
    document_id: DocumentId,
    access: SubmissionAccess,
    session: SessionDep,
    file: UploadFile = File(description="El archivo nuevo"),
) -> dict:
    data = file.file.read(get_settings().max_file_bytes + 1)  # "too large" is recorded, not held
    new = documents_domain.replace_document(
        session, access.submission, document_id, file.filename or "archivo", data
    )
    return uploaded_public(new, duplicates_of(session, new))


@router.post(
    "/{submission_id}/documents/{document_id}/ocr",
    status_code=202,
    response_model=DocumentPublic,
    responses={**_ERRORS, 409: {"model": ErrorBody,
                                "description": "La postulación tiene su resultado final, "
                                "el documento aún se procesa, o no es PDF ni imagen"}},
    summary="Volver a leer un documento con OCR",
    description="Solo revisores. Encola el documento para leer todas sus páginas con OCR, "
    "sin usar la capa de texto del PDF (útil cuando esa capa está dañada o no corresponde a "
    "lo que se ve). El documento vuelve a `queued` y luego a `done` con el texto nuevo; sus "
    "evidencias se reemplazan. Responde 409 `reread_locked` si la postulación ya tiene su "
    "resultado final (aprobada o no aprobada: los pasajes en que se basan sus decisiones "
    "cerradas no cambian, salvo que un administrador la reabra), y 409 si aún se está "
    "procesando o si no es PDF ni imagen.",
)
def force_ocr(document_id: DocumentId, access: SubmissionAccess, reviewer: CurrentReviewer,
              session: SessionDep) -> dict:
    _document(session, access, document_id)
    document = documents_domain.force_ocr(session, document_id)
    return document_public(document_entry(document))
