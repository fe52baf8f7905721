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
from classifiers.scope import quoted_spans

__all__ = ["FEATURE_VERSION", "candidate_features", "document_features"]

FEATURE_VERSION = 2

_SCOPE_LABELS = ("NEG", "INTENT", "FUTURE")


def _lemmas(span) -> list[str]:
    """Content lemmas (already folded by nlp.py): no stop words, punctuation or numbers."""
    return [
        t.lemma_ for t in span
        if t.is_alpha and not t.is_stop and len(t.text) > 2
    ]


def _quoted_tokens(span) -> set[int]:
    """Doc indices of the tokens between quotation marks."""
    return {k for first, last in quoted_spans(span) for k in range(first + 1, last)}


def candidate_features(cand, ctx, doc_type: str, ocr: bool,
                       cache: dict | None = None) -> dict[str, float]:
    """Features of one candidate passage (engine.Candidate) in its document context. ``cache``
    (a dict per document) keeps the features of a unit shared by several commitments' candidates.
    """
    unit = cand.unit
    shared = cache.get(unit.index) if cache is not None else None
    if shared is None:
        shared = _unit_features(unit, ctx, doc_type, ocr)
        if cache is not None:
            cache[unit.index] = shared
    f = dict(shared)
    for rule_id in cand.valid:
        f[f"rule:{rule_id}"] = 1.0
    for rule_id in cand.matched:
        if rule_id not in cand.valid:
            f[f"blocked:{rule_id}"] = 1.0
    for why in cand.blocked:
        f[f"why:{why}"] = 1.0
    f["score"] = min(cand.score, 4.0) / 2.0
    f["held"] = 1.0 if cand.valid else 0.0
    if "quote:unit" in f:
        quoted = _quoted_tokens(unit.span)
        starts = {s for rule_id, s, _e in unit.matches if rule_id in cand.matched}
        if starts and starts <= quoted:
            f["quote:match_inside"] = 1.0
    return f


def _unit_features(unit, ctx, doc_type: str, ocr: bool) -> dict[str, float]:
    """The features of a unit whatever commitment it is a candidate for."""
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
    for label in ctx.heading_labels.get(unit.block.heading, ()):
        if label.isupper():
            f[f"section:{label}"] = 1.0
    for label in ctx.title_labels:
        if label.isupper():
            f[f"title:{label}"] = 1.0
    f[f"doctype:{doc_type}"] = 1.0
    f[f"kind:{unit.kind}"] = 1.0
    if ocr:
        f["ocr"] = 1.0
    quoted = _quoted_tokens(unit.span)
    if quoted:
        f["quote:unit"] = 1.0
        for label in _SCOPE_LABELS:
            spans = labels.get(label, ())
            if spans and all(s in quoted for s, _e in spans):
                f[f"quote:{label}_inside"] = 1.0
    lemmas = _lemmas(unit.span)
    for lemma in lemmas:
        f[f"w:{lemma}"] = 1.0
    for a, b in zip(lemmas, lemmas[1:], strict=False):
        f[f"b:{a}_{b}"] = 1.0
    for other in neighbours:
        for lemma in _lemmas(other.span):
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
