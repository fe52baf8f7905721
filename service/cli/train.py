"""``evidencia train``: the candidate model against the one in force (service.domain.training),
and what was decided, in Spanish."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

from service.domain.errors import UsageError
from service.domain.messages import error_message

__all__ = ["run"]

_SETS = {"decisions": "decisiones reservadas", "corpus": "corpus reservado"}
#: which sets decided the promotion (``training.promotion_rule``)
_RULES = {
    "decisions": "Deciden las decisiones reservadas (en el corpus el candidato puede perder "
                 "hasta {tolerance} de macro-F1).\n",
    "every set": "Aún hay pocas decisiones reservadas: el candidato debe igualar o superar "
                 "al vigente en ambos conjuntos.\n",
}


def _fmt(x) -> str:
    return "—" if x is None else f"{x:.3f}"


def run(args) -> int:
    from service.db import SessionLocal
    from service.domain.training import CORPUS_TOLERANCE, train

    corpus = Path(args.corpus)
    if not (corpus / "labels.jsonl").is_file():
        raise UsageError(error_message("no_corpus", path=corpus / "labels.jsonl"))
    with SessionLocal() as session:
        outcome = train(session, corpus, jobs=args.jobs)
    if args.json:
        data = asdict(outcome)
        data["model_path"] = str(outcome.model_path) if outcome.model_path else None
        json.dump(data, sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
        return 0
    c = outcome.counts
    out = sys.stdout.write
    out(f"Entrenamiento n.º {outcome.run_id}: {c['corpus_files']} archivos del corpus y "
        f"{c['decided_documents']} documentos decididos por revisores.\n")
    for key, label in _SETS.items():
        cand, cur = outcome.candidate[key], outcome.current[key]
        out(f"  {label}: macro-F1 candidato {_fmt(cand['macro_f1'])} / vigente "
            f"{_fmt(cur['macro_f1'])}; precisión @3 candidato "
            f"{_fmt(cand['evidence_precision_at_3'])} / vigente "
            f"{_fmt(cur['evidence_precision_at_3'])}\n")
    # no held-out label in either set: nothing was compared, whatever the rule
    nothing_held_out = all(outcome.candidate[key]["macro_f1"] is None for key in _SETS)
    if not nothing_held_out:
        out(_RULES[outcome.rule].format(tolerance=f"{CORPUS_TOLERANCE:.2f}".replace(".", ",")))
    if outcome.promoted:
        out(f"El candidato es mejor: adoptado ({outcome.model_path}). Versión del clasificador "
            f"{outcome.version_before} → {outcome.version_after}; aplíquela a lo ya procesado "
            "con «evidencia reprocess --all».\n")
    elif nothing_held_out:
        out("No hay con qué comparar: ni el corpus ni las decisiones tienen datos reservados; "
            "no se adoptó. Use un corpus con sus organizaciones reservadas (split «heldout»).\n")
    else:
        out("El candidato no supera al modelo vigente: no se adoptó.\n")
    return 0
