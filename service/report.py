"""Printable PDF report of a submission's review (reportlab), for the file and for signatures.

It states, per commitment, what the classifier detected (with the best excerpts, document and
page) and what the reviewer decided last, followed by the full decision history and the
documents that could not be read. Text from documents is escaped before it reaches reportlab's
paragraph markup, and a Unicode TrueType font is used when the system has one (DejaVu), so
any extracted character prints.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from service.labels import format_datetime
from service.rut import format_rut
from service.vocabulary import COMMITMENT_NAMES, COMMITMENT_SHORT, doc_type_name

__all__ = ["build_report"]

_FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"),)
_STATUS = {"confirmed": "Confirmado", "rejected": "Rechazado", "pending": "Pendiente de revisión"}
_ACTIONS = {"confirm": "Confirmó", "reject": "Rechazó", "attach": "Adjuntó extracto"}
_MAX_EXCERPTS = 3


def _fonts() -> tuple[str, str]:
    """Regular and bold font names: DejaVu Sans when installed, else Helvetica (Latin-1 only)."""
    for folder in _FONT_DIRS:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.exists() and bold.exists():
            if "Evidencia" not in pdfmetrics.getRegisteredFontNames():
                pdfmetrics.registerFont(TTFont("Evidencia", str(regular)))
                pdfmetrics.registerFont(TTFont("Evidencia-Bold", str(bold)))
            return "Evidencia", "Evidencia-Bold"
    return "Helvetica", "Helvetica-Bold"



def _p(text: str | None, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text or "").replace("\n", "<br/>"), style)


def _clip(text: str, limit: int = 600) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def build_report(view, *, generated_by: str | None = None) -> bytes:
    """The report of ``view`` (a :class:`service.web.views.SubmissionView`) as PDF bytes."""
    regular, bold = _fonts()
    base = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=base["BodyText"], fontName=regular, fontSize=9.5,
                          leading=12.5, alignment=TA_LEFT)
    small = ParagraphStyle("small", parent=body, fontSize=8.5, leading=11,
                           textColor=colors.HexColor("#3d4650"))
    quote = ParagraphStyle("quote", parent=body, fontSize=9, leading=12, leftIndent=8,
                           borderPadding=(2, 4, 2, 6), backColor=colors.HexColor("#f1f6f2"))
    h1 = ParagraphStyle("h1", parent=base["Title"], fontName=bold, fontSize=17, leading=21,
                        alignment=TA_LEFT, spaceAfter=4)
    h2 = ParagraphStyle("h2", parent=base["Heading2"], fontName=bold, fontSize=12.5, leading=16,
                        spaceBefore=10, spaceAfter=4)
    h3 = ParagraphStyle("h3", parent=body, fontName=bold, fontSize=10.5, leading=13.5,
                        spaceBefore=8, spaceAfter=2)
    cell_bold = ParagraphStyle("cellb", parent=body, fontName=bold)

    sub = view.submission
    org = sub.organization
    story: list = [
        _p("Informe de revisión de evidencias · Compromiso Migrante", small),
        _p(org.name, h1),
        _p(
            f"RUT {format_rut(org.rut)} · postulación {sub.id} · "
            f"creada el {format_datetime(sub.created_at)}",
            small,
        ),
        _p(
            f"Generado el {format_datetime(datetime.now(UTC))}"
            + (f" por {generated_by}" if generated_by else "")
            + f" · {len(view.documents)} documento(s), {view.n_errors} con error"
            + (f", {view.n_pending} aún en proceso" if view.n_pending else ""),
            small,
        ),
        Spacer(1, 4 * mm),
        _p("Resumen", h2),
    ]

    rows = [[_p(t, cell_bold) for t in ("Compromiso", "Detección", "Decisión del revisor")]]
    for i, c in enumerate(view.commitments, 1):
        detection = (
            f"Detectado ({round(100 * c.confidence)} %)" if c.detected else "No detectado"
        )
        if c.decision is not None:
            decided = (
                f"{_STATUS[c.status]} por {c.decision.reviewer.username}, "
                f"{format_datetime(c.decision.created_at)}"
            )
        else:
            decided = _STATUS["pending"]
        rows.append([_p(f"{i}. {COMMITMENT_SHORT[c.id]}", body), _p(detection, body),
                     _p(decided, body)])
    table = Table(rows, colWidths=[62 * mm, 38 * mm, 70 * mm], repeatRows=1)
    style = [
        ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#b8c2cc")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6edf4")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
    for i, c in enumerate(view.commitments, 1):
        tint = {"confirmed": "#e3f3e8", "rejected": "#fbe6e6"}.get(c.status)
        if tint:
            style.append(("BACKGROUND", (2, i), (2, i), colors.HexColor(tint)))
    table.setStyle(TableStyle(style))
    story += [
        table,
        Spacer(1, 2 * mm),
        _p(
            f"Detectados {view.n_detected}/5 · confirmados {view.n_confirmed}/5 por revisión.",
            body,
        ),
        _p("Detalle por compromiso", h2),
    ]

    for i, c in enumerate(view.commitments, 1):
        block = [
            _p(f"{i}. {COMMITMENT_SHORT[c.id]} — {_STATUS[c.status]}", h3),
            _p(COMMITMENT_NAMES[c.id], small),
        ]
        if c.decision is not None:
            d = c.decision
            line = f"Decisión: {_ACTIONS.get(d.action, d.action)} ({d.reviewer.username}, "
            line += f"{format_datetime(d.created_at)})."
            if d.comment:
                line += f" Comentario: {d.comment}"
            block.append(_p(line, body))
            if d.excerpt:
                where = f" (pág. {d.page})" if d.page else ""
                block.append(_p(f"Extracto adjuntado{where}: «{_clip(d.excerpt)}»", quote))
        if c.evidence:
            block.append(_p("Evidencia detectada:", body))
            for doc, ev in c.evidence[:_MAX_EXCERPTS]:
                block.append(_p(f"«{_clip(ev.get('text', ''))}»", quote))
                block.append(_p(f"{doc.name}, página {ev.get('page')}", small))
        else:
            block.append(_p("No se encontró evidencia en los documentos.", body))
        for f in c.flags:
            block.append(_p(
                f"Aviso: el reprocesamiento ({f.old_version} → {f.new_version}) cambió la "
                "detección de este compromiso; la decisión debe revisarse.", small))
        story.append(KeepTogether(block[:4]))
        story += block[4:]

    story.append(_p("Documentos", h2))
    doc_rows = [[_p(t, cell_bold) for t in ("Documento", "Tipo", "Páginas", "Estado")]]
    for d in view.documents:
        state = "listo" if d.status == "done" else ("error: " + (d.error or "")) if (
            d.status == "error") else "en proceso"
        doc_rows.append([_p(d.name, small), _p(doc_type_name(d.doc_type) if d.doc_type else "—",
                         small), _p(str(d.pages or "—"), small), _p(state, small)])
    docs_table = Table(doc_rows, colWidths=[72 * mm, 32 * mm, 16 * mm, 50 * mm], repeatRows=1)
    docs_table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#b8c2cc")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6edf4")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))
    story.append(docs_table)

    story.append(_p("Historial de decisiones", h2))
    if view.history:
        hist = [[_p(t, cell_bold) for t in ("Fecha", "Revisor", "Compromiso", "Decisión")]]
        for h in reversed(view.history):  # oldest first reads as a log
            text = _ACTIONS.get(h.action, h.action)
            if h.comment:
                text += f": {h.comment}"
            hist.append([_p(format_datetime(h.created_at), small), _p(h.reviewer.username, small),
                         _p(COMMITMENT_SHORT.get(h.commitment, h.commitment), small),
                         _p(_clip(text, 300), small)])
        hist_table = Table(hist, colWidths=[34 * mm, 28 * mm, 48 * mm, 60 * mm], repeatRows=1)
        hist_table.setStyle(TableStyle([
            ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#b8c2cc")),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6edf4")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]))
        story.append(hist_table)
    else:
        story.append(_p("Sin decisiones registradas.", body))

    buf = io.BytesIO()

    def _footer(canvas, doc):
        canvas.saveState()
        canvas.setFont(regular, 8)
        canvas.setFillColor(colors.HexColor("#555555"))
        canvas.drawString(18 * mm, 10 * mm, f"Evidencia · {org.name}"[:90])
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, f"Página {doc.page}")
        canvas.restoreState()

    pdf = SimpleDocTemplate(
        buf, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
        bottomMargin=18 * mm, title=f"Informe de revisión · {org.name}", author="Evidencia",
        lang="es",
    )
    pdf.build(story, onFirstPage=_footer, onLaterPages=_footer)
    return buf.getvalue()
