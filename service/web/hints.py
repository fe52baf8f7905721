"""What kind of document would cover each commitment, in plain Spanish, for applicants.

Shown next to a commitment that has no evidence yet ("instant feedback"). Kept as data, apart
from the templates, so programme staff can reword it without touching page code. The wording
follows the reviewers' conventions in the domain guide (what counts and what does not).
"""

from __future__ import annotations

__all__ = ["MISSING_HINTS", "EXAMPLE_DOCUMENTS", "missing_hint"]

#: One or two sentences per commitment: what to upload so it would be covered.
MISSING_HINTS: dict[str, str] = {
    "c1": (
        "Suba un documento que muestre que existe un comité, mesa, área o persona encargada de "
        "la inclusión, la interculturalidad o la no discriminación de personas migrantes: por "
        "ejemplo, el acta de constitución del comité con sus integrantes, actas de sus reuniones "
        "o la resolución que nombra a la persona encargada. Un comité paritario de higiene y "
        "seguridad no cuenta."
    ),
    "c2": (
        "Suba el plan o programa de capacitación aprobado para su personal sobre "
        "interculturalidad, no discriminación, derechos laborales de personas migrantes o sesgos "
        "inconscientes, o el registro de asistencia e informe de una capacitación ya realizada. "
        "Las capacitaciones solo de seguridad no cuentan."
    ),
    "c3": (
        "Suba una política, protocolo o reglamento interno vigente que se aplique a sus "
        "trabajadores y prohíba la discriminación por nacionalidad u origen: por ejemplo, el "
        "artículo del reglamento interno, el código de ética, el procedimiento de reclutamiento "
        "inclusivo o un canal de denuncias que cubra la discriminación."
    ),
    "c4": (
        "Suba un informe, boletín o registro de actividades ya realizadas para promover la "
        "interculturalidad: ferias o celebraciones interculturales, clases de español o creole, "
        "material traducido ya publicado, campañas o convenios con organizaciones de personas "
        "migrantes, con fechas."
    ),
    "c5": (
        "Suba un acta de elección o una nómina de integrantes de un comité, sindicato, "
        "directorio o grupo de trabajo que indique la nacionalidad de cada persona y muestre "
        "personas extranjeras elegidas o designadas, o una política con cupos reservados para "
        "ellas. Una lista de asistencia o una dotación por nacionalidad no basta."
    ),
}

#: Typical documents, as a short list the page can show under the hint.
EXAMPLE_DOCUMENTS: dict[str, tuple[str, ...]] = {
    "c1": ("acta de constitución de comité", "actas de reunión", "resolución de nombramiento"),
    "c2": ("plan anual de capacitación", "programa de curso", "registro de asistencia"),
    "c3": ("política de diversidad e inclusión", "protocolo de no discriminación",
           "reglamento interno", "código de ética"),
    "c4": ("informe de actividades", "boletín o newsletter", "convenio con organización",
           "afiches y campañas"),
    "c5": ("acta de elección", "nómina de integrantes con nacionalidad", "estatutos con cupos"),
}


def missing_hint(cid: str) -> str:
    return MISSING_HINTS.get(cid, "Suba un documento que respalde este compromiso.")
