"""Files written whole or not at all: a temporary file beside the target, renamed into place.

The one atomic writer of the project: the content-addressed store (``service/domain/storage.py``),
the page renders (``service/web/page_images.py``) and the reprocess caches
(``classifiers/cache_dir.py``) all write through it. It sits in ``extractors``, the lowest floor,
which both the service and the classifiers already import (the error hierarchy lives here too):
the store needs no classifier module and the classifiers no service module. It reads and decides
nothing about documents, so no version or fingerprint covers it.

Files take the umask's mode (``os.open`` with 0o666), not ``tempfile.mkstemp``'s 0600: a worker
on another machine with another uid (the store shared over NFS) or staff running ``reprocess``
as another user must be able to read what a worker wrote.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

__all__ = ["TMP_PREFIX", "AtomicFile", "atomic_file", "atomic_write"]

#: how the temporary files begin (a writer killed mid-write leaves one behind; the caches' prune
#: removes old ones)
TMP_PREFIX = ".tmp-"

_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)


class AtomicFile:
    """A temporary file being written; ``commit`` gives it its final name."""

    def __init__(self, fh: BinaryIO, path: Path):
        self._fh = fh
        self.path = path  # the temporary file's

    def write(self, data: bytes) -> int:
        return self._fh.write(data)

    def commit(self, target: Path) -> Path:
        """Close the file and rename it to ``target`` (its folder made when missing): readers
        of ``target`` see the old file or the whole new one, never half of it."""
        self._fh.close()  # a failed flush (a full disk) raises here, before the rename
        try:
            os.replace(self.path, target)
        except FileNotFoundError:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.path, target)
        return target


@contextmanager
def atomic_file(folder: Path) -> Iterator[AtomicFile]:
    """A new temporary file in ``folder`` (made when missing), for writes whose final name is
    known only at the end (the store names a file by the hash of what it wrote). Leaving the
    block without ``commit`` (an error, an interruption, or nothing to keep) removes it."""
    path = folder / f"{TMP_PREFIX}{secrets.token_hex(8)}"
    try:
        fd = os.open(path, _FLAGS, 0o666)
    except FileNotFoundError:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, _FLAGS, 0o666)
    fh = os.fdopen(fd, "wb")
    try:
        yield AtomicFile(fh, path)
    finally:
        try:
            fh.close()
        finally:
            path.unlink(missing_ok=True)  # committed: renamed away, nothing to remove


def atomic_write(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file beside it renamed into place: a reader
    finds the whole file or none, and two writers of one file each leave a whole one. On any
    failure (a full disk, an interruption) the temporary file is removed and the error raised.
    The folder is made when missing."""
    with atomic_file(path.parent) as out:
        out.write(data)
        return out.commit(path)
