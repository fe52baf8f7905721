"""What the decision reads of a document's analysis, and the cache that keeps it per text.

The decision on top of the rules (``classifiers.classify_analysis``) reads little of an
``engine.Analysis``: the document type, the rules' score and best evidence per commitment, and
each candidate passage's text, page, index, rule ids, score and second-stage features. A
``Reading`` is that, and nothing else: the decision is taken from a Reading, whether it was just
computed or read back.

The reading cache keeps one Reading per document text, keyed by the text (page numbers, OCR
flags and texts) and by ``second_stage.model_fingerprint()`` (the patterns, the priors, the
rule, unit, scope, token and feature code, the spaCy model) plus this module's code and the
commitment and document-type ids (``result.py``). A new decision alone (a model promoted by
``evidencia train``, a new calibration) leaves that key as it is: ``evidencia reprocess`` then
re-scores the stored features without tagging, matching or featurising any text again. Any
change to the rules or the features gives new keys, and every text is analysed again (and its
annotations read from the annotation cache, ``nlp.py``).

Entries are zlib-compressed JSON (floats read back bit for bit, strings as written) under
``readings/`` in the annotation cache's folder, turned on by ``use_reading_cache`` (``load``
does it beside the annotation cache), in the generation of the key's base
(``cache_dir.py``): ``readings/<generation>/<ab>/<key>.json.z``. An unreadable entry is
analysed again and rewritten.

One file per entry, as the annotation cache: entries need no lock, two workers writing the same
text at once each keep or rewrite a whole entry (``tests/classifiers/test_readings.py``), and
the folder may sit on a shared mount. One SQLite file was measured slower to write on this
machine, and writing a reading is a small part of a reprocess after a change of the rules
(figures in README.md, "Measured speed").
"""

from __future__ import annotations

import hashlib
import json
import logging
import zlib
from dataclasses import dataclass
from pathlib import Path

from classifiers import defaults
from classifiers.cache_dir import atomic_write, generation_name
from classifiers.result import COMMITMENT_IDS

__all__ = ["FORMAT", "FOLDER", "Passage", "Reading", "read", "reading_of", "use_reading_cache",
           "reading_dir", "generation"]

log = logging.getLogger(__name__)

#: entry layout; an entry of another format is analysed again
FORMAT = 1
#: the reading cache's folder inside the annotation cache's (``classifiers.load``)
FOLDER = "readings"
#: documents longer than this (characters of text) are not kept: their entries would be tens of
#: megabytes (a 2,000-page document where every sentence is a candidate)
MAX_CACHED_CHARS = 1_000_000


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
    text under these rules, else analysed (and kept, with its features, when the cache is on).
    ``features=False``: the decision needs none (the rules decide), so a reading that is not
    kept is taken without them."""
    if _reading_dir is None or sum(len(p.text) for p in doc.pages) > MAX_CACHED_CHARS:
        return _analysed(doc, ocr, features)
    path = _path(doc, ocr)
    try:
        data = path.read_bytes()
    except OSError:
        data = None
    if data is not None:
        try:
            return _from_bytes(data)
        except Exception:  # a truncated or foreign file: analyse again and overwrite it
            log.warning("unreadable reading cache entry %s; analysing again", path)
    reading = _analysed(doc, ocr)
    try:
        _write(path, _to_bytes(reading), replace=data is not None)
    except OSError:
        log.warning("could not write the reading cache at %s", path, exc_info=True)
    return reading


def _write(path: Path, data: bytes, replace: bool) -> None:
    """A new entry is created exclusively and written in place (a temporary file and a rename
    cost as much again on ext4: ~0.15 ms a document): one another process is writing, or
    wrote, is left to it, and one torn by a crash fails to decode and is then replaced
    (``replace``: written aside and renamed over it). The folder is made when missing."""
    if replace:
        atomic_write(path, data)
        return
    try:
        fh = open(path, "xb")
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(path, "xb")
    except FileExistsError:
        return
    with fh:
        fh.write(data)


def _analysed(doc, ocr: bool, features: bool = True) -> Reading:
    from classifiers.engine import analyse  # the rules (and their imports) only when needed

    return read(analyse(doc), ocr, features)


_key_base: bytes | None = None


def _rules_key() -> bytes:
    """What a reading depends on besides the text: computed once per process (the files it
    hashes are the package's own)."""
    global _key_base
    if _key_base is None:
        from classifiers.second_stage import model_fingerprint

        h = hashlib.sha256(f"readings-{FORMAT}".encode())
        h.update(model_fingerprint().encode())
        for path in (Path(__file__), defaults.PACKAGE_DIR / "result.py"):  # this code, the ids
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
    return _reading_dir / generation() / key[:2] / f"{key}.json.z"


def _to_bytes(reading: Reading) -> bytes:
    """The entry of ``reading``: each unit once (its text, page and features), the passages and
    evidence naming their unit by index. A unit's features are written as their names joined
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
    return zlib.compress(json.dumps(body, separators=(",", ":")).encode(), 1)


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
    body = json.loads(zlib.decompress(data))
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
