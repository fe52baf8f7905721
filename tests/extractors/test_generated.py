"""Extraction of files generated here: what the pipeline must do on everyday submissions."""

from __future__ import annotations

import io
import zipfile

import pytest
from PIL import Image

import extractors
from extractors import ExtractOptions, ocr
from extractors.archive import iter_archive, open_archive
from extractors.errors import (
    EmptyFileError,
    EncryptedError,
    OCRUnavailableError,
    TooLargeError,
    UnsafeArchiveError,
    UnsupportedTypeError,
)
from tests.extractors.helpers import assert_contains
from tests.extractors.makers import SPANISH_LINES, image_pdf, phone_photo, text_image, text_pdf


def test_text_pdf_reads_without_ocr_with_boxes(tmp_path):
    path = text_pdf(tmp_path / "politica.pdf", [SPANISH_LINES, ["Segunda página: protocolo."]])
    doc = extractors.extract(path)
    assert doc.mime == "application/pdf"
    assert len(doc.pages) == 2 and doc.ocr_pages == 0
    assert_contains(doc.pages[0].text, "Política de inclusión de personas migrantes")
    assert_contains(doc.pages[1].text, "protocolo")
    assert doc.pages[0].method == "text-layer"
    word = next(w for w in doc.pages[0].words if w.text == "Política")
    # Drawn at x=72 pt, baseline 842-780=62 pt from the top of an A4 page.
    assert 70 < word.x0 < 74 and 45 < word.top < 62 < word.bottom < 66
    assert doc.extractor.endswith(extractors.EXTRACTOR_VERSION)


def test_type_comes_from_content_not_name(tmp_path):
    path = text_pdf(tmp_path / "acta.txt", [SPANISH_LINES])
    assert extractors.detect_mime(path) == "application/pdf"
    assert extractors.extract(path).ocr_pages == 0


def test_mixed_pdf_keeps_text_page_and_ocrs_scanned_page(tmp_path):
    scan = text_image(["Registro de asistencia", "Capacitación en derechos"])
    path = image_pdf(tmp_path / "mixto.pdf", [scan], text_first_page=SPANISH_LINES)
    calls = []
    doc = extractors.extract(path, progress=lambda done, total: calls.append((done, total)))
    assert [p.ocr for p in doc.pages] == [False, True]
    assert_contains(doc.pages[0].text, "Política de inclusión")
    assert_contains(doc.pages[1].text, "asistencia", "Capacitación")
    assert doc.pages[1].method == "ocr:no-text" and doc.pages[1].ocr_confidence > 50
    assert calls[-1] == (2, 2)  # pages read of the document's pages, as OCR'd pages finish


def test_rotated_scan_is_read_and_rotation_reported(tmp_path):
    scan = text_image(["Protocolo de atención a migrantes", "Comité de inclusión"])
    path = image_pdf(tmp_path / "girado.pdf", [scan.rotate(90, expand=True)])
    doc = extractors.extract(path)
    assert_contains(doc.text, "Protocolo", "migrantes")
    assert doc.pages[0].rotation in (90, 270)


def test_phone_photo_reads_usefully(tmp_path):
    path = tmp_path / "foto.jpg"
    phone_photo(["Acta del comité de inclusión", "Se aprobó el plan de capacitación"]).save(
        path, quality=80
    )
    doc = extractors.extract(path)
    assert doc.mime == "image/jpeg" and doc.pages[0].ocr
    assert_contains(doc.text, "comité", "capacitación")


def test_multipage_tiff_gives_one_page_per_frame(tmp_path):
    frames = [text_image(["Primera hoja"]), text_image(["Segunda hoja"])]
    path = tmp_path / "hojas.tif"
    frames[0].save(path, save_all=True, append_images=frames[1:], dpi=(200, 200))
    doc = extractors.extract(path)
    assert len(doc.pages) == 2
    assert_contains(doc.pages[0].text, "Primera")
    assert_contains(doc.pages[1].text, "Segunda")


def test_ocr_page_timeout_is_a_page_error_not_a_hang(tmp_path):
    path = tmp_path / "lento.png"
    text_image(SPANISH_LINES).save(path)
    doc = extractors.extract(path, options=ExtractOptions(ocr_page_timeout=0.01))
    assert doc.pages[0].error and "tiempo máximo" in doc.pages[0].error
    assert any("tiempo máximo" in w for w in doc.warnings)


def test_missing_tesseract_is_a_setup_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(ocr, "_checked", set())
    path = tmp_path / "scan.png"
    text_image(["Hola"]).save(path)
    with pytest.raises(OCRUnavailableError) as info:
        extractors.extract(path)
    assert "tesseract" in info.value.message.lower()


def test_docx_paragraphs_and_table_rows_in_order(tmp_path):
    import docx

    document = docx.Document()
    document.add_paragraph("Plan de capacitación 2025")
    table = document.add_table(rows=2, cols=3)
    for r, row in enumerate([["Fecha", "Tema", "Asistentes"], ["10-03", "Derechos", "25"]]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    merged = document.add_table(rows=2, cols=2)
    merged.cell(0, 0).merge(merged.cell(1, 0)).text = "Celda combinada"
    merged.cell(0, 1).text = "b1"
    merged.cell(1, 1).text = "b2"
    document.add_paragraph("Firmado por el comité.")
    path = tmp_path / "plan.docx"
    document.save(path)
    doc = extractors.extract(path)
    lines = [line for line in doc.text.splitlines() if line.strip()]
    assert lines[0] == "Plan de capacitación 2025"
    assert "Fecha | Tema | Asistentes" in lines
    assert "10-03 | Derechos | 25" in lines
    assert doc.text.count("Celda combinada") == 1
    assert lines[-1] == "Firmado por el comité."


def test_latin1_text_file(tmp_path):
    path = tmp_path / "nota.txt"
    path.write_bytes("Política de atención: se capacitó al señor Muñoz.\n".encode("latin-1"))
    doc = extractors.extract(path)
    assert doc.mime.startswith("text/")
    assert doc.text == "Política de atención: se capacitó al señor Muñoz."


def test_empty_file_is_a_clear_error(tmp_path):
    path = tmp_path / "vacio.pdf"
    path.write_bytes(b"")
    with pytest.raises(EmptyFileError) as info:
        extractors.extract(path)
    assert "vacío" in info.value.message


def test_oversized_file_is_refused(tmp_path):
    path = text_pdf(tmp_path / "grande.pdf", [SPANISH_LINES])
    with pytest.raises(TooLargeError) as info:
        extractors.extract(path, options=ExtractOptions(max_file_bytes=100))
    assert "supera el máximo" in info.value.message


def test_unsupported_type(tmp_path):
    path = tmp_path / "datos.bin"
    path.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(UnsupportedTypeError):
        extractors.extract(path)


def test_zip_is_expanded_by_the_caller_not_extracted(tmp_path):
    path = tmp_path / "lote.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a.txt", "hola")
    with pytest.raises(UnsupportedTypeError) as info:
        extractors.extract(path)
    assert "ZIP" in info.value.message


def _nested_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as inner:
        inner.writestr("acta.txt", "Acta de la reunión del comité")
    return buf.getvalue()


def test_iter_archive_walks_folders_nested_zips_and_refuses_tricks(tmp_path):
    path = tmp_path / "entrega.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("carpeta/politica.txt", "Política de inclusión")
        zf.writestr("carpeta/", "")
        zf.writestr("interno.zip", _nested_zip())
        zf.writestr("../fuera.txt", "traversal")
        zf.writestr("/etc/absoluto.txt", "absolute")
        zf.writestr("__MACOSX/carpeta/._politica.txt", "junk")
        zf.writestr("carpeta/.DS_Store", "junk")
        zf.writestr("Thumbs.db", "junk")
        zf.writestr("bomba.txt", b"0" * (20 * 1024 * 1024))  # ~1000x compression
        link = zipfile.ZipInfo("enlace")
        link.create_system = 3
        link.external_attr = 0o120777 << 16
        zf.writestr(link, "/etc/passwd")
        zf.writestr("secreto.pdf", b"encrypted, as the flag will say")
    _mark_encrypted(path, b"secreto.pdf")
    members = {m.name: m for m in iter_archive(path)}
    assert set(members) == {
        "carpeta/politica.txt", "interno.zip/acta.txt", "../fuera.txt", "/etc/absoluto.txt",
        "bomba.txt", "enlace", "secreto.pdf",
    }  # fmt: skip
    for name in ("../fuera.txt", "/etc/absoluto.txt", "bomba.txt", "enlace"):
        assert isinstance(members[name].error, UnsafeArchiveError), name
        assert members[name].opener is None
    assert isinstance(members["secreto.pdf"].error, EncryptedError)
    with open_archive(path) as archive:
        readable = {m.name: m for m in archive if m.error is None}
        assert readable["carpeta/politica.txt"].read() == "Política de inclusión".encode()
        acta = readable["interno.zip/acta.txt"].read()
    assert acta == "Acta de la reunión del comité".encode()
    assert_contains(extractors.extract_bytes(acta).text, "reunión del comité")


def _mark_encrypted(path, name: bytes) -> None:
    """Set the 'encrypted' flag of one member in the central directory (zipfile cannot)."""
    data = bytearray(path.read_bytes())
    start = 0
    while (start := data.find(b"PK\x01\x02", start)) != -1:
        name_len = int.from_bytes(data[start + 28 : start + 30], "little")
        if data[start + 46 : start + 46 + name_len] == name:
            data[start + 8] |= 0x1
        start += 4
    path.write_bytes(bytes(data))


def test_iter_archive_limits_member_count(tmp_path):
    path = tmp_path / "muchos.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for i in range(6):
            zf.writestr(f"f{i}.txt", "x")
    members = list(iter_archive(path, options=ExtractOptions(max_archive_members=3)))
    assert [m.error is None for m in members] == [True, True, True, False]
    assert isinstance(members[-1].error, UnsafeArchiveError)


def test_corrupt_zip_member_list_is_an_error_member(tmp_path):
    path = tmp_path / "roto.zip"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    members = list(iter_archive(path))
    assert len(members) == 1 and members[0].error is not None


def test_huge_image_is_scaled_down_not_exhausting_memory(tmp_path):
    big = Image.new("L", (4000, 3000), 255)
    big.paste(text_image(["Informe de actividades"], size=(1600, 200), font_px=80), (100, 100))
    path = tmp_path / "grande.png"
    big.save(path)
    doc = extractors.extract(path, options=ExtractOptions(max_image_pixels=2_000_000))
    assert_contains(doc.text, "Informe")
    assert doc.pages[0].width == pytest.approx(4000 * 72 / 200, rel=0.01)


def test_scan_with_a_small_digital_stamp_is_still_ocrd(tmp_path):
    """A scanned page that a tool stamped with one line of real text must not lose its body."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    scan = text_image(["Acta de constitución del comité", "Asistentes: doce personas"])
    buf = io.BytesIO()
    scan.save(buf, format="PNG")
    buf.seek(0)
    path = tmp_path / "timbrado.pdf"
    c = canvas.Canvas(str(path), pagesize=A4)
    width, height = A4
    c.drawImage(ImageReader(buf), 0, 0, width, height)
    c.setFont("Helvetica", 8)
    c.drawString(20, 20, "Documento firmado electrónicamente el 12-03-2025")
    c.showPage()
    c.save()
    doc = extractors.extract(path)
    assert doc.pages[0].ocr and doc.pages[0].method == "ocr:little-text-over-image"
    assert_contains(doc.text, "constitución", "Asistentes")


def test_a_page_whose_text_layer_breaks_is_ocrd_not_fatal(tmp_path, monkeypatch):
    from extractors import pdf as pdf_reader

    path = text_pdf(tmp_path / "dos.pdf", [["Protocolo de acogida"], ["Registro de asistencia"]])
    real = pdf_reader.read_pdfium_layer
    calls = []

    def broken_first_page(page, textpage):
        calls.append(1)
        if len(calls) == 1:
            raise IndexError("injected: damaged content stream")
        return real(page, textpage)

    monkeypatch.setattr(pdf_reader, "read_pdfium_layer", broken_first_page)
    doc = extractors.extract(path)
    assert [p.method for p in doc.pages] == ["ocr:text-layer-error", "text-layer"]
    assert_contains(doc.pages[0].text, "Protocolo")
    assert_contains(doc.pages[1].text, "Registro de asistencia")


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.95])
def test_truncated_pdf_is_recovered_or_a_clear_error(tmp_path, keep):
    from extractors.errors import ExtractionError

    whole = text_pdf(tmp_path / "entero.pdf", [SPANISH_LINES] * 3).read_bytes()
    path = tmp_path / "cortado.pdf"
    path.write_bytes(whole[: int(len(whole) * keep)])
    try:
        doc = extractors.extract(path)
    except ExtractionError as exc:
        assert exc.message and exc.code in ("corrupt", "extraction_failed")
        return
    assert doc.pages and "Política" in doc.text


def test_ruled_table_with_wrapped_cells_gives_one_line_per_row(tmp_path):
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

    body = getSampleStyleSheet()["BodyText"]
    data = [
        ["Curso", "Dirigido a", "Fecha"],
        [Paragraph("Derechos laborales de las personas migrantes en Chile", body),
         Paragraph("Jefaturas y equipo administrativo", body), "Junio 2025"],
        ["Prevención de riesgos", "Todo el personal", "Marzo 2025"],
    ]  # fmt: skip
    table = Table(data, colWidths=[150, 120, 80])
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black)]))
    path = tmp_path / "plan.pdf"
    story = [Paragraph("Plan de capacitación", body), table]
    SimpleDocTemplate(str(path), pagesize=A4).build(story)
    doc = extractors.extract(path)
    lines = doc.text.splitlines()
    assert "Curso | Dirigido a | Fecha" in lines
    assert (
        "Derechos laborales de las personas migrantes en Chile | "
        "Jefaturas y equipo administrativo | Junio 2025"
    ) in lines
    assert doc.pages[0].method == "text-layer+pdfplumber-tables"


def test_invisible_text_without_a_scan_is_not_trusted(tmp_path):
    """Hidden (render mode 3) text is what no reader sees: OCR shows what the page shows."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    path = tmp_path / "oculto.pdf"
    c = canvas.Canvas(str(path), pagesize=A4)
    c.setFont("Helvetica", 14)
    c.drawString(72, 760, "Informe de actividades del año")
    hidden = c.beginText(72, 700)
    hidden.setTextRenderMode(3)
    hidden.setFont("Helvetica", 12)
    for _ in range(12):
        hidden.textLine("capacitación protocolo migrantes comité inclusión política " * 2)
    c.drawText(hidden)
    c.showPage()
    c.save()
    doc = extractors.extract(path)
    assert doc.pages[0].ocr and doc.pages[0].method == "ocr:invisible-text"
    assert_contains(doc.text, "Informe de actividades")
    assert "protocolo" not in doc.text


def test_docx_that_is_a_pasted_photo_gets_its_image_ocrd(tmp_path):
    import docx
    from docx.shared import Inches

    picture = tmp_path / "lista.png"
    text_image(["Registro de asistencia", "Taller de interculturalidad"]).save(picture)
    logo = tmp_path / "logo.png"
    Image.new("L", (120, 60), 0).save(logo)
    document = docx.Document()
    document.add_picture(str(logo), width=Inches(1))
    document.add_paragraph("Adjunto la lista firmada.")
    document.add_picture(str(picture), width=Inches(6))
    path = tmp_path / "adjunto.docx"
    document.save(path)
    doc = extractors.extract(path)
    assert [p.ocr for p in doc.pages] == [False, True]
    assert doc.pages[1].method == "ocr:docx-image"
    assert_contains(doc.pages[0].text, "Adjunto la lista firmada.")
    assert_contains(doc.pages[1].text, "Registro de asistencia", "interculturalidad")


def test_two_column_page_reads_column_by_column(tmp_path):
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate, Paragraph

    path = tmp_path / "columnas.pdf"
    width, height = A4
    column = (width - 100) / 2
    template = BaseDocTemplate(str(path), pagesize=A4)
    template.addPageTemplates([PageTemplate(frames=[
        Frame(40, 40, column, height - 80), Frame(60 + column, 40, column, height - 80)
    ])])  # fmt: skip
    body = getSampleStyleSheet()["BodyText"]
    sentence = "La organización aprobó una política que prohíbe la discriminación. "
    template.build([Paragraph(f"Párrafo {i}. " + sentence * 6, body) for i in range(8)])
    text = " ".join(extractors.extract(path).pages[0].text.split())
    for i in range(7):
        assert text.index(f"Párrafo {i}.") < text.index(f"Párrafo {i + 1}.")
    assert "La organización aprobó una política que prohíbe la discriminación." in text


def test_zip_member_names_from_windows_and_macos_keep_their_accents(tmp_path):
    path = tmp_path / "nombres.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("Política.txt", "a")  # zipfile sets the UTF-8 flag
    data = bytearray(path.read_bytes())
    utf8 = "Política.txt".encode()
    # Re-write as a tool that stores UTF-8 bytes WITHOUT the flag (macOS Archive Utility).
    for marker in (b"PK\x03\x04", b"PK\x01\x02"):
        start = data.find(marker)
        flag_at = start + (6 if marker == b"PK\x03\x04" else 8)
        data[flag_at + 1] &= ~0x08 & 0xFF
    path.write_bytes(bytes(data))
    assert utf8 in data
    assert [m.name for m in iter_archive(path)] == ["Política.txt"]


def test_scanned_pages_past_the_ocr_cap_are_reported_not_dropped(tmp_path):
    pages = [text_image(["Primera hoja"]), text_image(["Segunda hoja"])]
    doc = extractors.extract(
        image_pdf(tmp_path / "lote.pdf", pages), options=ExtractOptions(max_ocr_pages=1)
    )
    assert len(doc.pages) == 2 and doc.ocr_pages == 1
    assert_contains(doc.pages[0].text, "Primera")
    assert "No se aplicó OCR" in doc.pages[1].error
    assert any("primeras 1 páginas" in w for w in doc.warnings)


def test_full_page_scan_is_ocrd_from_its_own_image(tmp_path, monkeypatch):
    from extractors import pdf as pdf_reader

    page = Image.new("L", (1654, 2339), 255)
    page.paste(text_image(["Política de inclusión", "Comité paritario"]), (0, 100))
    path = tmp_path / "escaneo.pdf"
    page.save(path, resolution=200.0)
    used = []
    real = pdf_reader._embedded_scan
    monkeypatch.setattr(pdf_reader, "_embedded_scan", lambda *a: used.append(real(*a)) or used[-1])
    doc = extractors.extract(path)
    assert used and used[0] is not None and used[0].size == (1654, 2339)
    assert_contains(doc.text, "Política de inclusión", "Comité paritario")
    word = next(w for w in doc.pages[0].words if w.text == "Comité")
    # 80 px from the left at 200 dpi = 28.8 pt; the page is A4 (595 x 842 pt).
    assert 25 < word.x0 < 33 and doc.pages[0].width == pytest.approx(595.4, abs=1)


def test_random_bytes_named_pdf_are_a_damaged_pdf(tmp_path):
    """Issue 11: a random-bytes ``.pdf`` was called "unsupported type"."""
    import random

    from extractors.errors import CorruptFileError

    path = tmp_path / "informe.pdf"
    path.write_bytes(random.Random(11).randbytes(6000))
    with pytest.raises(CorruptFileError) as info:
        extractors.extract(path)
    assert info.value.code == "corrupt"
    assert info.value.message.startswith("El archivo PDF está dañado")
