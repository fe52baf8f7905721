"""``evidencia eval CORPUS``: how right the classifier is on a labelled corpus.

Splits (``--split``): ``dev`` (dev organisations, registers other than the held-out ones),
``heldout`` (held-out organisations, same registers), ``register`` (the held-out registers, press
and web, of every organisation) and ``all``; see ``classifiers.corpus``. For each split: per
commitment precision, recall and F1, macro-F1, the same per input kind (born-digital, scan,
photo; "ocr" is scan and photo together) and per register, evidence precision@3 (share of the
top-3 excerpts of correctly detected commitments that match a labelled evidence passage),
document-type accuracy, calibration (Brier score and reliability bins), and every confusion with
its passage, its rule ids and its score (the model's probability when the second stage decided).

``--rules-only`` measures the rules with their calibration, without the learned second stage, so
the two can be compared on the same files.

Excerpt matching is fuzzy because OCR and line wrapping change text: an excerpt matches a labelled
passage when their token overlap (Dice coefficient on folded word tokens) is at least 0.6.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from classifiers.corpus import EVAL_SPLITS, REGISTERS, input_kind
from classifiers.result import COMMITMENT_IDS
from extractors.errors import EvidenciaError

__all__ = ["run", "evaluate", "CorpusError", "token_overlap", "matches_any", "MATCH_THRESHOLD"]

MATCH_THRESHOLD = 0.6


class CorpusError(EvidenciaError):
    """CORPUS is not a labelled corpus: a usage error, told (and exit 2) by the command line's
    one error boundary (``service.cli.main``) like every other command's."""

    code = "usage"

_WORD = re.compile(r"\w+", re.UNICODE)
#: (key, Spanish label) of the input-kind groups of each split
_GROUPS = (
    ("all", "todos"),
    ("born_digital", "digitales"),
    ("ocr", "con OCR"),
    ("scan", "escaneos"),
    ("photo", "fotos"),
)
_SPLIT_NAMES = {
    "dev": "desarrollo (dev)",
    "heldout": "organizaciones reservadas (held-out, nunca usadas para ajustar)",
    "register": "registro reservado (prensa y web, nunca usados para ajustar)",
}


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


def matches_any(text: str, passages) -> bool:
    """The excerpt is one of the labelled passages (up to OCR noise and wrapping)."""
    return any(token_overlap(text, g) >= MATCH_THRESHOLD for g in passages)


@dataclass
class Record:
    entry: object
    kind: str  # born_digital | scan | photo
    error: str | None = None
    doc_type: str | None = None
    predicted: dict = field(default_factory=dict)  # cid -> CommitmentResult

    @property
    def ocr(self) -> bool:
        return self.kind != "born_digital"


def evaluate(corpus: Path, split: str = "all", jobs: int = 2, progress=None,
             rules_only: bool = False, options=None) -> dict:
    """Extract (cached), classify and score every file of the split; returns the report dict.
    ``options`` (``ClassifierOptions``): the deployment's model in force (the command passes
    the data folder's); without them, the model already loaded (the packaged one at first)."""
    import classifiers
    from classifiers.corpus import extract_all, load_labels

    if split not in EVAL_SPLITS:
        raise ValueError(f"unknown split {split!r}; one of {EVAL_SPLITS}")
    entries = [e for e in load_labels(corpus) if split == "all" or e.eval_split == split]
    docs = extract_all(corpus, entries, jobs=jobs, progress=progress)
    classifiers.load(options=options)
    records = []
    for entry in entries:
        doc = docs.get(entry.file)
        kind = input_kind(entry.render)
        if not hasattr(doc, "pages"):
            records.append(Record(entry, kind, error=str(doc)))
            continue
        result = classifiers.classify(doc, use_model=not rules_only)
        records.append(Record(entry, kind, doc_type=result.doc_type,
                              predicted={c.id: c for c in result.commitments}))
    stage = classifiers.stage_description(use_model=not rules_only)
    report = {
        "classifier_version": classifiers.CLASSIFIER_VERSION,
        "calibrated": classifiers.calibrator.calibrated,
        "stage": stage,
        "corpus": str(corpus),
        "split": split,
        "files": len(records),
        "errors": [{"file": r.entry.file, "error": r.error} for r in records if r.error],
        "splits": {},
        "confusions": {},
    }
    for name in EVAL_SPLITS[:-1]:
        subset = [r for r in records if r.entry.eval_split == name and not r.error]
        if not subset:
            continue
        groups = {group: _metrics([r for r in subset if _in_group(r, group)])
                  for group, _ in _GROUPS}
        groups["registers"] = {
            reg: _metrics([r for r in subset if r.entry.register == reg])
            for reg in REGISTERS if any(r.entry.register == reg for r in subset)
        }
        report["splits"][name] = groups
        report["confusions"][name] = _confusions(subset)
    return report


def _in_group(record: Record, group: str) -> bool:
    if group == "all":
        return True
    if group == "ocr":
        return record.ocr
    return record.kind == group


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
                    matched += matches_any(ev.text, r.entry.evidence.get(cid, []))
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


def _excerpt(ev) -> dict:
    return {"text": ev.text, "page": ev.page, "pattern_ids": list(ev.pattern_ids),
            "score": round(ev.score, 3)}


def _confusions(records: list[Record]) -> list[dict]:
    """Every wrong cell, with the passage that misled (false ✓) or the labelled passage and the
    best candidate the classifier had (false ✗), and the excerpts it showed for a right ✓ that
    match no labelled passage (they lower precision@3)."""
    out = []
    for r in records:
        for cid in COMMITMENT_IDS:
            gold = r.entry.labels.get(cid, False)
            res = r.predicted[cid]
            golds = r.entry.evidence.get(cid, [])
            item = {
                "commitment": cid, "id": r.entry.id, "file": r.entry.file,
                "render": r.entry.render, "kind": r.kind, "register": r.entry.register,
                "confidence": res.confidence, "tags": list(r.entry.tags),
            }
            if res.supported == gold:
                wrong = [e for e in res.evidence[:3] if gold and not matches_any(e.text, golds)]
                if wrong:
                    item.update(kind_of_error="wrong_excerpt", expected=golds[:1],
                                excerpts=[_excerpt(e) for e in wrong])
                    out.append(item)
                continue
            item["kind_of_error"] = "false_positive" if res.supported else "false_negative"
            item["excerpts"] = [_excerpt(e) for e in res.evidence[:3]]
            item["expected"] = golds[:1]
            out.append(item)
    return out


def _fmt(x) -> str:
    return "  —  " if x is None else f"{x:5.2f}"


def _print_human(report: dict, out=None) -> None:
    w = (out or sys.stdout).write
    w(f"Evaluación del clasificador {report['classifier_version']}\n")
    w(f"Etapa: {report['stage']}\n")
    w(f"Corpus: {report['corpus']} — {report['files']} archivos")
    if not report["calibrated"]:
        w(" — ATENCIÓN: sin calibración válida (confianzas no calibradas)")
    w("\n")
    for split, groups in report["splits"].items():
        allg = groups["all"]
        w(f"\n=== {_SPLIT_NAMES[split]}: {allg['files']} archivos "
          f"({groups['born_digital']['files']} digitales, {groups['scan']['files']} escaneos, "
          f"{groups['photo']['files']} fotos) ===\n")
        w("compromiso   precisión  exhaustividad   F1    (VP/FP/FN)\n")
        for cid in COMMITMENT_IDS:
            m = allg["commitments"][cid]
            w(f"  {cid}          {_fmt(m['precision'])}      {_fmt(m['recall'])}     "
              f"{_fmt(m['f1'])}  ({m['tp']}/{m['fp']}/{m['fn']})\n")
        w("macro-F1:")
        for group, label in _GROUPS:
            w(f"  {label} {_fmt(groups[group]['macro_f1']).strip()}")
        w("\n")
        w("precisión de evidencia @3:")
        for group, label in _GROUPS:
            w(f"  {label} {_fmt(groups[group]['evidence_precision_at_3']).strip()}")
        w(f"  ({allg['evidence_excerpts']} extractos)\n")
        w("por registro (archivos, macro-F1, precisión @3):\n")
        for reg, m in groups["registers"].items():
            w(f"    {reg:20s} {m['files']:4d}  {_fmt(m['macro_f1'])}  "
              f"{_fmt(m['evidence_precision_at_3'])}\n")
        w(f"tipo de documento correcto: {_fmt(allg['doc_type_accuracy']).strip()}   "
          f"Brier de la confianza: {_fmt(allg['brier']).strip()}\n")
        w("fiabilidad de la confianza (tramo: n, confianza media → acierto real):\n")
        for b in allg["reliability"]:
            if b["n"]:
                w(f"    {b['bin']}: {b['n']:4d}  "
                  f"{b['mean_confidence']:.2f} → {b['accuracy']:.2f}\n")
        _print_confusions(w, report["confusions"].get(split, []))
    if report["errors"]:
        w(f"\narchivos que no se pudieron leer ({len(report['errors'])}):\n")
        for e in report["errors"]:
            w(f"  {e['file']}: {e['error']}\n")


def _print_confusions(w, confusions: list[dict]) -> None:
    marks = {"false_positive": "✓ falso positivo", "false_negative": "✗ falso negativo",
             "wrong_excerpt": "≠ extracto"}
    errors = [c for c in confusions if c["kind_of_error"] != "wrong_excerpt"]
    w(f"confusiones ({len(errors)}; más {len(confusions) - len(errors)} detecciones correctas "
      "con algún extracto no etiquetado):\n")
    for c in sorted(confusions, key=lambda c: (c["kind_of_error"] == "wrong_excerpt", c["file"])):
        ocr = f" [{c['kind']}]" if c["kind"] != "born_digital" else ""
        w(f"  {marks[c['kind_of_error']]} {c['commitment']}  {c['file']}{ocr} "
          f"({c['register']}, confianza {c['confidence']:.2f})\n")
        for ev in c["excerpts"]:
            w(f"      extracto p.{ev['page']} [{ev['score']:.2f}] {ev['pattern_ids']}: "
              f"«{_short(ev['text'])}»\n")
        if c["kind_of_error"] != "false_positive" and c["expected"]:
            w(f"      esperado: «{_short(c['expected'][0])}»\n")


def _short(text: str, n: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def run(args, options=None) -> int:
    """The command (``service.cli.main`` calls it with the deployment's ``options``)."""
    corpus = Path(args.corpus)
    if not (corpus / "labels.jsonl").is_file():
        raise CorpusError(f"No se encontró {corpus / 'labels.jsonl'}: CORPUS debe ser una "
                          "carpeta generada por scripts/render_corpus.py.")

    def progress(done: int, total: int) -> None:
        if sys.stderr.isatty() or done == total:
            print(f"\rextrayendo {done}/{total}", end="" if done < total else "\n",
                  file=sys.stderr, flush=True)

    try:
        report = evaluate(corpus, split=getattr(args, "split", "all"), progress=progress,
                          rules_only=getattr(args, "rules_only", False), options=options)
    except ValueError as exc:
        raise CorpusError(f"Corpus inválido: {exc}") from exc
    if getattr(args, "json", False):
        json.dump(report, sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    else:
        _print_human(report)
    return 1 if report["errors"] else 0
