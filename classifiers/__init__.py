"""Which Compromiso Migrante commitments (c1..c5) a document supports, and the passages why.

Public surface: ``classify(doc)``, ``load()`` (warm the spaCy model and patterns once per
process) and ``CLASSIFIER_VERSION``. Importing this package does not import spaCy.
"""

from __future__ import annotations

from pathlib import Path

from classifiers.calibration import load_calibrator
from classifiers.result import COMMITMENT_IDS, Classification, CommitmentResult, Evidence
from classifiers.version import compute_version, fingerprint

__all__ = ["CLASSIFIER_VERSION", "classify", "load", "calibrator"]

calibrator = load_calibrator(fingerprint())
CLASSIFIER_VERSION: str = compute_version(calibrator.calibrated)


def load(annotation_cache: str | Path | None = None, *, pipeline: bool = True) -> None:
    """Load the spaCy model and build the matcher now rather than on the first document.

    ``annotation_cache``: a folder where each document's spaCy annotations are kept, so that
    re-classifying the same text with new patterns skips the neural pipeline (workers and
    ``evidencia reprocess`` pass one under the data folder).
    ``pipeline``: False loads only the patterns and the vocabulary, for re-classifying text
    whose annotations are cached (``evidencia reprocess``); the neural pipeline is then loaded
    on the first text the cache does not hold.
    """
    from classifiers.engine import get_ruleset, load_priors
    from classifiers.nlp import get_nlp, use_annotation_cache

    if annotation_cache is not None:
        use_annotation_cache(Path(annotation_cache))
    if pipeline:
        get_nlp()
    get_ruleset()
    load_priors()


def classify(doc) -> Classification:
    """Classify an ``ExtractedDocument``: per commitment, supported, confidence and evidence."""
    from classifiers import defaults
    from classifiers.engine import analyse

    analysis = analyse(doc)
    results = []
    for cid in COMMITMENT_IDS:
        raw = analysis.scores[cid]
        ranked = analysis.evidence[cid]
        floor = ranked[0].score * defaults.EVIDENCE_RELATIVE_MIN if ranked else 0.0
        evidence = tuple(
            Evidence(text=e.unit.text, page=e.unit.page, pattern_ids=tuple(e.rule_ids),
                     score=e.score)
            for e in ranked[: defaults.MAX_EVIDENCE]
            if e.score >= floor
        )
        p_supported = calibrator.probability(cid, raw)
        supported = bool(evidence) and p_supported >= 0.5
        # confidence = calibrated probability that the decision shown is the right one
        confidence = p_supported if supported else 1.0 - p_supported
        results.append(
            CommitmentResult(
                id=cid,
                supported=supported,
                confidence=round(min(max(confidence, 0.0), 1.0), 3),
                evidence=evidence,
            )
        )
    return Classification(
        classifier_version=CLASSIFIER_VERSION, doc_type=analysis.doc_type,
        commitments=tuple(results),
    )
