"""The cache's token arrays (classifiers.tokens) read what spaCy's Docs read, without spaCy.

Every attribute the rules, units, scope and features read of a token, a sentence or a span is
compared with spaCy's Doc rebuilt from the same cache entry, on every corpus source of a dev
organisation tagged by the real pipeline and on texts written to stress the edges (empty text,
spacing, symbols, quotation marks, numbers, punctuation).
"""

from __future__ import annotations

import zlib

import pytest

from .conftest import dev_source_documents

EDGES = [
    "", " ", "Hola", "¡Ñandú!  Año 2024 — 3,5 % de 12/03... «comite» y COMITÉ; no se realizó.",
    "Nombre | Nacionalidad\nYolanda Pierre | Haitiana", "ADJ NOUN PERSON _ - -- « » “ ” \" „",
    "  espacios   al  inicio y al final  ", "Línea uno\n\nLínea dos\t\ttabulada.",
    "¿Quiénes? (los 3 comités): el 1er. y 2do. — sí, ¡todos!",
]


def _dev_block_texts() -> list[list[str]]:
    from classifiers.units import split_blocks

    return [[b.text for b in split_blocks(doc.pages)] for doc in dev_source_documents(every=2)]


@pytest.fixture(scope="module")
def entries(classify):
    """(pipeline docs, spaCy docs read back from the entry, token arrays read back) per text
    list: the dev sources' blocks and the edge texts."""
    import srsly
    from spacy.tokens import DocBin

    from classifiers import annotation_cache, nlp, tokens

    out = []
    for texts in [*_dev_block_texts(), EDGES]:
        tagged = list(nlp.get_nlp().pipe(texts))
        data = annotation_cache._entry_bytes(tagged)
        msg = srsly.msgpack.unpackb(zlib.decompress(data), raw=False, object_pairs_hook=dict)
        arrays = tokens.read_entry(msg)
        assert arrays is not None
        read_back = annotation_cache._read_entry(data)
        assert [type(d) for d in read_back] == [tokens.TokenDoc] * len(texts)
        spacy_docs = list(DocBin().from_bytes(data).get_docs(nlp.get_vocab()))
        out.append((tagged, spacy_docs, arrays))
    return out


def _token(t) -> tuple:
    return (t.i, t.text, t.whitespace_, t.text_with_ws, t.idx, t.norm_, t.lemma_, t.pos, t.pos_,
            t.tag_, str(t.morph), t.is_sent_start, t.is_alpha, t.is_stop, t.is_punct)


def test_ids_are_spacys():
    from spacy import attrs
    from spacy.lang.es.stop_words import STOP_WORDS
    from spacy.parts_of_speech import IDS

    from classifiers import nlp, tokens

    for name in ("ORTH", "NORM", "LEMMA", "POS", "TAG", "SENT_START", "MORPH", "IS_PUNCT"):
        assert getattr(tokens, name) == getattr(attrs, name), name
    assert tokens.POS_IDS == {k: int(v) for k, v in IDS.items()}
    assert nlp.get_vocab().strings["_"] == tokens.EMPTY_MORPH
    assert tokens._stop_words() == frozenset(STOP_WORDS)


def test_token_arrays_read_what_spacy_reads(entries):
    from classifiers import annotation_cache, tokens

    columns = [tokens.ORTH, tokens.NORM, tokens.LEMMA, tokens.POS, tokens.TAG, tokens.MORPH,
               tokens.SENT_START, tokens.IS_PUNCT]
    texts = 0
    for tagged, spacy_docs, arrays in entries:
        for pipe_doc, doc, array in zip(tagged, spacy_docs, arrays, strict=True):
            assert len(array) == len(doc) == len(pipe_doc)
            assert [_token(t) for t in array] == [_token(t) for t in doc]
            assert [_token(t) for t in doc] == [_token(t) for t in pipe_doc]
            assert array.text == doc.text == pipe_doc.text
            assert annotation_cache._text_length(array) == len(doc.text)
            assert array.to_array(columns).tolist() == doc.to_array(columns).tolist()
            assert array.to_array(tokens.ORTH).tolist() == doc.to_array(tokens.ORTH).tolist()
            if len(doc):
                assert [(s.start, s.end, s.text, s.text_with_ws) for s in array.sents] == [
                    (s.start, s.end, s.text, s.text_with_ws) for s in doc.sents]
                for span in (array[:], array[1:-1], array[-2:]):
                    same = doc[span.start:span.end]
                    assert (span.text, span.text_with_ws, len(span)) == (
                        same.text, same.text_with_ws, len(same))
                    assert [_token(t) for t in span] == [_token(t) for t in same]
                strings = doc.vocab.strings
                for orth, norm, lemma, _p, _t, morph, _s, _x in doc.to_array(columns).tolist():
                    for value in (orth, norm, lemma, morph):
                        assert array.vocab.strings[value] == strings[value]
            else:
                with pytest.raises(ValueError):
                    list(array.sents)
            texts += 1
    assert texts > 5_000


def test_content_words_are_spacys_lexical_attributes(entries):
    from classifiers.tokens import is_content_word

    for tagged, _spacy_docs, _arrays in entries:
        for doc in tagged:
            for t in doc:
                assert is_content_word(t.text) == (
                    t.is_alpha and not t.is_stop and len(t.text) > 2), t.text


def test_spilled_token_arrays_read_back_the_same(entries):
    """A long document's token arrays moved to a Spill (units.Spill) read back the same."""
    from classifiers.units import Spill, SpilledSpan, Unit

    _tagged, _spacy_docs, arrays = entries[0]
    units = [Unit(k, "sentence", 1, doc[1:], None) for k, doc in enumerate(arrays)]
    expected = [(u.span.start, u.text, [_token(t) for t in u.span]) for u in units]
    Spill().keep(units, arrays)
    assert {type(u.ref) for u in units} == {SpilledSpan}
    assert [(u.span.start, u.text, [_token(t) for t in u.span]) for u in units] == expected
