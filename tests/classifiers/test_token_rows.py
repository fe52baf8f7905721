"""Cache entries read without numpy or srsly (classifiers.token_rows) read what the cache reads.

A reprocess after an edit of the patterns matches the edited rules again on the cached tokens of
the texts the edit may touch (``pattern_sets.Change.same_matches``); those tokens are read by
``token_rows`` (plain Python) instead of ``annotation_cache.read`` (srsly and numpy). Compared
here, on every corpus source of a dev organisation tagged by the real pipeline and on texts
written to stress the edges: the MessagePack unpacked, every token value, and the installed
rules' matches (which test ``IS_PUNCT``, the one column ``TokenDoc`` computes). The pattern-edit
tests (``test_pattern_edits.py``) check the readings kept through it against full analyses.
"""

from __future__ import annotations

import pickle
import zlib

import pytest

from .conftest import dev_source_documents
from .test_tokens import EDGES, _token


def _dev_block_texts() -> list[list[str]]:
    from classifiers.units import split_blocks

    return [[b.text for b in split_blocks(doc.pages)] for doc in dev_source_documents(every=2)]


@pytest.fixture(scope="module")
def entries(classify):
    """The cache entry (bytes as written) of each dev source's blocks and of the edge texts."""
    from classifiers import annotation_cache, nlp

    return [annotation_cache._entry_bytes(list(nlp.get_nlp().pipe(texts)))
            for texts in [*_dev_block_texts(), EDGES]]


def test_unpacks_what_srsly_unpacks(entries):
    import srsly

    from classifiers.token_rows import unpackb

    for data in entries:
        raw = zlib.decompress(data)
        assert unpackb(raw) == srsly.msgpack.unpackb(raw, raw=False, use_list=True,
                                                     object_pairs_hook=dict)


def test_unpacks_every_form_an_entry_may_hold():
    import srsly

    from classifiers.token_rows import Unsupported, unpackb

    ints = [0, 1, 127, 128, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**64 - 1, -1, -32, -33,
            -128, -129, -32768, -32769, -2**31, -2**31 - 1, -2**63]
    value = {
        "ints": ints, "floats": [0.0, 1.5, -2.25, 1e300, float("inf")], "none": None,
        "bools": [True, False], "strings": ["", "ñandú", "x" * 31, "y" * 32, "z" * 300,
                                            "é" * 40_000],
        "bins": [b"", b"\x00\x01", b"b" * 300, b"c" * 70_000],
        "arrays": [list(range(15)), list(range(16)), list(range(70_000)), [[], [[]]]],
        "maps": {str(k): k for k in range(20)}, 7: {1: "uno", -2: ["dos"]},
        "ids": [2**63 + k for k in range(40)], "mixed": ["a", 2**64 - 1, "b", 3, None],
    }
    packed = srsly.msgpack.packb(value, use_bin_type=True)
    assert unpackb(packed) == srsly.msgpack.unpackb(packed, raw=False, use_list=True,
                                                    object_pairs_hook=dict, strict_map_key=False)
    single = srsly.msgpack.packb(1.5, use_single_float=True)
    assert unpackb(single) == 1.5
    with pytest.raises(Unsupported):
        unpackb(srsly.msgpack.packb(srsly.msgpack.ExtType(3, b"xyz")))
    for broken in (packed[:-1], packed + b"\x00", b"\xc1", b"\xda\x00\x09abc"):
        with pytest.raises(ValueError):
            unpackb(broken)


def test_token_rows_read_what_the_cache_reads(entries):
    from classifiers import annotation_cache, tokens
    from classifiers.token_rows import Rows, read_entry

    columns = [tokens.ORTH, tokens.NORM, tokens.LEMMA, tokens.POS, tokens.TAG, tokens.MORPH,
               tokens.SENT_START]
    texts = 0
    for data in entries:
        mine, theirs = read_entry(data), annotation_cache._read_entry(data)
        assert len(mine) == len(theirs)
        for a, b in zip(mine, theirs, strict=True):
            assert type(a) is tokens.TokenDoc and type(a._rows) is Rows
            assert len(a) == len(b) and a.text == b.text and a.text_length() == b.text_length()
            assert [_token(t) for t in a] == [_token(t) for t in b]
            assert a.to_array([*columns, tokens.IS_PUNCT]).tolist() == \
                b.to_array([*columns, tokens.IS_PUNCT]).tolist()
            for attr in [*columns, tokens.IS_PUNCT]:
                assert a.to_array(attr).tolist() == b.to_array(attr).tolist()
            for attrs in (columns, [tokens.NORM, tokens.LEMMA], [tokens.ORTH],
                          [tokens.ORTH, tokens.LEMMA]):
                x, y = a.to_array(attrs), b.to_array(attrs)
                assert x.shape == y.shape
                assert x.T.tolist() == y.T.tolist() and x.tolist() == y.tolist()
                assert x.ravel().tolist() == y.ravel().tolist()
                for cut in (slice(1, 9), slice(len(a) - 3, len(a) + 4), slice(0, 0)):
                    assert x[cut].T.tolist() == y[cut].T.tolist()
            if len(b):
                assert [(s.start, s.end, s.text) for s in a.sents] == [
                    (s.start, s.end, s.text) for s in b.sents]
            again = pickle.loads(pickle.dumps(a))  # a long document's Spill (units.py)
            assert again.to_array(columns).tolist() == b.to_array(columns).tolist()
            assert again.texts() == b.texts()
            texts += 1
    assert texts > 5_000


def test_their_rows_give_spacy_the_same_doc(entries):
    from classifiers import annotation_cache, nlp, tokens
    from classifiers.token_rows import read_entry

    columns = [tokens.ORTH, tokens.NORM, tokens.LEMMA, tokens.POS, tokens.TAG, tokens.MORPH,
               tokens.SENT_START]
    vocab = nlp.get_vocab()
    for data in entries[:3]:
        for a, b in zip(read_entry(data), annotation_cache._read_entry(data), strict=True):
            x, y = a.to_spacy(vocab), b.to_spacy(vocab)
            assert x.text == y.text
            assert x.to_array(columns).tolist() == y.to_array(columns).tolist()


def test_the_rules_match_the_same_through_a_match_view(entries):
    """The installed rules (``IS_PUNCT`` among their columns) match the same in the tokens
    read here, through ``MatchView``, as in the cache's token arrays."""
    from classifiers import annotation_cache, engine, tokens
    from classifiers.token_rows import MatchView, read_entry

    ruleset = engine.get_ruleset()
    assert tokens.IS_PUNCT in [attr for _n, attr in ruleset._columns]
    assert ruleset.fallback is None
    matched = 0
    for data in entries:
        for a, b in zip(read_entry(data), annotation_cache._read_entry(data), strict=True):
            found = ruleset.match(MatchView(a))
            assert found == ruleset.match(b)
            matched += len(found)
    assert matched > 1_000


def test_an_entry_it_does_not_read_is_left_to_the_cache(entries, tmp_path):
    import srsly

    from classifiers import annotation_cache, token_rows

    assert token_rows.read_entry(b"not a DocBin") is None
    msg = srsly.msgpack.unpackb(zlib.decompress(entries[0]), raw=False, object_pairs_hook=dict)
    for change in ({"ids": None}, {"user_data": b"\x81\xa1a\x01"}, {"cats": [{"x": 1.0}]},
                   {"span_groups": [b"\x91\x01"]}, {"strings": msg["strings"][:-1]},
                   {"flags": [{"has_unknown_spaces": True}] * len(msg["flags"])}):
        other = zlib.compress(srsly.msgpack.packb({**msg, **change}, use_bin_type=True))
        assert token_rows.read_entry(other) is None, change
    texts = _dev_block_texts()[0]
    assert annotation_cache.read_plain(texts) is None  # no cache in use
    try:
        annotation_cache.use_annotation_cache(tmp_path)
        assert annotation_cache.read_plain(texts) is None  # no entry
        annotation_cache.write(texts, annotation_cache.tag_texts(texts))
        assert [d.texts() for d in annotation_cache.read_plain(texts)] == [
            d.texts() for d in annotation_cache.read(texts)]
        annotation_cache._annotation_path(texts).write_bytes(entries[1])  # another text's
        assert annotation_cache.read_plain(texts) is None
    finally:
        annotation_cache.use_annotation_cache(None)


_MATCH_AGAIN = """
import json, sys
import classifiers
from classifiers import engine, pattern_sets
from extractors.document import ExtractedDocument

classifiers.load(annotation_cache=sys.argv[1], pipeline=False)
doc = ExtractedDocument.from_dict(json.loads(sys.argv[2]))
change = pattern_sets.Change()
for rule_id in json.loads(sys.argv[3]):
    version = pattern_sets.snapshot()["rules"]
    rule = next(r for r in version if r[0] == rule_id)
    change.add_rematch(rule_id, rule[1], rule[3], rule[3])
same = change.same_matches(doc, set(json.loads(sys.argv[3])))
print(json.dumps([same, sorted({m.split(".")[0] for m in sys.modules} & {"numpy", "srsly",
                                                                       "spacy"})]))
"""


def test_matching_edited_rules_again_imports_neither_numpy_nor_srsly(classify, tmp_path):
    """Issue 12 (reprocess at archive speed): a text matched again after an edit of the
    patterns reads its cached tokens without numpy or srsly (~0.1 s of a process start)."""
    import json
    import os
    import subprocess
    import sys

    from classifiers import annotation_cache, engine

    from ..conftest import REPO

    doc = dev_source_documents()[0]
    try:
        annotation_cache.use_annotation_cache(tmp_path)
        analysis = engine.analyse(doc)  # tags it and keeps the tokens
    finally:
        annotation_cache.use_annotation_cache(None)
    rules = sorted({rule_id for unit in analysis.context.units
                    for rule_id, _s, _e in unit.matches})[:3]
    assert rules
    proc = subprocess.run(
        [sys.executable, "-c", _MATCH_AGAIN, str(tmp_path), json.dumps(doc.to_dict()),
         json.dumps(rules)], capture_output=True, text=True, timeout=300, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == [True, []]


def _analysis_facts(analysis) -> tuple:
    """What an analysis decides from (the reading, with features) and what it matched."""
    from classifiers.readings import read

    return (read(analysis, False), [(u.index, u.kind, u.text, u.matches)
                                    for u in analysis.context.units])


@pytest.mark.parametrize("chunk_chars", [None, 3_000])
def test_an_analysis_of_cached_tokens_is_the_same_without_numpy(classify, tmp_path,
                                                                 monkeypatch, chunk_chars):
    """Issue 12: the annotation cache reads a plain entry's tokens as lists (``token_rows``)
    and ``TokenDoc.to_array`` gives lists of them, without numpy. Every other dev source
    analysed from its cached tokens so gives the reading and matches that the numpy tables
    (``annotation_cache._read_entry``) give; with small chunks too, where a long document's
    tagged chunks go through a ``units.Spill``."""
    from classifiers import annotation_cache, defaults, engine, token_rows
    from classifiers.token_rows import Rows

    if chunk_chars is not None:
        monkeypatch.setattr(defaults, "TAG_CHUNK_CHARS", chunk_chars)
    docs = dev_source_documents(every=2)
    if chunk_chars is not None:  # a Spill only where a document is longer than a chunk
        docs = [d for d in docs if sum(len(p.text) for p in d.pages) > chunk_chars]
    read_entry, read_as_lists = token_rows.read_entry, []

    def spying(data):
        found = read_entry(data)
        read_as_lists.append(found is not None and all(type(d._rows) is Rows for d in found))
        return found

    try:
        annotation_cache.use_annotation_cache(tmp_path)
        for doc in docs:
            engine.analyse(doc)  # tagged by spaCy and kept
        monkeypatch.setattr(token_rows, "read_entry", spying)
        as_lists = [_analysis_facts(engine.analyse(doc)) for doc in docs]
        assert read_as_lists and all(read_as_lists)
        monkeypatch.setattr(token_rows, "read_entry", lambda data: None)
        as_tables = [_analysis_facts(engine.analyse(doc)) for doc in docs]
    finally:
        annotation_cache.use_annotation_cache(None)
    assert as_lists == as_tables
    assert sum(len(facts[0].passages[cid]) for facts in as_lists
               for cid in facts[0].passages) > 100
