"""The pattern data a reading was taken with, and which texts an edit of it can touch.

A reading (``readings.py``) depends on the code, the spaCy model, the text and the pattern data
(``patterns/*.jsonl``, ``priors.json``). The code and the model stay in the reading cache's key;
the pattern data is diffed instead, so that an edit of the patterns analyses again only the
texts it can change. Why that is exact, read off ``engine.py`` and ``rules.py``:

* a rule (every line of one ``id``) gives the analysis nothing but its matches, and its
  label, weight, conditions and kinds are read only where it matched (a cue's conditions,
  weight and kinds never: only its label). So an edited or removed rule can change a reading
  only where its old version matched, and an edited (patterns) or added rule only where its
  new version can match. Where a rule matched is kept per text: the ids of the commitment and
  document-type rules with a match in a unit, and the cue labels present (a cue's own id is
  not kept: its old version counts where its label is present and it can match). Where a
  version can match: every mandatory token of one of its patterns (``OP`` 1, ``+`` or
  ``{n,…}`` with n ≥ 1) must be some token of the text, whose NORM and LEMMA pass the spec's
  string tests (equality, ``IN``, ``REGEX``: the very strings and tests the matcher uses); the
  text's distinct (norm, lemma) pairs are kept (only the blocks that gave units: the matches
  of the others are never read). An external name drops only the matches inside its own, so
  its edit is a cue's;
* matches at one token come out in the rules' load order: a rule whose place among the others
  changed (a line moved, or the first line of its id removed) is an edited rule, which counts
  where it matched;
* ``priors.json``'s ``doc_type_prior`` is added to a commitment's score by document type: an
  edit of one type's priors touches the texts read as that type; anything else in it touches
  every text;
* a pattern with no mandatory string test (POS or morphology alone, ``NOT_IN`` alone) may match
  anywhere: an edit of its rule touches every text.

``tests/classifiers/test_pattern_edits.py`` replays edits of every kind (and past commits of
the patterns) and checks that the readings reused are the ones a full analysis gives.

A *snapshot* of a pattern set (each rule's content hash and patterns, the priors) is kept per
fingerprint of the pattern files in the reading cache's generation, under ``patterns/``: a few
tens of kilobytes per pattern set a reading was ever stamped with, pruned with the generation.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from classifiers import defaults
from classifiers.cache_dir import atomic_write

__all__ = ["FOLDER", "Change", "fingerprint", "snapshot", "keep_snapshot", "change_since",
           "forget", "PatternsChanged"]

log = logging.getLogger(__name__)

#: the snapshots' folder inside a generation of the reading cache
FOLDER = "patterns"
_FORMAT = 1
_NORM, _LEMMA = 0, 1
_ATTRS = (("NORM", _NORM), ("LEMMA", _LEMMA))

_snapshot: dict | None = None
_kept: set[Path] = set()
_changes: dict[tuple[Path, str], Change | None] = {}


class PatternsChanged(OSError):
    """The pattern files changed under a running process: what it reads is no longer what its
    fingerprint says, so it keeps no reading (an OSError: the cache's writes are skipped)."""


def forget() -> None:
    """Read the pattern files again (after they changed under a running process: tests)."""
    from classifiers import version

    global _snapshot
    version._patterns_seen = _snapshot = None
    _kept.clear()
    _changes.clear()


def fingerprint() -> str:
    """Hash of the pattern files as the process read them for its classifier version (at the
    import: ``version.patterns_fingerprint``), a comment included."""
    from classifiers.version import patterns_fingerprint

    return patterns_fingerprint()


def snapshot() -> dict:
    """The pattern set in force as a snapshot: ``rules``, [id, label, content hash, patterns]
    in load order; ``priors``, the document-type priors; ``other``, the rest of priors.json
    (as JSON)."""
    global _snapshot
    if _snapshot is None:
        from classifiers.rules import load_rules
        from classifiers.version import patterns_fingerprint

        _unchanged(patterns_fingerprint(now=True))
        ruleset = load_rules(defaults.PATTERNS_DIR)
        rules = []
        for rule_id, rule in ruleset.rules.items():
            patterns = ruleset.patterns[rule_id]
            content = [rule.label, rule.weight, [list(g) for g in rule.requires],
                       list(rule.excludes), sorted(rule.kinds), sorted(rule.tolerates), patterns]
            digest = hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False)
                                    .encode()).hexdigest()[:24]
            rules.append([rule_id, rule.label, digest, patterns])
        priors = json.loads((defaults.PATTERNS_DIR / "priors.json").read_text(encoding="utf-8"))
        rest = {k: v for k, v in priors.items() if k not in ("about", "doc_type_prior")}
        _unchanged(patterns_fingerprint(now=True))
        _snapshot = {"format": _FORMAT, "rules": rules, "priors": priors["doc_type_prior"],
                     "other": json.dumps(rest, sort_keys=True)}
    return _snapshot


def _unchanged(now: str) -> None:
    if now != fingerprint():
        log.warning("the pattern files changed under this process: no reading is kept "
                    "until it is restarted")
        raise PatternsChanged("the pattern files changed")


def _path(folder: Path, fp: str) -> Path:
    return folder / FOLDER / f"{fp}.patterns.z"


def keep_snapshot(folder: Path) -> None:
    """Write the snapshot of the pattern set in force into ``folder`` (a generation of the
    reading cache) unless it is there: before any reading is stamped with its fingerprint."""
    path = _path(folder, fingerprint())
    if path in _kept:
        return
    if not path.exists():
        data = zlib.compress(json.dumps(snapshot(), separators=(",", ":"),
                                        ensure_ascii=False).encode(), 6)
        atomic_write(path, data)
    _kept.add(path)


def change_since(folder: Path, fp: str) -> Change | None:
    """What changed from the pattern set ``fp`` (its snapshot in ``folder``) to the one in
    force; None when that snapshot cannot be read (every text is then analysed again)."""
    key = (folder, fp)
    if key not in _changes:
        try:
            old = json.loads(zlib.decompress(_path(folder, fp).read_bytes()))
            if old.get("format") != _FORMAT:
                raise ValueError("another format")
        except (OSError, ValueError, zlib.error):
            _changes[key] = None
        else:
            _changes[key] = _diff(old, snapshot())
    return _changes[key]


def _diff(old: dict, new: dict) -> Change:
    change = Change()
    if old["other"] != new["other"]:
        change.everything = True
        return change
    before = {rule[0]: rule for rule in old["rules"]}
    after = {rule[0]: rule for rule in new["rules"]}
    moved = _moved([r for r, *_ in old["rules"] if r in after],
                   [r for r, *_ in new["rules"] if r in before])
    for rule_id in {*before, *after}:
        was, now = before.get(rule_id), after.get(rule_id)
        if was is not None and now is not None and was[2] == now[2] and rule_id not in moved:
            continue
        if was is not None:  # where the old version matched
            _rule_id, label, _digest, patterns = was
            if label.isupper():
                change.add_where(None, label, patterns)
            else:
                change.add_where(rule_id, None, None)
        if now is not None:  # where the new version can match, unless it matches as before
            _rule_id, label, _digest, patterns = now
            if was is None or (was[1], was[3]) != (label, patterns):
                change.add_where(None, None, patterns)
    old_priors, new_priors = old["priors"], new["priors"]
    change.doc_types = frozenset(t for t in {*old_priors, *new_priors}
                                 if old_priors.get(t) != new_priors.get(t))
    return change


def _moved(before: list[str], after: list[str]) -> set[str]:
    """Rules (in both lists) whose order relative to the others changed: all but those of the
    longest runs kept in the same order (``difflib``; not always the fewest, never too few)."""
    import difflib

    blocks = difflib.SequenceMatcher(None, before, after, autojunk=False).get_matching_blocks()
    stay = {rule_id for a, _b, size in blocks for rule_id in before[a:a + size]}
    return set(before) - stay


@dataclass(eq=False)
class Change:
    """An edit of the pattern data, as the texts it can touch: a text is touched when it is
    read as one of ``doc_types`` or any of ``triggers`` fires.

    A trigger (rule id, label, needs) fires when the rule id is among the text's matched rules,
    the label among its cue labels and, with needs, one pattern's needs are among the bits of
    the text's (norm, lemma) pairs (None stands for no test). Each mandatory string spec of a
    pattern is a bit; a pair's bits are worked out once (``_bits``) and remembered across
    texts."""

    everything: bool = False
    doc_types: frozenset = frozenset()
    triggers: list = field(default_factory=list)
    _specs: dict = field(default_factory=dict)  # spec's tests (as JSON) -> bit
    _equal: tuple = field(default_factory=lambda: ({}, {}))  # column -> string -> bits
    _tested: list = field(default_factory=list)  # (bit, tests) not answered by _equal
    _pairs: dict = field(default_factory=dict)  # (norm, lemma) -> bits

    def add_where(self, rule_id: str | None, label: str | None, patterns: list | None) -> None:
        """A trigger; ``patterns``: where they can match (None: anywhere)."""
        needs = None if patterns is None else [self._needs(p) for p in patterns]
        if needs is not None and 0 in needs:  # a pattern that may match in any text
            needs = None
        if rule_id is None and label is None and needs is None:
            self.everything = True
        self.triggers.append((rule_id, label, needs))

    def _needs(self, pattern: list) -> int:
        from classifiers.rules import _quantifier

        need = 0
        for spec in pattern:
            bounds = _quantifier(spec.get("OP", "1"))
            if bounds is None or bounds[0] < 1:  # optional, or "!": nothing needed
                continue
            tests = _string_tests(spec)
            if tests:
                need |= self._bit(tests)
        return need

    def _bit(self, tests: list) -> int:
        key = json.dumps(tests, sort_keys=True, ensure_ascii=False)
        bit = self._specs.get(key)
        if bit is None:
            bit = self._specs[key] = 1 << len(self._specs)
            if len(tests) == 1 and tests[0][1] in ("eq", "in"):
                col, kind, value = tests[0]
                for string in ([value] if kind == "eq" else value):
                    index = self._equal[col]
                    index[string] = index.get(string, 0) | bit
            else:
                self._tested.append((bit, [(col, kind, _test(kind, value))
                                           for col, kind, value in tests]))
        return bit

    def touches(self, seen: dict | None) -> bool:
        """Whether this edit may change the reading of a text where ``seen`` was found
        (``readings.seen_in``: ``doc_type``, ``rules``, ``labels``, ``pairs``, a flat list
        norm, lemma, norm, …, or None when unknown; None: nothing is known)."""
        if self.everything or seen is None or seen["doc_type"] in self.doc_types:
            return True
        if not self.triggers:
            return False
        rules, labels = set(seen["rules"]), set(seen["labels"])
        have = None
        for rule_id, label, needs in self.triggers:
            if rule_id is not None and rule_id not in rules:
                continue
            if label is not None and label not in labels:
                continue
            if needs is None:
                return True
            if have is None:
                have = self._have(seen["pairs"])
                if have is None:
                    return True
            if any(need & have == need for need in needs):
                return True
        return False

    def _have(self, pairs: list | None) -> int | None:
        """The bits of a text's pairs (None: its pairs are unknown)."""
        if pairs is None:
            return None
        known = self._pairs
        have = 0
        it = iter(pairs)
        for norm, lemma in zip(it, it, strict=True):
            bits = known.get((norm, lemma))
            if bits is None:
                bits = known[(norm, lemma)] = self._bits(norm, lemma)
            have |= bits
        return have

    def _bits(self, norm: str, lemma: str) -> int:
        strings = (norm, lemma)
        bits = self._equal[_NORM].get(norm, 0) | self._equal[_LEMMA].get(lemma, 0)
        for bit, tests in self._tested:
            if all(test(strings[col]) for col, _kind, test in tests):
                bits |= bit
        return bits


def _string_tests(spec: dict) -> list:
    """The tests of a token spec on its NORM and LEMMA that every token passing it passes
    (spaCy's Matcher: all of an attribute's predicates hold), as (column, kind, value); the
    others (NOT_IN, which nearly every word passes, and any other predicate) are left out."""
    tests = []
    for attr, col in _ATTRS:
        value = spec.get(attr)
        if isinstance(value, str):
            tests.append((col, "eq", value))
        elif isinstance(value, dict):
            if isinstance(value.get("IN"), list):
                tests.append((col, "in", sorted(value["IN"])))
            if isinstance(value.get("REGEX"), str):
                tests.append((col, "re", value["REGEX"]))
    return tests


def _test(kind: str, value):
    if kind == "eq":
        return value.__eq__
    if kind == "in":
        return frozenset(value).__contains__
    return re.compile(value).search
