"""CLASSIFIER_VERSION, derived from everything that decides a classification.

``<VERSION_BASE>+<hash>``: the hash covers the pattern files, the priors, the scoring code, the
calibration artefact, the second-stage model artefact and its code, and the spaCy model version,
so any change to them gives a new version and stored results can be told apart (and
re-classified). A rejected calibration adds ``.uncal``; a refused second-stage model ``.nomodel``.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from classifiers import defaults
from classifiers.nlp import model_version as _model_version

__all__ = ["fingerprint", "code_fingerprint", "patterns_fingerprint", "pattern_files",
           "compute_version"]

#: the Python files whose logic turns text into scores (a change makes the calibration stale);
#: not the annotation cache's files (``annotation_cache.py``, ``cache_dir.py``): file handling
#: that decides nothing (what it reads back is tested against spaCy's own reader), and the cache
#: keys its entries by ``annotation_cache.py``'s code instead
_LOGIC_FILES = ("units.py", "scope.py", "rules.py", "engine.py", "nlp.py", "tokens.py",
                "defaults.py")


@cache
def model_version() -> str:
    """The installed spaCy model's version (``nlp.model_version``), looked up once per process:
    read from the model's ``dist-info`` folder in the first ``sys.path`` entry holding one, as
    ``importlib.metadata`` finds it, without importing ``importlib.metadata`` (its import and a
    look-up, which scans every installed distribution, cost ~40 ms of each command's start);
    the metadata look-up itself when that folder is not found as one plain folder."""
    import os
    import sys

    prefix = defaults.SPACY_MODEL.replace("-", "_").lower() + "-"
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        found = [n for n in names if n.lower().startswith(prefix) and n.endswith(".dist-info")]
        if not found:
            continue
        if len(found) == 1:
            try:
                with open(Path(entry or ".") / found[0] / "METADATA", encoding="utf-8") as fh:
                    for line in fh:
                        if line.startswith("Version:"):
                            return f"{defaults.SPACY_MODEL}-{line.split(':', 1)[1].strip()}"
                        if not line.strip():
                            break
            except OSError:
                pass
        break
    return _model_version()


def pattern_files() -> list[Path]:
    """The pattern data (``*.jsonl`` and ``*.json`` of the patterns folder), by name."""
    return sorted(
        p for p in defaults.PATTERNS_DIR.iterdir() if p.suffix in (".jsonl", ".json")
    )


#: ``patterns_fingerprint()`` as read by the first ``fingerprint()`` (the classifier's import)
_patterns_seen: str | None = None


def patterns_fingerprint(now: bool = False) -> str:
    """Hash of the pattern files alone (the reading cache stamps its entries with it): as they
    were read for the process's classifier version (its import), or ``now``."""
    if _patterns_seen is None and not now:
        fingerprint()
    if now or _patterns_seen is None:
        h = hashlib.sha256(b"patterns-")
        for path in pattern_files():
            h.update(path.name.encode())
            h.update(path.read_bytes())
        return h.hexdigest()
    return _patterns_seen


def fingerprint() -> str:
    """Hash of what produces the raw scores (everything except the calibration itself)."""
    global _patterns_seen
    h = hashlib.sha256()
    h.update(defaults.VERSION_BASE.encode())
    h.update(model_version().encode())
    patterns = hashlib.sha256(b"patterns-")
    for path in pattern_files():
        data = path.read_bytes()
        for digest in (h, patterns):
            digest.update(path.name.encode())
            digest.update(data)
    if _patterns_seen is None:
        _patterns_seen = patterns.hexdigest()
    for name in _LOGIC_FILES:
        h.update(name.encode())
        h.update((defaults.PACKAGE_DIR / name).read_bytes())
    return h.hexdigest()


def code_fingerprint() -> str:
    """Hash of what produces the raw scores except the pattern data: the code and the spaCy
    model. The reading cache keys its entries by it and diffs the pattern data instead
    (``pattern_sets.py``): a change of this code still analyses every text again."""
    h = hashlib.sha256(b"code-")
    h.update(defaults.VERSION_BASE.encode())
    h.update(model_version().encode())
    for name in _LOGIC_FILES:
        h.update(name.encode())
        h.update((defaults.PACKAGE_DIR / name).read_bytes())
    return h.hexdigest()


#: the code of the second stage and of the decision on top of the scores
_DECISION_FILES = ("features.py", "second_stage.py", "__init__.py")


def compute_version(calibration_ok: bool, model_refused: bool = False,
                    model_file: Path | None = None) -> str:
    """``model_file``: the second-stage artefact in force (the packaged one by default; a model
    promoted by ``evidencia train`` lives in the data folder): a new model, a new version."""
    h = hashlib.sha256(fingerprint().encode())
    for name in _DECISION_FILES:
        h.update(name.encode())
        h.update((defaults.PACKAGE_DIR / name).read_bytes())
    for artefact in (defaults.CALIBRATION_FILE, model_file or defaults.SECOND_STAGE_FILE):
        if artefact.exists():
            h.update(artefact.name.encode())
            h.update(artefact.read_bytes())
    suffix = ("" if calibration_ok else ".uncal") + (".nomodel" if model_refused else "")
    return f"{defaults.VERSION_BASE}+{h.hexdigest()[:10]}{suffix}"
