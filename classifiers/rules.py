"""Load the pattern files (classifiers/patterns/*.jsonl) into validated rules and one Matcher.

Each line of a pattern file is one JSON object (spaCy's EntityRuler style, plus our fields):

``id``        unique, stable: it is shown to reviewers as the reason for an excerpt.
``label``     ``c1``..``c5`` (evidence for a commitment), ``doctype:<code>`` (a cue of the document
              type) or an UPPERCASE cue name (MIGRANT, NEG, INTENT, ...) used by other rules.
``pattern``   a spaCy Matcher token pattern, or a plain phrase string (matched token by token on
              NORM). Values of LEMMA/NORM/LOWER are compared without case and accents.
``weight``    (c1..c5 and doctype only, default 1) how much one match counts.
``requires``  list of conditions that must ALL hold; a condition is a string or a list of strings
              of which one must hold. A string is ``CUE`` (in the same unit), ``near:CUE`` (the unit
              or the one before/after on the same page), ``section:CUE`` (the heading above or the
              table's header row), ``header:CUE`` (the table's header row), ``title:CUE`` (the
              first units of the first page), ``doc:CUE`` (anywhere in the document),
              ``doctype:<code>`` (the detected document type).
              ``block:CUE`` (any unit of the same paragraph, list or table), ``lead:CUE`` (for a
              list item: the sentence that introduces the list), ``after:CUE`` (one of the next
              units). ``!`` before a condition negates it; ``&`` joins conditions that must all
              hold (``"section:INTENT&!PAST"``: under an intention heading, with no past tense).
``excludes``  conditions (same syntax) of which none may hold: the hard negatives.
``kinds``     unit kinds the rule applies to (default: sentence, item, line, row).
``tolerates`` scope cues that do not cancel this rule (e.g. ["FUTURE"] for a training plan,
              whose sessions are ahead by nature). NEG and INTENT always cancel.
``note``      free text for people.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from classifiers import defaults
from classifiers.nlp import fold
from classifiers.result import COMMITMENT_IDS, DOC_TYPES

__all__ = ["Rule", "RuleSet", "PatternError", "load_rules", "EXTERNAL_LABEL"]

#: the cue label of names that are not the organisation's own (external_names.jsonl): every other
#: match that lies inside such a name is ignored
EXTERNAL_LABEL = "EXTERNAL"

_KINDS = frozenset({"sentence", "item", "line", "row", "heading", "fragment"})
#: scope cues a rule may declare it survives (a training plan is written in the future tense)
_TOLERABLE = frozenset({"FUTURE"})
_DEFAULT_KINDS = frozenset({"sentence", "item", "line", "row"})
_SCOPES = ("near", "section", "header", "title", "doc", "doctype", "block", "lead", "after")
_FOLDED_ATTRS = ("LEMMA", "NORM", "LOWER")
_KNOWN_FIELDS = {
    "id", "label", "pattern", "weight", "requires", "excludes", "kinds", "tolerates", "note",
}


class PatternError(ValueError):
    """A pattern file line that cannot be used; says file and line."""


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    label: str
    weight: float = 1.0
    requires: tuple[tuple[str, ...], ...] = ()
    excludes: tuple[str, ...] = ()
    kinds: frozenset[str] = _DEFAULT_KINDS
    tolerates: frozenset[str] = frozenset()
    source: str = ""

    @property
    def is_commitment(self) -> bool:
        return self.label in COMMITMENT_IDS

    @property
    def doc_type(self) -> str | None:
        return self.label.split(":", 1)[1] if self.label.startswith("doctype:") else None


_LEXICAL = ("NORM", "LEMMA")
_SIMPLE_KEYS = {"NORM", "LEMMA", "POS", "MORPH", "IS_SENT_START", "IS_PUNCT"}


class _TokenTest:
    """One fixed-length pattern (no OP), evaluated like spaCy's Matcher but with the lexical
    part (NORM, LEMMA) of its first token cached per word form: spaCy evaluates every REGEX/IN
    predicate on every token, which costs more than the tagger itself on a 10-page document.
    Patterns with operators still go to a spaCy Matcher."""

    __slots__ = ("rule_id", "lexical", "pos", "morph", "sent_start", "punct", "rest", "times")

    def __init__(self, rule_id: str, tok: dict):
        import re

        self.rule_id = rule_id
        self.lexical = []
        for attr in _LEXICAL:
            if attr not in tok:
                continue
            v = tok[attr]
            if isinstance(v, str):
                self.lexical.append((attr, v.__eq__))
            elif "REGEX" in v:
                self.lexical.append((attr, re.compile(v["REGEX"]).search))
            elif "IN" in v:
                self.lexical.append((attr, frozenset(v["IN"]).__contains__))
            elif "NOT_IN" in v:
                banned = frozenset(v["NOT_IN"])
                self.lexical.append((attr, lambda x, b=banned: x not in b))
        pos = tok.get("POS")
        self.pos = None if pos is None else frozenset([pos] if isinstance(pos, str) else pos["IN"])
        morph = tok.get("MORPH")
        self.morph = tuple(morph["IS_SUPERSET"]) if morph else ()
        self.sent_start = tok.get("IS_SENT_START")
        self.punct = tok.get("IS_PUNCT")
        self.rest: tuple = ()  # the following token tests of the pattern
        self.times = _quantifier(tok.get("OP", "1"))  # (min, max) repetitions

    @staticmethod
    def supports(pattern: list) -> bool:
        """Patterns whose first token is mandatory and whose tokens are simple tests, with
        the quantifiers ? * + {n,m}, are evaluated here."""
        if "OP" in pattern[0]:
            return False
        return all(_TokenTest.supports_token(tok) for tok in pattern)

    @staticmethod
    def supports_token(tok: dict) -> bool:
        if not set(tok) <= _SIMPLE_KEYS | {"OP"}:
            return False
        if "OP" in tok and _quantifier(tok["OP"]) is None:
            return False
        for attr in _LEXICAL:
            v = tok.get(attr)
            if isinstance(v, dict) and not (set(v) <= {"REGEX", "IN", "NOT_IN"} and len(v) == 1):
                return False
        pos, morph = tok.get("POS"), tok.get("MORPH")
        if isinstance(pos, dict) and set(pos) != {"IN"}:
            return False
        return not (morph is not None and set(morph) != {"IS_SUPERSET"})

    def token_ok(self, token) -> bool:
        return self.lexical_ok(token.norm_, token.lemma_) and self.rest_ok(token)

    def lexical_ok(self, norm: str, lemma: str) -> bool:
        values = {"NORM": norm, "LEMMA": lemma}
        return all(test(values[attr]) for attr, test in self.lexical)

    def rest_ok(self, token) -> bool:
        if self.pos is not None and token.pos_ not in self.pos:
            return False
        if self.morph:
            feats = set(str(token.morph).split("|"))
            if not all(m in feats for m in self.morph):
                return False
        if self.sent_start is not None and bool(token.is_sent_start) != self.sent_start:
            return False
        return self.punct is None or token.is_punct == self.punct


def _quantifier(op: str) -> tuple[int, float] | None:
    """spaCy's OP values as (min, max) repetitions; None for what we leave to spaCy ("!")."""
    fixed = {"1": (1, 1), "?": (0, 1), "*": (0, float("inf")), "+": (1, float("inf"))}
    if op in fixed:
        return fixed[op]
    if op.startswith("{") and op.endswith("}"):
        lo, _, hi = op[1:-1].partition(",")
        if not _:
            return (int(lo), int(lo))
        return (int(lo or 0), float(hi) if hi else float("inf"))
    return None


def _match_rest(tests: tuple, k: int, doc, i: int) -> int | None:
    """End of the longest match of tests[k:] starting at token i, or None."""
    if k == len(tests):
        return i
    test = tests[k]
    lo, hi = test.times
    n = 0
    ends = []
    j = i
    while True:
        if n >= lo:
            ends.append(j)
        if n >= hi or j >= len(doc) or not test.token_ok(doc[j]):
            break
        n += 1
        j += 1
    for start in reversed(ends):  # greedy first, like a longest match
        end = _match_rest(tests, k + 1, doc, start)
        if end is not None:
            return end
    return None


@dataclass(slots=True)
class RuleSet:
    rules: dict[str, Rule] = field(default_factory=dict)
    patterns: dict[str, list] = field(default_factory=dict)  # rule id -> list of token patterns
    matcher: object = None  # spaCy Matcher for multi-token patterns
    single: list = field(default_factory=list)  # _TokenTest for single-token patterns
    _lex_cache: dict = field(default_factory=dict)

    def build_matcher(self, nlp) -> None:
        """Validate every pattern with spaCy; multi-token ones go to a Matcher, single-token
        ones to the cached evaluator."""
        from spacy.matcher import Matcher

        validator = Matcher(nlp.vocab, validate=True)
        matcher = Matcher(nlp.vocab)
        single = []
        for rule_id, pats in self.patterns.items():
            try:
                validator.add(rule_id, pats)
            except Exception as exc:  # spaCy raises ValueError/MatchPatternError with details
                raise PatternError(f"{self.rules[rule_id].source}: {rule_id}: {exc}") from exc
            multi = [p for p in pats if not _TokenTest.supports(p)]
            for p in pats:
                if _TokenTest.supports(p):
                    first = _TokenTest(rule_id, p[0])
                    first.rest = tuple(_TokenTest(rule_id, t) for t in p[1:])
                    single.append(first)
            if multi:
                matcher.add(rule_id, multi)
        self.matcher = matcher
        self.single = single
        self._lex_cache = {}

    def match(self, doc, strings) -> list[tuple[str, int, int]]:
        """(rule id, start, end) of every pattern match in ``doc``."""
        out = [(strings[m], s, e) for m, s, e in self.matcher(doc)] if len(self.matcher) else []
        cache = self._lex_cache
        single = self.single
        for token in doc:
            key = (token.norm_, token.lemma_)
            hits = cache.get(key)
            if hits is None:
                hits = tuple(t for t in single if t.lexical_ok(*key))
                if len(cache) < 500_000:
                    cache[key] = hits
            for test in hits:
                if not test.rest_ok(token):
                    continue
                end = _match_rest(test.rest, 0, doc, token.i + 1)
                if end is not None:
                    out.append((test.rule_id, token.i, end))
        return out


def _fold_pattern(value):
    """Fold strings inside a token-attribute value (str, {"IN": [...]}, {"REGEX": ...})."""
    if isinstance(value, str):
        return fold(value)
    if isinstance(value, list):
        return [_fold_pattern(v) for v in value]
    if isinstance(value, dict):
        return {k: (v if k == "REGEX" else _fold_pattern(v)) for k, v in value.items()}
    return value


def _token_pattern(raw, where: str) -> list:
    if isinstance(raw, str):
        words = raw.replace("-", " - ").split()
        if not words:
            raise PatternError(f"{where}: empty phrase")
        return [{"NORM": fold(w)} for w in words]
    if not isinstance(raw, list) or not raw or not all(isinstance(t, dict) for t in raw):
        raise PatternError(f"{where}: pattern must be a phrase string or a list of token dicts")
    out = []
    for tok in raw:
        new = {}
        for attr, value in tok.items():
            if attr == "REGEX":  # shorthand: {"REGEX": "^migra"} on NORM
                new["NORM"] = {"REGEX": value}
            elif attr.upper() in _FOLDED_ATTRS:
                key = "NORM" if attr.upper() == "LOWER" else attr.upper()
                if isinstance(value, dict) and "REGEX" in value:
                    new[key] = {"REGEX": fold(value["REGEX"])}
                else:
                    new[key] = _fold_pattern(value)
            else:
                new[attr] = value
        out.append(new)
    return out


def _conditions(raw, where: str, field_name: str) -> list:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise PatternError(f"{where}: {field_name} must be a list")
    return raw


def load_rules(directory: Path | None = None) -> RuleSet:
    """Parse and validate every ``*.jsonl`` file of the patterns folder (no spaCy needed)."""
    directory = directory or defaults.PATTERNS_DIR
    ruleset = RuleSet()
    for path in sorted(directory.glob("*.jsonl")):
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip() or line.lstrip().startswith("//"):
                continue
            where = f"{path.name}:{lineno}"
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                raise PatternError(f"{where}: invalid JSON: {exc}") from exc
            unknown = set(data) - _KNOWN_FIELDS
            if unknown:
                raise PatternError(f"{where}: unknown fields {sorted(unknown)}")
            rule_id, label = data.get("id"), data.get("label")
            if not rule_id or not label or "pattern" not in data:
                raise PatternError(f"{where}: id, label and pattern are required")
            if label.startswith("doctype:") and label.split(":", 1)[1] not in DOC_TYPES:
                raise PatternError(f"{where}: unknown document type {label}")
            if not (label in COMMITMENT_IDS or label.startswith("doctype:") or label.isupper()):
                raise PatternError(f"{where}: label must be c1..c5, doctype:<code> or UPPERCASE")
            pattern = _token_pattern(data["pattern"], where)
            if rule_id in ruleset.rules:
                if ruleset.rules[rule_id].label != label:
                    raise PatternError(f"{where}: id {rule_id} reused with another label")
                ruleset.patterns[rule_id].append(pattern)  # same id, alternative pattern
                continue
            requires = []
            for cond in _conditions(data.get("requires"), where, "requires"):
                group = (cond,) if isinstance(cond, str) else tuple(cond)
                requires.append(group)
            excludes = tuple(_conditions(data.get("excludes"), where, "excludes"))
            kinds = frozenset(data.get("kinds") or _DEFAULT_KINDS)
            if kinds - _KINDS:
                raise PatternError(f"{where}: unknown kinds {sorted(kinds - _KINDS)}")
            tolerates = frozenset(data.get("tolerates") or ())
            if tolerates - _TOLERABLE:  # negation and intention are never tolerated
                raise PatternError(f"{where}: tolerates only {sorted(_TOLERABLE)}, "
                                   f"not {sorted(tolerates - _TOLERABLE)}")
            ruleset.rules[rule_id] = Rule(
                id=rule_id,
                label=label,
                weight=float(data.get("weight", 1.0)),
                requires=tuple(requires),
                excludes=excludes,
                kinds=kinds,
                tolerates=tolerates,
                source=where,
            )
            ruleset.patterns[rule_id] = [pattern]
    _check_references(ruleset)
    return ruleset


def _check_references(ruleset: RuleSet) -> None:
    cues = {r.label for r in ruleset.rules.values() if r.label.isupper()}
    for rule in ruleset.rules.values():
        conds = [c for group in rule.requires for c in group] + list(rule.excludes)
        for cond in (part.lstrip("!") for c in conds for part in c.split("&")):
            scope, _, name = cond.rpartition(":")
            if scope == "doctype":
                if name not in DOC_TYPES:
                    raise PatternError(f"{rule.source}: unknown document type in {cond!r}")
                continue
            if scope and scope not in _SCOPES:
                raise PatternError(f"{rule.source}: unknown scope in {cond!r}")
            if name not in cues:
                raise PatternError(f"{rule.source}: {rule.id} refers to unknown cue {name!r}")
