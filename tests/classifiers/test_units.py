"""How extracted text is cut into units: sentences, rows (also wrapped or OCR'd), items."""

from __future__ import annotations

from classifiers.units import split_blocks
from extractors.document import Page


def kinds(text: str, ocr: bool = False):
    return [(b.kind, b.text) for b in split_blocks([Page(1, text, ocr=ocr)])]


def test_heading_paragraph_list_and_table():
    blocks = kinds(
        "Política de Inclusión\n"
        "La empresa promueve la igualdad de trato\n"
        "entre todas las personas.\n"
        "- Primer compromiso\n"
        "Nombre | Cargo\n"
        "Ana | Presidenta\n"
    )
    assert blocks == [
        ("heading", "Política de Inclusión"),
        ("para", "La empresa promueve la igualdad de trato entre todas las personas."),
        ("item", "Primer compromiso"),
        ("row", "Nombre | Cargo"),
        ("row", "Ana | Presidenta"),
    ]


def test_wrapped_table_cells_join_their_row_and_rows_know_their_header():
    blocks = split_blocks([Page(1, (
        "Código Actividad | Público Fecha\n"
        "GP-01 Interculturalidad en | Jefaturas | Julio\n"
        "equipos diversos | de turno\n"
        "GP-02 Excel | Administrativos | Agosto\n"
    ))])
    rows = [b for b in blocks if b.kind == "row"]
    assert len(rows) == 3
    assert rows[1].text.startswith("GP-01") and "equipos diversos" in rows[1].text
    assert all(r.table_header == "Código Actividad | Público Fecha" for r in rows)


def test_field_lines_are_their_own_units():
    blocks = kinds("Tema: Sesgos inconscientes\nFecha: 3 de mayo de 2025\n")
    assert [k for k, _ in blocks] == ["line", "line"]


def test_numbered_heading_is_not_a_list_item():
    blocks = kinds("1. Presentación\nEl comité sesionó cuatro veces.\n")
    assert blocks[0] == ("heading", "1. Presentación")
