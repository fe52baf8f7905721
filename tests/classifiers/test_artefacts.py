"""Version string, calibration artefact and pattern-file validation."""

from __future__ import annotations

import json
import shutil

import pytest

from classifiers import calibration, defaults, version
from classifiers.rules import PatternError, load_rules


def test_version_is_stable_and_carries_the_base():
    import classifiers

    assert classifiers.CLASSIFIER_VERSION.startswith(defaults.VERSION_BASE + "+")
    assert classifiers.CLASSIFIER_VERSION == version.compute_version(
        classifiers.calibrator.calibrated
    )


def test_the_shipped_artefacts_are_in_force():
    """A change to any fingerprinted file (patterns, rule or feature code) makes the shipped
    calibration and model stale: classification then runs uncalibrated, on rules alone, with a
    mere warning in the log. Re-fit (or, for a change proven not to alter the raw analysis,
    re-stamp) them in the same commit."""
    import classifiers

    assert classifiers.calibrator.calibrated, classifiers.calibrator.reason
    if defaults.SECOND_STAGE_FILE.exists():
        assert not classifiers.second_stage_refusal, classifiers.second_stage_refusal
    assert not classifiers.CLASSIFIER_VERSION.endswith((".uncal", ".nomodel"))


def test_the_training_pool_is_what_the_shipped_model_learned_from():
    """``model/training_pool.txt`` pins the dev sources of the artefacts in force, so a clean
    checkout trains them again byte for byte: as many sources as the model's meta counts, each
    a dev source of samples/corpus."""
    from classifiers.train import TRAINING_POOL, read_pool

    pool = read_pool(TRAINING_POOL)
    meta = json.loads(defaults.SECOND_STAGE_FILE.read_text("utf-8"))["meta"]
    assert len(pool) == meta["training_data"]["texts"]
    corpus = defaults.PACKAGE_DIR.parent / "samples" / "corpus"
    sources = {p.relative_to(corpus).with_suffix("").as_posix() for p in corpus.glob("*/*.*")}
    assert pool <= sources


def test_training_learns_from_the_pool_alone(tmp_path, classify):
    from classifiers.train import corpus_examples, read_pool

    lines = []
    for org in ("org70-uno", "org71-dos"):
        (tmp_path / org).mkdir()
        (tmp_path / org / "acta.txt").write_text(
            "Acta de constitución del Comité de Inclusión y No Discriminación.", "utf-8")
        lines.append(json.dumps({"file": f"{org}/acta.txt", "id": f"{org}/acta", "split": "dev",
                                 "render": "txt", "register": "interno",
                                 "labels": {"c1": True}}))
    (tmp_path / "labels.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    (tmp_path / "pool.txt").write_text("# a comment\norg71-dos/acta  # the second\n", "utf-8")

    pool = read_pool(tmp_path / "pool.txt")
    assert pool == {"org71-dos/acta"}
    assert [ex.source for ex in corpus_examples(tmp_path, 1, pool)] == ["org71-dos/acta"]
    assert len(corpus_examples(tmp_path, 1)) == 2


def test_version_changes_when_a_pattern_changes(tmp_path, monkeypatch):
    copy = tmp_path / "patterns"
    shutil.copytree(defaults.PATTERNS_DIR, copy)
    monkeypatch.setattr(defaults, "PATTERNS_DIR", copy)
    before = version.fingerprint()
    version_before = version.compute_version(True)
    with (copy / "c4.jsonl").open("a", encoding="utf-8") as f:
        f.write(json.dumps({"id": "c4.test_extra", "label": "c4", "pattern": "minga"}) + "\n")
    after = version.fingerprint()
    assert before != after
    assert version.compute_version(True) != version_before
    load_rules(copy)  # the extended file still validates


def test_every_shipped_pattern_file_validates_with_spacy(classify):
    from classifiers.engine import get_ruleset

    rs = get_ruleset()
    assert rs.compiled
    labels = {r.label for r in rs.rules.values()}
    assert {"c1", "c2", "c3", "c4", "c5", "NEG", "INTENT"} <= labels


@pytest.mark.parametrize(
    "line, message",
    [
        ('{"id": "x", "label": "c9", "pattern": "hola"}', "label"),
        ('{"id": "x", "label": "c1", "pattern": "hola", "requires": ["NOPE"]}', "unknown cue"),
        ('{"id": "x", "label": "c1", "pattern": "hola", "weigth": 2}', "unknown fields"),
        ('{"id": "x", "label": "c1", "pattern": "hola", "requires": ["doctype:factura"]}',
         "document type"),
        ("{not json", "invalid JSON"),
    ],
)
def test_bad_pattern_lines_are_refused_with_file_and_line(tmp_path, line, message):
    (tmp_path / "cues.jsonl").write_text(
        '{"id": "cue.a", "label": "MIGRANT", "pattern": "migrante"}\n' + line + "\n",
        encoding="utf-8",
    )
    with pytest.raises(PatternError, match=message) as err:
        load_rules(tmp_path)
    assert "cues.jsonl:2" in str(err.value)
    assert err.value.code == "classifier_patterns"  # in the EvidenciaError hierarchy
    assert err.value.message.startswith("Los patrones del clasificador tienen un error")


def test_invalid_token_pattern_is_refused_by_spacy_validation(tmp_path, classify):
    from classifiers.nlp import get_nlp

    (tmp_path / "c1.jsonl").write_text(
        '{"id": "c1.bad", "label": "c1", "pattern": [{"LEMMA": {"FOO": 1}}]}\n', encoding="utf-8"
    )
    rs = load_rules(tmp_path)
    with pytest.raises(PatternError, match="c1.bad"):
        rs.build_matcher(get_nlp())


def test_isotonic_fit_is_monotonic_and_bounded():
    scores = [0, 0, 0, 0, 0, 0, 1.5, 1.5, 1.5, 1.5, 2, 2, 2, 2, 3, 3, 3, 3, 3]
    labels = [0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1]
    xs, ps = calibration.fit_isotonic(scores, [bool(x) for x in labels])
    assert xs == sorted(xs) and ps == sorted(ps)
    assert all(0 < p < 1 for p in ps)  # the Laplace prior never claims certainty


def test_calibration_round_trip_and_rejections(tmp_path):
    path = tmp_path / "calibration.json"
    curves = {c: ([0.0, 2.0], [0.05, 0.9]) for c in ("c1", "c2", "c3", "c4", "c5")}
    calibration.save_calibration(curves, "fp-1", {"files": 3}, path)
    cal = calibration.load_calibrator("fp-1", path)
    assert cal.calibrated
    assert cal.probability("c1", 0.0) == 0.05 and cal.probability("c1", 2.5) == 0.9
    assert cal.probability("c1", 1.0) == 0.475  # interpolated between the two levels

    stale = calibration.load_calibrator("fp-2", path)  # patterns changed since fitting
    assert not stale.calibrated and "stale" in stale.reason

    path.write_text("{ corrupt", encoding="utf-8")
    assert "corrupt" in calibration.load_calibrator("fp-1", path).reason

    data = {"format": 999, "fingerprint": "fp-1", "curves": {}}
    path.write_text(json.dumps(data), encoding="utf-8")
    assert "format" in calibration.load_calibrator("fp-1", path).reason

    calibration.save_calibration(curves, "fp-1", {}, path)
    data = json.loads(path.read_text())
    data["curves"]["c3"]["ps"] = [0.9, 0.1]  # not monotonic: corrupt
    path.write_text(json.dumps(data), encoding="utf-8")
    assert not calibration.load_calibrator("fp-1", path).calibrated


def test_uncalibrated_fallback_still_gives_probabilities():
    cal = calibration.Calibrator({}, calibrated=False, reason="test")
    values = [cal.probability("c1", s) for s in (0.0, 1.0, 2.0, 4.0)]
    assert values == sorted(values) and all(0 < v < 1 for v in values)


def test_a_rule_may_not_tolerate_negation(tmp_path):
    copy = tmp_path / "patterns"
    shutil.copytree(defaults.PATTERNS_DIR, copy)
    with (copy / "c3.jsonl").open("a", encoding="utf-8") as f:
        f.write(json.dumps({"id": "c3.test_bad", "label": "c3", "pattern": "politica",
                            "tolerates": ["NEG"]}) + "\n")
    with pytest.raises(PatternError, match="tolerates"):
        load_rules(copy)
