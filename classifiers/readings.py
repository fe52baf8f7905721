"""What the decision reads of a document's analysis, and the cache that keeps it per text.

The decision on top of the rules (``classifiers.classify_analysis``) reads little of an
``engine.Analysis``: the document type, the rules' score and best evidence per commitment, and
each candidate passage's text, page, index, rule ids, score and second-stage features. A
``Reading`` is that, and nothing else: the decision is taken from a Reading, whether it was just
computed or read back.

The reading cache keeps one Reading per document text, keyed by the text (page numbers, OCR
flags and texts) and by the code that reads it (``version.code_fingerprint()``: the rule, unit,
scope and token code, the spaCy model; the feature code and version; this module, the diff's
``pattern_sets.py`` and the commitment and document-type ids, ``result.py``). A new decision
alone (a model promoted by ``evidencia train``, a new calibration) leaves that key as it is:
``evidencia reprocess`` then re-scores the stored features without tagging, matching or
featurising any text again. A change of that code gives new keys, and every text is analysed
again (its annotations read from the annotation cache, ``nlp.py``).

The pattern data is not in the key: each entry is stamped with the fingerprint of the pattern
files it was read with, and keeps what was seen in the text (``seen_in``: the rules that
matched, the cue labels, the distinct (norm, lemma) pairs of its tokens and their sequence).
Under other patterns the entry is still exact when no edited rule can match in the text
(``pattern_sets.py`` says why and how that is decided): it is reused and stamped with the
patterns in force; otherwise the text is analysed again and the entry rewritten.

An entry is ``EVR3``, the 64 hex digits of its patterns' fingerprint, the length of the reading
(4 bytes) and two zlib-compressed MessagePack parts: the reading (floats read back bit for bit,
strings as written, lone surrogates included), then what was seen (pairs ``None``: unknown, a
long document read a chunk at a time). MessagePack rather than JSON (format 2): a unit's
feature names, one string with a newline between two, are read without unescaping, and the
entries of 10,000 one-page documents decoded in about a third of the time.
Entries live under ``readings/`` in the annotation cache's folder, turned on by
``use_reading_cache`` (``load`` does it beside the annotation cache), in the generation of the
key's base (``cache_dir.py``): ``readings/<generation>/<ab>/<key>.msgpack.z``, with the snapshots
of the pattern sets they were stamped with in ``readings/<generation>/patterns/``. An
unreadable entry is analysed again and rewritten.

One file per entry, as the annotation cache: entries need no lock, two workers writing the same
text at once each keep or rewrite a whole entry (``tests/classifiers/test_readings.py``), and
the folder may sit on a shared mount. One SQLite file was measured slower to write on this
machine, and writing a reading is a small part of a reprocess after a change of the rules
(figures in README.md, "Measured speed").
"""

from __future__ import annotations

import hashlib
import logging
import zlib
from dataclasses import dataclass
from pathlib import Path

from classifiers import defaults, pattern_sets
from classifiers.cache_dir import atomic_write, generation_name
from classifiers.result import COMMITMENT_IDS

__all__ = ["FORMAT", "FOLDER", "Passage", "Reading", "read", "reading_of", "seen_in",
           "use_reading_cache", "reading_dir", "generation"]

log = logging.getLogger(__name__)

#: entry layout; an entry of another format is analysed again
FORMAT = 3
_MAGIC = b"EVR3"
_HEAD = len(_MAGIC) + 64 + 4  # the magic, the patterns' fingerprint, the reading's length
#: the reading cache's folder inside the annotation cache's (``classifiers.load``)
FOLDER = "readings"
#: documents longer than this (characters of text) are not kept: their entries would be tens of
#: megabytes (a 2,000-page document where every sentence is a candidate)
MAX_CACHED_CHARS = 1_000_000
#: tokens beyond which an entry keeps no token sequence (``seen_in``): an edit is then judged by
#: the pairs alone, as before the sequence was kept (~5 bytes a token compressed)
MAX_SEQ = 100_000


@dataclass(slots=True)
class Passage:
    """A candidate passage as the decision reads it (an ``engine.Candidate`` and its unit)."""

    text: str
    page: int
    index: int  # the unit's index in its document
    matched: list[str]
    valid: list[str]
    score: float
    #: the unit's features: (names, values), in ``features.candidate_parts``'s order, shared by
    #: the unit's candidates; None when the reading was taken without features
    unit_features: tuple[list, list] | None
    extra: list | None  # the candidate's own features (name, value), in order


@dataclass(slots=True)
class Reading:
    doc_type: str
    scores: dict[str, float]  # raw score per commitment
    #: per commitment, the rules' best evidence (unit index, text, page, rule ids, score), at
    #: most ``defaults.MAX_EVIDENCE``, best first (empty: the rules found none)
    evidence: dict[str, list[tuple]]
    passages: dict[str, list[Passage]]  # per commitment, the candidates in document order
    features: bool = True  # whether the passages carry their features


def read(analysis, ocr: bool, features: bool = True) -> Reading:
    """The Reading of an ``engine.Analysis``; ``features=False`` leaves the second stage's
    features out (a decision by the rules alone needs none)."""
    from classifiers.features import candidate_parts

    ctx = analysis.context
    cache: dict = {}
    shared_pairs: dict[int, tuple] = {}  # unit index -> its features, once per unit
    passages = {}
    for cid in COMMITMENT_IDS:
        out = []
        for c in analysis.candidates[cid]:
            unit = c.unit
            unit_features = extra = None
            if features:
                shared, extra = candidate_parts(c, ctx, analysis.doc_type, ocr, cache)
                unit_features = shared_pairs.get(unit.index)
                if unit_features is None:
                    unit_features = shared_pairs[unit.index] = (list(shared),
                                                                list(shared.values()))
            out.append(Passage(unit.text, unit.page, unit.index, list(c.matched),
                               list(c.valid), c.score, unit_features, extra))
        passages[cid] = out
    evidence = {
        cid: [(e.unit.index, e.unit.text, e.unit.page, list(e.rule_ids), e.score)
              for e in analysis.evidence[cid][: defaults.MAX_EVIDENCE]]
        for cid in COMMITMENT_IDS
    }
    return Reading(analysis.doc_type, dict(analysis.scores), evidence, passages, features)


# -------------------------------------------------------------------------------- the cache

_reading_dir: Path | None = None


def use_reading_cache(directory: Path | None) -> None:
    """Keep readings in ``directory`` (None: keep none)."""
    global _reading_dir
    _reading_dir = Path(directory) if directory else None


def reading_dir() -> Path | None:
    return _reading_dir


def generation() -> str:
    """The generation the rules and features installed read and write."""
    return generation_name(_rules_key())


def reading_of(doc, ocr: bool, features: bool = True) -> Reading:
    """The Reading of ``doc`` (an ExtractedDocument): from the reading cache when it holds this
    text under this code and either these patterns or patterns whose edit cannot touch it,
    else analysed (and kept, with its features, when the cache is on). ``features=False``: the
    decision needs none (the rules decide), so a reading that is not kept is taken without
    them."""
    if _reading_dir is None or sum(len(p.text) for p in doc.pages) > MAX_CACHED_CHARS:
        return _analysed(doc, ocr, features)
    path = _path(doc, ocr)
    try:
        data = path.read_bytes()
    except OSError:
        data = None
    stale = False  # an entry read under patterns whose edit touches this text
    if data is not None:
        try:
            reading = _still_exact(path, data, doc)
        except pattern_sets.PatternsChanged:  # said once: analysed, and not kept
            reading = None
        except Exception:  # a truncated or foreign file: analyse again and overwrite it
            log.warning("unreadable reading cache entry %s; analysing again", path)
        else:
            if reading is not None:
                return reading
            stale = True
    from classifiers.engine import analyse

    pattern_sets.vouch()
    analysis = analyse(doc)
    reading = read(analysis, ocr)
    try:
        pattern_sets.keep_snapshot(path.parents[1])
        entry = _to_bytes(reading, seen_in(analysis))
        if stale:  # removed, then created as a new one: a replace by rename costs ~1 ms here
            path.unlink(missing_ok=True)
        _write(path, entry, replace=data is not None and not stale)
    except pattern_sets.PatternsChanged:
        pass
    except OSError:
        log.warning("could not write the reading cache at %s", path, exc_info=True)
    return reading


def _still_exact(path: Path, data: bytes, doc) -> Reading | None:
    """The entry's Reading when it holds under the patterns in force (stamped with them, or
    with patterns whose edit cannot touch this text, ``doc``: then stamped again); else
    None."""
    stamp, body, seen = _parts(data)
    current = pattern_sets.fingerprint()
    if stamp == current:
        return _from_bytes(body)
    change = pattern_sets.change_since(path.parents[1], stamp)
    if change is None or change.everything:
        return None
    touch = change.touches(_unpack(seen))
    if touch.surely or touch.rematch and not change.same_matches(doc, touch.rematch):
        return None
    reading = _from_bytes(body)
    try:
        pattern_sets.keep_snapshot(path.parents[1])
        _stamp(path, data, current)
    except OSError:  # checked again next time
        log.debug("could not stamp the reading cache entry %s", path, exc_info=True)
    return reading


def _stamp(path: Path, data: bytes, fingerprint: str) -> None:
    """Stamp the entry ``data`` at ``path`` with the patterns ``fingerprint``: its 64 digits
    overwritten in place (~10 µs; rewriting the whole entry aside and renaming it cost ~10 times
    that). A stamp torn by a crash or read half-written names no pattern set: the entry is
    then analysed again, never misread. When the file cannot be written in place (another
    user's), it is replaced whole if the folder allows."""
    try:
        with open(path, "r+b") as fh:
            fh.seek(len(_MAGIC))
            fh.write(fingerprint.encode("ascii"))
    except PermissionError:
        atomic_write(path, _MAGIC + fingerprint.encode("ascii") + data[len(_MAGIC) + 64:])


def _parts(data: bytes) -> tuple[str, bytes, bytes]:
    """(the patterns' fingerprint, the reading, what was seen) of an entry, the last two as
    written (compressed)."""
    if data[:len(_MAGIC)] != _MAGIC or len(data) < _HEAD:
        raise ValueError("another format")
    size = int.from_bytes(data[_HEAD - 4:_HEAD], "big")
    return data[len(_MAGIC):_HEAD - 4].decode("ascii"), data[_HEAD:_HEAD + size], \
        data[_HEAD + size:]


def seen_in(analysis) -> dict:
    """What an edit of the patterns is checked against (``pattern_sets.Change.touches``):
    ``doc_type``; ``rules``, the commitment and document-type rules with a match in a unit;
    ``labels``, the cue labels of its units; ``scoped``, those a condition of a narrower scope
    reads (``_scoped_labels``); ``pairs``, the distinct (norm, lemma) pairs of the
    tokens the rules matched on, flat (norm, lemma, norm, …): those of every tagged block that
    gave a unit (the matches of the others are never read); ``seq``, those blocks' tokens in
    order, each as the index of its pair (``-1`` between two blocks), so that an edited pattern
    is judged by where its tokens stand, not only by whether the text holds them
    (``pattern_sets.Change.touches``; None beyond ``MAX_SEQ`` tokens); None for a document
    read a chunk at a time (its tokens spilled)."""
    from classifiers.tokens import LEMMA, NORM
    from classifiers.units import SpilledSpan

    ctx = analysis.context
    rules = sorted({rule_id for unit in ctx.units for rule_id, _s, _e in unit.matches})
    seen = {"doc_type": analysis.doc_type, "rules": rules, "labels": sorted(ctx.doc_labels),
            "scoped": _scoped_labels(ctx), "pairs": None}
    docs = {}
    for unit in ctx.units:
        ref = unit.ref
        if type(ref) is SpilledSpan:
            return seen
        docs[id(ref.doc)] = ref.doc
    ids: dict = {}  # (norm id, lemma id) -> its index among the pairs
    seq: list = []
    strings = None
    for doc in docs.values():
        if len(doc):
            strings = doc.vocab.strings
            if seq:
                seq.append(-1)  # no match spans two tagged blocks
            for pair in zip(*doc.to_array([NORM, LEMMA]).T.tolist(), strict=True):
                k = ids.get(pair)
                if k is None:
                    k = ids[pair] = len(ids)
                seq.append(k)
    pairs = seen["pairs"] = []
    for norm, lemma in ids:
        pairs += (strings[norm], strings[lemma])
    seen["seq"] = seq if len(seq) <= MAX_SEQ else None
    return seen


def _scoped_labels(ctx) -> dict[str, list[str]]:
    """The labels a condition of scope ``title``, ``section``, ``header`` or ``lead`` can find
    anywhere in the text (``engine._Context.holds``): the title's, those of every heading and
    table header row, of every header row, and of every list's lead-in sentence."""
    sections: set = set()
    for found in (*ctx.heading_labels.values(), *ctx.header_labels.values()):
        sections.update(found)
    headers: set = set()
    for found in ctx.header_labels.values():
        headers.update(found)
    leads: set = set()
    lead = None
    for unit in ctx.units:
        if unit.kind != "item":
            lead = unit
        elif lead is not None:
            leads.update(ctx.labels[lead.index])
    return {"title": sorted(ctx.title_labels), "section": sorted(sections),
            "header": sorted(headers), "lead": sorted(leads)}


def _write(path: Path, data: bytes, replace: bool) -> None:
    """A new entry is created exclusively and written in place (a temporary file and a rename
    cost as much again on ext4: ~0.15 ms a document): one another process is writing, or
    wrote, is left to it, and one torn by a crash fails to decode and is then replaced
    (``replace``: written aside and renamed over it). The folder is made when missing."""
    if replace:
        atomic_write(path, data)
        return
    try:
        try:
            fh = open(path, "xb")
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
            fh = open(path, "xb")  # another process may have made it meanwhile
    except FileExistsError:
        return
    with fh:
        fh.write(data)


def _analysed(doc, ocr: bool, features: bool = True) -> Reading:
    from classifiers.engine import analyse  # the rules (and their imports) only when needed

    return read(analyse(doc), ocr, features)


_key_base: bytes | None = None


def _rules_key() -> bytes:
    """What a reading depends on besides the text and the pattern data: computed once per
    process (the files it hashes are the package's own)."""
    global _key_base
    if _key_base is None:
        from classifiers.features import FEATURE_VERSION
        from classifiers.version import code_fingerprint

        h = hashlib.sha256(f"readings-{FORMAT}".encode())
        h.update(code_fingerprint().encode())
        h.update(f"features-{FEATURE_VERSION}".encode())
        # this code, the diff of the patterns, the ids, the features' code
        for path in (Path(__file__), defaults.PACKAGE_DIR / "pattern_sets.py",
                     defaults.PACKAGE_DIR / "result.py", defaults.PACKAGE_DIR / "features.py"):
            h.update(path.read_bytes())
        _key_base = h.digest()
    return _key_base


def _path(doc, ocr: bool) -> Path:
    h = hashlib.sha256(_rules_key())
    h.update(b"\x01" if ocr else b"\x00")
    for page in doc.pages:
        h.update(f"\x00{page.number}\x00{int(bool(getattr(page, 'ocr', False)))}\x00".encode())
        h.update(page.text.encode("utf-8", "surrogatepass"))
    key = h.hexdigest()
    return _generation_dir() / f"{key[:2]}/{key}.msgpack.z"


_generation_at: tuple = (None, None)  # (the reading cache's folder, its generation's folder)


def _generation_dir() -> Path:
    """The current generation's folder in the reading cache, joined once per folder."""
    global _generation_at
    if _generation_at[0] is not _reading_dir:
        _generation_at = (_reading_dir, _reading_dir / generation())
    return _generation_at[1]


def _to_bytes(reading: Reading, seen: dict | None = None) -> bytes:
    """The entry of ``reading`` stamped with the patterns in force, with what was ``seen`` in
    the text (``seen_in``; None: nothing known, any edit analyses it again). The reading: each
    unit once (its text, page and features), the passages and evidence naming their unit by
    index. A unit's features are written as their names joined
    by a newline and the values that are not 1.0 by position (nearly all are 1.0): decoding is
    then a few strings per unit instead of a list per feature."""
    units: dict[int, list] = {}
    passages = {}
    for cid, ps in reading.passages.items():
        passages[cid] = [[p.index, p.matched, p.valid, p.score, p.extra] for p in ps]
        for p in ps:
            if p.index not in units:
                packed = _packed(p.unit_features) if p.unit_features is not None else [None, []]
                units[p.index] = [p.index, p.text, p.page, *packed]
    for entries in reading.evidence.values():
        for index, text, page, _rule_ids, _score in entries:
            if index not in units:  # evidence is a candidate's unit: never, in fact
                units[index] = [index, text, page, None, []]
    body = {"format": FORMAT, "doc_type": reading.doc_type, "scores": reading.scores,
            "evidence": {cid: [[e[0], e[3], e[4]] for e in entries]
                         for cid, entries in reading.evidence.items()},
            "units": list(units.values()), "passages": passages}
    data, found = _pack(body), _pack(seen)
    return (_MAGIC + pattern_sets.fingerprint().encode("ascii") + len(data).to_bytes(4, "big")
            + data + found)


def _pack(value) -> bytes:
    """``value`` (dicts, lists, strings, numbers, None) as compressed MessagePack: floats as
    doubles (read back bit for bit, ints stay ints), strings as UTF-8, a lone surrogate of an
    OCR'd or extracted text passed through (as JSON's escapes did)."""
    import msgpack

    return zlib.compress(msgpack.packb(value, use_bin_type=True,
                                       unicode_errors="surrogatepass"), 1)


def _unpack(data: bytes):
    """What ``_pack`` packed (lists as lists, as JSON read them)."""
    import msgpack

    return msgpack.unpackb(zlib.decompress(data), raw=False, use_list=True,
                           unicode_errors="surrogatepass")


def _packed(features: tuple[list, list]) -> list:
    names, values = features
    joined = "\n".join(names)
    others = [[j, v] for j, v in enumerate(values) if not (type(v) is float and v == 1.0)]
    plain = names and "" not in names and joined.count("\n") == len(names) - 1
    return [joined if plain else names, others]


def _unpacked(names, others: list) -> tuple[list, list]:
    if isinstance(names, str):
        names = names.split("\n") if names else []
    values = [1.0] * len(names)
    for j, v in others:
        values[j] = v
    return names, values


def _from_bytes(data: bytes) -> Reading:
    body = _unpack(data)
    if body.get("format") != FORMAT:
        raise ValueError("another format")
    units = {index: (text, page, None if names is None else _unpacked(names, others))
             for index, text, page, names, others in body["units"]}
    passages = {}
    for cid in COMMITMENT_IDS:
        out = []
        for index, matched, valid, score, extra in body["passages"][cid]:
            text, page, features = units[index]
            if features is None:
                raise ValueError("a passage without features")
            out.append(Passage(text, page, index, matched, valid, score, features, extra))
        passages[cid] = out
    evidence = {cid: [(index, *units[index][:2], rule_ids, score)
                      for index, rule_ids, score in body["evidence"][cid]]
                for cid in COMMITMENT_IDS}
    return Reading(body["doc_type"], body["scores"], evidence, passages)
