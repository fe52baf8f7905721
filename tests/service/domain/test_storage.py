"""The content-addressed file store on a real folder: files another uid can read (workers share
the store over NFS), and no temporary file left behind by a failed or duplicate write."""

from __future__ import annotations

import io
import os
import stat

import pytest

from service.domain.storage import path_for, read_bytes, store_bytes, store_stream


@pytest.fixture
def umask_022():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _files(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_stored_files_take_the_umask_mode_not_0600(tmp_path, umask_022):
    by_bytes = store_bytes(b"nomina de marzo", tmp_path)
    by_stream, size = store_stream(io.BytesIO(b"acta del comite"), tmp_path)
    for sha in (by_bytes, by_stream):
        assert stat.S_IMODE(path_for(sha, tmp_path).stat().st_mode) == 0o644
    assert read_bytes(by_stream, tmp_path) == b"acta del comite" and size == 15


def test_storing_the_same_bytes_twice_leaves_one_file_and_no_temporary_one(tmp_path):
    first = store_stream(io.BytesIO(b"x" * 3_000_000), tmp_path)
    again = store_stream(io.BytesIO(b"x" * 3_000_000), tmp_path)
    assert first == again
    assert _files(tmp_path) == [path_for(first[0], tmp_path).relative_to(tmp_path).as_posix()]


class _BrokenStream(io.RawIOBase):
    """A damaged archive member: some bytes, then a read error."""

    def __init__(self):
        self._served = False

    def read(self, size=-1):
        if self._served:
            raise OSError("Error -3 while decompressing data: invalid block type")
        self._served = True
        return b"parte del archivo"


def test_a_stream_that_fails_mid_read_leaves_nothing(tmp_path):
    with pytest.raises(OSError):
        store_stream(_BrokenStream(), tmp_path)
    assert _files(tmp_path) == []
