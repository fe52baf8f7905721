"""The spaCy pipeline, loaded once per process, and the cache of its annotations.

``es_core_news_sm`` without parser and NER (about 2.5 times faster; we need neither), with its
``senter`` enabled for sentence boundaries, and one small component that folds case and accents
into ``NORM`` and ``LEMMA``: OCR output and informal writing drop accents ("comite",
"capacitacion"), and the patterns are written (and folded at load time) the same way.

The network's matrix products go to numpy's OpenBLAS, single-threaded, instead of thinc's
default BLIS: 1.7 times faster tagging here with identical annotations (checked on every token
of the corpus's dev organisations).

Text whose annotations are cached is read back as token arrays (``tokens.TokenDoc``): reprocessing
stored text imports neither spaCy nor its pipeline unless some text is new.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
import unicodedata
import warnings
from functools import lru_cache
from pathlib import Path

from classifiers import defaults

__all__ = [
    "annotation_dir", "fold", "get_nlp", "get_vocab", "model_version", "pipeline_loaded",
    "tag_texts", "use_annotation_cache",
]

log = logging.getLogger(__name__)

#: where spaCy's annotations are kept between runs (None: not kept); see use_annotation_cache
_annotation_dir: Path | None = None

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


def use_annotation_cache(directory: Path | None) -> None:
    """Keep each document's spaCy annotations on disk, keyed by the model and the text.

    Re-classifying stored text after a pattern or scoring change (``evidencia reprocess``)
    then skips the neural pipeline, which is most of what classification costs: the rules run
    again on identical tokens, lemmas, morphology and sentence boundaries. A different model,
    pipeline code or text gives a different key, so a stale entry is never used.
    """
    global _annotation_dir
    _annotation_dir = Path(directory) if directory else None


def annotation_dir() -> Path | None:
    """The annotation cache's folder in use (None: not kept)."""
    return _annotation_dir


def tag_texts(texts: list[str]) -> list:
    """Tagged docs for ``texts``: spaCy ``Doc`` objects from the pipeline, or from the
    annotation cache when it has them ``tokens.TokenDoc`` objects (then without spaCy)."""
    if _annotation_dir is None:
        return list(get_nlp().pipe(texts, batch_size=_BATCH))
    path = _annotation_path(texts)
    if path.exists():
        try:
            docs = _read_entry(path.read_bytes())
            if [_text_length(d) for d in docs] == [len(t) for t in texts]:
                return docs  # the key is a hash of the texts: lengths catch a foreign file
        except Exception:  # a truncated or foreign file: annotate again and overwrite it
            log.warning("unreadable annotation cache entry %s; re-annotating", path)
    docs = list(get_nlp().pipe(texts, batch_size=_BATCH))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(_entry_bytes(docs))
        os.replace(tmp, path)
    except OSError:
        log.warning("could not write the annotation cache at %s", path, exc_info=True)
    return docs


#: what a DocBin stores for a Doc without span groups (msgpack's empty array, or nothing)
_NO_SPANS = (b"", b"\x90")


def _entry_bytes(docs: list) -> bytes:
    """A cache entry: what DocBin writes of ``docs`` (``_CACHED_ATTRS``), plus the vocabulary's
    id of each of its strings (``ids``) and the symbols its tokens name (``symbols``: spaCy's
    fixed ids, such as the empty morphology's), which DocBin does not read, so that it is read
    back without spaCy (``tokens.read_entry``)."""
    import zlib

    import srsly
    from spacy.tokens import DocBin

    from classifiers.tokens import symbols

    data = DocBin(_CACHED_ATTRS, docs=docs, store_user_data=False).to_bytes()
    if not docs:
        return data
    msg = srsly.msgpack.unpackb(zlib.decompress(data), raw=False, use_list=True,
                                object_pairs_hook=dict)
    strings = docs[0].vocab.strings
    msg["ids"] = [strings[s] for s in msg["strings"]]
    msg["symbols"] = symbols(msg, strings)
    return zlib.compress(srsly.msgpack.packb(msg, use_bin_type=True))


def _read_entry(data: bytes) -> list:
    """The docs of a cache entry: ``tokens.TokenDoc`` objects (no spaCy), or, for an entry
    ``tokens.read_entry`` cannot read, spaCy Docs as ``DocBin().from_bytes(data).get_docs(
    get_vocab())`` gives them (an entry holds no span groups, categories or user data). Unpacked
    without srsly's ``msgpack_loads``: it looks its decoders up in a registry that scans every
    installed package's entry points on each call, four times the cost of the unpacking
    itself."""
    import zlib

    import srsly

    from classifiers.tokens import read_entry

    # an object_pairs_hook skips the registry (an entry has no numpy or other extension type)
    msg = srsly.msgpack.unpackb(zlib.decompress(data), raw=False, use_list=True,
                                object_pairs_hook=dict)
    if (msg.get("user_data") or any(msg["cats"])
            or any(g not in _NO_SPANS for g in msg.get("span_groups") or ())):
        from spacy.tokens import DocBin

        return list(DocBin().from_bytes(data).get_docs(get_vocab()))  # not one of ours
    docs = read_entry(msg)
    if docs is not None:
        return docs
    import numpy
    from spacy.attrs import ORTH
    from spacy.tokens import Doc

    vocab = get_vocab()
    for string in msg["strings"]:
        vocab[string]
    attrs = msg["attrs"]
    orth = attrs.index(ORTH)
    lengths = numpy.frombuffer(msg["lengths"], dtype="int32")
    if not len(lengths):
        return []
    cuts = numpy.cumsum(lengths)[:-1]
    tokens = numpy.split(
        numpy.frombuffer(msg["tokens"], dtype="uint64").reshape((-1, len(attrs))), cuts)
    spaces = numpy.split(numpy.frombuffer(msg["spaces"], dtype=bool), cuts)
    flags = msg.get("flags") or [{} for _ in lengths]
    docs = []
    for rows, space, flag in zip(tokens, spaces, flags, strict=True):
        known = None if flag.get("has_unknown_spaces") else space.tolist()
        docs.append(Doc(vocab, words=rows[:, orth], spaces=known).from_array(attrs, rows))
    return docs


def _text_length(doc) -> int:
    """len(doc.text) without building the text (a Token object per word)."""
    if hasattr(doc, "text_length"):  # a tokens.TokenDoc
        return doc.text_length()
    if not len(doc):
        return 0
    last = doc[-1]
    return last.idx + len(last.text_with_ws)


@lru_cache(maxsize=1)
def _pipeline_key() -> bytes:
    """What makes annotations differ besides the text: model, exclusions, this module's code."""
    h = hashlib.sha256()
    h.update(model_version().encode())
    h.update(",".join(defaults.SPACY_EXCLUDE).encode())
    h.update(Path(__file__).read_bytes())  # this module builds the pipeline and the folding
    return h.digest()


def _annotation_path(texts: list[str]) -> Path:
    h = hashlib.sha256(_pipeline_key())
    for text in texts:
        h.update(b"\x00")
        h.update(text.encode("utf-8", "surrogatepass"))
    key = h.hexdigest()
    return _annotation_dir / key[:2] / f"{key}.spacy"


def model_version() -> str:
    """Installed model version, read from package metadata (no spaCy import needed)."""
    from importlib.metadata import PackageNotFoundError, version

    for name in (defaults.SPACY_MODEL, defaults.SPACY_MODEL.replace("_", "-")):
        try:
            return f"{defaults.SPACY_MODEL}-{version(name)}"
        except PackageNotFoundError:
            continue
    return f"{defaults.SPACY_MODEL}-unknown"
