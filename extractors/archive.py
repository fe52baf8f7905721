"""ZIP archives: walk members (nested folders and nested ZIPs) safely, one document each.

A bad member is reported as an ``ArchiveMember`` with an ``error`` and the walk goes on, so one
bad file never sinks a batch. Refused: absolute paths and ``..`` (path traversal), symlinks,
encrypted members, members whose compression ratio or size betrays a zip bomb, archives with too
many members or too many bytes in total. OS clutter (``__MACOSX/``, ``.DS_Store``, ``Thumbs.db``)
and directories are skipped silently.
"""

from __future__ import annotations

import io
import posixpath
import re
import stat
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from extractors import defaults
from extractors.errors import (
    CorruptFileError,
    EncryptedError,
    ExtractionError,
    TooLargeError,
    UnsafeArchiveError,
)
from extractors.options import DEFAULT_OPTIONS, ExtractOptions

__all__ = ["ArchiveMember", "iter_archive", "is_zip"]


@dataclass(frozen=True, slots=True)
class ArchiveMember:
    name: str  # relative to the outer archive, nested archives expanded: "inner.zip/file.pdf"
    data: bytes | None
    error: ExtractionError | None = None


@dataclass(slots=True)
class _Budget:
    options: ExtractOptions
    members: int = 0
    total_bytes: int = 0
    over_count_reported: bool = field(default=False)


_DRIVE_RE = re.compile(r"^[A-Za-z]:")


def is_zip(data: bytes) -> bool:
    return data[:4] in (b"PK\x03\x04", b"PK\x05\x06") and zipfile.is_zipfile(io.BytesIO(data))


def iter_archive(
    path: str | Path, *, options: ExtractOptions = DEFAULT_OPTIONS
) -> Iterator[ArchiveMember]:
    """Yield every document inside a ZIP file (nested ZIPs expanded), errors included."""
    yield from _walk(Path(path), prefix="", depth=0, budget=_Budget(options))


def _walk(source, *, prefix: str, depth: int, budget: _Budget) -> Iterator[ArchiveMember]:
    try:
        zf = zipfile.ZipFile(source if not isinstance(source, bytes) else io.BytesIO(source))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        name = prefix.rstrip("/") or Path(str(source)).name
        yield ArchiveMember(
            name,
            None,
            CorruptFileError("El archivo ZIP está dañado y no se pudo abrir.", detail=repr(exc)),
        )
        return
    with zf:
        for info in zf.infolist():
            name = _member_name(info).replace("\\", "/")
            if info.is_dir() or _is_clutter(name):
                continue
            full = prefix + name
            budget.members += 1
            if budget.members > budget.options.max_archive_members:
                if not budget.over_count_reported:
                    budget.over_count_reported = True
                    yield ArchiveMember(full, None, UnsafeArchiveError(
                        f"El ZIP contiene más de {budget.options.max_archive_members} archivos; "
                        "no se procesaron los restantes. Divídalo en varios ZIP más pequeños.",
                        detail="too many members",
                    ))  # fmt: skip
                continue
            problem = _check_member(info, name, budget)
            if problem is not None:
                yield ArchiveMember(full, None, problem)
                continue
            try:
                data = _read_capped(zf, info)
            except ExtractionError as exc:
                yield ArchiveMember(full, None, exc)
                continue
            budget.total_bytes += len(data)
            if is_zip(data) and not _is_office_document(data):
                if depth + 1 > budget.options.max_archive_depth:
                    yield ArchiveMember(full, None, UnsafeArchiveError(
                        "El ZIP contiene demasiados niveles de ZIP anidados.",
                        detail=f"nesting deeper than {budget.options.max_archive_depth}",
                    ))  # fmt: skip
                    continue
                yield from _walk(data, prefix=full + "/", depth=depth + 1, budget=budget)
                continue
            yield ArchiveMember(full, data, None)


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


def _is_clutter(name: str) -> bool:
    base = posixpath.basename(name)
    return (
        name.startswith(defaults.ARCHIVE_SKIP_PREFIXES)
        or "/__MACOSX/" in name
        or base in defaults.ARCHIVE_SKIP_NAMES
        or base.startswith("._")
    )


def _check_member(info: zipfile.ZipInfo, name: str, budget: _Budget) -> ExtractionError | None:
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
    options = budget.options
    if info.file_size > options.max_file_bytes:
        return TooLargeError(
            f"Un archivo dentro del ZIP supera el tamaño máximo "
            f"({options.max_file_bytes // (1024 * 1024)} MB).",
            detail=f"member {info.file_size} bytes",
        )
    if (
        info.file_size >= defaults.RATIO_MIN_BYTES
        and info.file_size > options.max_compression_ratio * max(info.compress_size, 1)
    ):
        return _bomb(f"ratio {info.file_size}/{info.compress_size}")
    if budget.total_bytes + info.file_size > options.max_archive_total_bytes:
        return _bomb(f"total uncompressed size above {options.max_archive_total_bytes}")
    return None


def _bomb(detail: str) -> UnsafeArchiveError:
    return UnsafeArchiveError(
        "Un archivo dentro del ZIP tiene una compresión anómala (posible 'bomba ZIP') y se omitió.",
        detail=detail,
    )


def _read_capped(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """Read a member without trusting its declared size (headers can lie)."""
    limit = info.file_size
    try:
        with zf.open(info) as handle:
            data = handle.read(limit + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise CorruptFileError(
            "Un archivo dentro del ZIP está dañado y no se pudo leer.", detail=repr(exc)
        ) from exc
    except NotImplementedError as exc:
        raise CorruptFileError(
            "Un archivo dentro del ZIP usa un método de compresión no soportado.",
            detail=repr(exc),
        ) from exc
    if len(data) > limit:
        raise _bomb("member larger than its declared size")
    return data


def _is_office_document(data: bytes) -> bool:
    """DOCX/XLSX (Office Open XML) and ODT/ODS (OpenDocument) are ZIPs too: documents, not
    nested archives."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = zf.namelist()
            return "[Content_Types].xml" in names or "mimetype" in names
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False
