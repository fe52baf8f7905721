"""``evidencia eval CORPUS``: how right the classifier is on a labelled corpus.

Reports, for the dev and the held-out split separately, per-commitment precision, recall and F1,
macro-F1, the same for born-digital and OCR'd files (a file is OCR'd when any page was), evidence
precision@3 (share of the top-3 excerpts of correctly detected commitments that match a labelled
evidence passage), document-type accuracy, calibration (Brier score and reliability bins) and the
confusions worth reading: false ✓ with the excerpt that misled, false ✗ with the passage missed.

Excerpt matching is fuzzy because OCR and line wrapping change text: an excerpt matches a labelled
passage when their token overlap (Dice coefficient on folded word tokens) is at least 0.6.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from classifiers.result import COMMITMENT_IDS

__all__ = ["run", "evaluate", "token_overlap", "MATCH_THRESHOLD"]

MATCH_THRESHOLD = 0.6
_WORD = re.compile(r"\w+", re.UNICODE)
_GROUPS = (("all", "todos"), ("born_digital", "digitales"), ("ocr", "con OCR"))


def _tokens(text: str) -> list[str]:
    from classifiers.nlp import fold

    return _WORD.findall(fold(text))


def token_overlap(a: str, b: str) -> float:
    """Dice coefficient of the two texts' multisets of folded word tokens (0..1)."""
    from collections import Counter

    ta, tb = Counter(_tokens(a)), Counter(_tokens(b))
    total = sum(ta.values()) + sum(tb.values())
    if not total:
        return 0.0
    return 2 * sum((ta & tb).values()) / total


@dataclass
class Record:
    entry: object
    ocr: bool
    error: str | None = None
    doc_type: str | None = None
    predicted: dict = field(default_factory=dict)  # cid -> CommitmentResult


def evaluate(corpus: Path, split: str = "all", jobs: int = 2, progress=None) -> dict:
    """Extract (cached), classify and score every file of the split; returns the report dict."""
    import classifiers
    from classifiers.corpus import extract_all, load_labels

    entries = [e for e in load_labels(corpus) if split == "all" or e.split == split]
    docs = extract_all(corpus, entries, jobs=jobs, progress=progress)
    classifiers.load()
    records = []
    for entry in entries:
        doc = docs.get(entry.file)
        if not hasattr(doc, "pages"):
            records.append(Record(entry, entry.ocr_render, error=str(doc)))
            continue
        result = classifiers.classify(doc)
        records.append(
            Record(
                entry,
                ocr=doc.ocr_pages > 0,
                doc_type=result.doc_type,
                predicted={c.id: c for c in result.commitments},
            )
        )
    report = {
        "classifier_version": classifiers.CLASSIFIER_VERSION,
        "calibrated": classifiers.calibrator.calibrated,
        "corpus": str(corpus),
        "split": split,
        "files": len(records),
        "errors": [{"file": r.entry.file, "error": r.error} for r in records if r.error],
        "splits": {},
        "confusions": {},
    }
    for name in ("dev", "heldout"):
        subset = [r for r in records if r.entry.split == name and not r.error]
        if not subset:
            continue
        report["splits"][name] = {
            group: _metrics([r for r in subset if _in_group(r, group)]) for group, _ in _GROUPS
        }
        report["confusions"][name] = _confusions(subset)
    return report


def _in_group(record: Record, group: str) -> bool:
    return group == "all" or (group == "ocr") == record.ocr


def _prf(tp: int, fp: int, fn: int) -> tuple[float | None, float | None, float | None]:
    p = tp / (tp + fp) if tp + fp else None
    r = tp / (tp + fn) if tp + fn else None
    if tp + fp + fn == 0:
        return p, r, None  # nothing to find and nothing claimed: F1 undefined, left out of macro
    f = 2 * tp / (2 * tp + fp + fn)
    return p, r, f


def _metrics(records: list[Record]) -> dict:
    out: dict = {"files": len(records), "commitments": {}}
    f1s = []
    excerpts = matched = 0
    brier = []
    bins = [[0, 0, 0.0] for _ in range(5)]  # count, correct, sum of confidence
    for cid in COMMITMENT_IDS:
        tp = fp = fn = tn = 0
        for r in records:
            gold = r.entry.labels.get(cid, False)
            res = r.predicted[cid]
            pred = res.supported
            tp += pred and gold
            fp += pred and not gold
            fn += gold and not pred
            tn += not gold and not pred
            correct = pred == gold
            brier.append((res.confidence - (1.0 if correct else 0.0)) ** 2)
            b = bins[min(int(res.confidence * 5), 4)]
            b[0] += 1
            b[1] += correct
            b[2] += res.confidence
            if pred and gold:
                for ev in res.evidence[:3]:
                    excerpts += 1
                    golds = r.entry.evidence.get(cid, [])
                    if any(token_overlap(ev.text, g) >= MATCH_THRESHOLD for g in golds):
                        matched += 1
        p, rcl, f = _prf(tp, fp, fn)
        out["commitments"][cid] = {
            "tp": tp, "fp": fp, "fn": fn, "tn": tn,
            "precision": _round(p), "recall": _round(rcl), "f1": _round(f),
        }
        if f is not None:
            f1s.append(f)
    out["macro_f1"] = _round(sum(f1s) / len(f1s)) if f1s else None
    out["evidence_precision_at_3"] = _round(matched / excerpts) if excerpts else None
    out["evidence_excerpts"] = excerpts
    typed = [r for r in records if r.doc_type]
    out["doc_type_accuracy"] = _round(
        sum(r.doc_type == r.entry.doc_type for r in typed) / len(typed) if typed else None
    )
    out["brier"] = _round(sum(brier) / len(brier)) if brier else None
    out["reliability"] = [
        {"bin": f"{i / 5:.1f}-{(i + 1) / 5:.1f}", "n": n,
         "mean_confidence": _round(s / n) if n else None,
         "accuracy": _round(c / n) if n else None}
        for i, (n, c, s) in enumerate(bins)
    ]
    return out


def _round(x):
    return None if x is None else round(x, 3)


def _confusions(records: list[Record]) -> list[dict]:
    out = []
    for r in records:
        for cid in COMMITMENT_IDS:
            gold = r.entry.labels.get(cid, False)
            res = r.predicted[cid]
            if res.supported == gold:
                continue
            item = {
                "kind": "false_positive" if res.supported else "false_negative",
                "commitment": cid, "id": r.entry.id, "file": r.entry.file,
                "render": r.entry.render, "ocr": r.ocr, "confidence": res.confidence,
                "tags": list(r.entry.tags),
            }
            if res.supported:
                top = res.evidence[0]
                item.update(excerpt=top.text, page=top.page, pattern_ids=list(top.pattern_ids))
            else:
                golds = r.entry.evidence.get(cid, [])
                item.update(expected=golds[0] if golds else "")
                if res.evidence:
                    item.update(weak_excerpt=res.evidence[0].text)
            out.append(item)
    return out


def _fmt(x) -> str:
    return "  —  " if x is None else f"{x:5.2f}"


def _print_human(report: dict, out=None) -> None:
    w = (out or sys.stdout).write
    w(f"Evaluación del clasificador {report['classifier_version']}\n")
    w(f"Corpus: {report['corpus']} — {report['files']} archivos")
    if not report["calibrated"]:
        w(" — ATENCIÓN: sin calibración válida (confianzas no calibradas)")
    w("\n")
    names = {"dev": "desarrollo (dev)", "heldout": "reservado (held-out, nunca usado para ajustar)"}
    for split, groups in report["splits"].items():
        allg = groups["all"]
        w(f"\n=== {names[split]}: {allg['files']} archivos "
          f"({groups['born_digital']['files']} digitales, {groups['ocr']['files']} con OCR) ===\n")
        w("compromiso   precisión  exhaustividad   F1    (VP/FP/FN)\n")
        for cid in COMMITMENT_IDS:
            m = allg["commitments"][cid]
            w(f"  {cid}          {_fmt(m['precision'])}      {_fmt(m['recall'])}     "
              f"{_fmt(m['f1'])}  ({m['tp']}/{m['fp']}/{m['fn']})\n")
        w("macro-F1:")
        for group, label in _GROUPS:
            w(f"  {label} {_fmt(groups[group]['macro_f1']).strip()}")
        w("\n")
        w(f"precisión de evidencia @3: {_fmt(allg['evidence_precision_at_3']).strip()} "
          f"({allg['evidence_excerpts']} extractos; digitales "
          f"{_fmt(groups['born_digital']['evidence_precision_at_3']).strip()}, con OCR "
          f"{_fmt(groups['ocr']['evidence_precision_at_3']).strip()})\n")
        w(f"tipo de documento correcto: {_fmt(allg['doc_type_accuracy']).strip()}   "
          f"Brier de la confianza: {_fmt(allg['brier']).strip()}\n")
        w("fiabilidad de la confianza (tramo: n, confianza media → acierto real):\n")
        for b in allg["reliability"]:
            if b["n"]:
                w(f"    {b['bin']}: {b['n']:4d}  "
                  f"{b['mean_confidence']:.2f} → {b['accuracy']:.2f}\n")
        conf = report["confusions"].get(split, [])
        w(f"confusiones ({len(conf)}):\n")
        for c in conf:
            mark = "✓ falso" if c["kind"] == "false_positive" else "✗ falso"
            ocr = " [OCR]" if c["ocr"] else ""
            w(f"  {mark} {c['commitment']}  {c['file']}{ocr}  (confianza {c['confidence']:.2f})\n")
            if c["kind"] == "false_positive":
                w(f"      extracto p.{c['page']}: «{_short(c['excerpt'])}» {c['pattern_ids']}\n")
            else:
                w(f"      esperado: «{_short(c['expected'])}»\n")
    if report["errors"]:
        w(f"\narchivos que no se pudieron leer ({len(report['errors'])}):\n")
        for e in report["errors"]:
            w(f"  {e['file']}: {e['error']}\n")


def _short(text: str, n: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def run(args) -> int:
    corpus = Path(args.corpus)
    if not (corpus / "labels.jsonl").is_file():
        print(f"No se encontró {corpus / 'labels.jsonl'}: CORPUS debe ser una carpeta generada "
              "por scripts/render_corpus.py.", file=sys.stderr)
        return 2

    def progress(done: int, total: int) -> None:
        if sys.stderr.isatty() or done == total:
            print(f"\rextrayendo {done}/{total}", end="" if done < total else "\n",
                  file=sys.stderr, flush=True)

    try:
        report = evaluate(corpus, split=getattr(args, "split", "all"), progress=progress)
    except ValueError as exc:
        print(f"Corpus inválido: {exc}", file=sys.stderr)
        return 2
    if getattr(args, "json", False):
        json.dump(report, sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    else:
        _print_human(report)
    return 1 if report["errors"] else 0
