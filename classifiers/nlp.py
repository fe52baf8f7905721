"""The spaCy pipeline, loaded once per process.

``es_core_news_sm`` without parser and NER (about 2.5 times faster; we need neither), with its
``senter`` enabled for sentence boundaries, and one small component that folds case and accents
into ``NORM`` and ``LEMMA``: OCR output and informal writing drop accents ("comite",
"capacitacion"), and the patterns are written (and folded at load time) the same way.
"""

from __future__ import annotations

import threading
import unicodedata
import warnings
from functools import lru_cache

from classifiers import defaults

__all__ = ["fold", "get_nlp", "model_version"]

_lock = threading.Lock()
_nlp = None


@lru_cache(maxsize=200_000)
def fold(text: str) -> str:
    """Lowercase without diacritics: "Comité" -> "comite", "Ñuñoa" -> "nunoa"."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


def _fold_tokens(doc):
    for token in doc:
        token.norm_ = fold(token.text)
        token.lemma_ = fold(token.lemma_ or token.text)
    return doc


def get_nlp():
    """The process-wide pipeline (thread-safe lazy load)."""
    global _nlp
    if _nlp is None:
        with _lock:
            if _nlp is None:
                _nlp = _load()
    return _nlp


def _load():
    import spacy
    from spacy.language import Language

    if "evidencia_fold" not in Language.factories:
        Language.component("evidencia_fold", func=_fold_tokens)
    with warnings.catch_warnings():
        # the 3.1 model loads and works in spaCy 3.8; its compatibility warning is noise here
        warnings.simplefilter("ignore")
        nlp = spacy.load(defaults.SPACY_MODEL, exclude=list(defaults.SPACY_EXCLUDE))
    if "senter" in nlp.disabled:
        nlp.enable_pipe("senter")
    nlp.add_pipe("evidencia_fold", last=True)
    return nlp


def model_version() -> str:
    """Installed model version, read from package metadata (no spaCy import needed)."""
    from importlib.metadata import PackageNotFoundError, version

    for name in (defaults.SPACY_MODEL, defaults.SPACY_MODEL.replace("_", "-")):
        try:
            return f"{defaults.SPACY_MODEL}-{version(name)}"
        except PackageNotFoundError:
            continue
    return f"{defaults.SPACY_MODEL}-unknown"
