"""What a reviewer reads next to a detected cell: rule families and confidence in words."""

from __future__ import annotations

from classifiers.rules import load_rules
from service.domain import messages
from service.domain.matrix import confidence_level


def test_every_commitment_rule_has_a_spanish_description():
    rules = [r for r in load_rules().rules.values() if r.label.startswith("c")]
    assert rules
    missing = sorted(r.id for r in rules if r.id not in messages.rule_descriptions())
    assert not missing, f"add these ids to classifiers/patterns/descriptions.toml: {missing}"


def test_the_descriptions_file_names_no_rule_that_does_not_exist():
    ids = set(load_rules().rules)
    assert not sorted(set(messages.rule_descriptions()) - ids)


def test_rule_families_are_said_once_in_order_and_unknown_rules_by_commitment():
    families = messages.rule_families(
        ["c3.grounds_nationality", "c3.nondiscrimination_by_origin", "c3.equal_pay", "c2.new"]
    )
    assert families == [
        "una norma interna prohíbe discriminar por origen o nacionalidad",
        "asegura igual remuneración sin importar la nacionalidad",
        "una regla de «Plan de capacitación y sensibilización»",
    ]
    assert messages.rule_families(["second_stage"]) == []


def test_confidence_is_said_in_words_never_as_a_bare_percentage():
    words = [messages.confidence_label(confidence_level(p)) for p in (0.99, 0.85, 0.7, 0.6, 0.2)]
    assert words == ["alta", "alta", "media", "media", "baja"]


def test_a_model_trained_for_another_decision_rule_is_said_in_spanish():
    """second_stage.read_model refuses an artefact whose decision rule is not the code's."""
    said = messages.classifier_fallback(
        "classifiers.second_stage",
        "model artefact /datos/model/second_stage.json was trained for another decision rule "
        "({'rule': 'x', 'version': 1}, this code decides by ...); re-run ...")
    assert said.startswith("Aviso: el modelo aprendido (/datos/model/second_stage.json) se "
                           "entrenó para otra regla de decisión: se clasifica solo con las reglas")


def test_a_promoted_model_refused_says_the_packaged_one_decides():
    """second_stage.load_in_force: the promoted model gives way to the packaged one."""
    said = messages.classifier_fallback(
        "classifiers.second_stage",
        "second-stage model refused, classifying with the packaged model: model artefact "
        "/datos/model/second_stage.json is stale: trained for other patterns, features or code")
    assert said.startswith("Aviso: el modelo aprendido (/datos/model/second_stage.json) está "
                           "desactualizado")
    assert "se clasifica con el modelo incluido en el programa" in said
    assert "solo con las reglas" not in said
