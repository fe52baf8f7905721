"""Spreadsheets (XLSX, XLS, ODS): every visible sheet, a row per line, cells as the classifier
reads them.

Read with python-calamine (Rust, cached formula values, sheet visibility) rather than openpyxl
(pure Python, ~10x slower, XLSX only); it reads legacy Excel 97-2003 (BIFF8 in an OLE2
compound file) too, with the same layout. Layout of a sheet's page text, so an attendance list
or a committee roster kept as a spreadsheet reads like the same table in a DOCX:

    Hoja «Nómina»

    Nómina del comité paritario 2024             <- a row with one filled cell: a line of text

    Fila 4 | Nombre | Cargo | Nacionalidad         <- first row of a table: its header
    Fila 5 | María López | Operaria | Venezolana

Each sheet starts a new page (a long sheet continues on more pages, its header row repeated), so
"pág. N" names a sheet and every excerpt carries its own row number ("Fila 5"): the location a
reviewer needs to find the row in the original file. Empty cells inside a table are written "—"
so every row keeps the header's column count (the classifier treats a short line with fewer cells
as the wrapped end of the row above). Formulas are read as the values the spreadsheet program
last saved; hidden sheets (drop-down lists, lookups) are skipped with a warning, as a reviewer
opening the file would not see them either.
"""

from __future__ import annotations

import datetime as dt
import logging
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from extractors import defaults
from extractors.detect import OLE_SIGNATURE
from extractors.document import ExtractedDocument, Page
from extractors.errors import CorruptFileError, EncryptedError, TooLargeError
from extractors.normalize import normalize_text
from extractors.options import ExtractOptions

__all__ = ["parse_spreadsheet", "cell_text"]

log = logging.getLogger(__name__)

EMPTY_CELL = "—"


@dataclass(frozen=True, slots=True)
class _Row:
    number: int  # 1-based, as the spreadsheet program shows it
    cells: tuple[str, ...]  # from the sheet's first used column; "" where empty

    @property
    def filled(self) -> int:
        return sum(1 for c in self.cells if c)


def parse_spreadsheet(
    path: Path,
    *,
    options: ExtractOptions,
    password: str | None = None,
    progress: Callable[[int, int], object] | None = None,
) -> ExtractedDocument:
    from python_calamine import (
        CalamineError,
        CalamineWorkbook,
        PasswordError,
        SheetTypeEnum,
        SheetVisibleEnum,
    )

    _check_size(path, options)
    warnings: list[str] = []
    pages: list[Page] = []
    budget = options.spreadsheet_max_cells
    try:
        with CalamineWorkbook.from_path(str(path)) as workbook:
            for meta in workbook.sheets_metadata:
                if meta.typ != SheetTypeEnum.WorkSheet:
                    continue  # chart and dialog sheets hold no cells
                if meta.visible != SheetVisibleEnum.Visible:
                    warnings.append(
                        f"Se omitió la hoja oculta «{meta.name}»: las hojas ocultas no se leen. "
                        "Si contiene evidencia, muéstrela y suba el archivo de nuevo."
                    )
                    continue
                if budget <= 0:
                    warnings.append(
                        f"La planilla supera las {_n(options.spreadsheet_max_cells)} celdas que "
                        f"se leen por archivo; no se leyó la hoja «{meta.name}». Divídala en "
                        "varios archivos."
                    )
                    continue
                sheet = workbook.get_sheet_by_name(meta.name)
                rows, budget = _sheet_rows(sheet, budget, warnings, options)
                pages.extend(_sheet_pages(meta.name, rows, first_number=len(pages) + 1))
    except PasswordError as exc:
        raise EncryptedError(
            "La planilla está protegida con contraseña. Guárdela sin contraseña y súbala de nuevo.",
            detail=repr(exc),
        ) from exc
    except CalamineError as exc:
        raise _corrupt(exc) from exc
    except BaseException as exc:
        # calamine panics on some damaged files (a truncated XLS's directory); pyo3 raises the
        # panic as a BaseException, which must not pass for an interruption
        if type(exc).__name__ != "PanicException":
            raise
        raise _corrupt(exc) from None
    if not pages:
        pages = [Page(number=1, text="", method="spreadsheet")]
    if not any(p.text for p in pages):
        warnings.append("La planilla no tiene celdas con contenido en sus hojas visibles.")
    return ExtractedDocument(
        mime="", pages=tuple(pages), extractor="spreadsheet:calamine", warnings=tuple(warnings)
    )


def cell_text(value) -> str:
    """One cell as a reviewer reads it in a Chilean spreadsheet: dates dd-mm-aaaa, decimal comma,
    whole numbers without ".0"; line breaks and "|" (the cell separator) made harmless."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "VERDADERO" if value else "FALSO"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.10g}".replace(".", ",")
    if isinstance(value, dt.datetime):
        if (value.hour, value.minute, value.second) == (0, 0, 0):
            return value.strftime("%d-%m-%Y")
        return value.strftime("%d-%m-%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d-%m-%Y")
    if isinstance(value, dt.time):
        return value.strftime("%H:%M" if not value.second else "%H:%M:%S")
    if isinstance(value, dt.timedelta):
        minutes = int(value.total_seconds() // 60)
        return f"{minutes // 60}:{minutes % 60:02d}"
    text = " ".join(normalize_text(str(value)).split())
    return text.replace("|", "/")


def _n(number: int) -> str:
    """12345 -> "12.345" (Spanish thousands separator)."""
    return f"{number:,}".replace(",", ".")


def _corrupt(exc: BaseException) -> CorruptFileError:
    return CorruptFileError(
        "La planilla está dañada o incompleta y no se pudo leer. Vuelva a guardarla desde "
        "Excel o LibreOffice.",
        detail=repr(exc),
    )


def _check_size(path: Path, options: ExtractOptions) -> None:
    """Refuse a spreadsheet too large to hold in memory before the reader does. An XLSX or ODS
    is a ZIP of XML parts read whole: their uncompressed sizes are added up (a 100 MB file may
    hold gigabytes). An XLS is not compressed, but the reader parses every cell of it when it
    opens it: its file size is what is counted, against a cap of its own."""
    with open(path, "rb") as handle:
        legacy = handle.read(len(OLE_SIGNATURE)) == OLE_SIGNATURE
    if legacy:
        total, limit = path.stat().st_size, options.spreadsheet_max_xls_bytes
    else:
        limit = options.spreadsheet_max_uncompressed_bytes
        try:
            with zipfile.ZipFile(path) as zf:
                total = sum(info.file_size for info in zf.infolist())
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise _corrupt(exc) from exc
    if total > limit:
        raise TooLargeError(
            "La planilla es demasiado grande para leerla "
            f"({total / 1_048_576:.0f} MB de datos{'' if legacy else ' sin comprimir'}). "
            "Divídala en varios archivos o suba solo las hojas que son evidencia.",
            detail=f"{total} {'file' if legacy else 'uncompressed'} bytes > {limit}",
        )


def _sheet_rows(
    sheet, budget: int, warnings: list[str], options: ExtractOptions
) -> tuple[list[_Row], int]:
    """Non-empty rows of one sheet, within the row, column and workbook cell limits."""
    start = sheet.start
    if start is None:
        return [], budget
    first_row, _ = start
    max_rows = options.spreadsheet_max_rows
    max_cols = options.spreadsheet_max_columns
    if sheet.width > max_cols:
        warnings.append(
            f"La hoja «{sheet.name}» tiene {sheet.width} columnas; se leyeron las primeras "
            f"{max_cols}."
        )
    rows: list[_Row] = []
    for offset, values in enumerate(sheet.to_python(nrows=max_rows)):
        cells = tuple(cell_text(v) for v in values[:max_cols])
        while cells and not cells[-1]:
            cells = cells[:-1]
        if not cells:
            continue
        row = _Row(first_row + offset + 1, cells)
        budget -= row.filled
        if budget < 0:
            warnings.append(
                f"La planilla supera las {_n(options.spreadsheet_max_cells)} celdas que se "
                f"leen por archivo; la hoja «{sheet.name}» se leyó hasta la fila "
                f"{row.number - 1}. Divídala en varios archivos."
            )
            return rows, 0
        rows.append(row)
    if sheet.height > max_rows:
        warnings.append(
            f"La hoja «{sheet.name}» tiene {_n(sheet.height)} filas; se leyeron las primeras "
            f"{_n(max_rows)}. Divídala en varios archivos si el resto es evidencia."
        )
    return rows, budget


def _sheet_pages(name: str, rows: list[_Row], *, first_number: int) -> Iterator[Page]:
    """A sheet's lines cut into pages of at most SPREADSHEET_PAGE_ROWS rows; a page that
    continues a table repeats its header row so the rows below keep their column names."""
    title = f"Hoja «{cell_text(name)}»"
    lines = list(_sheet_lines(rows))
    if not lines:
        return
    per_page = defaults.SPREADSHEET_PAGE_ROWS
    chunks = [lines[i : i + per_page] for i in range(0, len(lines), per_page)]
    for index, chunk in enumerate(chunks):
        heading = title
        if len(chunks) > 1:
            numbers = [n for n, _, _ in chunk if n]
            heading += f", filas {numbers[0]} a {numbers[-1]}" if numbers else ""
        text_lines = [heading, ""]
        header = chunk[0][2]
        if index and header is not None and chunk[0][1] != header:
            text_lines.append(header)
        text_lines.extend(line for _, line, _ in chunk)
        yield Page(
            number=first_number + index,
            text="\n".join(text_lines).strip(),
            method="spreadsheet",
        )


def _sheet_lines(rows: list[_Row]) -> Iterator[tuple[int, str, str | None]]:
    """(row number or 0, line, header line of the table the line belongs to or None).

    Rows are grouped into blocks separated by empty rows. In a block, the rows before the first
    row with two filled cells are text (titles, notes); from that row on the block is a table:
    that row is its header, every row is written with the same columns. Blank lines separate
    text from tables so the classifier starts each table at its header.
    """
    for block in _blocks(rows):
        first_table = next((i for i, r in enumerate(block) if r.filled >= 2), len(block))
        text_rows, table_rows = block[:first_table], block[first_table:]
        for row in text_rows:
            yield row.number, " ".join(c for c in row.cells if c), None
        if not table_rows:
            yield 0, "", None
            continue
        if text_rows:
            yield 0, "", None
        columns = [
            i
            for i in range(max(len(r.cells) for r in table_rows))
            if any(i < len(r.cells) and r.cells[i] for r in table_rows)
        ]
        header = None
        for row in table_rows:
            cells = [row.cells[i] if i < len(row.cells) and row.cells[i] else EMPTY_CELL
                     for i in columns]  # fmt: skip
            line = " | ".join([f"Fila {row.number}", *cells])
            header = header or line
            yield row.number, line, header
        yield 0, "", None


def _blocks(rows: list[_Row]) -> Iterator[list[_Row]]:
    block: list[_Row] = []
    for row in rows:
        if block and row.number != block[-1].number + 1:
            yield block
            block = []
        block.append(row)
    if block:
        yield block
