"""Stored XSS (issue 12) in a real browser: a reviewer opening an applicant's HTML file, a
PDF-named HTML file or an HTML page inside a ZIP gets a download; no script of theirs runs on
this origin, so nothing is read or decided in the reviewer's name."""

from __future__ import annotations

import json
import urllib.request

import pytest
from playwright.sync_api import Error as PlaywrightError

from tests.documents import make_zip

pytestmark = pytest.mark.browser

#: Marks the page it runs in, and tries to confirm c1 as whoever opened it.
PAYLOAD = (
    b"<!DOCTYPE html><html><body><h1>Acta</h1><script>"
    b"try { top.__xss = 1 } catch (e) {} window.__xss = 1; document.title = 'XSS';"
    b"fetch(location.pathname.split('/documents/')[0] + '/decisions', {method: 'POST',"
    b" credentials: 'include', headers: {'Content-Type': 'application/json'},"
    b" body: JSON.stringify({commitment: 'c1', action: 'confirm'})});"
    b"</script></body></html>"
)


def _api(base: str, path: str, *, body: bytes | None = None, headers: dict | None = None):
    request = urllib.request.Request(base + path, data=body, headers=headers or {})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _multipart(files: dict[str, bytes]) -> tuple[bytes, str]:
    boundary = "----evidencia-prueba-7d1f"
    parts = []
    for name, data in files.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n"
        )
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), boundary


@pytest.fixture
def hostile_submission(web_server):
    sub = _api(web_server.url, "/api/submissions", headers={"Content-Type": "application/json"},
               body=json.dumps({"organization": "Comercial Sombra Ltda.", "rut": ""}).encode())
    body, boundary = _multipart({
        "acta.html": PAYLOAD,
        "informe.pdf": PAYLOAD,
        "evidencias.zip": make_zip({"pagina.html": PAYLOAD}),
    })
    docs = _api(web_server.url, f"/api/submissions/{sub['id']}/documents", body=body, headers={
        "Authorization": f"Bearer {sub['token']}",
        "Content-Type": f"multipart/form-data; boundary={boundary}",
    })["documents"]
    assert [d["status"] for d in docs] == ["queued"] * 3
    return sub["id"], docs


def _login(page, reviewer) -> None:
    page.goto("/revision/ingresar")
    page.get_by_label("Usuario").fill(reviewer.username)
    page.get_by_label("Contraseña").fill(reviewer.password)
    page.get_by_role("button", name="Ingresar").click()
    page.wait_for_url("**/revision")


def test_a_reviewer_opening_hostile_files_gets_downloads_that_run_nothing(
    browser_page, hostile_submission, reviewer
):
    page = browser_page
    submission_id, docs = hostile_submission
    _login(page, reviewer)
    for doc in docs:
        url = f"/api/submissions/{submission_id}/documents/{doc['id']}/file"
        # opened as a link: the browser downloads it and stays where it was
        with page.expect_download() as download:
            try:
                page.goto(url)
            except PlaywrightError:  # "net::ERR_ABORTED": navigation became a download
                pass
        assert download.value.suggested_filename == doc["name"].rsplit("/", 1)[-1]
        # framed in a page of this origin: still nothing runs in it
        page.goto("/revision")
        page.evaluate(
            "url => { const f = document.createElement('iframe'); f.src = url;"
            " document.body.appendChild(f); }",
            url,
        )
        page.wait_for_timeout(1000)
        assert page.evaluate("window.__xss") is None
        assert page.title() != "XSS"
    decisions = page.request.get(f"/api/submissions/{submission_id}/decisions")
    assert decisions.status == 200
    assert decisions.json() == []  # nothing was decided in the reviewer's name
