"""The reprocess caches on disk (``classifiers/cache_dir.py``): each cache writes one folder per
generation, the prune removes whole old generations and orphan temporary files and nothing
else, and a failed entry write leaves no temporary file behind."""

from __future__ import annotations

import os
import time

import pytest

from classifiers import annotation_cache, cache_dir, pattern_sets, readings
from classifiers.cache_dir import Cache, generations, prune

from .conftest import make_doc

OLD = "0123456789abcdef"
OLDER = "fedcba9876543210"


def test_each_cache_writes_under_the_generation_of_its_key_base(classify, tmp_path):
    import classifiers

    doc = make_doc("Acta de constitución del Comité de Inclusión, integrado por cinco "
                   "trabajadores migrantes y chilenos.")
    expected = classify(doc)
    classifiers.load(annotation_cache=tmp_path, pipeline=False)
    try:
        assert classify(doc) == expected  # written
        assert classify(doc) == expected  # read back
    finally:
        annotation_cache.use_annotation_cache(None)
        readings.use_reading_cache(None)
    annotations = annotation_cache.generation()
    rules = readings.generation()
    assert len(annotations) == len(rules) == cache_dir.GENERATION_CHARS
    (entry,) = tmp_path.rglob("*.spacy")
    assert entry.relative_to(tmp_path).parts == (annotations, entry.name[:2], entry.name)
    (reading,) = tmp_path.rglob("*.msgpack.z")
    assert reading.relative_to(tmp_path).parts == (
        readings.FOLDER, rules, reading.name[:2], reading.name)
    listed = {c.name: generations(c) for c in (
        Cache("annotations", tmp_path, annotations),
        Cache("readings", tmp_path / readings.FOLDER, rules))}
    assert [(g.name, g.entries, g.current) for g in listed["annotations"]] == [
        (annotations, 1, True)]
    assert [(g.name, g.entries, g.current) for g in listed["readings"]] == [(rules, 1, True)]
    assert listed["annotations"][0].bytes >= entry.stat().st_size
    # beside it, the snapshot of the patterns it was read with: no entry, but in the bytes
    (snapshot,) = tmp_path.rglob("*.patterns.z")
    assert snapshot.relative_to(tmp_path).parts == (
        readings.FOLDER, rules, pattern_sets.FOLDER, snapshot.name)
    assert listed["readings"][0].bytes >= reading.stat().st_size + snapshot.stat().st_size


def _entries(folder, n: int, size: int = 3000) -> None:
    for i in range(n):
        path = folder / f"{i:02x}" / f"{i:02x}{'0' * 62}.spacy"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(size))


def _aged(path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


@pytest.fixture
def populated(tmp_path):
    """An annotation cache's folder as a deployment leaves it after two upgrades: the current
    generation (with a writer's orphan and a write in progress), two old ones, entries from
    before generations, the reading cache and the patterns' validation marks beside them."""
    root = tmp_path / "nlp"
    current = annotation_cache.generation()
    _entries(root / current, 3)
    orphan = root / current / "00" / ".tmp-killed"
    orphan.write_bytes(b"x" * 5000)
    _aged(orphan, cache_dir.ORPHAN_SECONDS + 60)
    in_progress = root / current / "01" / ".tmp-writing"
    in_progress.write_bytes(b"y" * 10)
    _entries(root / OLD, 4)
    (root / OLD / "00" / ".tmp-old").write_bytes(b"z")  # goes with its generation
    _entries(root / OLDER, 1)
    _entries(root, 2)  # before generations: <root>/00/..., <root>/01/...
    (root / "readings" / readings.generation()).mkdir(parents=True)
    (root / "patterns-validated").mkdir()
    (root / "patterns-validated" / ("9" * 64)).touch()
    (root / "notas").mkdir()  # not ours: never touched
    return Cache("annotations", root, current), orphan, in_progress


def test_generations_are_listed_current_first_with_entries_and_size(populated):
    cache, _orphan, _in_progress = populated
    listed = generations(cache)
    assert [(g.name, g.entries, g.current) for g in listed] == [
        (cache.current, 3, True), ("", 2, False), (OLD, 4, False), (OLDER, 1, False)]
    assert all(g.bytes >= g.entries * 3000 for g in listed)
    before = listed[1]
    assert sorted(p.name for p in before.paths) == ["00", "01"]
    orphans = cache_dir.orphans(cache.root / cache.current)
    assert [p.name for p, _size in orphans] == [".tmp-killed"]


def test_prune_removes_old_generations_and_orphans_and_keeps_the_rest(populated):
    cache, orphan, in_progress = populated
    root = cache.root
    listed = {g.name: g for g in generations(cache)}
    done = prune(cache)
    assert sorted(g.name for g in done.generations) == sorted(["", OLD, OLDER])
    assert done.tmp_files == 1 and not done.failed
    old_bytes = sum(g.bytes for g in listed.values() if not g.current)
    assert old_bytes < done.bytes <= old_bytes + 8192  # and the orphan's block(s)
    assert sorted(p.name for p in root.iterdir()) == sorted(
        [cache.current, "readings", "patterns-validated", "notas"])
    assert len(list((root / cache.current).rglob("*.spacy"))) == 3
    assert not orphan.exists() and in_progress.exists()
    assert list((root / "patterns-validated").iterdir())
    assert (root / "readings" / readings.generation()).is_dir()
    again = prune(cache)
    assert (again.generations, again.tmp_files, again.bytes) == ([], 0, 0)


def test_prune_reports_what_it_could_not_remove(populated, monkeypatch):
    cache, _orphan, _in_progress = populated
    real = cache_dir.shutil.rmtree

    def refused(path, onerror):  # as a read-only mount would answer for OLD
        if path.name == OLD:
            onerror(os.unlink, str(path / "00"), (PermissionError, PermissionError(
                13, "Permission denied"), None))
            return
        real(path, onerror=onerror)

    monkeypatch.setattr(cache_dir.shutil, "rmtree", refused)
    done = prune(cache)
    assert sorted(g.name for g in done.generations) == sorted(["", OLDER])
    assert [(p.name, reason) for p, reason in done.failed] == [("00", "Permission denied")]
    assert (cache.root / OLD).is_dir()


def test_a_missing_cache_lists_its_current_generation_empty(tmp_path):
    cache = Cache("readings", tmp_path / "none", "a" * 16)
    assert [(g.name, g.entries, g.bytes, g.current) for g in generations(cache)] == [
        ("a" * 16, 0, 0, True)]
    assert prune(cache).bytes == 0


# ------------------------------------------------------------------------ a failed write
# (the atomic writer itself: tests/extractors/test_files.py)


def test_a_failed_annotation_cache_write_is_logged_and_leaves_nothing(classify, tmp_path,
                                                                       monkeypatch, caplog):
    doc = make_doc("Se constituye el Comité de Inclusión de la empresa.")
    expected = classify(doc)

    def full(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cache_dir.os, "replace", full)
    annotation_cache.use_annotation_cache(tmp_path)
    try:
        assert classify(doc) == expected
    finally:
        annotation_cache.use_annotation_cache(None)
    assert "could not write the annotation cache" in caplog.text
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


# ------------------------------------------------------------------------ validation marks


def test_the_validation_mark_is_where_the_engine_writes_it(tmp_path):
    """``MARKS_FOLDER`` names again the folder ``engine.py`` (fingerprinted, so not edited to
    import it) writes the marks in: the two must agree, or the prune would miss them."""
    from classifiers import engine
    from classifiers.rules import load_rules

    ruleset = load_rules()
    annotation_cache.use_annotation_cache(tmp_path)
    try:
        marker = engine._validated(ruleset)
    finally:
        annotation_cache.use_annotation_cache(None)
    assert marker == tmp_path / cache_dir.MARKS_FOLDER / ruleset.fingerprint()


def test_stale_validation_marks_are_pruned_and_the_current_one_kept(tmp_path):
    marks = tmp_path / cache_dir.MARKS_FOLDER
    marks.mkdir()
    for name in ("a" * 64, "b" * 64, "c" * 64):
        (marks / name).touch()
    listed = cache_dir.validation_marks(tmp_path, "b" * 64)
    assert [(m.path.name[0], m.current) for m in listed] == [("b", True), ("a", False),
                                                             ("c", False)]
    assert cache_dir.prune_marks(tmp_path, None).marks == 0  # patterns unreadable: keep all
    assert len(list(marks.iterdir())) == 3
    done = cache_dir.prune_marks(tmp_path, "b" * 64)
    assert (done.marks, done.failed) == (2, [])
    assert [p.name for p in marks.iterdir()] == ["b" * 64]
    assert cache_dir.validation_marks(tmp_path / "ninguna", "b" * 64) == []
