"""What reprocessing reads from token arrays equals what it read from spaCy's Token objects.

The rules and the second stage read a unit's content lemmas, its quotation marks, whether a
sentence has any text, the matches per unit and the passage model's weighted sum from token
arrays, word ids and precomputed parts instead of a Token object per word (cheaper reprocessing,
issue 12). Each is checked here against the plain reading it replaced, on every corpus source of
a dev organisation tagged by the real pipeline, and on the documents' results.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict

import pytest

from classifiers import features, readings, second_stage
from classifiers.result import COMMITMENT_IDS
from classifiers.rules import EXTERNAL_LABEL
from classifiers.scope import QUOTES
from classifiers.units import Unit, make_units, split_blocks

from .conftest import dev_source_documents


@pytest.fixture(scope="module")
def analysed(classify, tmp_path_factory):
    """(document, its blocks, their tagged docs, its analysis) per dev source; the analysis
    reads the tags back from an annotation cache, as reprocessing does."""
    from classifiers import annotation_cache
    from classifiers.engine import analyse

    annotation_cache.use_annotation_cache(tmp_path_factory.mktemp("annotations"))
    try:
        out = []
        for doc in dev_source_documents(every=2):
            blocks = split_blocks(doc.pages)
            tagged = annotation_cache.tag_texts([b.text for b in blocks])
            out.append((doc, blocks, tagged, analyse(doc)))
        return out
    finally:
        annotation_cache.use_annotation_cache(None)


# ------------------------------------------------------------------ the readings they replaced


def _lemmas(span) -> list[str]:
    return [t.lemma_ for t in span if t.is_alpha and not t.is_stop and len(t.text) > 2]


def _make_units(blocks, docs, first_index: int = 0) -> list[Unit]:
    units: list[Unit] = []
    for block, doc in zip(blocks, docs, strict=True):
        if block.kind == "para" or (block.kind == "line" and len(block.lines) > 1):
            for sent in doc.sents:
                if sent.text.strip():
                    units.append(Unit(first_index + len(units), "sentence", block.page, sent,
                                      block))
        else:
            units.append(Unit(first_index + len(units), block.kind, block.page, doc[:], block))
    return units


def _run_matcher(units, tagged, ruleset) -> list[dict]:
    by_doc: dict[int, list[Unit]] = defaultdict(list)
    for u in units:
        by_doc[id(u.span.doc)].append(u)
    labels: list[dict] = [defaultdict(list) for _ in units]
    base = units[0].index if units else 0
    label_of = {rule_id: rule.label for rule_id, rule in ruleset.rules.items()}
    for doc in tagged:
        doc_units = by_doc.get(id(doc), [])
        if not doc_units:
            continue
        found = ruleset.match(doc)
        names = [(s, e) for r, s, e in found if label_of[r] == EXTERNAL_LABEL]
        k, last = 0, len(doc_units) - 1
        for rule_id, start, end in found:
            label = label_of[rule_id]
            if names and label != EXTERNAL_LABEL and any(
                (s <= start and end <= e) if label.isupper() else (s <= start < e or s < end <= e)
                for s, e in names
            ):
                continue
            while k < last and doc_units[k + 1].span.start <= start:
                k += 1
            unit = doc_units[k] if doc_units[k].span.start <= start < doc_units[k].span.end \
                else doc_units[0]
            labels[unit.index - base][label].append((start, end))
            if not label.isupper():
                unit.matches.append((rule_id, start, end))
    return labels


def _probability(model, f: dict) -> float:
    import math

    w = model.weights
    z = model.intercept + sum(w.get(k, 0.0) * v for k, v in f.items())
    return 0.0 if z < -30 else 1.0 / (1.0 + math.exp(-z))


# ------------------------------------------------------------------ the checks


def _shape(units):
    return [(u.index, u.kind, u.page, u.span.start, u.span.end, id(u.span.doc), id(u.block),
             list(u.matches)) for u in units]


def test_units_and_matches_equal_the_token_by_token_reading(analysed):
    from classifiers.engine import _run_matcher as run_matcher
    from classifiers.engine import get_ruleset

    ruleset = get_ruleset()
    units_seen = 0
    for _doc, blocks, tagged, _analysis in analysed:
        new, old = make_units(blocks, tagged), _make_units(blocks, tagged)
        assert _shape(new) == _shape(old)
        new_labels, old_labels = run_matcher(new, tagged, ruleset), _run_matcher(old, tagged,
                                                                                 ruleset)
        assert [dict(x) for x in new_labels] == [dict(x) for x in old_labels]
        assert _shape(new) == _shape(old)  # the matches each unit got
        units_seen += len(new)
    assert units_seen > 5_000


def test_lemmas_and_quotes_equal_the_token_by_token_reading(analysed):
    quoted_units = 0
    for _doc, _blocks, _tagged, analysis in analysed:
        cache: dict = {}
        for unit in analysis.context.units:
            lemmas, quoted = features._tokens(unit, cache)
            assert lemmas == _lemmas(unit.span)
            assert quoted == any(t.text in QUOTES for t in unit.span)
            assert features._cached_quoted(unit, cache) == features._quoted_tokens(unit.span)
            quoted_units += quoted
    assert quoted_units > 10  # the corpus quotes testimony


def test_passage_probabilities_equal_the_sum_over_the_merged_features(analysed, classify):
    import classifiers

    model = classifiers.second_stage_model
    assert model is not None, "the packaged second stage is in force"
    candidates = 0
    for _doc, _blocks, _tagged, analysis in analysed:
        ctx, cache, reference = analysis.context, {}, {}
        for cid in COMMITMENT_IDS:
            for c in analysis.candidates[cid]:
                f = features.candidate_features(c, ctx, analysis.doc_type, False, cache)
                shared, extra = features.candidate_parts(c, ctx, analysis.doc_type, False, cache)
                assert not set(shared) & {k for k, _v in extra}
                assert list(f.items()) == [*shared.items(), *extra]
                reference[cid, c.unit.index] = _probability(model.passage[cid], f)
                candidates += 1
        for cid, decision in model.decide(readings.read(analysis, False)).items():
            assert [d.probability for d in decision.passages] == sorted(
                (reference[cid, d.candidate.index] for d in decision.passages), reverse=True)
            assert len(decision.passages) == len(analysis.candidates[cid])
            for d in decision.passages:
                assert d.probability == reference[cid, d.candidate.index]
    assert candidates > 1_000


def test_linear_partial_sums_are_the_sum_over_the_merged_features():
    model = second_stage.Linear(-1.25, {"a": 0.3, "b": -0.7, "c": 1e-9, "position": -2.0})
    cases = [{}, {"position": 0.0}, {"a": 1.0, "zz": 1.0, "b": 1.0}, {"c": 1.0, "a": 0.5},
             {"b": 1.0, "position": 0.333, "a": 1.0, "c": 1.0, "x": 3.0}]
    for f in cases:
        assert model.probability(f) == _probability(model, f)
        items = list(f.items())
        for cut in range(len(items) + 1):
            total = model.partial_sum(items[cut:], model.partial_sum(items[:cut]))
            assert model.of_sum(total) == _probability(model, f)
            named = model.partial_sum(items[cut:], model.named_sum(
                [k for k, _v in items[:cut]], [v for _k, v in items[:cut]]))
            assert named.hex() == total.hex()


def test_stored_result_values_equal_the_dataclass_fields(classify):
    from service.domain.results import result_values

    from .conftest import make_doc

    result = classify(make_doc(
        "Acta de constitución\n\nSe constituye el Comité de Interculturalidad de la empresa, "
        "encargado de promover la inclusión de los trabajadores migrantes.\n"))
    assert any(c.evidence for c in result.commitments)
    assert result_values(result) == [
        {"commitment": c.id, "supported": c.supported, "confidence": c.confidence,
         "rules_supported": c.rules_supported,
         "evidence": [{**asdict(e), "pattern_ids": list(e.pattern_ids)} for e in c.evidence]}
        for c in result.commitments
    ]


def test_patterns_tried_at_a_token_are_all_those_whose_anchor_it_passes(analysed):
    """The matcher tries at a token the patterns its indexes and expression buckets find
    (rules.RuleSet._candidates): exactly those whose anchor step the token passes, checked
    pattern by pattern for every distinct token of the dev sources and for words no pattern
    names."""
    from spacy.attrs import LEMMA, MORPH, NORM, POS

    from classifiers.engine import get_ruleset

    ruleset = get_ruleset()
    keys = set()
    strings = None
    for _doc, _blocks, tagged, _analysis in analysed:
        for doc in tagged:
            strings = doc.vocab.strings
            keys.update(map(tuple, doc.to_array([NORM, LEMMA, POS, MORPH]).tolist()))
    for word in ("xyz00001", "org00017", "0-1", "2031", "n°", "comites", "¿", "--"):
        h = strings.add(word)
        keys.add((h, h, 0, 0))
    assert len(keys) > 5_000
    for key in keys:
        expected = tuple(p for p in ruleset.compiled
                         if p.anchor.lexical_ok(key[:2], strings)
                         and p.anchor.tagging_ok(key[2], key[3], strings))
        found = ruleset._candidates(key, strings)
        # the same patterns, in load order (a rule's patterns among themselves in any order:
        # the matcher keeps the longest match per rule and start)
        assert {id(p) for p in found} == {id(p) for p in expected}, strings[key[0]]
        assert len(found) == len(expected)
        assert [p.order for p in found] == [p.order for p in expected]
