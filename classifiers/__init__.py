"""Which Compromiso Migrante commitments (c1..c5) a document supports, and the passages why.

Public surface: ``classify(doc)``, ``load()`` (warm the spaCy model and patterns once per
process), ``CLASSIFIER_VERSION`` and ``stage_description()``. Importing this package does not
import spaCy.

Two stages: the rules (patterns as data, engine.py) find candidate passages and score them; when a
valid second-stage model is installed (second_stage.py), it ranks the passages, and the decision
rule in force (``second_stage.DECISION``: since the thirteenth round a weighted mean, a quarter the
rules' calibrated probability and three quarters its document probability) decides; the rules'
pattern ids stay the explanation shown with each excerpt. Without one, the rules decide through
their calibration (calibration.py). The model in force is the packaged one unless
``load(options=...)`` names another (a model promoted by ``evidencia train``, kept in the data
folder); ``CLASSIFIER_VERSION`` follows the model in force.
"""

from __future__ import annotations

from pathlib import Path

from classifiers import defaults
from classifiers.calibration import load_calibrator
from classifiers.options import ClassifierOptions
from classifiers.result import COMMITMENT_IDS, Classification, CommitmentResult, Evidence
from classifiers.second_stage import load_in_force, load_second_stage, model_fingerprint
from classifiers.version import compute_version, fingerprint

__all__ = ["CLASSIFIER_VERSION", "ClassifierOptions", "classify", "classify_analysis", "load",
           "use_options", "calibrator", "second_stage_model", "stage_description"]

calibrator = load_calibrator(fingerprint())
second_stage_model, second_stage_refusal = load_second_stage(model_fingerprint())
CLASSIFIER_VERSION: str = compute_version(calibrator.calibrated, bool(second_stage_refusal))


def _stat(path: Path):
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


def use_options(options: ClassifierOptions) -> None:
    """Put the deployment's model in force: read the second stage again when it is another file
    or the file changed since it was read (a model promoted while a worker runs), and derive the
    version from it; otherwise (one ``stat``) leave everything as it is."""
    global second_stage_model, second_stage_refusal, CLASSIFIER_VERSION, _model_seen
    path = options.model_path()
    seen = (path, _stat(path))
    if seen == _model_seen:
        return
    second_stage_model, second_stage_refusal, in_force = load_in_force(model_fingerprint(), path)
    CLASSIFIER_VERSION = compute_version(calibrator.calibrated, bool(second_stage_refusal),
                                         in_force)
    _model_seen = seen


#: the second-stage artefact in force and its (mtime, size) when it was read
_model_seen: tuple = (defaults.SECOND_STAGE_FILE, _stat(defaults.SECOND_STAGE_FILE))


def load(annotation_cache: str | Path | None = None, *, pipeline: bool = True,
         options: ClassifierOptions | None = None) -> None:
    """Load the spaCy model and build the matcher now rather than on the first document.

    ``annotation_cache``: a folder where each document's spaCy annotations are kept
    (``annotation_cache.py``), so that re-classifying the same text with new patterns skips the
    neural pipeline (workers and ``evidencia reprocess`` pass one under the data folder; each
    cache's generations: ``cache_dir.py``); its ``readings`` folder keeps what
    the rules read of each text (``readings.py``), so that a new decision alone (a promoted
    model) re-scores stored text without running the rules again.
    ``pipeline``: False loads neither the neural pipeline nor the patterns (nor imports the
    rules' code), for re-classifying text whose readings or annotations are cached (``evidencia
    reprocess``): the patterns are loaded on the first text the reading cache does not hold,
    the pipeline on the first text the annotation cache does not hold.
    ``options``: the deployment's choices (``ClassifierOptions``): which second-stage model is
    in force. Called again, it picks up a model promoted since (and the version changes).
    """
    from classifiers.annotation_cache import use_annotation_cache
    from classifiers.readings import FOLDER, use_reading_cache

    if annotation_cache is not None:
        use_annotation_cache(Path(annotation_cache))
        use_reading_cache(Path(annotation_cache) / FOLDER)
    if pipeline:
        from classifiers.engine import get_ruleset, load_priors
        from classifiers.nlp import get_nlp

        get_nlp()
        get_ruleset()
        load_priors()
    if options is not None:
        use_options(options)


def stage_description(use_model: bool = True) -> str:
    """Which stage decides, in words (for `evidencia eval` and logs)."""
    if use_model and second_stage_model is not None:
        trained = second_stage_model.meta.get("training_data", {})
        return (f"reglas + modelo aprendido (entrenado con {trained.get('documents', '?')} "
                f"documentos, datos {str(trained.get('fingerprint', '?'))[:12]})")
    if use_model and second_stage_refusal:
        return f"solo reglas (modelo rechazado: {second_stage_refusal})"
    return "solo reglas"


def classify(doc, use_model: bool = True) -> Classification:
    """Classify an ``ExtractedDocument``: per commitment, supported, confidence and evidence.

    ``use_model=False`` decides with the rules alone even when a second-stage model is installed
    (to compare the two on the same documents). The rules' reading of the text comes from the
    reading cache when it is on and holds this text under these rules (``readings.py``)."""
    from classifiers.readings import reading_of

    ocr = any(getattr(p, "ocr", False) for p in doc.pages)
    reading = reading_of(doc, ocr, features=use_model and second_stage_model is not None)
    return Classification(
        classifier_version=CLASSIFIER_VERSION, doc_type=reading.doc_type,
        commitments=tuple(_decide(reading, use_model)),
    )


def classify_analysis(analysis, use_model: bool = True, ocr: bool = False):
    """The decision on top of the rules' analysis (engine.analyse), one result per commitment."""
    from classifiers.readings import read

    with_model = use_model and second_stage_model is not None
    return _decide(read(analysis, ocr, features=with_model), use_model)


def _decide(reading, use_model: bool):
    if use_model and second_stage_model is not None:
        return _decide_with_model(reading)
    return _decide_with_rules(reading)


def _result(cid: str, p_supported: float, evidence: tuple[Evidence, ...],
            rules_supported: bool | None = None) -> CommitmentResult:
    supported = bool(evidence) and p_supported >= 0.5
    # confidence = probability that the decision shown is the right one
    confidence = p_supported if supported else 1.0 - p_supported
    return CommitmentResult(id=cid, supported=supported,
                            confidence=round(min(max(confidence, 0.0), 1.0), 3),
                            evidence=evidence, rules_supported=rules_supported)


def _decide_with_rules(reading) -> list[CommitmentResult]:
    from classifiers import defaults

    results = []
    for cid in COMMITMENT_IDS:
        ranked = reading.evidence[cid]  # (unit index, text, page, rule ids, score), best first
        floor = ranked[0][4] * defaults.EVIDENCE_RELATIVE_MIN if ranked else 0.0
        evidence = tuple(
            Evidence(text=text, page=page, pattern_ids=tuple(rule_ids), score=score)
            for _index, text, page, rule_ids, score in ranked[: defaults.MAX_EVIDENCE]
            if score >= floor
        )
        results.append(_result(cid, calibrator.probability(cid, reading.scores[cid]), evidence))
    return results


def _decide_with_model(reading) -> list[CommitmentResult]:
    """The decision rule in force over the rules' calibrated probability and the model's
    document probability decides (``second_stage.combine``); the passage probabilities rank the
    excerpts, each explained by the patterns that proposed it (those that held, else those that
    matched)."""
    from classifiers.second_stage import combine, shown_passages

    decisions = second_stage_model.decide(reading)
    results = []
    for cid in COMMITMENT_IDS:
        passages = decisions[cid].passages
        p_rules = calibrator.probability(cid, reading.scores[cid])
        probability = combine(p_rules, decisions[cid].probability)
        supported = bool(passages) and probability >= 0.5
        shown = [passages[i]
                 for i in shown_passages([d.probability for d in passages], supported)]
        if not supported and reading.evidence[cid] and p_rules >= 0.5:
            shown += _rules_best(passages, reading.evidence[cid][0][0], shown)
        evidence = tuple(
            Evidence(text=d.candidate.text, page=d.candidate.page,
                     pattern_ids=tuple(d.candidate.valid or d.candidate.matched),
                     score=round(d.probability, 4))
            for d in shown
        )
        # the rules alone: a passage held and their calibrated probability (_decide_with_rules)
        rules_supported = bool(reading.evidence[cid]) and p_rules >= 0.5
        results.append(_result(cid, probability, evidence, rules_supported))
    return results


def _rules_best(passages, unit_index: int, shown) -> list:
    """The passage the rules alone would have decided "supported" on, when the decision rule
    says no: kept (after those shown, with its passage probability) so that a reviewer sees what
    was considered and found not enough, instead of nothing."""
    return [d for d in passages if d.candidate.index == unit_index and d not in shown][:1]
