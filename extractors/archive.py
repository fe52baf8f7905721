"""Containers (ZIP archives today): list members from the directory, then stream them one by one.

Nothing is expanded before the whole listing is known: ``open_archive`` reads the central
directory (member count, declared sizes, their total, the compression ratio of each member and of
the whole archive, nesting depth) and turns every problem into an ``ArchiveMember`` with an
``error``; only then may the caller open members, each as a stream capped at its declared size,
to write it to a temporary file or straight into a store. A member that is itself a container
(a ZIP inside a ZIP) is spooled to a temporary file, bounded by the same checks, and listed the
same way in place ("inner.zip/file.pdf").

Refused per member, so one bad file never sinks a batch: absolute paths and ``..`` (path
traversal), symlinks, encrypted members, members too large or compressed beyond reason, members
past the count budget, archives nested too deep. Refused as a whole: an archive whose members
together are compressed beyond reason or exceed the byte budget (a bomb made of many small
members). OS clutter (``__MACOSX/``, ``.DS_Store``, ``Thumbs.db``) and directories are skipped.

Other containers (an e-mail and its attachments) plug in through ``CONTAINERS``: a ``sniff`` of
the first bytes and a ``lister`` that yields ``ArchiveMember`` values the same way (the members'
vocabulary and the shared budget live in ``members.py``, below every lister).
"""

from __future__ import annotations

import contextlib
import io
import posixpath
import re
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from extractors import defaults
from extractors.email_message import list_email, sniff_email
from extractors.errors import (
    CorruptFileError,
    EncryptedError,
    ExtractionError,
    TooLargeError,
    UnsafeArchiveError,
    format_limit,
)
from extractors.members import (
    SILENT,
    ArchiveMember,
    Container,
    ListingContext,
    bomb,
)
from extractors.options import DEFAULT_OPTIONS, ExtractOptions

__all__ = [
    "ArchiveMember",
    "Archive",
    "Container",
    "CONTAINERS",
    "ListingContext",
    "open_archive",
    "iter_archive",
    "is_container",
    "is_clutter",
    "is_hidden_or_clutter",
]


class Archive:
    """The members of one container file, listed from its directory; open while in ``with``."""

    def __init__(self, path: Path, options: ExtractOptions):
        self.path = path
        self._stack = contextlib.ExitStack()
        try:
            tmp = self._stack.enter_context(tempfile.TemporaryDirectory(prefix="evidencia-zip-"))
            context = ListingContext(options, Path(tmp), self._stack)
            self.members: tuple[ArchiveMember, ...] = tuple(
                m for m in _list(path, "", 0, context) if m.error is not SILENT
            )
        except BaseException:
            self._stack.close()
            raise

    def __len__(self) -> int:
        return len(self.members)

    def __iter__(self) -> Iterator[ArchiveMember]:
        return iter(self.members)

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._stack.close()


def open_archive(path: str | Path, *, options: ExtractOptions = DEFAULT_OPTIONS) -> Archive:
    """List a container's documents (nested containers expanded), errors included; nothing is
    expanded but nested containers, each within the limits. Use it as a context manager."""
    return Archive(Path(path), options)


def iter_archive(
    path: str | Path, *, options: ExtractOptions = DEFAULT_OPTIONS
) -> Iterator[ArchiveMember]:
    """Every member of a container, for callers that consume them in one loop."""
    with open_archive(path, options=options) as archive:
        yield from archive


# --------------------------------------------------------------------------------------------
# Listing


def _list(path: Path, prefix: str, depth: int, context: ListingContext) -> Iterator[ArchiveMember]:
    container = _container_of(path)
    if container is None:
        yield ArchiveMember(prefix.rstrip("/") or path.name, 0, CorruptFileError(
            "El archivo ZIP está dañado y no se pudo abrir.", detail="not a known container",
        ))  # fmt: skip
        return
    for member in container.lister(path, prefix, depth, context):
        if member.error is not None or member.opener is None:
            yield member
            continue
        nested = _nested_container(member, context)
        if nested is None:
            yield member
        elif isinstance(nested, ExtractionError):
            yield ArchiveMember(member.name, member.size, nested)
        elif depth + 1 > context.options.max_archive_depth:
            yield ArchiveMember(member.name, member.size, UnsafeArchiveError(
                "El ZIP contiene demasiados niveles de ZIP anidados.",
                detail=f"nesting deeper than {context.options.max_archive_depth}",
            ))  # fmt: skip
        else:
            yield from _list(nested, member.name + "/", depth + 1, context)


def _container_of(path: Path) -> Container | None:
    with open(path, "rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    for container in CONTAINERS:
        if container.sniff(head, path):
            return container
    return None


def _nested_container(
    member: ArchiveMember, context: ListingContext
) -> Path | ExtractionError | None:
    """A member that is itself a container, spooled to a temporary file; None for documents."""
    try:
        with member.open() as stream:
            head = stream.read(_SNIFF_BYTES)
        if not any(c.sniff(head, None) for c in CONTAINERS):
            return None
        with member.open() as stream:
            spooled = context.spool(stream, member.size)
    except ExtractionError as exc:
        return exc
    if any(c.sniff(head, spooled) for c in CONTAINERS):
        return spooled
    spooled.unlink()  # a DOCX, XLSX, ODT...: a document that happens to be a ZIP
    return None


_SNIFF_BYTES = 4096


# --------------------------------------------------------------------------------------------
# ZIP


def _sniff_zip(head: bytes, path: Path | None) -> bool:
    """A ZIP archive, not an OOXML/ODF document (which are ZIPs too): the latter is only told
    once the whole file is there (``path``)."""
    if head[:4] not in (b"PK\x03\x04", b"PK\x05\x06"):
        return False
    if path is None:
        return True
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return True  # a damaged ZIP is still an archive: its listing reports it
    return "[Content_Types].xml" not in names and "mimetype" not in names


def _list_zip(path: Path, prefix: str, depth: int, context: ListingContext):
    try:
        zf = zipfile.ZipFile(path)
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        yield ArchiveMember(prefix.rstrip("/") or path.name, 0, CorruptFileError(
            "El archivo ZIP está dañado y no se pudo abrir.", detail=repr(exc),
        ))  # fmt: skip
        return
    context.keep_open(zf)
    entries = [(i, _member_name(i).replace("\\", "/")) for i in infos]
    entries = [(i, n) for i, n in entries if not i.is_dir() and not is_clutter(n)]
    checked = [
        (info, prefix + name, _check_member(info, name, context.options))
        for info, name in entries
    ]
    bomb = _many_small_bombs([info for info, _, problem in checked if problem is None], context)
    if bomb is not None:
        yield ArchiveMember(prefix.rstrip("/") or path.name, 0, bomb)
        return
    for info, full, problem in checked:
        problem = context.count(full, info.file_size) or problem
        if problem is not None:
            yield ArchiveMember(full, info.file_size, problem)
            continue
        yield ArchiveMember(full, info.file_size, None, _zip_opener(zf, info))


def _many_small_bombs(
    infos: list[zipfile.ZipInfo], context: ListingContext
) -> UnsafeArchiveError | None:
    """The members that pass one by one, taken together: thousands of small members of zeros
    (60 KB each, 60 bytes compressed) are a bomb no single-member rule sees."""
    total = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos)
    limit = context.options.max_compression_ratio
    if total >= defaults.RATIO_MIN_BYTES and total > limit * max(packed, 1):
        return bomb(f"whole-archive ratio {total}/{packed}", whole=True)
    return None


def _zip_opener(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> Callable[[], BinaryIO]:
    def opener() -> BinaryIO:
        try:
            return _CappedStream(zf.open(info), info.file_size)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
            raise CorruptFileError(
                "Un archivo dentro del ZIP está dañado y no se pudo leer.", detail=repr(exc)
            ) from exc
        except NotImplementedError as exc:
            raise CorruptFileError(
                "Un archivo dentro del ZIP usa un método de compresión no soportado.",
                detail=repr(exc),
            ) from exc

    return opener


class _CappedStream(io.RawIOBase):
    """A member stream that turns decoder failures into Spanish errors and never yields more
    than the declared size (headers can lie)."""

    def __init__(self, raw: BinaryIO, size: int):
        self._raw = raw
        self._left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        want = len(buffer)
        try:
            data = self._raw.read(min(want, self._left + 1))
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            raise CorruptFileError(
                "Un archivo dentro del ZIP está dañado y no se pudo leer.", detail=repr(exc)
            ) from exc
        if len(data) > self._left:
            raise bomb("member larger than its declared size")
        self._left -= len(data)
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        try:
            self._raw.close()
        finally:
            super().close()


def _member_name(info: zipfile.ZipInfo) -> str:
    """Names without the UTF-8 flag were decoded as cp437 by zipfile. macOS and most tools write
    UTF-8 anyway; Windows' own ZIP writes the OEM code page (cp850 for Spanish): "Política.pdf"
    must not become "Pol¡tica.pdf"."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        raw = info.filename.encode("cp437")
    except UnicodeEncodeError:
        return info.filename
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp850", errors="replace")


def is_clutter(name: str) -> bool:
    """Whether a file (its path inside an archive or a folder, ``/``-separated) is what an
    operating system leaves beside documents: the one answer for ZIPs, ``analyze`` and
    ``batch``, so none counts a Thumbs.db as a failed document."""
    base = posixpath.basename(name)
    return (
        name.startswith(defaults.ARCHIVE_SKIP_PREFIXES)
        or "/__MACOSX/" in name
        or base.lower() in defaults.ARCHIVE_SKIP_NAMES
        or base.startswith("._")
    )


def is_hidden_or_clutter(path: str) -> bool:
    """Whether a file of a folder (its ``/``-separated path under the folder) is no document:
    hidden, itself or a folder above it (``.git/``), or OS clutter (:func:`is_clutter`); the
    one answer for ``evidencia batch`` and ``analyze`` walking a folder."""
    return any(part.startswith(".") for part in path.split("/")) or is_clutter(path)


_DRIVE_RE = re.compile(r"^[A-Za-z]:")


def _check_member(
    info: zipfile.ZipInfo, name: str, options: ExtractOptions
) -> ExtractionError | None:
    parts = name.split("/")
    if name.startswith("/") or _DRIVE_RE.match(name) or ".." in parts:
        return UnsafeArchiveError(
            "Un archivo dentro del ZIP tiene una ruta no permitida (absoluta o con '..') y se "
            "omitió.",
            detail=f"path traversal: {info.filename!r}",
        )
    mode = info.external_attr >> 16
    if info.create_system == 3 and stat.S_ISLNK(mode):
        return UnsafeArchiveError(
            "Un archivo dentro del ZIP es un enlace simbólico y se omitió.",
            detail=f"symlink: {info.filename!r}",
        )
    if info.flag_bits & 0x1:
        return EncryptedError(
            "Un archivo dentro del ZIP está protegido con contraseña y no se pudo leer. Súbalo "
            "sin contraseña.",
            detail="encrypted zip member",
        )
    if info.file_size > options.max_file_bytes:
        return TooLargeError(
            f"Un archivo dentro del ZIP supera el tamaño máximo "
            f"({format_limit(options.max_file_bytes)}).",
            detail=f"member {info.file_size} bytes",
        )
    if (
        info.file_size >= defaults.RATIO_MIN_BYTES
        and info.file_size > options.max_compression_ratio * max(info.compress_size, 1)
    ):
        return bomb(f"ratio {info.file_size}/{info.compress_size}")
    return None


CONTAINERS: tuple[Container, ...] = (
    Container("zip", _sniff_zip, _list_zip),
    Container("email", sniff_email, list_email),
)


def is_container(path: str | Path) -> bool:
    """Whether a file holds documents to list (a ZIP archive, an e-mail), not one document."""
    return _container_of(Path(path)) is not None
