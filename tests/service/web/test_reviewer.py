"""Reviewers in a real browser: login, triage list, matrix decisions, document view, exports."""

from __future__ import annotations

import io
import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

ORG = "Logística Andina SpA"


def _login(page, reviewer, next_path: str = "/revision") -> None:
    page.goto(next_path)
    page.wait_for_url(re.compile(r"/revision/ingresar"))
    page.get_by_label("Usuario").fill(reviewer.username)
    page.get_by_label("Contraseña").fill(reviewer.password)
    page.get_by_role("button", name="Ingresar").click()
    page.wait_for_url(re.compile(re.escape(next_path) + "$"))


def _row(page, cid: str):
    return page.locator(f"tr.commit-row#{cid}")


def test_reviewer_flow_from_login_to_confirmed_matrix(
    browser_page, processed_submission, reviewer, screenshot
):
    page = browser_page
    # wrong password: a Spanish error, no session
    page.goto("/revision/ingresar")
    page.get_by_label("Usuario").fill(reviewer.username)
    page.get_by_label("Contraseña").fill("no-es-la-clave")
    page.get_by_role("button", name="Ingresar").click()
    expect(page.get_by_role("alert")).to_contain_text("Usuario o contraseña incorrectos")

    _login(page, reviewer)
    row = page.locator("table.list tbody tr", has_text=ORG)
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(2)).to_contain_text("4")
    expect(row.locator("td").nth(4)).to_contain_text("0/5")
    page.get_by_role("link", name="Pendientes de revisión").click()
    # a draft nobody has sent is not pending review (the workflow's status, not the decisions)
    expect(page.locator("table.list tbody tr", has_text=ORG)).to_have_count(0)
    page.get_by_role("link", name="Todas", exact=True).click()
    expect(row).to_have_count(1)
    screenshot(page, "05-revisor-lista")

    page.get_by_role("link", name=ORG).click()
    page.wait_for_url(re.compile(rf"/revision/s/{processed_submission.id}$"))
    expect(page.locator(".documents .doc-index li")).to_have_count(4)
    detected = [c for c in ("c1", "c2", "c3", "c4", "c5")
                if _row(page, c).locator(".doc-evidence").count()]
    assert len(detected) >= 2, page.locator("table.matrix").inner_text()
    screenshot(page, "06-revisor-matriz")

    # one click confirms the first detected commitment
    first = detected[0]
    _row(page, first).get_by_role("button", name="Confirmar").click()
    expect(_row(page, first).locator("[data-status]")).to_have_text("Confirmado")

    # keyboard: "2" selects commitment 2, "m" opens its comment, "c" confirms it
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("2")
    expect(_row(page, "c2")).to_be_focused()
    page.keyboard.press("m")
    expect(page.locator("#comentario-c2")).to_be_focused()
    page.keyboard.type("Plan aprobado por gerencia; sesiones en abril y octubre.")
    _row(page, "c2").focus()
    page.keyboard.press("c")
    expect(_row(page, "c2").locator("[data-status]")).to_have_text("Confirmado")
    # "5" then "r" rejects commitment 5; focus stays on the matrix
    page.keyboard.press("5")
    page.keyboard.press("r")
    expect(_row(page, "c5").locator("[data-status]")).to_have_text("Rechazado")

    # attach a different excerpt to commitment 3 (it must be in that document's text)
    c3 = _row(page, "c3")
    c3.get_by_text("Adjuntar otro extracto").click()
    c3.get_by_label("Documento").select_option(label="politica-inclusion.docx")
    c3.get_by_label("Página").fill("1")
    c3.get_by_label("Extracto").fill(
        "Las remuneraciones se fijan según el cargo y la experiencia, sin diferencias por "
        "nacionalidad.")
    c3.get_by_role("button", name="Adjuntar y marcar como cumplido").click()
    expect(_row(page, "c3").locator("[data-status]")).to_have_text("Confirmado")

    history = page.locator("table.history tbody tr")
    expect(history).to_have_count(4)
    expect(history.first).to_contain_text(reviewer.username)
    expect(page.locator("table.history")).to_contain_text("Plan aprobado por gerencia")
    # expected, not counted off the page: a count() does not wait for the last swap to settle
    confirmed = len({first, "c2", "c3"})
    expect(page.locator("tr.commit-row.status-confirmed")).to_have_count(confirmed)
    expect(page.locator("#revision .summary")).to_contain_text(f"confirmados {confirmed}/5")
    screenshot(page, "07-revisor-matriz-decidida")

    # the document view: page image with the evidence highlighted next to the escaped text
    link = page.locator("a[data-passage-link]", has_text=re.compile(r"pág\. \d+")).first
    link.click()
    page.wait_for_url(re.compile(r"/revision/d/[0-9a-f]{32}\?pagina=\d+"))
    image = page.locator("img[data-page-image]")
    expect(image).to_be_visible()
    assert page.evaluate("document.querySelector('img[data-page-image]').naturalWidth") > 300
    assert page.locator(".page-image .hl").count() > 0
    assert page.locator("pre.extracted mark").count() > 0
    screenshot(page, "08-revisor-documento")

    # the list shows the decisions
    page.goto("/revision")
    expect(page.locator("table.list tbody tr", has_text=ORG).locator("td").nth(4)).to_contain_text(
        f"{confirmed}/5"
    )

    page.get_by_role("button", name="Cerrar sesión").click()
    page.wait_for_url(re.compile(r"/revision/ingresar"))
    page.goto("/revision")
    page.wait_for_url(re.compile(r"/revision/ingresar"))


def test_exports_csv_xlsx_pdf(browser_page, processed_submission, reviewer, web_server):
    page = browser_page
    _login(page, reviewer, f"/revision/s/{processed_submission.id}")
    exports = page.get_by_role("navigation", name="Exportar matriz")

    with page.expect_download() as info:
        exports.get_by_role("link", name="CSV").click()
    csv_text = open(info.value.path(), encoding="utf-8-sig").read()
    c1_row = next(line for line in csv_text.splitlines() if line.startswith("c1;"))
    assert ";sí;" in c1_row and "informe-actividades-2025.pdf" in c1_row

    with page.expect_download() as info:
        exports.get_by_role("link", name="Excel (XLSX)").click()
    from openpyxl import load_workbook

    assert info.value.suggested_filename.endswith(".xlsx")
    workbook = load_workbook(io.BytesIO(open(info.value.path(), "rb").read()))
    cells = " ".join(str(c.value) for ws in workbook for row in ws.iter_rows() for c in row)
    assert "plan-capacitacion-2025.pdf" in cells

    with page.expect_download() as info:
        exports.get_by_role("link", name="Informe PDF").click()
    assert info.value.suggested_filename.endswith(".pdf")
    data = open(info.value.path(), "rb").read()
    assert data.startswith(b"%PDF")
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(io.BytesIO(data))
    text = "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    assert ORG in text
    assert "Historial de decisiones" in text
    assert "informe-actividades-2025.pdf" in text


def test_names_and_extracted_text_are_escaped(browser_page, processed_submission, reviewer):
    page = browser_page
    _login(page, reviewer, f"/revision/s/{processed_submission.id}")
    link = page.locator(".documents a.doc-link", has_text="acta <img")
    expect(link).to_have_count(1)
    link.click()
    page.wait_for_url(re.compile(r"/revision/d/[0-9a-f]{32}"))
    expect(page.get_by_role("heading", level=1)).to_have_text(processed_submission.hostile)
    expect(page.locator("pre.extracted")).to_contain_text('<svg onload="window.__xss=1">')
    expect(page.locator("pre.extracted")).to_contain_text("<i>sesión 3</i>")
    assert page.locator("pre.extracted i, pre.extracted svg, img[src=x]").count() == 0
    assert page.evaluate("window.__xss") is None
