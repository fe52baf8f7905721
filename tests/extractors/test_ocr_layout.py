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


WRAPPED = [
    ("N°", "Nombre", "Nacionalidad", "Cargo en el comité"),
    ("1", "Rodrigo Alfaro Tapia", "Chilena", "Presidente del comité de inclusión laboral"),
    ("2", "Edwin Choque Flores", "Boliviana", "Secretario de actas y de correspondencia"),
    ("3", "Yulimar Pérez Rojas", "Venezolana", "Tesorera y encargada de la capacitación"),
]


def wrapped_roster_pdf() -> bytes:
    """A ruled roster whose roles wrap onto a second line inside their cells, its rows numbered."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

    styles = getSampleStyleSheet()
    cells = [[Paragraph(text, styles["BodyText"]) for text in row] for row in WRAPPED]
    table = Table(cells, colWidths=[30, 140, 90, 140])
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black)]))
    story = [Paragraph("Acta de constitución del Comité de Inclusión", styles["Heading1"]), table]
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4).build(story)
    return out.getvalue()


def photographed_at_an_angle(page: Image.Image, degrees: float, squeeze: float) -> Image.Image:
    """The page on a dark desk seen from a phone held at an angle: its far edge narrower by
    ``squeeze`` of its width (keystone), the whole turned ``degrees``, unevenly lit and soft."""
    w, h = page.size
    out_w, out_h = int(w * 1.2), int(h * 1.2)
    ox, oy, cut = (out_w - w) / 2, (out_h - h) / 2, w * squeeze
    corners = [(ox + cut, oy), (ox + w - cut, oy), (ox + w, oy + h), (ox, oy + h)]
    a, b, c, d, e, f, g, hh = deskew._perspective(corners, [(0, 0), (w, 0), (w, h), (0, h)])
    # the desk is where the inverse mapping leaves the page
    sheet = page.convert("L").transform((out_w, out_h), Image.Transform.PERSPECTIVE,
                                        (a, b, c, d, e, f, g, hh), Image.Resampling.BICUBIC,
                                        fillcolor=70)  # fmt: skip
    mask = Image.new("L", (out_w, out_h), 0)
    ImageDraw.Draw(mask).polygon(corners, fill=255)
    desk = Image.composite(sheet, Image.new("L", sheet.size, 70), mask)
    turned = desk.rotate(degrees, resample=Image.Resampling.BICUBIC, fillcolor=70)
    light = Image.linear_gradient("L").resize(turned.size).point(lambda v: 255 - v // 4)
    lit = Image.composite(turned, Image.new("L", turned.size, 40), light)
    return lit.filter(ImageFilter.GaussianBlur(0.7)).convert("RGB")


def test_photo_at_an_angle_keeps_wrapped_cells_in_their_rows(tmp_path):
    """A phone's perspective slants a table's side borders against each other: levelled only,
    the grid was not found and each wrapped role fell apart into a row of its own. The narrow
    item-number column's rules, cut short by every rule crossing them, are found too."""
    path = tmp_path / "acta-foto-en-angulo.jpg"
    photographed_at_an_angle(raster(wrapped_roster_pdf(), 150), -3.0, 0.07).save(path, quality=82)
    doc = extractors.extract(path)
    text = doc.pages[0].text
    for number, name, nationality, role in WRAPPED[1:]:
        line = next((ln for ln in text.splitlines() if nationality in ln), "")
        assert line.startswith(f"{number} | {name.split()[0]}"), text
        assert re.search(rf"{name.split()[-1]} \| {nationality} \| ", line), text
        assert role.split()[-1] in line, text  # the role's second line stays in its cell
    # the words' boxes land on the sheet as photographed, not on the flattened page
    boxes = [w for w in doc.pages[0].words if w.text == "Venezolana"]
    assert boxes
    photo = Image.open(path).convert("L")
    sx, sy = photo.width / doc.pages[0].width, photo.height / doc.pages[0].height
    box = boxes[0]
    crop = photo.crop((int(box.x0 * sx), int(box.top * sy), int(box.x1 * sx) + 1,
                       int(box.bottom * sy) + 1))  # fmt: skip
    assert np.asarray(crop).min() < 100  # ink under the box


def test_item_numbers_alone_in_their_cells_are_read(tmp_path):
    """Once a grid is painted out, a roster's item number stands alone in its cell, and
    Tesseract's sparse text drops a lone character (tesseract-ocr/tesseract#2389): the row
    lost its first cell. Such cells are read again."""
    path = image_pdf(tmp_path / "nomina-escaneada.pdf", [raster(wrapped_roster_pdf(), 200)])
    text = extractors.extract(path).pages[0].text
    for number, name, nationality, _role in WRAPPED[1:]:
        line = next((ln for ln in text.splitlines() if nationality in ln), "")
        assert line.startswith(f"{number} | {name} | {nationality} | "), text


def test_a_sheet_is_flattened_only_when_its_outline_stands_out():
    page = raster(wrapped_roster_pdf(), 150)
    flat, warp = deskew.flatten(photographed_at_an_angle(page, 2.0, 0.04).convert("L"))
    assert warp is not None
    assert abs(flat.width / flat.height - page.width / page.height) < 0.03
    # a scan (white page to the frame's edges) and a page filling the photo are left as given
    assert deskew.flatten(page)[1] is None
    dark_edge = page.copy()
    ImageDraw.Draw(dark_edge).rectangle((0, 0, 40, page.height), fill=60)
    assert deskew.flatten(dark_edge)[1] is None
