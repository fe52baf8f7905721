"""Printable PDF report of a submission's review (reportlab), for the file and for signatures.

It states, per commitment, what the classifier detected (with the best excerpts, document and
page; the passages of documents that do not support it as considered, not enough: the matrix's
``CommitmentRow.considered``) and what the reviewer decided last, followed by the full
decision history and the documents that could not be read. Text from documents is escaped
before it reaches reportlab's paragraph markup, and a Unicode TrueType font is used when the
system has one (DejaVu), so any extracted character prints.
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

from service.domain import messages
from service.domain.matrix import CommitmentRow, SubmissionMatrix
from service.domain.messages import format_datetime
from service.domain.rut import format_rut

__all__ = ["build_report"]

_FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"),)
_MAX_EXCERPTS = 3
_GRID = [
    ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#b8c2cc")),
    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6edf4")),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
]
_TINTS = {"confirmed": "#e3f3e8", "rejected": "#fbe6e6"}


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


class _Styles:
    """The report's paragraph styles, built on the font that can print every character."""

    def __init__(self):
        self.regular, self.bold = _fonts()
        base = getSampleStyleSheet()
        self.body = ParagraphStyle("body", parent=base["BodyText"], fontName=self.regular,
                                   fontSize=9.5, leading=12.5, alignment=TA_LEFT)
        self.small = ParagraphStyle("small", parent=self.body, fontSize=8.5, leading=11,
                                    textColor=colors.HexColor("#3d4650"))
        self.quote = ParagraphStyle("quote", parent=self.body, fontSize=9, leading=12,
                                    leftIndent=8, borderPadding=(2, 4, 2, 6),
                                    backColor=colors.HexColor("#f1f6f2"))
        #: a passage considered and not enough: quoted like evidence, never tinted like it
        self.considered = ParagraphStyle("considered", parent=self.quote,
                                         backColor=colors.HexColor("#f2f2f2"))
        self.h1 = ParagraphStyle("h1", parent=base["Title"], fontName=self.bold, fontSize=17,
                                 leading=21, alignment=TA_LEFT, spaceAfter=4)
        self.h2 = ParagraphStyle("h2", parent=base["Heading2"], fontName=self.bold,
                                 fontSize=12.5, leading=16, spaceBefore=10, spaceAfter=4)
        self.h3 = ParagraphStyle("h3", parent=self.body, fontName=self.bold, fontSize=10.5,
                                 leading=13.5, spaceBefore=8, spaceAfter=2)
        self.cell_bold = ParagraphStyle("cellb", parent=self.body, fontName=self.bold)


def _p(text: str | None, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text or "").replace("\n", "<br/>"), style)


def _clip(text: str, limit: int = 600) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _table(rows: list, widths: tuple[float, ...], extra: list | None = None) -> Table:
    table = Table(rows, colWidths=[w * mm for w in widths], repeatRows=1)
    table.setStyle(TableStyle(_GRID + (extra or [])))
    return table


def build_report(m: SubmissionMatrix, *, generated_by: str | None = None) -> bytes:
    """The review report of the submission ``m`` as PDF bytes."""
    st = _Styles()
    story = _heading(m, st, generated_by)
    story += _summary(m, st)
    story.append(_p("Detalle por compromiso", st.h2))
    for i, c in enumerate(m.commitments, 1):
        story += _commitment_detail(m, c, i, st)
    story += _documents(m, st)
    story += _history(m, st)
    return _render(m, st, story)


def _heading(m: SubmissionMatrix, st: _Styles, generated_by: str | None) -> list:
    return [
        _p("Informe de revisión de evidencias · Compromiso Migrante", st.small),
        _p(m.organization, st.h1),
        _p(f"RUT {format_rut(m.rut)} · postulación {m.id} · "
           f"creada el {format_datetime(m.created_at)}", st.small),
        _p(
            f"Generado el {format_datetime(datetime.now(UTC))} (hora de Chile)"
            + (f" por {generated_by}" if generated_by else "")
            + f" · {len(m.counted)} documento(s), {m.n_errors} con error"
            + (f", {len(m.duplicates)} duplicado(s)" if m.duplicates else "")
            + (f", {m.n_pending} aún en proceso" if m.n_pending else ""),
            st.small,
        ),
        Spacer(1, 4 * mm),
        _p("Resumen", st.h2),
    ]


def _decided_line(c: CommitmentRow) -> str:
    """The cell's status, with who decided and when once a reviewer has."""
    if c.decision is None:
        return c.status.label
    return (f"{c.status.label} por {c.decision.reviewer}, "
            f"{format_datetime(c.decision.created_at)}")


def _summary(m: SubmissionMatrix, st: _Styles) -> list:
    rows = [[_p(t, st.cell_bold) for t in ("Compromiso", "Detección", "Decisión del revisor")]]
    tints = []
    for i, c in enumerate(m.commitments, 1):
        detection = (
            f"Detectado ({round(100 * c.confidence)} %)" if c.supported else "No detectado"
        )
        rows.append([_p(f"{i}. {c.label}", st.body), _p(detection, st.body),
                     _p(_decided_line(c), st.body)])
        if c.status in _TINTS:
            tints.append(("BACKGROUND", (2, i), (2, i), colors.HexColor(_TINTS[c.status])))
    return [
        _table(rows, (62, 38, 70), tints),
        Spacer(1, 2 * mm),
        _p(f"Detectados {m.n_detected}/5 · confirmados {m.n_confirmed}/5 por revisión.",
           st.body),
    ]


def _commitment_detail(m: SubmissionMatrix, c: CommitmentRow, i: int, st: _Styles) -> list:
    block = [_p(f"{i}. {c.label} — {c.status.label}", st.h3), _p(c.name, st.small)]
    d = c.decision
    if d is not None:
        line = f"Decisión: {d.action_label} ({d.reviewer}, {format_datetime(d.created_at)})."
        block.append(_p(line, st.body))
        if d.excerpt:
            where = ", ".join(filter(None, [m.document_name(d.document_id),
                                            f"pág. {d.page}" if d.page else ""]))
            where = f" ({where})" if where else ""
            block.append(_p(f"Extracto verificado{where}: «{_clip(d.excerpt)}»", st.quote))
    for note in c.comments:  # saved alone or with a decision, oldest first
        block.append(_p(f"Comentario de {note.reviewer} ({format_datetime(note.created_at)}): "
                        f"{_clip(note.comment or '', 600)}", st.small))
    if c.passages:
        block.append(_p("Evidencia detectada:", st.body))
        for p in c.passages[:_MAX_EXCERPTS]:  # a quote and where it is: never a page apart
            block.append(KeepTogether([_p(f"«{_clip(p.text)}»", st.quote),
                                       _p(_where(p), st.small)]))
    elif c.considered:
        block.append(_p("Ningún documento analizado basta como evidencia.", st.body))
    else:
        block.append(_p("No se encontró evidencia en los documentos.", st.body))
    if c.considered:  # the passages of the documents that do not support it
        block.append(_p(f"{c.considered_note}.", st.body))
        for p in c.considered[:_MAX_EXCERPTS]:
            block.append(KeepTogether([_p(f"«{_clip(p.text)}»", st.considered),
                                       _p(f"{_where(p)} — {p.role}", st.small)]))
    for f in c.flags:
        block.append(_p(
            f"Aviso: el reprocesamiento ({f.old_version} → {f.new_version}) cambió la "
            "detección de este compromiso; la decisión debe revisarse.", st.small))
    return [KeepTogether(block[:4]), *block[4:]]


def _where(p) -> str:
    return ", ".join(filter(None, [p.document, f"página {p.page}" if p.page else ""]))


def _documents(m: SubmissionMatrix, st: _Styles) -> list:
    rows = [[_p(t, st.cell_bold) for t in ("Documento", "Tipo", "Páginas", "Estado")]]
    for d in m.documents:
        if d.duplicate_of:
            state = f"Duplicado de {m.document_name(d.duplicate_of)} (no se cuenta)"
        elif d.status == "done":
            state = d.status_label
        elif d.status == "error":
            state = f"{d.status_label}: {d.error or ''}"
        else:
            state = "en proceso"
        rows.append([_p(d.full_name, st.small), _p(d.doc_type_label or "—", st.small),
                     _p(str(d.pages or "—"), st.small), _p(state, st.small)])
    return [_p("Documentos", st.h2), _table(rows, (66, 32, 22, 50))]  # "Páginas" on one line


def _history(m: SubmissionMatrix, st: _Styles) -> list:
    out = [_p("Historial de decisiones", st.h2)]
    if not m.history:
        return [*out, _p("Sin decisiones registradas.", st.body)]
    rows = [[_p(t, st.cell_bold) for t in ("Fecha", "Revisor", "Compromiso", "Decisión")]]
    for h in m.history:  # oldest first reads as a log
        on = m.decision_documents(h) if h.endorsed_ids else ""  # what a confirmation rests on
        text = h.action_label + (f" (sobre {on})" if on else "") + (
            f": {h.comment}" if h.comment else "")
        rows.append([_p(format_datetime(h.created_at), st.small), _p(h.reviewer, st.small),
                     _p(messages.commitment_short(h.commitment), st.small),
                     _p(_clip(text, 300), st.small)])
    return [*out, _table(rows, (34, 28, 48, 60))]


def _render(m: SubmissionMatrix, st: _Styles, story: list) -> bytes:
    buf = io.BytesIO()

    def footer(canvas, doc):
        canvas.saveState()
        canvas.setFont(st.regular, 8)
        canvas.setFillColor(colors.HexColor("#555555"))
        canvas.drawString(18 * mm, 10 * mm, f"Evidencia · {m.organization}"[:90])
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, f"Página {doc.page}")
        canvas.restoreState()

    pdf = SimpleDocTemplate(
        buf, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
        bottomMargin=18 * mm, title=f"Informe de revisión · {m.organization}",
        author="Evidencia", lang="es",
    )
    pdf.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()
