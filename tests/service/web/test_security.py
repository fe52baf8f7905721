"""The web surface against a real server (issue 12, item 5): security headers on every kind of
response, CSRF tokens and the Origin check on forms, htmx and the API, and pages that run under
their CSP without a single violation in a real browser."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

CSRF_MESSAGE = "No se pudo verificar que la solicitud venga de esta página"


def _token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html[:2000]
    return found.group(1)


def _login(client: httpx.Client, reviewer) -> str:
    """Log in through the form; the page's token for later requests."""
    token = _token(client.get("/revision/ingresar").text)
    r = client.post("/revision/ingresar", data={
        "usuario": reviewer.username, "clave": reviewer.password, "csrf_token": token})
    assert r.status_code == 303, r.text
    return token


@pytest.fixture
def http(web_server):
    with httpx.Client(base_url=web_server.url, timeout=30) as client:
        yield client


def test_every_kind_of_response_carries_the_security_headers(http, processed_submission):
    answers = {
        "page": http.get("/"),
        "api": http.get(f"/api/submissions/{processed_submission.id}",
                        headers={"Authorization": f"Bearer {processed_submission.token}"}),
        "api error": http.get("/api/submissions/nada"),
        "unknown page": http.get("/nada", headers={"Accept": "text/html"}),
        "static": http.get("/static/evidencia.js"),
        "health": http.get("/healthz"),
        "docs": http.get("/docs"),
    }
    for name, r in answers.items():
        h = r.headers
        assert h["x-content-type-options"] == "nosniff", name
        assert h["x-frame-options"] == "DENY", name
        assert h["referrer-policy"] == "same-origin", name  # applicant tokens travel in URLs
        csp = h["content-security-policy"]
        assert "frame-ancestors 'none'" in csp, name
        if name != "docs":  # Swagger UI's own page (service.api.openapi) has its own policy
            script = re.search(r"script-src ([^;]+)", csp).group(1)
            assert "'unsafe-inline'" not in script and "'unsafe-eval'" not in script, name
    assert "script-src 'self';" in answers["page"].headers["content-security-policy"]
    # no page holds an inline script or event handler
    html = answers["page"].text
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert not re.search(r"\son[a-z]+=", html)
    # a page sets the CSRF cookie: HttpOnly, SameSite=Lax
    cookie = answers["page"].headers["set-cookie"]
    assert cookie.startswith("evidencia_csrf=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_forms_need_the_token_and_this_origin(http, web_server, processed_submission, reviewer):
    # the login form without its token: refused, with the Spanish message, no session
    http.get("/revision/ingresar")
    r = http.post("/revision/ingresar", data={"usuario": reviewer.username,
                                              "clave": reviewer.password},
                  headers={"Accept": "text/html"})
    assert r.status_code == 403 and CSRF_MESSAGE in r.text
    assert "evidencia_session" not in http.cookies
    token = _login(http, reviewer)
    decision = f"/revision/s/{processed_submission.id}/decision"
    form = {"compromiso": "c4", "accion": "reject", "comentario": "prueba csrf"}
    # a same-site form without the token, a forged token, another site's Origin or Referer
    assert http.post(decision, data=form).status_code == 403
    assert http.post(decision, data={**form, "csrf_token": "x" * 43}).status_code == 403
    evil = {"Origin": "https://evil.example"}
    assert http.post(decision, data={**form, "csrf_token": token}, headers=evil).status_code == 403
    assert http.post(decision, data={**form, "csrf_token": token},
                     headers={"Origin": "null"}).status_code == 403
    assert http.post(decision, data={**form, "csrf_token": token},
                     headers={"Referer": "https://evil.example/x"}).status_code == 403
    # the page's own form (hidden field, this Origin) and an htmx request (header)
    r = http.post(decision, data={**form, "csrf_token": token},
                  headers={"Origin": web_server.url})
    assert r.status_code == 303
    r = http.post(decision, data=form, headers={"X-CSRF-Token": token, "HX-Request": "true"})
    assert r.status_code == 200 and 'id="revision"' in r.text
    # the API with the session cookie alone needs the token too; its own credentials do not
    api = f"/api/submissions/{processed_submission.id}/decisions"
    body = {"commitment": "c4", "action": "reject"}
    assert http.post(api, json=body).json()["detail"]["code"] == "csrf"
    assert http.post(api, json=body, headers={"X-CSRF-Token": token}).status_code == 201
    bearer = httpx.post(web_server.url + api, json=body, auth=(reviewer.username,
                                                               reviewer.password))
    assert bearer.status_code == 201
    # logging out is a state change as well
    assert http.post("/revision/salir").status_code == 403
    assert http.post("/revision/salir", data={"csrf_token": token}).status_code == 303


def test_pages_run_under_their_csp_without_violations(
    browser_page, processed_submission, reviewer
):
    """Applicant and reviewer pages, an htmx decision and the upload script, in Chromium: no
    CSP report in the console, so nothing of ours was blocked."""
    page = browser_page
    messages: list[str] = []
    page.on("console", lambda m: messages.append(m.text))
    page.goto(f"/s/{processed_submission.id}?t={processed_submission.token}")
    expect(page.locator("#subida")).to_be_visible()
    page.goto("/revision/ingresar")
    page.get_by_label("Usuario").fill(reviewer.username)
    page.get_by_label("Contraseña").fill(reviewer.password)
    page.get_by_role("button", name="Ingresar").click()
    page.wait_for_url("**/revision")
    page.goto(f"/revision/s/{processed_submission.id}")
    row = page.locator("tr.commit-row#c2")
    row.get_by_role("button", name="Rechazar").click()  # htmx, with the header from the meta tag
    expect(row.locator("[data-status]")).to_have_text("Rechazado")
    violations = [m for m in messages if "Content Security Policy" in m]
    assert not violations, violations
