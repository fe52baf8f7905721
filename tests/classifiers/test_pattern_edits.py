"""After an edit of the patterns, the readings reused from the cache are the ones a full analysis
gives (issue 12, reprocess at archive speed).

The reading cache (``readings.py``) keeps a text's reading across an edit of the pattern data
when no edited rule can match in the text (``pattern_sets.py``). Here every kind of edit is
applied to a copy of the patterns (a record removed, renamed or added, a weight, an ``IN`` list,
a regular expression, a cue, an external name, a scope record, a document type, the priors, the
conditions, a reorder, a pattern that may match anywhere, a comment) and, when the repository's
history is at hand, the last commits of the patterns; on a sample of the corpus sources the
readings and the decisions taken through the cache must equal those of a full analysis under
the edited patterns, and the texts the edit cannot touch must not be analysed again. Edits of
the conditions alone (exclusions added or reworded, requirements, by document type, a
document-type rule's) are told per text by the cue labels it holds; edits of the patterns alone
by matching the old and new versions of the edited rules again on the text's tokens: both are
checked here the same way.

``EVIDENCIA_PATTERN_EDITS_ALL=1`` runs every corpus source instead of the sample.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from classifiers import defaults, engine, pattern_sets, readings
from extractors.document import ExtractedDocument, Page

from ..conftest import SAMPLES
from .conftest import PAGE_BREAK

#: every how many corpus sources one is taken (all of them with EVIDENCIA_PATTERN_EDITS_ALL)
_EVERY = 1 if os.environ.get("EVIDENCIA_PATTERN_EDITS_ALL") else 12
#: the last commits that edited the patterns, replayed when the history is at hand
_COMMITS = ("da0bbaf", "51c6381", "261d349")


def _sources() -> list[ExtractedDocument]:
    docs = []
    for k, path in enumerate(sorted((SAMPLES / "corpus").glob("org*/*.md"))):
        if k % _EVERY:
            continue
        _, _front, body = path.read_text(encoding="utf-8").split("+++", 2)
        pages = tuple(Page(n, text) for n, text in enumerate(body.split(PAGE_BREAK), 1))
        docs.append(ExtractedDocument(mime="text/markdown", extractor="test", pages=pages))
    return docs


# ------------------------------------------------------------------------------ the edits


def _lines(folder, name: str) -> list[str]:
    return (folder / name).read_text(encoding="utf-8").splitlines()


def _write(folder, name: str, lines: list[str]) -> None:
    (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


def _edit_record(folder, name: str, which, change) -> None:
    """``change(record)`` on the first record of ``name`` for which ``which(record)`` holds;
    ``change`` returns the new record, None to remove it, or a list of records."""
    lines = _lines(folder, name)
    for k, line in enumerate(lines):
        if not line.strip() or line.lstrip().startswith("//"):
            continue
        record = json.loads(line)
        if which(record):
            new = change(record)
            new = [] if new is None else new if isinstance(new, list) else [new]
            lines[k:k + 1] = [json.dumps(r, ensure_ascii=False) for r in new]
            _write(folder, name, lines)
            return
    raise AssertionError(f"no record to edit in {name}")


def _tokens(record) -> list:
    return record["pattern"] if isinstance(record["pattern"], list) else []


def _has_in(record) -> bool:
    return any(isinstance(v, dict) and "IN" in v for t in _tokens(record) for v in t.values())


def _has_regex(record) -> bool:
    return any("REGEX" in t for t in _tokens(record))


def _add_to_in(word: str):
    def change(record):
        for tok in record["pattern"]:
            for value in tok.values():
                if isinstance(value, dict) and "IN" in value:
                    value["IN"].append(word)
                    return record
    return change


def _widen_regex(extra: str):
    def change(record):
        tok = next(t for t in record["pattern"] if "REGEX" in t)
        tok["REGEX"] = f"(?:{tok['REGEX']})|^{extra}$"
        return record
    return change


def _set(field: str, value):
    def change(record):
        record[field] = value
        return record
    return change


def _first(record) -> bool:
    return True


def _by_id(rule_id: str):
    return lambda record: record["id"] == rule_id


def _append(name: str, record: dict):
    def edit(folder):
        _write(folder, name, [*_lines(folder, name), json.dumps(record, ensure_ascii=False)])
    return edit


def _swap_first_two(name: str):
    def edit(folder):
        lines = _lines(folder, name)
        at = [k for k, line in enumerate(lines) if line.strip() and not line.startswith("//")]
        a, b = at[0], at[1]
        lines[a], lines[b] = lines[b], lines[a]
        _write(folder, name, lines)
    return edit


def _swap_rules(name: str):
    """The first two rules of ``name`` (different ids) swapped."""
    def edit(folder):
        lines = _lines(folder, name)
        at = [k for k, line in enumerate(lines) if line.strip() and not line.startswith("//")]
        ids = [json.loads(lines[k])["id"] for k in at]
        a, b = at[0], at[ids.index(next(i for i in ids if i != ids[0]))]
        lines[a], lines[b] = lines[b], lines[a]
        _write(folder, name, lines)
    return edit


def _move_to_end(name: str, rule_id: str):
    def edit(folder):
        lines = _lines(folder, name)
        k = next(k for k, line in enumerate(lines) if f'"id": "{rule_id}"' in line)
        _write(folder, name, [*lines[:k], *lines[k + 1:], lines[k]])
    return edit


def _later_line_removed(name: str, rule_id: str):
    """The second line of a rule of several lines removed (the rule keeps its place)."""
    def edit(folder):
        lines = _lines(folder, name)
        at = [k for k, line in enumerate(lines) if f'"id": "{rule_id}"' in line]
        assert len(at) > 1, f"{rule_id} has one line"
        _write(folder, name, [*lines[:at[1]], *lines[at[1] + 1:]])
    return edit


def _priors(change):
    def edit(folder):
        data = json.loads((folder / "priors.json").read_text(encoding="utf-8"))
        change(data)
        (folder / "priors.json").write_text(json.dumps(data, ensure_ascii=False),
                                            encoding="utf-8")
    return edit


def _record(name, which, change):
    return lambda folder: _edit_record(folder, name, which, change)


def _rename(record):
    record["id"] += "_renamed"
    return record


def _alternative(record):
    return [record, {"id": record["id"], "label": record["label"],
                     "pattern": [{"LEMMA": "constituir"}, {"NORM": "el"}]}]


def _priors_acta(data):
    data["doc_type_prior"]["acta"]["c1"] = 0.75


def _priors_new_key(data):
    data["scale"] = 1.0


def _add_exclusion(*conds: str):
    def change(record):
        record["excludes"] = [*record.get("excludes", []), *conds]
        return record
    return change


def _reword_exclusion(old: str, new: str):
    def change(record):
        record["excludes"] = [new if c == old else c for c in record["excludes"]]
        return record
    return change


def _add_alternative_requirement(record):
    record["requires"] = [[*([g] if isinstance(g, str) else g), "MIGRANT"]
                          for g in record["requires"]]
    return record


def _has(field: str, value=None):
    return lambda record: bool(record.get(field)) and (value is None or value in record[field])


def _exclusions_of_every(name: str, *conds: str):
    """Every rule of ``name`` excludes ``conds`` too (as the real rounds of rule edits do)."""
    def edit(folder):
        lines = _lines(folder, name)
        for k, line in enumerate(lines):
            if line.strip() and not line.lstrip().startswith("//"):
                lines[k] = json.dumps(_add_exclusion(*conds)(json.loads(line)),
                                      ensure_ascii=False)
        _write(folder, name, lines)
    return edit


def _pattern_and_exclusions(record):
    record = _widen_regex("taller")(record)
    return _add_exclusion("AWARD")(record)


#: name -> (edit of a copy of the patterns folder, whether it must touch every text)
EDITS = {
    "c1 record removed": (_record("c1.jsonl", _first, lambda r: None), False),
    "c3 weight changed": (_record("c3.jsonl", _first, _set("weight", 0.7)), False),
    "c2 IN list, a common word added": (_record("c2.jsonl", _has_in, _add_to_in("realizar")),
                                        False),
    "c4 IN list, a rare word added": (_record("c4.jsonl", _has_in, _add_to_in("zarzuela")),
                                      False),
    "c4 regular expression widened": (_record("c4.jsonl", _has_regex, _widen_regex("taller")),
                                      False),
    "c5 conditions dropped": (_record("c5.jsonl", _first, _set("requires", [])), False),
    "c2 excludes dropped": (_record("c2.jsonl", _first, _set("excludes", [])), False),
    "c3 id renamed": (_record("c3.jsonl", _first, _rename), False),
    "c1 alternative pattern added": (_record("c1.jsonl", _first, _alternative), False),
    "c4 second line of a rule removed": (_later_line_removed("c4.jsonl", "c4.community_event"),
                                         False),
    "a cue gains an alternative pattern": (_append("cues.jsonl", {
        "id": "cue.migrant.word", "label": "MIGRANT", "pattern": [{"NORM": "afuerino"}]}),
        False),
    "a cue loses its second line": (_later_line_removed("cues.jsonl", "cue.award_given"),
                                    False),
    "c4 rule added": (_append("c4.jsonl", {"id": "c4.test_fair", "label": "c4", "weight": 1.2,
                                           "pattern": [{"LEMMA": "feria"}]}), False),
    "MIGRANT cue removed": (_record("cues.jsonl", _by_id("cue.migrant.word"), lambda r: None),
                            False),
    "cue regular expression edited": (
        _record("cues.jsonl", _by_id("cue.migrant.foreigner"), _widen_regex("foraneos?")),
        False),
    "external name removed": (_record("external_names.jsonl", _by_id("ext.sermig"),
                                      lambda r: None), False),
    "external name added": (_append("external_names.jsonl", {
        "id": "ext.test", "label": "EXTERNAL", "pattern": "comité de inclusión"}), False),
    "NEG scope record removed": (_record("scope.jsonl", _by_id("neg.not_yet"), lambda r: None),
                                 False),
    "doctype weight changed": (_record("doctypes.jsonl", _first, _set("weight", 0.5)), False),
    "acta's prior changed": (_priors(_priors_acta), False),
    "comment added": (lambda folder: _write(folder, "c1.jsonl", [
        "// a note for people", *_lines(folder, "c1.jsonl")]), False),
    "priors gain another key": (_priors(_priors_new_key), True),
    "a c5 rule's two lines swapped": (_swap_first_two("c5.jsonl"), False),
    "two rules swapped": (_swap_rules("c3.jsonl"), False),
    "a cue moved to the end": (_move_to_end("cues.jsonl", "cue.migrant.foreigner"), False),
    "a cue on POS alone": (_append("cues.jsonl", {"id": "cue.test.pos", "label": "TESTPOS",
                                                  "pattern": [{"POS": "PROPN"}]}), True),
    # the conditions alone (``pattern_sets._Conditions``), as the real rounds edit them
    "every c4 rule excludes a cue": (_exclusions_of_every("c4.jsonl", "THIRD_PARTY_ORG"),
                                     False),
    "every c4 rule excludes a lead-in": (_exclusions_of_every("c4.jsonl", "lead:INTENT&!PAST"),
                                         False),
    "every c3 rule excludes a section": (_exclusions_of_every("c3.jsonl", "section:NEG"),
                                         False),
    "a c2 exclusion reworded": (_record("c2.jsonl", _has("excludes", "STUDENTS&!WORKER"),
                                       _reword_exclusion("STUDENTS&!WORKER", "STUDENTS")),
                                False),
    "a c3 exclusion by document type": (_record("c3.jsonl", _first,
                                                _add_exclusion("!doctype:politica")), False),
    "a c1 requirement gains an alternative": (
        _record("c1.jsonl", _has("requires"), _add_alternative_requirement), False),
    # a document-type rule's conditions are judged before the type is known ("otro")
    "a document-type rule excludes the type otro": (
        _record("doctypes.jsonl", _first, _add_exclusion("doctype:otro")), False),
    "a cue's conditions and weight": (_record("cues.jsonl", _by_id("cue.migrant.word"),
                                              lambda r: {**r, "weight": 3.0,
                                                         "excludes": ["NEG"]}), False),
    "a c4 rule's pattern and exclusions": (_record("c4.jsonl", _has_regex,
                                                   _pattern_and_exclusions), False),
}


# ------------------------------------------------------------------------------ the checks


@pytest.fixture(scope="module")
def corpus(classify, tmp_path_factory):
    """The sample, tagged once (an annotation cache of the module's own)."""
    from classifiers.annotation_cache import annotation_dir, use_annotation_cache

    before = annotation_dir()
    use_annotation_cache(tmp_path_factory.mktemp("annotations"))
    docs = _sources()
    for doc in docs:
        engine.analyse(doc)
    yield docs
    use_annotation_cache(before)


def _switch_patterns(monkeypatch, folder) -> None:
    monkeypatch.setattr(defaults, "PATTERNS_DIR", folder)
    monkeypatch.setattr(engine, "_ruleset", None)
    monkeypatch.setattr(engine, "_priors", None)
    pattern_sets.forget()


@pytest.fixture
def use_patterns(monkeypatch):
    """Switch the patterns in force to a folder's (the rules and priors loaded again)."""
    yield lambda folder: _switch_patterns(monkeypatch, folder)
    monkeypatch.undo()
    engine._ruleset = engine._priors = None
    pattern_sets.forget()


@pytest.fixture(scope="module")
def base_cache(corpus, tmp_path_factory):
    """(reading cache, its readings as kept): the cache ``_check`` fills under a copy of the
    patterns as they are, filled once for the module; each edit's check starts from a copy of
    its folder instead of analysing the sample again under the same patterns (the sample's
    readings under the unedited patterns are the same for every edit, written to the same
    files, stamped by the patterns' content)."""
    folder = tmp_path_factory.mktemp("base-cache")
    cache = folder / "readings"
    with pytest.MonkeyPatch.context() as monkeypatch:
        _switch_patterns(monkeypatch, _copy_patterns(folder, "base"))
        before, analysed = _through_cache(corpus, cache, monkeypatch)
    engine._ruleset = engine._priors = None
    pattern_sets.forget()
    assert analysed == len(corpus)
    return cache, _as_kept(before)


#: texts whose edited rules were matched again (``Change.same_matches``) by ``_through_cache``
_rematched = [0]


def _through_cache(docs, cache, monkeypatch) -> tuple[list, int]:
    """The readings ``reading_of`` gives with the cache in ``cache``, and how many texts it
    analysed (``_rematched``: how many it checked by matching the edited rules again)."""
    analysed = 0
    analyse = engine.analyse
    same_matches = pattern_sets.Change.same_matches
    touches = pattern_sets.Change.touches

    def judged(self, seen):  # one honest answer: surely, not, or unless these match alike
        touch = touches(self, seen)
        assert isinstance(touch, pattern_sets.Touch) and not (touch.surely and touch.rematch)
        return touch

    def counting(doc):
        nonlocal analysed
        analysed += 1
        return analyse(doc)

    def rematching(self, doc, rule_ids):
        _rematched[0] += 1
        return same_matches(self, doc, rule_ids)

    _rematched[0] = 0
    monkeypatch.setattr(engine, "analyse", counting)
    monkeypatch.setattr(pattern_sets.Change, "same_matches", rematching)
    monkeypatch.setattr(pattern_sets.Change, "touches", judged)
    readings.use_reading_cache(cache)
    try:
        return [readings.reading_of(d, False) for d in docs], analysed
    finally:
        readings.use_reading_cache(None)
        monkeypatch.setattr(engine, "analyse", analyse)
        monkeypatch.setattr(pattern_sets.Change, "same_matches", same_matches)
        monkeypatch.setattr(pattern_sets.Change, "touches", touches)


def _full(docs) -> list:
    return [readings.read(engine.analyse(d), False) for d in docs]


def _as_kept(reading_list) -> list:
    """The readings as the cache gives them back (its MessagePack has lists where a fresh reading
    has tuples): what is compared."""
    return [readings._from_bytes(readings._parts(readings._to_bytes(r))[1])
            for r in reading_list]


def _decisions(reading_list) -> list:
    import classifiers

    return [(classifiers._decide(r, True), classifiers._decide(r, False)) for r in reading_list]


def _check(docs, base_dir, edited_dir, use_patterns, monkeypatch, tmp_path,
           filled=None) -> dict:
    """Fill a cache under ``base_dir`` (or copy ``filled``, a cache filled so and its readings
    as kept: ``base_cache``), switch to ``edited_dir``: the cache's readings must be the full
    analysis's. Returns what was analysed again and what changed."""
    cache = tmp_path / "readings"
    if filled is None:
        use_patterns(base_dir)
        before, analysed = _through_cache(docs, cache, monkeypatch)
        assert analysed == len(docs)
        before = _as_kept(before)
    else:
        shutil.copytree(filled[0], cache)
        before = filled[1]
    use_patterns(edited_dir)
    after, analysed = _through_cache(docs, cache, monkeypatch)
    rematched = _rematched[0]
    expected = _full(docs)
    kept = _as_kept(expected)  # once: it is compared three times
    changed = sum(a != b for a, b in zip(before, kept, strict=True))
    assert _as_kept(after) == kept
    assert _decisions(after) == _decisions(expected)
    again, analysed_again = _through_cache(docs, cache, monkeypatch)  # stamped: all reused
    assert _as_kept(again) == kept and analysed_again == 0
    return {"analysed": analysed, "rematched": rematched, "changed": changed}


def _copy_patterns(tmp_path, name: str):
    folder = tmp_path / name
    shutil.copytree(defaults.PATTERNS_DIR, folder)
    return folder


@pytest.mark.parametrize("name", list(EDITS))
def test_readings_kept_across_an_edit_equal_a_full_analysis(
        name, corpus, base_cache, use_patterns, monkeypatch, tmp_path):
    edit, everything = EDITS[name]
    edited = _copy_patterns(tmp_path, "edited")
    edit(edited)
    found = _check(corpus, None, edited, use_patterns, monkeypatch, tmp_path, base_cache)
    print(f"{name}: {found['analysed']}/{len(corpus)} analysed again, "
          f"{found['rematched']} checked by matching the edited rules again, "
          f"{found['changed']} readings changed")
    assert found["analysed"] >= found["changed"]
    if everything:
        assert found["analysed"] + found["rematched"] >= len(corpus)
    elif name in ("comment added", "a cue's conditions and weight"):
        assert found["analysed"] == found["rematched"] == 0


def test_edits_one_after_another_and_back(corpus, use_patterns, monkeypatch, tmp_path):
    """Entries stamped by one edit are diffed against the next, and a revert is an edit."""
    names = ("c4 rule added", "MIGRANT cue removed", "acta's prior changed")
    folders = [_copy_patterns(tmp_path, "p0")]
    for k in range(len(names)):
        folder = _copy_patterns(tmp_path, f"p{k + 1}")
        for done in names[:k + 1]:
            EDITS[done][0](folder)
        folders.append(folder)
    folders.append(folders[0])  # back to the start
    cache = tmp_path / "readings"
    for folder in folders:
        use_patterns(folder)
        through, _analysed = _through_cache(corpus, cache, monkeypatch)
        assert _as_kept(through) == _as_kept(_full(corpus))
        assert _decisions(through) == _decisions(_full(corpus))


def test_a_missing_snapshot_analyses_every_text_again(
        corpus, use_patterns, monkeypatch, tmp_path):
    docs = corpus[:5]
    base, edited = _copy_patterns(tmp_path, "base"), _copy_patterns(tmp_path, "edited")
    EDITS["comment added"][0](edited)
    cache = tmp_path / "readings"
    use_patterns(base)
    _through_cache(docs, cache, monkeypatch)
    for snapshot in cache.rglob(f"{pattern_sets.FOLDER}/*"):
        snapshot.unlink()
    use_patterns(edited)
    after, analysed = _through_cache(docs, cache, monkeypatch)
    assert analysed == len(docs)
    assert _as_kept(after) == _as_kept(_full(docs))


def _git_patterns(commit: str, folder) -> bool:
    """The patterns folder as of ``commit`` into ``folder``; False without the history."""
    try:
        names = subprocess.run(
            ["git", "ls-tree", "--name-only", commit, "classifiers/patterns/"], cwd=SAMPLES.parent,
            capture_output=True, text=True, check=True).stdout.split()
        folder.mkdir()
        for name in names:
            data = subprocess.run(["git", "show", f"{commit}:{name}"], cwd=SAMPLES.parent,
                                  capture_output=True, check=True).stdout
            (folder / name.rsplit("/", 1)[1]).write_bytes(data)
    except (OSError, subprocess.CalledProcessError):
        return False
    return True


@pytest.mark.parametrize("commit", _COMMITS)
def test_a_past_commit_of_the_patterns(commit, corpus, use_patterns, monkeypatch, tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    if not (_git_patterns(f"{commit}^", old) and _git_patterns(commit, new)):
        pytest.skip("the repository's history is not at hand")
    found = _check(corpus, old, new, use_patterns, monkeypatch, tmp_path)
    print(f"{commit}: {found['analysed']}/{len(corpus)} analysed again, "
          f"{found['rematched']} checked by matching the edited rules again, "
          f"{found['changed']} readings changed")
    assert found["analysed"] >= found["changed"]



def test_snapshots_and_entries_of_the_format_before_still_serve(
        corpus, use_patterns, monkeypatch, tmp_path):
    """A snapshot of format 1 (no conditions) and entries without ``scoped`` labels, as the
    cache held them before the conditions were diffed: an edit is told as before (where the
    edited rules matched), and the readings still equal a full analysis."""
    import zlib

    docs = corpus
    base, edited = _copy_patterns(tmp_path, "base"), _copy_patterns(tmp_path, "edited")
    EDITS["every c4 rule excludes a cue"][0](edited)
    cache = tmp_path / "readings"
    use_patterns(base)
    seen_in = readings.seen_in

    def without_scoped(analysis):
        seen = seen_in(analysis)
        del seen["scoped"]
        return seen

    monkeypatch.setattr(readings, "seen_in", without_scoped)
    _through_cache(docs, cache, monkeypatch)
    monkeypatch.setattr(readings, "seen_in", seen_in)
    for path in cache.rglob(f"{pattern_sets.FOLDER}/*"):
        old = json.loads(zlib.decompress(path.read_bytes()))
        old["format"] = 1
        old["rules"] = [rule[:4] for rule in old["rules"]]
        path.write_bytes(zlib.compress(json.dumps(old).encode()))
    use_patterns(edited)
    after, analysed = _through_cache(docs, cache, monkeypatch)
    assert _as_kept(after) == _as_kept(_full(docs))
    change = next(iter(pattern_sets._changes.values()))
    assert change is not None and not change.conditional  # told as before
    assert 0 < analysed < len(docs)


def test_patterns_edited_under_a_running_process_are_not_kept(
        corpus, use_patterns, monkeypatch, tmp_path):
    """A process stamps readings with the patterns it read at its start: once the files differ
    from those, it keeps nothing (its readings would be stamped with patterns they were not
    read with)."""
    docs = corpus[:3]
    folder = _copy_patterns(tmp_path, "patterns")
    use_patterns(folder)
    pattern_sets.fingerprint()  # as at the classifier's import
    EDITS["c4 rule added"][0](folder)  # then the files are edited
    through, analysed = _through_cache(docs, tmp_path / "readings", monkeypatch)
    assert analysed == len(docs)
    assert _as_kept(through) == _as_kept(_full(docs))
    assert not list((tmp_path / "readings").rglob("*.msgpack.z"))


def test_where_tokens_stand_never_rules_out_a_match(corpus, use_patterns, monkeypatch):
    """The token sequence an entry keeps (``readings.seen_in``) rules an edited pattern out of
    a text only where it cannot match (``pattern_sets._placed``): on every sampled source, every
    rule of the patterns in force that matches in a block that gave a unit has a pattern whose
    tested tokens stand as its chain says, and the check does rule out patterns whose tokens
    the text holds apart (else it would save nothing). ``EVIDENCIA_PATTERN_EDITS_ALL=1``: every
    corpus source."""
    use_patterns(defaults.PATTERNS_DIR)
    ruleset = engine.get_ruleset()
    change = pattern_sets.Change()
    chains = {rule_id: [change._chain(p) for p in pats]
              for rule_id, pats in ruleset.patterns.items()}
    needs = {rule_id: [change._needs(p) for p in pats]
             for rule_id, pats in ruleset.patterns.items()}
    held_apart = checked = 0
    for doc in corpus:
        analysis = engine.analyse(doc)
        seen = readings.seen_in(analysis)
        assert seen["seq"] is not None
        have, bits = change._have(seen["pairs"])
        places = pattern_sets._places(seen["seq"], bits)
        tagged = {id(unit.ref.doc): unit.ref.doc for unit in analysis.context.units}
        matched = {rule_id for block in tagged.values()
                   for rule_id, _start, _end in ruleset.match(block)}
        for rule_id in matched:
            checked += 1
            assert any(need & have == need and pattern_sets._placed(chain, places)
                       for need, chain in zip(needs[rule_id], chains[rule_id], strict=True)
                       ), (rule_id, doc.pages[0].text[:80])
        for rule_id, rule_chains in chains.items():
            for need, chain in zip(needs[rule_id], rule_chains, strict=True):
                if need and need & have == need and not pattern_sets._placed(chain, places):
                    held_apart += 1
    print(f"{checked} matching rules placed; {held_apart} patterns whose tokens the texts "
          f"hold apart ruled out")
    assert checked and held_apart
