"""Files generated for the tests: born-digital PDFs, scans, photos, DOCX, ZIPs."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

SPANISH_LINES = [
    "Política de inclusión de personas migrantes",
    "La organización capacita a su personal en derechos",
    "de las personas migrantes y en atención sin",
    "discriminación. El comité revisa el protocolo",
    "cada año y registra la asistencia a cada sesión.",
]


def text_pdf(path: Path, pages: list[list[str]]) -> Path:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4)
    for lines in pages:
        y = 780
        for line in lines:
            c.setFont("Helvetica", 12)
            c.drawString(72, y, line)
            y -= 18
        c.showPage()
    c.save()
    return path


def text_image(lines: list[str], *, dpi: int = 200, size=(1654, 1000), font_px: int = 44):
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, font_px)
    y = 60
    for line in lines:
        draw.text((80, y), line, font=font, fill=0)
        y += int(font_px * 1.6)
    image.info["dpi"] = (dpi, dpi)
    return image


def image_pdf(path: Path, images: list, *, text_first_page: list[str] | None = None) -> Path:
    """A PDF whose pages are the given images (no text layer), optionally after a text page."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4)
    if text_first_page:
        y = 780
        for line in text_first_page:
            c.setFont("Helvetica", 12)
            c.drawString(72, y, line)
            y -= 18
        c.showPage()
    width, height = A4
    for image in images:
        buf = io.BytesIO()
        image.save(buf, format="PNG")
        buf.seek(0)
        scale = min(width / image.width, height / image.height)
        c.drawImage(ImageReader(buf), 0, height - image.height * scale, image.width * scale,
                    image.height * scale)  # fmt: skip
        c.showPage()
    c.save()
    return path


def phone_photo(lines: list[str]):
    """A phone-like photo of a page: slightly rotated, uneven light, soft, JPEG-ish colours."""
    page = text_image(lines, size=(1600, 900), font_px=42).convert("RGB")
    page = page.rotate(2.5, expand=True, fillcolor=(200, 200, 190), resample=Image.BICUBIC)
    w, h = page.size
    shade = Image.linear_gradient("L").resize((w, h)).point(lambda v: 255 - v // 3)
    page = Image.composite(page, Image.new("RGB", (w, h), (90, 80, 70)), shade.point(lambda v: v))
    page = page.filter(ImageFilter.GaussianBlur(0.8))
    return page
