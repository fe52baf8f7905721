"""The one atomic writer (``extractors/files.py``), shared by the file store, the page renders and
the reprocess caches: whole files or none, the umask's mode, no temporary file left on failure."""

from __future__ import annotations

import os
import stat

import pytest

from extractors.files import atomic_file, atomic_write


def test_the_atomic_writer_writes_whole_files_and_makes_the_folder(tmp_path):
    path = tmp_path / "gen" / "ab" / "entry.spacy"
    atomic_write(path, b"first")
    assert atomic_write(path, b"second") == path
    assert path.read_bytes() == b"second"
    assert [p.name for p in path.parent.iterdir()] == ["entry.spacy"]


def test_a_file_gets_the_umask_mode_so_another_user_can_read_it(tmp_path):
    """A worker writes, staff reprocess as another user, or a worker on another machine reads
    the store over NFS: the file is not private (0600, what tempfile.mkstemp would give)."""
    previous = os.umask(0o022)
    try:
        written = atomic_write(tmp_path / "ab" / "entry.spacy", b"entry")
        with atomic_file(tmp_path / "late") as out:
            out.write(b"named at the end")
            streamed = out.commit(tmp_path / "files" / "cd" / "named")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(written.stat().st_mode) == 0o644
    assert stat.S_IMODE(streamed.stat().st_mode) == 0o644
    assert streamed.read_bytes() == b"named at the end"


@pytest.mark.parametrize("failure", ["rename", "write", "interrupted"])
def test_the_atomic_writer_removes_its_temporary_file_on_any_failure(tmp_path, monkeypatch,
                                                                      failure):
    path = tmp_path / "ab" / "entry.spacy"
    atomic_write(path, b"old entry")
    data = b"new entry"
    if failure == "rename":
        def full(src, dst):
            raise OSError(28, "No space left on device")
        monkeypatch.setattr(os, "replace", full)
        expected = OSError
    elif failure == "write":
        data = "not bytes"  # the write itself fails, after the temporary file was made
        expected = TypeError
    else:
        def interrupted(src, dst):
            raise KeyboardInterrupt
        monkeypatch.setattr(os, "replace", interrupted)
        expected = KeyboardInterrupt
    with pytest.raises(expected):
        atomic_write(path, data)
    assert [p.name for p in path.parent.iterdir()] == ["entry.spacy"]
    assert path.read_bytes() == b"old entry"


def test_a_temporary_file_not_committed_is_removed(tmp_path):
    """The store drops its copy when the same bytes are there already: it never commits."""
    with atomic_file(tmp_path) as out:
        out.write(b"a copy")
        assert out.path.exists()
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError), atomic_file(tmp_path) as out:
        out.write(b"half")
        raise ValueError("the source broke mid-read")
    assert list(tmp_path.iterdir()) == []
