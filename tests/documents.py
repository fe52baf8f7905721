"""Small documents for the service's tests: texts that prove each commitment, a one-page text
PDF, ZIPs and folder trees of them."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

#: A real RUT with a valid check digit (service.domain.submissions.normalize_rut checks it).
RUT_SOL = "76.543.210-3"


def make_text_pdf(pages: list[str]) -> bytes:
    """A born-digital PDF (text layer) with one page per string, lines split on "\\n"."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4)
    for body in pages:
        text = pdf.beginText(60, A4[1] - 70)
        text.setFont("Helvetica", 11)
        for line in body.split("\n"):
            text.textLine(line)
        pdf.drawText(text)
        pdf.showPage()
    pdf.save()
    return buf.getvalue()


def one_page_pdf(text: str) -> bytes:
    return make_text_pdf([text])


def make_zip(members: dict) -> bytes:
    """A ZIP archive (deflated) from {name: bytes | str | dict}; a dict becomes a nested ZIP."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, value in members.items():
            zf.writestr(name, make_zip(value) if isinstance(value, dict) else value)
    return buf.getvalue()


def write_tree(root: Path, tree: dict) -> Path:
    """Write {name: bytes | str | dict} under root; a dict is a folder, unless the name ends
    with .zip, then it is a ZIP archive (nested dicts inside become nested ZIPs)."""
    root.mkdir(parents=True, exist_ok=True)
    for name, value in tree.items():
        path = root / name
        if isinstance(value, dict) and name.endswith(".zip"):
            path.write_bytes(make_zip(value))
        elif isinstance(value, dict):
            write_tree(path, value)
        else:
            path.write_bytes(value.encode("utf-8") if isinstance(value, str) else value)
    return root


ACTA = (
    "Acta de constitución del Comité de Inclusión e Interculturalidad.\n"
    "En Santiago, el directorio acuerda crear el Comité de Inclusión, encargado de coordinar\n"
    "las acciones de inclusión, interculturalidad y no discriminación de la institución.\n"
)
PLAN = (
    "Plan anual de capacitación 2023.\n"
    "Se realizarán talleres de sensibilización sobre migración, interculturalidad y no\n"
    "discriminación dirigidos a todo el personal, con registro de asistencia.\n"
)
POLITICA = (
    "Política de buenas prácticas laborales.\n"
    "La institución garantiza igualdad de trato y no discriminación por nacionalidad u origen\n"
    "en los procesos de reclutamiento, selección, remuneraciones y ascensos.\n"
)
FERIA = (
    "Informe de actividades.\n"
    "Se organizó una feria intercultural abierta a la comunidad con organizaciones de personas\n"
    "migrantes, y se celebró el Día Internacional del Migrante con los trabajadores.\n"
)
COMITE = (
    "Acta de elección del comité de inclusión.\n"
    "Resultaron electos dos trabajadores de nacionalidad venezolana y una trabajadora haitiana\n"
    "como integrantes del comité de inclusión de la empresa.\n"
)

#: A training plan that plainly proves c2 (fictional organisation).
TRAINING_PLAN_TEXT = """PLAN ANUAL DE CAPACITACIÓN Y SENSIBILIZACIÓN 2025
Fundación Puentes del Sur

La Fundación aprueba el presente plan de capacitación y sensibilización para todo su personal
en interculturalidad, no discriminación y derechos laborales de las personas migrantes.
Módulo 1: Interculturalidad y sesgos inconscientes (marzo 2025), dirigido a jefaturas.
Módulo 2: Derechos laborales de trabajadores migrantes (junio 2025), dirigido a todo el personal.
Módulo 3: Atención sin discriminación por nacionalidad u origen (septiembre 2025).
Cada sesión dura dos horas y se registra la asistencia del personal en una nómina."""
