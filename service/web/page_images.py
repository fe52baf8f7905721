"""Page images for the reviewers' document view, rendered once and cached under ``data_dir``.

PDF pages are rasterised with pypdfium2 and pictures are re-encoded as PNG (browsers cannot show
TIFF), always bounded to ``MAX_SIDE`` pixels so a 35 000-pixel scan cannot exhaust memory or
bandwidth; pictures are decoded through ``extractors.images.decode_within`` (header read first,
JPEG reduced while decoding, other formats above the decode budget refused). The cache key is
the file's sha256, so the same bytes in two submissions render once.
"""

from __future__ import annotations

import io
from pathlib import Path

from extractors.files import atomic_write
from service.domain.storage import path_for
from service.settings import get_settings

__all__ = ["MAX_SIDE", "renderable", "page_png"]

#: Longest side of a rendered page, in pixels: sharp on a laptop, small enough to send quickly.
MAX_SIDE = 1400
#: Bump when rendering changes so stale cache files are not reused.
RENDER_VERSION = "1"


def renderable(mime: str | None) -> bool:
    return bool(mime) and (mime == "application/pdf" or mime.startswith("image/"))


def _cache_path(sha256: str, page: int, rotation: int) -> Path:
    root = get_settings().renders_dir / sha256[:2]
    return root / f"{sha256}-v{RENDER_VERSION}-p{page}-r{rotation}-{MAX_SIDE}.png"


def _render_pdf(source: Path, page_number: int) -> bytes:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(source))
    try:
        if not 1 <= page_number <= len(pdf):
            raise IndexError(page_number)
        page = pdf[page_number - 1]
        width, height = page.get_size()
        scale = min(MAX_SIDE / max(width, height, 1), 4.0)
        image = page.render(scale=scale).to_pil()
        buf = io.BytesIO()
        image.save(buf, format="PNG", optimize=True)
        page.close()
        return buf.getvalue()
    finally:
        pdf.close()


def _render_image(source: Path, page_number: int) -> bytes:
    from extractors.images import decode_within, open_image
    from extractors.options import DEFAULT_OPTIONS

    with open_image(source) as img:
        if page_number > 1:
            img.seek(page_number - 1)  # multi-page TIFF
        # decoded within a pixel budget (JPEG reduced by libjpeg, huge others refused)
        img, _scale = decode_within(img, MAX_SIDE * MAX_SIDE, DEFAULT_OPTIONS, mode="RGB")
        if img.mode not in ("RGB", "L"):
            img = img.convert("RGB")
        img.thumbnail((MAX_SIDE, MAX_SIDE))
        buf = io.BytesIO()
        img.save(buf, format="PNG", optimize=True)
        return buf.getvalue()


def page_png(sha256: str, mime: str, page_number: int, rotation: int = 0) -> Path:
    """Path of the cached PNG of one page, rendering it on first use.

    ``rotation`` is the clockwise angle OCR found makes the page upright: the image is shown
    turned by it, and ``highlight.highlight_boxes`` turns the word boxes (measured on the page
    as given) the same way.
    """
    target = _cache_path(sha256, page_number, rotation)
    if target.exists():
        return target
    source = path_for(sha256)
    data = _render_pdf(source, page_number) if mime == "application/pdf" else _render_image(
        source, page_number
    )
    if rotation % 360:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as img:
            turned = img.rotate(-rotation, expand=True)
            buf = io.BytesIO()
            turned.save(buf, format="PNG")
            data = buf.getvalue()
    return atomic_write(target, data)
