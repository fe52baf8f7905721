"""Content-addressed file store: bytes live once under ``files/ab/cd/<sha256>``.

Writes go to a temporary file renamed into place, so a crash never leaves a half-written blob
under its final name, and two workers storing the same bytes do not clash.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO

from service.settings import get_settings

__all__ = ["sha256_bytes", "store_bytes", "store_stream", "path_for", "read_bytes", "atomic_write"]

#: Bytes copied per read by ``store_stream``: memory stays flat whatever the file's size.
_CHUNK = 1024 * 1024


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def path_for(sha256: str, root: Path | None = None) -> Path:
    root = root or get_settings().files_dir
    return root / sha256[:2] / sha256[2:4] / sha256


def atomic_write(target: Path, data: bytes) -> Path:
    """Write ``data`` to ``target`` through a temporary file renamed into place: readers see the
    old file or the whole new one, never half of it (the store, the page-image cache)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


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
    root.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    fd, tmp = tempfile.mkstemp(dir=root, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            while chunk := stream.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
                fh.write(chunk)
        sha = digest.hexdigest()
        target = path_for(sha, root)
        if target.exists():
            Path(tmp).unlink()
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return sha, size


def read_bytes(sha256: str, root: Path | None = None) -> bytes:
    return path_for(sha256, root).read_bytes()
