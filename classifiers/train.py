"""Fit the calibration and train the second stage on the dev split:
``python -m classifiers.train CORPUS``.

Only the ``dev`` evaluation split is used (dev organisations, registers other than press and web);
held-out organisations and the held-out registers stay out of every fitted number. Two artefacts:

1. ``model/calibration.json``: the rules' raw score of each commitment (engine.score) mapped to
   P(supported) by isotonic regression with a Laplace prior; what decides when no second stage is
   installed.
2. ``model/second_stage.json``: the learned second stage (classifiers/learn.py): the passage
   model ranks the excerpts, and the decision rule in force (``second_stage.DECISION``) over the
   rules' calibrated probability and the document model's decides each cell
   (``second_stage.combine``; classifiers/QUALITY.md, eighth, twelfth and thirteenth rounds);
   written only when that stage beats the rules alone in cross-validation by organisation
   (``--force-model`` writes it anyway; ``--no-model`` leaves the second stage as it is).

Reproducible: the same corpus, patterns and code give byte-identical artefacts. The dev sources
they learn from are pinned in ``model/training_pool.txt`` (dev writing added since joins only when
a round that trains on it lands: ``--pool all`` trains on the whole dev split, ``--pool FILE`` on
another list), so a clean checkout trains the artefacts in force again. Re-run it after any
pattern or feature change: a stale artefact is refused (``.uncal`` / ``.nomodel`` suffix).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from classifiers.calibration import fit_isotonic, save_calibration
from classifiers.result import COMMITMENT_IDS

__all__ = ["TRAINING_POOL", "calibrate", "corpus_examples", "read_pool", "train_model", "better",
           "main"]


#: the dev sources (label ``id``s) the artefacts in force learned from, one a line
TRAINING_POOL = Path(__file__).parent / "model" / "training_pool.txt"


def read_pool(path: Path) -> frozenset[str]:
    """The source ids a pool file lists (``#`` starts a comment)."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text("utf-8").splitlines())
    return frozenset(line for line in lines if line)


def _dev_documents(corpus: Path, jobs: int, pool: frozenset[str] | None = None):
    from classifiers.corpus import extract_all, load_labels

    entries = [e for e in load_labels(corpus)
               if e.eval_split == "dev" and (pool is None or e.id in pool)]
    docs = extract_all(corpus, entries, jobs=jobs)
    return [(e, docs[e.file]) for e in entries if hasattr(docs[e.file], "pages")]


def calibrate(examples: list) -> dict:
    """Fit the rules' calibration on the prepared dev examples (their raw scores and labels),
    save it, put it in force, and bring each example's rules decision up to date with it."""
    import classifiers
    from classifiers.calibration import load_calibrator
    from classifiers.version import fingerprint

    if not examples:
        raise SystemExit("no dev-split files could be read: nothing to calibrate on")
    scores = {c: [ex.scores[c] for ex in examples] for c in COMMITMENT_IDS}
    gold = {c: [bool(ex.labels.get(c, False)) for ex in examples] for c in COMMITMENT_IDS}
    curves = {cid: fit_isotonic(scores[cid], gold[cid]) for cid in COMMITMENT_IDS}
    meta = {  # no timestamp: the same corpus and code give a byte-identical artefact
        "split": "dev",
        "files": len(examples),
        "positives": {cid: sum(gold[cid]) for cid in COMMITMENT_IDS},
        "method": "isotonic (PAV) with Laplace prior, min block 4",
    }
    save_calibration(curves, fingerprint(), meta)
    classifiers.calibrator = load_calibrator(fingerprint())  # the rules' decision uses it
    for ex in examples:  # as classify_analysis decides with rules alone
        for cid in COMMITMENT_IDS:
            p = classifiers.calibrator.probability(cid, ex.scores[cid])
            held = any(c.score > 0 for c in ex.candidates[cid])
            ex.rules_supported[cid] = held and p >= 0.5
    return {"meta": meta, "curves": curves}


def corpus_examples(corpus: Path, jobs: int = 2, pool: frozenset[str] | None = None) -> list:
    """Every readable dev-split file (of ``pool``'s sources, when given) as a training example
    (organisation = CV group)."""
    from classifiers.learn import prepare

    return [prepare(doc, key=entry.file, group=entry.org, source=entry.id,
                    labels=entry.labels, evidence=entry.evidence)
            for entry, doc in _dev_documents(corpus, jobs, pool)]


def better(candidate: dict, current: dict) -> bool:
    """A model (or rules) scores better than another: higher macro-F1, or the same macro-F1 with
    a higher evidence precision@3."""
    def key(m):
        return tuple(round(m.get(k) or 0.0, 4) for k in ("macro_f1", "evidence_precision_at_3"))

    return key(candidate) > key(current)


def train_model(examples: list, params=None) -> dict:
    from classifiers.learn import Params, train_artefact
    from classifiers.second_stage import model_fingerprint

    return train_artefact(examples, params or Params(), model_fingerprint(),
                          {"source": "corpus dev split"})


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m classifiers.train", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("corpus", type=Path, help="rendered corpus folder with labels.jsonl")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--no-model", action="store_true", help="fit the calibration only")
    p.add_argument("--force-model", action="store_true",
                   help="install the second stage even if it does not beat the rules")
    p.add_argument("--pool", default=str(TRAINING_POOL),
                   help="file of the dev sources to learn from, or 'all' for the whole dev split "
                        "(default: the pool of the artefacts in force)")
    args = p.parse_args(argv)
    if not (args.corpus / "labels.jsonl").is_file():
        print(f"{args.corpus}/labels.jsonl not found", file=sys.stderr)
        return 2
    pool = None if args.pool == "all" else read_pool(Path(args.pool))
    import classifiers

    classifiers.load()
    examples = corpus_examples(args.corpus, args.jobs, pool)  # one rules pass per dev file
    if pool is not None:
        found = {ex.source for ex in examples}
        print(f"pool {args.pool}: {len(found)} of its {len(pool)} sources found in the dev split")
    out = calibrate(examples)
    print(f"calibrated on {out['meta']['files']} dev files; positives {out['meta']['positives']}")
    for cid, (xs, ps) in out["curves"].items():
        steps = ", ".join(f"≥{x:g}: {p:.2f}" for x, p in zip(xs, ps, strict=True))
        print(f"  {cid}: {steps}")
    from classifiers import defaults

    if args.no_model:
        return 0
    from classifiers.second_stage import save_model

    body = train_model(examples)
    cv = body["meta"]["metrics"]["cross_validation"]
    duel = ", ".join(f"{c} +{d['wins']}/-{d['losses']} p={d['p']}" for c, d in cv["duel"].items())
    rule = body["decision"]["rule"]
    print(f"stage ({rule}) vs rules, texts won/lost out of fold: {duel}")
    for who in ("rules", "model", "stage"):
        m = cv[who]
        per = ", ".join(f"{c} {m['commitments'][c]['f1']}" for c in COMMITMENT_IDS)
        print(f"cross-validation ({cv['folds']} folds of {cv['groups']} organisations), {who}: "
              f"macro-F1 {m['macro_f1']}, precision@3 {m['evidence_precision_at_3']} ({per})")
    if better(cv["stage"], cv["rules"]) or args.force_model:
        path = save_model(body)
        print(f"second stage written to {path}")
    else:
        defaults.SECOND_STAGE_FILE.unlink(missing_ok=True)
        print("the second stage does not beat the rules alone: not installed (rules alone)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
