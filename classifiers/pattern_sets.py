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
  of the others are never read), and the sequence of its tokens as those pairs: the tested
  tokens of a match stand in the pattern's order, each within the number of tokens the steps
  between them can take (two ``OP`` 1 steps side by side: adjacent tokens; ``{0,6}`` between:
  one to seven tokens apart), so a pattern whose tokens the text holds only elsewhere cannot
  match in it (``_placed``: "querer" and "que" in a text, never side by side). An external name
  drops only the matches inside its own, so its edit is a cue's;
* matches at one token come out in the rules' load order: a rule whose place among the others
  changed (a line moved, or the first line of its id removed) is an edited rule, which counts
  where it matched;
* ``priors.json``'s ``doc_type_prior`` is added to a commitment's score by document type: an
  edit of one type's priors touches the texts read as that type; anything else in it touches
  every text;
* a pattern with no mandatory string test (POS or morphology alone, ``NOT_IN`` alone) may match
  anywhere: an edit of its rule touches every text;
* an edit of a rule's conditions alone (``requires``, ``excludes``; its label, weight, kinds,
  tolerated cues, patterns and place unchanged) changes nothing but whether the conditions hold
  where it matched. A condition all of whose forms need a cue absent from the text, or from what
  its scope reads (the title, headings and header rows, lists' lead-in sentences: kept per
  text), or a document type other than the text's, holds nowhere in it: such conditions are
  dropped from the old and the new lists, and the rule touches the text only where it matched
  and the lists still differ (``_Conditions``). The real rounds of rule edits are mostly
  exclusions added for a new cue (``"excludes": [..., "THIRD_PARTY_ORG"]``): a text without
  that cue keeps its reading. The cue labels are the old reading's: were another edit to change
  them, that edit touches the text itself. A cue's conditions, weight and kinds are never read:
  an edit of them alone touches nothing;
* an edit of a rule's patterns alone (its place, label and the rest unchanged), a rule added or
  a cue removed: a rule's matches do not depend on the other rules' (``RuleSet.match``: the
  longest match per rule and start token), and a pattern of both versions matches alike in
  both (only a line added, removed or edited can make them differ: its trigger is that line's
  mandatory tokens, and for a commitment rule's old line also that the rule matched), so where
  its trigger fires, its old and new versions
  (the snapshots keep both) are matched again on the text's tokens, read from the annotation
  cache (``Change.same_matches``; by ``token_rows.py``, without srsly or numpy, whose imports
  cost more than the matching on an archive's few texts): when they match alike (nearly always:
  a new cue or a widened pattern finds nothing new in most texts) every match, label and so the
  reading is as before, and the text is not analysed again. A few tenths of a millisecond
  instead of a full analysis.

``tests/classifiers/test_pattern_edits.py`` replays edits of every kind (and past commits of
the patterns) and checks that the readings reused are the ones a full analysis gives.

A *snapshot* of a pattern set (each rule's content hash, patterns and conditions, the priors;
format 1 had no conditions: still diffed, each edited rule counting where it matched, as
before) is kept per fingerprint of the pattern files in the reading cache's generation, under
``patterns/``: a few tens of kilobytes per pattern set a reading was ever stamped with, pruned
with the generation.
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

__all__ = ["FOLDER", "Change", "Touch", "fingerprint", "snapshot", "keep_snapshot",
           "change_since", "forget", "vouch", "PatternsChanged"]

log = logging.getLogger(__name__)

#: the snapshots' folder inside a generation of the reading cache
FOLDER = "patterns"
_FORMAT = 2
#: snapshots of these formats are diffed (1: without the rules' conditions)
_READABLE = (1, 2)
_NORM, _LEMMA = 0, 1
_ATTRS = (("NORM", _NORM), ("LEMMA", _LEMMA))

_snapshot: dict | None = None
_kept: set[tuple[Path, str]] = set()  # (folder, fingerprint) whose snapshot is written
_changes: dict[tuple[Path, str], Change | None] = {}
_vouched = False  # ``vouch`` ran


class PatternsChanged(OSError):
    """The pattern files changed under a running process: what it reads is no longer what its
    fingerprint says, so it keeps no reading (an OSError: the cache's writes are skipped)."""


def forget() -> None:
    """Read the pattern files again (after they changed under a running process: tests)."""
    from classifiers import version

    global _snapshot, _vouched
    version._patterns_seen = _snapshot = None
    _vouched = False
    _kept.clear()
    _changes.clear()


def fingerprint() -> str:
    """Hash of the pattern files as the process read them for its classifier version (at the
    import: ``version.patterns_fingerprint``), a comment included."""
    from classifiers.version import patterns_fingerprint

    return patterns_fingerprint()


def snapshot() -> dict:
    """The pattern set in force as a snapshot: ``rules``, [id, label, content hash, patterns,
    requires, excludes, hash of the label, weight, kinds and tolerated cues] in load order;
    ``priors``, the document-type priors; ``other``, the rest of priors.json (as JSON)."""
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
            core = hashlib.sha256(json.dumps(
                [rule.label, rule.weight, sorted(rule.kinds), sorted(rule.tolerates)],
                sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:24]
            rules.append([rule_id, rule.label, digest, patterns,
                          [list(g) for g in rule.requires], list(rule.excludes), core])
        priors = json.loads((defaults.PATTERNS_DIR / "priors.json").read_text(encoding="utf-8"))
        rest = {k: v for k, v in priors.items() if k not in ("about", "doc_type_prior")}
        _unchanged(patterns_fingerprint(now=True))
        _snapshot = {"format": _FORMAT, "rules": rules, "priors": priors["doc_type_prior"],
                     "other": json.dumps(rest, sort_keys=True)}
    return _snapshot


def vouch() -> None:
    """Before a process's first analysis: when it has read the pattern set in force (its
    snapshot, to diff an edit), mark that set valid if every pattern surely passes spaCy's
    validation (``pattern_check``), so that loading it for the analysis needs no spaCy. Else,
    or once marked, ``engine.get_ruleset`` does as before (a process that diffed no edit
    mostly analyses under patterns already marked: the code changed)."""
    global _vouched
    if _vouched or _snapshot is None:
        return
    _vouched = True
    from classifiers.annotation_cache import annotation_dir
    from classifiers.cache_dir import MARKS_FOLDER
    from classifiers.pattern_check import remember_valid

    root = annotation_dir()
    remember_valid({rule[0]: rule[3] for rule in _snapshot["rules"]},
                   None if root is None else root / MARKS_FOLDER)


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
    key = (folder, fingerprint())
    if key in _kept:
        return
    path = _path(*key)
    if not path.exists():
        data = zlib.compress(json.dumps(snapshot(), separators=(",", ":"),
                                        ensure_ascii=False).encode(), 6)
        atomic_write(path, data)
    _kept.add(key)


def change_since(folder: Path, fp: str) -> Change | None:
    """What changed from the pattern set ``fp`` (its snapshot in ``folder``) to the one in
    force; None when that snapshot cannot be read (every text is then analysed again)."""
    key = (folder, fp)
    if key not in _changes:
        try:
            old = json.loads(zlib.decompress(_path(folder, fp).read_bytes()))
            if old.get("format") not in _READABLE:
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
        if not _diff_exactly(change, rule_id, was, now, moved):
            _diff_where(change, rule_id, was, now)
    old_priors, new_priors = old["priors"], new["priors"]
    change.doc_types = frozenset(t for t in {*old_priors, *new_priors}
                                 if old_priors.get(t) != new_priors.get(t))
    return change


def _diff_where(change: Change, rule_id: str, was: list | None, now: list | None) -> None:
    """An edited, added or removed rule: the texts where its old version matched and where its
    new one can match are analysed again."""
    if was is not None:  # where the old version matched
        label, patterns = was[1], was[3]
        if label.isupper():
            change.add_where(None, label, patterns)
        else:
            change.add_where(rule_id, None, None)
    if now is not None:  # where the new version can match, unless it matches as before
        label, patterns = now[1], now[3]
        if was is None or (was[1], was[3]) != (label, patterns):
            change.add_where(None, None, patterns)


def _diff_exactly(change: Change, rule_id: str, was: list | None, now: list | None,
                  moved: set) -> bool:
    """The edits told more exactly than where the rule matched or can match (format 2 on both
    sides, the rule in its place, its label, weight, kinds and tolerated cues unchanged): its
    conditions alone (``_Conditions``), its patterns (its old and new versions matched again
    on the text, ``Change.same_matches``), or a cue's conditions (never read). False: not
    one of these."""
    if was is not None and len(was) < 7 or now is not None and len(now) < 7:
        return False
    if was is not None and now is not None:
        if rule_id in moved or was[1] != now[1]:
            return False
        if not now[1].isupper():  # a cue's weight, kinds and conditions are never read
            if was[6] != now[6]:
                return False
            if (was[4], was[5]) != (now[4], now[5]):
                change.conditional.append(_Conditions(
                    rule_id, "otro" if now[1].startswith("doctype:") else None,
                    was[4], was[5], now[4], now[5],
                    _added_exclusions(was[4], was[5], now[4], now[5])))
        if was[3] != now[3]:
            change.add_rematch(rule_id, now[1], was[3], now[3])
        return True
    if was is not None and not was[1].isupper():
        return False  # a commitment or document-type rule removed: it matched where it did
    label = (was or now)[1]
    change.add_rematch(rule_id, label, was and was[3], now and now[3])
    return True


def _moved(before: list[str], after: list[str]) -> set[str]:
    """Rules (in both lists) whose order relative to the others changed: all but those of the
    longest runs kept in the same order (``difflib``; not always the fewest, never too few)."""
    import difflib

    blocks = difflib.SequenceMatcher(None, before, after, autojunk=False).get_matching_blocks()
    stay = {rule_id for a, _b, size in blocks for rule_id in before[a:a + size]}
    return set(before) - stay


@dataclass(frozen=True, slots=True)
class Touch:
    """What an edit may do to one text's reading (``Change.touches``): ``surely`` touch it (the
    text is analysed again), or touch it unless the old and new versions of the rules
    ``rematch`` match alike on its tokens (``Change.same_matches``); neither: the reading
    holds as it is."""

    surely: bool = False
    rematch: frozenset = frozenset()


_SURELY = Touch(surely=True)
_UNTOUCHED = Touch()


@dataclass(eq=False)
class Change:
    """An edit of the pattern data, as the texts it can touch: a text is touched when it is
    read as one of ``doc_types`` or any of ``triggers`` fires.

    A conditional trigger (``_Conditions``) fires where its rule matched and its conditions
    may hold differently.

    A trigger (rule id, label, needs) fires when the rule id is among the text's matched rules,
    the label among its cue labels and, with needs, one pattern's needs are among the bits of
    the text's (norm, lemma) pairs (None stands for no test). Each mandatory string spec of a
    pattern is a bit; a pair's bits are worked out once (``_bits``) and remembered across
    texts."""

    everything: bool = False
    doc_types: frozenset = frozenset()
    triggers: list = field(default_factory=list)
    conditional: list = field(default_factory=list)  # _Conditions
    rematch: dict = field(default_factory=dict)  # rule id -> (label, old patterns, new ones)
    _versions: object = None  # the RuleSet of their old and new versions
    _specs: dict = field(default_factory=dict)  # spec's tests (as JSON) -> bit
    _equal: tuple = field(default_factory=lambda: ({}, {}))  # column -> string -> bits
    _tested: list = field(default_factory=list)  # (bit, tests) not answered by _equal
    _pairs: dict = field(default_factory=dict)  # (norm, lemma) -> bits

    def add_where(self, rule_id: str | None, label: str | None, patterns: list | None,
                  rematch: str | None = None) -> None:
        """A trigger; ``patterns``: where they can match (None: anywhere). ``rematch``: the
        rule whose versions are matched again where it fires (``same_matches``) rather than
        the text analysed again."""
        needs = None if patterns is None else [self._needs(p) for p in patterns]
        if needs is not None and 0 in needs:  # a pattern that may match anywhere
            needs = None
        if rule_id is None and label is None and needs is None and rematch is None:
            self.everything = True
        chains = None if needs is None else [self._chain(p) for p in patterns]
        self.triggers.append((rule_id, label, needs, chains, rematch))

    def add_rematch(self, rule_id: str, label: str, old: list | None, new: list | None
                    ) -> None:
        """A rule whose patterns alone changed (``old``, ``new``: its versions' patterns; None
        when it was added or removed): where its old version may have matched or its new one
        may match, both are matched again on the text's tokens."""
        self.rematch[rule_id] = (label, old, new)
        # a pattern of both versions matches alike in both: the rule's matches (the longest per
        # start token of its patterns' matches) can differ only where one of the others
        # matches (a pattern added as an alternative, a line of the rule removed or edited)
        gone = [] if old is None else old if new is None else [p for p in old if p not in new]
        added = [] if new is None else new if old is None else [p for p in new if p not in old]
        if gone:
            if label.isupper():
                self.add_where(None, label, gone, rematch=rule_id)
            else:
                self.add_where(rule_id, None, gone, rematch=rule_id)
        if added:
            self.add_where(None, None, added, rematch=rule_id)

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

    def _chain(self, pattern: list) -> tuple:
        """Where a pattern's tested tokens must stand in a text for it to match: its mandatory
        steps with string tests, in order, as (bit, least, most), ``least`` and ``most`` the
        tokens a match can take from the previous such step's first token to this one's (the
        previous step's own repetitions and those of the steps between; unbounded for ``*``,
        ``+`` and ``!``); the first step's bounds are not read. A pattern can match only where
        its tested steps' tokens stand so; ``_placed`` looks for such places in a text's token
        sequence."""
        from classifiers.rules import _quantifier

        chain = []
        least = most = 0
        for spec in pattern:
            bounds = _quantifier(spec.get("OP", "1"))
            lo, hi = (0, float("inf")) if bounds is None else bounds
            tests = _string_tests(spec) if lo >= 1 else None
            if tests:
                chain.append((self._bit(tests), least, most))
                least, most = lo, hi
            else:
                least, most = least + lo, most + hi
        return tuple(chain)

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

    def touches(self, seen: dict | None) -> Touch:
        """Whether this edit may change the reading of a text where ``seen`` was found
        (``readings.seen_in``: ``doc_type``, ``rules``, ``labels``, ``scoped``, ``pairs``, a
        flat list norm, lemma, norm, …, or None when unknown; None: nothing is known): surely,
        not at all, or unless the rules ``Touch.rematch`` match alike on its tokens
        (``same_matches``)."""
        if self.everything or seen is None or seen["doc_type"] in self.doc_types:
            return _SURELY
        if not self.triggers and not self.conditional:
            return _UNTOUCHED
        rules, labels = set(seen["rules"]), set(seen["labels"])
        if self.conditional:
            scoped = {scope: set(found) for scope, found in (seen.get("scoped") or {}).items()}
            known: dict = {}  # condition -> its truth in this text, for the rules sharing it
            for edit in self.conditional:
                if edit.rule_id in rules and edit.differ(labels, scoped, seen["doc_type"],
                                                         known):
                    return _SURELY
        have = bits = places = None
        again = set()
        for rule_id, label, needs, chains, rematch in self.triggers:
            if rematch is not None and rematch in again:
                continue
            if rule_id is not None and rule_id not in rules:
                continue
            if label is not None and label not in labels:
                continue
            if needs is not None:
                if have is None:
                    have, bits = self._have(seen["pairs"])
                if have is not None:
                    fit = [k for k, need in enumerate(needs) if need & have == need]
                    if not fit:
                        continue
                    if places is None:
                        places = _places(seen.get("seq"), bits)
                    if places and not any(_placed(chains[k], places) for k in fit):
                        continue
            if rematch is None:
                return _SURELY
            again.add(rematch)
        return Touch(rematch=frozenset(again)) if again else _UNTOUCHED

    def same_matches(self, doc, rule_ids) -> bool:
        """Whether the old and the new versions of the rules ``rule_ids`` (of ``rematch``)
        match alike in ``doc`` (an ExtractedDocument): the same (rule, start, end) in each
        of its tagged blocks, tagged as ``engine.analyse`` tags them (from the annotation
        cache). Then every other match is as before, and so are the units' labels and the
        reading: a rule's matches do not depend on the other rules (``RuleSet.match``: the
        longest match per rule and start token; ordered by start, then load order, which the
        rules kept in place keep)."""
        from classifiers import token_rows
        from classifiers.annotation_cache import read_plain, tag_texts
        from classifiers.engine import _chunks
        from classifiers.units import split_blocks

        versions = self._versions_ruleset()
        ids = frozenset(rule_ids)
        for chunk in _chunks(split_blocks(doc.pages), defaults.TAG_CHUNK_CHARS):
            texts = [block.text for block in chunk]
            # the cached tokens read and matched without srsly or numpy (token_rows.py), else
            # as engine.analyse tags them
            docs = read_plain(texts) if versions.fallback is None else None
            docs = tag_texts(texts) if docs is None else map(token_rows.MatchView, docs)
            for tagged in docs:
                found: tuple = ([], [])
                for rule_id, start, end in versions.match(tagged):
                    which, _, original = rule_id.partition("\x00")
                    if original in ids:
                        found[which == "new"].append((original, start, end))
                if sorted(found[0]) != sorted(found[1]):
                    return False
        return True

    def _versions_ruleset(self):
        """One RuleSet of the old and the new versions of the rules of ``rematch`` (their ids
        prefixed ``old\x00``, ``new\x00``): the text is walked once for both."""
        if self._versions is None:
            from classifiers.rules import Rule, RuleSet

            ruleset = RuleSet()
            for k, which in ((1, "old"), (2, "new")):
                for rule_id, version in self.rematch.items():
                    if version[k] is not None:
                        name = f"{which}\x00{rule_id}"
                        ruleset.rules[name] = Rule(name, version[0])
                        ruleset.patterns[name] = version[k]
            ruleset.build_matcher()  # both were validated when they were in force
            self._versions = ruleset
        return self._versions

    def _have(self, pairs: list | None) -> tuple[int | None, list | None]:
        """The bits of a text's pairs together, and each pair's (None: its pairs are
        unknown)."""
        if pairs is None:
            return None, None
        known = self._pairs
        have = 0
        each = []
        it = iter(pairs)
        for norm, lemma in zip(it, it, strict=True):
            bits = known.get((norm, lemma))
            if bits is None:
                bits = known[(norm, lemma)] = self._bits(norm, lemma)
            have |= bits
            each.append(bits)
        return have, each

    def _bits(self, norm: str, lemma: str) -> int:
        strings = (norm, lemma)
        bits = self._equal[_NORM].get(norm, 0) | self._equal[_LEMMA].get(lemma, 0)
        for bit, tests in self._tested:
            if all(test(strings[col]) for col, _kind, test in tests):
                bits |= bit
        return bits


def _places(seq: list | None, bits: list) -> list | bool:
    """The bits of each token of a text in order (``readings.seen_in``'s ``seq``: each token's
    pair, ``-1`` between two tagged blocks, which holds no bit and so no tested step); False
    when the sequence is not known (an entry written before it was kept, or too long): an edit
    is then judged by the pairs alone."""
    if not seq:
        return False
    return [bits[k] if k >= 0 else 0 for k in seq]


def _placed(chain: tuple, places: list) -> bool:
    """Whether a pattern's tested steps (``Change._chain``) can stand in this token sequence:
    a token passing each step's tests, each at ``least`` to ``most`` tokens after a token that
    passed the step before (a necessary condition of a match; its other tests, POS,
    morphology, ``NOT_IN``, are left to the matcher)."""
    from bisect import bisect_left

    if not chain:
        return True
    bit = chain[0][0]
    found = [i for i, have in enumerate(places) if have & bit == bit]
    for bit, least, most in chain[1:]:
        if not found:
            return False
        after = []
        for i, have in enumerate(places):
            if have & bit == bit:
                k = bisect_left(found, i - most)  # the first place not too far before i
                if k < len(found) and found[k] <= i - least:
                    after.append(i)
        found = after
    return bool(found)


@dataclass(frozen=True, slots=True)
class _Conditions:
    """An edit of one rule's conditions alone: the old and the new ``requires`` and
    ``excludes``. ``doc_type``: the document type they are judged under when it is not the
    text's ("otro" for a document-type rule: ``engine.detect_doc_type`` judges them before the
    type is set)."""

    rule_id: str
    doc_type: str | None
    old_requires: list
    old_excludes: list
    new_requires: list
    new_excludes: list
    added: list | None  # ``_added_exclusions``

    def differ(self, labels: set, scoped: dict, doc_type: str, known: dict | None = None
               ) -> bool:
        """Whether the conditions may hold differently at a unit of a text with these cue
        labels (``scoped``: those of some scopes, ``readings._scoped_labels``; a scope not in it
        reads ``labels``) and document type (``engine._Context.failure``; ``known``: the
        truth of conditions already told, for this text and document type): the requirements
        as the set of their groups, each the set of its alternatives that may hold (a group
        with one that surely holds left out), and the exclusions, in order, that may hold (up
        to the first that surely holds), the same on both sides: then every unit fails them
        for the same reason or holds them."""
        if self.doc_type is not None and self.doc_type != doc_type:
            doc_type, known = self.doc_type, None
        text = (labels, scoped, doc_type, {} if known is None else known)
        if self.added is not None:  # exclusions added or removed, the others as they were
            return any(_known(cond, *text) is not False for cond in self.added)
        return (_excludes(self.old_excludes, *text) != _excludes(self.new_excludes, *text)
                or _requires(self.old_requires, *text) != _requires(self.new_requires, *text))


def _added_exclusions(old_requires: list, old: list, new_requires: list, new: list
                      ) -> list | None:
    """The exclusions on one side only, when the requirements are the same and the exclusions
    on both keep their order (then the lists differ once those that cannot hold are dropped
    only if one of these may hold); None otherwise."""
    if old_requires != new_requires:
        return None
    both = set(old) & set(new)
    if len(set(old)) != len(old) or len(set(new)) != len(new) or \
            [c for c in old if c in both] != [c for c in new if c in both]:
        return None
    return [c for c in (*old, *new) if c not in both]


def _requires(groups: list, labels: set, scoped: dict, doc_type: str, memo: dict
              ) -> frozenset:
    out = set()
    for group in groups:
        known = [_known(cond, labels, scoped, doc_type, memo) for cond in group]
        if True in known:
            continue
        out.add(frozenset(c for c, v in zip(group, known, strict=True) if v is None))
    return frozenset(out)


def _excludes(conds: list, labels: set, scoped: dict, doc_type: str, memo: dict) -> list:
    out = []
    for cond in conds:
        known = _known(cond, labels, scoped, doc_type, memo)
        if known is False:
            continue
        out.append(cond)
        if known:
            break
    return out


def _known(cond: str, labels: set, scoped: dict, doc_type: str, memo: dict) -> bool | None:
    try:
        return memo[cond]
    except KeyError:
        value = memo[cond] = _value(cond, labels, scoped, doc_type)
        return value


def _value(cond: str, labels: set, scoped: dict, doc_type: str) -> bool | None:
    """A condition's truth at every unit of a text (``engine._Context.holds``), when the
    text's cue labels and document type tell it: every scope reads the labels of some unit, so
    a cue absent from the text (or from what its scope reads) holds nowhere; None when it
    depends on the unit."""
    if "&" in cond:
        parts = [_value(part, labels, scoped, doc_type) for part in cond.split("&")]
        return False if False in parts else True if all(parts) else None
    if cond.startswith("!"):
        inner = _value(cond[1:], labels, scoped, doc_type)
        return None if inner is None else not inner
    scope, _, name = cond.rpartition(":")
    if scope == "doctype":
        return doc_type == name
    return False if name not in scoped.get(scope, labels) else None


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
