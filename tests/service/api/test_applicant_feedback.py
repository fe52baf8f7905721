"""What the applicant's page says after a reviewer acted, on real sample documents (no browser:
the page as served)."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parents[3] / "samples" / "demo"


def _summary(html: str) -> str:
    text = re.search(r'<p class="summary"[^>]*>(.*?)</p>', html, re.S).group(1)
    return " ".join(re.sub(r"<[^>]+>", "", text).split())


def _ticks(html: str) -> int:
    return len(re.findall(r'class="check-item covered"', html))


@pytest.mark.parametrize("service_env", ["sqlite"], indirect=True)
def test_the_count_of_covered_commitments_follows_the_reviewers_decisions(
        client, reviewer, run_worker_burst):
    """QA 2026-12-06: after a reviewer rejected a detected commitment the applicant read
    "5 de 5 compromisos con evidencia" above a checklist showing it "No acreditado" (the count
    was the classifier's, the ticks the reviewer's)."""
    sub = client.post("/api/submissions", json={
        "organization": "Transportes Cordillera", "rut": "76.543.210-3"}).json()
    files = [("files", (name, (DEMO / name).read_bytes()))
             for name in ("politica-inclusion.docx", "informe-actividades-2025.pdf")]
    applicant = {"Authorization": f"Bearer {sub['token']}"}
    client.post(f"/api/submissions/{sub['id']}/documents", files=files, headers=applicant)
    run_worker_burst()
    page = client.get(f"/s/{sub['id']}", params={"t": sub["token"]}).text
    detected = _ticks(page)
    assert detected >= 2  # c3 from the policy, c4 from the report
    assert _summary(page).startswith(f"{detected} de 5 compromisos con evidencia")

    decisions = f"/api/submissions/{sub['id']}/decisions"
    r = client.post(decisions, auth=reviewer, json={"commitment": "c3", "action": "reject",
                                                    "comment": "No es una política vigente."})
    assert r.status_code == 201, r.text
    page = client.get(f"/s/{sub['id']}", params={"t": sub["token"]}).text
    assert "No acreditado por el equipo revisor" in page
    assert _ticks(page) == detected - 1
    assert _summary(page).startswith(f"{detected - 1} de 5 compromisos con evidencia")


@pytest.mark.parametrize("service_env", ["sqlite"], indirect=True)
def test_no_email_is_promised_when_none_will_be_sent(client, monkeypatch):
    """QA 2026-12-06: "Enviar a revisión" answered "Le avisaremos por correo el resultado" to a
    submission without a contact address, and on a server that sends no e-mail."""
    from service.settings import get_settings

    monkeypatch.delenv("EVIDENCIA_SMTP_HOST", raising=False)
    get_settings.cache_clear()
    for email in ("", "postulacion@cordillera.cl"):
        sub = client.post("/api/submissions", json={
            "organization": "Transportes Cordillera", "rut": "76.543.210-3",
            "email": email or None}).json()
        note = ("files", ("politica.docx", (DEMO / "politica-inclusion.docx").read_bytes()))
        client.post(f"/api/submissions/{sub['id']}/documents", files=[note],
                    headers={"Authorization": f"Bearer {sub['token']}"})
        page = client.get(f"/s/{sub['id']}", params={"t": sub["token"]}).text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        sent = client.post(f"/s/{sub['id']}/enviar", data={"csrf_token": csrf})
        assert sent.status_code == 200 and 'data-review-status="enviada"' in sent.text
        assert sent.url.params["aviso"] == "submitted_not_emailed"  # a code, never words
        assert "Le avisaremos" not in sent.text
        assert "El resultado aparecerá en esta página" in sent.text

    monkeypatch.setenv("EVIDENCIA_SMTP_HOST", "127.0.0.1")  # submitting sends nothing itself
    get_settings.cache_clear()
    page = client.get(f"/s/{sub['id']}", params={"t": sub["token"]}).text
    assert "Le avisaremos el resultado a postulacion@cordillera.cl." in page
    get_settings.cache_clear()


@pytest.mark.parametrize("service_env", ["sqlite"], indirect=True)
def test_the_history_times_carry_chiles_offset(client):
    """QA 2026-12-06: a history entry's <time datetime> was the stored UTC time without an
    offset ("2026-12-06T19:43:18.138864" beside "16:43"), which a reader takes as local."""
    from datetime import datetime

    from service.domain import clock

    sub = client.post("/api/submissions", json={
        "organization": "Transportes Cordillera", "rut": "76.543.210-3"}).json()
    note = ("files", ("politica.docx", (DEMO / "politica-inclusion.docx").read_bytes()))
    applicant = {"Authorization": f"Bearer {sub['token']}"}
    client.post(f"/api/submissions/{sub['id']}/documents", files=[note], headers=applicant)
    sent = client.post(f"/api/submissions/{sub['id']}/submit", headers=applicant).json()
    page = client.get(f"/s/{sub['id']}", params={"t": sub["token"]}).text
    stamp, shown = re.search(r'<time datetime="([^"]+)">([^<]+)</time>', page).groups()
    at = datetime.fromisoformat(stamp)
    assert at.utcoffset() is not None
    assert clock.display(at) == shown
    assert at == datetime.fromisoformat(sent["submitted_at"]).replace(microsecond=0)


def _read_policy(client, run_worker_burst) -> tuple[dict, dict]:
    """A submission whose applicant uploaded the demo's policy, read by the worker: the
    submission as created and the applicant's headers."""
    sub = client.post("/api/submissions", json={
        "organization": "Transportes Cordillera", "rut": "76.543.210-3"}).json()
    note = ("files", ("politica.docx", (DEMO / "politica-inclusion.docx").read_bytes()))
    applicant = {"Authorization": f"Bearer {sub['token']}"}
    client.post(f"/api/submissions/{sub['id']}/documents", files=[note], headers=applicant)
    run_worker_burst()
    return sub, applicant


@pytest.mark.parametrize("service_env", ["sqlite"], indirect=True)
def test_the_applicant_reads_neither_reviewer_names_nor_their_notes(
        client, reviewer, run_worker_burst):
    """QA 2026-12-06: the applicant's page and review history name no reviewer and show only
    the comment of a decision, but the matrix the applicant's token reads (JSON, CSV, XLSX)
    carried each decision's reviewer and the comments reviewers save alone as notes."""
    import io

    from openpyxl import load_workbook

    sub, applicant = _read_policy(client, run_worker_burst)
    decisions = f"/api/submissions/{sub['id']}/decisions"
    for body in ({"commitment": "c3", "action": "comment", "comment": "Nota: llamar a RR. HH."},
                 {"commitment": "c3", "action": "reject", "comment": "No está firmada."}):
        assert client.post(decisions, auth=reviewer, json=body).status_code == 201
    matrix = f"/api/submissions/{sub['id']}/matrix"
    name = reviewer[0]

    mine = client.get(matrix, headers=applicant).json()["commitments"][2]
    assert mine["decision"]["reviewer"] is None
    assert [c["comment"] for c in mine["comments"]] == ["No está firmada."]
    theirs = client.get(matrix, auth=reviewer).json()["commitments"][2]
    assert theirs["decision"]["reviewer"] == name
    assert [c["comment"] for c in theirs["comments"]] == ["Nota: llamar a RR. HH.",
                                                           "No está firmada."]

    csv_text = client.get(matrix, params={"format": "csv"}, headers=applicant).text
    assert name not in csv_text and "llamar" not in csv_text and "No está firmada." in csv_text
    assert "llamar" in client.get(matrix, params={"format": "csv"}, auth=reviewer).text
    book = load_workbook(io.BytesIO(client.get(matrix, params={"format": "xlsx"},
                                               headers=applicant).content))
    cells = {str(v) for row in book["Matriz"].iter_rows(values_only=True) for v in row}
    assert name not in cells and not any("llamar" in v for v in cells)
    assert "No está firmada." in cells


@pytest.mark.parametrize("service_env", ["sqlite"], indirect=True)
def test_a_reviewers_status_request_does_not_hand_the_applicant_the_reviewers_matrix(
        client, reviewer, run_worker_burst):
    """Found 2026-12-07: the status builds the matrix at the same version and kept it as the
    applicant's whoever asked, so after a reviewer's status request the applicant's matrix
    JSON carried the reviewers' notes and names."""
    sub, applicant = _read_policy(client, run_worker_burst)
    r = client.post(f"/api/submissions/{sub['id']}/decisions", auth=reviewer,
                    json={"commitment": "c3", "action": "comment", "comment": "Nota interna."})
    assert r.status_code == 201, r.text
    assert client.get(f"/api/submissions/{sub['id']}", auth=reviewer).status_code == 200
    mine = client.get(f"/api/submissions/{sub['id']}/matrix", headers=applicant)
    assert "Nota interna." not in mine.text and reviewer[0] not in mine.text
    theirs = client.get(f"/api/submissions/{sub['id']}/matrix", auth=reviewer).text
    assert "Nota interna." in theirs and reviewer[0] in theirs


def _alerts(html: str) -> list[str]:
    return [" ".join(a.split()) for a in re.findall(r'<div class="alert ok"[^>]*>(.*?)</div>',
                                                     html, re.S)]


def test_a_link_names_a_notice_by_its_code_and_cannot_put_words_on_a_page(client, reviewer):
    """QA 2026-12-06: any text given as ``?aviso=`` was shown on the applicant's and the
    reviewers' pages, in the site's own green notice (content spoofing)."""
    subs = [client.post("/api/submissions", json={
        "organization": "Transportes Cordillera", "rut": "76.543.210-3"}).json()
        for _ in range(2)]
    sub, other = subs
    note = ("files", ("acta.txt", "Acta de constitución del comité.".encode(), "text/plain"))
    docs = [client.post(f"/api/submissions/{s['id']}/documents", files=[note],
                        headers={"Authorization": f"Bearer {s['token']}"}).json()["documents"]
            for s in subs]
    page = client.get(f"/s/{sub['id']}", params={"t": sub["token"]}).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    removed = client.post(f"/s/{sub['id']}/documentos/{docs[0][0]['id']}/eliminar",
                          data={"csrf_token": csrf})
    assert removed.status_code == 200
    assert dict(removed.url.params) == {"aviso": "document_removed",
                                        "documento": docs[0][0]["id"]}
    assert _alerts(removed.text) == ["Se eliminó «acta.txt»: ya no cuenta en la postulación."]

    url = f"/s/{sub['id']}"
    spoofed = "Su postulación fue rechazada. Pague en http://estafa.example"
    for params in ({"aviso": spoofed}, {"aviso": "files_received", "n": spoofed},
                   {"aviso": "files_received", "n": "-3"}, {"aviso": "reviewed", "estado": "x"},
                   {"aviso": "document_removed", "documento": docs[1][0]["id"]},  # not its own
                   {"aviso": "document_removed"}, {"aviso": "NOTICES"}):
        html = client.get(url, params=params).text
        assert _alerts(html) == [] and "estafa" not in html, params
    assert _alerts(client.get(url, params={"aviso": "files_received", "n": "2",
                                           "archivos": "1"}).text) == [
        "Se recibieron 2 documentos de 1 archivo."]
    assert _alerts(client.get(url, params={"aviso": "submitted_not_emailed"}).text)

    review = f"/revision/s/{other['id']}"
    assert _alerts(client.get(review, params={"aviso": spoofed}, auth=reviewer).text) == []
    reviewed = client.get(review, params={"aviso": "reviewed", "estado": "observada"},
                          auth=reviewer)
    assert _alerts(reviewed.text) == ["Estado actualizado: Observada: se solicitan cambios."]
    assert _alerts(client.get("/revision", params={"aviso": spoofed}, auth=reviewer).text) == []
    nothing = client.get("/revision", params={"aviso": "nothing_pending"}, auth=reviewer)
    assert _alerts(nothing.text) == ["No hay postulaciones pendientes para usted."]


def _back(html: str) -> str:
    return " ".join(re.search(r'<p[^>]*data-back[^>]*>.*?</p>|<p><a [^>]*data-back.*?</p>',
                              html, re.S).group(0).split())


def test_error_pages_lead_an_applicant_back_to_their_submission(client, reviewer):
    """QA 2026-12-06: every HTML error page said "Volver al inicio", the home page's form that
    creates a new submission, to an applicant who had followed their own link."""
    html = {"Accept": "text/html"}
    sub = client.post("/api/submissions", json={
        "organization": "Transportes Cordillera", "rut": "76.543.210-3"}).json()
    sid = sub["id"]

    # the link's token (then the cookie it leaves): back to their submission
    r = client.get(f"/s/{sid}/no-existe", params={"t": sub["token"]}, headers=html)
    assert r.status_code == 404
    assert f'<a href="/s/{sid}" data-back>Volver a su postulación</a>' in _back(r.text)
    assert client.get(f"/s/{sid}", params={"t": sub["token"]}).status_code == 200
    r = client.get(f"/s/{sid}/no-existe", headers=html)  # the cookie scoped to /s/<id>
    assert "Volver a su postulación" in _back(r.text)

    # a link that does not open it: neutral, never the form that creates a new submission
    client.cookies.clear()
    r = client.get(f"/s/{sid}", params={"t": "otro-token"}, headers=html)
    assert r.status_code == 404
    back = _back(r.text)
    assert 'href="/"' not in back and "Volver al inicio" not in back
    assert 'href="/recuperar"' in back and f'href="/s/{sid}"' not in back

    # a reviewer to their panel; anyone else, elsewhere, to the home page
    r = client.get(f"/revision/s/{'0' * 32}", auth=reviewer, headers=html)
    assert r.status_code == 404
    assert '<a href="/revision" data-back>Volver al panel de revisión</a>' in _back(r.text)
    r = client.get("/no-existe", headers=html)
    assert r.status_code == 404 and '<a href="/" data-back>Volver al inicio</a>' in _back(r.text)


def test_a_5xx_error_page_does_not_ask_the_database_again(client):
    """A 5xx may be the database itself (down, or its pool exhausted): the error page does not
    wait on it a second time to check the applicant's link; it leads nowhere in particular."""
    from starlette.requests import Request

    from service.web.pages import error_page

    sub = client.post("/api/submissions", json={
        "organization": "Transportes Cordillera", "rut": "76.543.210-3"}).json()
    scope = {"type": "http", "method": "GET", "path": f"/s/{sub['id']}/documentos",
             "query_string": f"t={sub['token']}".encode(), "headers": [], "app": client.app}

    def back(status: int) -> str:
        return error_page(Request(scope), status, "internal", "x").body.decode()

    assert f'href="/s/{sub["id"]}" data-back' in back(404)  # the link checked out
    assert f'href="/s/{sub["id"]}"' not in back(503)  # not checked: neutral


def _document_errors(html: str) -> list[str]:
    return [" ".join(e.split()) for e in re.findall(r'<p class="doc-error" data-error>(.*?)</p>',
                                                    html, re.S)]


def _reviewer_page_errors(html: str) -> list[str]:
    """The reviewers' submission page: each document in error's words ("Con error")."""
    return [" ".join(unescape(e).split()) for e in re.findall(
        r'<li class="doc status-error"><div class="doc-name">.*?</div>'
        r'<p class="doc-error">(.*?)</p>', html, re.S)]


def _document_page_error(html: str) -> str:
    """The reviewers' document view of a document with no text: "Sin texto extraído: …"."""
    found = re.search(r'<p class="hint">Sin texto extraído: (.*?)</p>', html, re.S)
    return " ".join(unescape(found.group(1)).split())


def _report_text(pdf: bytes) -> str:
    import pypdfium2

    return " ".join(" ".join(page.get_textpage().get_text_range()
                             for page in pypdfium2.PdfDocument(pdf)).split())


def test_a_file_that_failed_is_not_to_be_uploaded_again_once_uploads_are_closed(
        client, reviewer, run_worker_burst):
    """Closing note of 2026-12-07: a PDF with a password kept telling its applicant "Súbalo sin
    contraseña" after the submission was sent and decided, when the page no longer takes
    uploads; then the reviewers' JSON, pages and PDF report, and the single document's JSON,
    still did (the report goes in the file). The stored words stay; every surface, for the
    applicant and for reviewers alike, words the error for the submission's state, and reads
    the stored words again once the reviewers return it with observations. A real
    password-protected PDF and a real PDF cut in half (a failed download), read by the worker,
    and a file refused at upload for its name (a path that climbs)."""
    from service.db import SessionLocal
    from service.domain.messages import CLOSED_DOCUMENT_ERRORS
    from service.domain.models import Document
    from tests.conftest import PEERS

    sub = client.post("/api/submissions", json={
        "organization": "Transportes Cordillera", "rut": "76.543.210-3"}).json()
    sid, token = sub["id"], sub["token"]
    applicant = {"Authorization": f"Bearer {token}"}
    report = (DEMO / "informe-actividades-2025.pdf").read_bytes()
    files = [("files", ("acta-cifrada.pdf",
                        (PEERS / "pdfplumber-encrypted-password-test.pdf").read_bytes())),
             ("files", ("informe-descarga-cortada.pdf", report[:len(report) // 2])),
             ("files", ("../../acta-comite.txt",
                        (DEMO / "acta-comite-paritario.txt").read_bytes()))]
    client.post(f"/api/submissions/{sid}/documents", files=files, headers=applicant)
    run_worker_burst()
    with SessionLocal() as session:
        documents = sorted(session.query(Document).filter_by(submission_id=sid).all(),
                           key=lambda d: d.error_code)
        assert [(d.status, d.error_code) for d in documents] == [
            ("error", "corrupt"), ("error", "encrypted"), ("error", "invalid_name")]
        ids = [d.id for d in documents]
        words = [d.error for d in documents]
        closed = sorted(CLOSED_DOCUMENT_ERRORS[d.error_code] for d in documents)
    assert "Vuelva a exportarlo" in words[0] and "Súbalo sin contraseña" in words[1]
    assert "súbalo de nuevo" in words[2]
    stored = sorted(words)

    def one_document(document_id: str, **who) -> str:
        r = client.get(f"/api/submissions/{sid}/documents/{document_id}", **who)
        assert r.status_code == 200, r.text
        return r.json()["error"]

    def reads() -> dict[str, list[str]]:
        """Each surface's words for the three documents, sorted."""
        seen = {}
        for role, who in (("applicant", {"headers": applicant}), ("reviewer", {"auth": reviewer})):
            status = client.get(f"/api/submissions/{sid}", **who).json()
            matrix = client.get(f"/api/submissions/{sid}/matrix", **who).json()
            seen[f"{role} status"] = [d["error"] for d in status["documents"]]
            seen[f"{role} matrix"] = [d["error"] for d in matrix["documents"]]
            seen[f"{role} document"] = [one_document(i, **who) for i in ids]
        seen["applicant page"] = _document_errors(
            client.get(f"/s/{sid}", params={"t": token}).text)
        seen["applicant fragment"] = _document_errors(
            client.get(f"/s/{sid}/estado", params={"t": token}).text)
        seen["reviewer page"] = _reviewer_page_errors(
            client.get(f"/revision/s/{sid}", auth=reviewer).text)
        seen["reviewer document page"] = [
            _document_page_error(client.get(f"/revision/d/{i}", auth=reviewer).text)
            for i in ids]
        pdf = _report_text(client.get(f"/revision/s/{sid}/informe.pdf", auth=reviewer).content)
        seen["report"] = [words for words in {*stored, *closed} if words in pdf]
        return {surface: sorted(words) for surface, words in seen.items()}

    def everywhere(words: list[str]) -> None:
        seen = reads()
        assert len(seen) == 11 and seen == dict.fromkeys(seen, words), seen

    everywhere(stored)  # a draft: upload them again, as they say
    assert client.post(f"/api/submissions/{sid}/submit", headers=applicant).status_code == 200
    everywhere(closed)  # sent: nothing can be uploaded now
    review = f"/api/submissions/{sid}/review"
    assert client.post(review, auth=reviewer, json={"status": "en_revision"}).status_code == 200
    everywhere(closed)
    r = client.post(review, auth=reviewer, json={
        "status": "observada", "message": "Envíe el acta sin contraseña."})
    assert r.status_code == 200, r.text
    everywhere(stored)  # returned with observations: they may be uploaded again
    assert client.post(f"/api/submissions/{sid}/submit", headers=applicant).status_code == 200
    for status in ("en_revision", "aprobada"):
        r = client.post(review, auth=reviewer, json={"status": status})
        assert r.status_code == 200, r.text
    everywhere(closed)
    for text in (client.get(f"/s/{sid}", params={"t": token}).text,
                 _report_text(client.get(f"/revision/s/{sid}/informe.pdf", auth=reviewer).content)):
        assert "Súbalo" not in text and "súbalo" not in text
    with SessionLocal() as session:
        assert sorted(session.get(Document, i).error for i in ids) == stored  # no row rewritten


def _item(html: str, cid: str) -> str:
    """The checklist item of one commitment, as its words."""
    found = re.search(rf'<li class="check-item[^"]*" id="compromiso-{cid}".*?</li>', html, re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", found.group(0))).split())


@pytest.mark.parametrize("service_env", ["sqlite"], indirect=True)
def test_the_checklist_follows_the_reviewers_decision_not_the_detection(
        client, reviewer, run_worker_burst):
    """QA 2026-12-07, as an applicant of the demo's policy while drafting: a commitment the
    reviewer confirmed with an excerpt they attached read "Confirmado por el equipo revisor"
    and, under it, «Qué lo cubriría: Suba un documento que…» (the classifier had found
    nothing), while one the reviewer rejected showed the passage it had found as its proof,
    with no word of what would cover it. The item now follows the checklist's tick: a
    confirmed one shows the excerpt the reviewer verified, a rejected one what would cover it."""
    sub = client.post("/api/submissions", json={
        "organization": "Transportes Cordillera", "rut": "76.543.210-3"}).json()
    applicant = {"Authorization": f"Bearer {sub['token']}"}
    policy = ("files", ("politica-inclusion.docx",
                        (DEMO / "politica-inclusion.docx").read_bytes()))
    assert client.post(f"/api/submissions/{sub['id']}/documents", files=[policy],
                       headers=applicant).status_code == 202
    run_worker_burst()
    matrix = client.get(f"/api/submissions/{sub['id']}/matrix", headers=applicant).json()
    detected = [c["id"] for c in matrix["commitments"] if c["supported"]]
    missing = [c["id"] for c in matrix["commitments"] if not c["supported"]]
    assert "c3" in detected and missing

    decisions = f"/api/submissions/{sub['id']}/decisions"
    excerpt = "En los procesos de selección se aceptan los títulos y la experiencia obtenidos"
    r = client.post(decisions, auth=reviewer, json={
        "commitment": missing[0], "action": "attach", "excerpt": excerpt})
    assert r.status_code == 201, r.text
    r = client.post(decisions, auth=reviewer, json={"commitment": "c3", "action": "reject"})
    assert r.status_code == 201, r.text

    page = client.get(f"/s/{sub['id']}", params={"t": sub["token"]}).text
    confirmed = _item(page, missing[0])
    assert "Confirmado por el equipo revisor" in confirmed
    assert "Qué lo cubriría" not in confirmed
    assert excerpt in confirmed and "politica-inclusion.docx, página 1" in confirmed
    rejected = _item(page, "c3")
    assert "No acreditado por el equipo revisor" in rejected
    assert "Qué lo cubriría" in rejected and "«" not in rejected


@pytest.mark.parametrize("service_env", ["sqlite"], indirect=True)
def test_a_refused_upload_is_said_once(client, monkeypatch):
    """QA 2026-12-07, as an applicant without JavaScript: a refused upload (too many files at
    once; also a refused removal or replacement) came back with the same red message twice,
    inside the upload form and again at the top of the status area below it."""
    from service.settings import get_settings

    monkeypatch.setenv("EVIDENCIA_MAX_FILES_PER_UPLOAD", "2")
    get_settings.cache_clear()
    sub = client.post("/api/submissions", json={
        "organization": "Transportes Cordillera", "rut": "76.543.210-3"}).json()
    page = client.get(f"/s/{sub['id']}", params={"t": sub["token"]}).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    files = [("files", (name, (DEMO / name).read_bytes()))
             for name in ("politica-inclusion.docx", "informe-actividades-2025.pdf",
                          "acta-comite-paritario.txt")]
    r = client.post(f"/s/{sub['id']}/archivos", data={"csrf_token": csrf}, files=files)
    assert r.status_code == 422
    errors = re.findall(r'<div class="alert error"[^>]*>(.*?)</div>', r.text, re.S)
    assert errors == ["Se enviaron demasiados archivos en una sola carga (máximo 2)."]
    get_settings.cache_clear()


@pytest.mark.parametrize("service_env", ["sqlite"], indirect=True)
def test_one_confirmed_commitment_is_said_in_the_singular(client, reviewer, run_worker_burst):
    """QA 2026-12-07, as an applicant after a reviewer confirmed the demo policy's commitment:
    the summary read "1 de 5 compromisos con evidencia (1 confirmados por el equipo revisor)"."""
    sub = client.post("/api/submissions", json={
        "organization": "Transportes Cordillera", "rut": "76.543.210-3"}).json()
    policy = ("files", ("politica-inclusion.docx",
                        (DEMO / "politica-inclusion.docx").read_bytes()))
    client.post(f"/api/submissions/{sub['id']}/documents", files=[policy],
                headers={"Authorization": f"Bearer {sub['token']}"})
    run_worker_burst()
    r = client.post(f"/api/submissions/{sub['id']}/decisions", auth=reviewer,
                    json={"commitment": "c3", "action": "confirm"})
    assert r.status_code == 201, r.text
    page = client.get(f"/s/{sub['id']}", params={"t": sub["token"]}).text
    assert "(1 confirmado por el equipo revisor)" in _summary(page)


@pytest.mark.parametrize("service_env", ["sqlite"], indirect=True)
def test_the_upload_notice_counts_the_documents_a_zip_became(client):
    """QA 2026-12-07, as an applicant: a ZIP of three demo documents uploaded from the page
    said "Se recibieron 1 archivo(s)", though three documents appeared below it. The notice
    says how many documents came from how many files, in the singular or plural, with the
    plain form (a redirect) and with the page's script (the status area it receives)."""
    from tests.documents import make_zip

    sub = client.post("/api/submissions", json={
        "organization": "Transportes Cordillera", "rut": "76.543.210-3"}).json()
    page = client.get(f"/s/{sub['id']}", params={"t": sub["token"]}).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    archive = make_zip({name: (DEMO / name).read_bytes() for name in (
        "politica-inclusion.docx", "informe-actividades-2025.pdf", "acta-comite-paritario.txt")})
    r = client.post(f"/s/{sub['id']}/archivos", data={"csrf_token": csrf},
                    files=[("files", ("evidencias.zip", archive))])
    assert r.status_code == 200 and r.url.params["aviso"] == "files_received"
    assert _alerts(r.text) == ["Se recibieron 3 documentos de 1 archivo."]

    note = (DEMO / "acta-comite-paritario.txt").read_bytes().replace(b"acta", b"nota")
    r = client.post(f"/s/{sub['id']}/archivos", files=[("files", ("nota.txt", note))],
                    headers={"X-Requested-With": "fetch", "X-CSRF-Token": csrf})
    assert r.status_code == 200
    assert 'data-received="Se recibió 1 documento."' in r.text

    url = f"/s/{sub['id']}"
    for params, said in (({"n": "2", "archivos": "2"}, "Se recibieron 2 documentos."),
                         ({"n": "1", "archivos": "1"}, "Se recibió 1 documento."),
                         ({"n": "4", "archivos": "3"}, "Se recibieron 4 documentos de 3 archivos."),
                         ({"n": "2"}, None), ({"n": "1", "archivos": "2"}, None)):
        assert _alerts(client.get(url, params={"aviso": "files_received", **params}).text) == (
            [said] if said else []), params


@pytest.mark.parametrize("service_env", ["sqlite"], indirect=True)
def test_the_home_page_promises_no_email_when_none_will_be_sent(client, monkeypatch):
    """QA 2026-12-08: on a server that sends no e-mail the home page still said of the contact
    address "Le avisaremos aquí el resultado de la revisión, y podrá pedir de nuevo el enlace
    secreto si lo pierde" and offered "Pida un enlace nuevo", which /recuperar then refused."""
    from service.settings import get_settings

    monkeypatch.delenv("EVIDENCIA_SMTP_HOST", raising=False)
    get_settings.cache_clear()
    home = client.get("/").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', home).group(1)
    refused = client.post("/s", data={"organizacion": "Transportes Cordillera",
                                      "rut": "76.543.210-9", "correo": "postulacion@",
                                      "csrf_token": csrf})
    assert refused.status_code == 422
    for page in (home, refused.text):
        assert "Le avisaremos" not in page and "Pida un enlace nuevo" not in page
        assert "guarde el enlace secreto" in page

    monkeypatch.setenv("EVIDENCIA_SMTP_HOST", "127.0.0.1")
    get_settings.cache_clear()
    home = client.get("/").text
    assert "Le avisaremos aquí el resultado de la revisión" in home
    assert "Pida un enlace nuevo" in home
    get_settings.cache_clear()
