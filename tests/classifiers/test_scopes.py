"""Scopes done right (issue 10): quotations, headings, neighbouring sentences, periphrastic
futures, names that are not the organisation's own, Latin-American wording, c5 in prose. Every
sentence here is written for the test (never a corpus sentence). Rules alone: the second stage,
when installed, is measured by `evidencia eval`."""

from __future__ import annotations

import pytest


def test_a_cue_inside_quoted_testimony_does_not_cancel_the_fact(rules):
    assert "c4" in rules(
        "Noticias\n\n"
        "«Nunca pensamos que vendría tanta gente», contó la encargada, el día en que la empresa "
        "celebró el 14 de junio de 2025 su primera feria intercultural con las familias "
        "migrantes de la planta.\n"
    )


def test_a_quoted_name_stays_in_its_clause(rules):
    assert "c1" not in rules(
        "Acta de asamblea\n\n"
        "Los socios acuerdan crear una «Comisión de Trabajadores Migrantes» del sindicato.\n"
    )


def test_a_challenges_heading_does_not_blank_what_was_done(rules):
    text = (
        "Cuenta pública 2025\n\n"
        "Desafíos y logros\n"
        "El 9 de mayo de 2025 se constituyó el Comité de Interculturalidad, que sesionó seis "
        "veces para acompañar a los funcionarios extranjeros.\n"
        "Próximos pasos\n"
        "Crear una mesa de inclusión para personas migrantes en el área de salud.\n"
    )
    assert rules(text) == {"c1"}


def test_periphrastic_futures_are_not_evidence(rules):
    assert "c4" not in rules(
        "Boletín\n\n"
        "Está prevista la realización de una feria intercultural con las comunidades migrantes "
        "el 12 de octubre de 2026.\n"
    )
    assert "c1" not in rules(
        "Memoria\n\n"
        "Se tiene contemplado constituir un comité de inclusión para los trabajadores migrantes "
        "en marzo de 2026.\n"
    )


def test_a_body_dissolved_after_its_election_is_not_evidence(rules):
    text = (
        "Acta\n\n"
        "El 3 de marzo de 2025 los trabajadores eligieron el Comité de Integración Migrante.\n"
        "Lo integraron Rosa Quispe, de nacionalidad peruana, y Jean Baptiste, haitiano.\n"
        "En julio, por falta de quórum, el comité se disolvió.\n"
    )
    assert not {"c1", "c5"} & rules(text)


def test_the_body_named_in_one_sentence_and_its_foreign_member_in_the_next(rules):
    assert "c5" in rules(
        "Acta de asamblea del sindicato\n\n"
        "El 20 de abril de 2025 se eligió la nueva directiva del sindicato.\n"
        "La tesorera, Maribel Condori, es de nacionalidad boliviana.\n"
    )


@pytest.mark.parametrize("text", [
    "Tres de los nueve integrantes del directorio son extranjeros.",
    "Gladys Mamani se convirtió en la primera dirigenta extranjera elegida en la directiva del "
    "sindicato.",
])
def test_c5_in_prose(rules, text):
    assert "c5" in rules("Memoria anual\n\n" + text + "\n")


@pytest.mark.parametrize("text", [
    "El 35 % de nuestra dotación es extranjera y trabaja en las faenas del norte.",
    "Un equipo de cosecha compuesto por trabajadores bolivianos llegó a la viña en marzo.",
    "El directorio designó al señor Pablo Ríos como Gerente Perú, con sede en Lima.",
])
def test_workforce_hired_crews_and_job_titles_are_not_c5(rules, text):
    assert "c5" not in rules("Memoria anual\n\n" + text + "\n")


@pytest.mark.parametrize("text, not_expected", [
    ("El 4 de junio de 2025 participamos en el lanzamiento del programa Migrante Emprende del "
     "Ministerio de Desarrollo Social en la región.", {"c1", "c4"}),
    ("Representantes de la Organización Internacional para las Migraciones y del Departamento "
     "de Extranjería y Migración expusieron ante el directorio el 3 de mayo de 2025.",
     {"c1", "c4"}),
    ("La empresa obtuvo en 2025 el Sello Migrante que entrega la municipalidad.", {"c1", "c4"}),
    ("El Servicio de Cooperación Técnica, junto con la CORFO, abrió en abril de 2025 la "
     "convocatoria del programa Migrante Emprende para la región.", {"c1", "c4"}),
])
def test_public_programmes_agencies_and_international_organisations_are_not_ours(
    rules, text, not_expected
):
    assert not not_expected & rules("Noticias\n\n" + text + "\n")


def test_an_alliance_with_a_migrant_association_is_c4(rules):
    assert "c4" in rules(
        "Noticias\n\n"
        "El 8 de agosto de 2025 firmamos un convenio con la Asociación de Residentes Haitianos "
        "para dictar clases de español a los trabajadores de la planta.\n"
    )


def test_a_law_quoted_is_not_the_organisations_rule_but_its_own_article_is(rules):
    assert "c3" not in rules(
        "Resolución exenta\n\n"
        "Que el artículo 2° del Código del Trabajo prohíbe las distinciones basadas en la "
        "nacionalidad de los trabajadores.\n"
    )
    assert "c3" in rules(
        "Reglamento interno\n\n"
        "Artículo 41. Se prohíbe a jefaturas y trabajadores cualquier distinción, exclusión o "
        "preferencia basada en el sexo, la edad, la religión, la opinión política, el idioma, "
        "la nacionalidad o la situación migratoria de otro trabajador.\n"
    )


@pytest.mark.parametrize("text", [
    "El 15 de septiembre celebramos las Fiestas Patrias con una fiesta criolla para todo el "
    "personal.",
    "El 2 de mayo se celebró la elección del directorio del sindicato con 140 votos.",
    "Nuestro compromiso es promover la sana convivencia entre todos los trabajadores, chilenos "
    "y extranjeros, durante 2025.",
])
def test_words_with_two_meanings(rules, text):
    assert "c4" not in rules("Boletín interno\n\n" + text + "\n")


def test_latin_american_wording(rules):
    assert "c1" in rules(
        "Memoria\n\n"
        "Desde marzo de 2025 funciona la Secretaría de Asuntos Migratorios del sindicato, "
        "que atendió 40 consultas de compañeros extranjeros.\n"
    )
    assert "c4" in rules(
        "Informe\n\n"
        "Entre abril y junio de 2025 se dictaron clases de criollo haitiano a 20 supervisores "
        "de la planta.\n"
    )


def test_a_question_asks_it_does_not_state(rules):
    assert not {"c1", "c2"} & rules(
        "Cuestionario a proveedores\n\n"
        "¿Cuenta su empresa con un comité de inclusión para trabajadores migrantes?\n"
        "¿Ha capacitado a su personal en no discriminación por nacionalidad?\n"
    )


def test_an_email_header_is_context_not_evidence(classify, doc):
    import classifiers

    result = classifiers.classify(doc(
        "De: Ana Soto <asoto@ejemplo.cl> Para: Jefaturas <jefes@ejemplo.cl> Asunto: taller de "
        "interculturalidad y no discriminación hacia trabajadores migrantes\n\n"
        "Hola a todos, les recuerdo entregar los turnos de la próxima semana.\n"
    ), use_model=False)
    assert not result.commitment("c2").supported
    assert all(not e.text.startswith("De:") for c in result.commitments for e in c.evidence)


def test_a_collective_agreement_is_the_organisations_rule(rules):
    assert "c3" in rules(
        "Contrato colectivo 2026-2029\n\n"
        "Cláusula décima. Las partes acuerdan que los bonos de este contrato colectivo se pagan a "
        "todos los socios sin distinción de nacionalidad u origen.\n"
    )


def test_places_in_a_course_are_not_seats_for_foreigners(rules):
    assert "c5" not in rules(
        "Plan de capacitación\n\n"
        "| Curso | Público | Cupos |\n"
        "| Derechos laborales de las personas migrantes | Jefaturas y supervisores | 40 cupos |\n"
    )


def test_the_operative_part_of_a_decree_is_not_its_preamble(rules):
    """A line "RESUELVO:" ends the VISTOS / CONSIDERANDO paragraph: the body it creates is c1."""
    assert "c1" in rules(
        "RESOLUCIÓN EXENTA N° 77\n\n"
        "VISTOS: los estatutos de la corporación y las facultades que me confieren.\n"
        "CONSIDERANDO: que la planta cuenta con numerosos trabajadores de otros países.\n"
        "RESUELVO:\n"
        "1 Constitúyese el Comité de Interculturalidad de la Corporación Cultural Río Claro, "
        "encargado de coordinar las acciones de inclusión de los trabajadores migrantes.\n"
    )


def test_a_future_about_another_noun_does_not_cancel_a_body_already_constituted(rules):
    assert "c1" in rules(
        "Memoria 2025\n\n"
        "En abril se constituyó la Mesa de Inclusión Migrante de la empresa, que sesionó seis "
        "veces y redactó la guía de acogida que se distribuirá en enero.\n"
    )


def test_a_body_still_to_be_created_in_a_relative_clause_stays_an_intention(rules):
    assert "c1" not in rules(
        "Minuta\n\n"
        "El comité de inclusión de los trabajadores migrantes que se constituirá en marzo "
        "coordinará las acciones.\n"
    )


def test_a_country_inside_a_job_title_of_a_chilean_member_is_not_c5(rules):
    assert "c5" not in rules(
        "Nómina del comité paritario\n\n"
        "| Nombre | Cargo | Nacionalidad | Representa a |\n"
        "| Tomás Reyes Lillo | Supervisor de exportaciones Bolivia | Chilena | Empresa |\n"
        "| Ana Paz Cortés | Operaria | Chilena | Trabajadores |\n"
    )


def test_stalls_at_the_plaza_de_armas_are_not_reserved_seats(rules):
    assert "c5" not in rules(
        "Informe de gestión\n\n"
        "La muestra de comunidades migrantes se realizó en la plaza de armas, y la asamblea "
        "del consejo vecinal aprobó la rendición de cuentas.\n"
    )


def test_seats_reserved_for_migrants_in_a_body_are_c5(rules):
    assert "c5" in rules(
        "Decreto\n\n"
        "El consejo comunal tendrá quince integrantes, y cinco de sus asientos quedan reservados "
        "a representantes de organizaciones de migrantes.\n"
    )


def test_a_foreign_member_named_in_apposition_is_c5(rules):
    assert "c5" in rules(
        "Cuenta pública\n\n"
        "Desde mayo funciona la Comisión de Interculturalidad de la cooperativa. "
        "“Aquí por fin nos escuchan”, dice Marlene Joseph, cajera haitiana e integrante de la "
        "comisión.\n"
    )


def test_a_pay_difference_forbidden_by_nationality_is_c3(rules):
    assert "c3" in rules(
        "Contrato colectivo 2026-2029\n\n"
        "Cláusula octava. La empresa se obliga a no establecer diferencias de remuneraciones "
        "por razón de la nacionalidad de los trabajadores que cumplan iguales funciones.\n"
    )


def test_foreign_staff_attending_unrelated_courses_is_not_c2(rules):
    assert "c2" not in rules(
        "Informe anual de personas\n\n"
        "En 2025, 96 trabajadores extranjeros asistieron a cursos de grúa horquilla y de "
        "primeros auxilios.\n"
    )


def test_a_body_left_without_effect_after_its_election_is_not_c5(rules):
    assert "c5" not in rules(
        "Acta de asamblea\n\n"
        "La asamblea eligió como integrantes de la comisión de trabajadores migrantes a Rosa "
        "Quispe, peruana, y a Wilner Joseph, haitiano.\n"
        "Luego, por mayoría, la asamblea acordó dejar sin efecto la elección.\n"
    )
