"""Whether spaCy's Matcher would accept the patterns, told without spaCy when it surely would.

The rules are compiled without spaCy (``rules._Compiled``), but every pattern set is first
checked by spaCy's Matcher (``RuleSet.validate``, ``validate=True``), and that check is
remembered per fingerprint of the patterns and spaCy release (``engine._validated``: a mark
under the annotation cache, ``cache_dir.MARKS_FOLDER``). A reprocess after an edit of the
patterns analyses a few texts again; importing spaCy for that check (~0.6 s, with a blank
vocabulary) then cost as much as all the rest of an archive's reprocess.

``surely_valid`` answers True only for the forms spaCy is known to accept (read off spaCy's
``schemas.TokenPattern`` and ``Matcher.add``: the string attributes with a string, an ``IN``
or ``NOT_IN`` list of strings or a ``REGEX`` that compiles; ``MORPH`` sets of ``Feat=Value``
strings; flags with true or false; the operators ``+ * ? !`` and ``{n}``, ``{n,m}``,
``{n,}``, ``{,m}`` with n <= m); anything else is left to spaCy, whose error message is the one
a person editing the patterns sees. ``remember_valid`` writes the mark ``engine.get_ruleset``
reads when every pattern is such a form. ``tests/classifiers/test_pattern_check.py`` checks
that every form answered True is accepted by spaCy's validating Matcher, on the installed
patterns and on edits of them, valid and not.

Not in the classifier's fingerprint (``version.py``): it decides no result, only whether
spaCy is asked.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["surely_valid", "all_surely_valid", "remember_valid"]

#: attributes compared as strings: a string, ``IN``/``NOT_IN`` lists of strings, ``REGEX``
_STRING_ATTRS = frozenset({"ORTH", "TEXT", "LOWER", "NORM", "LEMMA", "POS", "TAG", "DEP",
                           "SHAPE", "ENT_TYPE"})
_STRING_PREDICATES = frozenset({"IN", "NOT_IN", "REGEX"})
#: MORPH: a string, or sets of features (spaCy's morphology parses each one)
_MORPH_PREDICATES = frozenset({"IN", "NOT_IN", "IS_SUBSET", "IS_SUPERSET", "INTERSECTS"})
_FEATURES = re.compile(r"[A-Z][A-Za-z0-9]*(\[[a-z0-9]+\])?=[A-Z0-9][A-Za-z0-9]*"
                       r"(,[A-Z0-9][A-Za-z0-9]*)*"
                       r"(\|[A-Z][A-Za-z0-9]*(\[[a-z0-9]+\])?=[A-Z0-9][A-Za-z0-9]*"
                       r"(,[A-Z0-9][A-Za-z0-9]*)*)*")
#: attributes that take true or false
_FLAG_ATTRS = frozenset({"IS_SENT_START", "SENT_START", "IS_PUNCT", "IS_ALPHA", "IS_DIGIT",
                         "IS_LOWER", "IS_UPPER", "IS_TITLE", "IS_SPACE", "IS_STOP",
                         "LIKE_NUM"})
_OPS = frozenset({"+", "*", "?", "!"})
_MIN_MAX = re.compile(r"\{([0-9]*),?([0-9]*)\}")


def surely_valid(pattern) -> bool:
    """True when spaCy's validating Matcher surely accepts this token pattern (a list of token
    specs); False when it may not (then ask spaCy)."""
    if not isinstance(pattern, list) or not pattern:
        return False
    return all(isinstance(spec, dict) and spec and all(_value_ok(key, value)
                                                       for key, value in spec.items())
               for spec in pattern)


def all_surely_valid(patterns: dict) -> bool:
    """``surely_valid`` for every pattern of ``patterns`` (rule id -> its patterns)."""
    return all(isinstance(pats, list) and pats and all(surely_valid(p) for p in pats)
               for pats in patterns.values())


def remember_valid(patterns: dict, marks: Path | None) -> bool:
    """Write the mark of these patterns (rule id -> its patterns, as ``RuleSet.patterns``) under
    ``marks`` (the annotation cache's marks folder; None: no cache) when every one surely
    passes spaCy's validation, so that loading them needs no spaCy. True when the mark is
    there."""
    if marks is None:
        return False
    from classifiers.rules import RuleSet

    ruleset = RuleSet()
    ruleset.patterns = patterns
    mark = marks / ruleset.fingerprint()
    if mark.exists():
        return True
    if not all_surely_valid(patterns):
        return False
    try:
        marks.mkdir(parents=True, exist_ok=True)
        mark.touch()
    except OSError:
        return False  # spaCy validates them, as before
    return True


def _value_ok(key, value) -> bool:
    if key == "OP":
        return _op_ok(value)
    if key in _FLAG_ATTRS:
        return type(value) is bool
    if key in _STRING_ATTRS:
        if type(value) is str:
            return True
        return (type(value) is dict and bool(value) and set(value) <= _STRING_PREDICATES
                and all(_predicate_ok(k, v) for k, v in value.items()))
    if key == "MORPH":
        if type(value) is str:
            return True
        return (type(value) is dict and bool(value) and set(value) <= _MORPH_PREDICATES
                and all(_strings(v) and all(_FEATURES.fullmatch(s) for s in v)
                        for v in value.values()))
    return False


def _predicate_ok(kind: str, value) -> bool:
    if kind == "REGEX":
        if type(value) is not str:
            return False
        try:
            re.compile(value)  # what spaCy does with it (and re's cache keeps it for the rules)
        except (re.error, RecursionError, OverflowError):
            return False
        return True
    return _strings(value)


def _strings(value) -> bool:
    return type(value) is list and all(type(s) is str for s in value)


def _op_ok(value) -> bool:
    if type(value) is not str:
        return False
    if value in _OPS:
        return True
    found = _MIN_MAX.fullmatch(value)
    if found is None:
        return False
    low, high = found.groups()
    if "," not in value:
        return bool(low)  # {n}
    if not low and not high:
        return False  # {,}
    return not (low and high) or int(low) <= int(high)
