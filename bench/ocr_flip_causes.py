"""Why a source's cells flip between born-digital and OCR'd text (run by hand after
``bench/ocr_flips.py`` with ``--twins``; dev organisations only, out of fold).

    .venv/bin/python bench/ocr_flip_causes.py /tmp/corpus [--work /tmp/ocrd] [--tag main]

For every pair (born-digital rendering or in-memory twin, OCR'd rendering) the same texts are
prepared again with the OCR flag moved, each decided by the fold that did not train on its
organisation:

- ``D+units``: the born-digital text cut into units as an OCR'd page is (``page.ocr``), the
  candidates' ``ocr`` feature off;
- ``D+feature``: the born-digital text cut as it is, the ``ocr`` feature on;
- ``O-flag``: the OCR'd text cut as a text layer is and the ``ocr`` feature off.

A flipped cell is put down to the OCR unit building when ``D+units`` already flips it, to the
feature when ``D+feature`` does, to the text when ``O-flag`` still differs from the born-digital
decision; several can hold.
"""

from __future__ import annotations

import argparse
import hashlib
import pickle
import sys
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "scripts"))

CIDS = ("c1", "c2", "c3", "c4", "c5")
_DOCS: dict = {}


def prepare_as(doc, key, group, source, labels, evidence, unit_ocr, feature_ocr):
    """``learn.prepare`` with the pages' OCR flag and the candidates' ``ocr`` feature set."""
    import classifiers
    from classifiers.engine import analyse
    from classifiers.evaluate import matches_any
    from classifiers.features import candidate_features
    from classifiers.learn import Example, _Cand

    doc = replace(doc, pages=tuple(replace(p, ocr=unit_ocr) for p in doc.pages))
    analysis = analyse(doc)
    rules = classifiers.classify_analysis(analysis, use_model=False)
    text = "\n\f".join(p.text for p in doc.pages)
    ex = Example(
        key=key, group=group, source=source,
        text_sha256=hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest(),
        labels={c: bool(v) for c, v in labels.items() if c in CIDS and v is not None},
        evidence={c: list(v) for c, v in evidence.items()},
        doc_type=analysis.doc_type, scores=dict(analysis.scores),
        rules_supported={c.id: c.supported for c in rules},
    )
    cache: dict = {}
    for cid in CIDS:
        golds = ex.evidence.get(cid, []) if ex.labels.get(cid) else []
        ex.candidates[cid] = [
            _Cand(candidate_features(c, analysis.context, analysis.doc_type, feature_ocr, cache),
                  bool(golds) and matches_any(c.unit.text, golds), c.unit.text, c.unit.page,
                  tuple(c.valid or c.matched), c.score)
            for c in analysis.candidates[cid]
        ]
    return ex


def _job(item):
    variant, key, group, source, labels, evidence, unit_ocr, feature_ocr = item
    ex = prepare_as(_DOCS[key], f"{variant}:{key}", group, source, labels, evidence, unit_ocr,
                    feature_ocr)
    return variant, key, ex


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("corpus", type=Path)
    p.add_argument("--work", type=Path, default=Path("/tmp/ocrd"))
    p.add_argument("--tag", default="main")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--sources", type=Path, default=REPO / "samples" / "corpus")
    args = p.parse_args(argv)

    from ocr_flips import dev_entries
    from ocr_quality import reference_text

    import classifiers
    from classifiers.corpus import extract_all, input_kind
    from classifiers.learn import Params, _calibrator, _folds, _predict, fit

    examples = pickle.loads((args.work / f"examples-{args.tag}.pkl").read_bytes())
    pred = pickle.loads((args.work / f"pred-{args.tag}.pkl").read_bytes())
    entries = dev_entries(args.corpus)
    by_file = {e.file: e for e in entries}
    by_key = {ex.key: ex for ex in examples}

    def kind_of(key):
        return "twin" if key.startswith("twin:") else input_kind(by_file[key].render)

    pairs = []
    by_source: dict[str, list[str]] = {}
    for ex in examples:
        if not ex.key.startswith("twin:"):
            by_source.setdefault(ex.source, []).append(ex.key)
    for keys in by_source.values():
        pairs += [(d, o) for d in keys if kind_of(d) == "born_digital"
                  for o in keys if kind_of(o) in ("scan", "photo")]
    pairs += [(k, k[len("twin:"):]) for k in by_key if k.startswith("twin:")]

    needed = sorted({d for d, _ in pairs} | {o for _, o in pairs})
    files = [by_file[k] for k in needed if not k.startswith("twin:")]
    docs = extract_all(args.corpus, files, jobs=args.jobs)
    for k in needed:
        if k.startswith("twin:"):
            e = by_file[k[len("twin:"):]]
            docs[k] = reference_text(args.sources / (e.id + ".md"), args.sources)
    classifiers.load()
    _DOCS.update(docs)
    items = []
    for d, o in pairs:
        e = by_file[o]
        for variant, key, unit_ocr, feature_ocr in (("Dunits", d, True, False),
                                                    ("Dfeature", d, False, True),
                                                    ("Oflag", o, False, False)):
            items.append((variant, key, e.org, e.id, e.labels, e.evidence, unit_ocr,
                          feature_ocr))
    items = sorted({(t[0], t[1]): t for t in items}.values(), key=lambda t: (t[0], t[1]))
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        variants = {(v, k): ex for v, k, ex in pool.map(_job, items, chunksize=8)}
    print(f"{len(variants)} variants prepared", file=sys.stderr)

    train_pool = sorted((ex for ex in examples if not ex.key.startswith("twin:")),
                        key=lambda ex: ex.key)
    params = Params()
    vpred = {}
    for train_idx, test_idx in _folds(train_pool, params.folds):
        train = [train_pool[i] for i in train_idx]
        test_orgs = {train_pool[i].group for i in test_idx}
        passage, document = fit(train, params)
        calibrator = _calibrator(train)
        for (v, k), ex in variants.items():
            if ex.group not in test_orgs:
                continue
            for cid in ex.labels:
                p_r = calibrator.probability(cid, ex.scores[cid])
                held = any(c.score > 0 for c in ex.candidates[cid])
                stage, _ = _predict(ex, cid, passage[cid], document[cid], p_r)
                vpred[(v, k, cid)] = {"stage": bool(stage), "rules": bool(held and p_r >= 0.5)}
    (args.work / f"vpred-{args.tag}.pkl").write_bytes(pickle.dumps(vpred))

    for who in ("stage", "rules"):
        causes = Counter()
        n = 0
        for d, o in pairs:
            origin = "twin" if d.startswith("twin:") else "corpus"
            for cid in CIDS:
                if (d, cid) not in pred:
                    continue
                dv, ov = pred[(d, cid)][who], pred[(o, cid)][who]
                if dv == ov:
                    continue
                n += 1
                why = []
                if vpred[("Dunits", d, cid)][who] != dv:
                    why.append("units")
                if vpred[("Dfeature", d, cid)][who] != dv:
                    why.append("feature")
                if vpred[("Oflag", o, cid)][who] != dv:
                    why.append("text")
                right = "ocr right" if ov == pred[(o, cid)]["gold"] else "ocr wrong"
                causes[(origin, "+".join(why) or "only together", right)] += 1
        print(f"-- {who}: {n} flips over {len(pairs)} pairs")
        for key, count in sorted(causes.items()):
            print(f"  {key}: {count}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
