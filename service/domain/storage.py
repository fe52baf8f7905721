"""Content-addressed file store: bytes live once under ``files/ab/cd/<sha256>``.

Writes go to a temporary file renamed into place (``extractors/files.py``, the project's one
atomic writer), so a crash never leaves a half-written blob under its final name, two workers
storing the same bytes do not clash, and a failed write leaves no temporary file. Files take the
umask's mode, not 0600: a worker on another machine with another uid reads the store over NFS.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import BinaryIO

from extractors.files import atomic_file, atomic_write
from service.settings import get_settings

__all__ = ["sha256_bytes", "store_bytes", "store_stream", "path_for", "read_bytes"]

#: Bytes copied per read by ``store_stream``: memory stays flat whatever the file's size.
_CHUNK = 1024 * 1024


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def path_for(sha256: str, root: Path | None = None) -> Path:
    root = root or get_settings().files_dir
    return root / sha256[:2] / sha256[2:4] / sha256


def store_bytes(data: bytes, root: Path | None = None) -> str:
    """Store ``data`` if it is not there yet; return its sha256."""
    digest = sha256_bytes(data)
    target = path_for(digest, root)
    if not target.exists():
        atomic_write(target, data)
    return digest


def store_stream(stream: BinaryIO, root: Path | None = None) -> tuple[str, int]:
    """Store what ``stream`` yields, hashing it on the way; return (sha256, size). Errors raised
    while reading (a damaged archive member) leave nothing behind."""
    root = root or get_settings().files_dir
    digest = hashlib.sha256()
    size = 0
    with atomic_file(root) as out:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
        sha = digest.hexdigest()
        target = path_for(sha, root)
        if not target.exists():  # else the same bytes are there already: the copy is dropped
            out.commit(target)
    return sha, size


def read_bytes(sha256: str, root: Path | None = None) -> bytes:
    return path_for(sha256, root).read_bytes()
