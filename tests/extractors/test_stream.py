"""Pages as a stream: ``iter_pages`` gives pages out as they are read, and holds a few."""

from __future__ import annotations

import tempfile

import pytest

import extractors
from extractors import ExtractOptions, defaults
from extractors.errors import CorruptFileError
from extractors.ocr import OcrImage, ocr_in_order, write_pgm
from tests.bombs import run_measured
from tests.extractors.helpers import assert_contains
from tests.extractors.makers import SPANISH_LINES, image_pdf, text_image, text_pdf

LINE = "La empresa prohíbe toda discriminación por nacionalidad u origen en la selección"


def test_pages_come_in_order_and_the_summary_once_they_are_read(tmp_path):
    scan = text_image(["Registro de asistencia", "Capacitación en derechos"])
    path = image_pdf(tmp_path / "mixto.pdf", [scan], text_first_page=SPANISH_LINES)
    with extractors.iter_pages(path) as doc:
        assert doc.mime == "application/pdf" and doc.extractor == ""
        pages = list(doc)
    assert [(p.number, p.ocr) for p in pages] == [(1, False), (2, True)]
    assert_contains(pages[1].text, "asistencia")
    whole = extractors.extract(path)
    assert doc.extractor == whole.extractor
    assert doc.extractor.endswith(f"+tesseract/{extractors.EXTRACTOR_VERSION}")
    assert doc.warnings == whole.warnings
    assert [p.text for p in pages] == [p.text for p in whole.pages]


def test_a_long_pdf_is_read_whole_across_reopenings(tmp_path):
    count = 2 * defaults.PDF_REOPEN_PAGES + 7
    path = text_pdf(tmp_path / "largo.pdf", [[f"Página {i}", LINE] for i in range(1, count + 1)])
    with extractors.iter_pages(path) as doc:
        numbers = [(p.number, p.text.split("\n")[0]) for p in doc]
    assert numbers == [(i, f"Página {i}") for i in range(1, count + 1)]


def test_memory_stays_flat_whatever_the_page_count(tmp_path):
    """Ten times the pages, the same peak: each page is dropped as it comes."""
    peaks = {}
    for count in (15, 150):
        path = text_pdf(tmp_path / f"doc{count}.pdf",
                        [[f"Página {i}"] + [LINE] * 45 for i in range(count)])  # fmt: skip
        _out, peaks[count] = run_measured(
            f"import extractors\nwith extractors.iter_pages({str(path)!r}) as d:\n"
            "    assert sum(1 for _ in d) > 0\n"
        )
    assert peaks[150] - peaks[15] < 12, peaks


def test_ocr_works_a_bounded_number_of_pages_ahead(tmp_path):
    """A scan followed by many ready pages: the ready ones wait behind it, a few at most."""
    image_path = tmp_path / "hoja.pgm"
    write_pgm(text_image(["Acta"]), image_path)
    consumed = 0

    def work():
        nonlocal consumed
        consumed += 1
        yield 0, OcrImage(image_path, 0, 0.36, 0.36)
        for index in range(1, 100):
            consumed += 1
            yield index, None

    order, lag = [], 0
    for payload, result in ocr_in_order(work(), options=ExtractOptions(ocr_workers=1)):
        lag = max(lag, consumed - len(order))
        order.append(payload)
        assert (result is not None) == (payload == 0)
    assert order == list(range(100))
    assert lag <= 4
    assert not image_path.exists(), "the rendered page is deleted once read"


def test_leaving_a_stream_early_stops_the_reading_and_cleans_up(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    scans = [text_image([f"Hoja {i}"]) for i in range(6)]
    path = image_pdf(tmp_path / "lote.pdf", scans)
    with extractors.iter_pages(path, options=ExtractOptions(ocr_workers=1)) as doc:
        first = next(iter(doc))
    assert first.number == 1 and first.ocr
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("evidencia-")] == []


def test_a_reader_failure_comes_out_of_the_loop_as_a_spanish_error(tmp_path):
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    path = tmp_path / "vacio.pdf"
    blank = canvas.Canvas(str(path), pagesize=A4)
    blank.showPage()
    blank.showPage()
    blank.save()
    with extractors.iter_pages(path) as doc, pytest.raises(CorruptFileError) as info:
        list(doc)
    assert "páginas están vacías" in info.value.message


def test_image_frames_past_the_ocr_cap_are_reported_not_read(tmp_path):
    frames = [text_image([f"Hoja {i}"]) for i in range(3)]
    path = tmp_path / "hojas.tif"
    frames[0].save(path, save_all=True, append_images=frames[1:], dpi=(200, 200))
    doc = extractors.extract(path, options=ExtractOptions(max_ocr_pages=2))
    assert [p.number for p in doc.pages] == [1, 2]
    assert_contains(doc.pages[1].text, "Hoja 1")
    assert doc.warnings[0] == "Solo se leyeron con OCR las primeras 2 páginas de la imagen, de 3."
