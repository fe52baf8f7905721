"""Classifier round six (2026-12-06): failure classes read on the fresh dev organisations
org69, org71 and org73 (the classes the second blind set still got wrong). Every sentence here
is written for the test (never a corpus sentence). Rules alone: the second stage, when
installed, is measured by `evidencia eval`."""

from __future__ import annotations

# --- a State body, a municipality or its mayor acting or speaking: their acts, not ours


def test_what_a_seremi_did_is_not_the_organisation_s_event(rules):
    assert "c4" not in rules(
        "Informe de la empresa",
        "En mayo la Seremi de Desarrollo Social realizó en la plaza de Ovalle una feria "
        "intercultural con danzas de cinco países.",
    )


def test_what_the_labour_directorate_taught_neighbours_is_not_ours(rules):
    assert "c4" not in rules(
        "Acta de asamblea",
        "La Dirección del Trabajo dictó en la sede de la junta de vecinos un taller de creole "
        "para vecinos haitianos de la población.",
    )


def test_a_mayor_telling_what_the_municipality_celebrated_is_not_ours(rules):
    assert "c4" not in rules(
        "Boletín interno",
        "El alcalde contó a la radio que la municipalidad celebró el Día del Migrante con una "
        "feria gastronómica en la costanera.",
    )


def test_an_event_done_with_a_seremi_is_still_ours(rules):
    assert "c4" in rules(
        "Informe de la empresa",
        "En mayo, junto a la Seremi de Desarrollo Social, realizamos en el patio de la planta "
        "una feria intercultural con danzas de cinco países.",
    )


def test_our_own_celebration_still_counts(rules):
    assert "c4" in rules(
        "Boletín interno",
        "El 18 de diciembre celebramos el Día del Migrante con una feria gastronómica en el "
        "casino de la empresa.",
    )


# --- a law quoted as the frame, somebody's words quoted: not the organisation's rule


def test_a_sentence_opening_with_what_a_law_says_is_context(rules):
    assert "c3" not in rules(
        "Aviso de vacante",
        "Según la Ley N° 20.609, nadie puede ser discriminado por su nacionalidad en la "
        "contratación.",
    )


def test_words_quoted_from_an_authority_are_not_a_rule(rules):
    assert "c3" not in rules(
        "Boletín del sindicato",
        "“Ninguna trabajadora extranjera puede cobrar menos por su nacionalidad”, dijo la "
        "ministra en la inauguración.",
    )


def test_the_organisation_s_own_article_still_counts(rules):
    assert "c3" in rules(
        "Reglamento interno",
        "Artículo 12. La empresa no discriminará a sus trabajadores por su nacionalidad en la "
        "contratación ni en las remuneraciones.",
    )


# --- items of a list of proposals are not things done


def test_items_under_a_lead_of_proposals_are_not_done(rules):
    assert "c4" not in rules(
        "Correo",
        "Te dejo las propuestas que conversamos para el próximo año:",
        "- Una feria intercultural con comida de cada país.",
        "- Folletos de seguridad en creole.",
    )


def test_items_under_a_lead_of_things_done_still_count(rules):
    assert "c4" in rules(
        "Correo",
        "Te cuento lo que hicimos este año:",
        "- El 20 de junio realizamos una feria intercultural con comida de cada país.",
        "- Se imprimieron los folletos de seguridad en creole y en español.",
    )
