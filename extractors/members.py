"""What every container yields and what its listers share: ``ArchiveMember`` (one document
inside a ZIP or an e-mail, or why it cannot be read), ``ListingContext`` (the limits and the
budget shared by all nesting levels), ``Container`` (how a kind of container is recognised and
listed) and the capped copy that refuses a member larger than declared.

Apart from ``archive.py`` (ZIP archives, the registry ``CONTAINERS``, the nesting) so that the
other listers (``email_message.py``) use these without importing ``archive.py``, which imports
them to register them: the members' vocabulary sits below both, and imports run one way.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from extractors.errors import ExtractionError, UnsafeArchiveError
from extractors.options import ExtractOptions

__all__ = ["CHUNK_BYTES", "SILENT", "ArchiveMember", "ListingContext", "Lister", "Container",
           "copy_capped", "bomb", "EMAIL_BODY_NAME"]

#: Bytes copied per read when a member is streamed (bounded memory whatever the member's size).
CHUNK_BYTES = 1024 * 1024

#: Name of the member that holds an e-mail's message itself (``email_message.py``): a name the
#: extractor gives, which the pages show with its e-mail's ("correo.eml/mensaje.txt").
EMAIL_BODY_NAME = "mensaje.txt"


@dataclass(frozen=True, slots=True)
class ArchiveMember:
    """One document inside a container, or the reason it cannot be read (``error``)."""

    name: str  # relative to the outer container, nested ones expanded: "inner.zip/file.pdf"
    size: int = 0  # uncompressed bytes, as declared by the container's directory
    error: ExtractionError | None = None
    opener: Callable[[], BinaryIO] | None = field(default=None, repr=False, compare=False)

    def open(self) -> BinaryIO:
        """The member's bytes as a stream (read it in chunks); valid while its Archive is open.

        Reading raises CorruptFileError (damaged data, CRC mismatch) or UnsafeArchiveError (more
        bytes than declared): a caller storing the stream records that member's error, goes on.
        """
        if self.opener is None:
            raise self.error or ExtractionError(detail=f"member {self.name!r} has no content")
        return self.opener()

    def read(self) -> bytes:
        """The whole member in memory: only for callers that need bytes (bounded by
        ``max_file_bytes``); prefer ``open`` and stream."""
        with self.open() as stream:
            return stream.read()


@dataclass(slots=True)
class ListingContext:
    """What a container lister needs: the limits, the budget shared by all nesting levels, and
    a temporary folder (removed with the Archive) where nested containers are spooled."""

    options: ExtractOptions
    tmpdir: Path
    stack: contextlib.ExitStack
    members: int = 0
    total_bytes: int = 0
    over_count_reported: bool = False
    _spooled: int = 0

    def keep_open(self, resource):
        """Keep a container's reader open until the Archive closes (members read from it)."""
        return self.stack.enter_context(resource)

    def spool(self, stream: BinaryIO, size: int) -> Path:
        """Copy a member stream to a file of the temporary folder (never whole in memory)."""
        self._spooled += 1
        target = self.tmpdir / f"member-{self._spooled:05d}"
        with open(target, "wb") as out:
            copy_capped(stream, out, size)
        return target

    def count(self, name: str, size: int) -> ExtractionError | None:
        """Charge one member to the shared budget; the error once the budget is spent."""
        self.members += 1
        if self.members > self.options.max_archive_members:
            if self.over_count_reported:
                return SILENT
            self.over_count_reported = True
            return UnsafeArchiveError(
                f"El ZIP contiene más de {self.options.max_archive_members} archivos; no se "
                "procesaron los restantes. Divídalo en varios ZIP más pequeños.",
                detail="too many members",
            )
        if self.total_bytes + size > self.options.max_archive_total_bytes:
            return bomb(f"total uncompressed size above {self.options.max_archive_total_bytes}")
        self.total_bytes += size
        return None


#: Marker for members past the count limit after the one reported: they are left out silently.
SILENT = UnsafeArchiveError(detail="past the member limit (already reported)")

Lister = Callable[[Path, str, int, ListingContext], Iterator[ArchiveMember]]


@dataclass(frozen=True, slots=True)
class Container:
    """A kind of file that holds documents: how to recognise it and how to list its members."""

    name: str
    sniff: Callable[[bytes, Path | None], bool]  # (first bytes, spooled file if any)
    lister: Lister  # (path, name prefix, depth, context) -> members


def copy_capped(stream: BinaryIO, out: BinaryIO, size: int) -> None:
    """Copy ``stream`` to ``out`` in chunks; UnsafeArchiveError past ``size`` bytes (headers
    can lie about a member's size)."""
    copied = 0
    while chunk := stream.read(CHUNK_BYTES):
        copied += len(chunk)
        if copied > size:
            raise bomb("member larger than its declared size")
        out.write(chunk)


def bomb(detail: str, *, whole: bool = False) -> UnsafeArchiveError:
    """The Spanish refusal of a member (or, ``whole``, an archive) compressed beyond reason."""
    if whole:
        return UnsafeArchiveError(
            "El ZIP se rechazó: su contenido descomprimido es anómalamente grande para su tamaño "
            "(posible 'bomba ZIP'). Comprima los documentos originales en un ZIP nuevo.",
            detail=detail,
        )
    return UnsafeArchiveError(
        "Un archivo dentro del ZIP tiene una compresión anómala (posible 'bomba ZIP') y se omitió.",
        detail=detail,
    )
