"""Request and response bodies of the HTTP API, by role: ``XCreate`` in, ``XPublic`` out, and
the functions that turn the domain's read model (``service.domain.matrix``) into those bodies.

These are the contract clients integrate against (issue 4): fields may be added, never renamed
or removed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from service.domain import clock
from service.domain.matrix import (
    CommitmentRow,
    DecisionEntry,
    DocumentEntry,
    SubmissionMatrix,
    SubmissionProgress,
)
from service.domain.workflow import DocumentChanges, ReviewState

__all__ = [
    "ErrorDetail",
    "ErrorBody",
    "SubmissionCreate",
    "SubmissionCreated",
    "DocumentPublic",
    "SubmissionPublic",
    "SubmissionSummary",
    "SubmissionList",
    "UploadedDocument",
    "UploadAccepted",
    "RetryRefusal",
    "RetryAccepted",
    "retry_public",
    "EvidencePublic",
    "CellPublic",
    "DecisionCreate",
    "DecisionPublic",
    "FlagPublic",
    "CommitmentPublic",
    "MatrixPublic",
    "PagePublic",
    "DocumentEvidence",
    "DocumentDetail",
    "LoginRequest",
    "SessionPublic",
    "Health",
    "SearchExcerpt",
    "SearchHitPublic",
    "SearchPublic",
    "search_public",
    "ReviewCreate",
    "ReviewEventPublic",
    "ReviewPublic",
    "CommitmentOutcome",
    "AssignRequest",
    "NextPending",
    "LinkRequest",
    "LinkRequested",
    "review_public",
    "outcomes_public",
    "document_public",
    "uploaded_public",
    "decision_public",
    "progress_public",
    "matrix_public",
]


class RequestBody(BaseModel):
    """Every JSON body a client sends: NUL and control characters are dropped from its text
    (``service.domain.text.clean``) before anything reads it."""

    @model_validator(mode="before")
    @classmethod
    def _clean_text(cls, data):
        return _cleaned(data)


def _cleaned(value):
    from service.domain.text import clean

    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {k: _cleaned(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_cleaned(v) for v in value]
    return value


class ErrorDetail(BaseModel):
    code: str = Field(description="Código estable del error: `invalid_rut`, `forbidden`, "
                      "`too_many_files`…")
    message: str = Field(description="Mensaje en español para la persona usuaria")
    errors: list[dict] | None = Field(default=None,
                                      description="Problemas campo por campo (422)")


class ErrorBody(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"detail": {
        "code": "invalid_rut",
        "message": "El RUT no es válido. Escríbalo como 76.543.210-3 (con dígito verificador).",
    }}]})

    detail: ErrorDetail


class SubmissionCreate(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"organization": "Fundación Acoge", "rut": "76.543.210-3",
         "email": "postulacion@acoge.cl"}]})

    organization: str = Field(min_length=1, max_length=300, examples=["Fundación Acoge"],
                              description="Nombre de la organización postulante")
    rut: str | None = Field(default=None, max_length=20, examples=["76.543.210-3"],
                            description="RUT de la organización, con dígito verificador")
    email: str | None = Field(default=None, max_length=254, examples=["postulacion@acoge.cl"],
                              description="Correo de contacto: recibe el resultado de la "
                              "revisión y, si se pierde, un enlace nuevo")


class SubmissionCreated(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "3f2c9a7e5b1d4c8e9f0a1b2c3d4e5f60",
        "token": "mS3c-ejemplo-token-secreto",
        "organization": "Fundación Acoge",
        "rut": "76.543.210-3",
        "created_at": "2026-12-04T15:30:00+00:00",
        "applicant_url": "https://evidencia.example/s/3f2c9a7e5b1d4c8e9f0a1b2c3d4e5f60"
                         "?t=mS3c-ejemplo-token-secreto",
    }]})

    id: str
    token: str = Field(description="Token secreto de la postulación; se muestra una sola vez")
    organization: str = Field(description="Nombre registrado de la organización (si el RUT ya "
                                          "estaba registrado, el de su registro)")
    rut: str | None
    created_at: str | None
    notice: str | None = Field(
        default=None, description="Aviso cuando el RUT ya estaba registrado con otro nombre: "
                                  "el nombre indicado queda anotado, el registrado no cambia")
    applicant_url: str = Field(description="Enlace privado a la página de la postulación")
    email: str | None = Field(default=None, description="Correo de contacto registrado")
    status: str = Field(default="borrador", description="Estado de la revisión")


class DocumentPublic(BaseModel):
    id: str
    name: str
    status: Literal["queued", "processing", "done", "error"]
    stage: str = Field(description="queued, extracting, ocr, classifying, done o error")
    stage_detail: str | None = Field(default=None, description='Páginas "n/m" durante el OCR')
    stage_label: str = Field(description="La etapa en palabras, p. ej. «OCR página 3/8»")
    status_label: str
    error_code: str | None = None
    error: str | None = Field(default=None, description="Motivo en español si el estado es error")
    mime: str | None = None
    size: int = 0
    doc_type: str | None = None
    doc_type_label: str | None = None
    sha256: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    duplicate_of: str | None = Field(
        default=None, description="Si es el mismo archivo (mismos bytes) que un documento "
        "anterior de la postulación, el id de ese documento: se lista aparte y no se cuenta "
        "dos veces")


class ReviewEventPublic(BaseModel):
    status: str = Field(description="Estado al que pasó (o en el que siguió, si fue una "
                        "reasignación)")
    status_label: str
    from_status: str | None = Field(description="Estado anterior")
    message: str | None = Field(description="Mensaje general del revisor")
    commitments: dict[str, str] = Field(default={}, description="Mensajes por compromiso")
    by: str | None = Field(default=None, description="Revisor que dio el paso (solo para "
                           "revisores; vacío si fue la organización)")
    assigned_to: str | None = Field(default=None, description="Asignada a, después del paso")
    at: str | None = Field(description="Cuándo (ISO 8601 con la hora de Chile)")


class AddedDocumentPublic(BaseModel):
    name: str = Field(description="Nombre del documento agregado")
    at: str = Field(description="Cuándo se agregó (ISO 8601 con la hora de Chile)")


class ReplacedDocumentPublic(BaseModel):
    old: str = Field(description="Nombre del documento que el equipo revisor había visto")
    new: list[str] = Field(description="Lo que quedó en su lugar (un ZIP puede dar varios)")
    at: str = Field(description="Cuándo se reemplazó (ISO 8601 con la hora de Chile)")


class RemovedDocumentPublic(BaseModel):
    name: str = Field(description="Nombre del documento retirado")
    at: str = Field(description="Cuándo se retiró (ISO 8601 con la hora de Chile)")


class DocumentChangesPublic(BaseModel):
    since_status: Literal["observada", "enviada"] = Field(
        description="Desde qué paso se cuentan: la última observación o, en una primera "
                    "ronda, el primer envío")
    since: str = Field(description="Cuándo fue ese paso (ISO 8601 con la hora de Chile)")
    summary: str = Field(description="La frase para el equipo revisor, en español")
    added: list[AddedDocumentPublic] = Field(description="Documentos nuevos")
    replaced: list[ReplacedDocumentPublic] = Field(description="Documentos reemplazados")
    removed: list[RemovedDocumentPublic] = Field(description="Documentos retirados")


class ReviewPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "status": "observada", "status_label": "Observada: se solicitan cambios",
        "assigned_to": "ana.revisora", "submitted_at": "2026-12-04T15:30:00-03:00",
        "message": "Falta la nómina del comité.",
        "messages": {"c5": "Envíe la nómina con la nacionalidad de cada integrante."},
        "history": [],
    }]})

    status: Literal["borrador", "enviada", "en_revision", "observada", "aprobada",
                    "no_aprobada"] = Field(
        description="borrador (la organización sube documentos), enviada (espera revisor), "
                    "en_revision, observada (se piden cambios), aprobada o no_aprobada")
    status_label: str
    assigned_to: str | None = Field(description="Revisor a cargo")
    submitted_at: str | None = Field(default=None,
                                     description="Cuándo se envió (o reenvió) a revisión")
    message: str | None = Field(default=None,
                                description="Último mensaje general del equipo revisor")
    messages: dict[str, str] = Field(
        default={}, description="Últimos mensajes del equipo revisor por compromiso")
    history: list[ReviewEventPublic] = Field(description="Cada paso, del más antiguo al último")
    document_changes: DocumentChangesPublic | None = Field(
        default=None, description="Solo para revisores, en el avance de la postulación: qué "
        "documentos se agregaron, reemplazaron (nombre anterior → nuevo) y retiraron desde la "
        "última observación (o desde el primer envío), y cuándo; vacío si nunca se envió")


class CommitmentOutcome(BaseModel):
    id: str = Field(description="Compromiso: c1…c5")
    label: str
    status: Literal["confirmed", "rejected", "detected", "pending", "missing"] = Field(
        description="confirmed, rejected, detected, pending o missing (como en la matriz)")
    status_label: str
    decision: str | None = Field(
        description="Decisión vigente del revisor, si hay: confirm, reject o attach")
    comment: str | None = Field(default=None, description="Comentario de esa decisión")
    decided_at: str | None = None
    message: str | None = Field(default=None,
                                description="Mensaje del equipo revisor sobre este compromiso")


class SubmissionPublic(BaseModel):
    id: str
    organization: str
    rut: str | None
    source: str
    created_at: str | None
    documents: list[DocumentPublic]
    counts: dict[str, int] = Field(description="Documentos por estado (sin los duplicados)")
    complete: bool = Field(description="Ningún documento en cola ni en proceso")
    review: ReviewPublic | None = Field(default=None, description="Estado de la revisión")
    commitments: list[CommitmentOutcome] = Field(
        default=[], description="Cada compromiso: qué está confirmado, qué falta, y lo que "
        "dijo el revisor")


class SubmissionSummary(BaseModel):
    id: str
    organization: str
    rut: str | None
    source: str
    created_at: str | None
    documents: int
    errors: int
    pending: int
    review_status: str = Field(default="borrador", description="Estado de la revisión")
    assigned_to: str | None = Field(default=None, description="Revisor a cargo")
    submitted_at: str | None = Field(default=None, description="Cuándo se envió (o reenvió) "
                                     "a revisión: su antigüedad en la cola")


class SubmissionList(BaseModel):
    items: list[SubmissionSummary]
    total: int
    offset: int
    limit: int


class UploadedDocument(BaseModel):
    id: str
    name: str
    status: Literal["queued", "processing", "done", "error"]
    error_code: str | None = None
    error: str | None = None
    duplicate_of: str | None = Field(
        default=None, description="Si es el mismo archivo (mismos bytes) que un documento "
        "anterior de la postulación, o que otro de esta misma carga, el id de ese documento: "
        "se lista aparte y no se cuenta dos veces")


class RetryRefusal(BaseModel):
    id: str = Field(description="Identificador del documento que no se reintentó")
    reason: str = Field(description="Por qué no, en español")


class RetryAccepted(BaseModel):
    """Documentos con error devueltos a la cola por un revisor."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "queued": ["a1b2c3d4e5f60718293a4b5c6d7e8f90"],
        "refused": [{"id": "5e4d3c2b1a09f8e7d6c5b4a392817160",
                     "reason": "El archivo no se guardó porque se rechazó al subirlo (…): no "
                               "hay nada que reintentar. Solo la organización puede subirlo "
                               "de nuevo, corregido."}],
    }]})

    queued: list[str] = Field(description="Documentos que vuelven a la cola (quedan `queued`)")
    refused: list[RetryRefusal] = Field(
        default=[], description="Documentos que no se reintentaron, con el motivo")


def retry_public(outcome) -> dict:
    """A ``service.domain.retry.RetryOutcome`` as the API answers it."""
    return {"queued": list(outcome.queued),
            "refused": [{"id": i, "reason": r.message} for i, r in outcome.refused.items()]}


class UploadAccepted(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"documents": [
        {"id": "a1b2c3d4e5f60718293a4b5c6d7e8f90", "name": "politica-inclusion.pdf",
         "status": "queued", "error_code": None, "error": None, "duplicate_of": None},
        {"id": "0f9e8d7c6b5a49382716a5b4c3d2e1f0", "name": "actas.zip/acta-comite.docx",
         "status": "queued", "error_code": None, "error": None, "duplicate_of": None},
        {"id": "7c6b5a4938271605f4e3d2c1b0a99887", "name": "actas.zip/politica-inclusion.pdf",
         "status": "queued", "error_code": None, "error": None,
         "duplicate_of": "a1b2c3d4e5f60718293a4b5c6d7e8f90"},
        {"id": "5e4d3c2b1a09f8e7d6c5b4a392817160", "name": "logo.svg", "status": "error",
         "error_code": "unsupported_type",
         "error": "Tipo de archivo no soportado. Se aceptan PDF; documentos Word (DOCX, DOC), …",
         "duplicate_of": None},
    ]}]})

    documents: list[UploadedDocument]


class EvidencePublic(BaseModel):
    document_id: str
    document: str
    text: str
    page: int | None
    score: float = 0.0
    pattern_ids: list[str] = []
    confidence: float = 0.0
    supports: bool = Field(
        default=True, description="La celda de su documento respalda el compromiso: es evidencia; "
        "si no, es un pasaje considerado, no suficiente")


class CellPublic(BaseModel):
    # one commitment × document cell (no docstring: pydantic would show it on the API page)
    model_config = ConfigDict(json_schema_extra={"description": "Una celda compromiso × documento"})

    document_id: str
    document: str
    supported: bool
    confidence: float
    classifier_version: str
    evidence: list[EvidencePublic]
    rules_supported: bool | None = Field(
        default=None, description="El veredicto de las reglas solas, si el modelo aprendido "
        "participó en la decisión; null si no se sabe")
    overturned_note: str | None = Field(
        default=None, description="Si el modelo aprendido dio vuelta el veredicto de las reglas "
        "solas, el aviso en español")


class DecisionCreate(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"commitment": "c3", "action": "confirm",
         "comment": "La política firmada por la gerencia cumple."},
        {"commitment": "c5", "action": "attach", "document_id": "a1b2c3d4e5f60718293a4b5c6d7e8f90",
         "excerpt": "Nómina del comité: 4 de 9 integrantes son personas migrantes.", "page": 2},
    ]})

    commitment: Literal["c1", "c2", "c3", "c4", "c5"] = Field(description="Compromiso (c1…c5)")
    action: Literal["confirm", "reject", "attach", "undo", "comment"] = Field(
        description="confirm (confirmar: exige un pasaje detectado o un extracto adjuntado), "
                    "reject (rechazar), attach (adjuntar evidencia), undo (deshacer la "
                    "decisión vigente del compromiso) o comment (solo guardar el comentario)")
    document_id: str | None = Field(
        default=None, description="Documento que la respalda; sin él, el extracto se busca en "
                                  "todos los documentos analizados de la postulación")
    excerpt: str | None = Field(
        default=None, max_length=20000,
        description="Pasaje citado: debe estar en el texto extraído del documento (sin "
                    "importar mayúsculas, tildes ni espacios)")
    page: int | None = Field(default=None, ge=1, le=100_000,
                             description="Página del pasaje: debe existir en el documento")
    comment: str | None = Field(default=None, max_length=5000,
                                description="Comentario del revisor")


class DecisionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    commitment: str
    action: str
    document_id: str | None
    excerpt: str | None
    page: int | None
    comment: str | None
    classifier_version: str | None
    reviewer: str | None
    created_at: str | None
    undoes_id: int | None = Field(description="En un «undo»: la decisión que deshizo")
    endorsed_ids: list[str] = Field(
        default_factory=list,
        description="En un «confirm» sin documento: los documentos que la matriz mostraba como "
        "evidencia del compromiso al confirmar. La confirmación sigue vigente mientras quede "
        "alguno en la postulación; no abarca documentos subidos después. Vacío en las demás "
        "decisiones y en las confirmaciones anteriores a este registro")


class FlagPublic(BaseModel):
    id: int
    old_version: str
    new_version: str
    old_supported: bool
    new_supported: bool
    created_at: str | None


class CommitmentPublic(BaseModel):
    id: str = Field(examples=["c1"], description="Compromiso: c1…c5")
    label: str
    name: str
    supported: bool = Field(description="El clasificador lo encontró en algún documento")
    confidence: float
    evidence: list[EvidencePublic] = Field(
        description="Los mejores pasajes de los documentos que lo respaldan")
    considered: list[EvidencePublic] = Field(
        default=[], description="Pasajes de documentos que no lo respaldan: considerados, no "
        "suficientes (el clasificador los leyó y no le bastaron)")
    documents: list[CellPublic]
    status: Literal["confirmed", "rejected", "detected", "pending", "missing"] = Field(
        description="Estado de la celda: confirmed (confirmado), rejected (rechazado), detected "
                    "(detectado), pending (en proceso: aún se leen documentos) o missing "
                    "(sin evidencia)")
    decision: DecisionPublic | None
    comments: list[DecisionPublic] = Field(
        description="Comentarios de los revisores sobre el compromiso, del más antiguo al más "
                    "reciente (guardados solos o junto a una decisión)")
    flags: list[FlagPublic] = Field(
        description="Un reproceso cambió una celda que un revisor ya había decidido")


class MatrixPublic(BaseModel):
    id: str
    organization: str
    rut: str | None
    classifier_versions: list[str]
    documents: list[DocumentPublic]
    pending: int
    complete: bool
    commitments: list[CommitmentPublic]
    missing: list[str] = Field(
        description="Compromisos sin evidencia (después de las decisiones de los revisores); "
                    "no incluye los que esperan documentos en proceso (ver «waiting»)")
    waiting: list[str] = Field(
        default=[],
        description="Compromisos aún sin evidencia mientras se leen documentos (en proceso)")


class PagePublic(BaseModel):
    number: int
    text: str
    ocr: bool
    ocr_confidence: float | None
    method: str
    width: float
    height: float
    rotation: int = 0
    error: str | None = None
    words: list[list] | None = Field(
        default=None, description="[[texto, x0, arriba, x1, abajo], …] en puntos (?words=true)"
    )


class DocumentEvidence(BaseModel):
    commitment: str
    supported: bool
    confidence: float
    text: str
    page: int | None
    score: float = 0.0
    pattern_ids: list[str] = []


class DocumentDetail(DocumentPublic):
    submission_id: str
    extractor: str | None = None
    extractor_version: str | None = None
    page_count: int = 0
    ocr_pages: int = 0
    warnings: list[str] = []
    classifier_version: str | None = None
    text: str = ""
    pages: list[PagePublic] = []
    evidence: list[DocumentEvidence] = []


class LoginRequest(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"username": "revisora", "password": "una-clave-larga"}]})

    username: str = Field(max_length=120, description="Usuario del revisor")
    password: str = Field(max_length=1024, description="Contraseña")


class SessionPublic(BaseModel):
    token: str = Field(
        description="Token de sesión para `Authorization: Bearer` (también la cookie "
        "evidencia_session)")
    username: str
    role: str
    expires_in: int


class ReviewCreate(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"status": "en_revision"},
        {"status": "observada", "message": "Faltan antecedentes de dos compromisos.",
         "commitments": {"c2": "El plan no indica fechas ni asistentes.",
                         "c5": "Envíe la nómina del comité con nacionalidades."}},
        {"status": "no_aprobada", "message": "No se acreditó ninguna estructura interna."},
        {"status": "en_revision",
         "message": "Se aprobó por error: falta verificar el compromiso 3."},
    ]})

    status: Literal["en_revision", "observada", "aprobada", "no_aprobada"] = Field(
        description="en_revision (tomarla; un administrador, desde aprobada o no_aprobada: "
                    "reabrirla, con la razón en message), observada (pedir cambios: requiere "
                    "mensaje), aprobada o no_aprobada (requiere la razón)")
    message: str = Field(default="", max_length=5000,
                         description="Mensaje general para la organización")
    commitments: dict[Literal["c1", "c2", "c3", "c4", "c5"], str] = Field(
        default={}, description="Mensajes por compromiso para la organización")


class AssignRequest(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reviewer": "luis"}]})

    reviewer: str | None = Field(description="Usuario del revisor; vacío la deja sin asignar")


class NextPending(BaseModel):
    id: str | None = Field(description="La postulación tomada; vacío si no hay pendientes")
    review: ReviewPublic | None = None
    message: str | None = Field(default=None, description="Aviso en español si no hay")


class LinkRequest(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"rut": "76.543.210-3", "email": "postulacion@acoge.cl"}]})

    rut: str = Field(max_length=20, description="RUT de la organización")
    email: str = Field(max_length=254, description="Correo de contacto dado al postular")


class LinkRequested(BaseModel):
    message: str = Field(description="La misma respuesta exista o no la postulación")


class Health(BaseModel):
    status: str = Field(description="ok, o unavailable si algo no responde")
    checks: dict[str, str] = Field(default={}, description="Resultado de cada revisión")


# --- the read model as response bodies -------------------------------------------------------
# Each body takes the fields its schema declares from the read model's value of the same name;
# dates go out as ISO 8601 strings with Chile's offset (``service.domain.clock.iso``; the contract
# predates pydantic's own format).

#: Passages listed per commitment in the matrix's summary column (every one is in ``documents``).
SUMMARY_PASSAGES = 5


def _plain(value):
    if isinstance(value, datetime):
        return clock.iso(value, timespec="auto")
    if isinstance(value, tuple):
        return list(value)
    return value


def _body(schema: type[BaseModel], value, **computed) -> dict:
    """``schema``'s fields read from ``value``; ``computed`` gives those named otherwise."""
    return {
        name: computed[name] if name in computed else _plain(getattr(value, name))
        for name in schema.model_fields
    }


def document_public(d: DocumentEntry) -> dict:
    """Its ``error`` as the read model words it for the submission's state
    (``DocumentEntry.error``)."""
    return _body(DocumentPublic, d)


def uploaded_public(documents, duplicates: Mapping[str, str] | None = None) -> dict:
    """Documents just stored (``UploadAccepted``), straight from their rows; ``duplicates``
    (``submissions.duplicates_of``) names the document each copy repeats."""
    duplicates = duplicates or {}
    return {"documents": [
        {"id": d.id, "name": d.name, "status": d.status, "error_code": d.error_code,
         "error": d.error, "duplicate_of": duplicates.get(d.id)}
        for d in documents
    ]}


def decision_public(d: DecisionEntry, *, for_reviewer: bool = True) -> dict:
    """An applicant is not told which reviewer decided (as in :func:`review_public`)."""
    body = _body(DecisionPublic, d)
    if not for_reviewer:
        body["reviewer"] = None
    return body


def progress_public(p: SubmissionProgress, review=None, outcomes=()) -> dict:
    return _body(SubmissionPublic, p, counts=p.counts(),
                 documents=[document_public(d) for d in p.documents],
                 review=review, commitments=list(outcomes))


def document_changes_public(changes: DocumentChanges | None) -> dict | None:
    if changes is None:
        return None
    return {
        "since_status": changes.since_status, "since": _plain(changes.since),
        "summary": changes.summary,
        "added": [_body(AddedDocumentPublic, a) for a in changes.added],
        "replaced": [_body(ReplacedDocumentPublic, r) for r in changes.replaced],
        "removed": [_body(RemovedDocumentPublic, r) for r in changes.removed],
    }


def review_public(state: ReviewState, *, for_reviewer: bool,
                  changes: DocumentChanges | None = None) -> dict:
    """The review block; an applicant is not told which reviewer took each step, nor of the
    reviewers' reassignments. ``changes`` (``workflow.document_changes``): given for a
    reviewer's status only."""
    return _body(
        ReviewPublic, state, status=state.status.value,
        document_changes=document_changes_public(changes) if for_reviewer else None,
        status_label=state.label, messages=dict(state.messages),
        history=[
            _body(ReviewEventPublic, h, status_label=h.label, commitments=dict(h.commitments),
                  by=h.by if for_reviewer else None,
                  assigned_to=h.assigned_to if for_reviewer else None)
            for h in state.history
            if for_reviewer or not h.reassignment
        ],
    )


def outcomes_public(m: SubmissionMatrix, state: ReviewState) -> list[dict]:
    """Per commitment: its status after the reviewers' decisions and what they said."""
    return [
        {
            "id": c.id, "label": c.label, "status": c.status.value,
            "status_label": c.status.label,
            "decision": c.decision.action if c.decision else None,
            "comment": c.decision.comment if c.decision else None,
            "decided_at": _plain(c.decision.created_at) if c.decision else None,
            "message": state.messages.get(c.id),
        }
        for c in m.commitments
    ]


def _commitment_public(c: CommitmentRow, *, for_reviewer: bool = True) -> dict:
    """An applicant reads the comment of the decision in force, as on their page; comments a
    reviewer saved alone are the reviewers' notes."""
    comments = c.comments if for_reviewer else [
        d for d in c.comments if c.decision is not None and d.id == c.decision.id]
    return _body(
        CommitmentPublic, c,
        status=c.status.value,
        evidence=[_body(EvidencePublic, p) for p in c.passages[:SUMMARY_PASSAGES]],
        considered=[_body(EvidencePublic, p) for p in c.considered[:SUMMARY_PASSAGES]],
        documents=[
            _body(CellPublic, cell, evidence=[_body(EvidencePublic, p) for p in cell.passages])
            for cell in c.cells
        ],
        decision=(decision_public(c.decision, for_reviewer=for_reviewer) if c.decision
                  else None),
        comments=[decision_public(d, for_reviewer=for_reviewer) for d in comments],
        flags=[_body(FlagPublic, f) for f in c.flags],
    )


def matrix_public(m: SubmissionMatrix, *, for_reviewer: bool = True) -> dict:
    return _body(
        MatrixPublic, m,
        documents=[document_public(d) for d in m.documents],
        pending=m.n_pending,
        commitments=[_commitment_public(c, for_reviewer=for_reviewer) for c in m.commitments],
    )


class SearchExcerpt(BaseModel):
    document_id: str = Field(description="Documento donde está el pasaje")
    document: str = Field(description="Nombre del documento")
    page: int = Field(description="Página del pasaje (desde 1)")
    snippet: str = Field(description="El pasaje, recortado alrededor de las palabras buscadas")


class SearchHitPublic(BaseModel):
    submission_id: str = Field(description="Postulación encontrada")
    organization: str = Field(description="Nombre de la organización")
    rut: str | None = Field(description="RUT de la organización, sin puntos")
    created_at: str | None = Field(description="Fecha de la postulación (ISO 8601, hora de Chile)")
    organization_matched: bool = Field(
        description="Coincidió el nombre o el RUT de la organización (si no, solo el texto)")
    excerpts: list[SearchExcerpt] = Field(
        description="Hasta tres pasajes de sus documentos que contienen lo buscado")


class SearchPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "q": "nandu", "total": 1, "offset": 0, "limit": 20, "items": [{
            "submission_id": "9f8e7d6c5b4a39281706f5e4d3c2b1a0",
            "organization": "Fundación Ñandú", "rut": "76086428-5",
            "created_at": "2026-12-04T19:40:05-03:00", "organization_matched": True,
            "excerpts": [{"document_id": "a1b2c3d4e5f60718293a4b5c6d7e8f90",
                          "document": "plan-capacitacion.pdf", "page": 2,
                          "snippet": "…el plan de la Fundación Ñandú para 2026…"}],
        }],
    }]})
    q: str = Field(description="Lo buscado, tal como se aplicó")
    total: int = Field(description="Cuántas postulaciones coinciden en total")
    offset: int = Field(description="Cuántas se saltaron")
    limit: int = Field(description="Cuántas se pidieron")
    items: list[SearchHitPublic] = Field(description="Las postulaciones de esta página")


def search_public(results) -> dict:
    """A ``service.domain.search.SearchResults`` as the API gives it."""
    return {
        "q": results.query,
        "total": results.total,
        "offset": results.offset,
        "limit": results.limit,
        "items": [
            {
                "submission_id": hit.submission_id,
                "organization": hit.organization,
                "rut": hit.rut,
                "created_at": clock.iso(hit.created_at, timespec="auto"),
                "organization_matched": hit.organization_matched,
                "excerpts": [
                    {"document_id": e.document_id, "document": e.document, "page": e.page,
                     "snippet": e.snippet}
                    for e in hit.excerpts
                ],
            }
            for hit in results.hits
        ],
    }


# --- the reviewers' dashboard ---------------------------------------------------------------------


class StatusCount(BaseModel):
    status: str = Field(description="Estado de la postulación: borrador, enviada, en_revision, "
                                    "observada, aprobada o no_aprobada")
    label: str = Field(description="El estado en palabras")
    count: int = Field(description="Postulaciones en ese estado")


class BacklogPublic(BaseModel):
    waiting: int = Field(description="Postulaciones pendientes de un revisor (enviadas o en "
                                     "revisión)")
    oldest_seconds: float | None = Field(
        description="Tiempo en la cola de la más antigua, en segundos (desde su envío o "
                    "reenvío)")
    median_seconds: float | None = Field(description="Mediana del tiempo en la cola, en segundos")


class MissingCount(BaseModel):
    commitment: str = Field(description="Compromiso (c1…c5)")
    label: str
    count: int = Field(description="Postulaciones ya leídas a las que les falta")


class ReviewerWeekPublic(BaseModel):
    reviewer: str
    decisions: int = Field(description="Decisiones (confirmar, rechazar, adjuntar) esta semana")
    undone: int = Field(description="Decisiones deshechas esta semana")
    comments: int = Field(description="Comentarios guardados solos esta semana")


class DashboardPublic(BaseModel):
    statuses: list[StatusCount] = Field(description="Postulaciones por estado")
    backlog: BacklogPublic
    missing: list[MissingCount] = Field(
        description="Compromisos que más faltan, del más al menos frecuente")
    assessed: int = Field(description="Postulaciones con todos sus documentos leídos, sobre "
                                      "las que se cuentan los faltantes")
    week_start: str = Field(description="Inicio de la semana (lunes 00:00, hora de Chile)")
    reviewers: list[ReviewerWeekPublic]
