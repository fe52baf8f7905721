"""Train the second stage (second_stage.py) from labelled documents.

A labelled document is an ``ExtractedDocument`` with the commitments known to be supported or
not and, for the supported ones, the passages that prove them: a corpus file of the dev split, or
a document reviewers decided on (``service`` turns confirm, reject and attached excerpts into the
same shape). ``prepare`` runs the rules once per document and keeps each candidate's features;
``fit`` trains, per commitment, a passage model (is this candidate one of the labelled passages?)
and a document model on out-of-fold passage probabilities (stacking, so the document model never
sees a passage model that was trained on the same document); ``cross_validate`` measures the
whole pipeline (the decision rule in force, ``second_stage.DECISION``, over the rules' calibrated
probability and the document model's, as classify() decides) against the rules alone and the
document model alone with folds of whole organisations, the calibration refitted per fold too,
so that no organisation's wording is both learned and scored.

A document reviewers decided on counts ``DECISION_WEIGHT`` times as much as a corpus document in
both models' fits (its sample weight, ``Example.weight``): the corpus holds thousands of the
project's own documents and a deployment's first decisions a few hundred real ones, which at one
each taught the model nothing that holds on fresh real pages (classifiers/QUALITY.md, nineteenth
and twentieth rounds). A corpus alone (every weight 1) is fitted without sample weights, exactly
as before they existed.

Reproducible: documents are sorted, folds are deterministic (GroupKFold), the solver is
deterministic (lbfgs), weights are rounded in the artefact: same data, same bytes. scikit-learn
is imported here only; classification never needs it.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field

from classifiers import defaults
from classifiers.evaluate import matches_any
from classifiers.features import candidate_features, document_features
from classifiers.result import COMMITMENT_IDS
from classifiers.second_stage import Linear, combine, decision_rule, shown_passages

__all__ = ["Example", "Params", "DECISION_WEIGHT", "prepare", "fit", "cross_validate",
           "data_fingerprint", "train_artefact", "score_model"]

#: how many corpus documents one document reviewers decided on counts as in fitting: chosen of
#: 1, 3 and 10 on real set D, measured once on fresh real set E (72 -> 61 wrong cells against
#: the corpus alone, macro-F1 0.245 -> 0.389; classifiers/QUALITY.md, twentieth round)
DECISION_WEIGHT = 3.0


@dataclass(frozen=True, slots=True)
class Params:
    passage_c: float = 0.3  # inverse L2 strength of the passage models (small data: strong prior)
    #: the document models have a dozen dense features; 3 (weaker prior than the former 1)
    #: chosen by cross-validation by organisation on the 575 dev files (ninth round, QUALITY.md)
    document_c: float = 3.0
    min_sources: int = 3  # a word feature must occur in this many distinct texts to be learned
    folds: int = 5  # organisations are split into this many folds (fewer if fewer organisations)

    def to_dict(self) -> dict:
        return {"passage_c": self.passage_c, "document_c": self.document_c,
                "min_sources": self.min_sources, "folds": self.folds}


@dataclass(slots=True)
class _Cand:
    features: dict
    positive: bool
    text: str
    page: int
    rule_ids: tuple[str, ...]
    score: float


@dataclass(slots=True)
class Example:
    key: str  # unique: corpus file, or "decision:<document id>"
    group: str  # the organisation: the unit of cross-validation
    source: str  # where the text comes from (renderings of one source share it)
    text_sha256: str
    labels: dict  # cid -> bool, only for the commitments whose truth is known
    evidence: dict  # cid -> [passage, ...] for the supported ones
    doc_type: str = "otro"
    scores: dict = field(default_factory=dict)  # the rules' raw score per commitment
    rules_supported: dict = field(default_factory=dict)  # the rules' own decision
    candidates: dict = field(default_factory=dict)  # cid -> [_Cand]
    weight: float = 1.0  # its sample weight in fitting (DECISION_WEIGHT for a decided document)

    def passages_known(self, cid: str) -> bool:
        """Whether its candidates for ``cid`` are labelled: a document that does not support
        the commitment (none proves it), or one that does with its proving passages known. A
        reviewer's confirmation of a document whose passages were only considered, not shown as
        evidence, says the document supports it, not which passage proves it: that document
        teaches the document model only. (Every supported corpus label names its passages.)"""
        return cid in self.labels and (not self.labels[cid] or bool(self.evidence.get(cid)))


def prepare(doc, key: str, group: str, source: str, labels: dict, evidence: dict) -> Example:
    """Run the rules on ``doc`` and keep what training needs (features, labels, rules' view)."""
    import classifiers
    from classifiers.engine import analyse

    analysis = analyse(doc)
    rules = classifiers.classify_analysis(analysis, use_model=False)
    ocr = any(getattr(p, "ocr", False) for p in doc.pages)
    text = "\n\f".join(p.text for p in doc.pages)
    ex = Example(
        key=key, group=group, source=source,
        text_sha256=hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest(),
        labels={c: bool(v) for c, v in labels.items() if c in COMMITMENT_IDS and v is not None},
        evidence={c: list(v) for c, v in evidence.items()},
        doc_type=analysis.doc_type, scores=dict(analysis.scores),
        rules_supported={c.id: c.supported for c in rules},
    )
    cache: dict = {}
    for cid in COMMITMENT_IDS:
        golds = ex.evidence.get(cid, []) if ex.labels.get(cid) else []
        ex.candidates[cid] = [
            _Cand(candidate_features(c, analysis.context, analysis.doc_type, ocr, cache),
                  bool(golds) and matches_any(c.unit.text, golds), c.unit.text, c.unit.page,
                  tuple(c.valid or c.matched), c.score)
            for c in analysis.candidates[cid]
        ]
    return ex


def data_fingerprint(examples: list[Example]) -> str:
    """What the model learned from: every text and its labels (order-independent)."""
    h = hashlib.sha256()
    for ex in sorted(examples, key=lambda e: e.key):
        h.update(json.dumps([ex.key, ex.text_sha256, ex.labels, ex.evidence], sort_keys=True,
                            ensure_ascii=False).encode("utf-8"))
    return h.hexdigest()


# --------------------------------------------------------------------------- fitting


def _logistic(rows: list[dict], ys: list[bool], c: float, keep,
              weights: list[float] | None = None) -> Linear:
    """An L2 logistic regression over the named features ``keep`` admits, each row counting
    its weight (none given, or all 1: unweighted, the fit of a corpus alone unchanged); a
    constant model (the smoothed base rate) when one class is missing."""
    positives = sum(ys)
    if positives == 0 or positives == len(ys):
        rate = (positives + 1) / (len(ys) + 2)
        return Linear(math.log(rate / (1 - rate)), {})
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    rows = [{k: v for k, v in r.items() if keep(k)} for r in rows]
    vec = DictVectorizer(sort=True)
    x = vec.fit_transform(rows)
    model = LogisticRegression(C=c, solver="lbfgs", max_iter=5000, tol=1e-6)
    if weights is not None and all(w == 1.0 for w in weights):
        weights = None
    model.fit(x, ys, sample_weight=weights)
    names = vec.get_feature_names_out()
    return Linear(float(model.intercept_[0]),
                  {str(n): float(w) for n, w in zip(names, model.coef_[0], strict=True)})


def _vocabulary(examples: list[Example], cid: str, min_sources: int):
    """Word features (w:, b:, nw:) seen in at least ``min_sources`` distinct texts; every other
    feature (rules, cues, flags, numbers) is always kept."""
    seen: dict[str, set] = {}
    for ex in examples:
        for cand in ex.candidates[cid]:
            for k in cand.features:
                if k.startswith(("w:", "b:", "nw:")):
                    seen.setdefault(k, set()).add(ex.source)
    frequent = {k for k, s in seen.items() if len(s) >= min_sources}
    return lambda k: not k.startswith(("w:", "b:", "nw:")) or k in frequent


def _fit_passage(examples: list[Example], cid: str, params: Params) -> Linear:
    known = [ex for ex in examples if ex.passages_known(cid)]
    rows = [cand.features for ex in known for cand in ex.candidates[cid]]
    ys = [cand.positive for ex in known for cand in ex.candidates[cid]]
    weights = [ex.weight for ex in known for _cand in ex.candidates[cid]]
    return _logistic(rows, ys, params.passage_c, _vocabulary(known, cid, params.min_sources),
                     weights)


def _folds(examples: list[Example], k: int) -> list[tuple[list[int], list[int]]]:
    """Deterministic folds of whole organisations (groups), balanced by size."""
    groups = sorted({ex.group for ex in examples})
    k = min(k, len(groups))
    if k < 2:
        return []
    size = {g: 0 for g in groups}
    for ex in examples:
        size[ex.group] += 1
    fold_of, load = {}, [0] * k
    for g in sorted(groups, key=lambda g: (-size[g], g)):  # largest first, to the lightest fold
        f = min(range(k), key=lambda i: (load[i], i))
        fold_of[g] = f
        load[f] += size[g]
    return [
        ([i for i, ex in enumerate(examples) if fold_of[ex.group] != f],
         [i for i, ex in enumerate(examples) if fold_of[ex.group] == f])
        for f in range(k)
    ]


def _document_rows(examples: list[Example], cid: str, passage: dict[str, Linear] | Linear):
    """Document features from passage probabilities; ``passage`` is one model, or one per example
    key (out-of-fold)."""
    rows = []
    for ex in examples:
        model = passage[ex.key] if isinstance(passage, dict) else passage
        probs = [model.probability(c.features) for c in ex.candidates[cid]]
        rows.append(document_features(probs, ex.scores[cid], len(probs), ex.doc_type))
    return rows


def _out_of_fold_passages(examples: list[Example], cid: str, params: Params) -> dict:
    folds = _folds(examples, params.folds)
    if not folds:
        model = _fit_passage(examples, cid, params)
        return {ex.key: model for ex in examples}
    out = {}
    for train, test in folds:
        model = _fit_passage([examples[i] for i in train], cid, params)
        for i in test:
            out[examples[i].key] = model
    return out


def fit(examples: list[Example], params: Params) -> tuple[dict, dict]:
    """(passage model per commitment, document model per commitment)."""
    examples = sorted(examples, key=lambda e: e.key)
    passage, document = {}, {}
    for cid in COMMITMENT_IDS:
        known = [ex for ex in examples if cid in ex.labels]
        passage[cid] = _fit_passage(known, cid, params)
        oof = _out_of_fold_passages(known, cid, params)
        rows = _document_rows(known, cid, oof)
        document[cid] = _logistic(rows, [ex.labels[cid] for ex in known], params.document_c,
                                  lambda k: True, [ex.weight for ex in known])
    return passage, document


# --------------------------------------------------------------------------- measuring


def _predict(ex: Example, cid: str, passage: Linear, document: Linear, p_rules: float,
             rule: dict | None = None):
    """(supported, shown candidates best first) as classify() would decide them: by ``rule``
    (``second_stage.combine``; the rule in force by default) over ``p_rules`` (the rules'
    calibrated probability) and the document model's probability."""
    cands = ex.candidates[cid]
    probs = [passage.probability(c.features) for c in cands]
    doc_f = document_features(probs, ex.scores[cid], len(cands), ex.doc_type)
    probability = combine(p_rules, document.probability(doc_f), rule)
    supported = bool(cands) and probability >= 0.5
    order = sorted(range(len(cands)), key=lambda i: (-probs[i], -cands[i].score, i))
    shown = shown_passages([probs[i] for i in order], supported)
    return supported, [cands[order[i]] for i in shown]


def _rules_shown(ex: Example, cid: str) -> list[_Cand]:
    held = sorted((c for c in ex.candidates[cid] if c.score > 0), key=lambda c: -c.score)
    floor = held[0].score * defaults.EVIDENCE_RELATIVE_MIN if held else 0.0
    return [c for c in held[: defaults.MAX_EVIDENCE] if c.score >= floor]


#: how the document model alone is measured beside the rules and the stage
_MODEL_ALONE = decision_rule("model_alone")


def score_predictions(examples: list[Example], predictions: dict) -> dict:
    """Macro-F1, per-commitment F1 and evidence precision@3 of ``predictions``
    ({(key, cid): (supported, shown candidates)}) against the examples' labels."""
    per = {}
    f1s, excerpts, matched = [], 0, 0
    for cid in COMMITMENT_IDS:
        tp = fp = fn = 0
        for ex in examples:
            if cid not in ex.labels or (ex.key, cid) not in predictions:
                continue
            supported, shown = predictions[(ex.key, cid)]
            gold = ex.labels[cid]
            tp += supported and gold
            fp += supported and not gold
            fn += gold and not supported
            if supported and gold and ex.passages_known(cid):
                for cand in shown[:3]:
                    excerpts += 1
                    matched += cand.positive
        f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None
        per[cid] = {"tp": tp, "fp": fp, "fn": fn, "f1": None if f1 is None else round(f1, 4)}
        if f1 is not None:
            f1s.append(f1)
    return {
        "macro_f1": round(sum(f1s) / len(f1s), 4) if f1s else None,
        "evidence_precision_at_3": round(matched / excerpts, 4) if excerpts else None,
        "commitments": per,
    }


def score_model(examples: list[Example], model) -> dict:
    """Scores (as ``score_predictions``) of a second stage (``second_stage.SecondStage``, with
    the calibration in force), or of the rules alone when ``model`` is None, on prepared
    examples: how ``evidencia train`` puts a candidate and the model in force side by side on
    the same held-out documents."""
    import classifiers

    predictions = {}
    for ex in examples:
        for cid in ex.labels:
            predictions[(ex.key, cid)] = (
                (ex.rules_supported[cid], _rules_shown(ex, cid)) if model is None
                else _predict(ex, cid, model.passage[cid], model.document[cid],
                              classifiers.calibrator.probability(cid, ex.scores[cid])))
    return score_predictions(examples, predictions)


def _calibrator(examples: list[Example]):
    """The rules' calibration fitted on ``examples`` only (as ``train.calibrate`` fits it on
    the corpus), each commitment on the documents whose truth is known for it (a reviewer's
    decision labels one commitment)."""
    from classifiers.calibration import fitted_calibrator

    return fitted_calibrator(
        {c: [ex.scores[c] for ex in examples if c in ex.labels] for c in COMMITMENT_IDS},
        {c: [ex.labels[c] for ex in examples if c in ex.labels] for c in COMMITMENT_IDS})


def cross_validate(examples: list[Example], params: Params) -> dict:
    """The rules alone, the document model alone and the stage as classify() decides (by the
    decision rule in force, ranked by the passage model), on folds of whole organisations: each
    fold is scored by models and a calibration fitted without its organisations."""
    examples = sorted(examples, key=lambda e: e.key)
    model_pred, rules_pred, stage_pred = {}, {}, {}
    folds = _folds(examples, params.folds)
    for train_idx, test_idx in folds:
        train = [examples[i] for i in train_idx]
        passage, document = fit(train, params)
        calibrator = _calibrator(train)
        for i in test_idx:
            ex = examples[i]
            for cid in ex.labels:
                key = (ex.key, cid)
                p_rules = calibrator.probability(cid, ex.scores[cid])
                held = any(c.score > 0 for c in ex.candidates[cid])
                rules_pred[key] = (held and p_rules >= 0.5, _rules_shown(ex, cid))
                model_pred[key] = _predict(ex, cid, passage[cid], document[cid], p_rules,
                                           _MODEL_ALONE)
                stage_pred[key] = _predict(ex, cid, passage[cid], document[cid], p_rules)
    return {
        "folds": len(folds),
        "groups": len({ex.group for ex in examples}),
        "model": score_predictions(examples, model_pred),
        "rules": score_predictions(examples, rules_pred),
        "stage": score_predictions(examples, stage_pred),
        "duel": {cid: _duel(examples, cid, stage_pred, rules_pred) for cid in COMMITMENT_IDS},
    }


def _duel(examples: list[Example], cid: str, model_pred: dict, rules_pred: dict) -> dict:
    """Texts on which the stage's decision (``model_pred``) was right more often than the rules'
    (wins) and the reverse (losses), out of fold, and the one-sided exact sign-test p-value of
    that many wins if both were equally good (reported, not a gate). Counted per source text,
    not per rendering: the renderings of one text are not independent evidence."""
    right: dict[str, list[int]] = {}
    for ex in examples:
        key = (ex.key, cid)
        if key not in model_pred:
            continue
        gold = ex.labels[cid]
        tally = right.setdefault(ex.source, [0, 0])
        tally[0] += model_pred[key][0] == gold
        tally[1] += rules_pred[key][0] == gold
    wins = sum(m > r for m, r in right.values())
    losses = sum(r > m for m, r in right.values())
    n = wins + losses
    p = sum(math.comb(n, k) for k in range(wins, n + 1)) / 2 ** n if n else 1.0
    return {"wins": wins, "losses": losses, "p": round(p, 4)}


def train_artefact(examples: list[Example], params: Params, fingerprint: str,
                   extra_meta: dict | None = None) -> dict:
    """Fit on every example, measure by cross-validation, and build the artefact."""
    from classifiers.second_stage import artefact

    examples = sorted(examples, key=lambda e: e.key)
    passage, document = fit(examples, params)
    cv = cross_validate(examples, params)
    meta = {
        "training_data": {
            "fingerprint": data_fingerprint(examples),
            "documents": len(examples),
            "texts": len({ex.source for ex in examples}),
            "organisations": len({ex.group for ex in examples}),
            "positives": {cid: sum(ex.labels.get(cid, False) for ex in examples)
                          for cid in COMMITMENT_IDS},
        },
        "params": params.to_dict(),
        "metrics": {"cross_validation": cv},
        **(extra_meta or {}),
    }
    return artefact(passage, document, meta, fingerprint)
