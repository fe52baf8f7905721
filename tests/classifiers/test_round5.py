"""Classifier round five (2026-12-06): failure classes read on the fresh dev organisations
org63, org65 and org67. Every sentence here is written for the test (never a corpus sentence).
Rules alone: the second stage, when installed, is measured by `evidencia eval`."""

from __future__ import annotations

# --- third parties: a municipality's office, another organisation, a prize awarded by others


def test_an_office_named_by_its_commune_is_the_municipality_s_not_a_structure(rules):
    assert "c1" not in rules(
        "Boletín de la empresa, octubre",
        "La Oficina Municipal de Migración e Interculturalidad, creada en 2019, atendió este año "
        "a 3.200 vecinos extranjeros y se reunió cada mes con las agrupaciones de migrantes.",
    )


def test_the_organisation_s_own_committee_still_counts(rules):
    assert "c1" in rules(
        "Acta de constitución",
        "En Coquimbo, a 4 de marzo de 2025, se constituye el Comité de Inclusión y Migración de "
        "Pesquera Las Tacas, encargado de coordinar las acciones contra la discriminación de los "
        "trabajadores extranjeros.",
    )


def test_what_another_union_elected_is_not_a_seat_in_ours(rules):
    assert "c5" not in rules(
        "Acta de asamblea del sindicato",
        "La presidenta cuenta que el sindicato de la otra empresa del parque industrial eligió "
        "como tesorera a una socia venezolana, la primera extranjera en su directorio.",
    )
    assert "c5" not in rules(
        "Acta de asamblea del sindicato",
        "El sindicato del puerto vecino eligió como secretario a un trabajador boliviano.",
    )


def test_our_own_election_of_a_foreign_member_still_counts(rules):
    assert "c5" in rules(
        "Acta de elección del directorio sindical",
        "Realizado el escrutinio, resultó electa como tesorera del sindicato la socia Maryori "
        "Salcedo, de nacionalidad venezolana, con 57 votos.",
    )


def test_a_prize_awarded_by_the_region_to_a_migrant_is_no_event_nor_seat(rules):
    found = rules(
        "Noticias internas, abril",
        "El premio “Vecina Migrante del Año”, que otorga la gobernación, recayó en la dirigenta "
        "peruana Rosa Huamán, presidenta de una junta de vecinos; la ceremonia se celebró en el "
        "teatro regional.",
    )
    assert not found & {"c4", "c5"}


def test_a_call_on_others_to_adopt_a_clause_is_not_a_rule_in_force(rules):
    assert "c3" not in rules(
        "Acta de asamblea",
        "El congreso de la confederación aprobó un documento que llama a las organizaciones "
        "afiliadas a pactar cláusulas contra la discriminación de los trabajadores extranjeros.",
    )


def test_a_wish_that_others_propose_an_activity_is_not_an_activity(rules):
    assert "c4" not in rules(
        "Circular a las sedes",
        "La gerencia quiere que cada sede organice en 2026 una feria intercultural abierta a los "
        "vecinos y a las familias de los trabajadores.",
    )


def test_a_law_that_establishes_a_right_is_not_the_organisation_s_rule(rules):
    assert "c3" not in rules(
        "Boletín laboral reenviado",
        "La abogada recordó que la Ley 20.609 establece que nadie puede ser objeto de "
        "discriminación por su nacionalidad en el trabajo.",
    )


def test_a_policy_that_cites_a_law_by_its_title_still_counts(rules):
    assert "c3" in rules(
        "Política de Igualdad de Trato",
        "En cumplimiento de la Ley 20.609, que establece medidas contra la discriminación, la "
        "empresa prohíbe toda distinción entre sus trabajadores basada en su nacionalidad u "
        "origen nacional.",
    )


# --- a committee dealing with a department, training about students, others' acts, work under way


def test_an_inclusion_committee_that_deals_with_the_operations_department_is_still_c1(rules):
    assert "c1" in rules(
        "Memoria 2025",
        "El Comité de Inclusión y Migración, creado por la gerencia en 2022 para velar por el "
        "trato igualitario de los operarios extranjeros, sesionó ocho veces este año y acordó "
        "con la Gerencia de Finanzas pagar los anticipos también a quienes tienen la cédula en "
        "trámite.",
    )


def test_a_quality_committee_is_still_not_an_inclusion_structure(rules):
    assert "c1" not in rules(
        "Acta",
        "El Comité de Calidad sesionó el 4 de mayo y revisó los reclamos de clientes extranjeros "
        "por el trato en las cajas.",
    )


def test_teachers_trained_about_foreign_students_is_staff_training(rules):
    assert "c2" in rules(
        "Informe de formación 2025",
        "En enero, 96 profesores y funcionarios del liceo participaron en el taller “Escuela "
        "intercultural”, de seis horas, sobre la evaluación justa de alumnos extranjeros y el "
        "trato a las familias migrantes.",
    )


def test_a_module_on_equal_treatment_of_migrant_workers_delivered_is_c2(rules):
    assert "c2" in rules(
        "Balance de la inducción de temporada",
        "El martes 9 de abril dictamos en la planta el módulo de inducción sobre trato igualitario "
        "y derechos de los trabajadores migrantes a los 38 temporeros nuevos.",
    )


def test_minutes_reporting_what_the_federation_did_are_not_our_acts(rules):
    found = rules(
        "Acta de asamblea ordinaria del sindicato",
        "El tesorero informa que la Federación celebró el Día del Migrante con una feria en la "
        "plaza de la ciudad, a la que asistieron dirigentes de toda la región.",
    )
    assert "c4" not in found


def test_the_progress_of_a_translation_is_not_material_published(rules):
    assert "c4" not in rules(
        "Acta de la mesa",
        "La mesa revisa el avance de la traducción al creole del manual de bienvenida.",
    )
