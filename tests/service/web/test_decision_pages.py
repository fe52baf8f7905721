"""Decisions on the pages (issue 11, items 2 and 10) in a real browser: Z undoes the newest
decision, a comment is saved on its own, an invented excerpt is refused in the document view,
and the dashboard has no axe-core violation. One small submission serves the module."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from tests.documents import ACTA, POLITICA
from tests.service.web.conftest import REVIEWER, _wait_processed
from tests.service.web.test_review_pages import _axe_violations, _row

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def submission(web_server):
    from service.db import SessionLocal
    from service.domain.submissions import add_files, create_submission

    with SessionLocal() as session:
        sub, _token = create_submission(session, "Servicios Tinguiririca", "77.214.538-1")
        add_files(session, sub, [("acta.txt", ACTA.encode()), ("politica.txt", POLITICA.encode())])
        sub_id = sub.id
    _wait_processed(sub_id, web_server)
    return SimpleNamespace(id=sub_id, url=f"/revision/s/{sub_id}")


@pytest.fixture(scope="module")
def page(chromium, web_server):
    context = chromium.new_context(base_url=web_server.url, viewport={"width": 1366,
                                   "height": 768}, locale="es-CL")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/revision/ingresar")
    page.get_by_label("Usuario").fill(REVIEWER[0])
    page.get_by_label("Contraseña").fill(REVIEWER[1])
    page.get_by_role("button", name="Ingresar").click()
    page.wait_for_url(re.compile(r"/revision$"))
    yield page
    context.close()


def test_z_undoes_the_newest_decision_and_a_comment_is_saved_alone(page, submission):
    page.goto(submission.url)
    undo = page.locator("[data-undo]")
    expect(undo).to_be_disabled()
    page.keyboard.press("3")
    page.keyboard.press("c")
    expect(_row(page, "c3").locator("[data-status]")).to_have_text("Confirmado")
    expect(undo).to_have_text(re.compile(r"^Deshacer «Confirmó» en Políticas"))
    page.keyboard.press("z")  # the selection moved on: Z still undoes c3's decision
    expect(_row(page, "c3").locator("[data-status]")).to_have_text(
        "Detectado, pendiente de revisión")
    expect(_row(page, "c3")).to_be_focused()
    expect(undo).to_be_disabled()
    expect(page.locator("table.history")).to_contain_text("Deshizo la decisión anterior")

    page.keyboard.press("m")
    page.keyboard.type("Pedir la versión firmada.")
    page.keyboard.press("Control+Enter")
    expect(_row(page, "c3").locator("[data-comment-entry]")).to_contain_text(
        "«Pedir la versión firmada.»")
    expect(_row(page, "c3").locator("[data-status]")).to_have_text(
        "Detectado, pendiente de revisión")


def test_a_refused_decision_is_explained_on_the_matrix(page, submission):
    """QA 2026-12-06: htmx 2 does not swap a 4xx answer, so "C" on a commitment with no
    evidence, or an invented excerpt attached from the matrix, did nothing visible: the 422
    page with its Spanish reason was dropped."""
    page.goto(submission.url)
    status = _row(page, "c5").locator("[data-status]")
    expect(status).to_have_text("Sin evidencia, pendiente de revisión")
    page.keyboard.press("5")
    page.keyboard.press("c")
    expect(page.locator("#revision [role=alert]")).to_have_text(re.compile(
        r"^No se puede confirmar «Participación de personas extranjeras»"))
    expect(status).to_have_text("Sin evidencia, pendiente de revisión")
    expect(_row(page, "c5")).to_be_focused()  # the refusal keeps it selected

    row = _row(page, "c5")
    row.locator("[data-attach] summary").click()
    row.get_by_label("Extracto").fill("Nómina del comité: 4 de 9 integrantes son migrantes.")
    row.get_by_role("button", name="Adjuntar y marcar como cumplido").click()
    expect(page.locator("#revision [role=alert]")).to_have_text(re.compile(
        r"^El extracto no aparece en el texto de «acta\.txt»"))
    expect(status).to_have_text("Sin evidencia, pendiente de revisión")


def test_an_invented_excerpt_is_refused_in_the_document_view(page, submission):
    page.goto(submission.url)
    page.locator(".documents a.doc-link", has_text="acta.txt").click()
    page.wait_for_url(re.compile(r"/revision/d/[0-9a-f]{32}"))
    form = page.locator("form[data-attach-selection]")
    invented = "Nómina del comité: 4 de 9 integrantes son personas migrantes."
    form.get_by_label("Extracto (página 1)").fill(invented)
    form.get_by_label("Compromiso").select_option("c5")
    form.get_by_role("button", name="Adjuntar y marcar como cumplido").click()
    expect(form.get_by_role("alert")).to_have_text(re.compile(
        r"^El extracto no aparece en el texto de «acta\.txt»"))
    expect(form.get_by_label("Extracto (página 1)")).to_have_value(invented)
    page.goto(submission.url)
    expect(_row(page, "c5").locator("[data-status]")).not_to_have_text("Confirmado")


def test_the_dashboard_has_no_axe_violations(page, submission):
    page.goto("/revision")
    page.get_by_role("link", name="Panel de revisión").click()
    page.wait_for_url(re.compile(r"/revision/panel$"))
    expect(page.get_by_role("heading", name="Panel de revisión")).to_be_visible()
    expect(page.locator("[data-reviewers]")).to_contain_text(REVIEWER[0])
    assert _axe_violations(page) == []


def test_the_dashboard_tables_stay_inside_their_cards(page, submission):
    """QA 2026-12-08: at a laptop's 1280 px the dashboard's «Compromisos que más faltan» and
    «Decisiones por revisor esta semana» tables ran past the right edge of their cards: their
    headers («Postulaciones sin evidencia», «Comentarios») were kept on one line."""
    page.set_viewport_size({"width": 1280, "height": 900})
    try:
        page.goto("/revision/panel")
        expect(page.locator(".dashboard [data-missing]")).to_be_visible()
        past_the_edge = page.evaluate("""() =>
            [...document.querySelectorAll('.dashboard .card')].flatMap(card => {
                const edge = card.getBoundingClientRect().right;
                return [...card.querySelectorAll('table')]
                    .filter(t => t.getBoundingClientRect().right > edge + 0.5)
                    .map(t => card.querySelector('h2').textContent);
            })""")
        assert past_the_edge == []
    finally:
        page.set_viewport_size({"width": 1366, "height": 768})
