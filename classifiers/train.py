"""Fit the confidence calibration on the dev split: ``python -m classifiers.train CORPUS``.

Reproducible: the same corpus, patterns and code give the same artefact (no randomness). Only
``split == "dev"`` files are used; the held-out split stays out of every fitted number. The raw
score of each commitment (see engine.score) is mapped to P(supported) by isotonic regression with
a Laplace prior, and written with the fingerprint of the patterns and code to
``classifiers/model/calibration.json``. Re-run it after any pattern change (the classifier
refuses a stale artefact and says so in its version suffix ``.uncal``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from classifiers.calibration import fit_isotonic, save_calibration
from classifiers.result import COMMITMENT_IDS

__all__ = ["collect_scores", "train", "main"]


def collect_scores(corpus: Path, split: str = "dev", jobs: int = 2):
    """(scores per commitment, gold labels per commitment, number of files) for one split."""
    from classifiers.corpus import extract_all, load_labels
    from classifiers.engine import analyse

    entries = [e for e in load_labels(corpus) if e.split == split]
    docs = extract_all(corpus, entries, jobs=jobs)
    scores = {c: [] for c in COMMITMENT_IDS}
    gold = {c: [] for c in COMMITMENT_IDS}
    used = 0
    for entry in entries:
        doc = docs[entry.file]
        if not hasattr(doc, "pages"):
            continue
        analysis = analyse(doc)
        used += 1
        for cid in COMMITMENT_IDS:
            scores[cid].append(analysis.scores[cid])
            gold[cid].append(bool(entry.labels.get(cid, False)))
    return scores, gold, used


def train(corpus: Path, jobs: int = 2) -> dict:
    from classifiers.version import fingerprint

    scores, gold, used = collect_scores(corpus, "dev", jobs)
    if used == 0:
        raise SystemExit("no dev-split files could be read: nothing to calibrate on")
    curves = {cid: fit_isotonic(scores[cid], gold[cid]) for cid in COMMITMENT_IDS}
    meta = {  # no timestamp: the same corpus and code give a byte-identical artefact
        "corpus": corpus.name,
        "split": "dev",
        "files": used,
        "positives": {cid: sum(gold[cid]) for cid in COMMITMENT_IDS},
        "method": "isotonic (PAV) with Laplace prior, min block 4",
    }
    save_calibration(curves, fingerprint(), meta)
    return {"meta": meta, "curves": curves}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m classifiers.train", description=__doc__)
    p.add_argument("corpus", type=Path, help="rendered corpus folder with labels.jsonl")
    p.add_argument("--jobs", type=int, default=2)
    args = p.parse_args(argv)
    if not (args.corpus / "labels.jsonl").is_file():
        print(f"{args.corpus}/labels.jsonl not found", file=sys.stderr)
        return 2
    out = train(args.corpus, args.jobs)
    print(f"calibrated on {out['meta']['files']} dev files; positives {out['meta']['positives']}")
    for cid, (xs, ps) in out["curves"].items():
        steps = ", ".join(f"≥{x:g}: {p:.2f}" for x, p in zip(xs, ps, strict=True))
        print(f"  {cid}: {steps}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
