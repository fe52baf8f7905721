"""Spanish wording of stable codes (stages, statuses, error codes): the one table users read.

Code stores and compares the codes in ``service.models`` and ``extractors.errors``; only pages,
API messages and exports turn them into words, through :func:`stage_label` and friends.
"""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = [
    "STATUS_LABELS",
    "STAGE_LABELS",
    "ERROR_MESSAGES",
    "ACTION_LABELS",
    "CELL_STATUS_LABELS",
    "status_label",
    "stage_label",
    "error_message",
    "format_datetime",
]

STATUS_LABELS: dict[str, str] = {
    "queued": "en cola",
    "processing": "procesando",
    "done": "listo",
    "error": "error",
}

STAGE_LABELS: dict[str, str] = {
    "queued": "en cola",
    "extracting": "extrayendo",
    "ocr": "OCR página {detail}",
    "classifying": "clasificando",
    "done": "listo",
    "error": "error",
}

#: Matrix cell status after the reviewer's decision.
CELL_STATUS_LABELS: dict[str, str] = {
    "confirmed": "confirmado",
    "rejected": "rechazado",
    "detected": "detectado",
    "missing": "falta",
}

#: Reviewer decision actions, as shown in history and exports.
ACTION_LABELS: dict[str, str] = {
    "confirm": "confirmado",
    "reject": "rechazado",
    "attach": "respaldado con evidencia indicada",
}

#: Messages for codes raised by the service itself (extractor codes carry their own message).
ERROR_MESSAGES: dict[str, str] = {
    "validation": "Los datos enviados no son válidos.",
    "invalid_rut": "El RUT no es válido. Escríbalo como 76.543.210-3 (con dígito verificador).",
    "missing_organization": "Indique el nombre de la organización.",
    "not_found": "No se encontró el recurso solicitado.",
    "submission_not_found": "No se encontró la postulación.",
    "document_not_found": "No se encontró el documento.",
    "unauthorized": "Debe identificarse para continuar.",
    "forbidden": "No tiene permiso para ver esta postulación.",
    "bad_credentials": "Usuario o contraseña incorrectos.",
    "too_many_files": "Se enviaron demasiados archivos en una sola carga (máximo {limit}).",
    "no_files": "No se recibió ningún archivo. Adjunte uno o más archivos en el campo «files».",
    "too_large": "El archivo supera el tamaño máximo permitido ({limit_mb} MB).",
    "invalid_commitment": "El compromiso indicado no existe (use c1, c2, c3, c4 o c5).",
    "invalid_action": "La acción debe ser confirm, reject o attach.",
    "invalid_format": "Formato no soportado: use json, csv o xlsx.",
    "internal": (
        "Ocurrió un error interno al procesar el documento. El equipo fue notificado; "
        "puede intentar subirlo de nuevo más tarde."
    ),
    "transient": (
        "El servicio no pudo completar el procesamiento por una falla temporal. "
        "Se reintentará automáticamente."
    ),
    "timeout": (
        "El documento tardó más que el máximo permitido en procesarse. Si es un escaneo muy "
        "largo, divídalo en partes más pequeñas y súbalas por separado."
    ),
    "unavailable": "El servicio no está disponible en este momento. Intente nuevamente.",
}


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


def stage_label(stage: str, detail: str | None = None) -> str:
    """``("ocr", "3/8")`` → ``"OCR página 3/8"``."""
    label = STAGE_LABELS.get(stage, stage)
    if "{detail}" in label:
        return label.format(detail=detail or "").strip()
    return label


def _pipeline_messages() -> dict[str, str]:
    """Default messages of the pipeline's own errors (extractors.errors), by code."""
    from extractors.errors import EvidenciaError

    found: dict[str, str] = {}
    pending = [EvidenciaError]
    while pending:
        cls = pending.pop()
        found.setdefault(cls.code, cls.default_message)
        pending.extend(cls.__subclasses__())
    return found


def error_message(code: str, **params: object) -> str:
    """The Spanish message for a stable code: the service's table first, then the message the
    pipeline's error class carries, never a code without words."""
    template = ERROR_MESSAGES.get(code) or _pipeline_messages().get(code)
    if template is None:
        template = ERROR_MESSAGES["internal"]
    try:
        return template.format(**params)
    except (KeyError, IndexError):
        return template


def format_datetime(value: datetime | None) -> str:
    """How dates are shown to people: '22-11-2026 07:57 UTC' (SQLite gives naive UTC)."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%d-%m-%Y %H:%M UTC")
