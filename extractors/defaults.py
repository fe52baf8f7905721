"""Every tunable of the extraction stage, each with the reason for its value.

Measured on the project's 2-core machine (see ../shared/perf-notes.md); change them here only.
The limits a deployment may set (sizes, workers, timeouts, pixel and archive budgets) reach the
code through ``extractors.options.ExtractOptions``, whose defaults are these; nothing assigns to
this module at run time.
"""

from __future__ import annotations

import os

# --- Input limits -------------------------------------------------------------------------------
#: Largest single file accepted (bytes). Real submissions (policies, minutes, scanned lists) are
#: well under 50 MB; anything larger is almost always a video or a raw scan batch that would tie up
#: a worker for many minutes, so it is refused with a clear message instead.
MAX_FILE_BYTES = 100 * 1024 * 1024

#: Bytes read to detect the type by content (libmagic needs only the first few KB).
MAGIC_SNIFF_BYTES = 64 * 1024

# --- PDF text layer triage (see extractors.pdf.assess_text_layer) -------------------------------
#: A page with fewer meaningful characters than this, drawn over a large image, is a scan with a
#: digital stamp, signature note or page number: OCR it (the OCR reads the stamp too). A real
#: text page holds 1,500-3,000; pages without images keep even a single word ("Potato").
MIN_TEXT_CHARS_OVER_IMAGE = 200
#: Share of the page area an image must cover to count as "a scan" for the rule above.
SCAN_IMAGE_COVERAGE = 0.5
#: Share of unmappable characters (control chars, U+FFFD, private-use glyph codes, "(cid:NN)")
#: above which the text layer is not trusted. Real text has essentially none.
MAX_UNMAPPABLE_RATIO = 0.10
#: Share of characters in garbled-looking tokens (mixed-case soup, symbols inside words) above
#: which the layer is considered a broken font encoding (e.g. a non-Unicode CMap).
MAX_GARBLED_RATIO = 0.5
#: Tokens examined per page for the garbled ratio (an estimate; keeps triage ~linear-free).
GARBLED_SAMPLE = 200
#: Share of sampled characters in invisible render mode (Tr 3) above which, with no scan image
#: beneath, the text is treated as hidden text: OCR shows what a reader actually sees.
MAX_INVISIBLE_RATIO = 0.5
#: Characters sampled per page to measure invisible text (cheap: two calls per sample).
INVISIBLE_SAMPLE = 24

# --- Reading order ------------------------------------------------------------------------------
#: Horizontal gap between words on one line, in multiples of the line height, above which the gap
#: is a table column break and rendered as " | " so a table row reads as one evidence unit.
CELL_GAP_FACTOR = 1.2
#: Vertical gap between lines, in multiples of the line height, that starts a new paragraph
#: (an empty line in Page.text): sentence splitting should not glue a heading to its body.
PARAGRAPH_GAP_FACTOR = 0.9

#: Vector paths a page needs before pdfplumber looks for ruled tables on it (~0.1 s/page): plain
#: text pages have 0-7 (header rules, boxes); a ruled table has a line per row and column.
TABLE_MIN_PATHS = 8
#: A detected table with a cell longer than this is a frame around running text, not a table.
TABLE_MAX_CELL_CHARS = 400
#: Words of the page the table rows may miss before they are rejected (hyphenation rejoins a
#: word or two; a missing label column is many).
TABLE_MAX_LOST_WORDS = 3
#: Pages per document handed to the table finder; the rest keep the cheaper row grouping.
TABLE_MAX_PAGES = 40

#: Pages read from one opening of a PDF before it is reopened: pdfium keeps every stream it has
#: read (a scanned page's JPEG, ~0.45 MB) until the document closes, so a 200-page scan grew by
#: 99 MB; reopened every 50 pages it holds at most ~25 MB, for a few ms per reopening.
PDF_REOPEN_PAGES = 50

# --- Fallback readers ---------------------------------------------------------------------------
#: Seconds allowed to poppler's pdftotext per call: it is a last-resort reader and some crafted
#: files (JBIG2 bombs) make it spin for minutes.
PDFTOTEXT_TIMEOUT = 15

# --- Rendering for OCR --------------------------------------------------------------------------
#: 200 dpi gives the same character error rate as 300 dpi on clean and degraded scans and is 30 %
#: faster (perf-notes); 150 dpi loses accuracy on degraded scans.
OCR_DPI = 200
#: Small pages (a 120x86 pt page holding a 2400-dpi scan) are rendered up to this long side in
#: pixels (A4 at 200 dpi) so their text is not shrunk to illegibility.
MIN_RENDER_LONG_SIDE = 2339
#: A page that is one scan image at a resolution in this range (dpi) is OCR'd from the image
#: itself instead of a rendering (same pixels, 5x cheaper); outside it the page is rendered at
#: OCR_DPI (300-dpi scans OCR 30 % faster downsampled to 200).
EMBEDDED_SCAN_DPI = (150, 240)
#: Upper bound on rendered pixels per page (gray, 1 byte each). Enormous pages (a 8400 pt page with
#: a 35000 px JBIG2 image) are scaled down to this instead of allocating gigabytes; 40 MP is a
#: 30x30 inch page at 200 dpi.
MAX_RENDER_PIXELS = 40_000_000
#: Same cap for image files (a 20000x20000 photo is decoded with Pillow's draft/reduce to this).
MAX_IMAGE_PIXELS = 40_000_000
#: Largest image decoded, in pixels, after JPEG's free 1/2-1/8 draft reduction: decoding holds
#: every pixel (up to 4 bytes each), so 64 MP is at most ~256 MB. A 600-dpi A4 scan is 35 MP and
#: a 48-MP phone photo is a JPEG (drafted to 12 MP); a 375-MP PNG is refused, never decoded.
MAX_DECODE_PIXELS = 64_000_000
#: Pillow's own decompression-bomb guard (it refuses at twice this). Ours above is the real
#: budget; Pillow's must stay high enough to let a huge JPEG be opened and drafted down.
PIL_MAX_IMAGE_PIXELS = 400_000_000
#: DPI assumed for image files without usable DPI metadata (missing, or absurd like 1 dpi).
ASSUMED_IMAGE_DPI = 200
#: DPI values outside this range in image metadata are ignored as bogus.
PLAUSIBLE_DPI = (50, 1200)

# --- Levelling tilted pages before OCR (extractors.deskew) -------------------------------------
#: Below this tilt (degrees) a page goes to Tesseract as it is: it reads a scan tilted by a
#: degree as well as a level one, and turning the image costs 30-60 ms. Past about 2 degrees
#: (a phone photo) its layout analysis drops paragraphs and table columns.
DESKEW_MIN_DEGREES = 0.5
#: Tilts looked for, either way. A photo held crooked is within 5 degrees; beyond 8 the page is
#: more likely a drawing or a sideways page, which orientation detection handles.
DESKEW_MAX_DEGREES = 8.0
#: The tilt is measured on a copy reduced to about this many pixels on its short side (10 ms).
DESKEW_SAMPLE_PX = 400
#: Gray levels a pixel must be darker than its surroundings to count as ink (a dark desk around
#: a photographed page is dark but even, so it does not count).
DESKEW_INK_CONTRAST = 30
#: Longest line pitch looked for (pixels at the page's resolution): 24 pt lines at 200 dpi.
DESKEW_PITCH_WINDOW_PX = 130
#: Ink pixels (on the reduced copy) below which there is too little text to measure a tilt.
DESKEW_MIN_INK_PIXELS = 200
#: Flatten a photographed sheet before OCR (``deskew.flatten``): its outline against the desk
#: mapped onto a rectangle, so a table's borders, slanted by the phone's perspective, are
#: straight again and found as a grid.
OCR_FLATTEN_PHOTOS = True
#: A photographed sheet's outline is looked for on a copy reduced to about this long side.
SHEET_SAMPLE_PX = 600
#: Gray levels between the sheet and the ground around it (Otsu's two classes) below which no
#: sheet stands out (a scan: white page, white lid; a dark desk is 60-150 against 200-250).
SHEET_MIN_CONTRAST = 50
#: Pixels of the reduced copy a sheet's side must keep from the frame's border (one touching it
#: runs out of the photo: its corner is unknown).
SHEET_MIN_MARGIN = 3
#: Share of a side's light-to-dark transitions (the middle of each side) that must lie within
#: 2 px of one straight line: a sheet's edge is straight, a hand or a shadow is not (a shadow
#: over a corner bends up to a third of a side away).
SHEET_MIN_INLIERS = 0.6
#: A sheet covers at least this share of the photo (smaller: a card, a screen, not a page).
SHEET_MIN_AREA = 0.25
#: Between two words of an OCR'd line with no vertical rule between them, a gap wider than this
#: many line heights (tight glyph boxes) is a cell break. Wider than CELL_GAP_FACTOR for text
#: layers: a justified line of a narrow column spreads its words 1.5-1.6 heights apart.
OCR_CELL_GAP_FACTOR = 2.5
#: Paint out ruling lines before OCR (table grids, underlines, the scanner lid's dark edge).
OCR_REMOVE_RULES = True
#: Read again the ruled cells with ink where sparse text found no word (``ocr``): it drops a
#: lone character, a roster's item number "1".
OCR_REREAD_EMPTY_CELLS = True
#: Ink pixels (darker than the cell's paper) that make a cell worth reading again: a "1" of
#: 9 pt at 150 dpi is ~40; specks and a rule's remains are fewer.
OCR_CELL_MIN_INK_PX = 20
#: Cells read again per page at most (one small Tesseract run for them all).
OCR_MAX_CELLS_REREAD = 120
#: Words read in those cells below this confidence are dropped (a signature's scrawl).
OCR_CELL_MIN_CONF = 60
#: A thin dark run is a ruling line, not a glyph, when it is longer than this share of the
#: image's short side (75-85 px on a page at 150-200 dpi: an "l" of 10-12 pt is 20-30 px, a
#: ruled table of a header and two rows 110-130 px) ...
RULE_MIN_FRACTION = 0.05
#: ... and than this many text lines (the line pitch measured with the tilt), for large print
#: on a small image: an "l" or a "|" is shorter than one line, a table's border spans its rows.
RULE_MIN_PITCHES = 2.0
#: ... and never shorter than this (pixels).
RULE_MIN_PX = 25
#: Pixels either side of a rule that must be light: a table's 0.5-1 pt rule is 1-4 px thick at
#: 200 dpi, and cell text keeps at least 2 pt (5 px) of padding from it.
RULE_MAX_THICKNESS = 4

# --- Tesseract ----------------------------------------------------------------------------------
#: Spanish is the language of the submissions. spa+eng costs ~20 % more per page (measured on a
#: scanned English brochure: 3.4 s vs 4.2 s) for no gain on Spanish documents.
OCR_LANG = "spa"
#: --psm 11 = sparse text: every piece of text wherever it stands, each line with its box; the
#: reading order is rebuilt from the boxes (visual rows, cells joined by " | "). Tesseract's
#: own page layout (--psm 1 and 3) reads a ruled table column by column and drops whole narrow
#: columns (row numbers, a "Día 1" column, a roster's nationality), measured on the corpus'
#: scans and photos; sparse text reads them, and costs about a quarter less CPU than --psm 1.
OCR_PSM = 11
#: A page read with a mean word confidence below this is read again with ``OCR_RETRY_PSM`` and
#: the more confident reading kept: a page upside down or on its side reads as garbage (mean
#: 13-50) in --psm 11, which has no orientation detection; an upright page reads at 85-96.
OCR_RETRY_CONFIDENCE = 70
#: --psm 1 = automatic page segmentation WITH orientation and script detection: it reads pages
#: rotated by 90/180/270 degrees in one pass, while a separate OSD pass (--psm 0) costs ~0.8 s
#: per page on top of recognition.
OCR_RETRY_PSM = 1
#: Tesseract processes run in parallel: one single-threaded process per core (two processes gave
#: 1.67x the throughput of one on the 2-core machine). A deployment running one worker per core
#: lowers it to 1 (``evidencia worker --ocr-threads``).
OCR_WORKERS = max(1, os.cpu_count() or 1)
#: Seconds allowed for one page. A normal page takes 1.5-4 s; a page that takes longer than this
#: is pathological and is reported as a page error so the run never hangs.
OCR_PAGE_TIMEOUT = 120
#: Scanned pages OCR'd per document at most (~0.8 s each on 2 cores): 300 pages is ~4 minutes
#: of a worker; a bigger scan is almost always a batch that should be split, and the pages past
#: the cap are reported page by page rather than silently dropped.
MAX_OCR_PAGES = 300
#: Words with confidence below this (0..100) are dropped as noise (Tesseract gives -1 to layout
#: rows and ~0-20 to speckles read as letters).
OCR_MIN_WORD_CONF = 20
#: Environment for every Tesseract process: its OpenMP threading is 7-9x SLOWER here.
OCR_ENV = {"OMP_THREAD_LIMIT": "1"}

# --- Archives -----------------------------------------------------------------------------------
#: Members per archive; a submission has tens of files, not thousands.
MAX_ARCHIVE_MEMBERS = 2000
#: Total uncompressed bytes per archive (all levels together), as declared by the directories.
MAX_ARCHIVE_TOTAL_BYTES = 1024 * 1024 * 1024
#: Compression ratio above which a member, or the members of an archive taken together, are a
#: zip bomb (text compresses ~5-10x, PDFs ~1-2x; 100x only happens with crafted or degenerate
#: content, e.g. 1 MB of zeros packs into 1 KB).
MAX_COMPRESSION_RATIO = 100
#: Uncompressed bytes below which the ratio rule says nothing (tiny files compress oddly and
#: cost nothing); members under it are still counted in the whole-archive ratio.
RATIO_MIN_BYTES = 64 * 1024
#: Nested archive depth ("a.zip/b.zip/c.zip/file.pdf").
MAX_ARCHIVE_DEPTH = 3
#: Names skipped silently, in archives and folders alike, case aside: OS metadata, not documents
#: (a Windows folder carries Thumbs.db and desktop.ini, a Mac one .DS_Store).
ARCHIVE_SKIP_NAMES = frozenset({".ds_store", "thumbs.db", "ehthumbs.db", "desktop.ini"})
ARCHIVE_SKIP_PREFIXES = ("__MACOSX/",)

# --- DOCX ---------------------------------------------------------------------------------------
#: Uncompressed bytes of one XML part (``word/document.xml``, headers; ODT's ``content.xml``), read
#: from the ZIP directory before parsing. A 300-page report's document.xml is 3-10 MB; parsing
#: holds about 15x the XML in memory (a 32 MB part peaked at 500 MB), so a 100 MB part (a crafted
#: 392 KB file) would take gigabytes.
MAX_DOCX_PART_BYTES = 16 * 1024 * 1024
#: A DOCX with fewer meaningful characters than this is mostly pasted pictures (a photographed
#: attendance list, a scanned certificate): its images are OCR'd as extra pages.
DOCX_OCR_IMAGES_BELOW_CHARS = 200
#: Images OCR'd per DOCX at most (each costs ~1.5 s).
DOCX_MAX_OCR_IMAGES = 20
#: Images smaller than this many pixels are logos and icons, not documents.
DOCX_MIN_IMAGE_PIXELS = 200_000

# --- Plain text ---------------------------------------------------------------------------------
#: Plain text longer than this many characters is split into several pages so evidence excerpts
#: can point at a "page" of reasonable size.
TEXT_PAGE_CHARS = 20_000

# --- Spreadsheets (XLSX, XLS, ODS) --------------------------------------------------------------
#: Rows read per sheet. An attendance list or committee roster has tens to hundreds of rows, a
#: whole-company payroll a few thousand; past this a sheet is a data export, and classifying it
#: would cost a worker minutes (13,000 words/s) for rows nobody reviews one by one.
SPREADSHEET_MAX_ROWS = 5000
#: Columns read per row: a roster has 3-15; hundreds of columns are a pivot or a data dump.
SPREADSHEET_MAX_COLUMNS = 60
#: Filled cells read per workbook, all sheets together (~15 s of classification at most).
SPREADSHEET_MAX_CELLS = 100_000
#: Uncompressed bytes of a spreadsheet's ZIP parts, checked before the reader inflates them: the
#: reader holds a whole sheet in memory (26 MB of sheet XML, 500,000 cells, load in 0.85 s and
#: ~110 MB resident), so a 100 MB file that inflates to gigabytes is refused up front.
SPREADSHEET_MAX_UNCOMPRESSED_BYTES = 128 * 1024 * 1024
#: File size of a legacy Excel (XLS) file. It is not compressed, but the reader parses every cell
#: of every sheet when it opens it, before any row or cell cap applies, and stores numbers in 6
#: bytes a cell: a 25.5 MB XLS of 3.9 million numbers (65,000 rows x 60) opened in 0.47 s and
#: held 334 MB resident (2026-12-06). 32 MB keeps an XLS within the memory of an XLSX at its cap.
SPREADSHEET_MAX_XLS_BYTES = 32 * 1024 * 1024
#: Rows per page of extracted text: a sheet is a page, cut every this many rows so the reviewer's
#: text view stays readable (a printed A4 page holds ~50 rows; 200 keeps most sheets whole).
SPREADSHEET_PAGE_ROWS = 200

# --- LibreOffice conversions (DOC, RTF) ---------------------------------------------------------
#: Seconds one conversion may take. A small DOC converts in 1.4-2.5 s here (start-up included) and
#: a 100-page one in well under a minute; longer is a crafted or broken file, killed so the worker
#: goes on.
LIBREOFFICE_TIMEOUT = 120
#: Conversions running at once on the machine, all worker processes together (lock files): each
#: holds ~200 MB and a core, and the 2-core machine also runs Tesseract and spaCy.
LIBREOFFICE_MAX_PROCESSES = 2
#: Seconds a conversion waits for a free slot before the file is reported as "try again later".
LIBREOFFICE_SLOT_WAIT = 600
#: Address space of one LibreOffice process (bytes): a small DOC needs ~1 GB of address space
#: (~210 MB resident); 2 GB leaves room for long documents and stops a file that would take more.
LIBREOFFICE_MAX_MEMORY_BYTES = 2 * 1024 * 1024 * 1024

# --- E-mail (EML) -------------------------------------------------------------------------------
#: Pictures embedded in an HTML message smaller than this (bytes) are logos and signature images
#: (2-40 KB), not documents; a phone photo of a signed list pasted into the message is 100s of KB.
EMAIL_MIN_INLINE_IMAGE_BYTES = 50_000
