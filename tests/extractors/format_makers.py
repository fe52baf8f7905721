"""Spreadsheets, OpenDocument text, legacy Word and HEIC photos generated for the format tests.

XLSX are written with openpyxl; openpyxl stores formulas without the value a spreadsheet program
would cache, so ``xlsx`` writes the cached values into the sheet XML the way Excel and LibreOffice
save them. ODS and ODT are written as the OpenDocument XML LibreOffice produces. DOC and RTF come
from a DOCX, and XLS (Excel 97-2003) from an XLSX, through LibreOffice itself (Writer and Calc,
which scripts/setup installs for the tests); an XLS with a password through a LibreOffice Basic
macro, since ``--convert-to`` takes none.
"""

from __future__ import annotations

import re
import subprocess
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

#: A committee roster as organisations keep it: a title row, a header, nationalities, an empty
#: cell, a date and a count computed by a formula.
ROSTER_TITLE = "Nómina del Comité de Inclusión e Interculturalidad 2024"
ROSTER = [
    [ROSTER_TITLE],
    [],
    ["Nombre", "Cargo en el comité", "Nacionalidad", "Fecha de designación"],
    ["María Fernanda López", "Presidenta", "Venezolana", "2024-03-15"],
    ["Jean Pierre Louis", "Secretario", "Haitiana", "2024-03-15"],
    ["Rosa Quispe Mamani", "", "Peruana", "2024-04-02"],
    ["Pedro Soto Vera", "Integrante", "Chilena", "2024-04-02"],
]
#: Row 9 of the roster sheet: "Total integrantes" and a formula counting the names.
ROSTER_TOTAL_FORMULA = ("Total integrantes", "COUNTA(A4:A7)", 4)

OOXML_SHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
ODF_NS = {
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "style": "urn:oasis:names:tc:opendocument:xmlns:style:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "draw": "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0",
    "fo": "urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0",
    "of": "urn:oasis:names:tc:opendocument:xmlns:of:1.2",
    "svg": "urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0",
}


def roster_xlsx(path: Path, *, hidden_sheet: bool = True, extra_sheet: bool = True) -> Path:
    """``nomina-comite.xlsx``: the roster, its total as a formula with its cached value, a
    visible second sheet and a hidden list of nationalities (a drop-down's source)."""
    import datetime as dt

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Nómina"
    for row in ROSTER:
        ws.append([_cell_value(v) for v in row])
    ws.append([])
    label, formula, _ = ROSTER_TOTAL_FORMULA
    ws.append([label, f"={formula}"])
    if extra_sheet:
        sessions = wb.create_sheet("Sesiones")
        sessions.append(["Sesión", "Fecha", "Asistentes", "Horas"])
        sessions.append(["Constitución del comité", dt.date(2024, 3, 15), 5, 1.5])
        sessions.append(["Plan de trabajo anual", dt.datetime(2024, 4, 2, 9, 30), 4, 2])
    if hidden_sheet:
        lists = wb.create_sheet("Listas")
        for nationality in ("Chilena", "Venezolana", "Haitiana", "Peruana", "Colombiana"):
            lists.append([nationality])
        lists.sheet_state = "hidden"
    wb.save(path)
    return with_cached_values(path, "xl/worksheets/sheet1.xml", {"B9": ROSTER_TOTAL_FORMULA[2]})


def _cell_value(value):
    import datetime as dt

    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\d", value):
        return dt.date.fromisoformat(value)
    return value if value != "" else None


def with_cached_values(path: Path, part: str, values: dict[str, object]) -> Path:
    """Write into an openpyxl XLSX the values its formulas would have when saved by Excel."""
    with zipfile.ZipFile(path) as zf:
        parts = {info.filename: zf.read(info) for info in zf.infolist()}
    xml = parts[part].decode()
    for ref, value in values.items():
        xml, count = re.subn(
            rf'(<c r="{ref}"[^>]*>\s*<f>[^<]*</f>)\s*(?:<v\s*/>|<v>\s*</v>)?',
            rf"\g<1><v>{value}</v>",
            xml,
        )
        assert count == 1, f"formula cell {ref} not found in {part}"
    parts[part] = xml.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return path


def roster_ods(path: Path) -> Path:
    """The same roster as an OpenDocument spreadsheet, with a hidden sheet and a formula."""
    label, _, value = ROSTER_TOTAL_FORMULA
    total = (
        "<table:table-row>"
        f'<table:table-cell office:value-type="string"><text:p>{label}</text:p></table:table-cell>'
        f'<table:table-cell table:formula="of:=COUNTA([.A4:.A7])" office:value-type="float" '
        f'office:value="{value}"><text:p>{value}</text:p></table:table-cell>'
        "</table:table-row>"
    )
    return ods(path, {"Nómina": [*ROSTER, [], total], "Listas": [["Chilena"], ["Venezolana"]]},
               hidden={"Listas"})  # fmt: skip


def ods(path: Path, sheets: dict[str, list], *, hidden: set[str] = frozenset()) -> Path:
    """An OpenDocument spreadsheet; a row is a list of values, or ready-made row XML."""
    tables = []
    for name, rows in sheets.items():
        style = ' table:style-name="oculta"' if name in hidden else ""
        xml = "".join(row if isinstance(row, str) else _ods_row(row) for row in rows)
        tables.append(f'<table:table table:name="{escape(name)}"{style}>{xml}</table:table>')
    styles = (
        '<style:style style:name="oculta" style:family="table">'
        '<style:table-properties table:display="false"/></style:style>'
    )
    body = "<office:spreadsheet>" + "".join(tables) + "</office:spreadsheet>"
    return _odf_package(path, "spreadsheet", body, styles)


def _ods_row(values: list) -> str:
    if not values:
        return "<table:table-row><table:table-cell/></table:table-row>"
    cells = []
    for value in values:
        if value in ("", None):
            cells.append("<table:table-cell/>")
        elif re.fullmatch(r"\d{4}-\d\d-\d\d", str(value)):
            cells.append(
                f'<table:table-cell office:value-type="date" office:date-value="{value}">'
                f"<text:p>{value}</text:p></table:table-cell>"
            )
        elif isinstance(value, int | float):
            cells.append(
                f'<table:table-cell office:value-type="float" office:value="{value}">'
                f"<text:p>{value}</text:p></table:table-cell>"
            )
        else:
            cells.append(
                '<table:table-cell office:value-type="string">'
                f"<text:p>{escape(str(value))}</text:p></table:table-cell>"
            )
    return "<table:table-row>" + "".join(cells) + "</table:table-row>"


def odt(path: Path, body_xml: str) -> Path:
    """An ODT whose ``office:text`` holds ``body_xml`` (ODF elements, namespaces declared)."""
    return _odf_package(path, "text", f"<office:text>{body_xml}</office:text>", "")


def _odf_package(path: Path, kind: str, body: str, automatic_styles: str) -> Path:
    mime = f"application/vnd.oasis.opendocument.{kind}"
    namespaces = " ".join(f'xmlns:{k}="{v}"' for k, v in ODF_NS.items())
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<office:document-content {namespaces} office:version="1.3">'
        f"<office:automatic-styles>{automatic_styles}</office:automatic-styles>"
        f"<office:body>{body}</office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
        'manifest:version="1.3">'
        f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{mime}"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), mime)  # first and stored, as the standard says
        zf.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
        zf.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
    return path


def word_document(
    path: Path, paragraphs: list[str], table: list[list[str]], *, after: list[str] = ()
) -> Path:
    """A DOCX (python-docx) with paragraphs, a table, then more paragraphs."""
    import docx

    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    grid = document.add_table(rows=len(table), cols=len(table[0]))
    for r, row in enumerate(table):
        for c, value in enumerate(row):
            grid.cell(r, c).text = value
    for text in after:
        document.add_paragraph(text)
    document.save(path)
    return path


def convert_with_libreoffice(source: Path, target_format: str, outdir: Path) -> Path:
    """DOCX -> DOC or RTF, XLSX -> XLS with the LibreOffice that scripts/setup installs."""
    profile = outdir / "perfil-prueba"
    subprocess.run(
        ["soffice", "--headless", "--norestore", f"-env:UserInstallation={profile.as_uri()}",
         "--convert-to", target_format, "--outdir", str(outdir), str(source)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return outdir / f"{source.stem}.{target_format}"


def roster_xls(path: Path, **roster) -> Path:
    """``nomina-comite.xls``: ``roster_xlsx`` saved by LibreOffice Calc as Excel 97-2003 (its
    hidden sheet stays hidden, its formula keeps its value)."""
    source = roster_xlsx(path.with_suffix(".xlsx"), **roster)
    converted = convert_with_libreoffice(source, "xls", path.parent)
    return converted if converted == path else converted.rename(path)


#: A LibreOffice Basic module that saves a spreadsheet as Excel 97-2003 with a password (the
#: file is then encrypted: RC4, a FILEPASS record at the start of the workbook stream).
_SAVE_WITH_PASSWORD = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE script:module PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "module.dtd">
<script:module xmlns:script="http://openoffice.org/2000/script" script:name="Module1"
 script:language="StarBasic">
Sub SaveWithPassword(source As String, target As String, password As String)
  Dim load(0) As New com.sun.star.beans.PropertyValue
  load(0).Name = &quot;Hidden&quot;
  load(0).Value = True
  doc = StarDesktop.loadComponentFromURL(ConvertToURL(source), &quot;_blank&quot;, 0, load())
  Dim store(1) As New com.sun.star.beans.PropertyValue
  store(0).Name = &quot;FilterName&quot;
  store(0).Value = &quot;MS Excel 97&quot;
  store(1).Name = &quot;Password&quot;
  store(1).Value = password
  doc.storeToURL(ConvertToURL(target), store())
  doc.close(True)
End Sub
</script:module>
"""


def encrypted_xls(source: Path, target: Path, password: str) -> Path:
    """``source`` (a spreadsheet) saved by LibreOffice as an XLS protected by ``password``: a
    throw-away profile is made, its Standard Basic library given the macro above, then run."""
    profile = target.parent / "perfil-macro"
    soffice = ["soffice", "--headless", "--norestore",
               f"-env:UserInstallation={profile.as_uri()}"]  # fmt: skip
    subprocess.run([*soffice, "--terminate_after_init"], check=True, capture_output=True,
                   timeout=120)  # fmt: skip
    (profile / "user/basic/Standard/Module1.xba").write_text(_SAVE_WITH_PASSWORD)
    macro = f'macro:///Standard.Module1.SaveWithPassword("{source}","{target}","{password}")'
    subprocess.run([*soffice, macro], check=True, capture_output=True, timeout=120)
    assert target.exists(), "LibreOffice did not save the encrypted XLS"
    return target


def heic_photo(path: Path, upright, *, exif_orientation: int) -> Path:
    """Save ``upright`` as a phone would: pixels stored as the sensor saw them, plus the EXIF
    orientation that turns them upright (6: the phone was held upright, sensor turned 90°)."""
    from PIL import Image
    from pillow_heif import register_heif_opener

    register_heif_opener()
    turn = {6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270,
            3: Image.Transpose.ROTATE_180}.get(exif_orientation)  # fmt: skip
    stored = upright.transpose(turn) if turn is not None else upright
    exif = Image.Exif()
    exif[0x0112] = exif_orientation
    stored.convert("RGB").save(path, format="HEIF", exif=exif.tobytes(), quality=90)
    return path


def email_with_attachments(
    body_text: str,
    body_html: str | None,
    attachments: list[tuple[str | None, str, bytes]],
    *,
    subject: str = "Evidencias Compromiso Migrante",
    inline_images: list[tuple[str, bytes]] = (),
    forwarded: bytes | None = None,
) -> bytes:
    """An e-mail as a mail program writes it: text and HTML alternatives, inline pictures
    referenced from the HTML, attachments (name, MIME type, bytes), a forwarded e-mail."""
    from email.message import EmailMessage
    from email.policy import default

    message = EmailMessage(policy=default)
    message["From"] = "Carolina Muñoz <cmunoz@constructora-andes.cl>"
    message["To"] = "compromisomigrante@sermig.gob.cl"
    message["Subject"] = subject
    message["Date"] = "Mon, 15 Apr 2024 10:12:00 -0400"
    message["Message-ID"] = "<20240415101200.1234@constructora-andes.cl>"
    message.set_content(body_text)
    if body_html is not None:
        message.add_alternative(body_html, subtype="html")
        html_part = message.get_payload()[1]
        for cid, data in inline_images:
            html_part.add_related(data, maintype="image", subtype="png", cid=f"<{cid}>",
                                  filename=f"{cid}.png", disposition="inline")  # fmt: skip
    for name, mime, data in attachments:
        maintype, subtype = mime.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    if forwarded is not None:
        from email import message_from_bytes

        message.add_attachment(message_from_bytes(forwarded, policy=default))
    return message.as_bytes()
