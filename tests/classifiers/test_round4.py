"""Classifier round four (2026-12-06): failure classes read on the fresh dev organisations
org57, org59 and org61. Every sentence here is written for the test (never a corpus sentence).
Rules alone: the second stage, when installed, is measured by `evidencia eval`."""

from __future__ import annotations

import pytest

from classifiers.units import split_blocks
from extractors.document import Page


def paragraphs(text: str, ocr: bool = False) -> list[str]:
    return [b.text for b in split_blocks([Page(1, text, ocr=ocr)]) if b.kind in ("para", "line")]


# --- a text layer writes no blank line between paragraphs

def test_a_short_line_that_closes_a_sentence_ends_its_paragraph_on_a_text_layer():
    text = (
        "Artículo 14. Los trabajadores recibirán su liquidación de sueldo el último día hábil del\n"
        "mes, junto con el detalle de sus descuentos.\n"
        "Artículo 15. Lo dispuesto en el artículo anterior rige también para el personal a plazo.\n"
    )
    assert paragraphs(text) == [
        "Artículo 14. Los trabajadores recibirán su liquidación de sueldo el último día hábil del "
        "mes, junto con el detalle de sus descuentos.",
        "Artículo 15. Lo dispuesto en el artículo anterior rige también para el personal a plazo.",
    ]


def test_a_full_width_line_that_happens_to_end_a_sentence_keeps_the_paragraph_going():
    text = (
        "La bodega abre a las ocho y cierra a las seis, de lunes a viernes, sin excepción alguna.\n"
        "Los sábados atiende sólo el turno de despacho, hasta el mediodía.\n"
    )
    assert len(paragraphs(text)) == 1


def test_a_rule_is_not_cancelled_by_a_cross_reference_in_the_next_article(rules):
    # "Lo dispuesto en ..." opens a VISTOS preamble; here it opens the next article, which is
    # another paragraph: it no longer reaches the rule above it
    assert "c3" in rules(
        "Reglamento Interno de Orden, Higiene y Seguridad",
        "Título IX. De las prohibiciones",
        "Artículo 44. Queda prohibida toda distinción entre los trabajadores de la empresa "
        "basada en",
        "su nacionalidad o en su origen nacional.",
        "Artículo 45. Lo dispuesto en el artículo anterior rige también para el personal de "
        "temporada.",
    )


def test_an_ocr_sentence_wrapped_over_several_lines_stays_one_paragraph():
    text = (
        "En Temuco, a 3 de marzo de 2025, se reúne por segunda vez la Comisión de\n"
        "Interculturalidad de la empresa, creada por la gerencia para coordinar las\n"
        "acciones contra la discriminación por origen entre los trabajadores de las\n"
        "dos plantas.\n"
    )
    assert len(paragraphs(text, ocr=True)) == 1


def test_an_ocr_table_without_rules_is_still_cut_into_lines():
    text = (
        "Asistentes a la reunión del comité de planta Pedro Soto, operario de bodega, turno\n"
        "mañana, Marie Joseph, auxiliar\n"
        "de aseo, turno noche, Luis Mamani, operador\n"
        "de grúa, turno tarde\n"
    )
    assert len(paragraphs(text, ocr=True)) == 4


# --- words with two meanings: administration, not an intercultural event

@pytest.mark.parametrize("sentence", [
    "En marzo se realizó el concurso público para cargos de técnico, al que postularon personas "
    "chilenas, venezolanas y peruanas.",
    "Durante 2025 recibimos a 60 alumnos de intercambio de Perú, Ecuador y Francia, que realizaron "
    "su práctica en nuestros laboratorios.",
    "El 3 de mayo la municipalidad realizó un operativo de regularización migratoria para los "
    "trabajadores extranjeros en el casino de la planta.",
    "El 4 de abril se reunió el Comité de Convivencia con las trabajadoras haitianas y venezolanas "
    "para revisar los turnos de noche.",
])
def test_administration_is_not_an_intercultural_event(rules, sentence):
    assert "c4" not in rules("Informe de gestión 2025", "", sentence)


def test_a_community_gathering_still_is(rules):
    assert "c4" in rules(
        "Informe de actividades", "",
        "El 20 de junio celebramos en el casino una convivencia con comida peruana y venezolana "
        "preparada por los propios trabajadores.",
    )


def test_a_course_in_a_training_plan_is_training_not_a_community_event(rules):
    found = rules(
        "Plan Anual de Capacitación 2026", "",
        "Curso | Dirigido a | Fecha | Horas",
        "Convivencia intercultural con compañeros migrantes | Supervisores | Junio de 2026 | 4",
        "Manejo de extintores | Brigada | Julio de 2026 | 3",
    )
    assert "c2" in found and "c4" not in found


# --- a negation in a clause with its own subject does not reach the event before it

def test_a_negation_after_and_a_new_subject_stays_in_its_clause(rules):
    assert "c4" in rules(
        "Memoria 2025", "",
        "El 15 de agosto celebramos la fiesta de la Virgen de Urkupiña con las familias bolivianas "
        "de la planta, y algunos compañeros que nunca la habían visto terminaron en el baile.",
    )


def test_a_negated_celebration_is_still_not_one(rules):
    assert "c4" not in rules(
        "Memoria 2025", "",
        "Este año no se realizó la fiesta boliviana de Urkupiña, y algunos compañeros lo "
        "lamentaron.",
    )


# --- c2: a course approved in minutes

def test_a_course_approved_in_minutes_is_c2_even_with_its_sessions_ahead(rules):
    assert "c2" in rules(
        "Acta de la cuarta sesión del comité", "",
        "El comité aprueba el programa del taller “Trato igualitario a trabajadores migrantes”, "
        "de seis horas, que se dictará a todas las jefaturas en agosto y en noviembre.",
    )


@pytest.mark.parametrize("sentence", [
    "El comité aprobará en marzo el programa del taller sobre trato a trabajadores migrantes.",
    "La gerencia propone aprobar el próximo año un programa de curso sobre interculturalidad.",
])
def test_a_course_to_be_approved_is_not(rules, sentence):
    assert "c2" not in rules("Acta de sesión", "", sentence)
