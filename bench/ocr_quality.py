"""OCR quality on the corpus' dev split (run by hand; prints a table, asserts nothing).

    .venv/bin/python bench/ocr_quality.py /tmp/corpus [--kind scan|photo] [--limit N]
        [--jobs 2] [--out DIR] [--no-classify]

For every scanned or photographed rendering of a **dev** document (held-out organisations and
the held-out register are never read), compares what OCR gives with what the born-digital
extraction gives for the same source, rendered again in memory with the same layout
(``scripts/render_corpus.render_pdf``, deterministic):

- ``cer``: character error rate (Levenshtein distance / reference length), whitespace collapsed;
- ``cer_text``: the same without the " | " cell separators, so ``cer - cer_text`` is the table
  structure lost;
- ``words``: Dice overlap of the folded word multisets (order-free): high words with a high CER
  means reading order, low words means character errors;
- ``rows``: share of the reference's table rows (lines with " | ") found as a row of the OCR
  text with the same cells (token overlap >= 0.8);

then classifies both texts and gives macro-F1 per input kind for the OCR'd files and for the
same documents born-digital ("twin"), and every cell where the two disagree. Extractions are
cached like ``evidencia eval`` (``classifiers.corpus``: by bytes and extractor code), so a run
after an eval, or an eval after a run, reuses them. ``--out`` writes each file's reference and
OCR text side by side for reading.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))


def levenshtein(a: str, b: str) -> int:
    """Edit distance, one numpy row per character of ``a`` (insertions by a running minimum)."""
    if len(a) < len(b):
        a, b = b, a
    m = len(b)
    if m == 0:
        return len(a)
    codes = np.frombuffer(b.encode("utf-32-le"), dtype=np.uint32)
    index = np.arange(m + 1, dtype=np.int32)
    previous = index.copy()
    current = np.empty(m + 1, dtype=np.int32)
    for i, ch in enumerate(a, 1):
        current[0] = i
        np.minimum(previous[:-1] + (codes != ord(ch)), previous[1:] + 1, out=current[1:])
        previous = np.minimum.accumulate(current - index) + index
    return int(previous[m])


def _flat(text: str) -> str:
    return " ".join(text.split())


def _no_cells(text: str) -> str:
    return _flat(text.replace(" | ", " ").replace("|", " "))


def reference_text(source_path: Path, corpus_root: Path) -> str:
    import render_corpus

    from extractors import extract

    source = render_corpus.read_source(source_path, corpus_root)
    pdf = render_corpus.render_pdf(source)
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(pdf)
        handle.flush()
        doc = extract(Path(handle.name))
    return doc


def row_recall(reference: str, ocr: str) -> tuple[int, int]:
    from classifiers.evaluate import token_overlap

    rows = [line for line in reference.splitlines() if line.count(" | ") >= 1]
    ocr_rows = [line for line in ocr.splitlines() if " | " in line]
    found = 0
    for row in rows:
        cells = len(row.split(" | "))
        if any(len(o.split(" | ")) == cells and token_overlap(row, o) >= 0.8 for o in ocr_rows):
            found += 1
    return found, len(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--sources", type=Path, default=REPO / "samples" / "corpus")
    parser.add_argument("--kind", choices=("scan", "photo"))
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--only", default="",
                        help="substrings of the file names to keep, comma-separated")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--json", type=Path, help="write per-file figures here")
    parser.add_argument("--no-classify", action="store_true")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="try another value of an extractors.defaults tunable (Python literal;"
                             " use a separate EVIDENCIA_CACHE_DIR: the cache key is the code)")
    args = parser.parse_args(argv)
    import ast

    from extractors import defaults

    for item in args.set:
        name, _, value = item.partition("=")
        setattr(defaults, name, ast.literal_eval(value))

    from classifiers.corpus import extract_all, load_labels
    from classifiers.evaluate import Record, _metrics
    from extractors.document import ExtractedDocument

    entries = [e for e in load_labels(args.corpus)
               if e.eval_split == "dev" and e.render in ("scan", "photo")
               and (args.kind is None or e.render == args.kind)
               and any(part in e.file for part in args.only.split(","))]
    if args.limit:
        entries = entries[: args.limit]
    started, cpu0 = time.perf_counter(), _cpu()
    docs = extract_all(args.corpus, entries, jobs=args.jobs,
                       progress=lambda i, n: print(f"\r{i}/{n}", end="", file=sys.stderr))
    print(file=sys.stderr)
    wall, cpu = time.perf_counter() - started, _cpu() - cpu0
    rows = []
    twins: dict[str, ExtractedDocument] = {}
    for entry in entries:
        doc = docs[entry.file]
        if not isinstance(doc, ExtractedDocument):
            print(f"{entry.file}: {doc}", file=sys.stderr)
            continue
        twin = reference_text(args.sources / (entry.id + ".md"), args.sources)
        twins[entry.file] = twin
        ref = "\n".join(p.text for p in twin.pages)
        hyp = "\n".join(p.text for p in doc.pages)
        ref_flat, hyp_flat = _flat(ref), _flat(hyp)
        ref_text, hyp_text = _no_cells(ref), _no_cells(hyp)
        from classifiers.evaluate import token_overlap

        found, total_rows = row_recall(ref, hyp)
        rows.append({
            "file": entry.file, "kind": entry.render, "chars": len(ref_flat),
            "cer": levenshtein(ref_flat, hyp_flat) / max(1, len(ref_flat)),
            "cer_text": levenshtein(ref_text, hyp_text) / max(1, len(ref_text)),
            "words": token_overlap(ref, hyp),
            "rows_found": found, "rows": total_rows,
            "confidence": statistics.fmean([p.ocr_confidence for p in doc.pages
                                            if p.ocr_confidence is not None] or [0]),
            "rotation": [p.rotation for p in doc.pages],
        })
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            stem = entry.file.replace("/", "__")
            (args.out / f"{stem}.ref.txt").write_text(ref, encoding="utf-8")
            (args.out / f"{stem}.ocr.txt").write_text(hyp, encoding="utf-8")

    print(f"{'file':70} {'cer':>6} {'text':>6} {'words':>6} {'rows':>7} {'conf':>5}")
    for r in sorted(rows, key=lambda r: -r["cer"]):
        print(f"{r['file'][:70]:70} {r['cer']:6.3f} {r['cer_text']:6.3f} {r['words']:6.3f} "
              f"{r['rows_found']:>3}/{r['rows']:<3} {r['confidence']:5.1f}")
    for kind in ("scan", "photo"):
        subset = [r for r in rows if r["kind"] == kind]
        if not subset:
            continue
        chars = sum(r["chars"] for r in subset)
        cer = statistics.fmean(r["cer"] for r in subset)
        print(f"{kind}: {len(subset)} files, CER mean {cer:.4f}"
              f" median {statistics.median(r['cer'] for r in subset):.4f}"
              f" (weighted {sum(r['cer'] * r['chars'] for r in subset) / chars:.4f}),"
              f" without cells {statistics.fmean(r['cer_text'] for r in subset):.4f},"
              f" words {statistics.fmean(r['words'] for r in subset):.3f},"
              f" rows {sum(r['rows_found'] for r in subset)}/{sum(r['rows'] for r in subset)}")
    print(f"extraction: {wall:.0f} s wall, {cpu:.0f} s CPU (children incl. Tesseract), "
          f"load {open('/proc/loadavg').read().split()[:3]}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    if args.no_classify:
        return 0

    import classifiers

    classifiers.load()
    ocr_records, twin_records, flips = [], [], []
    for entry in entries:
        doc = docs.get(entry.file)
        if entry.file not in twins:
            continue
        ocr_result = classifiers.classify(doc)
        twin_result = classifiers.classify(twins[entry.file])
        ocr_records.append(Record(entry, entry.render, doc_type=ocr_result.doc_type,
                                  predicted={c.id: c for c in ocr_result.commitments}))
        twin_records.append(Record(entry, entry.render, doc_type=twin_result.doc_type,
                                   predicted={c.id: c for c in twin_result.commitments}))
        for o, t in zip(ocr_result.commitments, twin_result.commitments, strict=True):
            if o.supported != t.supported:
                gold = entry.labels[o.id]
                flips.append((entry.file, o.id, gold, t.supported, o.supported,
                              (t.evidence[0].text if t.evidence else ""),
                              (o.evidence[0].text if o.evidence else "")))
    for kind in ("scan", "photo"):
        o = _metrics([r for r in ocr_records if r.kind == kind])
        t = _metrics([r for r in twin_records if r.kind == kind])
        if not o["files"]:
            continue
        per = " ".join(f"{c} {o['commitments'][c]['f1']}/{t['commitments'][c]['f1']}"
                       for c in o["commitments"])
        print(f"{kind}: macro-F1 OCR {o['macro_f1']} vs same documents born-digital "
              f"{t['macro_f1']}; P@3 {o['evidence_precision_at_3']} vs "
              f"{t['evidence_precision_at_3']}; per commitment OCR/twin: {per}")
    print(f"{len(flips)} cells where OCR and born-digital disagree:")
    for file, cid, gold, twin_said, ocr_said, twin_ev, ocr_ev in flips:
        right = "OCR right" if ocr_said == gold else "OCR wrong"
        print(f"- {file} {cid} gold={gold} twin={twin_said} ocr={ocr_said} ({right})")
        if twin_ev:
            print(f"    twin: {twin_ev[:200]}")
        if ocr_ev:
            print(f"    ocr:  {ocr_ev[:200]}")
    return 0


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


if __name__ == "__main__":
    raise SystemExit(main())
