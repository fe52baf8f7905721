"""The on-disk cache of spaCy annotations (cheap reprocessing) must never change a result."""

from __future__ import annotations

from classifiers.annotation_cache import use_annotation_cache

from .conftest import make_doc

PAGES = (
    "Acta de constitución. En Temuco, a 4 de abril de 2025, se constituye el Comité de "
    "Inclusión e Interculturalidad, integrado por cinco trabajadores.",
    "Nombre | Nacionalidad | Cargo\nYolanda Pierre | Haitiana | Secretaria del comité\n"
    "Aún no contamos con un plan de capacitación; se evaluará diseñarlo el próximo año.",
)


def test_cached_annotations_give_the_same_classification(classify, tmp_path, monkeypatch):
    from classifiers.nlp import get_nlp

    doc = make_doc(*PAGES)
    plain = classify(doc)
    try:
        use_annotation_cache(tmp_path)
        first = classify(doc)  # annotates and writes the cache
        files = list(tmp_path.rglob("*.spacy"))

        def no_pipeline(*args, **kwargs):
            raise AssertionError("the neural pipeline ran although the cache holds this text")

        monkeypatch.setattr(get_nlp(), "pipe", no_pipeline)
        second = classify(doc)  # must come from the cache alone
    finally:
        use_annotation_cache(None)
    assert len(files) == 1
    assert plain == first == second


def test_a_corrupt_cache_entry_is_re_annotated(classify, tmp_path):
    doc = make_doc(*PAGES)
    expected = classify(doc)
    try:
        use_annotation_cache(tmp_path)
        classify(doc)
        (entry,) = tmp_path.rglob("*.spacy")
        entry.write_bytes(b"not a DocBin")
        assert classify(doc) == expected
        assert entry.read_bytes() != b"not a DocBin", "the entry is rewritten"
    finally:
        use_annotation_cache(None)


_RECLASSIFY_FROM_CACHE = """
import json, sys
import classifiers
from classifiers.nlp import pipeline_loaded
from extractors.document import ExtractedDocument

classifiers.load(annotation_cache=sys.argv[1], pipeline=False)
doc = ExtractedDocument.from_dict(json.loads(sys.argv[2]))
result = classifiers.classify(doc)
print(json.dumps({"pipeline_loaded": pipeline_loaded(), "spacy": "spacy" in sys.modules,
                  "result": repr(result)}))
"""


def test_reclassifying_cached_text_never_loads_the_neural_pipeline(classify, tmp_path):
    """``evidencia reprocess`` on stored text: no pipeline, same result; once the patterns
    were validated with this cache (a worker or an earlier run), not even spaCy's import."""
    import json
    import subprocess
    import sys

    from ..conftest import REPO

    doc = make_doc(*PAGES)
    try:
        use_annotation_cache(tmp_path)
        expected = classify(doc)  # annotates and writes the cache
    finally:
        use_annotation_cache(None)
    answers = []
    for _run in range(2):
        out = subprocess.run(
            [sys.executable, "-c", _RECLASSIFY_FROM_CACHE, str(tmp_path),
             json.dumps(doc.to_dict())],
            cwd=REPO, capture_output=True, text=True, check=True, timeout=120,
        )
        answers.append(json.loads(out.stdout.strip().splitlines()[-1]))
    assert answers[0] == {"pipeline_loaded": False, "spacy": True, "result": repr(expected)}
    assert answers[1] == {"pipeline_loaded": False, "spacy": False, "result": repr(expected)}
    assert list(tmp_path.glob("patterns-validated/*")), "the validation is remembered"


def test_cached_annotations_on_the_vocabulary_alone_carry_every_token_attribute(classify):
    """What the rules and the second stage read of a token is the same whether the Doc comes
    from the pipeline or from the cache rebuilt on a blank vocabulary (no model)."""
    import spacy
    from spacy.tokens import DocBin

    from classifiers.nlp import _CACHED_ATTRS, get_nlp

    texts = [*PAGES, "", "¡Ñandú!  Año 2024 — 3,5 % de 12/03... «comite» y COMITÉ; no se realizó."]
    tagged = list(get_nlp().pipe(texts))
    data = DocBin(_CACHED_ATTRS, docs=tagged, store_user_data=False).to_bytes()
    rebuilt = list(DocBin().from_bytes(data).get_docs(spacy.blank("es").vocab))

    def attributes(doc):
        return [(t.text, t.whitespace_, t.norm_, t.lemma_, t.pos_, t.tag_, str(t.morph),
                 t.is_sent_start, t.is_alpha, t.is_stop, t.is_punct, t.like_num, t.is_digit,
                 t.shape_, t.prefix_, t.suffix_) for t in doc]

    assert [attributes(d) for d in rebuilt] == [attributes(d) for d in tagged]


def test_a_cache_entry_is_read_back_as_docbin_reads_it(classify):
    """The cache's own reader (no srsly registry lookup) gives what DocBin gives: every
    attribute, the empty text, and an entry of no text at all (an empty document)."""
    from spacy.tokens import DocBin

    from classifiers.annotation_cache import _read_entry
    from classifiers.nlp import _CACHED_ATTRS, get_nlp, get_vocab

    texts = [*PAGES, "", "Nombre | Nacionalidad\nYolanda Pierre | Haitiana"]
    data = DocBin(_CACHED_ATTRS, docs=list(get_nlp().pipe(texts)), store_user_data=False)
    data = data.to_bytes()

    def attributes(doc):
        return [(t.text, t.whitespace_, t.norm_, t.lemma_, t.pos_, t.tag_, str(t.morph),
                 t.is_sent_start) for t in doc]

    expected = list(DocBin().from_bytes(data).get_docs(get_vocab()))
    assert [attributes(d) for d in _read_entry(data)] == [attributes(d) for d in expected]
    empty = DocBin(_CACHED_ATTRS, docs=[], store_user_data=False).to_bytes()
    assert _read_entry(empty) == []
