"""Judgment that holds on text nobody tuned to (issue 10, second round): one test per failure
class fixed on 2026-12-05. Every sentence here is written for the test (never a corpus sentence).
Rules alone: the second stage, when installed, is measured by `evidencia eval`."""

from __future__ import annotations

import pytest

# --- c3: the COUNT_COL exclusion was any unit saying "trabajadores" or "personas"

def test_a_rule_about_workers_by_nationality_is_c3(rules):
    assert "c3" in rules(
        "Reglamento interno", "",
        "Artículo 44. Queda prohibida toda discriminación de los trabajadores de la empresa en "
        "razón de su nacionalidad o de su origen nacional.",
    )


def test_a_first_title_called_preliminar_is_not_a_draft(rules):
    assert "c3" in rules(
        "Reglamento Interno de Orden, Higiene y Seguridad", "",
        "TÍTULO PRELIMINAR", "",
        "Artículo 1. Este reglamento rige para todo el personal de la empresa.", "",
        "Artículo 31. Se prohíbe a supervisores y trabajadores cualquier distinción, exclusión o "
        "preferencia basada en la raza, el sexo, la religión, la nacionalidad o la situación "
        "migratoria de otro trabajador.",
    )


@pytest.mark.parametrize("lines", [
    # a body's functions, each opening with an infinitive, in a decree creating it
    ("Decreto", "", "Serán funciones de la comisión:",
     "- Recibir las consultas de funcionarios sobre trato discriminatorio por nacionalidad u "
     "origen que se le planteen."),
    # a body's mission
    ("Acta de constitución", "",
     "Su misión será coordinar las acciones de la empresa para prevenir la discriminación por "
     "nacionalidad entre los trabajadores."),
    # joining a union, whatever one's nationality
    ("Estatutos del sindicato", "",
     "Podrán afiliarse al sindicato todos los trabajadores de la empresa, cualquiera sea su "
     "nacionalidad."),
    # a union's demands
    ("Acta de asamblea", "",
     "La asamblea aprueba el pliego de peticiones, que incluye: igual bono de producción para los "
     "trabajadores extranjeros y chilenos; y un casino en el turno de noche."),
    # a clause proposed, quoted
    ("Acta del consejo federal", "",
     "El texto propuesto es el siguiente: «La empresa no hará diferencias de remuneración entre "
     "trabajadores por razón de su nacionalidad»."),
    # the residence permit is a requirement on the worker, not support from the employer
    ("Reglamento interno", "",
     "Los trabajadores extranjeros deberán acompañar el certificado que acredite su permiso de "
     "residencia vigente."),
    # a public programme described
    ("Boletín", "",
     "El programa Trabajo Digno del Ministerio promueve la no discriminación de los trabajadores "
     "extranjeros en las empresas adheridas."),
])
def test_what_is_not_a_rule_of_the_organisation_for_its_workers(rules, lines):
    assert "c3" not in rules(*lines)


# --- class 1: names that are not the organisation's own

@pytest.mark.parametrize("text", [
    "Desde mayo de 2025 nuestro jefe de personas participa en la Mesa Provincial de Migración "
    "convocada por la Gobernación, que sesionó el 3 de junio de 2025.",
    "En 2024 nos sumamos a la Red de Empleadores por la Inclusión Migrante, que sesiona cada mes.",
    "La Oficina de Asuntos Migrantes de la Municipalidad de Ovalle atendió en 2024 a 60 "
    "trabajadores extranjeros de la planta.",
    "En noviembre de 2025 la empresa recibió el Galardón a la Empresa Inclusiva que otorga la "
    "cámara regional.",
    "El comité regional de integración de migrantes, que coordina la Seremi de Desarrollo "
    "Social, sesionó el 8 de mayo de 2025.",
])
def test_bodies_awards_and_offices_of_others_are_not_our_committee(rules, text):
    assert "c1" not in rules("Memoria anual 2025", "", text)


def test_a_municipal_office_is_the_municipality_s_own(rules):
    assert "c1" in rules(
        "Ilustre Municipalidad de Villa Serena | RUT 69.000.000-0", "",
        "Informe de gestión 2025", "",
        "Durante 2025 la Oficina de Migrantes de la Municipalidad de Villa Serena atendió 900 "
        "consultas y coordinó las acciones municipales de inclusión de la población migrante.",
    )


def test_a_deal_between_others_is_not_our_alliance(rules):
    assert "c4" not in rules(
        "Noticias", "",
        "La alianza entre la OIM y la Fundación Camino Nuevo apoya desde 2021 a familias "
        "migrantes de la región.",
    )


def test_an_initiative_with_a_foundation_is_an_alliance(rules):
    assert "c4" in rules(
        "Informe de gestión", "",
        "En agosto de 2025 desarrollamos una iniciativa con la fundación Raíces Compartidas para "
        "que 25 trabajadores venezolanos validaran sus títulos técnicos.",
    )


# --- class 2: words with two meanings

@pytest.mark.parametrize("lines", [
    ("Informe de seguridad", "",
     "Los delegados del turno noche, ambos de nacionalidad peruana, asumieron el 2 de junio de "
     "2025."),
    ("Instructivo de contratación de personal extranjero", "",
     "Versión 3 — Aprobado por la Gerencia General el 4 de febrero de 2025"),
    ("Funciones del comité de inclusión:", "",
     "- Proponer a la gerencia el horario de las clases de español para los trabajadores "
     "haitianos."),
])
def test_not_an_intercultural_action(rules, lines):
    assert "c4" not in rules(*lines)


def test_material_published_in_several_languages_is_c4_evidence(found):
    assert "c4" in found(
        "Correo", "",
        "La cartilla de derechos laborales ya está publicada: la subimos a la intranet el 4 de "
        "agosto de 2025 en español, creole y francés.",
    )


# --- classes 3 and 4: a body dissolved later; members named next to the body

def test_a_body_dissolved_several_items_after_its_election_is_not_evidence(rules):
    assert not {"c1", "c5"} & rules(
        "Acta de asamblea del sindicato", "",
        "1. El 4 de abril de 2025 se eligió la Comisión de Socios Migrantes, integrada por dos "
        "socios bolivianos y una socia haitiana.",
        "2. Se informó del pago del bono de invierno.",
        "3. Se revisó el horario del casino.",
        "4. Se acordó comprar ropa de agua.",
        "5. Por último, la asamblea acordó disolver la Comisión de Socios Migrantes por falta de "
        "quórum.",
    )


def test_an_email_reply_giving_up_a_body_cancels_the_election_quoted_below(rules):
    assert "c5" not in rules(
        "De: Ana Rojas", "Asunto: RE: comité de integración", "",
        "Pedro, con el cierre de la obra lo damos por disuelto desde hoy.", "",
        "-----Mensaje original-----",
        "De: Pedro Soto",
        "Enviado: viernes, 7 de marzo de 2025 17:00", "",
        "Ana, el jueves quedó elegido el comité de integración de la obra con tres personas: "
        "Wilson Pierre (haitiano, jornal) y dos maestros chilenos.",
    )


def test_members_of_an_inclusion_group_are_c5(rules):
    assert "c5" in rules(
        "Notas de reunión", "",
        "Queda armado el grupo de inclusión con la Mari (María Quispe, boliviana, bodeguera) y "
        "el Pierre (Pierre Louis, haitiano, repartidor).",
    )


# --- third round (2026-12-05 night): a to-do list written as infinitives after a colon
# (kept below the first units: an e-mail's opening sentences count as its title for the document
# type, and "procedimiento" there types it as a protocol, where the cue does not apply)

def test_priorities_as_infinitives_after_a_colon_are_not_a_rule(rules):
    assert "c3" not in rules(
        "De: Jefatura de Personas", "Asunto: prioridades del próximo año", "",
        "Hola equipo, gracias por la reunión del jueves. Fue larga pero avanzamos harto.", "",
        "El cierre de remuneraciones de diciembre se adelanta al día 20 por las fiestas. Los "
        "turnos de enero ya están publicados en el mural del casino.", "",
        "Para el 2027 les dejo lo que quedó pendiente en la reunión: actualizar "
        "el procedimiento de selección para que no pida la nacionalidad chilena y revisar con "
        "los supervisores el trato discriminatorio a los trabajadores por su origen.",
    )


def test_a_policy_listing_duties_after_a_colon_is_still_c3(rules):
    assert "c3" in rules(
        "Política de Diversidad e Inclusión", "",
        "La empresa se obliga a lo siguiente: garantizar a todos sus trabajadores igualdad de "
        "trato, sin distinción por su nacionalidad ni por su situación migratoria.",
    )
