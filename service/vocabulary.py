"""Spanish names of the domain's stable codes: the five commitments and the document types."""

from __future__ import annotations

__all__ = [
    "COMMITMENT_NAMES",
    "COMMITMENT_SHORT",
    "DOC_TYPE_NAMES",
    "commitment_name",
    "doc_type_name",
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


def commitment_name(cid: str) -> str:
    return COMMITMENT_NAMES.get(cid, cid)


def doc_type_name(code: str | None) -> str:
    return DOC_TYPE_NAMES.get(code or "otro", code or "otro")
