"""The decision taken from a Reading, fresh or from the reading cache, is the one it replaced.

``classify`` decides from a ``readings.Reading`` (what the decision reads of the rules'
analysis, features included), which the reading cache keeps per text and rules so that a new
model re-scores stored text without the rules (issue 12, cheaper reprocessing). Checked here
against the decision as it was taken from the analysis itself (``_reference``, the code it
replaced), on every corpus source of a dev organisation: with the model and with the rules
alone, without the cache, writing it and reading it back.
"""

from __future__ import annotations

import math

import pytest

from classifiers import readings
from classifiers.result import COMMITMENT_IDS, Classification, CommitmentResult, Evidence
from extractors.document import ExtractedDocument, Page

from .conftest import dev_source_documents, make_doc

# ------------------------------------------------------------ the decision it replaced


def _reference(doc, use_model: bool = True) -> Classification:
    """``classify`` as it was: the decision read from the analysis, features merged per
    candidate (``features.candidate_features``), the sums over the merged dicts."""
    import classifiers
    from classifiers import defaults
    from classifiers.engine import analyse
    from classifiers.features import candidate_features, document_features
    from classifiers.second_stage import combine, shown_passages

    analysis = analyse(doc)
    ocr = any(p.ocr for p in doc.pages)
    model, calibrator = classifiers.second_stage_model, classifiers.calibrator
    results = []
    for cid in COMMITMENT_IDS:
        rules_supported = None
        if use_model and model is not None:
            cache: dict = {}
            ranked = []
            for c in analysis.candidates[cid]:
                f = candidate_features(c, analysis.context, analysis.doc_type, ocr, cache)
                ranked.append((_probability(model.passage[cid], f), c))
            ranked.sort(key=lambda pc: (-pc[0], -pc[1].score, pc[1].unit.index))
            probs = [p for p, _c in ranked]
            p_rules = calibrator.probability(cid, analysis.scores[cid])
            probability = combine(p_rules, _probability(  # the decision rule in force
                model.document[cid], document_features(
                    probs, analysis.scores[cid], len(ranked), analysis.doc_type)))
            supported = bool(ranked) and probability >= 0.5
            rules_supported = bool(analysis.evidence[cid]) and p_rules >= 0.5
            shown = shown_passages(probs, supported)
            if not supported and analysis.evidence[cid] and p_rules >= 0.5:
                # the rules alone would say yes: their best passage is kept, considered
                best_unit = analysis.evidence[cid][0].unit.index
                shown += [i for i, (_p, c) in enumerate(ranked)
                          if c.unit.index == best_unit and i not in shown][:1]
            evidence = tuple(
                Evidence(text=c.unit.text, page=c.unit.page,
                         pattern_ids=tuple(c.valid or c.matched), score=round(p, 4))
                for p, c in (ranked[i] for i in shown))
        else:
            best = analysis.evidence[cid]
            floor = best[0].score * defaults.EVIDENCE_RELATIVE_MIN if best else 0.0
            evidence = tuple(
                Evidence(text=e.unit.text, page=e.unit.page, pattern_ids=tuple(e.rule_ids),
                         score=e.score)
                for e in best[: defaults.MAX_EVIDENCE] if e.score >= floor)
            probability = calibrator.probability(cid, analysis.scores[cid])
        supported = bool(evidence) and probability >= 0.5
        confidence = probability if supported else 1.0 - probability
        results.append(CommitmentResult(cid, supported, round(min(max(confidence, 0.0), 1.0), 3),
                                        evidence, rules_supported))
    return Classification(classifier_version=classifiers.CLASSIFIER_VERSION,
                          doc_type=analysis.doc_type, commitments=tuple(results))


def _probability(model, features: dict) -> float:
    z = model.intercept + sum(model.weights.get(k, 0.0) * v for k, v in features.items())
    return 0.0 if z < -30 else 1.0 / (1.0 + math.exp(-z))


# ------------------------------------------------------------------------------ the checks


@pytest.fixture(scope="module")
def _tagged():
    """Texts tagged by the pipeline in this module: the spaCy Docs of each chunk's texts."""
    return {}


@pytest.fixture
def tag_once(_tagged, monkeypatch):
    """Each text tagged by the real pipeline once in this module, its spaCy Docs given again to
    every later analysis of it (``annotation_cache.tag``; the pipeline tags a text the same every
    time, and nothing the rules do changes a Doc). Tagging is ~80 % of an analysis, and these
    tests analyse every other dev source five times over; what they compare (the decisions read
    from the analysis, fresh or through the reading cache) is all computed again each time."""
    from classifiers import annotation_cache

    tag = annotation_cache.tag

    def tagged_once(texts):
        key = tuple(texts)
        if key not in _tagged:
            _tagged[key] = tag(texts)
        return _tagged[key]

    monkeypatch.setattr(annotation_cache, "tag", tagged_once)


@pytest.fixture
def reading_cache(tmp_path):
    readings.use_reading_cache(tmp_path)
    try:
        yield tmp_path
    finally:
        readings.use_reading_cache(None)


def test_decisions_from_readings_equal_the_decisions_from_the_analysis(classify, tmp_path,
                                                                      tag_once):
    import classifiers

    assert classifiers.second_stage_model is not None, "the packaged second stage is in force"
    docs = dev_source_documents(every=2)
    assert len(docs) > 100
    expected = [(_reference(d), _reference(d, use_model=False)) for d in docs]
    plain = [(classify(d), classify(d, use_model=False)) for d in docs]
    readings.use_reading_cache(tmp_path)
    try:
        written = [classify(d) for d in docs]
        assert len(list(tmp_path.rglob("*.msgpack.z"))) == len({_key(d) for d in docs})
        read_back = [(classify(d), classify(d, use_model=False)) for d in docs]
    finally:
        readings.use_reading_cache(None)
    assert plain == expected
    assert written == [model for model, _rules in expected]
    assert read_back == expected


def _key(doc) -> str:
    return readings._path(doc, False).name


def test_a_new_model_is_applied_to_cached_readings_without_the_rules(
        classify, reading_cache, monkeypatch):
    """What ``evidencia reprocess`` does after ``evidencia train`` promoted a model."""
    import classifiers
    from classifiers import engine
    from classifiers.second_stage import Linear, SecondStage

    doc = make_doc(
        "Acta de constitución. En Temuco, a 4 de abril de 2025, se constituye el Comité de "
        "Inclusión e Interculturalidad, integrado por cinco trabajadores.",
        "Se realizó un taller de sensibilización sobre migración dirigido a todo el personal.")
    classify(doc)  # analysed, and its reading kept

    def no_rules(_doc):
        raise AssertionError("the rules ran although the reading cache holds this text")

    monkeypatch.setattr(engine, "analyse", no_rules)
    old = classifiers.second_stage_model
    weights = {cid: Linear(m.intercept + 0.5, {k: -v for k, v in m.weights.items()})
               for cid, m in old.passage.items()}
    monkeypatch.setattr(classifiers, "second_stage_model",
                        SecondStage(weights, old.document, old.meta))
    from_cache = classify(doc)
    monkeypatch.undo()
    monkeypatch.setattr(classifiers, "second_stage_model",
                        SecondStage(weights, old.document, old.meta))
    readings.use_reading_cache(None)
    assert from_cache == _reference(doc)


def test_the_reading_key_follows_the_text_its_pages_and_ocr(reading_cache):
    base = make_doc("Uno.", "Dos.")
    keys = {
        _key(base),
        _key(make_doc("Uno.", "Dos!")),
        _key(make_doc("Uno.\nDos.")),
        _key(ExtractedDocument("text/plain", (Page(1, "Uno."), Page(3, "Dos.")), "test")),
        _key(make_doc("Uno.", "Dos.", ocr=True)),
        readings._path(base, True).name,
    }
    assert len(keys) == 6
    assert _key(make_doc("Uno.", "Dos.")) == _key(base)


def test_a_corrupt_reading_is_analysed_again_and_rewritten(classify, reading_cache):
    doc = make_doc("Se constituye el Comité de Inclusión e Interculturalidad de la empresa.")
    expected = classify(doc)
    (entry,) = reading_cache.rglob("*.msgpack.z")
    for junk in (b"not zlib", readings.zlib.compress(b'{"format": 99}'),
                 readings._MAGIC + b"0" * 64 + (4).to_bytes(4, "big") + readings._pack(
                     {"format": 99})):
        entry.write_bytes(junk)
        assert classify(doc) == expected
        assert entry.read_bytes() != junk, "the entry is rewritten"


def test_packed_features_read_back_exactly():
    cases = [[], [("w:a", 1.0)], [("a", 1.0), ("b", 0.333), ("c", 1), ("d", -0.0)],
             [("x\ny", 1.0), ("z", 2.5)], [("", 1.0), ("q", 1.0)],
             [("p", float("inf")), ("position", 0.1 + 0.2)]]
    for pairs in cases:
        names, values = [k for k, _v in pairs], [v for _k, v in pairs]
        back_names, back_values = readings._unpacked(*readings._unpack(readings._pack(
            readings._packed((names, values)))))
        assert back_names == names
        for v, w in zip(back_values, values, strict=True):
            assert v == w and type(v) is type(w)
            assert math.copysign(1, v) == math.copysign(1, w)


def test_entries_read_back_as_the_json_entries_of_format_2_did(classify, tag_once):
    """MessagePack (format 3) reads back every other dev source's reading and what was seen in it
    exactly as format 2's JSON did: the same values, of the same types, floats bit for bit."""
    import json
    import struct

    from classifiers.engine import analyse

    def as_json(value):
        return json.loads(json.dumps(value, separators=(",", ":")))

    def exact(a, b) -> bool:
        if type(a) is not type(b):
            return False
        if type(a) is float:
            return struct.pack("<d", a) == struct.pack("<d", b)
        if type(a) is dict:
            return list(a) == list(b) and all(exact(a[k], b[k]) for k in a)
        if type(a) is list:
            return len(a) == len(b) and all(exact(x, y) for x, y in zip(a, b, strict=True))
        return a == b

    for doc in dev_source_documents(every=2):
        analysis = analyse(doc)
        seen = readings.seen_in(analysis)
        entry = readings._to_bytes(readings.read(analysis, False), seen)
        _stamp, body, found = readings._parts(entry)
        assert exact(readings._unpack(found), as_json(seen))
        unpacked = readings._unpack(body)
        assert exact(unpacked, as_json(unpacked))
        assert readings._from_bytes(body) == readings._from_bytes(readings._pack(as_json(
            unpacked)))


def test_a_reading_without_features_is_not_scored_by_the_model(classify):
    import classifiers
    from classifiers.engine import analyse

    reading = readings.read(analyse(make_doc("Se constituye el comité.")), False, features=False)
    with pytest.raises(ValueError):
        classifiers.second_stage_model.decide(reading)


def _classify_in_child(directory, docs, barrier, out):
    import classifiers

    readings.use_reading_cache(directory)
    barrier.wait(timeout=60)  # both processes write the same entries at the same moment
    out.put([classifiers.classify(d) for d in docs])


def test_two_processes_writing_the_same_readings_at_once(classify, tmp_path):
    """Two workers reprocessing the same texts together (issue 12): each keeps or rewrites the
    entries the other is writing, neither fails, and every entry left reads back to the same
    decisions."""
    import multiprocessing

    docs = dev_source_documents()[:40]
    expected = [classify(d) for d in docs]
    ctx = multiprocessing.get_context("fork")  # the children inherit the loaded classifier
    barrier, queues = ctx.Barrier(2), [ctx.Queue(), ctx.Queue()]
    procs = [ctx.Process(target=_classify_in_child, args=(tmp_path, docs, barrier, q))
             for q in queues]
    for p in procs:
        p.start()
    outputs = [q.get(timeout=300) for q in queues]  # a child that died fails here
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert outputs[0] == expected
    assert outputs[1] == expected
    readings.use_reading_cache(tmp_path)
    try:
        entries = list(tmp_path.rglob("*.msgpack.z"))
        assert len(entries) == len({_key(d) for d in docs})
        for entry in entries:
            readings._from_bytes(readings._parts(entry.read_bytes())[1])  # none torn
        assert not list(tmp_path.rglob(".tmp-*"))
        assert [classify(d) for d in docs] == expected
    finally:
        readings.use_reading_cache(None)


def test_a_new_entry_another_process_writes_while_its_folder_is_made_is_left_to_it(
        tmp_path, monkeypatch):
    """Two first-pass processes (bench_batch.py --synthetic, 2026-12-07) read the same new text:
    one found the entry's folder missing, made it, and the other had written the entry by then.
    The second was a warning with a traceback (FileExistsError); now the entry is left to the
    process that wrote it, as when the folder was there."""
    from pathlib import Path

    path = tmp_path / "ab" / "entry.msgpack.z"
    make_folder = Path.mkdir

    def the_other_process_writes_meanwhile(self, *args, **kwargs):
        make_folder(self, *args, **kwargs)
        path.write_bytes(b"theirs")

    monkeypatch.setattr(Path, "mkdir", the_other_process_writes_meanwhile)
    readings._write(path, b"ours", replace=False)
    assert path.read_bytes() == b"theirs"
