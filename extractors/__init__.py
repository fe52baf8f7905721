"""Extraction stage: any submitted file -> ExtractedDocument (pages, text, word boxes, OCR flags).

Public verbs: ``extract(path)``, its streaming form ``iter_pages(path)`` (one page at a time, for
callers that store pages as they come), ``detect_mime(path)``, ``iter_archive(path)`` and the
version ``EXTRACTOR_VERSION`` that results carry. Every limit a deployment may set travels in
one frozen ``ExtractOptions`` passed as ``options=`` (defaults from ``extractors.defaults``). The
parser is chosen by the MIME type detected from the bytes (``extractors.registry``); archives are
expanded by the caller with ``iter_archive`` and each member is extracted on its own, so one bad
member never sinks the others.
"""

from __future__ import annotations

import functools
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from extractors.document import DocumentSummary, ExtractedDocument, Page, Word
from extractors.errors import (
    CorruptFileError,
    DamagedFileError,
    EmptyFileError,
    EncryptedError,
    EvidenciaError,
    ExtractionError,
    TooLargeError,
    UnsupportedTypeError,
    format_limit,
)
from extractors.options import DEFAULT_OPTIONS, ExtractOptions

__all__ = [
    "EXTRACTOR_VERSION",
    "extract",
    "iter_pages",
    "PageStream",
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
EXTRACTOR_VERSION = "1.6.0"

log = logging.getLogger(__name__)

#: public names imported when first asked for (PEP 562): the archive, e-mail and type
#: detection readers are ~10 ms of every command's start, and a command over stored text
#: (``evidencia reprocess``) imports this package for its documents and errors alone
_LAZY = {"iter_archive": "extractors.archive", "ArchiveMember": "extractors.archive",
         "detect_mime": "extractors.detect"}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value

ProgressCallback = Callable[[int, int], object]


def extract(
    path: str | Path,
    *,
    options: ExtractOptions = DEFAULT_OPTIONS,
    progress: ProgressCallback | None = None,
    password: str | None = None,
) -> ExtractedDocument:
    """Read one file into an ExtractedDocument, or raise an ExtractionError (Spanish message).

    ``options`` carries the deployment's limits; ``progress(done, total)`` reports pages read
    out of the document's pages as OCR'd pages finish. Whatever a third-party reader raises on a
    broken file (TypeError, RecursionError, IndexError, binascii.Error...) comes out as
    CorruptFileError. Every page is kept: a caller that can store pages one at a time should use
    ``iter_pages`` and hold one page at a time instead.
    """
    with iter_pages(path, options=options, progress=progress, password=password) as stream:
        pages = tuple(stream)
    return ExtractedDocument(stream.mime, pages, stream.extractor, stream.warnings)


def iter_pages(
    path: str | Path,
    *,
    options: ExtractOptions = DEFAULT_OPTIONS,
    progress: ProgressCallback | None = None,
    password: str | None = None,
) -> PageStream:
    """The pages of one file, one at a time, for callers that store and drop each page::

        with extractors.iter_pages(path, options=options) as doc:
            doc.mime                      # known before the first page
            for page in doc:              # Page objects, in page order, as they are read
                store(page)               # then drop it: memory stays flat on any length
        doc.extractor, doc.warnings       # complete once every page has been read

    What can be told before reading (missing, empty, too large, unsupported or encrypted file)
    is raised here; the rest is raised by the loop, as ExtractionError like ``extract``.
    Leaving the ``with`` early stops the reading (OCR processes, temporary files, open readers).
    """
    from extractors.detect import EMAIL_MIME, ZIP_MIME, detect_mime
    from extractors.registry import claimed_kind, parser_for

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
            f"El archivo pesa {f'{size / 1_048_576:.1f}'.replace('.', ',')} MB y supera el "
            f"máximo permitido de {format_limit(limit)}. Divídalo o comprímalo antes de "
            "subirlo.",
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
        kind = claimed_kind(path, mime)
        if kind is not None:  # "informe.pdf" of random bytes: a damaged PDF, not a new type
            raise DamagedFileError(kind, detail=f"{path.name}: detected MIME type {mime}")
        raise UnsupportedTypeError(detail=f"detected MIME type {mime}")
    stream = PageStream(mime, parser.name, str(path))
    stream.start(functools.partial(parser.load(), path, options=options, password=password,
                                   progress=stream.watch(progress)))
    return stream


class PageStream:
    """The pages of one document as they are read (see ``iter_pages``).

    A parser either returns a whole ExtractedDocument (short formats: text, DOCX, spreadsheets)
    or is a generator of Page that returns a DocumentSummary (PDF, images: as long as a scan
    can be); both come out here the same way. This is the pipeline's one boundary for reader
    failures: whatever a third-party reader raises becomes CorruptFileError.
    """

    def __init__(self, mime: str, reader: str, shown: str):
        self.mime = mime
        #: name and version of what read it, complete once every page has been read
        self.extractor = ""
        #: Spanish notes on the document (pages that failed, OCR caps), complete at the end
        self.warnings: tuple[str, ...] = ()
        self._reader, self._shown = reader, shown
        self._caller_error: BaseException | None = None
        self._pages: Iterator[Page] = iter(())

    def start(self, read: Callable[[], object]) -> None:
        self._pages = self._read(self._reader, read, self._shown)

    def watch(self, progress: ProgressCallback | None) -> ProgressCallback | None:
        """The caller's callback, its failures remembered: they are the caller's (a database
        gone while recording progress), never a sign of a damaged file."""
        if progress is None:
            return None

        def call(done: int, total: int) -> object:
            try:
                return progress(done, total)
            except BaseException as exc:
                self._caller_error = exc
                raise

        return call

    def __iter__(self) -> Iterator[Page]:
        return self._pages

    def __enter__(self) -> PageStream:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._pages.close()

    def _read(self, reader: str, read: Callable[[], object], shown: str) -> Iterator[Page]:
        try:
            parsed = read()
            if isinstance(parsed, ExtractedDocument):
                yield from parsed.pages
                summary = DocumentSummary(parsed.extractor, parsed.warnings)
            else:
                summary = yield from parsed
        except EvidenciaError:
            raise
        except BaseException as exc:
            if self._caller_error is not None and _caused_by(exc, self._caller_error):
                raise self._caller_error from None
            if not isinstance(exc, Exception):  # RecursionError, MemoryError are
                raise
            log.warning("%s parser failed on %s: %r", reader, shown, exc)
            raise CorruptFileError(detail=f"{reader}: {exc!r}") from exc
        self.extractor = f"{summary.extractor}/{EXTRACTOR_VERSION}"
        self.warnings = tuple(summary.warnings)


def _caused_by(exc: BaseException, cause: BaseException) -> bool:
    """``exc`` is ``cause`` or was raised while handling it (a reader wrapping it)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if exc is cause:
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


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
