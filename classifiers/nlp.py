"""The spaCy pipeline, loaded once per process.

``es_core_news_sm`` without parser and NER (about 2.5 times faster; we need neither), with its
``senter`` enabled for sentence boundaries, and one small component that folds case and accents
into ``NORM`` and ``LEMMA``: OCR output and informal writing drop accents ("comite",
"capacitacion"), and the patterns are written (and folded at load time) the same way.

The network's matrix products go to numpy's OpenBLAS, single-threaded, instead of thinc's
default BLIS: 1.7 times faster tagging here with identical annotations (checked on every token
of the corpus's dev organisations).

Text whose annotations are cached (``annotation_cache.py``, the files, and its ``tag_texts``,
which asks :func:`tag` here only for what it does not hold) is read back as token arrays
(``tokens.TokenDoc``): reprocessing stored text imports neither spaCy nor its pipeline unless
some text is new.
"""

from __future__ import annotations

import threading
import unicodedata
import warnings
from functools import lru_cache

from classifiers import defaults

__all__ = ["fold", "get_nlp", "get_vocab", "model_version", "pipeline_loaded", "tag"]

_lock = threading.Lock()
_nlp = None
_vocab = None  # the vocabulary cached annotations are rebuilt on while the pipeline is not loaded

#: what the annotation cache keeps of each token: what the pipeline sets (no parser, no NER) and
#: the rules read; the text itself (ORTH and spacing) always. Half the size of spaCy's default
#: attributes, and a fifth faster to read back.
_CACHED_ATTRS = ("ORTH", "NORM", "LEMMA", "MORPH", "POS", "TAG", "SENT_START")

#: texts the pipeline tags at once: the network's working memory grows with the batch (a batch
#: of 128 blocks peaked ~100 MB above the tagged documents themselves, 32 ~25 MB) for the same
#: CPU time here
_BATCH = 32


@lru_cache(maxsize=200_000)
def fold(text: str) -> str:
    """Lowercase without diacritics: "Comité" -> "comite", "Ñuñoa" -> "nunoa"."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


def _fold_tokens(doc):
    for token in doc:
        token.norm_ = fold(token.text)
        token.lemma_ = fold(token.lemma_ or token.text)
    # tok2vec's tensor (96 floats a token: half of what a tagged document holds) has served the
    # components before this one; the rules never read it and the cache never stores it, so a
    # long document does not keep it for every token until classification ends
    doc.tensor = _no_tensor()
    return doc


@lru_cache(maxsize=1)
def _no_tensor():
    import numpy

    return numpy.zeros((0,), dtype="float32")


def get_nlp():
    """The process-wide pipeline (thread-safe lazy load)."""
    global _nlp
    if _nlp is None:
        with _lock:
            if _nlp is None:
                _nlp = _load()
    return _nlp


def pipeline_loaded() -> bool:
    """Whether this process has loaded the neural pipeline (reprocessing from the annotation
    cache should not need it)."""
    return _nlp is not None


def get_vocab():
    """The vocabulary to rebuild cached annotations on: the pipeline's once it is loaded, else
    a blank Spanish one (same lexical attributes, no model: milliseconds instead of a second)."""
    global _vocab
    if _nlp is not None:
        return _nlp.vocab
    if _vocab is None:
        with _lock:
            if _vocab is None:
                import spacy

                _vocab = spacy.blank(defaults.SPACY_LANGUAGE).vocab
    return _vocab


def _load():
    import spacy
    from spacy.language import Language
    from thinc.api import use_ops
    from threadpoolctl import threadpool_limits

    if "evidencia_fold" not in Language.factories:
        Language.component("evidencia_fold", func=_fold_tokens)
    # one process per core: OpenBLAS's own threads only spin against the other workers
    threadpool_limits(limits=defaults.BLAS_THREADS, user_api="blas")
    with warnings.catch_warnings(), use_ops("numpy", use_blis=False):
        # the 3.1 model loads and works in spaCy 3.8; its compatibility warning is noise here
        warnings.simplefilter("ignore")
        nlp = spacy.load(defaults.SPACY_MODEL, exclude=list(defaults.SPACY_EXCLUDE))
    if "senter" in nlp.disabled:
        nlp.enable_pipe("senter")
    nlp.add_pipe("evidencia_fold", last=True)
    return nlp


def tag(texts: list[str]) -> list:
    """spaCy ``Doc`` objects of ``texts`` from the pipeline (``annotation_cache.tag_texts``
    reads them from the cache instead when it holds them)."""
    return list(get_nlp().pipe(texts, batch_size=_BATCH))


def model_version() -> str:
    """Installed model version, read from package metadata (no spaCy import needed)."""
    from importlib.metadata import PackageNotFoundError, version

    for name in (defaults.SPACY_MODEL, defaults.SPACY_MODEL.replace("_", "-")):
        try:
            return f"{defaults.SPACY_MODEL}-{version(name)}"
        except PackageNotFoundError:
            continue
    return f"{defaults.SPACY_MODEL}-unknown"
