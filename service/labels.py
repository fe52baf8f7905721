"""Spanish wording of every stable code users see, in one table.

Codes (commitment ids, document types, stages, statuses) are stable and go into the database,
the API and logs; the words a person reads come from here or from the templates.
"""

from __future__ import annotations

__all__ = [
    "COMMITMENT_NAMES",
    "COMMITMENT_SHORT",
    "DOC_TYPE_NAMES",
    "STAGE_NAMES",
    "STATUS_NAMES",
    "commitment_name",
    "doc_type_name",
    "stage_label",
]

#: The five commitments as reviewers say them (domain guide).
COMMITMENT_NAMES: dict[str, str] = {
    "c1": (
        "Contar con estructuras internas encargadas de coordinar acciones que promuevan la "
        "inclusión, la interculturalidad y la no discriminación"
    ),
    "c2": "Contar con un plan de capacitación y sensibilización para su personal",
    "c3": (
        "Contar con políticas internas que aseguren buenas prácticas laborales que promuevan la "
        "inclusión, la interculturalidad y la no discriminación"
    ),
    "c4": (
        "Emprender acciones para promover la interculturalidad al interior de la institución y "
        "en la sociedad chilena"
    ),
    "c5": (
        "Fomentar la participación de personas extranjeras en las estructuras internas de la "
        "institución"
    ),
}

COMMITMENT_SHORT: dict[str, str] = {
    "c1": "Estructura interna de inclusión",
    "c2": "Plan de capacitación y sensibilización",
    "c3": "Políticas internas de buenas prácticas",
    "c4": "Acciones de interculturalidad",
    "c5": "Participación de personas extranjeras",
}

DOC_TYPE_NAMES: dict[str, str] = {
    "politica": "política",
    "protocolo": "protocolo",
    "plan_capacitacion": "plan de capacitación",
    "acta": "acta",
    "registro_asistencia": "registro de asistencia",
    "informe_actividades": "informe de actividades",
    "reglamento": "reglamento",
    "otro": "otro",
}

STATUS_NAMES: dict[str, str] = {
    "queued": "en cola",
    "processing": "procesando",
    "done": "listo",
    "error": "error",
}

STAGE_NAMES: dict[str, str] = {
    "queued": "en cola",
    "extracting": "extrayendo",
    "ocr": "OCR página",
    "classifying": "clasificando",
    "done": "listo",
    "error": "error",
}


def commitment_name(cid: str) -> str:
    return COMMITMENT_NAMES.get(cid, cid)


def doc_type_name(code: str | None) -> str:
    return DOC_TYPE_NAMES.get(code or "otro", code or "otro")


def stage_label(stage: str, detail: str | None = None) -> str:
    """'OCR página 3/8' for the OCR stage, the plain Spanish name otherwise."""
    name = STAGE_NAMES.get(stage, stage)
    return f"{name} {detail}" if stage == "ocr" and detail else name
