"""How each decision rule of the weighted-mean family would decide labelled folders, with the
installed artefacts; and how far two readings of the same texts agree (run by hand; prints
figures only, asserts nothing; classifiers/QUALITY.md, eighteenth round).

    .venv/bin/python bench/real_decisions.py cells FOLDER [FOLDER ...] [--sets SETS.json]
    .venv/bin/python bench/real_decisions.py agree LABELS.jsonl SECOND.jsonl

``cells``: every file of each folder (a ``labels.jsonl`` in ``render_corpus.py``'s format beside
its files: the corpus, a view of it, or a real set of ``bench/real_texts/``) is extracted
(``classifiers.corpus`` cache) and classified once; per cell the rules' calibrated probability,
the document model's and whether the rules proposed a passage are kept, and each rule
(r × p_rules + m × p_model) / (r + m) ≥ 0.5 is applied to them offline. The model's weights do
not depend on the rule (it only stamps the artefact), so this is what ``classify`` would decide
under that rule; the run says how many cells the rule in force decides otherwise than
``classify`` (0 when the harness is right). Printed per folder (and per set of ``--sets``, a JSON
{file: set name}): wrong cells (false / missed) and macro-F1 as ``evidencia eval`` counts them
(over the commitments with a positive or a false claim).

``agree``: two label files over the same texts (by ``file``): cells in agreement, Cohen's kappa
per commitment, and macro-F1 of the second reading scored against the first.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CIDS = ("c1", "c2", "c3", "c4", "c5")
#: (name, decision): a (rules weight, model weight) pair, or the name of classify's own decision
#: kept with each cell ("installed", "rules")
RULES = (("installed", "installed"), ("1:3", (1, 3)), ("1:2", (1, 2)), ("1:1", (1, 1)),
         ("2:1", (2, 1)), ("rules", "rules"))
IN_FORCE = (1, 3)


def cells(folder: Path) -> list[dict]:
    """One row per file: its cells' label, probabilities and classify's decisions."""
    import classifiers
    import classifiers.second_stage as second_stage
    from classifiers.corpus import extract_all, load_labels

    entries = load_labels(folder)
    docs = extract_all(folder, entries, jobs=2)
    classifiers.load()
    model = classifiers.second_stage_model
    if model is None:
        raise SystemExit(f"no second stage in force: {classifiers.second_stage_refusal}")
    seen: list = []
    decided: dict = {}
    combine = second_stage.combine

    def recording_combine(p_rules, p_model, rule=None):
        seen.append((p_rules, p_model))
        return combine(p_rules, p_model, rule)

    class RecordingModel:  # classify's own model, its decisions kept for the passages' presence
        def __getattr__(self, name):
            return getattr(model, name)

        def decide(self, reading):
            decided["last"] = model.decide(reading)
            return decided["last"]

    second_stage.combine = recording_combine
    classifiers.second_stage_model = RecordingModel()
    rows = []
    try:
        for entry in entries:
            doc = docs.get(entry.file)
            if not hasattr(doc, "pages"):
                rows.append({"file": entry.file, "error": str(doc)})
                continue
            seen.clear()
            result = classifiers.classify(doc, use_model=True)
            rows.append({"file": entry.file, "cells": {
                c.id: {"label": bool(entry.labels.get(c.id, False)),
                       "p_rules": seen[i][0], "p_model": seen[i][1],
                       "has": bool(decided["last"][c.id].passages),
                       "installed": c.supported, "rules": bool(c.rules_supported)}
                for i, c in enumerate(result.commitments)}})
    finally:
        second_stage.combine = combine
        classifiers.second_stage_model = model
    return rows


def decide(cell: dict, decision) -> bool:
    if isinstance(decision, str):
        return cell[decision]
    r, m = decision
    return cell["has"] and (r * cell["p_rules"] + m * cell["p_model"]) / (r + m) >= 0.5


def macro_f1(pairs) -> float | None:
    """``pairs``: (cid, predicted, gold) triples; F1 per commitment as ``evidencia eval``."""
    counts = {cid: [0, 0, 0] for cid in CIDS}
    for cid, pred, gold in pairs:
        counts[cid][0] += pred and gold
        counts[cid][1] += pred and not gold
        counts[cid][2] += gold and not pred
    f1s = [2 * tp / (2 * tp + fp + fn) for tp, fp, fn in counts.values() if tp + fp + fn]
    return sum(f1s) / len(f1s) if f1s else None


def report(rows: list[dict], title: str) -> None:
    rows = [r for r in rows if "cells" in r]
    print(f"{title} ({len(rows)} files)")
    for name, decision in RULES:
        pairs = [(cid, decide(r["cells"][cid], decision), r["cells"][cid]["label"])
                 for r in rows for cid in CIDS]
        false = sum(p and not g for _c, p, g in pairs)
        missed = sum(g and not p for _c, p, g in pairs)
        f1 = macro_f1(pairs)
        print(f"  {name:9} wrong {false + missed:4} ({false:3} / {missed:3})  macro-F1 "
              + (f"{f1:.3f}" if f1 is not None else "-"))


def agreement(first: Path, second: Path) -> None:
    def read(path):
        return {d["file"]: d["labels"] for d in map(json.loads, path.open(encoding="utf-8"))}

    a, b = read(first), read(second)
    files = sorted(set(a) & set(b))
    print(f"{len(files)} texts read twice")
    agree = sum(a[f][c] == b[f][c] for f in files for c in CIDS)
    print(f"  cells in agreement: {agree} of {len(files) * len(CIDS)}")
    for cid in CIDS:
        n = len(files)
        both = sum(a[f][cid] and b[f][cid] for f in files)
        po = sum(a[f][cid] == b[f][cid] for f in files) / n
        pa, pb = sum(a[f][cid] for f in files) / n, sum(b[f][cid] for f in files) / n
        pe = pa * pb + (1 - pa) * (1 - pb)
        kappa = (po - pe) / (1 - pe) if pe < 1 else float("nan")
        print(f"  {cid}: first {sum(a[f][cid] for f in files):3}, second "
              f"{sum(b[f][cid] for f in files):3}, both {both:3}, kappa {kappa:.2f}")
    f1 = macro_f1((cid, b[f][cid], a[f][cid]) for f in files for cid in CIDS)
    print(f"  the second reading scored against the first: macro-F1 {f1:.3f}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("cells")
    c.add_argument("folders", type=Path, nargs="+")
    c.add_argument("--sets", type=Path, help="JSON {file: set name}, reported apart")
    c.add_argument("--keep", type=Path, help="write the cells as JSON here")
    g = sub.add_parser("agree")
    g.add_argument("first", type=Path)
    g.add_argument("second", type=Path)
    args = p.parse_args(argv)
    if args.command == "agree":
        agreement(args.first, args.second)
        return 0
    every = []
    for folder in args.folders:
        rows = cells(folder)
        differ = sum(decide(r["cells"][cid], IN_FORCE) != r["cells"][cid]["installed"]
                     for r in rows if "cells" in r for cid in CIDS)
        print(f"{folder}: the rule in force decides {differ} cells otherwise than classify")
        for r in rows:
            if "error" in r:
                print(f"  error: {r['file']}: {r['error']}")
        if args.sets:
            sets = json.loads(args.sets.read_text(encoding="utf-8"))
            for name in sorted(set(sets.values())):
                report([r for r in rows if sets.get(r["file"]) == name], f"{folder} {name}")
        report(rows, str(folder))
        every += rows
    if len(args.folders) > 1:
        report(every, "all folders")
    if args.keep:
        args.keep.write_text(json.dumps(every, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
