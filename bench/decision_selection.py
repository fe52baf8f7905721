"""Twelfth round (classifiers/QUALITY.md): which decision rule the second stage decides by, chosen
out of fold on the dev pool only.

    nice -n 10 python bench/decision_selection.py CORPUS [--examples PICKLE] [--jobs 2]

The 5 folds of whole organisations ``learn._folds`` builds over the whole dev pool (every file
``python -m classifiers.train`` learns from); per fold the calibration and the second stage are
fitted on the other folds' organisations (``pool_selection.level_one``). Candidates, each a rule
of ``second_stage.DECISION_RULES`` applied by ``second_stage.combine``, supported when the rules
proposed a passage and the result is at least 0.5: (a) the mean, (c) the document model alone,
(d) (p_r + 3 p_m) / 4. Scored in wrong cells (false + missed, c1..c5) on the dev organisations
whose text no change of rules ever followed (``NEVER_READ``); the other dev organisations and the
whole pool are reported apart. Prints figures only, and what the protocol's rule makes of them.

The prepared examples (one rules pass per file, the slow part after extraction) are kept in
``--examples``, keyed by the corpus' labels and the rules' fingerprint: a pickle of another
corpus or other rules is prepared again, never read.
"""

from __future__ import annotations

import argparse
import hashlib
import pickle
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pool_selection  # noqa: E402  (bench/, next to this file: the ninth round's machinery)
from pool_selection import level_one, print_scores, wrong  # noqa: E402

#: the dev organisations whose text no change of rules ever followed (the protocol's list; the
#: blind sets among these numbers are held out, so never in the dev pool)
NEVER_READ = frozenset({f"org{n}" for n in range(58, 75, 2)}
                       | {f"org{n}" for n in range(99, 141)}
                       | {f"org{n}" for n in range(147, 165)})
#: the candidates, by the protocol's letters, as rules of second_stage.DECISION_RULES
CANDIDATES = {"(a) mean": "mean_of_rules_and_model",
              "(c) model alone": "model_alone",
              "(d) weighted (p_r + 3 p_m) / 4": "weighted_rules_1_model_3"}
BASELINE = "(a) mean"
#: fewer wrong cells than the mean a rule needs, on the never-read organisations, to replace it
MARGIN = 3


def examples(corpus: Path, cache: Path, jobs: int) -> list:
    """The dev pool's prepared examples, from ``cache`` when it was prepared from this corpus'
    labels with these rules."""
    from classifiers.version import fingerprint

    key = hashlib.sha256((corpus / "labels.jsonl").read_bytes()
                         + fingerprint().encode()).hexdigest()
    if cache.exists():
        stored_key, stored = pickle.loads(cache.read_bytes())
        if stored_key == key:
            return stored
        print(f"{cache} holds another corpus or other rules: prepared again", flush=True)
    import classifiers
    from classifiers.train import corpus_examples

    classifiers.load()
    prepared = corpus_examples(corpus, jobs=jobs)
    cache.write_bytes(pickle.dumps((key, prepared)))
    return prepared


def decisions(level1: dict) -> dict:
    """{candidate or reference: {(key, cid): supported}} from the out-of-fold (p_r, p_m, has
    candidates, rules hold a passage)."""
    from classifiers.second_stage import combine, decision_rule

    out = {name: {k: cands and combine(p_r, p_m, decision_rule(rule)) >= 0.5
                  for k, (p_r, p_m, cands, _) in level1.items()}
           for name, rule in CANDIDATES.items()}
    out["rules alone (reference, not a candidate)"] = {
        k: held and p_r >= 0.5 for k, (p_r, _, _, held) in level1.items()}
    return out


def chosen(wrong_cells: dict) -> str:
    """The protocol's rule: (c) or (d) only with at least MARGIN wrong cells fewer than (a) on
    the never-read organisations; of two that do, the one with fewer; a tie to (c)."""
    base = wrong_cells[BASELINE]
    better = [n for n in CANDIDATES if n != BASELINE and wrong_cells[n] <= base - MARGIN]
    return min(better, key=lambda n: (wrong_cells[n], list(CANDIDATES).index(n)),
               default=BASELINE)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("corpus", type=Path)
    p.add_argument("--examples", type=Path, default=Path("/tmp/decision-examples.pkl"))
    p.add_argument("--jobs", type=int, default=2)
    args = p.parse_args()
    from classifiers.learn import _folds

    t0, t_wall = time.process_time(), time.time()
    pool = sorted(examples(args.corpus, args.examples, args.jobs), key=lambda e: e.key)
    pool_selection._EXAMPLES.update({ex.key: ex for ex in pool})  # read by level_one's forks
    print(f"{len(pool)} dev files of {len({e.group for e in pool})} organisations "
          f"({time.process_time() - t0:.0f} s CPU, {time.time() - t_wall:.0f} s wall)",
          flush=True)

    from classifiers.learn import Params

    params = Params()
    tasks = [([pool[i].key for i in tr], [pool[i].key for i in te],
              (params.passage_c, params.document_c)) for tr, te in _folds(pool, params.folds)]
    level1 = {}
    with ProcessPoolExecutor(max_workers=args.jobs) as ex:
        for out in ex.map(level_one, tasks):
            level1.update(out)
    print(f"{len(tasks)} folds fitted ({time.time() - t_wall:.0f} s wall)", flush=True)

    preds = decisions(level1)
    subsets = {
        "never-read dev organisations (selection)": [e for e in pool if e.group in NEVER_READ],
        "other dev organisations (reported only)": [e for e in pool if e.group not in NEVER_READ],
        "whole dev pool": pool,
    }
    print_scores(subsets, preds, organisations=True, split=True)
    selection = subsets["never-read dev organisations (selection)"]
    chosen_name = chosen({n: wrong(selection, preds[n]) for n in CANDIDATES})
    print(f"\nthe protocol's rule chooses {chosen_name}: {CANDIDATES[chosen_name]}")
    print(f"{time.process_time() - t0:.0f} s CPU in this process, "
          f"{time.time() - t_wall:.0f} s wall")
    return 0


if __name__ == "__main__":
    sys.exit(main())
