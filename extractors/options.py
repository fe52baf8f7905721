"""What a deployment may tune in extraction, carried as one frozen value.

``ExtractOptions()`` holds the defaults of ``extractors.defaults`` (each with the reason for its
value there). A deployment builds one from its own settings and passes it to ``extract`` and
``iter_archive``; every parser, the OCR runner and the archive walker read their limits from it.
Nothing mutates ``defaults`` at run time, so two callers in one process can use different limits.

Only costs and safety limits live here. Values that change what is read from a file (DPI, triage
thresholds, OCR language) stay in ``defaults`` alone: they are part of ``EXTRACTOR_VERSION``.
The one exception is ``force_ocr``, a reviewer's request for one document: a caller that stores
what it reads keeps that reading apart from the normal one.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from extractors import defaults

__all__ = ["ExtractOptions", "DEFAULT_OPTIONS"]


@dataclass(frozen=True, slots=True)
class ExtractOptions:
    #: Largest single file, archive members included (bytes).
    max_file_bytes: int = defaults.MAX_FILE_BYTES
    #: Tesseract processes run at once for one document (one per core; 1 with a worker per core).
    ocr_workers: int = defaults.OCR_WORKERS
    #: Seconds one page may take in Tesseract before it becomes a page error.
    ocr_page_timeout: float = defaults.OCR_PAGE_TIMEOUT
    #: Scanned pages OCR'd per document; the rest are reported page by page.
    max_ocr_pages: int = defaults.MAX_OCR_PAGES
    #: Pixels of one page rendered for OCR (gray, one byte each).
    max_render_pixels: int = defaults.MAX_RENDER_PIXELS
    #: Pixels an image file is scaled down to before OCR.
    max_image_pixels: int = defaults.MAX_IMAGE_PIXELS
    #: Pixels one image may be decoded at (after JPEG draft reduction); above it it is refused.
    max_decode_pixels: int = defaults.MAX_DECODE_PIXELS
    #: Members per archive, nested archives included.
    max_archive_members: int = defaults.MAX_ARCHIVE_MEMBERS
    #: Uncompressed bytes per archive, nested archives included.
    max_archive_total_bytes: int = defaults.MAX_ARCHIVE_TOTAL_BYTES
    #: Uncompressed / compressed size above which a member, or a whole archive, is a bomb.
    max_compression_ratio: float = defaults.MAX_COMPRESSION_RATIO
    #: Nested archive depth ("a.zip/b.zip/c.zip/file.pdf" is 2).
    max_archive_depth: int = defaults.MAX_ARCHIVE_DEPTH
    #: Uncompressed bytes of one XML part of a DOCX or ODT (``word/document.xml``, ODT's
    #: ``content.xml``...).
    max_docx_part_bytes: int = defaults.MAX_DOCX_PART_BYTES
    #: Seconds poppler's pdftotext may take per call.
    pdftotext_timeout: float = defaults.PDFTOTEXT_TIMEOUT
    #: Pages per document handed to pdfplumber's table finder (~0.1 s each).
    table_max_pages: int = defaults.TABLE_MAX_PAGES
    #: Pictures OCR'd per DOCX that is mostly pasted pictures (~1.5 s each).
    docx_max_ocr_images: int = defaults.DOCX_MAX_OCR_IMAGES
    #: Rows read per spreadsheet sheet, and columns per row.
    spreadsheet_max_rows: int = defaults.SPREADSHEET_MAX_ROWS
    spreadsheet_max_columns: int = defaults.SPREADSHEET_MAX_COLUMNS
    #: Filled cells read per spreadsheet file, all sheets together.
    spreadsheet_max_cells: int = defaults.SPREADSHEET_MAX_CELLS
    #: Uncompressed bytes of a spreadsheet's parts, checked before the reader inflates them.
    spreadsheet_max_uncompressed_bytes: int = defaults.SPREADSHEET_MAX_UNCOMPRESSED_BYTES
    #: File size of a legacy Excel (XLS) file, read whole when it is opened.
    spreadsheet_max_xls_bytes: int = defaults.SPREADSHEET_MAX_XLS_BYTES
    #: Seconds one LibreOffice conversion (DOC, RTF) may take before it is killed.
    libreoffice_timeout: float = defaults.LIBREOFFICE_TIMEOUT
    #: LibreOffice conversions running at once on the machine, all processes together.
    libreoffice_max_processes: int = defaults.LIBREOFFICE_MAX_PROCESSES
    #: Seconds a conversion waits for a free slot before "try again later".
    libreoffice_slot_wait: float = defaults.LIBREOFFICE_SLOT_WAIT
    #: Address space of one LibreOffice process (bytes).
    libreoffice_max_memory_bytes: int = defaults.LIBREOFFICE_MAX_MEMORY_BYTES
    #: Read every PDF page with OCR whatever its text layer holds (the text layer is wrong:
    #: a font without a Unicode map that the triage took for text).
    force_ocr: bool = False

    def __post_init__(self) -> None:
        """Fail fast on a nonsensical deployment value instead of deep inside a job."""
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "force_ocr":
                if not isinstance(value, bool):
                    raise ValueError(f"ExtractOptions.force_ocr must be a bool: {value!r}")
                continue
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ValueError(f"ExtractOptions.{f.name} must be a positive number: {value!r}")


#: The options used when a caller passes none.
DEFAULT_OPTIONS = ExtractOptions()
