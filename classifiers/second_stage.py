"""The learned second stage: which candidate passages prove a commitment, and whether the
document supports it.

Two logistic models per commitment, trained by ``classifiers.learn`` on the dev split (and the
reviewers' decisions): a passage model over ``features.candidate_features`` and a document model
over ``features.document_features`` (the passage probabilities, the rules' score, the document
type). Inference is a dot product over named weights, in pure Python: no scikit-learn import and
no second spaCy pass at classification time.

What decides a cell is the decision rule in force (``DECISION``), one of ``DECISION_RULES``: a
weighted mean of the rules' calibrated probability and the document model's, supported at 0.5
when the rules proposed a passage (``combine``). In force: the model weighing three times the
rules, the runner-up of the twelfth round's selection out of fold on the dev organisations no
round of rules had read, measured once on ten untuned sets (classifiers/QUALITY.md, thirteenth
round: 154 → 131 wrong cells). The artefact names the rule it was trained and measured for; an
artefact with another rule, or none, is refused.

The artefact (``model/second_stage.json``) is plain JSON, written with sorted keys and rounded
weights, so the same training data gives the same bytes. It carries its format, the feature
version, the fingerprint of the rules and feature code it was trained on, the fingerprint of its
training data, its hyper-parameters and its metrics, and a checksum of all that. A missing
artefact means rules alone (by choice); a stale, corrupt or foreign one is refused with a logged
warning, never silently used: a model promoted by ``evidencia train`` gives way to the packaged
one (``load_in_force``), the packaged one to the rules alone, with a ``.nomodel`` version suffix.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path

from classifiers import defaults
from classifiers.features import FEATURE_VERSION, document_features
from classifiers.result import COMMITMENT_IDS

__all__ = [
    "FORMAT", "DECISION_RULES", "DECISION", "decision_rule", "combine", "ModelError", "Linear",
    "SecondStage", "PassageDecision", "CommitmentDecision", "artefact", "save_model",
    "read_model", "load_second_stage", "load_in_force", "model_fingerprint", "shown_passages",
]

log = logging.getLogger(__name__)

#: artefact layout; another number is refused (2: the decision rule is part of the artefact)
FORMAT = 2
#: the decision rules a cell can be decided by, as data: P(supported) is the weighted mean
#: (rules × p_rules + model × p_model) / (rules + model) of the rules' calibrated probability and
#: the document model's, supported at 0.5 when the rules proposed a passage. A name keeps its
#: weights for good (another weighting is another name, or a new version), so that an artefact's
#: rule is known by its name and version alone.
DECISION_RULES = {
    # (a) neither decides alone (eighth round)
    "mean_of_rules_and_model": {"version": 1, "rules": 1, "model": 1},
    # (c) the document model alone, the rules only proposing the passages (twelfth round)
    "model_alone": {"version": 1, "rules": 0, "model": 1},
    # (d) the model weighs three times the rules (twelfth round)
    "weighted_rules_1_model_3": {"version": 1, "rules": 1, "model": 3},
}


def decision_rule(name: str) -> dict:
    """The stamp of the rule ``name`` (one of ``DECISION_RULES``), as an artefact carries it."""
    return {"rule": name, "version": DECISION_RULES[name]["version"]}


#: the rule in force; an artefact stamped with another is refused, so a model trained and
#: measured for one rule is never read under another
DECISION = decision_rule("weighted_rules_1_model_3")


def combine(p_rules: float, p_model: float, rule: dict | None = None) -> float:
    """P(supported) of a commitment in a document by ``rule`` (a stamp, ``decision_rule``; the
    rule in force by default). Neither decides alone: out of fold on the never-read dev
    organisations the weighted rule erred on 76 cells where the mean erred on 118 and the rules
    alone on 192 (QUALITY.md, twelfth round); on the held-out organisations it erred on one cell
    more than the mean, where the model alone erred on four more (thirteenth round)."""
    w = DECISION_RULES[(rule or DECISION)["rule"]]
    return (w["rules"] * p_rules + w["model"] * p_model) / (w["rules"] + w["model"])


class ModelError(ValueError):
    """The model artefact is unreadable, of another format, stale or tampered with."""


def model_fingerprint() -> str:
    """What the model's features are computed by: the rules' fingerprint (patterns, rule code,
    spaCy model) plus the feature code and version."""
    from classifiers.version import fingerprint

    h = hashlib.sha256(fingerprint().encode())
    h.update(f"features-{FEATURE_VERSION}".encode())
    h.update((defaults.PACKAGE_DIR / "features.py").read_bytes())
    return h.hexdigest()


@dataclass(frozen=True, slots=True)
class Linear:
    """A logistic model over named features."""

    intercept: float
    weights: dict

    def probability(self, features: dict[str, float]) -> float:
        return self.of_sum(self.partial_sum(features.items()))

    def partial_sum(self, items, total: float = 0.0) -> float:
        """``total`` plus weight × value of ``items`` ((name, value) pairs), added one at a
        time in their order. The sum over a dict's items is the sum over its first items
        continued over the rest: the same float, whatever the split. A feature without a
        weight adds nothing (its product, 0.0 or -0.0, would leave a non-zero total as it is
        and the probability of a zero total the same), so it is skipped."""
        get = self.weights.get
        for k, v in items:
            weight = get(k)
            if weight is not None:
                total += weight * v
        return total

    def named_sum(self, names: list, values: list, total: float = 0.0) -> float:
        """``partial_sum`` of the pairs of ``names`` and ``values`` (of one length), the
        weights looked up in one pass by ``map``: the same products added in the same order,
        the same float, in four fifths of the time (a reading's passages, ~50 features each)."""
        for weight, v in zip(map(self.weights.get, names), values, strict=True):
            if weight is not None:
                total += weight * v
        return total

    def of_sum(self, total: float) -> float:
        """The probability for a weighted sum of features (``partial_sum``)."""
        z = self.intercept + total
        if z < -30:
            return 0.0
        return 1.0 / (1.0 + math.exp(-z))

    def to_dict(self) -> dict:
        return {"intercept": _r(self.intercept),
                "weights": {k: _r(v) for k, v in sorted(self.weights.items()) if _r(v) != 0.0}}

    @classmethod
    def from_dict(cls, data: dict) -> Linear:
        weights = data["weights"]
        # as JSON gives them (names, floats), the ~30,000 weights are kept as they are: a
        # finite sum says each is finite (a NaN or an infinity makes it not); else each one is
        # converted and checked
        if not (type(weights) is dict and set(map(type, weights.values())) <= {float}
                and set(map(type, weights)) <= {str} and math.isfinite(sum(weights.values()))):
            weights = {str(k): float(v) for k, v in weights.items()}
            if not all(math.isfinite(v) for v in weights.values()):
                raise ValueError("non-finite weight")
        return cls(float(data["intercept"]), weights)


def _r(x: float) -> float:
    return round(float(x), 6) + 0.0  # + 0.0 turns -0.0 into 0.0: same bytes every time


@dataclass(frozen=True, slots=True)
class PassageDecision:
    candidate: object  # readings.Passage
    probability: float


@dataclass(frozen=True, slots=True)
class CommitmentDecision:
    probability: float  # the document model's: the document supports the commitment
    passages: tuple[PassageDecision, ...]  # best first


@dataclass(frozen=True, slots=True)
class SecondStage:
    passage: dict  # cid -> Linear
    document: dict  # cid -> Linear
    meta: dict  # training data, parameters, metrics (as stored)

    def decide(self, reading) -> dict[str, CommitmentDecision]:
        """Per commitment: the document's probability and its candidates ranked by the passage
        model. ``reading``: a ``readings.Reading`` with its features (``readings.read``)."""
        if not reading.features:
            raise ValueError("a reading without features cannot be scored by the model")
        out = {}
        for cid in COMMITMENT_IDS:
            cands = reading.passages[cid]
            model = self.passage[cid]
            passages = []
            for c in cands:  # the unit's features then the candidate's, without a merged copy
                names, values = c.unit_features
                shared = model.named_sum(names, values)
                total = model.partial_sum(c.extra, shared)
                passages.append(PassageDecision(c, model.of_sum(total)))
            passages.sort(key=lambda d: (-d.probability, -d.candidate.score,
                                         d.candidate.index))
            doc_f = document_features([d.probability for d in passages], reading.scores[cid],
                                      len(cands), reading.doc_type)
            out[cid] = CommitmentDecision(self.document[cid].probability(doc_f), tuple(passages))
        return out


def shown_passages(probabilities: list[float], supported: bool) -> list[int]:
    """Which of the ranked passages (probabilities best first) are shown as evidence: those the
    passage model finds likely, and the best one whenever the document supports the commitment."""
    return [i for i, p in enumerate(probabilities[: defaults.MAX_EVIDENCE])
            if p >= defaults.EVIDENCE_MIN_PROBABILITY or (i == 0 and supported)]


def artefact(passage: dict, document: dict, meta: dict, fingerprint: str) -> dict:
    """The artefact's content, decision rule and checksum included (see save_model)."""
    body = {
        "format": FORMAT,
        "feature_version": FEATURE_VERSION,
        "fingerprint": fingerprint,
        "decision": DECISION,
        "meta": meta,
        "commitments": {
            cid: {"passage": passage[cid].to_dict(), "document": document[cid].to_dict()}
            for cid in COMMITMENT_IDS
        },
    }
    body["checksum"] = _checksum(body)
    return body


def _checksum(body: dict) -> str:
    content = {k: v for k, v in body.items() if k != "checksum"}
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


#: a line break and the indentation after it, in ``dumps``'s text (never inside a string: JSON
#: writes a line break in one as ``\n``)
_INDENTATION = re.compile(r"\n *")


def _written_checksum_holds(text: str, body: dict) -> bool:
    """Whether ``body``'s checksum is that of ``text`` (the artefact as read, ``body`` parsed
    from it) made the canonical form ``_checksum`` hashes, without serialising ``body`` again
    (~15 ms of every command's start): ``dumps``'s text is that form but for its line breaks,
    indentation and the space after each key. Tried only where those are the only places the
    two can differ: no string in the text holds a quote (``\"``), so every ``": `` ends a key.
    True means the text, read as JSON, is the content the checksum was made of; False (another
    layout, or a mismatch) leaves the answer to ``_checksum``."""
    checksum = body.get("checksum")
    if type(checksum) is not str or '\\"' in text:
        return False
    head = '{"checksum":"' + checksum + '",'
    compact = _INDENTATION.sub("", text).replace('": ', '":')
    if not compact.startswith(head):
        return False
    canonical = "{" + compact[len(head):]
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest() == checksum


def dumps(body: dict) -> str:
    return json.dumps(body, sort_keys=True, ensure_ascii=False, indent=1) + "\n"


def save_model(body: dict, path: Path | None = None) -> Path:
    path = path or defaults.SECOND_STAGE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(dumps(body), encoding="utf-8")
    tmp.replace(path)
    return path


def read_model(fingerprint: str, path: Path | None = None) -> SecondStage:
    """The model of a valid artefact; raises ModelError otherwise."""
    path = path or defaults.SECOND_STAGE_FILE
    try:
        text = path.read_text(encoding="utf-8")
        body = json.loads(text)
    except FileNotFoundError as exc:
        raise ModelError(f"no model artefact at {path}") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"corrupt model artefact {path}: {exc}") from exc
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise ModelError(f"model artefact {path} has another format")
    if not _written_checksum_holds(text, body) and body.get("checksum") != _checksum(body):
        raise ModelError(f"corrupt model artefact {path}: checksum does not match its content")
    if body.get("decision") != DECISION:
        raise ModelError(
            f"model artefact {path} was trained for another decision rule "
            f"({body.get('decision')!r}, this code decides by {DECISION!r}); "
            "re-run `python -m classifiers.train CORPUS`"
        )
    if body.get("feature_version") != FEATURE_VERSION or body.get("fingerprint") != fingerprint:
        raise ModelError(
            f"model artefact {path} is stale: trained for other patterns, features or code; "
            "re-run `python -m classifiers.train CORPUS`"
        )
    try:
        models = body["commitments"]
        passage = {cid: Linear.from_dict(models[cid]["passage"]) for cid in COMMITMENT_IDS}
        document = {cid: Linear.from_dict(models[cid]["document"]) for cid in COMMITMENT_IDS}
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ModelError(f"corrupt model artefact {path}: {exc}") from exc
    return SecondStage(passage, document, body.get("meta", {}))


def load_second_stage(fingerprint: str, path: Path | None = None) -> tuple[SecondStage | None, str]:
    """(model, "") when a valid artefact exists; (None, reason) otherwise. The reason is empty
    when there is no artefact at all (rules alone by choice)."""
    path = path or defaults.SECOND_STAGE_FILE
    if not path.exists():
        return None, ""
    try:
        return read_model(fingerprint, path), ""
    except ModelError as exc:
        log.warning("second-stage model refused, classifying with rules alone: %s", exc)
        return None, str(exc)


def load_in_force(fingerprint: str, promoted: Path) -> tuple[SecondStage | None, str, Path]:
    """(model, refusal, the artefact the version is derived from) for a deployment whose model
    ``evidencia train`` promoted to ``promoted``. Refused (stale after an upgrade of the rules or
    the features, or of another format), it gives way to the packaged model, which is fitted to
    this code and decides better than the rules alone (QUALITY.md, eighth round), rather than to
    the rules; the rules alone only when the packaged one is refused too."""
    packaged = defaults.SECOND_STAGE_FILE
    if promoted == packaged or not promoted.exists():
        return *load_second_stage(fingerprint, packaged), packaged
    try:
        return read_model(fingerprint, promoted), "", promoted
    except ModelError as exc:
        refused = exc
    model, refusal = load_second_stage(fingerprint, packaged)
    if model is None:
        log.warning("second-stage model refused, classifying with rules alone: %s", refused)
        return None, str(refused), packaged
    log.warning("second-stage model refused, classifying with the packaged model: %s", refused)
    return model, "", packaged
