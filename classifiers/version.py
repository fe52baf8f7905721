"""CLASSIFIER_VERSION, derived from everything that decides a classification.

``<VERSION_BASE>+<hash>``: the hash covers the pattern files, the priors, the scoring code, the
calibration artefact and the spaCy model version, so any change to them gives a new version and
stored results can be told apart (and re-classified). A rejected calibration adds ``.uncal``.
"""

from __future__ import annotations

import hashlib

from classifiers import defaults
from classifiers.nlp import model_version

__all__ = ["fingerprint", "compute_version"]

#: the Python files whose logic turns text into scores (a change makes the calibration stale)
_LOGIC_FILES = ("units.py", "scope.py", "rules.py", "engine.py", "nlp.py", "defaults.py")


def _pattern_files():
    return sorted(
        p for p in defaults.PATTERNS_DIR.iterdir() if p.suffix in (".jsonl", ".json")
    )


def fingerprint() -> str:
    """Hash of what produces the raw scores (everything except the calibration itself)."""
    h = hashlib.sha256()
    h.update(defaults.VERSION_BASE.encode())
    h.update(model_version().encode())
    for path in _pattern_files():
        h.update(path.name.encode())
        h.update(path.read_bytes())
    for name in _LOGIC_FILES:
        h.update(name.encode())
        h.update((defaults.PACKAGE_DIR / name).read_bytes())
    return h.hexdigest()


def compute_version(calibration_ok: bool) -> str:
    h = hashlib.sha256(fingerprint().encode())
    if defaults.CALIBRATION_FILE.exists():
        h.update(defaults.CALIBRATION_FILE.read_bytes())
    suffix = "" if calibration_ok else ".uncal"
    return f"{defaults.VERSION_BASE}+{h.hexdigest()[:10]}{suffix}"
