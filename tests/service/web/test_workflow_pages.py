"""The review workflow in a real browser (issue 11): borrador → enviada → en_revision →
observada → resubmitted → aprobada, the applicant's page showing each message, the e-mails
received by the test SMTP server, and axe-core on the new pages. One test: the cycle."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.documents import ACTA, COMITE
from tests.service.web.conftest import REVIEWER
from tests.service.web.test_review_pages import _axe_violations
from tests.smtp import body_of

pytestmark = pytest.mark.browser

EMAIL = "ciclo@caminomigrante.cl"
CHANGES = "Falta acreditar la participación de personas extranjeras."
C5_NOTE = "Suba la nómina del comité con la nacionalidad de cada integrante."
APPROVED = "Cumple los cinco compromisos. ¡Felicitaciones!"


def _upload(page, name: str, text: str) -> None:
    page.locator("#archivos").set_input_files(
        files=[{"name": name, "mimeType": "text/plain", "buffer": text.encode()}])
    page.get_by_role("button", name="Subir archivos").click()
    expect(page.locator("[data-document]", has_text=name)).to_have_count(1)


def _status(page):
    return page.locator("[data-review-status]").first


def test_the_whole_review_cycle_reaches_the_applicant(chromium, web_server, screenshot):
    axe: dict[str, list[str]] = {}
    applicant = chromium.new_context(base_url=web_server.url, locale="es-CL")
    reviewer = chromium.new_context(base_url=web_server.url, locale="es-CL",
                                    viewport={"width": 1366, "height": 768})
    for context in (applicant, reviewer):
        context.set_default_timeout(20_000)
    try:
        # borrador: create with a contact address, upload, send
        page = applicant.new_page()
        page.goto("/")
        page.get_by_label("Nombre de la organización").fill("Fundación Camino Migrante")
        page.get_by_label("RUT de la organización").fill("11.111.111-1")
        page.get_by_label("Correo de contacto (opcional)").fill(EMAIL)
        page.get_by_role("button", name="Crear postulación").click()
        page.wait_for_url(re.compile(r"/s/[0-9a-f]{32}\?t="))
        applicant_url = page.url
        sid = re.search(r"/s/([0-9a-f]{32})", applicant_url).group(1)
        expect(_status(page)).to_have_text("Borrador")
        _upload(page, "acta-comite.txt", ACTA)
        page.get_by_role("button", name="Enviar a revisión").click()
        expect(page.get_by_role("status").first).to_contain_text("fue enviada a revisión")
        expect(_status(page)).to_have_text("Enviada a revisión")
        expect(page.locator("#subir-titulo")).to_have_count(0)  # no uploads while in review
        axe["postulante"] = _axe_violations(page)

        # en_revision: the reviewer finds it unassigned and takes the next pending one
        rpage = reviewer.new_page()
        rpage.goto("/revision/ingresar")
        rpage.get_by_label("Usuario").fill(REVIEWER[0])
        rpage.get_by_label("Contraseña").fill(REVIEWER[1])
        rpage.get_by_role("button", name="Ingresar").click()
        rpage.wait_for_url(re.compile(r"/revision$"))
        rpage.goto("/revision?filtro=sin_asignar")
        expect(rpage.locator("table.list tbody tr", has_text="Fundación Camino Migrante")
               ).to_contain_text("Enviada a revisión")
        axe["lista"] = _axe_violations(rpage)
        rpage.get_by_role("button", name="Tomar la siguiente pendiente").click()
        rpage.wait_for_url(f"**/revision/s/{sid}")
        expect(_status(rpage)).to_have_text("En revisión")
        expect(rpage.locator("#flujo")).to_contain_text(f"Asignada a {REVIEWER[0]}")

        # observada: a message without one is refused in Spanish, what was typed is kept
        rpage.get_by_label("Observada: se solicitan cambios").check()
        rpage.get_by_role("button", name="Guardar el resultado").click()
        expect(rpage.locator("#flujo [role=alert]")).to_contain_text("necesita una explicación")
        rpage.get_by_label("Mensaje general para la organización").fill(CHANGES)
        rpage.locator("#flujo summary", has_text="Mensajes por compromiso").click()
        rpage.locator("#flujo").get_by_label("Participación de personas extranjeras").fill(C5_NOTE)
        rpage.get_by_role("button", name="Guardar el resultado").click()
        expect(_status(rpage)).to_have_text("Observada: se solicitan cambios")
        expect(rpage.locator("#flujo .history")).to_contain_text(C5_NOTE)
        axe["revision"] = _axe_violations(rpage)
        screenshot(rpage, "workflow-01-revisor-observada")

        # the applicant reads it, adds a document and resubmits
        page.goto(applicant_url)
        expect(_status(page)).to_have_text("Observada: se solicitan cambios")
        expect(page.locator("[data-review-message]")).to_contain_text(CHANGES)
        expect(page.locator("[data-review-note=c5]")).to_contain_text(C5_NOTE)
        screenshot(page, "workflow-02-postulante-observada")
        _upload(page, "acta-eleccion-comite.txt", COMITE)
        page.get_by_role("button", name="Volver a enviar a revisión").click()
        expect(_status(page)).to_have_text("Enviada a revisión")
        expect(page.locator("[data-review-note=c5]")).to_contain_text(C5_NOTE)  # still shown

        (changes,) = web_server.smtp.wait_for(EMAIL)
        assert changes["Subject"] == "Compromiso Migrante: se solicitan cambios en su postulación"
        assert CHANGES in body_of(changes) and C5_NOTE in body_of(changes)

        # back to its reviewer: "mine", then next pending again, then approved
        rpage.goto("/revision?filtro=mias")
        expect(rpage.locator("table.list tbody tr", has_text="Fundación Camino Migrante")
               ).to_contain_text("Enviada a revisión")
        rpage.get_by_role("button", name="Tomar la siguiente pendiente").click()
        rpage.wait_for_url(f"**/revision/s/{sid}")
        expect(_status(rpage)).to_have_text("En revisión")
        rpage.get_by_label("Aprobada", exact=True).check()
        rpage.get_by_label("Mensaje general para la organización").fill(APPROVED)
        rpage.get_by_role("button", name="Guardar el resultado").click()
        expect(_status(rpage)).to_have_text("Aprobada")

        page.goto(applicant_url)
        expect(_status(page)).to_have_text("Aprobada")
        expect(page.locator("[data-review-message]")).to_contain_text(APPROVED)
        page.locator("summary", has_text="Historial de la revisión").click()
        expect(page.locator(".history li")).to_have_count(6)
        screenshot(page, "workflow-03-postulante-aprobada")
        axe["postulante-aprobada"] = _axe_violations(page)

        approved = web_server.smtp.wait_for(EMAIL, count=2)[1]
        assert approved["Subject"] == "Compromiso Migrante: su postulación fue aprobada"
        assert APPROVED in body_of(approved)

        page.goto("/recuperar")
        axe["recuperar"] = _axe_violations(page)
    finally:
        applicant.close()
        reviewer.close()
    assert not any(axe.values()), axe
