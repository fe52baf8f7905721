"""Patterns told valid without spaCy (``classifiers/pattern_check.py``) are patterns spaCy's
validating Matcher accepts; a reprocess after an edit then analyses texts without importing
spaCy (issue 12, reprocess at archive speed)."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys

import pytest

from classifiers import defaults, pattern_check
from classifiers.rules import load_rules

from .conftest import make_doc


def _spacy_accepts(pattern) -> bool:
    from spacy.matcher import Matcher

    from classifiers.nlp import get_vocab

    try:
        Matcher(get_vocab(), validate=True).add("x", [pattern])
    except Exception:  # spaCy's MatchPatternError, ValueError, KeyError...
        return False
    return True


def test_every_installed_pattern_is_told_valid_without_spacy():
    assert pattern_check.all_surely_valid(load_rules().patterns)


#: token specs spaCy refuses (or might): none may be told valid
_REFUSED = [
    {"LEMMA": {"FOO": 1}},  # tests/classifiers/test_artefacts.py's invalid pattern
    {"NORM": {"REGEX": "(sin cerrar"}},
    {"NORM": {"REGEX": 3}},
    {"NORM": {"IN": "no es lista"}},
    {"NORM": {"IN": ["a", 1]}},
    {"NORM": {"NOT_IN": [None]}},
    {"NORM": None},
    {"NORM": 3},
    {"NORM": True},
    {"NORM": {}},
    {"NORM": {"REGEX": {"IN": ["a"]}}},  # valid for spaCy, but not one of the known forms
    {"IS_PUNCT": 1},
    {"IS_PUNCT": "true"},
    {"SENT_START": None},
    {"MORPH": {"IS_SUPERSET": ["Plural"]}},
    {"MORPH": {"IS_SUPERSET": "Number=Plur"}},
    {"MORPH": {"IN": ["Number="]}},
    {"MORPH": {"REGEX": "Plur"}},
    {"OP": "1"},
    {"OP": "{3,1}"},
    {"OP": "{,}"},
    {"OP": "{}"},
    {"OP": "{a}"},
    {"OP": "{٣}"},  # an Arabic-Indic digit
    {"OP": "++"},
    {"OP": 1},
    {"NORM": "x", "OP": None},
    {"FOO": "x"},
    {"norm": "x"},  # spaCy takes lower case too: left to it
    {"LENGTH": 3},  # valid, not one of the known forms: left to spaCy
    {"_": {"x": 1}},
    {},
]

#: token specs spaCy accepts: each told valid
_ACCEPTED = [
    {"NORM": "comité"},
    {"NORM": {"IN": ["comité", "comisión"]}},
    {"NORM": {"IN": []}},
    {"NORM": {"NOT_IN": ["no"]}},
    {"NORM": {"REGEX": "^migra"}},
    {"NORM": {"REGEX": "^migra", "NOT_IN": ["migraña"]}},
    {"LEMMA": "realizar", "OP": "?"},
    {"LOWER": "hola"},
    {"TEXT": "Hola"},
    {"ORTH": "Hola", "OP": "!"},
    {"POS": {"IN": ["NOUN", "PROPN"]}},
    {"POS": "VERB", "OP": "*"},
    {"TAG": "NOUN"},
    {"MORPH": "Number=Plur"},
    {"MORPH": {"IS_SUPERSET": ["Number=Plur"]}},
    {"MORPH": {"IS_SUBSET": ["Mood=Ind|Tense=Past", "VerbForm=Fin"]}},
    {"MORPH": {"INTERSECTS": ["PronType=Prs,Rel"]}},
    {"MORPH": {"NOT_IN": ["Poss[psor]=Yes"]}},
    {"IS_SENT_START": True},
    {"SENT_START": False},
    {"IS_PUNCT": True, "OP": "+"},
    {"LIKE_NUM": True},
    {"NORM": "x", "OP": "{2}"},
    {"NORM": "x", "OP": "{2,5}"},
    {"NORM": "x", "OP": "{2,}"},
    {"NORM": "x", "OP": "{,5}"},
    {"NORM": "x", "OP": "{3,3}"},
]


@pytest.mark.parametrize("spec", _REFUSED, ids=lambda s: json.dumps(s, ensure_ascii=False))
def test_a_form_spacy_may_refuse_is_left_to_spacy(spec):
    assert not pattern_check.surely_valid([spec])


@pytest.mark.parametrize("spec", _ACCEPTED, ids=lambda s: json.dumps(s, ensure_ascii=False))
def test_a_form_told_valid_is_accepted_by_spacy(spec):
    assert pattern_check.surely_valid([spec])
    assert _spacy_accepts([spec])


def _mutations(spec: dict):
    """Edits a person might make to one token spec, valid and not."""
    for key, value in spec.items():
        for new in (None, 1, True, "x", [], {}, {"IN": "x"}, {"IN": [1]}, {"REGEX": "("},
                    {"REGEX": "[a-"}, {"NOT_IN": ["x"]}, {"IS_SUPERSET": ["Number=Plur"]},
                    {"IN": ["Number=Plur"]}, {"FOO": ["x"]}, "{1,0}", "{0,1}", "!", "1"):
            yield {**spec, key: copy.deepcopy(new)}
        yield {k: v for k, v in spec.items() if k != key} or {"NORM": "x"}
        yield {**{k: v for k, v in spec.items() if k != key}, key.lower(): value}
    for extra in ({"OP": "?"}, {"OP": "{2,}"}, {"OP": "{,}"}, {"MORPH": "Number=Plur"},
                  {"IS_PUNCT": False}, {"SPACY": True}, {"LENGTH": 2}):
        yield {**spec, **extra}


def test_every_edit_of_the_installed_patterns_told_valid_is_accepted_by_spacy():
    """The installed patterns' token specs, each edited every way ``_mutations`` knows: what is
    told valid without spaCy, spaCy accepts (and both sides of the answer are exercised)."""
    ruleset = load_rules()
    specs = {json.dumps(s, sort_keys=True): s for pats in ruleset.patterns.values()
             for p in pats for s in p}
    told = {True: 0, False: 0}
    seen = set()
    for spec in specs.values():
        for edited in _mutations(spec):
            key = json.dumps(edited, sort_keys=True)
            if key in seen:
                continue
            seen.add(key)
            valid = pattern_check.surely_valid([edited])
            told[valid] += 1
            if valid:
                assert _spacy_accepts([edited]), edited
    assert told[True] > 500 and told[False] > 500, told


def test_a_pattern_set_is_marked_only_when_every_pattern_is_told_valid(tmp_path):
    from classifiers.rules import RuleSet

    patterns = load_rules().patterns
    marks = tmp_path / "marks"
    assert pattern_check.remember_valid(patterns, marks)
    ruleset = RuleSet()
    ruleset.patterns = patterns
    assert [p.name for p in marks.iterdir()] == [ruleset.fingerprint()]
    doubtful = {**patterns, "c1.nuevo": [[{"norm": "x"}]]}
    assert not pattern_check.remember_valid(doubtful, marks)
    assert len(list(marks.iterdir())) == 1
    assert not pattern_check.remember_valid(patterns, None)  # no annotation cache: no mark


_REPROCESS_AFTER_AN_EDIT = """
import json, sys
from pathlib import Path
import classifiers
from classifiers import defaults, pattern_sets
from extractors.document import ExtractedDocument

defaults.PATTERNS_DIR = Path(sys.argv[2])  # edited after the import, as bench_batch.py does
pattern_sets.forget()
classifiers.load(annotation_cache=sys.argv[1], pipeline=False)
result = classifiers.classify(ExtractedDocument.from_dict(json.loads(sys.argv[3])))
print(json.dumps({"spacy": "spacy" in sys.modules, "result": repr(result)}))
"""


def test_a_reprocess_after_an_edit_analyses_again_without_spacy(classify, tmp_path):
    """A reading stamped with the installed patterns, then an edit that touches every text (a
    new key in priors.json): the text is analysed again from its cached annotations, and the
    edited patterns, never validated before, are marked valid without importing spaCy."""
    import classifiers
    from classifiers.annotation_cache import use_annotation_cache
    from classifiers.cache_dir import MARKS_FOLDER
    from classifiers.readings import use_reading_cache

    from ..conftest import REPO

    doc = make_doc("Acta. Se constituye el Comité de Inclusión e Interculturalidad.",
                   "Se realizaron talleres de interculturalidad para todo el personal.")
    cache = tmp_path / "nlp"
    try:
        classifiers.load(annotation_cache=cache, pipeline=False)
        expected = classify(doc)  # annotated, read and kept under the installed patterns
    finally:
        use_annotation_cache(None)
        use_reading_cache(None)
    shutil.rmtree(cache / MARKS_FOLDER, ignore_errors=True)
    edited = tmp_path / "patterns"
    shutil.copytree(defaults.PATTERNS_DIR, edited)
    priors = json.loads((edited / "priors.json").read_text(encoding="utf-8"))
    (edited / "priors.json").write_text(json.dumps({**priors, "nota": "editado"}),
                                        encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-c", _REPROCESS_AFTER_AN_EDIT, str(cache), str(edited),
         json.dumps(doc.to_dict())],
        cwd=REPO, capture_output=True, text=True, check=True, timeout=120,
    )
    answer = json.loads(out.stdout.strip().splitlines()[-1])
    assert answer == {"spacy": False, "result": repr(expected)}
    assert len(list((cache / MARKS_FOLDER).iterdir())) == 1
