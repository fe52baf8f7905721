"""What the learned second stage sees of a candidate passage and of a document.

The rules (engine.analyse) propose candidates: units where a commitment's pattern matched, with
the rules that held there and why the others did not. Each candidate becomes a sparse dict of
named features: the rule ids (held or blocked, and why), the cue labels of the unit, of its
neighbours, of its section heading and of the document's title, the document type, the unit's
kind, quotation flags, lemma unigrams and bigrams of the unit and lemma unigrams of its neighbour
units. The names are readable (``rule:c1.named_structure``, ``cue:NEG``, ``w:comite``) so a weight
in the model artefact says what it rewards. Everything here reuses the spaCy annotations of the
first pass: no second tagging.

Change FEATURE_VERSION whenever a feature's meaning changes: a model trained on other features is
then refused (second_stage.py).
"""

from __future__ import annotations

import math

from classifiers import defaults
from classifiers.scope import QUOTES, quoted_spans
from classifiers.tokens import LEMMA, ORTH, is_content_word
from classifiers.units import SpilledSpan

__all__ = ["FEATURE_VERSION", "candidate_features", "candidate_parts", "document_features"]

FEATURE_VERSION = 2

_SCOPE_LABELS = ("NEG", "INTENT", "FUTURE")


def _quoted_tokens(span) -> set[int]:
    """Doc indices of the tokens between quotation marks."""
    return {k for first, last in quoted_spans(span) for k in range(first + 1, last)}


#: word id -> 1 for a content word, 2 for a quotation mark, 0 otherwise (ids are hashes of the
#: words: the same in every vocabulary, and for spaCy's Docs and the cache's token arrays)
_KINDS: dict[int, int] = {}


def _kind(text: str) -> int:
    return 1 if is_content_word(text) else 2 if text in QUOTES else 0


def _tokens(unit, cache: dict) -> tuple[list[str], bool]:
    """(content lemmas (already folded by nlp.py): no stop words, punctuation or numbers;
    whether a quotation mark is among the tokens) of ``unit``, read from its document's token
    array (the word and lemma ids, read once per document and kept in ``cache``) instead of a
    Token object per word; whether a word is a content word (``is_alpha``, not ``is_stop``, more
    than two characters: lexical attributes, functions of the word's text) is asked once per
    word. The lemmas are ``[t.lemma_ for t in span if t.is_alpha and not t.is_stop and
    len(t.text) > 2]`` (tests/classifiers/test_second_stage.py checks it on the corpus). A unit
    whose tokens were spilled (a long document) is read token by token: its document is not
    kept."""
    ref = unit.ref
    if type(ref) is SpilledSpan:
        span = ref.load()
        doc, start, end = span.doc, span.start, span.end
        columns = doc.to_array([ORTH, LEMMA])[start:end].T.tolist()
        start, end = 0, end - start
    else:
        doc, start, end = ref.doc, ref.start, ref.end
        key = ("doc", id(doc))
        found = cache.get(key)
        if found is None or found[0] is not doc:
            found = cache[key] = (doc, doc.to_array([ORTH, LEMMA]).T.tolist())
        columns = found[1]
    strings = doc.vocab.strings
    kinds = _KINDS
    orths, lemma_ids = columns if columns else ((), ())
    lemmas = []
    quoted = False
    for k in range(start, end):
        orth = orths[k]
        kind = kinds.get(orth)
        if kind is None:
            if len(kinds) > 500_000:
                kinds.clear()
            kind = kinds[orth] = _kind(strings[orth])
        if kind == 1:
            lemmas.append(strings[lemma_ids[k]])
        elif kind == 2:
            quoted = True
    return lemmas, quoted


def candidate_features(cand, ctx, doc_type: str, ocr: bool,
                       cache: dict | None = None) -> dict[str, float]:
    """Features of one candidate passage (engine.Candidate) in its document context. ``cache``
    (a dict per document) keeps the features of a unit shared by several commitments' candidates.
    """
    shared, extra = candidate_parts(cand, ctx, doc_type, ocr, cache)
    f = dict(shared)
    f.update(extra)
    return f


def candidate_parts(cand, ctx, doc_type: str, ocr: bool, cache: dict | None = None
                    ) -> tuple[dict[str, float], list[tuple[str, float]]]:
    """``candidate_features`` in two parts: the unit's features (the same dict for every
    candidate of the unit: do not change it) and the candidate's own, in order; none of the
    latter's names is among the former's, so the features are the first followed by the
    second (second_stage.py scores the unit's part once per unit and commitment)."""
    unit = cand.unit
    cache = {} if cache is None else cache
    shared = cache.get(unit.index)
    if shared is None:
        shared = cache[unit.index] = _unit_features(unit, ctx, doc_type, ocr, cache)
    extra = [(f"rule:{rule_id}", 1.0) for rule_id in cand.valid]
    extra += [(f"blocked:{rule_id}", 1.0) for rule_id in cand.matched
              if rule_id not in cand.valid]
    extra += [(f"why:{why}", 1.0) for why in sorted(cand.blocked)]  # a set: one order
    extra.append(("score", min(cand.score, 4.0) / 2.0))
    extra.append(("held", 1.0 if cand.valid else 0.0))
    if "quote:unit" in shared:
        quoted = _cached_quoted(unit, cache)
        starts = {s for rule_id, s, _e in unit.matches if rule_id in cand.matched}
        if starts and starts <= quoted:
            extra.append(("quote:match_inside", 1.0))
    return shared, extra


def _cached_tokens(unit, cache: dict) -> tuple[list[str], bool]:
    key = ("tokens", unit.index)
    found = cache.get(key)
    if found is None:
        found = cache[key] = _tokens(unit, cache)
    return found


def _cached_quoted(unit, cache: dict) -> set[int]:
    key = ("quoted", unit.index)
    found = cache.get(key)
    if found is None:
        found = cache[key] = (_quoted_tokens(unit.span) if _cached_tokens(unit, cache)[1]
                              else set())
    return found


def _unit_features(unit, ctx, doc_type: str, ocr: bool, cache: dict | None = None
                   ) -> dict[str, float]:
    """The features of a unit whatever commitment it is a candidate for."""
    cache = {} if cache is None else cache
    f: dict[str, float] = {}
    labels = ctx.labels[unit.index]
    for label in labels:
        if label.isupper():
            f[f"cue:{label}"] = 1.0
    units = ctx.units
    neighbours = [units[j] for j in (unit.index - 1, unit.index + 1) if 0 <= j < len(units)]
    for other in neighbours:
        for label in ctx.labels[other.index]:
            if label.isupper():
                f[f"near:{label}"] = 1.0
    # the section's and the title's labels are sets: sorted, so that a unit's features (kept in
    # the reading cache, summed by the model) come in the same order in every process
    for label in sorted(ctx.heading_labels.get(unit.block.heading, ())):
        if label.isupper():
            f[f"section:{label}"] = 1.0
    for label in sorted(ctx.title_labels):
        if label.isupper():
            f[f"title:{label}"] = 1.0
    f[f"doctype:{doc_type}"] = 1.0
    f[f"kind:{unit.kind}"] = 1.0
    if ocr:
        f["ocr"] = 1.0
    quoted = _cached_quoted(unit, cache)
    if quoted:
        f["quote:unit"] = 1.0
        for label in _SCOPE_LABELS:
            spans = labels.get(label, ())
            if spans and all(s in quoted for s, _e in spans):
                f[f"quote:{label}_inside"] = 1.0
    lemmas = _cached_tokens(unit, cache)[0]
    for lemma in lemmas:
        f[f"w:{lemma}"] = 1.0
    for a, b in zip(lemmas, lemmas[1:], strict=False):
        f[f"b:{a}_{b}"] = 1.0
    for other in neighbours:
        for lemma in _cached_tokens(other, cache)[0]:
            f[f"nw:{lemma}"] = 1.0
    f["position"] = round(unit.index / max(1, len(units) - 1), 3)
    return f


def document_features(probabilities: list[float], raw_score: float, n_candidates: int,
                      doc_type: str) -> dict[str, float]:
    """Features of one commitment in one document: how strong its best passages are for the
    passage model, the rules' own score, and the document type."""
    ranked = sorted(probabilities, reverse=True) + [0.0, 0.0, 0.0]
    f = {
        "p1": ranked[0],
        "p2": ranked[1],
        "p3": ranked[2],
        "n_likely": min(sum(p >= 0.5 for p in probabilities), 3) / 3,
        "candidates": math.log1p(n_candidates) / 3,
        "rule_score": min(raw_score, 6.0) / 3,
        "rule_over_threshold": 1.0 if raw_score >= defaults.DEFAULT_THRESHOLD else 0.0,
        f"doctype:{doc_type}": 1.0,
    }
    return f
