"""Turn a commitment's raw evidence score into a probability that the commitment is supported.

Fitted on the dev split of the labelled corpus (``python -m classifiers.train CORPUS``) by
isotonic regression (pool-adjacent-violators) with a Laplace prior per pooled block, so a block
of 3 documents cannot claim certainty, interpolated linearly between blocks. The artefact
(``model/calibration.json``) carries a format number and the fingerprint of the patterns and
code it was fitted for: a stale, corrupt or foreign artefact is rejected (with a logged warning
and a ``.uncal`` version suffix), never silently used; the fallback is an uncalibrated logistic
curve around the default threshold.
"""

from __future__ import annotations

import json
import logging
import math
from bisect import bisect_right
from dataclasses import dataclass
from pathlib import Path

from classifiers import defaults
from classifiers.result import COMMITMENT_IDS
from extractors.errors import EvidenciaError

__all__ = ["Calibrator", "CalibrationError", "fit_isotonic", "fitted_calibrator", "load_calibrator",
           "save_calibration"]

log = logging.getLogger(__name__)

#: documents per calibration block at least (before monotonic pooling)
_MIN_BLOCK = 4


class CalibrationError(EvidenciaError, ValueError):
    """The artefact is missing, unreadable, of another format or fitted for other patterns
    (``detail``, in English; the message in Spanish). The classifier then runs uncalibrated."""

    code = "classifier_calibration"

    def __init__(self, detail: str):
        super().__init__(f"La calibración del clasificador no se puede usar: {detail}",
                         detail=detail)


@dataclass(frozen=True, slots=True)
class _Curve:
    xs: tuple[float, ...]  # ascending score thresholds (block starts)
    ps: tuple[float, ...]  # probability for scores >= xs[i] (non-decreasing)

    def __call__(self, score: float) -> float:
        """Linear interpolation between the pooled blocks' start scores (as scikit-learn's
        isotonic regression does): a score between two observed levels gets a probability
        between theirs instead of falling to the lower step."""
        xs, ps = self.xs, self.ps
        if score <= xs[0]:
            return ps[0]
        i = bisect_right(xs, score) - 1
        if i >= len(xs) - 1:
            return ps[-1]
        x0, x1 = xs[i], xs[i + 1]
        return round(ps[i] + (ps[i + 1] - ps[i]) * (score - x0) / (x1 - x0), 4)


@dataclass(frozen=True, slots=True)
class Calibrator:
    curves: dict
    calibrated: bool
    reason: str = ""

    def probability(self, cid: str, score: float) -> float:
        if not self.calibrated:
            return 1.0 / (1.0 + math.exp(-2.0 * (score - defaults.DEFAULT_THRESHOLD + 0.25)))
        return self.curves[cid](score)


def fit_isotonic(scores: list[float], labels: list[bool]) -> tuple[list[float], list[float]]:
    """Pool-adjacent-violators on (score, label); returns block start scores and probabilities."""
    pairs = sorted(zip(scores, labels, strict=True))
    # group equal scores first
    blocks: list[list[float]] = []  # [start_score, positives, count]
    for s, y in pairs:
        if blocks and blocks[-1][0] == s:
            blocks[-1][1] += int(y)
            blocks[-1][2] += 1
        else:
            blocks.append([s, int(y), 1])
    # tiny blocks (one or two documents at an odd score) would make the curve jumpy: pool them
    # with their neighbour first, then enforce monotonicity
    pooled: list[list[float]] = []
    for b in blocks:
        if pooled and pooled[-1][2] < _MIN_BLOCK:
            pooled[-1][1] += b[1]
            pooled[-1][2] += b[2]
        else:
            pooled.append(list(b))
    if len(pooled) > 1 and pooled[-1][2] < _MIN_BLOCK:
        last = pooled.pop()
        pooled[-1][1] += last[1]
        pooled[-1][2] += last[2]
    merged: list[list[float]] = []
    for b in pooled:
        merged.append(list(b))
        while len(merged) > 1 and (
            (merged[-2][1] + 1) / (merged[-2][2] + 2) >= (merged[-1][1] + 1) / (merged[-1][2] + 2)
        ):
            last = merged.pop()
            merged[-1][1] += last[1]
            merged[-1][2] += last[2]
    xs = [b[0] for b in merged]
    ps = [round((b[1] + 1) / (b[2] + 2), 4) for b in merged]
    if not xs:
        return [0.0], [0.5]
    return xs, ps


def fitted_calibrator(scores: dict, labels: dict) -> Calibrator:
    """A calibrator fitted in memory (``scores`` and ``labels``: per commitment, one per
    document), as the artefact's would be: how cross-validation calibrates the rules without the
    organisations it scores."""
    return Calibrator({cid: _Curve(*map(tuple, fit_isotonic(scores[cid], labels[cid])))
                       for cid in scores}, calibrated=True)


def save_calibration(curves: dict, fingerprint: str, meta: dict, path: Path | None = None) -> None:
    path = path or defaults.CALIBRATION_FILE
    data = {
        "format": defaults.CALIBRATION_FORMAT,
        "fingerprint": fingerprint,
        "meta": meta,
        "curves": {
            cid: {"xs": [x if math.isfinite(x) else None for x in xs], "ps": ps}
            for cid, (xs, ps) in curves.items()
        },
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)


def read_calibration(fingerprint: str, path: Path | None = None) -> dict:
    """The curves of a valid artefact; raises CalibrationError otherwise."""
    path = path or defaults.CALIBRATION_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CalibrationError(f"no calibration artefact at {path}") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CalibrationError(f"corrupt calibration artefact {path}: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != defaults.CALIBRATION_FORMAT:
        raise CalibrationError(f"calibration artefact {path} has another format")
    if data.get("fingerprint") != fingerprint:
        raise CalibrationError(
            f"calibration artefact {path} is stale: fitted for other patterns/code/model; "
            "re-run `python -m classifiers.train CORPUS`"
        )
    curves = {}
    try:
        for cid in COMMITMENT_IDS:
            raw = data["curves"][cid]
            xs = [float("-inf") if x is None else float(x) for x in raw["xs"]]
            ps = [float(p) for p in raw["ps"]]
            if not xs or len(xs) != len(ps) or xs != sorted(xs):
                raise ValueError(f"bad curve for {cid}")
            if any(not 0.0 <= p <= 1.0 for p in ps) or ps != sorted(ps):
                raise ValueError(f"probabilities out of order for {cid}")
            curves[cid] = _Curve(tuple(xs), tuple(ps))
    except (KeyError, TypeError, ValueError) as exc:
        raise CalibrationError(f"corrupt calibration artefact {path}: {exc}") from exc
    return curves


def load_calibrator(fingerprint: str, path: Path | None = None) -> Calibrator:
    try:
        return Calibrator(read_calibration(fingerprint, path), calibrated=True)
    except CalibrationError as exc:
        log.warning("calibration rejected, using uncalibrated fallback: %s", exc)
        return Calibrator({}, calibrated=False, reason=exc.detail or str(exc))
