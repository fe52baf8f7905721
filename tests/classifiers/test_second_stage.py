"""The learned second stage: trained from labelled documents written for the test, reproducible,
refused when stale or corrupt, and used by classify() with the rules' pattern ids kept."""

from __future__ import annotations

import json

import pytest

from classifiers import defaults, learn, second_stage, version
from tests.classifiers.conftest import make_doc

_POSITIVE = (
    "Acta de constitución\n\n"
    "En {city}, a 3 de marzo de 2025, se constituye el Comité de Interculturalidad de {org}, "
    "encargado de promover la inclusión de los trabajadores migrantes.\n"
    "Asisten seis integrantes.\n"
)
_NEGATIVE = (
    "Acta del comité paritario\n\n"
    "En {city}, a 3 de marzo de 2025, sesionó el Comité Paritario de Higiene y Seguridad de "
    "{org} para revisar los elementos de protección personal.\n"
)
_ORGS = [("Talca", "Agrícola Sur"), ("Arica", "Pesquera Norte"), ("Osorno", "Lácteos Ralún"),
         ("Calama", "Minera Loa")]


def _examples():
    out = []
    for n, (city, org) in enumerate(_ORGS):
        pos = _POSITIVE.format(city=city, org=org)
        sentence = pos.splitlines()[2]
        out.append(learn.prepare(make_doc(pos), key=f"org{n}/acta", group=f"org{n}",
                                 source=f"org{n}/acta", labels={"c1": True, "c2": False},
                                 evidence={"c1": [sentence]}))
        out.append(learn.prepare(make_doc(_NEGATIVE.format(city=city, org=org)),
                                 key=f"org{n}/paritario", group=f"org{n}",
                                 source=f"org{n}/paritario", labels={"c1": False},
                                 evidence={}))
    return out


@pytest.fixture(scope="module")
def examples(classify):
    return _examples()


def _train(examples):
    return learn.train_artefact(examples, learn.Params(min_sources=1, folds=2), "fp-test")


def test_training_is_reproducible_and_carries_its_provenance(examples):
    first, second = _train(examples), _train(list(reversed(examples)))
    assert second_stage.dumps(first) == second_stage.dumps(second)  # same data, same bytes
    assert first["format"] == second_stage.FORMAT and first["fingerprint"] == "fp-test"
    data = first["meta"]["training_data"]
    assert data["documents"] == 8 and data["organisations"] == 4
    assert data["fingerprint"] == learn.data_fingerprint(examples)
    assert first["meta"]["params"]["passage_c"] == learn.Params().passage_c
    cv = first["meta"]["metrics"]["cross_validation"]
    assert cv["folds"] == 2 and {"rules", "model", "stage", "duel"} <= set(cv)
    weights = first["commitments"]["c1"]["passage"]["weights"]
    assert any(k.startswith("rule:c1.") for k in weights)  # readable feature names


def test_a_relabelled_document_changes_the_data_fingerprint(examples):
    changed = [*examples[:-1], learn.prepare(make_doc("Texto cualquiera."), key=examples[-1].key,
                                             group="org3", source="x", labels={"c1": True},
                                             evidence={"c1": ["Texto cualquiera."]})]
    assert learn.data_fingerprint(changed) != learn.data_fingerprint(examples)


def test_a_decided_document_counts_as_its_weight_and_a_corpus_alone_fits_as_before(examples):
    """A reviewer-decided document of weight 3 is fitted as three copies of it, in the passage
    and the document models; weights of 1 everywhere (a corpus alone) fit, byte for byte, as
    no weights at all."""
    import dataclasses

    params = learn.Params(min_sources=1, folds=2)
    ones = [dataclasses.replace(ex, weight=1.0) for ex in examples]
    assert second_stage.dumps(_train(ones)) == second_stage.dumps(_train(examples))

    decided = examples[-1]  # a document that does not support c1, as a reviewer said
    weighted = learn.fit([*examples[:-1], dataclasses.replace(decided, weight=3.0)], params)
    copies = [dataclasses.replace(decided, key=f"{decided.key}#{n}") for n in range(3)]
    tripled = learn.fit([*examples[:-1], *copies], params)
    plain = learn.fit(examples, params)
    for models in (0, 1):  # passage, then document models
        w, t, p = (fitted[models]["c1"] for fitted in (weighted, tripled, plain))
        assert w.weights.keys() == t.weights.keys()
        assert w.intercept == pytest.approx(t.intercept, abs=1e-3)
        assert all(w.weights[k] == pytest.approx(t.weights[k], abs=1e-3) for k in w.weights)
        assert w.intercept != pytest.approx(p.intercept, abs=1e-3)  # the weight changed it


def test_stale_corrupt_and_foreign_artefacts_are_refused(examples, tmp_path):
    path = tmp_path / "second_stage.json"
    second_stage.save_model(_train(examples), path)
    assert second_stage.read_model("fp-test", path).passage["c1"].weights

    model, reason = second_stage.load_second_stage("fp-other", path)  # rules or features changed
    assert model is None and "stale" in reason

    body = json.loads(path.read_text())
    body["commitments"]["c1"]["document"]["intercept"] += 1.0  # edited by hand
    path.write_text(json.dumps(body))
    model, reason = second_stage.load_second_stage("fp-test", path)
    assert model is None and "checksum" in reason

    body["format"] = 99
    path.write_text(json.dumps(body))
    assert "format" in second_stage.load_second_stage("fp-test", path)[1]

    path.write_text("{ not json")
    assert "corrupt" in second_stage.load_second_stage("fp-test", path)[1]

    path.unlink()  # no artefact: rules alone by choice, not an error
    assert second_stage.load_second_stage("fp-test", path) == (None, "")


def test_a_refused_promoted_model_gives_way_to_the_packaged_one(examples, tmp_path,
                                                                monkeypatch):
    """A deployment's promoted model goes stale with every upgrade of the rules or features:
    the packaged model, fitted to this code, decides then (it beats the rules alone, QUALITY.md
    eighth round); the rules alone only when the packaged one is refused too."""
    from classifiers import defaults

    packaged = tmp_path / "packaged.json"
    promoted = tmp_path / "promoted.json"
    second_stage.save_model(_train(examples), packaged)
    second_stage.save_model(_train(examples), promoted)
    monkeypatch.setattr(defaults, "SECOND_STAGE_FILE", packaged)

    model, refusal, in_force = second_stage.load_in_force("fp-test", promoted)
    assert model is not None and refusal == "" and in_force == promoted

    body = json.loads(promoted.read_text())
    body["fingerprint"] = "fp-other"  # trained before an upgrade
    body["checksum"] = second_stage._checksum(body)
    promoted.write_text(json.dumps(body))
    model, refusal, in_force = second_stage.load_in_force("fp-test", promoted)
    assert model is not None and refusal == "" and in_force == packaged

    packaged.write_text(json.dumps(body))  # the packaged one stale as well: rules alone
    model, refusal, in_force = second_stage.load_in_force("fp-test", promoted)
    assert model is None and "stale" in refusal

    promoted.unlink()  # nothing promoted: the packaged artefact, refused or not
    assert second_stage.load_in_force("fp-test", promoted)[0] is None


def test_classify_with_the_model_keeps_the_pattern_ids(examples, classify, monkeypatch, tmp_path):
    import classifiers

    path = tmp_path / "second_stage.json"
    second_stage.save_model(_train(examples), path)
    monkeypatch.setattr(classifiers, "second_stage_model", second_stage.read_model("fp-test", path))
    text = _POSITIVE.format(city="Coyhaique", org="Forestal Aysén")
    result = classifiers.classify(make_doc(text))
    c1 = result.commitment("c1")
    assert c1.supported and c1.evidence[0].text.startswith("En Coyhaique")
    assert 0.5 <= c1.evidence[0].score <= 1.0  # the passage model's probability
    assert all(p.startswith("c1.") for p in c1.evidence[0].pattern_ids)
    assert "modelo aprendido" in classifiers.stage_description()
    rules = classifiers.classify(make_doc(text), use_model=False).commitment("c1")
    assert rules.supported and rules.evidence[0].score > 1.0  # the rules' own score


def test_version_covers_the_model_artefact(tmp_path, monkeypatch):
    monkeypatch.setattr(defaults, "SECOND_STAGE_FILE", tmp_path / "second_stage.json")
    without = version.compute_version(True)
    (tmp_path / "second_stage.json").write_text("{}", encoding="utf-8")
    with_model = version.compute_version(True)
    assert without != with_model
    assert version.compute_version(True, model_refused=True).endswith(".nomodel")


def test_options_put_a_promoted_model_in_force_and_pick_up_a_new_one(examples, tmp_path):
    """The deployment's model (in its data folder) wins over the packaged one; the version
    follows it, and a model promoted while the process runs is read at the next call."""
    import classifiers
    from classifiers.options import ClassifierOptions
    from classifiers.second_stage import model_fingerprint

    packaged = classifiers.CLASSIFIER_VERSION
    options = ClassifierOptions(second_stage_file=tmp_path / "model" / "second_stage.json")
    try:
        classifiers.use_options(options)  # nothing promoted yet: the packaged model
        assert classifiers.CLASSIFIER_VERSION == packaged
        body = learn.train_artefact(examples, learn.Params(min_sources=1, folds=2),
                                    model_fingerprint())
        second_stage.save_model(body, options.second_stage_file)
        classifiers.use_options(options)
        first = classifiers.CLASSIFIER_VERSION
        assert first != packaged and classifiers.second_stage_model is not None
        body["meta"]["source"] = "retrained"
        second_stage.save_model(second_stage.artefact(
            *(  # same weights, other metadata: another artefact, another version
                {c: second_stage.Linear.from_dict(body["commitments"][c][k]) for c in body[
                    "commitments"]} for k in ("passage", "document")),
            body["meta"], model_fingerprint()), options.second_stage_file)
        classifiers.use_options(options)
        assert classifiers.CLASSIFIER_VERSION not in (first, packaged)
    finally:
        classifiers.use_options(ClassifierOptions())
    assert classifiers.CLASSIFIER_VERSION == packaged


@pytest.mark.parametrize("rule", sorted(second_stage.DECISION_RULES))
def test_each_decision_rule_decides_as_its_weights_say(rule, examples, classify, monkeypatch,
                                                       tmp_path):
    """QUALITY.md, eighth and twelfth rounds: the rule in force weighs the rules' calibrated
    probability and the document model's, and its result is the confidence shown; the passage
    model still orders the excerpts. Each rule, put in force with an artefact stamped for it,
    tips the cell exactly where its weights put 0.5."""
    import math

    import classifiers

    monkeypatch.setattr(second_stage, "DECISION", second_stage.decision_rule(rule))
    body = _train(examples)
    assert body["decision"] == {"rule": rule, "version": 1}
    passage = {c: second_stage.Linear.from_dict(body["commitments"][c]["passage"])
               for c in body["commitments"]}
    doc = make_doc(_POSITIVE.format(city="Chillán", org="Viña Itata"))
    rules = classifiers.classify(doc, use_model=False).commitment("c1")
    assert rules.supported
    p_rules = rules.confidence
    w = second_stage.DECISION_RULES[rule]
    for target, expected in ((0.51, True), (0.49, False)):
        q = (target * (w["rules"] + w["model"]) - w["rules"] * p_rules) / w["model"]
        assert 0 < q < 1
        fixed = second_stage.Linear(math.log(q / (1 - q)), {})  # the model says q, always
        path = tmp_path / f"{rule}-{target}.json"
        second_stage.save_model(second_stage.artefact(
            passage, dict.fromkeys(passage, fixed), {}, "fp-test"), path)
        monkeypatch.setattr(classifiers, "second_stage_model",
                            second_stage.read_model("fp-test", path))
        c1 = classifiers.classify(doc).commitment("c1")
        assert c1.supported is expected
        assert abs(c1.confidence - (target if expected else 1 - target)) < 0.002
        assert c1.evidence[0].text.startswith("En Chillán") or not expected


def test_the_decision_rules_as_data():
    """The weighted rule is in force (the thirteenth round); each rule is a weighted mean of the
    rules' probability and the model's, named with its version."""
    assert second_stage.DECISION == {"rule": "weighted_rules_1_model_3", "version": 1}
    mean, alone, weighted = (second_stage.decision_rule(n) for n in (
        "mean_of_rules_and_model", "model_alone", "weighted_rules_1_model_3"))
    assert second_stage.combine(0.9, 0.2) == second_stage.combine(0.9, 0.2, weighted)
    assert second_stage.combine(0.9, 0.2, mean) == pytest.approx(0.55)
    assert second_stage.combine(0.6, 0.3, mean) < 0.5
    assert second_stage.combine(0.9, 0.2, alone) == 0.2  # the rules weigh nothing
    assert second_stage.combine(0.9, 0.2, weighted) == pytest.approx(0.375)
    assert second_stage.combine(0.2, 0.7, weighted) >= 0.5 > second_stage.combine(0.2, 0.7, mean)
    with pytest.raises(KeyError):
        second_stage.decision_rule("rules_decide_model_ranks")


@pytest.mark.parametrize("trained, in_force", [
    ("mean_of_rules_and_model", "model_alone"),
    ("model_alone", "weighted_rules_1_model_3"),
    ("weighted_rules_1_model_3", "mean_of_rules_and_model"),
])
def test_an_artefact_trained_for_another_decision_rule_is_refused(trained, in_force, examples,
                                                                  tmp_path, monkeypatch):
    """A model trained and measured for one rule is never read under another: the rule in force
    refuses it, and reads it again once its own rule is in force."""
    path = tmp_path / "second_stage.json"
    monkeypatch.setattr(second_stage, "DECISION", second_stage.decision_rule(trained))
    second_stage.save_model(_train(examples), path)
    assert second_stage.load_second_stage("fp-test", path) == (
        second_stage.read_model("fp-test", path), "")
    monkeypatch.setattr(second_stage, "DECISION", second_stage.decision_rule(in_force))
    model, reason = second_stage.load_second_stage("fp-test", path)
    assert model is None and "decision rule" in reason and trained in reason


def test_an_artefact_of_an_unknown_or_older_rule_is_refused(examples, tmp_path):
    path = tmp_path / "second_stage.json"
    body = _train(examples)
    for decision in ({"rule": "rules_decide_model_ranks", "version": 1},
                     {**second_stage.DECISION, "version": 0}, None):
        body["decision"] = decision
        body["checksum"] = second_stage._checksum(body)  # consistent, but for another rule
        second_stage.save_model(body, path)
        model, reason = second_stage.load_second_stage("fp-test", path)
        assert model is None and "decision rule" in reason


def test_cross_validation_scores_the_stage_by_the_rule_in_force(examples, monkeypatch):
    """Training measures the stage as classify() decides: under the model alone the stage is
    the document model's own score."""
    monkeypatch.setattr(second_stage, "DECISION",
                        second_stage.decision_rule("mean_of_rules_and_model"))
    cv = _train(examples)["meta"]["metrics"]["cross_validation"]
    monkeypatch.setattr(second_stage, "DECISION", second_stage.decision_rule("model_alone"))
    alone = _train(examples)["meta"]["metrics"]["cross_validation"]
    assert alone["stage"] == alone["model"] == cv["model"]
    assert alone["rules"] == cv["rules"]


def test_the_sign_test_counts_texts_not_renderings():
    """The texts the stage won and lost against the rules, reported by training: three more
    texts right is p = 0.125, five wins and no loss p = 0.031; renderings of one text count
    once."""
    def duel(model_right: int, rules_right: int, renderings: int = 1):
        examples, model_pred, rules_pred = [], {}, {}
        for n in range(10):
            for r in range(renderings):
                key = f"org{n}/doc.{r}"
                examples.append(learn.Example(key=key, group=f"org{n}", source=f"org{n}/doc",
                                              text_sha256="", labels={"c1": True}, evidence={}))
                model_pred[(key, "c1")] = (n < model_right, [])
                rules_pred[(key, "c1")] = (n < rules_right, [])
        return learn._duel(examples, "c1", model_pred, rules_pred)

    assert duel(8, 5) == {"wins": 3, "losses": 0, "p": 0.125}
    assert duel(8, 5, renderings=3) == {"wins": 3, "losses": 0, "p": 0.125}
    assert duel(10, 5)["p"] <= 0.05 < duel(8, 5)["p"]
    assert duel(5, 5) == {"wins": 0, "losses": 0, "p": 1.0}


def test_a_cell_the_mean_overturns_keeps_the_rules_passage_as_considered(classify, tmp_path):
    """QA 2026-12-06: where the rules alone say "supported" and the mean says no (5 of the 498
    dev files), the rules' passage was dropped: reviewers saw "no evidence" and nothing of what
    the rules found. It is kept (the surfaces show it "considerado, no suficiente"); the
    decision is unchanged. The very dev file that showed it, rendered as in /tmp/corpus."""
    import classifiers
    from extractors import extract
    from tests.rendered import rendered

    mail = tmp_path / "correo.txt"
    mail.write_bytes(rendered("org63-fundacion-educacional-altamar/"
                              "correo-reenvio-noticia-sello-migrante-comuna.md", "txt"))
    doc = extract(mail)
    rules = classify(doc, use_model=False).commitment("c4")
    if classifiers.second_stage_model is None:
        pytest.skip("no second-stage model in force")
    mean = classify(doc).commitment("c4")
    assert rules.supported and not mean.supported  # the case itself
    assert [e.text for e in mean.evidence] == [rules.evidence[0].text]
    assert mean.evidence[0].pattern_ids  # the rules stay its explanation


def test_the_written_checksum_is_checked_as_the_canonical_one(examples, tmp_path):
    """Issue 12: ``read_model`` hashes the artefact's own text made compact instead of
    serialising the model again; it says yes where ``_checksum`` does on what ``save_model``
    writes (the packaged artefact too), no on any change of a weight, a key or a layout it does
    not know (then ``_checksum`` decides), and the artefact so refused or read is the same."""
    from classifiers import defaults

    path = tmp_path / "second_stage.json"
    second_stage.save_model(_train(examples), path)
    for artefact in (path, defaults.SECOND_STAGE_FILE):
        text = artefact.read_text(encoding="utf-8")
        body = json.loads(text)
        assert body["checksum"] == second_stage._checksum(body)
        assert second_stage._written_checksum_holds(text, body)
    text = path.read_text(encoding="utf-8")
    body = json.loads(text)
    weight = next(iter(body["commitments"]["c1"]["passage"]["weights"].values()))
    edited = text.replace(repr(weight), repr(weight + 0.5), 1)
    assert edited != text and not second_stage._written_checksum_holds(edited, json.loads(edited))
    path.write_text(edited, encoding="utf-8")
    assert "checksum" in second_stage.load_second_stage("fp-test", path)[1]
    # another layout of the same content: the canonical checksum decides, and it holds
    compact = json.dumps(body)
    assert not second_stage._written_checksum_holds(compact, body)
    path.write_text(compact, encoding="utf-8")
    assert second_stage.read_model("fp-test", path).passage["c1"].weights
    # a quote inside a string: not tried, and still read
    body["meta"]["note"] = 'dijo "sí": listo'
    body["checksum"] = second_stage._checksum(body)
    text = second_stage.dumps(body)
    assert not second_stage._written_checksum_holds(text, body)
    path.write_text(text, encoding="utf-8")
    assert second_stage.read_model("fp-test", path).meta["note"] == 'dijo "sí": listo'


@pytest.mark.parametrize("weights, kept", [
    ({"a": 0.5, "b": -1.25}, {"a": 0.5, "b": -1.25}),
    ({"a": 1, "b": True}, {"a": 1.0, "b": 1.0}),
    ({"a": "0.5"}, {"a": 0.5}),
    ({"a": 1e308, "b": 1e308}, {"a": 1e308, "b": 1e308}),  # a sum that overflows, finite each
    ({}, {}),
])
def test_weights_are_read_as_floats(weights, kept):
    linear = second_stage.Linear.from_dict({"intercept": 0.25, "weights": weights})
    assert linear.weights == kept and all(type(v) is float for v in linear.weights.values())


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf"), "x", None])
def test_a_weight_that_is_no_finite_number_is_refused(bad):
    with pytest.raises((ValueError, TypeError)):
        second_stage.Linear.from_dict({"intercept": 0.0, "weights": {"a": 0.5, "b": bad}})


def test_weight_names_are_read_as_text():
    linear = second_stage.Linear.from_dict({"intercept": 0.0, "weights": {1: 0.5, "b": 0.25}})
    assert linear.weights == {"1": 0.5, "b": 0.25}
