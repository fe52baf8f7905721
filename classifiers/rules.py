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
              units), ``later:CUE`` (any later unit of the document). ``!`` before a condition
              negates it; ``&`` joins conditions that must all hold (``"section:INTENT&!PAST"``:
              under an intention heading, with no past tense).
``excludes``  conditions (same syntax) of which none may hold: the hard negatives.
``kinds``     unit kinds the rule applies to (default: sentence, item, line, row).
``tolerates`` scope cues that do not cancel this rule (e.g. ["FUTURE"] for a training plan,
              whose sessions are ahead by nature). NEG and INTENT always cancel.
``note``      free text for people.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from classifiers import defaults
from classifiers.nlp import fold
from classifiers.result import COMMITMENT_IDS, DOC_TYPES
from extractors.errors import EvidenciaError

__all__ = ["Rule", "RuleSet", "PatternError", "load_rules", "EXTERNAL_LABEL"]

#: the cue label of names that are not the organisation's own (external_names.jsonl): every other
#: match that lies inside such a name is ignored
EXTERNAL_LABEL = "EXTERNAL"

_KINDS = frozenset({"sentence", "item", "line", "row", "heading", "fragment"})
#: scope cues a rule may declare it survives (a training plan is written in the future tense)
_TOLERABLE = frozenset({"FUTURE"})
_DEFAULT_KINDS = frozenset({"sentence", "item", "line", "row"})
_SCOPES = ("near", "section", "header", "title", "doc", "doctype", "block", "lead", "after",
           "later")
_FOLDED_ATTRS = ("LEMMA", "NORM", "LOWER")
_KNOWN_FIELDS = {
    "id", "label", "pattern", "weight", "requires", "excludes", "kinds", "tolerates", "note",
}


class PatternError(EvidenciaError, ValueError):
    """A pattern file line that cannot be used: ``detail`` says file and line (for whoever edits
    the patterns), the message says it in Spanish. The deployment's fault, not a file's."""

    code = "classifier_patterns"

    def __init__(self, detail: str):
        super().__init__(f"Los patrones del clasificador tienen un error: {detail}",
                         detail=detail)


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


_LEXICAL = ("NORM", "LEMMA")  # the token attributes compared as (folded) strings
_SIMPLE_KEYS = {"NORM", "LEMMA", "POS", "MORPH", "IS_SENT_START", "IS_PUNCT", "OP"}
#: the columns ``match`` reads from a Doc (``Doc.to_array``), in this order
_COLUMNS = ("NORM", "LEMMA", "POS", "MORPH", "SENT_START", "IS_PUNCT")
_CACHE_LIMIT = 500_000  # distinct (norm, lemma) pairs remembered per step before starting over


class _Expression:
    """A regular expression's ``search``, compiled the first time it is called: a process
    compiles only the expressions its texts reach (compiling all of them was a tenth of a
    second of every start)."""

    __slots__ = ("pattern", "_search")

    def __init__(self, pattern: str):
        self.pattern = pattern
        self._search = None

    def __call__(self, string: str):
        search = self._search
        if search is None:
            search = self._search = re.compile(self.pattern).search
        return search(string)


class _Step:
    """One token of a compiled pattern: the tests spaCy's Matcher would apply, with the lexical
    ones (regular expressions, sets) evaluated once per (norm, lemma) pair and the morphology
    once per analysis, then remembered; spaCy evaluates every REGEX/IN predicate on every token,
    which costs more than the tagger on a long document."""

    __slots__ = ("lexical", "pos", "morph", "sent_start", "punct", "other", "position", "lo",
                 "hi", "indexable", "regex", "_index", "_lex", "_feats")

    def __init__(self, tok: dict):
        from classifiers.tokens import POS_IDS

        self.lexical = []  # (column 0 = NORM or 1 = LEMMA, predicate on the string)
        self._index = None  # (column, the strings it may be): a test a dictionary can answer
        self.regex = None  # (column, expression) of its first regular expression
        for col, attr in enumerate(_LEXICAL):
            value = tok.get(attr)
            if value is None:
                continue
            if isinstance(value, str):
                self.lexical.append((col, value.__eq__))
                self._index = self._index or (col, frozenset([value]))
            elif "REGEX" in value:
                self.lexical.append((col, _Expression(value["REGEX"])))
                self.regex = self.regex or (col, value["REGEX"])
            elif "IN" in value:
                self.lexical.append((col, frozenset(value["IN"]).__contains__))
                self._index = self._index or (col, frozenset(value["IN"]))
            else:
                banned = frozenset(value["NOT_IN"])
                self.lexical.append((col, lambda s, b=banned: s not in b))
        pos = tok.get("POS")
        self.pos = None if pos is None else frozenset(
            int(POS_IDS[p]) for p in ([pos] if isinstance(pos, str) else pos["IN"]))
        morph = tok.get("MORPH")
        self.morph = frozenset(morph["IS_SUPERSET"]) if morph else None
        # spaCy compares the raw attribute: IS_SENT_START true is sent_start == 1, false == 0
        start = tok.get("IS_SENT_START")
        self.sent_start = None if start is None else int(start)
        punct = tok.get("IS_PUNCT")
        self.punct = None if punct is None else int(punct)
        self.other = (self.pos, self.morph, self.sent_start, self.punct) != (None,) * 4
        self.position = (self.sent_start, self.punct) != (None, None)
        self.lo, self.hi = _quantifier(tok.get("OP", "1"))
        # a test on the strings other than NOT_IN: few tokens pass it
        self.indexable = any(
            not isinstance(tok.get(attr), dict) or "NOT_IN" not in tok[attr]
            for attr in _LEXICAL if attr in tok)
        self._lex: dict = {}  # (norm hash, lemma hash) -> bool
        self._feats: dict = {}  # morph hash -> bool

    @staticmethod
    def supports(tok: dict) -> bool:
        """Token tests compiled here; a pattern with any other goes to spaCy's Matcher."""
        if not set(tok) <= _SIMPLE_KEYS or _quantifier(tok.get("OP", "1")) is None:
            return False
        for attr in _LEXICAL:
            value = tok.get(attr)
            if isinstance(value, dict) and not (
                len(value) == 1 and set(value) <= {"REGEX", "IN", "NOT_IN"}
            ):
                return False
        for attr in ("IS_SENT_START", "IS_PUNCT"):
            if attr in tok and not isinstance(tok[attr], bool):
                return False
        pos, morph = tok.get("POS"), tok.get("MORPH")
        if isinstance(pos, dict) and set(pos) != {"IN"}:
            return False
        return morph is None or (isinstance(morph, dict) and set(morph) == {"IS_SUPERSET"})

    def lexical_ok(self, key: tuple[int, int], strings) -> bool:
        ok = self._lex.get(key)
        if ok is None:
            ok = all(test(strings[key[col]]) for col, test in self.lexical)
            if len(self._lex) >= _CACHE_LIMIT:
                self._lex.clear()
            self._lex[key] = ok
        return ok

    def index_values(self) -> tuple[int, frozenset] | None:
        """(column, strings) when every token passing this step has one of these strings in
        that column (0 = NORM, 1 = LEMMA); None when only a scan can tell."""
        return self._index

    def tagging_ok(self, pos: int, morph: int, strings) -> bool:
        """The POS and morphology tests, on a token's POS id and morphology hash."""
        if self.pos is not None and pos not in self.pos:
            return False
        if self.morph is not None:
            ok = self._feats.get(morph)
            if ok is None:
                ok = self.morph <= set(strings[morph].split("|"))
                self._feats[morph] = ok
            return ok
        return True

    def position_ok(self, i: int, cols) -> bool:
        """The sentence-start and punctuation tests at token ``i``."""
        if self.sent_start is not None and cols[4][i] != self.sent_start:
            return False
        return self.punct is None or cols[5][i] == self.punct

    def other_ok(self, i: int, cols, strings) -> bool:
        """The non-lexical tests at token ``i`` (cols as in ``_COLUMNS``)."""
        if self.pos is not None and cols[2][i] not in self.pos:
            return False
        if self.morph is not None:
            ok = self._feats.get(cols[3][i])
            if ok is None:
                ok = self.morph <= set(strings[cols[3][i]].split("|"))
                self._feats[cols[3][i]] = ok
            if not ok:
                return False
        if self.sent_start is not None and cols[4][i] != self.sent_start:
            return False
        return self.punct is None or cols[5][i] == self.punct

    def ok(self, i: int, keys, cols, strings) -> bool:
        return self.lexical_ok(keys[i], strings) and (
            not self.other or self.other_ok(i, cols, strings))


def _quantifier(op: str) -> tuple[int, float] | None:
    """spaCy's OP values as (min, max) repetitions; None for what we leave to spaCy ("!")."""
    fixed = {"1": (1, 1), "?": (0, 1), "*": (0, float("inf")), "+": (1, float("inf"))}
    if op in fixed:
        return fixed[op]
    if op.startswith("{") and op.endswith("}"):
        lo, comma, hi = op[1:-1].partition(",")
        if not comma:
            return (int(lo), int(lo))
        return (int(lo or 0), float(hi) if hi else float("inf"))
    return None


def _expand(pattern: list) -> list[list]:
    """The patterns with a mandatory first token that together match, per start token, what
    ``pattern`` matches when its first tokens are optional ("?", "*") or repeated ("+"):
    ``[A?, B]`` is ``[A, B]`` or ``[B]``; ``[A*, B]`` is ``[A, A*, B]`` or ``[B]``; ``[A+, B]``
    is ``[A, A*, B]``. An empty remainder matches nothing (spaCy returns no empty match)."""
    if not pattern:
        return []
    op = pattern[0].get("OP", "1")
    first = {k: v for k, v in pattern[0].items() if k != "OP"}
    if op == "?":
        return [[first, *pattern[1:]], *_expand(pattern[1:])]
    if op == "*":
        return [[first, {**first, "OP": "*"}, *pattern[1:]], *_expand(pattern[1:])]
    if op == "+":
        return [[first, {**first, "OP": "*"}, *pattern[1:]]]
    return [pattern]


class _Compiled:
    """A pattern whose first token is mandatory and whose tokens all compile to ``_Step``.

    ``anchor`` is the step a token is looked up by: the first, or the second when the first
    tests nothing an index can use (no string, only ``NOT_IN``, only POS/MORPH) and the second
    is mandatory and does (``[not a number, "?"]`` is looked for at its "?")."""

    __slots__ = ("rule_id", "order", "first", "rest", "second", "fixed", "anchor", "at")

    def __init__(self, rule_id: str, order: int, pattern: list):
        self.rule_id = rule_id
        self.order = order  # load order: matches at one token come out in this order
        self.first = _Step(pattern[0])
        self.rest = tuple(_Step(tok) for tok in pattern[1:])
        # a mandatory second token is checked before anything else: most tries end there
        self.second = self.rest[0] if self.rest and self.rest[0].lo >= 1 else None
        self.fixed = all(step.lo == step.hi == 1 for step in self.rest)
        use_second = (not self.first.indexable and self.second is not None
                      and self.second.indexable)
        self.at = 1 if use_second else 0  # offset of the anchor from the start
        self.anchor = self.second if use_second else self.first

    @staticmethod
    def supports(pattern: list) -> bool:
        return "OP" not in pattern[0] and all(_Step.supports(tok) for tok in pattern)

    def longest_end(self, start: int, keys, cols, strings, n: int | None = None
                    ) -> int | None:
        """End of the longest match starting at ``start`` (whose first token passed), or None;
        ``n``: the tokens' count (``len(keys)`` when not given).

        Every way of matching is followed, as spaCy's Matcher does (it returns them all); a
        greedy walk with backtracking can stop at a shorter one."""
        if n is None:
            n = len(keys)
        if self.fixed:
            j = start + 1
            for step in self.rest:
                if j >= n:
                    return None
                ok = step._lex.get(keys[j])  # lexical_ok's memo, read here: most tries end
                if ok is None:
                    ok = step.lexical_ok(keys[j], strings)
                if not ok or step.other and not step.other_ok(j, cols, strings):
                    return None
                j += 1
            return j
        ends = {start + 1}
        for step in self.rest:
            following = set()
            lex, other, lo, hi = step._lex, step.other, step.lo, step.hi
            for j in ends:
                count = 0
                if lo == 0:
                    following.add(j)
                while count < hi and j < n:
                    ok = lex.get(keys[j])
                    if ok is None:
                        ok = step.lexical_ok(keys[j], strings)
                    if not ok or other and not step.other_ok(j, cols, strings):
                        break
                    count += 1
                    j += 1
                    if count >= lo:
                        following.add(j)
            if not following:
                return None
            ends = following
        return max(ends)


@dataclass(slots=True)
class RuleSet:
    rules: dict[str, Rule] = field(default_factory=dict)
    patterns: dict[str, list] = field(default_factory=dict)  # rule id -> list of token patterns
    compiled: list = field(default_factory=list)  # _Compiled, in load order
    fallback: object = None  # spaCy Matcher for patterns _Compiled does not support
    _order: dict = field(default_factory=dict)  # rule id -> load order (for fallback matches)
    _columns: list = field(default_factory=list)  # (index in _COLUMNS, spaCy attr id) read
    #: anchor strings -> compiled patterns whose anchor tests NORM (column 0) or LEMMA (1)
    #: for equality or membership; the others are tried on every new (norm, lemma) pair: those
    #: with a regular expression on NORM or LEMMA only when their own expression finds
    #: something in the string (found through one expression per bucket of them: ``_screens``,
    #: ``_screen_buckets``), the rest always
    _by_string: tuple = field(default_factory=lambda: ({}, {}))
    _screens: tuple = ()
    _scan: tuple = ()
    _lexical: dict = field(default_factory=dict)  # (norm, lemma) -> patterns its anchor passes
    _first: dict = field(default_factory=dict)  # (norm, lemma, pos, morph) -> patterns to try
    #: (a token's key, the next token's (norm, lemma)) -> of its patterns to try, those whose
    #: second token can be that next one (``_after``)
    _pairs: dict = field(default_factory=dict)

    def build_matcher(self, vocab=None) -> None:
        """Validate every pattern with spaCy's Matcher (``vocab``: a Vocab or a Language; None
        when these very patterns were validated before, see ``fingerprint``: then spaCy is not
        imported unless a pattern needs its Matcher), compile the ones ``_Compiled`` supports
        (optional first tokens expanded, see ``_expand``) and give the rest to a spaCy
        Matcher."""
        from classifiers import tokens

        if vocab is not None:
            self.validate(vocab)
        compiled, others = [], {}
        for order, (rule_id, pats) in enumerate(self.patterns.items()):
            expanded = [(p, [e for e in _expand(p) if _Compiled.supports(e)]) for p in pats]
            compiled += [_Compiled(rule_id, order, e) for _p, mine in expanded for e in mine]
            rest = [p for p, mine in expanded if not mine]
            if rest:
                others[rule_id] = rest
            self._order[rule_id] = order
        fallback = None
        if others:
            from spacy.matcher import Matcher

            from classifiers.nlp import get_vocab

            fallback = Matcher(getattr(vocab, "vocab", vocab) or get_vocab())
            for rule_id, rest in others.items():
                fallback.add(rule_id, rest)
        steps = [step for c in compiled for step in (c.first, *c.rest)]
        used = [True, True, True, True,  # the lookup key: norm, lemma, POS, morphology
                any(s.sent_start is not None for s in steps),
                any(s.punct is not None for s in steps)]
        ids = {"NORM": tokens.NORM, "LEMMA": tokens.LEMMA, "POS": tokens.POS,
               "MORPH": tokens.MORPH, "SENT_START": tokens.SENT_START,
               "IS_PUNCT": tokens.IS_PUNCT}
        self._columns = [(n, ids[name]) for n, name in enumerate(_COLUMNS) if used[n]]
        self.compiled = compiled
        self.fallback = fallback
        by_string: tuple = ({}, {})
        screened: tuple = ([], [])
        scan = []
        for pattern in compiled:
            values = pattern.anchor.index_values()
            if values is not None:
                col, strings = values
                for value in strings:
                    by_string[col].setdefault(value, []).append(pattern)
            elif pattern.anchor.regex is not None:
                screened[pattern.anchor.regex[0]].append(pattern)
            else:
                scan.append(pattern)
        self._by_string, self._scan = by_string, tuple(scan)
        self._screens = tuple(
            (col, _screen_buckets(pats)) for col, pats in enumerate(screened) if pats)
        self._lexical, self._first, self._pairs = {}, {}, {}

    def validate(self, vocab) -> None:
        """Every pattern checked by spaCy's Matcher (``validate=True``); a PatternError names
        the first that is not valid."""
        from spacy.matcher import Matcher

        validator = Matcher(getattr(vocab, "vocab", vocab), validate=True)
        for rule_id, pats in self.patterns.items():
            try:
                validator.add(rule_id, pats)
            except Exception as exc:  # spaCy raises ValueError/MatchPatternError with details
                raise PatternError(f"{self.rules[rule_id].source}: {rule_id}: {exc}") from exc

    def fingerprint(self) -> str:
        """Hash of the patterns as given to the Matcher and of the spaCy release that
        validates them: a validation remembered under it holds for these patterns."""
        import hashlib
        from importlib.metadata import version

        h = hashlib.sha256(f"spacy-{version('spacy')}".encode())
        h.update(json.dumps(self.patterns, sort_keys=True, ensure_ascii=False).encode())
        return h.hexdigest()

    def _candidates(self, key: tuple, strings) -> tuple:
        """The compiled patterns whose anchor step passes its norm, lemma, POS and morphology
        tests on a token of this (norm, lemma, pos, morph) key, in load order."""
        lexical_key = key[:2]
        lexical = self._lexical.get(lexical_key)
        if lexical is None:
            norm, lemma = strings[key[0]], strings[key[1]]
            maybe = [*self._by_string[0].get(norm, ()), *self._by_string[1].get(lemma, ()),
                     *self._scan]
            for col, buckets in self._screens:
                string = lemma if col else norm
                for bucket, members in buckets:
                    if bucket(string):
                        for regex, screened in members:
                            if regex(string):
                                maybe += screened
            lexical = tuple(sorted(
                {id(p): p for p in maybe if p.anchor.lexical_ok(lexical_key, strings)}.values(),
                key=lambda p: p.order))
            if len(self._lexical) >= _CACHE_LIMIT:
                self._lexical.clear()
            self._lexical[lexical_key] = lexical
        out = tuple(p for p in lexical if p.anchor.tagging_ok(key[2], key[3], strings))
        if len(self._first) >= _CACHE_LIMIT:
            self._first.clear()
        self._first[key] = out
        return out

    def _after(self, candidates: tuple, following, strings, pair: tuple) -> tuple:
        """Of ``candidates`` (a token's, ``_candidates``), those whose mandatory second token
        passes its norm and lemma tests on the ``following`` token's (norm, lemma) (None: no
        token follows), and those anchored on their second token; remembered per ``pair`` (the
        token's key and the following pair): most tries ended at the second token, and a text
        repeats its word pairs."""
        out = tuple(
            p for p in candidates
            if p.at or p.second is None
            or following is not None and p.second.lexical_ok(following, strings))
        if len(self._pairs) >= _CACHE_LIMIT:
            self._pairs.clear()
        self._pairs[pair] = out
        return out

    def match(self, doc) -> list[tuple[str, int, int]]:
        """(rule id, start, end) of every rule matching in ``doc``: for each rule and start
        token the longest match, ordered by start token, then by the rules' load order.

        Each token is looked up, by its (norm, lemma, POS, morphology), in a cache of the
        patterns whose anchor step it passes (kept across documents); only those are tried."""
        if not len(doc):
            return []
        strings = doc.vocab.strings
        cols: list = [None] * len(_COLUMNS)  # only the columns some pattern tests
        for (n, _attr), values in zip(
            self._columns, doc.to_array([attr for _n, attr in self._columns]).T.tolist(),
            strict=True,
        ):
            cols[n] = values
        keys = list(zip(cols[0], cols[1], strict=True))
        n = len(keys)
        keys.append(None)  # after the last token: no second token
        first, pairs = self._first, self._pairs
        best: dict[tuple[str, int], tuple[int, int]] = {}  # (rule, start) -> (order, end)
        for i, key in enumerate(zip(cols[0], cols[1], cols[2], cols[3], strict=True)):
            candidates = first.get(key)
            if candidates is None:
                candidates = self._candidates(key, strings)
            if not candidates:
                continue
            pair = (key, keys[i + 1])
            tried = pairs.get(pair)
            if tried is None:
                tried = self._after(candidates, pair[1], strings, pair)
            for pattern in tried:
                anchor = pattern.anchor
                if anchor.position and not anchor.position_ok(i, cols):
                    continue
                start = i - pattern.at
                if pattern.at and (start < 0
                                   or not pattern.first.ok(start, keys, cols, strings)):
                    continue  # anchored on the second token: the first is checked now
                end = pattern.longest_end(start, keys, cols, strings, n) if pattern.rest \
                    else start + 1
                if end is None:
                    continue
                k = (pattern.rule_id, start)
                found = best.get(k)
                if found is None or found[1] < end:  # one match per rule and start: the longest
                    best[k] = (pattern.order, end)
        out = [(rule_id, start, end) for (start, _order, rule_id), end in
               sorted(((start, order, rule_id), end)
                      for (rule_id, start), (order, end) in best.items())]
        if self.fallback is not None:
            out = self._merge_fallback(doc, out)
        return out

    def _merge_fallback(self, doc, out: list) -> list:
        """Add the spaCy Matcher's matches (longest per rule and start) in the same order."""
        from classifiers.tokens import TokenDoc

        if isinstance(doc, TokenDoc):
            doc = doc.to_spacy(self.fallback.vocab)
        strings = doc.vocab.strings
        best = {(rule_id, start): end for rule_id, start, end in out}
        for key, start, end in self.fallback(doc):
            k = (strings[key], start)
            best[k] = max(best.get(k, end), end)
        found = sorted(best.items(), key=lambda item: (item[0][1], self._order[item[0][0]]))
        return [(rule_id, start, end) for (rule_id, start), end in found]


#: distinct expressions per bucket of ``_screen_buckets``
_BUCKET = 16


def _screen_buckets(patterns: list) -> tuple:
    """The patterns screened by the regular expression of their anchor, grouped by expression
    and the expressions in buckets of ``_BUCKET``: ((the bucket's expressions as one,
    ((expression, its patterns), ...)), ...). A new word is tested against a bucket's
    expressions only when the bucket's combined one finds something in it, and a pattern is
    tried only when its own expression does: one that matches nearly every word (a negative
    look-ahead) no longer sends every word to all ~200 screened patterns. A pattern left out
    fails its anchor's expression, so it could not have passed its anchor's tests."""
    by_regex: dict[str, list] = {}
    for pattern in patterns:
        by_regex.setdefault(pattern.anchor.regex[1], []).append(pattern)
    distinct = list(by_regex.items())
    return tuple(
        (_Expression("|".join(f"(?:{regex})" for regex, _p in chunk)),
         tuple((_Expression(regex), tuple(pats)) for regex, pats in chunk))
        for chunk in (distinct[k: k + _BUCKET] for k in range(0, len(distinct), _BUCKET))
    )


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
