"""The review pages of issue 11 in a real browser: a matrix of ten documents that fits a laptop
and a phone, explanations in words, keys that act only on a visibly selected commitment,
attaching text selected in the document view, and axe-core on every new page.

One logged-in browser context and one ten-document submission serve the whole module (the
tests run in file order: the decisions of one are the starting point of the next).
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from tests.documents import ACTA, COMITE, FERIA, PLAN, POLITICA, TRAINING_PLAN_TEXT
from tests.service.web.conftest import REVIEWER, _wait_processed

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
#: Ten documents, some with the long unbroken names real uploads have.
TEN_DOCUMENTS = {
    "acta-constitucion-comite-de-inclusion-e-interculturalidad-2025-version-final-firmada.txt":
        ACTA,
    "plan-anual-de-capacitacion.txt": PLAN,
    "politica_de_buenas_practicas_laborales_y_no_discriminacion_por_nacionalidad_u_origen.txt":
        POLITICA,
    "informe-feria.txt": FERIA,
    "acta-eleccion-comite.txt": COMITE,
    "plan-capacitacion-puentes-del-sur.txt": TRAINING_PLAN_TEXT,
    "carta-gerencia.txt": "Carta de la gerencia general sobre el cierre del año contable.\n",
    "memoria-anual-2025-resumen-ejecutivo-para-el-directorio-y-la-asamblea-de-socios.txt":
        "Memoria anual. Los resultados financieros del año fueron positivos.\n",
    "nomina-personal.txt": "Nómina del personal de bodega y administración, turnos de marzo.\n",
    "certificado.txt": "Certificado de vigencia de la sociedad emitido por el Conservador.\n",
}


def _select_text(page, phrase: str) -> None:
    """Select ``phrase`` in the extracted text as a reviewer's mouse would (a real selection,
    across highlight marks, then the mouseup that ends a drag)."""
    found = page.evaluate(
        """(phrase) => {
            const pre = document.querySelector('pre.extracted');
            const start = pre.textContent.indexOf(phrase);
            if (start < 0) return false;
            const walker = document.createTreeWalker(pre, NodeFilter.SHOW_TEXT);
            const range = document.createRange();
            let seen = 0, node;
            while ((node = walker.nextNode())) {
                const len = node.data.length;
                if (seen <= start && start < seen + len) range.setStart(node, start - seen);
                const end = start + phrase.length;
                if (seen < end && end <= seen + len) { range.setEnd(node, end - seen); break; }
                seen += len;
            }
            const sel = window.getSelection();
            sel.removeAllRanges();
            sel.addRange(range);
            pre.dispatchEvent(new MouseEvent('mouseup', {bubbles: true}));
            return true;
        }""",
        phrase,
    )
    assert found, f"{phrase!r} not in the page text"


def _no_horizontal_scroll(page) -> dict:
    return page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth,"
        " client: document.documentElement.clientWidth})"
    )


def _axe_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(" ".join(n["target"]) for n in v["nodes"][:5])
        for v in results.response["violations"]
    ]


def _row(page, cid: str):
    return page.locator(f"tr.commit-row#{cid}")


def _decided(page) -> list[str]:
    return page.eval_on_selector_all(
        "tr.commit-row[data-decided=true]", "rows => rows.map(r => r.id)"
    )


@pytest.fixture(scope="module")
def ten_documents(web_server):
    from service.db import SessionLocal
    from service.domain.submissions import add_files, create_submission

    with SessionLocal() as session:
        submission, token = create_submission(session, "Cooperativa Ñandú Sur", "76.086.428-5")
        add_files(session, submission, [(n, t.encode()) for n, t in TEN_DOCUMENTS.items()])
        submission_id = submission.id
    _wait_processed(submission_id, web_server)
    return SimpleNamespace(id=submission_id, token=token, url=f"/revision/s/{submission_id}")


@pytest.fixture(scope="module")
def reviewer_context(chromium, web_server):
    """A laptop-sized browser context, logged in once as the session's reviewer."""
    context = chromium.new_context(base_url=web_server.url, viewport=LAPTOP, locale="es-CL")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/revision/ingresar")
    page.get_by_label("Usuario").fill(REVIEWER[0])
    page.get_by_label("Contraseña").fill(REVIEWER[1])
    page.get_by_role("button", name="Ingresar").click()
    page.wait_for_url(re.compile(r"/revision$"))
    page.close()
    yield context
    context.close()


@pytest.fixture
def page(reviewer_context):
    page = reviewer_context.new_page()
    yield page
    page.close()


def test_matrix_of_ten_documents_fits_a_laptop_and_a_phone(page, ten_documents, screenshot):
    page.goto(ten_documents.url)
    expect(page.locator("tr.commit-row")).to_have_count(5)
    expect(page.locator(".documents .doc-index li")).to_have_count(10)
    size = _no_horizontal_scroll(page)
    path = screenshot(page, "10-matriz-10-documentos-1366")
    assert size["client"] == LAPTOP["width"] and size["scroll"] <= size["client"], size
    with open(path, "rb") as f:  # the PNG's width, from its IHDR chunk
        assert int.from_bytes(f.read(24)[16:20], "big") == LAPTOP["width"]

    # explanations: rule families and confidence in words, a link to the passage, no percentage
    c1 = _row(page, "c1")
    evidence = c1.locator(".doc-evidence").first
    expect(evidence.locator("[data-why]")).to_contain_text("Por qué: nombra una instancia interna")
    expect(evidence.locator(".conf")).to_have_text(re.compile(r"^confianza (alta|media|baja)$"))
    expect(evidence.locator("a[data-passage-link]").first).to_have_attribute(
        "href", re.compile(r"\?pagina=1&compromiso=c1$"))
    assert "%" not in page.locator("table.matrix").inner_text()
    expect(_row(page, "c1").locator("[data-verdict]")).to_contain_text("Evidencia en")

    page.set_viewport_size(PHONE)
    size = _no_horizontal_scroll(page)
    screenshot(page, "11-matriz-10-documentos-telefono")
    assert size["scroll"] <= size["client"], size


def test_a_stray_key_does_nothing(page, ten_documents):
    page.goto(ten_documents.url)
    page.locator("h1").click()
    for key in ("r", "c", "z", "R", "C"):  # nothing selected
        page.keyboard.press(key)
    expect(page.locator("tr.commit-row.is-selected")).to_have_count(0)
    # the focus in a document link or a button of a row: the keys are theirs, not the matrix's
    link = _row(page, "c1").locator("a.doc-link").first
    link.focus()
    page.keyboard.press("c")
    page.keyboard.press("r")
    _row(page, "c2").get_by_role("button", name="Rechazar").focus()
    page.keyboard.press("c")
    page.reload()
    assert _decided(page) == []
    expect(page.locator("table.history")).to_have_count(0)


def test_confirm_then_reject_each_move_to_the_next_undecided(page, ten_documents):
    page.goto(ten_documents.url)
    page.keyboard.press("1")
    expect(_row(page, "c1")).to_have_class(re.compile(r"\bis-selected\b"))
    expect(_row(page, "c1").locator(".selected-mark")).to_be_visible()
    expect(_row(page, "c2").locator(".selected-mark")).to_be_hidden()
    page.keyboard.press("c")
    expect(_row(page, "c1").locator("[data-status]")).to_have_text("Confirmado")
    expect(_row(page, "c2")).to_have_class(re.compile(r"\bis-selected\b"))
    expect(_row(page, "c2")).to_be_focused()
    page.keyboard.press("r")
    expect(_row(page, "c2").locator("[data-status]")).to_have_text("Rechazado")
    expect(_row(page, "c3")).to_be_focused()
    # back on c1 (decided): the next undecided after it is c3, not c2
    page.keyboard.press("1")
    page.keyboard.press("c")
    expect(_row(page, "c3")).to_be_focused()
    assert _decided(page) == ["c1", "c2"]
    # Escape leaves the comment box and gives the keys back to the row
    page.keyboard.press("m")
    expect(page.locator("#comentario-c3")).to_be_focused()
    page.keyboard.type("c")  # typed, not a shortcut
    page.keyboard.press("Escape")
    expect(_row(page, "c3")).to_be_focused()
    assert _decided(page) == ["c1", "c2"]


def test_attach_text_selected_in_the_document_view(page, ten_documents):
    page.goto(ten_documents.url)
    page.locator(".documents a.doc-link", has_text="politica_de_buenas").click()
    page.wait_for_url(re.compile(r"/revision/d/[0-9a-f]{32}"))
    phrase = "no discriminación por nacionalidad u origen"
    _select_text(page, phrase)
    form = page.locator("form[data-attach-selection]")
    expect(form.get_by_label("Extracto (página 1)")).to_have_value(phrase)
    form.get_by_label("Compromiso").select_option("c3")
    form.get_by_role("button", name="Adjuntar y marcar como cumplido").click()
    page.wait_for_url(re.compile(rf"/revision/s/{ten_documents.id}#c3$"))
    expect(_row(page, "c3").locator("[data-status]")).to_have_text("Confirmado")
    expect(_row(page, "c3")).to_contain_text(f"Extracto: «{phrase}»")


def test_new_pages_have_no_axe_violations(page, ten_documents, screenshot):
    pages = {
        "lista": "/revision",
        "matriz": ten_documents.url,
        "postulante": f"/s/{ten_documents.id}?t={ten_documents.token}",
    }
    found = {}
    for name, url in pages.items():
        page.goto(url)
        found[name] = _axe_violations(page)
    page.goto(ten_documents.url)
    page.locator(".documents a.doc-link").first.click()
    page.wait_for_url(re.compile(r"/revision/d/"))
    found["documento"] = _axe_violations(page)
    assert not any(found.values()), found


def test_search_with_and_without_accents_and_any_rut_format(page, ten_documents):
    """The list's search box: the organisation by name or RUT as people write them, and the
    documents' text, with the passage and its page; axe-core on the results."""
    link = f'a[href="{ten_documents.url}"]'
    for query in ("ñandú sur", "NANDU SUR", "76.086.428-5", "76086428-5", "760864285"):
        page.goto("/revision")
        page.get_by_label("Buscar organización, RUT o texto").fill(query)
        page.get_by_role("button", name="Buscar").click()
        page.wait_for_url(re.compile(r"buscar="))
        expect(page.locator(link)).to_have_count(1)
    for query in ("capacitacion interculturalidad", "CAPACITACIÓN INTERCULTURALIDAD"):
        page.goto(f"/revision?buscar={query}")
        row = page.locator("tr", has=page.locator(link))
        expect(row.locator("p.excerpt mark").first).to_be_visible()
        expect(row.locator("p.excerpt a").first).to_contain_text("pág. 1")
    assert _axe_violations(page) == []
    page.goto("/revision?buscar=qzxwv")
    expect(page.locator(link)).to_have_count(0)
    expect(page.get_by_role("status")).to_contain_text("0 postulación(es)")
