"""Highlighting evidence on a page, without a browser."""

from __future__ import annotations

from service.web import highlight as views


def test_highlight_text_ignores_case_accents_and_line_breaks():
    text = "Resumen\nEl Comité de Inclusión\nsesionó cinco veces.\nOtra línea."
    segments = views.highlight_text(text, ["el comite de inclusion sesiono cinco veces."])
    marked = [seg for seg, n in segments if n is not None]
    assert marked == ["El Comité de Inclusión\nsesionó cinco veces."]
    assert "".join(seg for seg, _ in segments) == text  # nothing lost or added


def test_highlight_text_without_a_match_returns_the_text_unmarked():
    assert views.highlight_text("hola", ["adiós"]) == [("hola", None)]
    assert views.highlight_text("", ["x"]) == []


def test_highlight_boxes_tolerate_an_ocr_slip_and_scale_to_percent():
    words = [
        ["Acta", 10, 10, 40, 20],
        ["Comité", 50, 10, 90, 20],
        ["de", 95, 10, 105, 20],
        ["lnclusión", 110, 10, 160, 20],  # OCR read "I" as "l"
        ["constituido", 10, 30, 70, 40],
        ["hoy", 75, 30, 95, 40],
    ]
    boxes = views.highlight_boxes(words, ["Comité de Inclusión constituido hoy"], 200, 100)
    lit = {(round(b["left"]), round(b["top"])) for b in boxes}
    assert (25, 10) in lit and (5, 30) in lit and (38, 30) in lit  # Comité, constituido, hoy
    assert (5, 10) not in lit  # "Acta" is not part of the passage
    assert all(0 <= b["left"] <= 100 and 0 <= b["top"] <= 100 for b in boxes)


def test_highlight_boxes_without_word_boxes_is_empty():
    assert views.highlight_boxes([], ["x"], 100, 100) == []
    assert views.highlight_boxes([["x", 0, 0, 1, 1]], ["x"], 0, 0) == []
