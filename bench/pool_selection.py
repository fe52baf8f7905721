"""Ninth round (classifiers/QUALITY.md): do the read blind sets org45..org56 help as training
data? Chosen out of fold on the original dev organisations only.

    python bench/pool_selection.py CORPUS [--examples /tmp/pool-examples.pkl] [--jobs 2]
    python bench/pool_selection.py CORPUS --choose   # (b)'s pair for the artefact

``--choose``: (b)'s (passage_c, document_c) for the artefact, by 5 folds of whole organisations
over the whole pool (original dev and org45..org56), and, after the selection and apart from
it, the baseline refitted with the pair chosen (dev only: is the gain the pool's or the pair's?).

The 5 folds of whole organisations ``learn._folds`` builds over the original dev files; per
fold the calibration and the second stage are fitted on the other folds' organisations (the
baseline, main) or on those plus every non-press/web file of org45..org56 (the candidates,
which train in every fold and are never scored). Candidates: (a) the mean, default parameters;
(b) the mean, (passage_c, document_c) chosen from a small grid by an inner 4-fold
cross-validation by organisation on the fold's training pool (nested); (c) the document model
alone. Scored in wrong cells (false + missed) over the original dev files, the nine untuned dev
organisations and the tuned ones apart. Prints figures only.
"""

from __future__ import annotations

import argparse
import pickle
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

EXTRA = {f"org{n}" for n in range(45, 57)}
UNTUNED = {"org58", "org60", "org62", "org64", "org66", "org68", "org70", "org72", "org74"}
GRID = ((0.1, 1.0), (0.3, 1.0), (1.0, 1.0), (0.3, 0.3), (0.3, 3.0))
DEFAULT = (0.3, 1.0)

_EXAMPLES: dict = {}  # key -> Example, set before the worker pool forks


def prepare_all(corpus: Path) -> tuple[list, list]:
    """(original dev examples, extra examples), the extra being org45..org56 outside the
    held-out register, whatever split their rendered labels still say."""
    import classifiers
    from classifiers.corpus import HELDOUT_REGISTERS, extract_all, load_labels
    from classifiers.learn import prepare

    classifiers.load()
    entries = [e for e in load_labels(corpus) if e.register not in HELDOUT_REGISTERS
               and (e.org in EXTRA or (e.split == "dev" and e.eval_split == "dev"))]
    docs = extract_all(corpus, entries, jobs=2)
    dev, extra = [], []
    for e in entries:
        doc = docs[e.file]
        if not hasattr(doc, "pages"):
            continue
        ex = prepare(doc, key=e.file, group=e.org, source=e.id, labels=e.labels,
                     evidence=e.evidence)
        (extra if e.org in EXTRA else dev).append(ex)
    return dev, extra


def level_one(task):
    """{(key, cid): (p_r, p_m, has candidates, rules hold a passage)} for the test keys, from a
    calibration and models fitted on the train keys only with (passage_c, document_c)."""
    train_keys, test_keys, (pc, dc) = task
    from classifiers.features import document_features
    from classifiers.learn import Params, _calibrator, fit

    train = [_EXAMPLES[k] for k in train_keys]
    passage, document = fit(train, Params(passage_c=pc, document_c=dc))
    calibrator = _calibrator(train)
    out = {}
    for k in test_keys:
        ex = _EXAMPLES[k]
        for cid in ex.labels:
            cands = ex.candidates[cid]
            probs = [passage[cid].probability(c.features) for c in cands]
            p_m = document[cid].probability(
                document_features(probs, ex.scores[cid], len(cands), ex.doc_type))
            out[(k, cid)] = (calibrator.probability(cid, ex.scores[cid]), p_m, bool(cands),
                             any(c.score > 0 for c in cands))
    return out


def mean_decision(v) -> bool:
    p_r, p_m, cands, _ = v
    return cands and (p_r + p_m) / 2 >= 0.5


def model_decision(v) -> bool:
    return v[2] and v[1] >= 0.5


def wrong(examples, pred: dict) -> int:
    return sum(pred[(ex.key, cid)] != ex.labels[cid] for ex in examples for cid in ex.labels
               if (ex.key, cid) in pred)


def false_missed(examples, pred: dict) -> tuple[int, int]:
    """(false, missed) cells of ``pred`` against the examples' labels: ``wrong`` split."""
    cells = [(pred[(ex.key, cid)], ex.labels[cid]) for ex in examples for cid in ex.labels
             if (ex.key, cid) in pred]
    return sum(s and not g for s, g in cells), sum(g and not s for s, g in cells)


def print_scores(subsets: dict, decisions: dict, *, organisations: bool = False,
                 split: bool = False, width: int = 42) -> None:
    """Each subset's wrong cells and macro-F1 per decision: the selection scripts' table
    (``organisations``: count them; ``split``: false / missed beside the wrong cells;
    ``width``: of the decisions' column)."""
    for name, subset in subsets.items():
        orgs = f", {len({e.group for e in subset})} organisations" if organisations else ""
        print(f"\n{name}: {len(subset)} files{orgs}")
        for who, pred in decisions.items():
            parts = " ({} / {})".format(*false_missed(subset, pred)) if split else ""
            print(f"  {who:{width}s} wrong cells {wrong(subset, pred):4d}{parts}  "
                  f"macro-F1 {macro_f1(subset, pred):.3f}")


def macro_f1(examples, pred: dict) -> float:
    from classifiers.result import COMMITMENT_IDS

    f1s = []
    for cid in COMMITMENT_IDS:
        tp = fp = fn = 0
        for ex in examples:
            if (ex.key, cid) in pred:
                s, g = pred[(ex.key, cid)], ex.labels[cid]
                tp += s and g
                fp += s and not g
                fn += g and not s
        if tp + fp + fn:
            f1s.append(2 * tp / (2 * tp + fp + fn))
    return sum(f1s) / len(f1s)


def choose(pool: list, results: dict) -> tuple[float, float]:
    """The grid pair with the fewest out-of-fold wrong cells of the mean on ``pool``; ties to
    the default, then the smaller passage_c, then the smaller document_c."""
    def key(g):
        pred = {k: mean_decision(v) for k, v in results[g].items()}
        return (wrong(pool, pred), g != DEFAULT, g[0], g[1])

    return min(GRID, key=key)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("corpus", type=Path)
    p.add_argument("--examples", type=Path, default=Path("/tmp/pool-examples.pkl"))
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--choose", action="store_true")
    args = p.parse_args()
    from classifiers.learn import _folds

    t0 = time.process_time()
    if args.examples.exists():
        dev, extra = pickle.loads(args.examples.read_bytes())
    else:
        dev, extra = prepare_all(args.corpus)
        args.examples.write_bytes(pickle.dumps((dev, extra)))
    dev = sorted(dev, key=lambda e: e.key)
    extra = sorted(extra, key=lambda e: e.key)
    _EXAMPLES.update({ex.key: ex for ex in dev + extra})
    print(f"{len(dev)} original dev files ({len({e.group for e in dev})} organisations), "
          f"{len(extra)} extra files ({len({e.group for e in extra})} organisations); "
          f"{time.process_time() - t0:.0f} s CPU", flush=True)

    if args.choose:
        return choose_for_artefact(dev, extra, args.jobs)
    outer = _folds(dev, 5)
    tasks = {}
    for f, (train_idx, test_idx) in enumerate(outer):
        train = [dev[i].key for i in train_idx]
        test = [dev[i].key for i in test_idx]
        tasks[("baseline", f)] = (train, test, DEFAULT)
        pool = sorted(train + [ex.key for ex in extra])
        tasks[("pool", f)] = (pool, test, DEFAULT)
        pool_ex = sorted([dev[i] for i in train_idx] + extra, key=lambda e: e.key)
        for j, (itr, ite) in enumerate(_folds(pool_ex, 4)):
            for g in GRID:
                tasks[("inner", f, j, g)] = ([pool_ex[i].key for i in itr],
                                             [pool_ex[i].key for i in ite], g)
    names = list(tasks)
    results = {}
    with ProcessPoolExecutor(max_workers=args.jobs) as ex:
        for n, (name, out) in enumerate(zip(names, ex.map(level_one, [tasks[k] for k in names]),
                                            strict=True), 1):
            results[name] = out
            if n % 10 == 0:
                print(f"{n}/{len(names)} fits ({time.process_time() - t0:.0f} s CPU here, "
                      f"{time.time() - t_wall:.0f} s wall)", flush=True)

    decisions = {k: {} for k in ("baseline: main (mean, dev only)", "(a) pool, mean",
                                 "(b) pool, mean, C re-chosen", "(c) pool, model alone",
                                 "pool, rules alone (calibration refitted)",
                                 "baseline, rules alone")}
    chosen = []
    for f, (train_idx, _) in enumerate(outer):
        pool_ex = sorted([dev[i] for i in train_idx] + extra, key=lambda e: e.key)
        inner = {g: {} for g in GRID}
        for (kind, *rest), out in results.items():
            if kind == "inner" and rest[0] == f:
                inner[rest[2]].update(out)
        g = choose(pool_ex, inner)
        chosen.append(g)
        b_out = results[("pool", f)] if g == DEFAULT else level_one(
            (tasks[("pool", f)][0], tasks[("pool", f)][1], g))
        for k, v in results[("baseline", f)].items():
            decisions["baseline: main (mean, dev only)"][k] = mean_decision(v)
            decisions["baseline, rules alone"][k] = v[3] and v[0] >= 0.5
        for k, v in results[("pool", f)].items():
            decisions["(a) pool, mean"][k] = mean_decision(v)
            decisions["(c) pool, model alone"][k] = model_decision(v)
            decisions["pool, rules alone (calibration refitted)"][k] = v[3] and v[0] >= 0.5
        for k, v in b_out.items():
            decisions["(b) pool, mean, C re-chosen"][k] = mean_decision(v)
    print(f"(b)'s (passage_c, document_c) per outer fold: {chosen}")

    subsets = {
        "original dev (selection)": dev,
        "nine untuned dev organisations": [ex for ex in dev if ex.group in UNTUNED],
        "tuned dev organisations": [ex for ex in dev if ex.group not in UNTUNED],
    }
    print_scores(subsets, decisions)
    print(f"\n{time.process_time() - t0:.0f} s CPU in this process, "
          f"{time.time() - t_wall:.0f} s wall")
    return 0


def choose_for_artefact(dev: list, extra: list, jobs: int) -> int:
    from classifiers.learn import _folds

    pool = sorted(dev + extra, key=lambda e: e.key)
    tasks = {}
    for j, (tr, te) in enumerate(_folds(pool, 5)):
        for g in GRID:
            tasks[(g, j)] = ([pool[i].key for i in tr], [pool[i].key for i in te], g)
    with ProcessPoolExecutor(max_workers=jobs) as ex:
        outs = dict(zip(tasks, ex.map(level_one, list(tasks.values())), strict=True))
    results = {g: {} for g in GRID}
    for (g, _), out in outs.items():
        results[g].update(out)
    for g in GRID:
        pred = {k: mean_decision(v) for k, v in results[g].items()}
        print(f"pool of {len(pool)} files, {g}: wrong cells {wrong(pool, pred)}, "
              f"macro-F1 {macro_f1(pool, pred):.3f}")
    g = choose(pool, results)
    print(f"chosen for the artefact: (passage_c, document_c) = {g}", flush=True)
    # diagnostic after the selection, not part of it: the baseline's folds with the pair alone
    diag = {}
    with ProcessPoolExecutor(max_workers=jobs) as ex:
        folds = _folds(dev, 5)
        for out in ex.map(level_one, [([dev[i].key for i in tr], [dev[i].key for i in te], g)
                                      for tr, te in folds]):
            diag.update(out)
    pred = {k: mean_decision(v) for k, v in diag.items()}
    for name, subset in (("original dev", dev),
                         ("nine untuned", [e for e in dev if e.group in UNTUNED]),
                         ("tuned", [e for e in dev if e.group not in UNTUNED])):
        print(f"diagnostic, dev only with {g}, {name}: wrong cells {wrong(subset, pred)}, "
              f"macro-F1 {macro_f1(subset, pred):.3f}")
    return 0


t_wall = time.time()

if __name__ == "__main__":
    sys.exit(main())
