"""DOCX: paragraphs and tables in body order, one table row per line ("a | b | c").

Tables are walked at the XML level (``w:tr``/``w:tc``), which survives the merged-cell grids
that make python-docx's ``row.cells`` raise, reads nested tables, and gives each merged cell once.
Headers and footers are added once at the end (they repeat on every printed page). A file
python-docx cannot open at all is read from its raw ``word/document.xml``.
"""

from __future__ import annotations

import logging
import re
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

from extractors import defaults
from extractors.document import ExtractedDocument, Page
from extractors.errors import CorruptFileError, TooLargeError, UnsafeArchiveError
from extractors.normalize import normalize_text
from extractors.options import ExtractOptions

__all__ = ["parse_docx"]

log = logging.getLogger(__name__)

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


def parse_docx(
    path: Path,
    *,
    options: ExtractOptions,
    password: str | None = None,
    progress: Callable[[int, int], object] | None = None,
) -> ExtractedDocument:
    _check_parts(path, options)
    warnings: tuple[str, ...] = ()
    try:
        import docx

        document = docx.Document(str(path))
        lines = list(_body_lines(document.element.body))
        lines += _header_footer_lines(document)
        reader = "docx:python-docx"
    except Exception as exc:  # noqa: BLE001 - python-docx/lxml raise many types on odd files
        log.info("python-docx failed on %s (%r); reading raw XML", path, exc)
        lines = _raw_xml_lines(path)
        reader = "docx:raw-xml"
        warnings = ("El DOCX tiene una estructura inusual; se leyó su texto sin formato.",)
    text = normalize_text("\n".join(lines)).strip()
    pages = _paginate(text)
    if len(re.findall(r"[^\W_]", text)) < defaults.DOCX_OCR_IMAGES_BELOW_CHARS:
        image_pages = _ocr_embedded_images(
            path, first_number=len(pages) + 1, options=options, progress=progress
        )
        if image_pages:
            pages = (*pages, *image_pages)
            reader += "+ocr"
    return ExtractedDocument(mime="", pages=pages, extractor=reader, warnings=warnings)


def _check_parts(path: Path, options: ExtractOptions) -> None:
    """Refuse, from the ZIP directory and before any part is parsed, a DOCX whose parts would
    take gigabytes to hold (a 392 KB file can carry a 100 MB ``document.xml``): parsing holds
    every part in memory and each XML part as a tree about 15 times its size."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise CorruptFileError(
            "El documento Word (DOCX) está dañado y no se pudo leer.", detail=repr(exc)
        ) from exc
    for info in infos:
        if info.filename.endswith((".xml", ".rels")):
            if info.file_size > options.max_docx_part_bytes:
                raise TooLargeError(
                    f"El documento Word es demasiado grande para procesarlo: su contenido ocupa "
                    f"{info.file_size / 1_048_576:.0f} MB sin comprimir (máximo "
                    f"{options.max_docx_part_bytes / 1_048_576:.0f} MB). Divídalo en varios "
                    "archivos o guárdelo como PDF.",
                    detail=f"{info.filename}: {info.file_size} bytes",
                )
        elif (
            info.file_size >= defaults.RATIO_MIN_BYTES
            and info.file_size > options.max_compression_ratio * max(info.compress_size, 1)
        ):
            raise UnsafeArchiveError(
                "El documento Word contiene una parte con una compresión anómala (posible "
                "'bomba ZIP') y se rechazó. Ábralo en Word y guárdelo de nuevo, o súbalo como PDF.",
                detail=f"{info.filename}: ratio {info.file_size}/{info.compress_size}",
            )
    total = sum(info.file_size for info in infos)
    if total > 2 * options.max_file_bytes:
        raise TooLargeError(
            "El documento Word es demasiado grande para procesarlo una vez descomprimido. "
            "Divídalo en varios archivos o guárdelo como PDF.",
            detail=f"parts total {total} bytes",
        )


def _ocr_embedded_images(
    path: Path,
    *,
    first_number: int,
    options: ExtractOptions,
    progress: Callable[[int, int], object] | None,
) -> tuple[Page, ...]:
    """A DOCX that is little more than pasted pictures (a photographed attendance list, a
    scanned certificate): OCR its images, in body order, as extra pages."""
    import io
    import tempfile

    from extractors import ocr
    from extractors.errors import ExtractionError
    from extractors.images import open_image, prepare_frame

    try:
        blobs = _image_blobs(path)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        log.info("cannot list DOCX images of %s: %r", path, exc)
        return ()
    if not blobs:
        return ()
    ocr.ensure_available()
    limit = options.docx_max_ocr_images
    sizes: dict[int, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory(prefix="evidencia-docx-") as tmp:

        def rendered():
            for index, blob in enumerate(blobs[:limit]):
                try:
                    with open_image(io.BytesIO(blob)) as image:
                        if image.width * image.height < defaults.DOCX_MIN_IMAGE_PIXELS:
                            continue  # icons and logos
                        gray, dpi = prepare_frame(image, options)
                except (ExtractionError, OSError, ValueError):
                    continue  # EMF/WMF drawings and broken pictures carry no scan to read
                target = Path(tmp) / f"image-{index:04d}.pgm"
                ocr.write_pgm(gray, target)
                sizes[index] = (gray.width * 72 / dpi, gray.height * 72 / dpi)
                yield ocr.OcrImage(target, index, 72 / dpi, 72 / dpi)

        results = ocr.ocr_images(rendered(), min(len(blobs), limit), options=options,
                                 progress=progress)  # fmt: skip
    pages = []
    for number, result in enumerate(results, start=first_number):
        width, height = sizes[result.index]
        page = Page(number=number, text="", width=round(width, 2), height=round(height, 2),
                    method="ocr:docx-image")  # fmt: skip
        pages.append(ocr.as_page(result, page))
    return tuple(pages)


def _image_blobs(path: Path) -> list[bytes]:
    """Picture files referenced by the body, in body order (each once)."""
    from lxml import etree

    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        rels_xml = zf.read("word/_rels/document.xml.rels")
        body_xml = zf.read("word/document.xml")
        parser = etree.XMLParser(resolve_entities=False, no_network=True)
        targets = {
            rel.get("Id"): rel.get("Target", "")
            for rel in etree.fromstring(rels_xml, parser)
            if rel.get("Type", "").endswith("/image") and rel.get("TargetMode") != "External"
        }
        order: list[str] = []
        for node in etree.fromstring(body_xml, parser).iter(f"{A}blip"):
            rid = node.get(f"{R}embed")
            if rid in targets and rid not in order:
                order.append(rid)
        blobs = []
        for rid in order:
            name = "word/" + targets[rid].lstrip("/").removeprefix("word/")
            if name in names:
                blobs.append(zf.read(name))
        return blobs


def _paginate(text: str) -> tuple[Page, ...]:
    """Non-paginated text -> pages of at most TEXT_PAGE_CHARS, cut at paragraph boundaries."""
    limit = defaults.TEXT_PAGE_CHARS
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for paragraph in text.split("\n"):
        if current and size + len(paragraph) > limit:
            chunks.append("\n".join(current))
            current, size = [], 0
        current.append(paragraph)
        size += len(paragraph) + 1
    if current or not chunks:
        chunks.append("\n".join(current))
    return tuple(
        Page(number=i, text=chunk.strip(), method="text-layer")
        for i, chunk in enumerate(chunks, start=1)
    )


def _body_lines(container) -> Iterator[str]:
    """Paragraphs and table rows of a body or cell, in document order."""
    for child in container.iterchildren():
        tag = child.tag
        if tag == f"{W}p":
            text = _paragraph_text(child)
            if text.strip():
                yield text
        elif tag == f"{W}tbl":
            yield from _table_lines(child)
        elif tag == f"{W}sdt":  # content controls wrap paragraphs and tables
            content = child.find(f"{W}sdtContent")
            if content is not None:
                yield from _body_lines(content)


def _table_lines(tbl) -> Iterator[str]:
    for tr in tbl.iterchildren(f"{W}tr"):
        cells: list[str] = []
        nested: list[str] = []
        for tc in _row_cells(tr):
            if _is_vmerge_continuation(tc):
                continue  # the merged cell's text is in the first cell of the merge
            parts = []
            for child in tc.iterchildren():
                if child.tag == f"{W}p":
                    t = _paragraph_text(child).strip()
                    if t:
                        parts.append(t)
                elif child.tag == f"{W}tbl":
                    nested.extend(_table_lines(child))
            cells.append(" ".join(parts))
        row = " | ".join(c for c in cells if c)
        if row:
            yield row
        yield from nested


def _row_cells(tr) -> Iterator:
    for child in tr.iterchildren():
        if child.tag == f"{W}tc":
            yield child
        elif child.tag == f"{W}sdt":
            content = child.find(f"{W}sdtContent")
            if content is not None:
                yield from content.iterchildren(f"{W}tc")


def _is_vmerge_continuation(tc) -> bool:
    tcpr = tc.find(f"{W}tcPr")
    if tcpr is None:
        return False
    vmerge = tcpr.find(f"{W}vMerge")
    return vmerge is not None and vmerge.get(f"{W}val") in (None, "continue")


def _paragraph_text(p) -> str:
    out: list[str] = []
    for node in p.iter(f"{W}t", f"{W}tab", f"{W}br", f"{W}cr", f"{W}noBreakHyphen"):
        tag = node.tag
        if tag == f"{W}t":
            out.append(node.text or "")
        elif tag == f"{W}tab":
            out.append("\t")
        elif tag == f"{W}noBreakHyphen":
            out.append("-")
        else:
            out.append("\n")
    return "".join(out)


def _header_footer_lines(document) -> list[str]:
    seen: set[str] = set()
    lines: list[str] = []
    for section in document.sections:
        parts = (
            section.header, section.first_page_header, section.even_page_header,
            section.footer, section.first_page_footer, section.even_page_footer,
        )  # fmt: skip
        for part in parts:
            try:
                if part.is_linked_to_previous:
                    continue
                element = part._element  # noqa: SLF001 - the XML of the header part
            except Exception:  # noqa: BLE001
                continue
            for line in _body_lines(element):
                if line not in seen:
                    seen.add(line)
                    lines.append(line)
    return [""] + lines if lines else []


def _raw_xml_lines(path: Path) -> list[str]:
    from lxml import etree

    try:
        # an encrypted DOCX is an OLE container, refused earlier by its detected type
        with zipfile.ZipFile(path) as zf:
            xml = zf.read("word/document.xml")
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise CorruptFileError(
            "El documento Word (DOCX) está dañado y no se pudo leer.", detail=repr(exc)
        ) from exc
    try:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
        root = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as exc:
        raise CorruptFileError(
            "El documento Word (DOCX) está dañado y no se pudo leer.", detail=repr(exc)
        ) from exc
    body = root.find(f"{W}body")
    return list(_body_lines(body if body is not None else root))
