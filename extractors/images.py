"""Image files (JPEG, PNG, TIFF incl. multi-page, BMP, GIF, WebP, HEIC/HEIF): every frame is a
page to OCR.

HEIC/HEIF (iPhone photos) are decoded by pillow-heif (libheif), registered with Pillow on first
use; libheif applies the container's rotation and pillow-heif resets the EXIF orientation so it
is not applied twice.

Each frame is made plain for Tesseract before OCR: EXIF orientation applied (phone photos),
transparency flattened onto white, CMYK/palette/16-bit converted to 8-bit gray, autocontrast for
unevenly lit photos, and enormous images scaled down to a pixel cap. Missing or absurd DPI
metadata (1 dpi) is replaced by a plausible default; it only sets the page size in points.
"""

from __future__ import annotations

import logging
import math
import tempfile
from collections.abc import Callable, Generator, Iterator
from pathlib import Path

from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from extractors import defaults
from extractors.document import DocumentSummary, Page
from extractors.errors import CorruptFileError, TooLargeError
from extractors.options import ExtractOptions

__all__ = ["parse_image", "prepare_frame", "open_image", "decode_within"]

log = logging.getLogger(__name__)

# The one place Pillow's decompression-bomb guard is set (every image the project opens goes
# through this module); the working budget is ``ExtractOptions.max_decode_pixels``.
Image.MAX_IMAGE_PIXELS = defaults.PIL_MAX_IMAGE_PIXELS


_heif_enabled = False


def _enable_heif() -> None:
    """Teach Pillow to open HEIC/HEIF (once; ~40 ms, so on first use rather than at import)."""
    global _heif_enabled
    if not _heif_enabled:
        from pillow_heif import register_heif_opener

        register_heif_opener()
        _heif_enabled = True


def open_image(source) -> Image.Image:
    """Open an image lazily (header only: nothing is decoded yet), or raise a Spanish error."""
    _enable_heif()
    try:
        return Image.open(source)
    except Image.DecompressionBombError as exc:
        raise TooLargeError(
            "La imagen tiene demasiados píxeles para procesarla. Redúzcala o escanéela a "
            "menor resolución (200 a 300 ppp bastan).",
            detail=str(exc),
        ) from exc
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise CorruptFileError(
            "La imagen está dañada o incompleta y no se pudo abrir.", detail=repr(exc)
        ) from exc


def parse_image(
    path: Path,
    *,
    options: ExtractOptions,
    password: str | None = None,
    progress: Callable[[int, int], object] | None = None,
) -> Generator[Page, None, DocumentSummary]:
    """Every frame a page, given out as its OCR finishes (a generator: see
    ``extractors.PageStream``); at most ``max_ocr_pages`` frames are read."""
    from extractors import ocr

    ocr.ensure_available()
    any_text = False
    errors: list[str] = []
    with tempfile.TemporaryDirectory(prefix="evidencia-img-") as tmp, open_image(path) as image:
        frame_count = getattr(image, "n_frames", 1)
        total = min(frame_count, options.max_ocr_pages)

        def frames() -> Iterator[tuple[tuple[float, float], ocr.OcrImage]]:
            for index, frame in enumerate(ImageSequence.Iterator(image)):
                if index >= total:
                    return
                try:
                    gray, dpi = prepare_frame(frame, options)
                except Image.DecompressionBombError as exc:
                    raise TooLargeError(detail=str(exc)) from exc
                except (OSError, ValueError, SyntaxError) as exc:
                    raise CorruptFileError(
                        "La imagen está dañada o incompleta y no se pudo leer.", detail=repr(exc)
                    ) from exc
                target = Path(tmp) / f"frame-{index + 1:05d}.pgm"
                ocr.write_pgm(gray, target)
                size = (gray.width * 72 / dpi, gray.height * 72 / dpi)
                yield size, ocr.OcrImage(target, index, 72 / dpi, 72 / dpi)

        for (width, height), r in ocr.ocr_in_order(frames(), options=options):
            page = ocr.as_page(r, Page(number=r.index + 1, text="", width=round(width, 2),
                                       height=round(height, 2), method="ocr:image"))  # fmt: skip
            any_text = any_text or bool(page.text)
            if page.error:
                errors.append(f"Página {page.number}: {page.error}")
            if progress is not None:
                progress(page.number, total)
            yield page
    warnings = list(errors)
    if frame_count > total:
        warnings.insert(0, f"Solo se leyeron con OCR las primeras {total} páginas de la imagen, "
                           f"de {frame_count}.")  # fmt: skip
    if not any_text:
        warnings.append("No se encontró texto legible en la imagen.")
    return DocumentSummary("image:pillow+ocr", tuple(warnings))


def decode_within(frame, max_pixels: int, options: ExtractOptions, mode: str = "L"):
    """Decode one frame at no more than ``max_pixels``, upright (EXIF orientation applied), or
    raise TooLargeError before decoding anything.

    Only the header has been read when this is called: a JPEG is decoded at 1/2, 1/4 or 1/8
    scale by libjpeg itself (draft); any other format must be decoded whole, so one above
    ``options.max_decode_pixels`` (a 375-megapixel PNG of 1 MB) is refused, never allocated.
    Returns (image, scale applied to the original pixels).
    """
    width, height = frame.size
    pixels = width * height
    if pixels > max_pixels and getattr(frame, "format", None) == "JPEG":
        factor = math.sqrt(max_pixels / pixels)
        frame.draft(mode, (int(width * factor), int(height * factor)))
    if frame.width * frame.height > options.max_decode_pixels:
        raise TooLargeError(
            f"La imagen mide {width} × {height} píxeles ({pixels / 1e6:.0f} megapíxeles) y "
            f"supera el máximo que se puede procesar ({options.max_decode_pixels / 1e6:.0f} "
            "megapíxeles). Redúzcala o escanéela de nuevo a 200-300 ppp y súbala otra vez.",
            detail=f"{width}x{height} > max_decode_pixels {options.max_decode_pixels}",
        )
    scale = frame.width / width
    image = frame
    if image.width * image.height > max_pixels:
        factor = math.sqrt(max_pixels / (image.width * image.height))
        if image.mode == "1":
            image = image.convert("L")
        image = image.resize(
            (max(1, int(image.width * factor)), max(1, int(image.height * factor))),
            Image.Resampling.BILINEAR,
        )
        scale *= factor
    # EXIF orientation (phone photos), applied to the reduced image: cheaper, and a copy of
    # the full one is never made (ImageOps.exif_transpose copies even when there is nothing to do)
    transpose = _ORIENTATION.get(frame.getexif().get(0x0112, 1))
    if transpose is not None:
        image = image.transpose(transpose)
    return image, scale


_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def prepare_frame(frame, options: ExtractOptions):
    """One frame -> (8-bit gray image ready for Tesseract, dpi used for page size)."""
    dpi = _plausible_dpi(frame.info.get("dpi"))
    image, scale = decode_within(frame, options.max_image_pixels, options)
    dpi *= scale
    mode = image.mode
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        mode = image.mode
    if mode in ("RGBA", "LA", "PA") or (mode == "RGB" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    elif mode in ("I;16", "I;16B", "I;16L", "I"):
        image = image.point(lambda v: v / 256).convert("L")
    elif mode == "F":
        image = image.convert("L")
    gray = image.convert("L")
    if mode != "1":
        gray = ImageOps.autocontrast(gray, cutoff=1)
    return gray, dpi


def _plausible_dpi(value) -> float:
    try:
        dpi = float(value[0]) if isinstance(value, tuple | list) else float(value)
    except (TypeError, ValueError, IndexError):
        return float(defaults.ASSUMED_IMAGE_DPI)
    low, high = defaults.PLAUSIBLE_DPI
    if not (low <= dpi <= high) or math.isnan(dpi):
        return float(defaults.ASSUMED_IMAGE_DPI)
    return dpi
