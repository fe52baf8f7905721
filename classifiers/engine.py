"""From an ExtractedDocument to scored evidence per commitment.

The pipeline, top to bottom: ``split_blocks`` (lines to paragraphs, rows, items, headings), tag
the blocks with spaCy, ``make_units`` (sentences, rows, items), run the one Matcher built from
the pattern files, ``detect_doc_type``, ``judge_matches`` (requires/excludes contexts and the
negation/intention scope), ``score`` per commitment. ``classify`` in ``__init__`` turns the
scores into calibrated results.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from dataclasses import dataclass

from classifiers import defaults
from classifiers.annotation_cache import annotation_dir, tag_texts
from classifiers.nlp import get_vocab
from classifiers.result import COMMITMENT_IDS, DOC_TYPES
from classifiers.rules import EXTERNAL_LABEL, Rule, RuleSet, load_rules
from classifiers.scope import SCOPE_CUES, clause_ids
from classifiers.units import Spill, Unit, make_units, split_blocks

__all__ = ["Analysis", "Candidate", "UnitEvidence", "analyse", "get_ruleset", "load_priors"]

_lock = threading.Lock()
_ruleset: RuleSet | None = None
_priors: dict | None = None


def get_ruleset() -> RuleSet:
    """The patterns, loaded and compiled once per process. spaCy validates them the first time
    these very patterns are loaded with an annotation cache in use, which then remembers it
    (``_validated``): a process reprocessing cached text needs no spaCy at all."""
    global _ruleset
    if _ruleset is None:
        with _lock:
            if _ruleset is None:
                rs = load_rules()
                marker = _validated(rs)
                if marker is not None and marker.exists():
                    rs.build_matcher()
                else:
                    rs.build_matcher(get_vocab())
                    _remember(marker)
                _ruleset = rs
    return _ruleset


def _validated(ruleset: RuleSet):
    """Where the validation of these patterns is remembered (None: no annotation cache)."""
    folder = annotation_dir()
    return None if folder is None else folder / "patterns-validated" / ruleset.fingerprint()


def _remember(marker) -> None:
    if marker is None:
        return
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
    except OSError:
        pass  # validated again next time


def load_priors() -> dict:
    """Document-type priors (patterns/priors.json): added to a commitment's score when the
    document already holds evidence for it, e.g. an acta for c1."""
    global _priors
    if _priors is None:
        data = json.loads((defaults.PATTERNS_DIR / "priors.json").read_text(encoding="utf-8"))
        _priors = data["doc_type_prior"]
    return _priors


@dataclass(slots=True)
class UnitEvidence:
    unit: Unit
    rule_ids: list[str]
    score: float


@dataclass(slots=True)
class Candidate:
    """A unit where a commitment's pattern matched, whether or not its conditions held: what the
    rules propose to the second stage (classifiers/second_stage.py)."""

    unit: Unit
    matched: list[str]  # ids of the commitment's rules whose pattern matched here
    valid: list[str]  # those whose requires/excludes/scope held, heaviest first
    blocked: set[str]  # why the others did not count: "requires", "excludes:<cond>", "scope:<CUE>"
    score: float  # the rules' score of the unit (0.0 when no rule is valid)


@dataclass(slots=True)
class Analysis:
    doc_type: str
    evidence: dict[str, list[UnitEvidence]]  # per commitment, best first
    scores: dict[str, float]  # raw score per commitment
    candidates: dict[str, list[Candidate]]  # per commitment, in document order
    context: object = None  # the _Context the rules were judged in (units, cue labels)


def analyse(doc) -> Analysis:
    ruleset = get_ruleset()
    blocks = split_blocks(doc.pages)
    units, labels = _tag_and_match(blocks, ruleset)
    ctx = _Context(units, labels)
    doc_type = detect_doc_type(ctx, ruleset)
    ctx.doc_type = doc_type
    candidates = judge_matches(ctx, ruleset)
    evidence = {
        cid: sorted(
            (UnitEvidence(c.unit, c.valid, c.score) for c in cands if c.valid),
            key=lambda e: (-e.score, e.unit.index),
        )
        for cid, cands in candidates.items()
    }
    return Analysis(doc_type, evidence, score(evidence, doc_type), candidates, ctx)


def _tag_and_match(blocks: list, ruleset: RuleSet) -> tuple[list[Unit], list[dict]]:
    """Units and their labels, tagged and matched a chunk of blocks at a time (about
    ``TAG_CHUNK_CHARS`` of text). A document of more than one chunk moves each chunk's tagged
    text to a ``Spill`` once it is matched, so its tokens are held a chunk at a time: what stays
    is the units, their labels and matches. Every step is per block, so the result is the one
    of tagging and matching all blocks at once."""
    chunks = list(_chunks(blocks, defaults.TAG_CHUNK_CHARS))
    spill = Spill() if len(chunks) > 1 else None
    units: list[Unit] = []
    labels: list[dict] = []
    same: dict[tuple, tuple] = {}  # one tuple object for each distinct span or match
    for chunk in chunks:
        tagged = tag_texts([b.text for b in chunk])
        new = make_units(chunk, tagged, first_index=len(units))
        labels.extend(_run_matcher(new, tagged, ruleset, same))
        units.extend(new)
        if spill is not None:
            spill.keep(new, tagged)
    return units, labels


def _chunks(blocks: list, size: int):
    """Consecutive runs of blocks of about ``size`` characters (at least one block each)."""
    chunk: list = []
    chars = 0
    for block in blocks:
        if chunk and chars + len(block.text) > size:
            yield chunk
            chunk, chars = [], 0
        chunk.append(block)
        chars += len(block.text)
    if chunk or not blocks:
        yield chunk


def _run_matcher(units, tagged, ruleset: RuleSet, same: dict | None = None
                 ) -> list[dict[str, list[tuple[int, int]]]]:
    """Per unit (in the order of ``units``): label -> token spans; commitment and doctype
    matches go to unit.matches. ``same`` shares equal tuples across units and chunks: a long
    document repeats the same (start, end) spans of its short block documents thousands of
    times, and a tuple each was most of what it kept (~50 bytes a label, ~500 labels a page)."""
    same = {} if same is None else same
    by_doc: dict[int, list[Unit]] = defaultdict(list)
    for u in units:
        by_doc[id(u.span.doc)].append(u)
    labels: list[dict] = [defaultdict(list) for _ in units]
    base = units[0].index if units else 0
    label_of, is_cue = _rule_labels(ruleset)
    for doc in tagged:
        doc_units = by_doc.get(id(doc), [])
        if not doc_units:
            continue
        found = ruleset.match(doc)
        # names of programmes, agencies, international organisations and laws (EXTERNAL): the
        # words inside them are nobody's own structure, action, alliance or rule; a match that
        # starts or ends inside one is the name's too ("el programa Sello Migrante": the
        # programme word is the seal's; "la Dirección del Trabajo promueve la inclusión": the
        # unit word is the agency's); a cue only when wholly inside (LAW_SPEAKS starts at the
        # law's name)
        names = [(s, e) for r, s, e in found if label_of[r] == EXTERNAL_LABEL]
        spans = [u.span for u in doc_units]
        starts = [span.start for span in spans]
        ends = [span.end for span in spans]
        rows = [labels[u.index - base] for u in doc_units]
        # units of a doc are in order and disjoint, matches come by start: walk them together
        k, last = 0, len(doc_units) - 1
        for rule_id, start, end in found:
            label = label_of[rule_id]
            if names and label != EXTERNAL_LABEL and (
                any(s <= start and end <= e for s, e in names) if is_cue[rule_id]
                else any(s <= start < e or s < end <= e for s, e in names)
            ):
                continue
            while k < last and starts[k + 1] <= start:
                k += 1
            j = k if starts[k] <= start < ends[k] else 0
            span = (start, end)
            rows[j][label].append(same.setdefault(span, span))
            if not is_cue[rule_id]:
                match = (rule_id, start, end)
                doc_units[j].matches.append(same.setdefault(match, match))
    return labels


#: (the rule set last matched with, rule id -> label, rule id -> whether the label is a cue)
_labels: tuple = (None, {}, {})


def _rule_labels(ruleset: RuleSet) -> tuple[dict[str, str], dict[str, bool]]:
    global _labels
    known = _labels
    if known[0] is not ruleset:
        label_of = {rule_id: rule.label for rule_id, rule in ruleset.rules.items()}
        known = _labels = (ruleset, label_of, {r: label.isupper() for r, label in label_of.items()})
    return known[1], known[2]


class _Context:
    """Where the conditions of a rule are looked up."""

    def __init__(self, units: list[Unit], labels: list[dict]):
        self.units = units
        self.labels = labels
        self.doc_type = "otro"
        self.doc_labels: set[str] = set()
        self.heading_labels: dict[str, set[str]] = defaultdict(set)
        self.header_labels: dict[str, set[str]] = defaultdict(set)
        self.title_labels: set[str] = set()
        self._last: dict[str, int] = {}
        first_page = units[0].page if units else 1
        for u, lab in zip(units, labels, strict=True):
            self.doc_labels.update(lab)
            if u.page == first_page and u.index < defaults.TITLE_UNITS:
                self.title_labels.update(lab)
            if u.kind == "heading" or u.block.heading == u.block.text:
                self.heading_labels[u.block.text].update(lab)
            elif u.block.header_row:
                self.header_labels[u.block.text].update(lab)

    def holds(self, cond: str, unit: Unit) -> bool:
        """A rule condition at ``unit``: ``A&B`` all of them, ``!A`` not A (see rules.py)."""
        if "&" in cond:
            return all(self.holds(part, unit) for part in cond.split("&"))
        if cond.startswith("!"):
            return not self.holds(cond[1:], unit)
        scope, _, name = cond.rpartition(":")
        if not scope:
            return name in self.labels[unit.index]
        if scope == "near":
            i = unit.index
            for j in (i - 1, i, i + 1):
                if 0 <= j < len(self.units) and self.units[j].page == unit.page:
                    if name in self.labels[j]:
                        return True
            return False
        if scope == "header":
            header = self.header_labels.get(unit.block.table_header, ())
            return unit.kind == "row" and name in header
        if scope == "section":
            if unit.kind == "row" and name in self.header_labels.get(unit.block.table_header, ()):
                return True
            return name in self.heading_labels.get(unit.block.heading, ())
        if scope == "doc":
            return name in self.doc_labels
        if scope == "title":
            return name in self.title_labels
        if scope == "doctype":
            return self.doc_type == name
        if scope == "block":
            return any(name in self.labels[u.index] for u in self._block_units(unit))
        if scope == "lead":
            lead = self._lead(unit)
            return lead is not None and name in self.labels[lead.index]
        if scope == "after":
            following = self.units[unit.index + 1: unit.index + 1 + defaults.AFTER_UNITS]
            return any(name in self.labels[u.index] for u in following)
        if scope == "later":
            return self._last_unit(name) > unit.index
        return False

    def _last_unit(self, name: str) -> int:
        """Index of the last unit labelled ``name`` (-1 when none): ``later:`` in one lookup."""
        last = self._last.get(name)
        if last is None:
            last = max((u.index for u, lab in zip(self.units, self.labels, strict=True)
                        if name in lab), default=-1)
            self._last[name] = last
        return last

    def _block_units(self, unit: Unit) -> list[Unit]:
        """The units cut from the same block (a paragraph's sentences), or the list or table the
        unit belongs to."""
        i = unit.index
        same = (lambda u: u.block is unit.block) if unit.kind not in ("item", "row") else (
            lambda u: u.kind == unit.kind and u.page == unit.page)
        lo = i
        while lo > 0 and same(self.units[lo - 1]):
            lo -= 1
        hi = i
        while hi + 1 < len(self.units) and same(self.units[hi + 1]):
            hi += 1
        return self.units[lo: hi + 1]

    def _lead(self, unit: Unit) -> Unit | None:
        """For a list item: the last non-item unit before its list (the lead-in sentence)."""
        if unit.kind != "item":
            return None
        j = unit.index - 1
        while j >= 0 and self.units[j].kind == "item":
            j -= 1
        return self.units[j] if j >= 0 else None

    def satisfied(self, rule: Rule, unit: Unit) -> bool:
        return not self.failure(rule, unit)

    def failure(self, rule: Rule, unit: Unit) -> str:
        """"" when the rule's conditions hold at ``unit``; else "requires" or "excludes:<cond>"."""
        for group in rule.requires:
            if not any(self.holds(c, unit) for c in group):
                return "requires"
        for cond in rule.excludes:
            if self.holds(cond, unit):
                return f"excludes:{cond}"
        return ""


def detect_doc_type(ctx: _Context, ruleset: RuleSet) -> str:
    """Title cues (first units of page 1 weigh most) and structure (an attendance table)."""
    scores = dict.fromkeys(DOC_TYPES, 0.0)
    first_page = ctx.units[0].page if ctx.units else 1
    seen: set[tuple[str, int]] = set()
    for u in ctx.units:
        for rule_id, _s, _e in u.matches:
            rule = ruleset.rules[rule_id]
            dt = rule.doc_type
            in_title = u.page == first_page and u.index < defaults.TITLE_UNITS
            # the title region counts whatever its layout (a long title reads as a sentence)
            if dt is None or (u.kind not in rule.kinds | {"heading"} and not in_title):
                continue
            if (rule_id, u.index) in seen or not ctx.satisfied(rule, u):
                continue
            seen.add((rule_id, u.index))
            if in_title and u.kind not in rule.kinds | {"heading"}:
                factor = 0.5  # a sentence-like title: counts, but less than a real heading
            elif in_title:
                factor = 1.0
            elif u.page == first_page:
                factor = 0.35
            else:
                factor = 0.15
            scores[dt] += rule.weight * factor
    best = max(scores, key=lambda k: scores[k])
    if scores[best] < 1.0:
        best = "otro"
    return best


def judge_matches(ctx: _Context, ruleset: RuleSet) -> dict[str, list[Candidate]]:
    """Every unit where a commitment's pattern matched, with the rules that count there after
    contexts, hard negatives and scope, and why the others do not."""
    per_commitment: dict[str, list[Candidate]] = {c: [] for c in COMMITMENT_IDS}
    for u in ctx.units:
        if not u.matches or not u.evidence_eligible:
            continue
        lab = ctx.labels[u.index]
        clauses = None
        found: dict[str, Candidate] = {}
        valid: dict[str, dict[str, float]] = defaultdict(dict)
        for rule_id, start, _end in u.matches:
            rule = ruleset.rules[rule_id]
            if not rule.is_commitment or u.kind not in rule.kinds:
                continue
            cand = found.get(rule.label)
            if cand is None:
                cand = found[rule.label] = Candidate(u, [], [], set(), 0.0)
            if rule_id in valid[rule.label]:
                continue
            if rule_id not in cand.matched:
                cand.matched.append(rule_id)
            why = ctx.failure(rule, u)
            if why:
                cand.blocked.add(why)
                continue
            blocking = [c for c in SCOPE_CUES if c in lab and c not in rule.tolerates]
            if blocking:
                if clauses is None:
                    clauses = _clauses(u, lab)
                clause = clauses.get(start, -1)
                hit = next(
                    (c for c in blocking for s, _e in lab[c] if clauses.get(s, -2) == clause),
                    None,
                )
                if hit:
                    cand.blocked.add(f"scope:{hit}")
                    continue
            valid[rule.label][rule_id] = rule.weight
        for cid, cand in found.items():
            rules = valid.get(cid)
            if rules:
                weights = sorted(rules.values(), reverse=True)
                cand.score = round(weights[0] + 0.3 * sum(weights[1:3]), 4)
                cand.valid = sorted(rules, key=lambda r: -rules[r])
            per_commitment[cid].append(cand)
    return per_commitment


def _clauses(unit: Unit, lab: dict) -> dict[int, int]:
    boundary = {s for s, _e in lab.get("BOUNDARY", ())}
    concessive = {s for s, _e in lab.get("CONCESSIVE", ())}
    ids = clause_ids(unit.span, boundary, concessive)
    return {tok.i: cid for tok, cid in zip(unit.span, ids, strict=True)}


def score(evidence: dict[str, list[UnitEvidence]], doc_type: str) -> dict[str, float]:
    """Best unit, plus half the second and a quarter of the third, plus the doc-type prior."""
    priors = load_priors().get(doc_type, {})
    out = {}
    for cid in COMMITMENT_IDS:
        units = evidence[cid]
        if not units:
            out[cid] = 0.0
            continue
        tops = [e.score for e in units[:3]]
        raw = sum(w * s for w, s in zip((1.0, 0.5, 0.25), tops, strict=False))
        out[cid] = round(raw + float(priors.get(cid, 0.0)), 4)
    return out
