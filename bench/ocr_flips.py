"""Does a source's classification change between its born-digital and its OCR'd renderings?
Dev organisations only, out of fold (run by hand; prints figures, asserts nothing).

    .venv/bin/python bench/ocr_flips.py /tmp/corpus [--jobs 2] [--work /tmp/ocrd]
        [--twins] [--tag NAME]

Every dev file (held-out organisations, the held-out register and blind sets are never read)
is extracted (``classifiers.corpus`` cache) and prepared as ``learn.prepare`` does; the
calibration and second stage are fitted per fold of whole organisations (``learn._folds``, as
``learn.cross_validate``) and each file is decided by the fold that did not train on its
organisation, with the decision rule in force and by the rules alone. Printed: per input kind
the wrong cells (false / missed) and macro-F1; for every source rendered both born-digital and
OCR'd in the corpus, the cells whose decision differs between the renderings, with the
probabilities and the best candidate passage of each side. ``--twins`` adds, for every OCR'd
dev file, the same source rendered born-digital in memory (``bench/ocr_quality.reference_text``)
and decided by the same fold's model (more pairs than the corpus renders).
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "scripts"))

_DOCS: dict = {}


def _prepare(item):
    from classifiers.learn import prepare

    key, group, source, labels, evidence = item
    return prepare(_DOCS[key], key=key, group=group, source=source, labels=labels,
                   evidence=evidence)


def dev_entries(corpus: Path):
    from classifiers.corpus import HELDOUT_ORGS, load_labels

    return [e for e in load_labels(corpus)
            if e.eval_split == "dev" and e.split == "dev" and e.org not in HELDOUT_ORGS]


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("corpus", type=Path)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--work", type=Path, default=Path("/tmp/ocrd"))
    p.add_argument("--tag", default="main")
    p.add_argument("--twins", action="store_true")
    p.add_argument("--sources", type=Path, default=REPO / "samples" / "corpus")
    p.add_argument("--files", type=Path,
                   help="a JSON list of corpus files: only these (the same set before and after)")
    args = p.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)

    import classifiers
    from classifiers.corpus import extract_all, input_kind
    from classifiers.features import document_features
    from classifiers.learn import Params, _calibrator, _folds, _predict, fit

    entries = dev_entries(args.corpus)
    if args.files:
        keep = set(json.loads(args.files.read_text()))
        entries = [e for e in entries if e.file in keep]
    by_file = {e.file: e for e in entries}
    t0 = time.time()
    docs = extract_all(args.corpus, entries, jobs=args.jobs,
                       progress=lambda i, n: print(f"\rextract {i}/{n}", end="", file=sys.stderr))
    print(f"\nextracted {len(docs)} in {time.time() - t0:.0f} s", file=sys.stderr)
    docs = {f: d for f, d in docs.items() if hasattr(d, "pages")}
    twin_of: dict[str, str] = {}
    if args.twins:
        from ocr_quality import reference_text

        for e in entries:
            if e.render in ("scan", "photo") and e.file in docs:
                key = "twin:" + e.file
                docs[key] = reference_text(args.sources / (e.id + ".md"), args.sources)
                twin_of[key] = e.file
        print(f"twins rendered {len(twin_of)} ({time.time() - t0:.0f} s)", file=sys.stderr)

    classifiers.load()
    _DOCS.update(docs)
    items = []
    for key in sorted(docs):
        e = by_file[twin_of.get(key, key)]
        items.append((key, e.org, e.id, e.labels, e.evidence))
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        examples = list(pool.map(_prepare, items, chunksize=8))
    print(f"prepared {len(examples)} ({time.time() - t0:.0f} s)", file=sys.stderr)
    (args.work / f"examples-{args.tag}.pkl").write_bytes(pickle.dumps(examples))
    texts = {k: "\n\f".join(pg.text for pg in d.pages) for k, d in docs.items()}
    (args.work / f"texts-{args.tag}.json").write_text(json.dumps(texts, ensure_ascii=False))

    # out of fold: folds over the corpus files only (twins are scored, never trained on)
    train_pool = sorted((ex for ex in examples if not ex.key.startswith("twin:")),
                        key=lambda ex: ex.key)
    twins = [ex for ex in examples if ex.key.startswith("twin:")]
    params = Params()
    pred = {}
    for train_idx, test_idx in _folds(train_pool, params.folds):
        train = [train_pool[i] for i in train_idx]
        test_orgs = {train_pool[i].group for i in test_idx}
        passage, document = fit(train, params)
        calibrator = _calibrator(train)
        scored = [train_pool[i] for i in test_idx] + [t for t in twins if t.group in test_orgs]
        for ex in scored:
            for cid in ex.labels:
                p_r = calibrator.probability(cid, ex.scores[cid])
                held = any(c.score > 0 for c in ex.candidates[cid])
                stage, shown = _predict(ex, cid, passage[cid], document[cid], p_r)
                cands = ex.candidates[cid]
                probs = [passage[cid].probability(c.features) for c in cands]
                p_m = document[cid].probability(
                    document_features(probs, ex.scores[cid], len(cands), ex.doc_type))
                pred[(ex.key, cid)] = {
                    "stage": bool(stage), "rules": bool(held and p_r >= 0.5),
                    "p_r": round(p_r, 3), "p_m": round(p_m, 3), "score": ex.scores[cid],
                    "gold": ex.labels[cid],
                    "top": shown[0].text[:240] if shown else "",
                    "top_rules": max(cands, key=lambda c: c.score).text[:240] if cands else "",
                    "n_cands": len(cands), "n_pos": sum(c.positive for c in cands),
                }
    (args.work / f"pred-{args.tag}.pkl").write_bytes(pickle.dumps(pred))

    def kind_of(key):
        return "twin" if key.startswith("twin:") else input_kind(by_file[key].render)

    print(f"\n== {args.tag}: out of fold, dev organisations, {len(train_pool)} files, "
          f"{len({e.group for e in train_pool})} organisations")
    for who in ("stage", "rules"):
        print(f"-- decided by {who}")
        for kind in ("born_digital", "scan", "photo", "twin"):
            keys = [ex.key for ex in examples if kind_of(ex.key) == kind]
            if not keys:
                continue
            fp = sum(pred[(k, c)][who] and not pred[(k, c)]["gold"]
                     for k in keys for c in "c1 c2 c3 c4 c5".split() if (k, c) in pred)
            fn = sum(pred[(k, c)]["gold"] and not pred[(k, c)][who]
                     for k in keys for c in "c1 c2 c3 c4 c5".split() if (k, c) in pred)
            print(f"  {kind:13s} {len(keys):4d} files  wrong {fp + fn:4d} ({fp} / {fn})  "
                  f"macro-F1 {macro_f1(pred, keys, who):.3f}")

    # pairs: corpus renderings of one source, born-digital vs OCR'd
    by_source = defaultdict(list)
    for ex in train_pool:
        by_source[ex.source].append(ex.key)
    pairs = []
    for _source, keys in sorted(by_source.items()):
        digital = [k for k in keys if kind_of(k) == "born_digital"]
        ocr = [k for k in keys if kind_of(k) in ("scan", "photo")]
        pairs += [(d, o) for d in digital for o in ocr]
    pairs += [(t, twin_of[t]) for t in sorted(twin_of)]
    for who in ("stage", "rules"):
        flips = Counter()
        for d, o in pairs:
            origin = "twin" if d.startswith("twin:") else "corpus"
            for cid in "c1 c2 c3 c4 c5".split():
                if (d, cid) in pred and pred[(d, cid)][who] != pred[(o, cid)][who]:
                    flips[(origin, "ocr right" if pred[(o, cid)][who] == pred[(o, cid)]["gold"]
                           else "ocr wrong")] += 1
        print(f"-- {who}: {len(pairs)} pairs; flips {dict(flips)}")
    print("\nflips (stage):")
    for d, o in pairs:
        for cid in "c1 c2 c3 c4 c5".split():
            a, b = pred.get((d, cid)), pred.get((o, cid))
            if a and (a["stage"] != b["stage"] or a["rules"] != b["rules"]):
                print(f"- {o} {cid} gold={b['gold']} digital={a['stage']}/{a['rules']} "
                      f"ocr={b['stage']}/{b['rules']} (stage/rules) p_r {a['p_r']}->{b['p_r']} "
                      f"p_m {a['p_m']}->{b['p_m']} score {a['score']:.2f}->{b['score']:.2f} "
                      f"cands {a['n_cands']}/{a['n_pos']}->{b['n_cands']}/{b['n_pos']}")
                print(f"    D: {a['top'] or a['top_rules']}")
                print(f"    O: {b['top'] or b['top_rules']}")
    return 0


def macro_f1(pred, keys, who) -> float:
    f1s = []
    for cid in "c1 c2 c3 c4 c5".split():
        cells = [pred[(k, cid)] for k in keys if (k, cid) in pred]
        tp = sum(c[who] and c["gold"] for c in cells)
        fp = sum(c[who] and not c["gold"] for c in cells)
        fn = sum(c["gold"] and not c[who] for c in cells)
        if tp + fp + fn:
            f1s.append(2 * tp / (2 * tp + fp + fn))
    return sum(f1s) / len(f1s) if f1s else float("nan")


if __name__ == "__main__":
    raise SystemExit(main())
