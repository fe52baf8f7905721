"""The evidence matrix as CSV and XLSX downloads (Spanish headers, one row per commitment).

The XLSX adds a sheet with every evidence passage and one with the decision history. Cells
that start like a spreadsheet formula are prefixed with an apostrophe (CSV injection).
"""

from __future__ import annotations

import csv
import io

from service.labels import ACTION_LABELS, CELL_STATUS_LABELS

__all__ = ["matrix_rows", "matrix_csv", "matrix_xlsx", "MATRIX_HEADERS"]

MATRIX_HEADERS = [
    "Compromiso",
    "Descripción",
    "Estado",
    "Detectado",
    "Confianza",
    "Documento",
    "Página",
    "Extracto",
    "Decisión",
    "Revisor",
    "Fecha decisión",
    "Comentario",
]
EVIDENCE_HEADERS = ["Compromiso", "Documento", "Página", "Extracto", "Puntaje", "Patrones"]
HISTORY_HEADERS = ["Fecha", "Revisor", "Compromiso", "Decisión", "Documento", "Página",
                   "Extracto", "Comentario", "Versión del clasificador"]


def _safe(value):
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def matrix_rows(matrix: dict) -> list[list]:
    rows = []
    for c in matrix["commitments"]:
        decision = c.get("decision") or {}
        best = c["evidence"][0] if c["evidence"] else {}
        if decision.get("action") == "attach" and (decision.get("excerpt") or decision.get("page")):
            best = {
                "document": _document_name(matrix, decision.get("document_id")),
                "page": decision.get("page"),
                "text": decision.get("excerpt") or "",
            }
        rows.append(
            [
                c["id"],
                c["label"],
                CELL_STATUS_LABELS.get(c["status"], c["status"]),
                "sí" if c["supported"] else "no",
                round(c["confidence"], 3),
                best.get("document", ""),
                best.get("page") or "",
                best.get("text", ""),
                ACTION_LABELS.get(decision.get("action"), "") if decision else "",
                decision.get("reviewer") or "",
                decision.get("created_at") or "",
                decision.get("comment") or "",
            ]
        )
    return [[_safe(v) for v in row] for row in rows]


def _document_name(matrix: dict, document_id: str | None) -> str:
    return next((d["name"] for d in matrix["documents"] if d["id"] == document_id), "")


def matrix_csv(matrix: dict) -> bytes:
    """UTF-8 with BOM and ``;`` separators: what Excel in a Spanish locale opens correctly."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";")
    writer.writerow(MATRIX_HEADERS)
    writer.writerows(matrix_rows(matrix))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def matrix_xlsx(matrix: dict, history: list[dict] | None = None) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    ws.title = "Matriz"
    ws.append([f"Organización: {matrix['organization']}", f"RUT: {matrix.get('rut') or ''}"])
    ws.append(MATRIX_HEADERS)
    for row in matrix_rows(matrix):
        ws.append(row)
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for col, width in zip("ABCDEFGHIJKL", (11, 40, 12, 10, 10, 30, 8, 80, 22, 16, 22, 40),
                          strict=True):
        ws.column_dimensions[col].width = width
    for row in ws.iter_rows(min_row=3):
        row[7].alignment = Alignment(wrap_text=True, vertical="top")

    ev = wb.create_sheet("Evidencias")
    ev.append(EVIDENCE_HEADERS)
    for c in matrix["commitments"]:
        for cell in c["documents"]:
            for e in cell["evidence"]:
                ev.append([_safe(v) for v in (c["id"], e["document"], e["page"], e["text"],
                                               round(e["score"], 3), ", ".join(e["pattern_ids"]))])
    if history is not None:
        hs = wb.create_sheet("Historial")
        hs.append(HISTORY_HEADERS)
        for d in history:
            hs.append([_safe(v) for v in (
                d["created_at"], d["reviewer"], d["commitment"],
                ACTION_LABELS.get(d["action"], d["action"]),
                _document_name(matrix, d["document_id"]), d["page"], d["excerpt"], d["comment"],
                d["classifier_version"],
            )])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
