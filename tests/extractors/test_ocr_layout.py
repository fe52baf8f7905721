"""OCR of tilted pages and ruled tables: what scans and phone photos of rosters must give.

Every file is generated here: a committee roster drawn as a ruled table (as the corpus renderer
and office programs draw it), then scanned crooked or photographed on a desk.
"""

from __future__ import annotations

import io
import math
import re

import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageDraw, ImageFilter

import extractors
from extractors import deskew
from tests.extractors.makers import image_pdf, text_image

ROSTER = [
    ("Nombre", "Nacionalidad", "Cargo en el comité"),
    ("Rodrigo Alfaro Tapia", "Chilena", "Presidente"),
    ("Edwin Choque Flores", "Boliviana", "Secretario"),
    ("Yulimar Pérez Rojas", "Venezolana", "Tesorera"),
    ("Dieunel Jean-Baptiste", "Haitiana", "Director"),
]

JUSTIFIED = (
    "Taller: liderazgo incluyente en equipos multiculturales interdisciplinarios — "
    "prevención de la discriminación por origen nacional y derechos laborales de "
    "trabajadoras y trabajadores migrantes."
)


def roster_pdf() -> bytes:
    """A born-digital acta with a ruled roster table, like the ones applicants send."""
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_JUSTIFY
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    table = Table([list(row) for row in ROSTER], colWidths=[180, 110, 160])
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#d9d9d9")),
        ("FONTSIZE", (0, 0), (-1, -1), 10),
    ]))  # fmt: skip
    story = [
        Paragraph("Acta de constitución del Comité de Inclusión", styles["Heading1"]),
        Paragraph("En Antofagasta, a 6 de enero de 2025, se constituye el comité con los "
                  "siguientes integrantes:", styles["BodyText"]),  # fmt: skip
        Spacer(1, 12),
        table,
        Spacer(1, 12),
        Paragraph("El comité sesionará el primer martes de cada mes.", styles["BodyText"]),
        # justified with long words: its spaces stretch to more than a line height
        Paragraph(JUSTIFIED, ParagraphStyle("justified", parent=styles["BodyText"],
                                            alignment=TA_JUSTIFY)),  # fmt: skip
    ]
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4).build(story)
    return out.getvalue()


def raster(pdf: bytes, dpi: int) -> Image.Image:
    document = pdfium.PdfDocument(pdf)
    try:
        return document[0].render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
    finally:
        document.close()


def photographed(page: Image.Image, degrees: float) -> Image.Image:
    """The page on a dark desk, turned ``degrees``, unevenly lit and soft, as a phone takes it."""
    w, h = page.size
    desk = Image.new("L", (int(w * 1.2), int(h * 1.2)), 70)
    desk.paste(page, ((desk.width - w) // 2, (desk.height - h) // 2))
    turned = desk.rotate(degrees, resample=Image.Resampling.BICUBIC, fillcolor=70)
    light = Image.linear_gradient("L").resize(turned.size).point(lambda v: 255 - v // 4)
    lit = Image.composite(turned, Image.new("L", turned.size, 40), light)
    return lit.filter(ImageFilter.GaussianBlur(0.7)).convert("RGB")


def roster_rows(text: str) -> dict[str, str]:
    """Each member's line of the extracted text, keyed by nationality."""
    found = {}
    for line in text.splitlines():
        for _name, nationality, _role in ROSTER[1:]:
            if nationality in line:
                found[nationality] = line
    return found


def assert_rows_recovered(text: str) -> None:
    prose = [line for line in text.splitlines() if "multiculturales" in line or "sesionará" in line]
    assert len(prose) == 2 and not any(" | " in line for line in prose), prose
    rows = roster_rows(text)
    for name, nationality, role in ROSTER[1:]:
        line = rows.get(nationality, "")
        # the member's name, nationality and role on one line, as cells: one evidence unit
        assert name.split()[0] in line and role in line, (nationality, text)
        assert re.search(rf"{name.split()[-1]} \| {nationality} \| {role}", line), line


def test_photographed_tilted_roster_keeps_its_rows(tmp_path):
    path = tmp_path / "acta-foto.jpg"
    photographed(raster(roster_pdf(), 150), 3.5).save(path, quality=82)
    doc = extractors.extract(path)
    assert doc.pages[0].ocr
    assert_rows_recovered(doc.pages[0].text)


@pytest.mark.parametrize("degrees", [-1.2, -0.3])
def test_crooked_scan_of_a_roster_keeps_its_rows(tmp_path, degrees):
    scan = raster(roster_pdf(), 200).rotate(degrees, resample=Image.Resampling.BICUBIC,
                                             fillcolor=255)  # fmt: skip
    # a letterhead's rule across, and a thin dark line down the whole page that the scanner's
    # lid left: they are no borders of the table (the prose between them is no table row)
    draw = ImageDraw.Draw(scan)
    draw.line((30, 0, 30, scan.height), fill=60, width=2)
    draw.line((120, 90, scan.width - 120, 90), fill=0, width=2)
    path = image_pdf(tmp_path / "acta-escaneada.pdf", [scan])
    doc = extractors.extract(path)
    assert doc.pages[0].ocr and doc.pages[0].rotation == 0
    assert_rows_recovered(doc.pages[0].text)


def test_tilt_is_measured_either_way():
    page = text_image(["Acta del comité de inclusión y buen trato", "Se aprobó el plan anual",
                       "de capacitación en derechos de las personas migrantes",
                       "y la atención sin discriminación."], size=(1654, 1200))  # fmt: skip
    assert abs(deskew.estimate_skew(page)) <= 0.25
    for degrees in (-4.0, -1.5, 2.5, 6.0):
        turned = page.rotate(degrees, resample=Image.Resampling.BICUBIC, fillcolor=255)
        assert abs(deskew.estimate_skew(turned) + degrees) <= 0.25, degrees
    assert deskew.estimate_skew(Image.new("L", (800, 1000), 255)) == 0.0  # nothing to level


def test_word_boxes_of_a_levelled_page_land_on_the_page_as_given():
    image = Image.new("L", (1200, 900), 255)
    ImageDraw.Draw(image).rectangle((900, 150, 960, 190), fill=0)  # a "word" near a corner
    for degrees in (3.0, -5.0):
        levelled = image.rotate(degrees, resample=Image.Resampling.BILINEAR, fillcolor=255)
        ys, xs = np.nonzero(np.asarray(levelled) < 128)
        box = (xs.min(), ys.min(), xs.max(), ys.max())
        x0, top, x1, bottom = deskew.unlevel_box(box, degrees, image.size)
        assert math.isclose((x0 + x1) / 2, 930, abs_tol=2.5), degrees
        assert math.isclose((top + bottom) / 2, 170, abs_tol=2.5), degrees


def test_upside_down_roster_scan_is_turned_and_read(tmp_path):
    scan = raster(roster_pdf(), 200).rotate(180)
    doc = extractors.extract(image_pdf(tmp_path / "al-reves.pdf", [scan]))
    assert doc.pages[0].rotation == 180
    assert "Boliviana" in doc.pages[0].text and "Edwin" in doc.pages[0].text


def test_rules_are_painted_out_and_text_kept():
    page = raster(roster_pdf(), 200)
    angle, pitch = deskew.measure(page)
    assert angle == 0.0 and 30 < pitch < 60  # 10-18 pt lines and rows at 200 dpi
    cleaned, rules = deskew.remove_rules(page, pitch)
    down = rules.down
    cleaned = np.asarray(cleaned)
    before = np.asarray(page)
    # the table's rules across: every pixel of their rows is now light
    dark_rows = [y for y in range(before.shape[0]) if (before[y] < 128).sum() > 800]
    assert len(dark_rows) >= 6 and all((cleaned[y] < 128).sum() < 100 for y in dark_rows)
    # and nothing outside the table changed: the text above and below is as it was
    removed = np.nonzero((before < 128) & (cleaned >= 128))[0]
    assert removed.min() >= min(dark_rows) - 3 and removed.max() <= max(dark_rows) + 3
    # the grid's four column borders are the vertical rules found
    columns = np.nonzero(down.any(axis=0))[0]
    assert len(np.split(columns, np.nonzero(np.diff(columns) > 3)[0] + 1)) == 4
    assert deskew.remove_rules(page.crop((0, 0, 1600, 250)), pitch)[1] is None
