"""The formats applicants send besides PDF, DOCX and photos, each on a file the test makes:
spreadsheets (XLSX, XLS, ODS), OpenDocument text, legacy Word and RTF through LibreOffice, saved web
pages, and iPhone photos (HEIC)."""

from __future__ import annotations

import fcntl
import io
import os
import tempfile
import threading
import zipfile
from pathlib import Path

import pytest

import extractors
from classifiers.units import split_blocks
from extractors import ExtractOptions, defaults
from extractors.archive import is_container, open_archive
from extractors.detect import DOC_MIME, ODS_MIME, ODT_MIME, XLS_MIME, XLSX_MIME
from extractors.errors import (
    ConverterUnavailableError,
    CorruptFileError,
    DamagedFileError,
    EncryptedError,
    ExtractionError,
    TooLargeError,
    UnsupportedTypeError,
)
from tests.extractors.format_makers import (
    ROSTER_TITLE,
    convert_with_libreoffice,
    email_with_attachments,
    encrypted_xls,
    heic_photo,
    odt,
    roster_ods,
    roster_xls,
    roster_xlsx,
    word_document,
)
from tests.extractors.helpers import assert_contains
from tests.extractors.makers import SPANISH_LINES, text_image

ROSTER_ROWS = [
    "Fila 3 | Nombre | Cargo en el comité | Nacionalidad | Fecha de designación",
    "Fila 4 | María Fernanda López | Presidenta | Venezolana | 15-03-2024",
    "Fila 5 | Jean Pierre Louis | Secretario | Haitiana | 15-03-2024",
    "Fila 6 | Rosa Quispe Mamani | — | Peruana | 02-04-2024",
    "Fila 7 | Pedro Soto Vera | Integrante | Chilena | 02-04-2024",
]
ROSTER_PAGE = "\n".join(
    ["Hoja «Nómina»", "", ROSTER_TITLE, "", *ROSTER_ROWS, "", "Fila 9 | Total integrantes | 4"]
)
HIDDEN_SHEET_WARNING = "Se omitió la hoja oculta «Listas»"


# --- spreadsheets ---------------------------------------------------------------------------------


def test_xlsx_roster_each_sheet_a_page_each_row_a_line_with_its_number(tmp_path):
    doc = extractors.extract(roster_xlsx(tmp_path / "nomina-comite.xlsx"))
    assert doc.mime == XLSX_MIME
    assert doc.extractor.startswith("spreadsheet:calamine/")
    assert [p.number for p in doc.pages] == [1, 2]
    assert doc.pages[0].text == ROSTER_PAGE  # the formula's saved value (4), not "=COUNTA(...)"
    assert doc.pages[1].text.splitlines() == [
        "Hoja «Sesiones»",
        "",
        "Fila 1 | Sesión | Fecha | Asistentes | Horas",
        "Fila 2 | Constitución del comité | 15-03-2024 | 5 | 1,5",
        "Fila 3 | Plan de trabajo anual | 02-04-2024 09:30 | 4 | 2",
    ]
    assert "Colombiana" not in doc.text  # the hidden sheet is not read...
    assert any(HIDDEN_SHEET_WARNING in w for w in doc.warnings)  # ...and the reviewer is told


def test_spreadsheet_rows_are_the_classifier_table_rows(tmp_path):
    """Each data row is one row unit under its header row (an empty cell does not glue a row to
    the one above), and the sheet's title is a heading, not evidence."""
    doc = extractors.extract(roster_xlsx(tmp_path / "nomina-comite.xlsx"))
    blocks = [b for b in split_blocks(doc.pages) if b.page == 1]
    rows = [b for b in blocks if b.kind == "row" and b.table_header == ROSTER_ROWS[0]]
    assert [b.text for b in rows] == ROSTER_ROWS
    assert [b.header_row for b in rows] == [True, False, False, False, False]
    assert [b.text for b in blocks if b.kind == "heading"] == ["Hoja «Nómina»", ROSTER_TITLE]


def test_ods_roster_reads_like_the_xlsx(tmp_path):
    doc = extractors.extract(roster_ods(tmp_path / "nomina-comite.ods"))
    assert doc.mime == ODS_MIME
    assert doc.pages[0].text == ROSTER_PAGE
    assert len(doc.pages) == 1
    assert any(HIDDEN_SHEET_WARNING in w for w in doc.warnings)


def test_spreadsheet_type_comes_from_the_bytes_and_survives_a_zip(tmp_path):
    xlsx = roster_xlsx(tmp_path / "nomina-comite.xlsx").read_bytes()
    ods = roster_ods(tmp_path / "nomina.ods").read_bytes()
    renamed = tmp_path / "planilla.bin"
    renamed.write_bytes(xlsx)
    assert extractors.detect_mime(renamed) == XLSX_MIME
    archive = tmp_path / "evidencias.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("comite/nomina-comite.xlsx", xlsx)
        zf.writestr("comite/nomina.ods", ods)
    with open_archive(archive) as listing:
        members = {m.name: m for m in listing}
        assert set(members) == {"comite/nomina-comite.xlsx", "comite/nomina.ods"}  # documents
        for member in members.values():
            assert member.error is None
            assert extractors.extract_bytes(member.read()).pages[0].text == ROSTER_PAGE


def test_long_sheet_is_cut_into_pages_and_bounded(tmp_path):
    import openpyxl

    assert defaults.SPREADSHEET_PAGE_ROWS == 200
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Asistencia"
    ws.append(["Nombre", "Asistió"])
    for i in range(1, 1500):
        ws.append([f"Persona {i}", "Sí"])
    path = tmp_path / "asistencia.xlsx"
    wb.save(path)
    doc = extractors.extract(path, options=ExtractOptions(spreadsheet_max_rows=420))
    assert [p.text.splitlines()[0] for p in doc.pages] == [
        "Hoja «Asistencia», filas 1 a 200",
        "Hoja «Asistencia», filas 201 a 400",
        "Hoja «Asistencia», filas 401 a 420",
    ]
    # a continuation page repeats the header row, so its rows keep their column names
    assert doc.pages[1].text.splitlines()[2:4] == [
        "Fila 1 | Nombre | Asistió",
        "Fila 201 | Persona 200 | Sí",
    ]
    assert "Persona 419" in doc.text and "Persona 420" not in doc.text
    assert any("tiene 1.500 filas; se leyeron las primeras 420" in w for w in doc.warnings)


def test_workbook_cell_budget_and_inflated_size_are_bounded(tmp_path):
    path = roster_xlsx(tmp_path / "nomina-comite.xlsx")
    doc = extractors.extract(path, options=ExtractOptions(spreadsheet_max_cells=12))
    assert "Fila 4 |" in doc.text and "Fila 5 |" not in doc.text
    assert "Sesiones" not in doc.text
    assert any("se leyó hasta la fila 4" in w for w in doc.warnings)
    assert any("no se leyó la hoja «Sesiones»" in w for w in doc.warnings)

    with pytest.raises(TooLargeError) as info:
        extractors.extract(path, options=ExtractOptions(spreadsheet_max_uncompressed_bytes=10_000))
    assert "demasiado grande" in info.value.message


def test_damaged_spreadsheet_is_a_clear_error(tmp_path):
    data = roster_xlsx(tmp_path / "nomina-comite.xlsx").read_bytes()
    broken = tmp_path / "rota.xlsx"
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(broken, "w") as dst:
        for info in src.infolist():
            content = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                content = content[: len(content) // 2]  # cut in the middle of the XML
            dst.writestr(info, content)
    with pytest.raises(ExtractionError) as info:
        extractors.extract(broken)
    assert "dañada" in info.value.message


# --- legacy Excel (XLS) ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def xls_files(tmp_path_factory):
    """Real Excel 97-2003 files saved by LibreOffice Calc: the roster, a long attendance list
    (its OLE directory past the bytes libmagic is first given) and the roster with a password."""
    import openpyxl

    folder = tmp_path_factory.mktemp("xls")
    roster = roster_xls(folder / "nomina-comite.xls")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Asistencia"
    ws.append(["Nombre", "Nacionalidad", "Asistió"])
    for i in range(1, 3000):
        ws.append([f"Persona {i}", "Venezolana" if i % 2 else "Chilena", "Sí"])
    wb.save(folder / "asistencia.xlsx")
    long = convert_with_libreoffice(folder / "asistencia.xlsx", "xls", folder)
    locked = encrypted_xls(folder / "nomina-comite.xlsx", folder / "cifrada.xls", "secreto")
    return {"roster": roster, "long": long, "encrypted": locked}


def test_xls_roster_reads_like_the_xlsx(xls_files):
    doc = extractors.extract(xls_files["roster"])
    assert doc.mime == XLS_MIME
    assert doc.extractor.startswith("spreadsheet:calamine/")
    assert doc.pages[0].text == ROSTER_PAGE  # the formula's saved value, dates as dd-mm-aaaa
    assert doc.pages[1].text.splitlines()[2:] == [
        "Fila 1 | Sesión | Fecha | Asistentes | Horas",
        "Fila 2 | Constitución del comité | 15-03-2024 | 5 | 1,5",
        "Fila 3 | Plan de trabajo anual | 02-04-2024 09:30 | 4 | 2",
    ]
    assert len(doc.pages) == 2 and "Colombiana" not in doc.text  # the hidden sheet skipped...
    assert any(HIDDEN_SHEET_WARNING in w for w in doc.warnings)  # ...and the reviewer told


def test_xls_is_told_from_doc_by_its_stream_not_its_name(xls_files, legacy_word_files, tmp_path):
    """libmagic says only "OLE" of an XLS whose directory lies past the bytes it is given; the
    compound file's root stream ("Workbook", "WordDocument") says which it is."""
    import magic

    long = xls_files["long"]
    assert long.stat().st_size > defaults.MAGIC_SNIFF_BYTES
    head = long.read_bytes()[: defaults.MAGIC_SNIFF_BYTES]
    assert magic.from_buffer(head, mime=True) == "application/x-ole-storage"
    for path, mime in [(long, XLS_MIME), (legacy_word_files["doc"], DOC_MIME)]:
        renamed = tmp_path / f"archivo{mime[-3:]}.doc"  # a name that says DOC either way
        renamed.write_bytes(path.read_bytes())
        assert extractors.detect_mime(renamed) == mime
    doc = extractors.extract(long)
    assert doc.pages[0].text.splitlines()[:3] == [
        "Hoja «Asistencia», filas 1 a 200", "", "Fila 1 | Nombre | Nacionalidad | Asistió",
    ]  # fmt: skip
    assert "Fila 3000 | Persona 2999 | Venezolana | Sí" in doc.text


def test_encrypted_xls_asks_for_the_file_without_password(xls_files):
    with pytest.raises(EncryptedError) as info:
        extractors.extract(xls_files["encrypted"])
    assert info.value.message.startswith("La planilla está protegida con contraseña")


def test_truncated_xls_is_a_damaged_xls(xls_files, tmp_path):
    """LibreOffice and Excel write the compound file's directory last: a truncated copy has
    none, and only its name says what it was."""
    data = xls_files["roster"].read_bytes()
    broken = tmp_path / "nomina-cortada.xls"
    broken.write_bytes(data[: len(data) // 2])
    with pytest.raises(DamagedFileError) as info:
        extractors.extract(broken)
    assert info.value.kind == "XLS"
    assert info.value.message.startswith("El archivo XLS está dañado o incompleto")


def test_xls_with_a_damaged_workbook_stream_is_corrupt(xls_files, tmp_path):
    data = xls_files["roster"].read_bytes()
    broken = tmp_path / "nomina-dañada.xls"
    broken.write_bytes(data[:512] + b"\xff" * 512 + data[1024:])  # the workbook's first records
    assert extractors.detect_mime(broken) == XLS_MIME
    with pytest.raises(CorruptFileError) as info:
        extractors.extract(broken)
    assert info.value.message.startswith("La planilla está dañada o incompleta")


def test_xls_cut_inside_its_directory_is_an_error_not_a_crash(xls_files, tmp_path):
    """Cut inside a directory entry, calamine 0.37 panics; pyo3 raises the panic as a
    BaseException, which must become the file's error, not stop the worker."""
    import olefile

    data = xls_files["roster"].read_bytes()
    with olefile.OleFileIO(xls_files["roster"]) as ole:
        directory = (ole.first_dir_sector + 1) * ole.sectorsize
    broken = tmp_path / "nomina-cortada.xls"
    outcomes = set()
    for end in range(directory, len(data), 24):
        broken.write_bytes(data[:end])
        try:
            extractors.extract(broken)
            outcomes.add("read")
        except CorruptFileError as exc:
            outcomes.add(type(exc).__name__)
    assert "CorruptFileError" in outcomes, outcomes


def test_xls_is_bounded_by_its_file_size_and_the_cell_budget(xls_files):
    path = xls_files["roster"]
    doc = extractors.extract(path, options=ExtractOptions(spreadsheet_max_cells=12))
    assert "Fila 4 |" in doc.text and "Fila 5 |" not in doc.text
    assert any("no se leyó la hoja «Sesiones»" in w for w in doc.warnings)
    with pytest.raises(TooLargeError) as info:
        extractors.extract(path, options=ExtractOptions(spreadsheet_max_xls_bytes=4096))
    assert "demasiado grande" in info.value.message
    assert extractors.extract(path, options=ExtractOptions(spreadsheet_max_uncompressed_bytes=1))


def test_xls_in_a_zip_and_attached_to_an_email(xls_files, tmp_path):
    xls = xls_files["roster"].read_bytes()
    mail = email_with_attachments(
        "Adjunto la nómina.", None, [("nomina-comite.xls", "application/vnd.ms-excel", xls)]
    )
    archive = tmp_path / "evidencias.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("comite/nomina-comite.xls", xls)
        zf.writestr("correo.eml", mail)
    with open_archive(archive) as listing:
        members = {m.name: m for m in listing}
        assert set(members) == {"comite/nomina-comite.xls", "correo.eml/mensaje.txt",
                                "correo.eml/nomina-comite.xls"}  # fmt: skip
        for name in ("comite/nomina-comite.xls", "correo.eml/nomina-comite.xls"):
            assert members[name].error is None
            assert extractors.extract_bytes(members[name].read()).pages[0].text == ROSTER_PAGE


# --- OpenDocument text ----------------------------------------------------------------------------


def test_odt_reads_headings_lists_tables_and_notes_in_order(tmp_path):
    body = (
        '<text:h text:outline-level="1">Protocolo de no discriminación</text:h>'
        "<text:p>La empresa prohíbe toda discriminación por<text:s/>nacionalidad"
        '<text:note text:note-class="footnote"><text:note-citation>1</text:note-citation>'
        "<text:note-body><text:p>Según el reglamento interno.</text:p></text:note-body>"
        "</text:note>.<text:line-break/>Rige desde marzo.</text:p>"
        "<text:list><text:list-item><text:p>Canal de denuncias</text:p></text:list-item>"
        "<text:list-item><text:p>Apoyo en la regularización</text:p>"
        "<text:list><text:list-item><text:p>Orientación legal</text:p></text:list-item>"
        "</text:list></text:list-item></text:list>"
        "<table:table><table:table-header-rows><table:table-row>"
        "<table:table-cell><text:p>Nombre</text:p></table:table-cell>"
        "<table:table-cell><text:p>Nacionalidad</text:p></table:table-cell>"
        "</table:table-row></table:table-header-rows>"
        "<table:table-row><table:table-cell><text:p>Jean Pierre</text:p><text:p>Louis</text:p>"
        "</table:table-cell><table:table-cell><text:p>Haitiana</text:p></table:table-cell>"
        "</table:table-row></table:table>"
        "<text:tracked-changes><text:changed-region><text:deletion><text:p>Texto borrado"
        "</text:p></text:deletion></text:changed-region></text:tracked-changes>"
        "<text:section><text:p>Firmado por la gerencia<draw:frame><draw:text-box><text:p>"
        "Recuadro con sello</text:p></draw:text-box></draw:frame>.</text:p></text:section>"
    )
    doc = extractors.extract(odt(tmp_path / "protocolo.odt", body))
    assert doc.mime == ODT_MIME
    assert doc.text.splitlines() == [
        "Protocolo de no discriminación",
        "La empresa prohíbe toda discriminación por nacionalidad.",
        "Rige desde marzo.",
        "- Canal de denuncias",
        "- Apoyo en la regularización",
        "- Orientación legal",
        "Nombre | Nacionalidad",
        "Jean Pierre Louis | Haitiana",
        "Firmado por la gerencia.",
        "Recuadro con sello",
        "",
        "Según el reglamento interno.",
    ]


def test_odt_without_its_content_is_a_clear_error(tmp_path):
    path = odt(tmp_path / "roto.odt", "<text:p>x</text:p>")
    data = path.read_bytes()
    broken = tmp_path / "sin-contenido.odt"
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(broken, "w") as dst:
        for info in src.infolist():
            if info.filename != "content.xml":
                dst.writestr(info, src.read(info))
    with pytest.raises(ExtractionError) as info:
        extractors.extract(broken)
    assert "ODT" in info.value.message


# --- DOC and RTF through LibreOffice --------------------------------------------------------------

POLICY = ["Política de inclusión de personas migrantes",
          "La empresa no discrimina por nacionalidad en la selección de personal."]  # fmt: skip
POLICY_TABLE = [["Medida", "Responsable"], ["Canal de denuncias", "Gerencia de personas"]]
#: Enough text after the table that the DOC is larger than what libmagic is first given: an OLE
#: file's directory then lies past those bytes (the usual case for real DOC files).
ANNEX = [
    f"Anexo {i}: registro de la medida aplicada por la gerencia de personas." for i in range(400)
]


@pytest.fixture(scope="module")
def legacy_word_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("legacy")
    source = word_document(folder / "politica.docx", POLICY, POLICY_TABLE, after=ANNEX)
    rtf = convert_with_libreoffice(source, "rtf", folder)
    # from the RTF: LibreOffice 7.4 drops python-docx's tables when it writes DOCX as DOC
    return {"rtf": rtf, "doc": convert_with_libreoffice(rtf, "doc", folder)}


@pytest.mark.parametrize("fmt, mime", [("doc", "application/msword"), ("rtf", "text/rtf")])
def test_doc_and_rtf_are_converted_and_read_like_docx(legacy_word_files, fmt, mime):
    doc = extractors.extract(legacy_word_files[fmt])
    assert doc.mime == mime
    assert doc.extractor.startswith("libreoffice+docx:")
    assert legacy_word_files[fmt].stat().st_size > defaults.MAGIC_SNIFF_BYTES
    lines = [line for line in doc.text.splitlines() if line.strip()]
    assert lines == [*POLICY, "Medida | Responsable", "Canal de denuncias | Gerencia de personas",
                     *ANNEX]  # fmt: skip


def test_parallel_conversions_use_their_own_profiles(legacy_word_files):
    results: dict[int, object] = {}

    def convert(i: int) -> None:
        try:
            results[i] = extractors.extract(legacy_word_files["doc" if i % 2 else "rtf"]).text
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            results[i] = exc

    threads = [threading.Thread(target=convert, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(isinstance(r, str) and POLICY[0] in r for r in results.values()), results


def test_missing_libreoffice_is_a_setup_error_in_spanish(legacy_word_files, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ConverterUnavailableError) as info:
        extractors.extract(legacy_word_files["doc"])
    assert "LibreOffice" in info.value.message and "DOCX o PDF" in info.value.message


def test_conversion_timeout_kills_libreoffice(legacy_word_files, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # its work folder, to look for
    with pytest.raises(ExtractionError) as info:
        extractors.extract(
            legacy_word_files["doc"], options=ExtractOptions(libreoffice_timeout=0.3)
        )
    assert "no terminó en" in info.value.message
    assert not _processes_mentioning(str(tmp_path))


def test_conversions_wait_for_a_free_slot(legacy_word_files, tmp_path, monkeypatch):
    """Another process holding every slot (lock files) makes a conversion wait, then give up
    with a "try later" message instead of starting one more LibreOffice."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    one_slot = ExtractOptions(libreoffice_max_processes=1, libreoffice_slot_wait=0.5)
    folder = tmp_path / "evidencia-libreoffice-slots"
    folder.mkdir()
    with open(folder / "slot-0.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(ExtractionError) as info:
            extractors.extract(legacy_word_files["rtf"], options=one_slot)
    assert "ocupado" in info.value.message
    assert POLICY[0] in extractors.extract(legacy_word_files["rtf"], options=one_slot).text


def _processes_mentioning(marker: str) -> list[str]:
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            if marker.encode() in cmdline:
                found.append(cmdline.decode(errors="replace"))
    return found


# --- HTML -----------------------------------------------------------------------------------------

SAVED_PAGE = """<!DOCTYPE html>
<html lang="es"><head><meta charset="windows-1252"><title>Inclusión | Constructora Andes</title>
<style>.menu { display: flex }</style><script>var aviso = "no debe aparecer";</script></head>
<body>
<nav><ul><li><a href="/">Inicio</a></li><li><a href="/nosotros">Quiénes somos</a></li></ul></nav>
<h1>Política de inclusión</h1>
<p>La empresa <b>contrata</b> personas migrantes<br>sin discriminación por nacionalidad.</p>
<div hidden>Texto oculto con hidden</div><p style="color: red; display:none">Oculto por estilo</p>
<span aria-hidden="true">icono</span><template><p>Plantilla sin mostrar</p></template>
<h2>Comité de inclusión</h2>
<table><caption>Integrantes</caption>
<thead><tr><th>Nombre</th><th>Nacionalidad</th></tr></thead>
<tbody><tr><td>María López</td><td>Venezolana</td></tr>
<tr><td>Jean | Louis</td><td><p>Haitiana</p><table><tr><td>suplente</td><td>Rosa Quispe</td></tr>
</table></td></tr></tbody></table>
<ol><li>Canal de denuncias</li>
<li>Apoyo en la regularización<ul><li>Orientación legal</li></ul></li></ol>
<noscript>Active JavaScript para ver el menú</noscript>
<footer><p>© 2024 Constructora Andes</p></footer>
</body></html>"""


def test_saved_web_page_gives_visible_text_in_reading_order(tmp_path):
    path = tmp_path / "inclusion.htm"
    path.write_bytes(SAVED_PAGE.encode("cp1252"))  # the charset the page declares
    doc = extractors.extract(path)
    assert doc.mime == "text/html"
    assert doc.text.splitlines() == [
        "Inclusión | Constructora Andes",
        "- Inicio",
        "- Quiénes somos",
        "Política de inclusión",
        "La empresa contrata personas migrantes",
        "sin discriminación por nacionalidad.",
        "Comité de inclusión",
        "Integrantes",
        "Nombre | Nacionalidad",
        "María López | Venezolana",
        "Jean / Louis | Haitiana",
        "suplente | Rosa Quispe",
        "- Canal de denuncias",
        "- Apoyo en la regularización",
        "- Orientación legal",
        "© 2024 Constructora Andes",
    ]


def test_utf8_page_without_declared_charset(tmp_path):
    path = tmp_path / "pagina.html"
    path.write_bytes("<html><body><p>Capacitación en interculturalidad</p></body></html>".encode())
    assert extractors.extract(path).text == "Capacitación en interculturalidad"


# --- HEIC -----------------------------------------------------------------------------------------


def test_heic_photo_is_turned_upright_and_ocrd(tmp_path):
    upright = text_image(SPANISH_LINES, size=(1654, 700))  # landscape, as the page was seen
    path = heic_photo(tmp_path / "IMG_0412.HEIC", upright, exif_orientation=6)
    doc = extractors.extract(path)
    assert doc.mime == "image/heic"
    page = doc.pages[0]
    assert page.ocr and page.width > page.height  # shown upright, not as the sensor stored it
    assert page.rotation == 0  # nothing left for OCR's orientation detection to fix
    assert_contains(doc.text, "Política de inclusión", "personas migrantes")


# --- e-mail ---------------------------------------------------------------------------------------

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EMAIL_HTML = (
    "<html><body><p>Estimados:</p><p>Adjunto la nómina del comité y el acta.</p>"
    "<table><tr><th>Documento</th><th>Compromiso</th></tr>"
    "<tr><td>Nómina del comité</td><td>Participación</td></tr></table>"
    '<p><img src="cid:logo"></p><div style="display:none">preencabezado oculto</div>'
    "</body></html>"
)


@pytest.fixture
def email_file(tmp_path):
    roster = roster_xlsx(tmp_path / "nomina-comite.xlsx").read_bytes()
    forwarded = email_with_attachments(
        "Les reenvío el acta firmada.",
        None,
        [("acta.txt", "text/plain", "Acta de constitución del comité de inclusión.".encode())],
        subject="Acta de constitución",
    )
    data = email_with_attachments(
        "Estimados: adjunto la nómina del comité y el acta.",
        EMAIL_HTML,
        [
            ("nomina-comite.xlsx", XLSX_TYPE, roster),
            (None, "text/plain", b"Nota sin nombre de archivo."),
            ("nomina-comite.xlsx", "text/plain", b"Otra nota, mismo nombre."),
        ],
        inline_images=[("logo", b"\x89PNG\r\n\x1a\n" + bytes(2000))],  # a signature logo
        forwarded=forwarded,
    )
    path = tmp_path / "correo.eml"
    path.write_bytes(data)
    return path


def test_email_is_a_container_of_its_message_and_attachments(email_file):
    assert is_container(email_file)
    with open_archive(email_file) as members:
        assert [m.name for m in members] == [
            "mensaje.txt",
            "nomina-comite.xlsx",
            "adjunto-2.txt",
            "nomina-comite (2).xlsx",
            "Acta de constitución.eml/mensaje.txt",
            "Acta de constitución.eml/acta.txt",
        ]  # the inline logo is decoration, not a document
        assert all(m.error is None for m in members)
        texts = {m.name: extractors.extract_bytes(m.read()).text for m in members}
    assert texts["mensaje.txt"].splitlines() == [
        "Asunto: Evidencias Compromiso Migrante",
        "De: Carolina Muñoz <cmunoz@constructora-andes.cl>",
        "Para: compromisomigrante@sermig.gob.cl",
        "Fecha: Mon, 15 Apr 2024 10:12:00 -0400",
        "",
        "Estimados:",  # the HTML part, read as a web page: tables as rows, hidden text left out
        "Adjunto la nómina del comité y el acta.",
        "Documento | Compromiso",
        "Nómina del comité | Participación",
    ]
    assert texts["nomina-comite.xlsx"].startswith("Hoja «Nómina»")
    assert texts["Acta de constitución.eml/acta.txt"].startswith("Acta de constitución")


def test_email_members_have_the_limits_and_errors_of_zip_members(email_file):
    small = ExtractOptions(max_file_bytes=1000, max_archive_members=3)
    with open_archive(email_file, options=small) as members:
        found = {m.name: m.error for m in members}
    assert isinstance(found["nomina-comite.xlsx"], TooLargeError)  # that member only
    assert found["mensaje.txt"] is None and found["adjunto-2.txt"] is None
    assert "más de 3 archivos" in found["nomina-comite (2).xlsx"].message  # reported once
    assert len(found) == 4


def test_email_inside_a_zip_and_an_email_given_to_extract(email_file, tmp_path):
    archive = tmp_path / "evidencias.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(email_file, "correos/correo.eml")
    with open_archive(archive) as members:
        names = [m.name for m in members]
    assert names[:2] == ["correos/correo.eml/mensaje.txt", "correos/correo.eml/nomina-comite.xlsx"]
    with pytest.raises(UnsupportedTypeError) as info:
        extractors.extract(email_file)  # containers are expanded by their caller
    assert "correos (EML)" in info.value.message


def test_plain_text_and_latin1_email_body(tmp_path):
    note = tmp_path / "nota.txt"
    note.write_text("Acta de reunión del comité.\nFrom: no es un correo\n", encoding="utf-8")
    assert not is_container(note)
    raw = (
        "From: rrhh@empresa.cl\r\nTo: sermig@gob.cl\r\nSubject: =?iso-8859-1?q?Capacitaci=F3n?=\r\n"
        "Date: Tue, 16 Apr 2024 09:00:00 -0400\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        "Se realizó la capacitación en derechos laborales de personas migrantes.\r\n"
    ).encode("latin-1")
    mail = tmp_path / "capacitacion.eml"
    mail.write_bytes(raw)
    with open_archive(mail) as members:
        (body,) = list(members)
        text = extractors.extract_bytes(body.read()).text
    assert text.splitlines()[0] == "Asunto: Capacitación"
    assert text.splitlines()[-1] == (
        "Se realizó la capacitación en derechos laborales de personas migrantes."
    )
