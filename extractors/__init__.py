"""Extraction stage: any submitted file -> ExtractedDocument (pages, text, word boxes, OCR flags).

Public verbs: ``extract(path)``, ``detect_mime(path)``, ``iter_archive(path)`` and the version
``EXTRACTOR_VERSION`` that results carry. Every limit a deployment may set travels in one frozen
``ExtractOptions`` passed as ``options=`` (defaults from ``extractors.defaults``). The parser
is chosen by the MIME type detected from the bytes (``extractors.registry``); archives are
expanded by the caller with ``iter_archive`` and each member is extracted on its own, so one bad
member never sinks the others.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from extractors.archive import ArchiveMember, iter_archive
from extractors.detect import EMAIL_MIME, ZIP_MIME, detect_mime
from extractors.document import ExtractedDocument, Page, Word
from extractors.errors import (
    CorruptFileError,
    EmptyFileError,
    EncryptedError,
    EvidenciaError,
    ExtractionError,
    TooLargeError,
    UnsupportedTypeError,
)
from extractors.options import DEFAULT_OPTIONS, ExtractOptions
from extractors.registry import parser_for

__all__ = [
    "EXTRACTOR_VERSION",
    "extract",
    "extract_bytes",
    "detect_mime",
    "iter_archive",
    "ArchiveMember",
    "ExtractOptions",
    "ExtractedDocument",
    "Page",
    "Word",
]

#: Bump whenever the output for the same input changes (readers, triage rules, OCR settings).
EXTRACTOR_VERSION = "1.3.0"

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int], object]


def extract(
    path: str | Path,
    *,
    options: ExtractOptions = DEFAULT_OPTIONS,
    progress: ProgressCallback | None = None,
    password: str | None = None,
) -> ExtractedDocument:
    """Read one file into an ExtractedDocument, or raise an ExtractionError (Spanish message).

    ``options`` carries the deployment's limits; ``progress(done, total)`` is called as OCR pages
    finish. Whatever a third-party reader raises on a broken file (TypeError, RecursionError,
    IndexError, binascii.Error...) comes out as CorruptFileError.
    """
    path = Path(path)
    limit = options.max_file_bytes
    try:
        size = path.stat().st_size
    except FileNotFoundError as exc:
        raise ExtractionError("No se encontró el archivo.", detail=str(exc)) from exc
    if size == 0:
        raise EmptyFileError(detail=str(path))
    if size > limit:
        raise TooLargeError(
            f"El archivo pesa {size / 1_048_576:.1f} MB y supera el máximo permitido de "
            f"{limit / 1_048_576:.0f} MB. Divídalo o comprímalo antes de subirlo.",
            detail=f"{size} bytes > {limit}",
        )
    mime = detect_mime(path)
    parser = parser_for(mime)
    if mime == "application/encrypted":
        raise EncryptedError(
            "El documento está protegido con contraseña. Guárdelo sin contraseña y súbalo de "
            "nuevo.",
            detail="libmagic: encrypted OLE/OOXML container",
        )
    if parser is None:
        if mime in (ZIP_MIME, EMAIL_MIME):
            raise UnsupportedTypeError(
                "Los archivos ZIP y los correos (EML) no se leen como un documento: se expanden "
                "y cada archivo que contienen (y el mensaje del correo) se procesa por separado.",
                detail="containers are expanded by the caller with extractors.open_archive",
            )
        raise UnsupportedTypeError(detail=f"detected MIME type {mime}")
    try:
        document = parser.load()(path, options=options, password=password, progress=progress)
    except EvidenciaError:
        raise
    except (Exception, RecursionError, MemoryError) as exc:  # noqa: BLE001 - the one boundary
        log.warning("%s parser failed on %s: %r", parser.name, path, exc)
        raise CorruptFileError(detail=f"{parser.name}: {exc!r}") from exc
    return replace(document, mime=mime, extractor=f"{document.extractor}/{EXTRACTOR_VERSION}")


def extract_bytes(
    data: bytes,
    *,
    options: ExtractOptions = DEFAULT_OPTIONS,
    progress: ProgressCallback | None = None,
    password: str | None = None,
) -> ExtractedDocument:
    """``extract`` for in-memory content (e.g. an ArchiveMember's ``data``)."""
    fd, name = tempfile.mkstemp(prefix="evidencia-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        return extract(name, options=options, password=password, progress=progress)
    finally:
        os.unlink(name)
