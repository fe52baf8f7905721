"""Applicants in a real browser: create a submission, upload, watch it fill in, bad files."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.documents import make_zip

pytestmark = pytest.mark.browser

DEMO = Path(__file__).resolve().parents[3] / "samples" / "demo"
GOOD = ["informe-actividades-2025.pdf", "plan-capacitacion-2025.pdf", "acta-comite-paritario.txt"]
#: a PDF header followed by garbage: detected as PDF from its bytes, unreadable by the extractor
CORRUPT_PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nbasura" + b"\x00\xff" * 200
PENDING = ".doc.status-queued, .doc.status-processing"
_MIME = {".pdf": "application/pdf", ".txt": "text/plain",
         ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


def _payload(name: str) -> dict:
    """A sample as a Playwright file payload (paths and buffers cannot be mixed)."""
    path = DEMO / name
    return {"name": name, "mimeType": _MIME[path.suffix], "buffer": path.read_bytes()}


def _drop_files(page, selector: str, payloads: list[dict]) -> None:
    """Drop files on an element the way a browser does (a DataTransfer with File objects)."""
    files = [
        {"name": f["name"], "type": f["mimeType"], "b64": base64.b64encode(f["buffer"]).decode()}
        for f in payloads
    ]
    page.evaluate(
        """([selector, files]) => {
            const dt = new DataTransfer();
            for (const f of files) {
                const bytes = Uint8Array.from(atob(f.b64), c => c.charCodeAt(0));
                dt.items.add(new File([bytes], f.name, {type: f.type}));
            }
            const zone = document.querySelector(selector);
            zone.dispatchEvent(new DragEvent("dragover", {bubbles: true, dataTransfer: dt}));
            zone.dispatchEvent(new DragEvent("drop", {bubbles: true, cancelable: true,
                                                      dataTransfer: dt}));
        }""",
        [selector, files],
    )


def _create_submission(page, organization: str, rut: str) -> str:
    page.goto("/")
    page.get_by_label("Nombre de la organización").fill(organization)
    page.get_by_label("RUT de la organización").fill(rut)
    page.get_by_role("button", name="Crear postulación").click()
    page.wait_for_url(re.compile(r"/s/[0-9a-f]{32}\?t="))
    return page.url.split("/s/")[1].split("?")[0]


def test_applicant_flow_from_upload_to_filled_checklist(browser_page, screenshot):
    page = browser_page
    # a wrong check digit is refused with a Spanish message next to the field
    page.goto("/")
    page.get_by_label("Nombre de la organización").fill("Transportes Cordillera Limitada")
    page.get_by_label("RUT de la organización").fill("76.543.210-9")
    page.get_by_role("button", name="Crear postulación").click()
    expect(page.locator("#rut-error")).to_contain_text("dígito verificador")
    expect(page.get_by_label("RUT de la organización")).to_have_attribute("aria-invalid", "true")
    screenshot(page, "01-inicio-rut-invalido")

    page.get_by_label("RUT de la organización").fill("76.543.210-3")
    page.get_by_role("button", name="Crear postulación").click()
    page.wait_for_url(re.compile(r"/s/[0-9a-f]{32}\?t="))
    expect(page.get_by_role("heading", level=1)).to_have_text("Transportes Cordillera Limitada")
    expect(page.locator(".check-item.missing")).to_have_count(5)
    page.evaluate("window.__sinRecargar = true")  # gone if the page reloads

    # drag and drop four files: they upload at once, with the progress bar
    _drop_files(
        page,
        "[data-dropzone]",
        [_payload(n) for n in GOOD]
        + [{"name": "presupuesto-roto.pdf", "mimeType": "application/pdf",
            "buffer": CORRUPT_PDF}],
    )
    expect(page.locator("#archivos-elegidos")).to_have_text(
        "Se recibieron 4 documentos. Puede agregar más cuando quiera.")
    expect(page.locator("[data-document]")).to_have_count(4)
    assert page.evaluate("document.querySelector('#progreso').value") == 100

    # live stages, without reloading, until every document is done or failed
    expect(page.locator(PENDING)).to_have_count(0, timeout=120_000)
    assert page.evaluate("window.__sinRecargar") is True

    bad = page.locator("[data-document]", has_text="presupuesto-roto.pdf")
    expect(bad.locator("[data-stage]")).to_have_text("Error")
    expect(bad.locator("[data-error]")).not_to_be_empty()
    for name in GOOD:
        doc = page.locator("[data-document]", has_text=name)
        expect(doc.locator("[data-stage]")).to_have_text("Listo")

    # the checklist filled in: covered commitments quote the passage, document and page;
    # missing ones tell what would cover them
    covered = page.locator(".check-item.covered")
    assert covered.count() >= 2, page.locator("#estado").inner_text()
    for i in range(covered.count()):
        item = covered.nth(i)
        expect(item.locator(".excerpt p")).not_to_be_empty()
        expect(item.locator(".excerpt footer")).to_contain_text(re.compile(r"página \d+"))
    missing = page.locator(".check-item.missing")
    for i in range(missing.count()):
        expect(missing.nth(i).locator(".missing-hint")).to_contain_text("Suba")
    expect(page.locator(".summary")).to_contain_text(f"{covered.count()} de 5")
    screenshot(page, "02-postulante-checklist")

    # the same page on a phone
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "03-postulante-telefono")


def test_bad_files_rejected_with_reason_while_others_go_on_without_javascript(
    chromium, web_server, wait_processed, screenshot
):
    """The plain form (no JavaScript) uploads too, ZIPs included; bad files fail alone."""
    context = chromium.new_context(base_url=web_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        submission_id = _create_submission(page, "Fundación Puentes Abiertos", "65.432.109-4")
        page.set_input_files(
            "#archivos",
            [
                {"name": "vacio.pdf", "mimeType": "application/pdf", "buffer": b""},
                {"name": "programa.exe", "mimeType": "application/octet-stream",
                 "buffer": b"MZ\x90\x00" + bytes(range(256)) * 8},
                {"name": "evidencias.zip", "mimeType": "application/zip", "buffer": make_zip({
                    "2025/plan-capacitacion-2025.pdf":
                        (DEMO / "plan-capacitacion-2025.pdf").read_bytes(),
                    "2025/acta-comite-paritario.txt":
                        (DEMO / "acta-comite-paritario.txt").read_bytes(),
                })},
            ],
        )
        page.get_by_role("button", name="Subir archivos").click()
        page.wait_for_url(re.compile(rf"/s/{submission_id}\?aviso="))
        expect(page.locator(".alert.ok")).to_contain_text(
            "Se recibieron 4 documentos de 3 archivos.")
        expect(page.locator("[data-document]")).to_have_count(4)  # the ZIP gives two
        wait_processed(submission_id)
        page.reload()

        empty = page.locator("[data-document]", has_text="vacio.pdf")
        expect(empty.locator("[data-error]")).to_contain_text("vacío")
        exe = page.locator("[data-document]", has_text="programa.exe")
        expect(exe.locator("[data-error]")).to_contain_text("no soportado")
        plan = page.locator("[data-document]", has_text="evidencias.zip/2025/plan-capacitacion")
        expect(plan.locator("[data-stage]")).to_have_text("Listo")
        expect(page.locator("#compromiso-c2")).to_have_class(re.compile("covered"))
        screenshot(page, "04-postulante-archivos-rechazados")
    finally:
        context.close()


def test_a_refused_upload_says_why(browser_page):
    """QA 2026-12-06: an upload the server refused for a reason of its own (the page expired:
    CSRF; the link no longer valid; busy) said only "No se pudo subir (error 403)", dropping
    the Spanish reason the answer carried."""
    page = browser_page
    _create_submission(page, "Fundación Página Vieja", "76.543.210-3")
    page.evaluate("document.querySelector('meta[name=csrf-token]').content = 'caducado'")
    page.set_input_files("#archivos", [_payload("acta-comite-paritario.txt")])
    page.get_by_role("button", name="Subir archivos").click()
    expect(page.locator("[data-upload-error]")).to_contain_text(
        "Vuelva a cargar la página e intente de nuevo.")
    expect(page.locator("[data-upload-error]")).not_to_contain_text("error 403")


def test_a_file_over_the_size_limit_does_not_stop_the_others(browser_page):
    """QA 2026-12-07: eight files chosen, one of them over the per-file limit: the page refused
    the whole choice ("Los archivos elegidos suman 4 MB y el máximo por envío es 2 MB: súbalos
    en varias partes"), naming no file, though no split sends the big one. It is left out and
    named with its size and the limit; the others are uploaded."""
    page = browser_page
    _create_submission(page, "Fundación Archivo Pesado", "76.543.210-3")
    page.evaluate("document.querySelector('#subida').dataset.maxFileBytes = '50000'")
    big = {"name": "escaneo-enorme.pdf", "mimeType": "application/pdf",
           "buffer": b"%PDF-1.4\n" + bytes(60_000)}
    page.set_input_files("#archivos", [big, _payload("acta-comite-paritario.txt")])
    page.get_by_role("button", name="Subir archivos").click()
    error = page.locator("[data-upload-error]")
    expect(error).to_contain_text("No se subió «escaneo-enorme.pdf» (59 KB)")
    expect(error).to_contain_text("el máximo por archivo es 48 KB")
    expect(page.locator("#archivos-elegidos")).to_have_text(
        "Se recibió 1 documento. Puede agregar más cuando quiera.")
    expect(page.locator("[data-document]", has_text="acta-comite-paritario.txt")).to_have_count(1)
    expect(page.locator("[data-document]", has_text="escaneo-enorme.pdf")).to_have_count(0)


def test_a_notice_is_said_once_not_again_on_reload(browser_page, wait_processed):
    """QA 2026-12-07: after a step the address kept its notice (?aviso=…): the applicant
    reloading the page after "Volver a enviar a revisión", once the verdict came, read "Su
    postulación fue enviada a revisión" above "Estado de la revisión: Aprobada". Here with
    "Eliminar" (a submission sent to review would be claimed by other tests' reviewers)."""
    page = browser_page
    submission_id = _create_submission(page, "Fundación Aviso Único", "76.543.210-3")
    page.set_input_files("#archivos", [_payload("acta-comite-paritario.txt")])
    page.get_by_role("button", name="Subir archivos").click()
    expect(page.locator("#archivos-elegidos")).to_contain_text("Se recibió 1 documento.")
    wait_processed(submission_id)
    page.reload()
    page.locator("[data-document]", has_text="acta-comite-paritario.txt").get_by_role(
        "button", name="Eliminar").click()
    removed = page.get_by_role("status").filter(has_text="Se eliminó")
    expect(removed).to_have_count(1)
    page.wait_for_function("!location.search.includes('aviso')")
    page.reload()
    expect(page.locator("[data-review-status]").first).to_have_text("Borrador")
    expect(removed).to_have_count(0)


def test_secret_link_is_required(browser_page, processed_submission):
    page = browser_page
    page.goto(f"/s/{processed_submission.id}?t=token-equivocado")
    expect(page.get_by_role("heading", level=1)).to_have_text("Enlace no válido")
    page.goto(f"/s/{processed_submission.id}?t={processed_submission.token}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Logística Andina SpA")
