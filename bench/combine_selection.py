"""Eighth round (classifiers/QUALITY.md): which of three ways of combining the rules and the
document model to measure on the untuned sets, chosen out of fold on the dev split only.

    python bench/combine_selection.py CORPUS [--examples /tmp/dev-examples.pkl]

Per document and commitment: ``p_r`` the rules' calibrated probability (calibration refitted
without the fold's organisations), ``p_m`` the document model's (passage and document models
fitted without them). Candidates: (a) mean of the two >= 0.5; (b) a stacked logistic regression
over [p_r, p_m, doc type], fitted per outer fold on out-of-fold p_r, p_m of the training
organisations from an inner 4-fold cross-validation (nested); (c) the model decides where
0.2 < p_r < 0.8, the rules elsewhere. Scored in wrong cells (false + missed) on the nine dev
organisations no round had read. Prints figures only.
"""

from __future__ import annotations

import argparse
import pickle
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pool_selection import print_scores  # noqa: E402  (bench/, next to this file)

UNTUNED = {"org58", "org60", "org62", "org64", "org66", "org68", "org70", "org72", "org74"}
BAND = (0.2, 0.8)


def level_one(train, test):
    """{(key, cid): (p_r, p_m, has candidates, rules hold a passage)} for ``test``, from a
    calibration and models fitted on ``train`` only."""
    from classifiers.calibration import _Curve, fit_isotonic
    from classifiers.features import document_features
    from classifiers.learn import Params, fit
    from classifiers.result import COMMITMENT_IDS

    passage, document = fit(train, Params())
    curves = {c: _Curve(*map(tuple, fit_isotonic([ex.scores[c] for ex in train],
                                                  [bool(ex.labels.get(c, False)) for ex in train])))
              for c in COMMITMENT_IDS}
    out = {}
    for ex in test:
        for cid in ex.labels:
            cands = ex.candidates[cid]
            probs = [passage[cid].probability(c.features) for c in cands]
            p_m = document[cid].probability(
                document_features(probs, ex.scores[cid], len(cands), ex.doc_type))
            out[(ex.key, cid)] = (curves[cid](ex.scores[cid]), p_m, bool(cands),
                                  any(c.score > 0 for c in cands))
    return out


def stack_row(p_r: float, p_m: float, doc_type: str) -> dict:
    return {"p_r": p_r, "p_m": p_m, f"doctype:{doc_type}": 1.0}


def fit_stack(examples, level1):
    from classifiers.learn import _logistic
    from classifiers.result import COMMITMENT_IDS

    models = {}
    for cid in COMMITMENT_IDS:
        known = [ex for ex in examples if (ex.key, cid) in level1]
        rows = [stack_row(*level1[(ex.key, cid)][:2], ex.doc_type) for ex in known]
        models[cid] = _logistic(rows, [ex.labels[cid] for ex in known], 1.0, lambda k: True)
    return models


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("corpus", type=Path)
    p.add_argument("--examples", type=Path, default=Path("/tmp/blend-dev-examples.pkl"))
    args = p.parse_args()
    from classifiers.learn import _folds

    t0 = time.process_time()
    if args.examples.exists():
        examples = pickle.loads(args.examples.read_bytes())
    else:
        import classifiers
        from classifiers.train import corpus_examples

        classifiers.load()
        examples = corpus_examples(args.corpus, jobs=1)
        args.examples.write_bytes(pickle.dumps(examples))
    examples = sorted(examples, key=lambda e: e.key)
    print(f"{len(examples)} dev files prepared ({time.process_time() - t0:.0f} s CPU)", flush=True)

    decisions: dict[str, dict] = {k: {} for k in
                                  ("rules (installed calibration)", "rules (out-of-fold)",
                                   "document model", "(a) mean", "(b) stacked", "(c) band")}
    for n, (train_idx, test_idx) in enumerate(_folds(examples, 5), 1):
        train = [examples[i] for i in train_idx]
        test = [examples[i] for i in test_idx]
        outer = level_one(train, test)
        inner = {}
        for itrain, itest in _folds(train, 4):
            inner.update(level_one([train[i] for i in itrain], [train[i] for i in itest]))
        stack = fit_stack(train, inner)
        for ex in test:
            for cid in ex.labels:
                p_r, p_m, cands, held = outer[(ex.key, cid)]
                rules = held and p_r >= 0.5
                model = cands and p_m >= 0.5
                k = (ex.key, cid)
                decisions["rules (installed calibration)"][k] = ex.rules_supported[cid]
                decisions["rules (out-of-fold)"][k] = rules
                decisions["document model"][k] = model
                decisions["(a) mean"][k] = cands and (p_r + p_m) / 2 >= 0.5
                decisions["(b) stacked"][k] = cands and stack[cid].probability(
                    stack_row(p_r, p_m, ex.doc_type)) >= 0.5
                decisions["(c) band"][k] = model if BAND[0] < p_r < BAND[1] else rules
        print(f"fold {n} done ({time.process_time() - t0:.0f} s CPU)", flush=True)

    subsets = {
        "nine untuned dev organisations": [ex for ex in examples if ex.group in UNTUNED],
        "tuned dev organisations": [ex for ex in examples if ex.group not in UNTUNED],
        "all dev": examples,
    }
    print_scores(subsets, decisions, width=32)
    print(f"\n{time.process_time() - t0:.0f} s CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
