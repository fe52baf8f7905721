"""The annotation cache: each text's spaCy annotations kept on disk between runs.

Re-classifying stored text after a pattern or scoring change (``evidencia reprocess``) then
skips the neural pipeline, which is most of what classification costs: the rules run again on
identical tokens, lemmas, morphology and sentence boundaries, read back as token arrays
(``tokens.TokenDoc``), so neither spaCy nor its model is imported unless some text is new.

An entry is keyed by the texts tagged together and by the pipeline's key: the spaCy model, the
excluded components, ``nlp.py`` (which builds the pipeline and folds case and accents) and this
module (the entry's format). A different model, pipeline, format or text gives a different key,
so a stale entry is never read. Entries live in the generation of that pipeline key
(``cache_dir.py``): ``<folder>/<generation>/<ab>/<key>.spacy``, written atomically.

File handling only, and the read-through the classifier tags its texts with
(:func:`tag_texts`: the pipeline, ``nlp.tag``, only for texts it does not hold): what the
pipeline sets and the rules read is ``nlp.py``'s (``_CACHED_ATTRS``), and what is read back is
checked against spaCy's own reader (``tests/classifiers/test_annotation_cache.py``,
``test_tokens.py``), so this module is not in the classifier's fingerprint (``version.py``).
"""

from __future__ import annotations

import hashlib
import logging
from functools import lru_cache
from pathlib import Path

from classifiers import defaults
from classifiers.cache_dir import atomic_write, generation_name
from classifiers.nlp import _CACHED_ATTRS, get_vocab, tag
from classifiers.version import model_version

__all__ = ["use_annotation_cache", "annotation_dir", "generation", "tag_texts", "read",
           "read_plain", "write"]

log = logging.getLogger(__name__)

#: where spaCy's annotations are kept between runs (None: not kept)
_annotation_dir: Path | None = None


def use_annotation_cache(directory: Path | None) -> None:
    """Keep each text's spaCy annotations under ``directory`` (None: keep none)."""
    global _annotation_dir
    _annotation_dir = Path(directory) if directory else None


def annotation_dir() -> Path | None:
    """The annotation cache's folder in use (None: not kept)."""
    return _annotation_dir


def generation() -> str:
    """The generation the pipeline installed reads and writes."""
    return generation_name(_pipeline_key())


def tag_texts(texts: list[str]) -> list:
    """Tagged docs for ``texts``: from the cache when it holds them (``tokens.TokenDoc``
    objects, without spaCy), else spaCy ``Doc`` objects from the pipeline (``nlp.tag``), then
    kept in the cache when it is on."""
    docs = read(texts)
    if docs is None:
        docs = tag(texts)
        write(texts, docs)
    return docs


def read(texts: list[str]) -> list | None:
    """The cached docs of ``texts`` (``tokens.TokenDoc``, or spaCy Docs for an entry the token
    arrays cannot read), or None: no cache, no entry, or an unreadable one (then annotated
    again and overwritten by ``write``). A plain entry is read by ``token_rows.read_entry``,
    without srsly or numpy (their imports, ~0.1 s, cost more than analysing the few texts a
    reprocess after an edit of the patterns reads again); any other by ``_read_entry``."""
    if _annotation_dir is None:
        return None
    path = _annotation_path(texts)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError:
        log.warning("could not read the annotation cache entry %s; re-annotating", path)
        return None
    from classifiers import token_rows

    try:
        docs = token_rows.read_entry(data)
        if docs is None:
            docs = _read_entry(data)
        if [_text_length(d) for d in docs] == [len(t) for t in texts]:
            return docs  # the key is a hash of the texts: lengths catch a foreign file
    except Exception:  # a truncated or foreign file: annotate again and overwrite it
        pass
    log.warning("unreadable annotation cache entry %s; re-annotating", path)
    return None


def read_plain(texts: list[str]) -> list | None:
    """The cached tokens of ``texts`` when their entry is plain (``token_rows.read_entry``:
    ``tokens.TokenDoc`` objects, ``Rows`` their rows), else None: no cache, no entry, or one
    only srsly or spaCy reads (then ``tag_texts`` decides, as before). What a reprocess matches
    edited rules against without srsly's or numpy's import."""
    if _annotation_dir is None:
        return None
    try:
        data = _annotation_path(texts).read_bytes()
    except OSError:
        return None
    from classifiers import token_rows

    docs = token_rows.read_entry(data)
    if docs is None or [d.text_length() for d in docs] != [len(t) for t in texts]:
        return None  # the key is a hash of the texts: lengths catch a foreign file
    return docs


def write(texts: list[str], docs: list) -> None:
    """Keep the pipeline's ``docs`` of ``texts`` (nothing without a cache). A failure to write
    is logged, never raised: the cache only saves time."""
    if _annotation_dir is None:
        return
    path = _annotation_path(texts)
    try:
        atomic_write(path, _entry_bytes(docs))
    except OSError:
        log.warning("could not write the annotation cache at %s", path, exc_info=True)


#: what a DocBin stores for a Doc without span groups (msgpack's empty array, or nothing)
_NO_SPANS = (b"", b"\x90")


def _entry_bytes(docs: list) -> bytes:
    """A cache entry: what DocBin writes of ``docs`` (``nlp._CACHED_ATTRS``), plus the
    vocabulary's id of each of its strings (``ids``) and the symbols its tokens name
    (``symbols``: spaCy's fixed ids, such as the empty morphology's), which DocBin does not
    read, so that it is read back without spaCy (``tokens.read_entry``)."""
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
    """What makes annotations differ besides the text: model, exclusions, the pipeline's code
    (``nlp.py``) and the entry's format (this module)."""
    h = hashlib.sha256()
    h.update(model_version().encode())
    h.update(",".join(defaults.SPACY_EXCLUDE).encode())
    h.update((defaults.PACKAGE_DIR / "nlp.py").read_bytes())
    h.update(Path(__file__).read_bytes())
    return h.digest()


def _annotation_path(texts: list[str]) -> Path:
    h = hashlib.sha256(_pipeline_key())
    for text in texts:
        h.update(b"\x00")
        h.update(text.encode("utf-8", "surrogatepass"))
    key = h.hexdigest()
    return _annotation_dir / generation() / key[:2] / f"{key}.spacy"
