"""Decision integrity (issue 11, item 2): what a reviewer records must be true of the
documents; undo and comments are new entries. On SQLite and PostgreSQL, worker in-process."""

from __future__ import annotations

import csv as _csv
import io

import pytest

PAGE_1 = "Acta de reunión del comité. Se acordó revisar el calendario de turnos de bodega."
PAGE_2 = "Se aprobó el presupuesto de la sala de reuniones para el segundo semestre."


@pytest.fixture
def acta(client, reviewer, run_worker_burst, text_pdf):
    """A submission with one processed two-page PDF that supports nothing about c5."""
    r = client.post("/api/submissions",
                    json={"organization": "Fundación Puentes del Sur", "rut": "76.543.210-3"})
    sub = r.json()
    r = client.post(f"/api/submissions/{sub['id']}/documents",
                    files=[("files", ("acta.pdf", text_pdf([PAGE_1, PAGE_2]), "application/pdf"))],
                    headers={"Authorization": f"Bearer {sub['token']}"})
    run_worker_burst()
    sub["document_id"] = r.json()["documents"][0]["id"]
    sub["url"] = f"/api/submissions/{sub['id']}/decisions"
    return sub


def _refusal(response, code: str) -> str:
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert detail["code"] == code, detail
    return detail["message"]


def test_refusals_then_a_verified_excerpt_in_the_exports(client, reviewer, acta):
    url, doc = acta["url"], acta["document_id"]
    matrix = client.get(f"/api/submissions/{acta['id']}/matrix", auth=reviewer).json()
    assert not matrix["commitments"][4]["evidence"]  # c5: nothing detected

    message = _refusal(client.post(url, json={"commitment": "c5", "action": "confirm"},
                                   auth=reviewer), "confirm_needs_evidence")
    assert message.startswith("No se puede confirmar «Participación de personas extranjeras»")
    _refusal(client.post(url, json={"commitment": "c5", "action": "attach"}, auth=reviewer),
             "attach_needs_evidence")
    invented = "Nómina del comité: 4 de 9 integrantes son personas migrantes."
    message = _refusal(client.post(url, auth=reviewer, json={
        "commitment": "c5", "action": "attach", "document_id": doc, "excerpt": invented}),
        "excerpt_not_found")
    assert "«acta.pdf»" in message and "tildes" in message
    message = _refusal(client.post(url, auth=reviewer, json={
        "commitment": "c5", "action": "attach", "excerpt": invented}), "excerpt_not_found")
    assert "ningún documento" in message
    message = _refusal(client.post(url, auth=reviewer, json={
        "commitment": "c5", "action": "attach", "document_id": doc, "page": 99,
        "excerpt": "calendario de turnos"}), "page_not_in_document")
    assert message == "«acta.pdf» no tiene página 99: tiene 2 página(s)."
    message = _refusal(client.post(url, auth=reviewer, json={
        "commitment": "c5", "action": "attach", "document_id": doc, "page": 1,
        "excerpt": "presupuesto de la sala"}), "excerpt_not_on_page")
    assert "está en la página 2" in message
    assert client.get(url, auth=reviewer).json() == []  # nothing refused was recorded

    # case, accents and spaces aside; the page it is on is stored with it
    excerpt = "se acordo revisar el CALENDARIO   de turnos"
    r = client.post(url, auth=reviewer,
                    json={"commitment": "c5", "action": "attach", "excerpt": excerpt})
    assert r.status_code == 201, r.text
    assert (r.json()["document_id"], r.json()["page"]) == (doc, 1)
    # an attached excerpt in force is the evidence a confirmation needs
    assert client.post(url, json={"commitment": "c5", "action": "confirm"},
                       auth=reviewer).status_code == 201
    csv = client.get(f"/api/submissions/{acta['id']}/matrix?format=csv", auth=reviewer)
    rows = list(_csv.reader(io.StringIO(csv.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[5][:1] == ["c5"] and rows[5][5:8] == ["acta.pdf", "1", excerpt]
    assert "Nómina del comité" not in csv.text


def test_undo_and_comments_are_new_entries(client, reviewer, acta):
    url, matrix_url = acta["url"], f"/api/submissions/{acta['id']}/matrix"

    def c5():
        return client.get(matrix_url, auth=reviewer).json()["commitments"][4]

    # a comment on its own decides nothing
    r = client.post(url, auth=reviewer, json={"commitment": "c5", "action": "comment",
                                              "comment": "Falta la nómina con nacionalidades."})
    assert r.status_code == 201 and r.json()["action"] == "comment"
    assert c5()["status"] == "missing" and c5()["decision"] is None
    assert [c["comment"] for c in c5()["comments"]] == ["Falta la nómina con nacionalidades."]
    _refusal(client.post(url, auth=reviewer, json={"commitment": "c5", "action": "comment",
                                                   "comment": "  "}), "empty_comment")
    _refusal(client.post(url, auth=reviewer, json={"commitment": "c5", "action": "undo"}),
             "nothing_to_undo")

    attach = client.post(url, auth=reviewer, json={
        "commitment": "c5", "action": "attach", "excerpt": "calendario de turnos"}).json()
    reject = client.post(url, auth=reviewer, json={"commitment": "c5", "action": "reject"}).json()
    assert c5()["status"] == "rejected"
    undo = client.post(url, auth=reviewer, json={"commitment": "c5", "action": "undo"})
    assert undo.status_code == 201 and undo.json()["undoes_id"] == reject["id"]
    assert c5()["status"] == "confirmed" and c5()["decision"]["id"] == attach["id"]
    client.post(url, auth=reviewer, json={"commitment": "c5", "action": "undo"})
    assert c5()["status"] == "missing" and c5()["decision"] is None
    _refusal(client.post(url, auth=reviewer, json={"commitment": "c5", "action": "undo"}),
             "nothing_to_undo")
    history = client.get(url, auth=reviewer).json()
    assert [d["action"] for d in history] == ["comment", "attach", "reject", "undo", "undo"]
    assert history[-1]["undoes_id"] == attach["id"]


def test_the_pdf_report_names_the_verified_excerpts_document(client, reviewer, acta):
    """QA 2026-12-06: the report said "Extracto verificado (pág. 1)" without the document it
    is in, and its documents table broke its heading "Páginas" over two lines."""
    import pypdfium2

    r = client.post(acta["url"], auth=reviewer, json={
        "commitment": "c5", "action": "attach", "document_id": acta["document_id"],
        "excerpt": "calendario de turnos"})
    assert r.status_code == 201, r.text
    r = client.get(f"/revision/s/{acta['id']}/informe.pdf", auth=reviewer)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    pdf = pypdfium2.PdfDocument(r.content)
    text = "\n".join(page.get_textpage().get_text_range() for page in pdf)
    assert "Extracto verificado (acta.pdf, pág. 1): «calendario de turnos»" in text
    assert "Páginas" in text


def test_an_excerpt_of_a_document_the_applicant_replaced_no_longer_confirms(
        client, reviewer, acta, run_worker_burst, text_pdf):
    """QA sweep 3: a reviewer attached an excerpt of acta.pdf to c5 and asked for changes; the
    organisation replaced acta.pdf. The cell kept saying «Confirmado» on every surface, quoting
    a document that counts nowhere any more (the CSV with an empty "Documento")."""
    sid, url, doc = acta["id"], acta["url"], acta["document_id"]
    applicant = {"Authorization": f"Bearer {acta['token']}"}
    base = f"/api/submissions/{sid}"
    assert client.post(f"{base}/submit", headers=applicant).status_code == 200
    assert client.post(f"{base}/review", auth=reviewer,
                       json={"status": "en_revision", "message": ""}).status_code == 200
    attach = client.post(url, auth=reviewer, json={
        "commitment": "c5", "action": "attach", "document_id": doc,
        "excerpt": "calendario de turnos", "comment": "Sirve"})
    assert attach.status_code == 201, attach.text
    assert client.post(f"{base}/review", auth=reviewer, json={
        "status": "observada", "message": "Envíe el acta firmada."}).status_code == 200

    r = client.put(f"{base}/documents/{doc}", headers=applicant, files=[(
        "file", ("acta-firmada.pdf", text_pdf([PAGE_2]), "application/pdf"))])
    assert r.status_code == 202, r.text
    run_worker_burst()

    def c5(auth=None, headers=None):
        body = client.get(base, auth=auth, headers=headers).json()
        return next(c for c in body["commitments"] if c["id"] == "c5")

    for seen in (c5(headers=applicant), c5(auth=reviewer)):
        assert seen["status"] == "missing" and seen["decision"] is None, seen
    matrix = client.get(f"{base}/matrix", auth=reviewer).json()["commitments"][4]
    assert matrix["status"] == "missing" and matrix["decision"] is None
    rows = list(_csv.reader(io.StringIO(
        client.get(f"{base}/matrix?format=csv", auth=reviewer).text.lstrip("\ufeff")),
        delimiter=";"))
    assert rows[5][0] == "c5" and rows[5][2] != "Confirmado"
    assert "calendario de turnos" not in rows[5][7]
    missing = client.get("/api/dashboard", auth=reviewer).json()["missing"]
    assert "c5" in [m["commitment"] for m in missing]
    # nothing in force to take back; the history keeps the reviewer's entry
    _refusal(client.post(url, auth=reviewer, json={"commitment": "c5", "action": "undo"}),
             "nothing_to_undo")
    assert [d["action"] for d in client.get(url, auth=reviewer).json()] == ["attach"]


def test_the_history_names_a_document_since_removed(client, reviewer, acta):
    """QA sweep 3: once the organisation removed the document a reviewer had attached an
    excerpt of, the decision history (the XLSX "Historial" sheet, the reviewer's page) no
    longer said which document the excerpt was verified in: the column was empty."""
    import openpyxl

    sid, doc = acta["id"], acta["document_id"]
    r = client.post(acta["url"], auth=reviewer, json={
        "commitment": "c5", "action": "attach", "document_id": doc,
        "excerpt": "calendario de turnos"})
    assert r.status_code == 201, r.text
    r = client.delete(f"/api/submissions/{sid}/documents/{doc}",
                      headers={"Authorization": f"Bearer {acta['token']}"})
    assert r.status_code == 204, r.text

    book = openpyxl.load_workbook(io.BytesIO(client.get(
        f"/api/submissions/{sid}/matrix?format=xlsx", auth=reviewer).content))
    header, row = list(book["Historial"].iter_rows(values_only=True))
    assert row[header.index("Decisión")] == "Adjuntó evidencia"
    assert row[header.index("Documento")] == "acta.pdf (retirado de la postulación)"
    page = client.get(f"/revision/s/{sid}", auth=reviewer).text
    history = page[page.index('id="historial-titulo"'):]
    assert "acta.pdf (retirado de la postulación), pág. 1" in history


_COMMITTEE = ("Acta de constitución\n\nEn {city}, a 3 de marzo de 2025, se constituye el Comité "
              "de Interculturalidad de Fundación Puentes del Sur, encargado de promover la "
              "inclusión de los trabajadores migrantes.\nAsisten seis integrantes.\n")
_SAFETY = ("Acta del comité paritario\n\nEn Talca, a 3 de marzo de 2025, sesionó el Comité "
           "Paritario de Higiene y Seguridad para revisar los elementos de protección "
           "personal.\n")


def _txt(name: str, text: str):
    return ("files", (name, text.encode(), "text/plain"))


@pytest.fixture
def committee(client, reviewer, run_worker_burst):
    """A draft submission whose two minutes (Talca's, Arica's) each support c1."""
    sub = client.post("/api/submissions", json={
        "organization": "Fundación Puentes del Sur", "rut": "76.543.210-3"}).json()
    sub["headers"] = {"Authorization": f"Bearer {sub['token']}"}
    sub["base"] = f"/api/submissions/{sub['id']}"
    r = client.post(f"{sub['base']}/documents", headers=sub["headers"], files=[
        _txt("acta-talca.txt", _COMMITTEE.format(city="Talca")),
        _txt("acta-arica.txt", _COMMITTEE.format(city="Arica"))])
    assert r.status_code == 202, r.text
    run_worker_burst()
    sub["docs"] = [d["id"] for d in r.json()["documents"]]
    sub["url"] = f"{sub['base']}/decisions"
    c1 = client.get(f"{sub['base']}/matrix", auth=reviewer).json()["commitments"][0]
    assert c1["status"] == "detected" and len({e["document_id"] for e in c1["evidence"]}) == 2
    return sub


def _c1(client, sub, reviewer) -> dict:
    return client.get(f"{sub['base']}/matrix", auth=reviewer).json()["commitments"][0]


def _counted_confirmed(sid: str) -> tuple[int, int, bool]:
    """(confirmed, decided) as the reviewers' list counts them in SQL for the submission, and
    whether the dashboard (SQL too) lists c1 as missing there."""
    from service.db import SessionLocal
    from service.domain.dashboard import _in_force
    from service.domain.listing import ListQuery, list_submissions

    with SessionLocal() as session:
        row = next(r for r in list_submissions(session, ListQuery())[0] if r.id == sid)
        in_force = _in_force(session)
    return row.n_confirmed, row.n_decided, (sid, "c1") in in_force


def test_a_plain_confirm_no_longer_holds_once_the_applicant_replaces_what_it_endorsed(
        client, reviewer, run_worker_burst):
    """A reviewer confirmed c1 on the minutes the matrix showed, naming no document, and asked
    for changes; the organisation replaced the minutes with a file that supports nothing. The
    cell kept saying «Confirmado» everywhere (the matrix, the reviewers' list and dashboard,
    the approved submission), resting on nothing that counts."""
    sub = client.post("/api/submissions", json={
        "organization": "Fundación Puentes del Sur", "rut": "76.543.210-3"}).json()
    applicant = {"Authorization": f"Bearer {sub['token']}"}
    base = f"/api/submissions/{sub['id']}"
    r = client.post(f"{base}/documents", headers=applicant,
                    files=[_txt("acta.txt", _COMMITTEE.format(city="Talca"))])
    doc = r.json()["documents"][0]["id"]
    run_worker_burst()
    assert client.post(f"{base}/submit", headers=applicant).status_code == 200
    assert client.post(f"{base}/review", auth=reviewer,
                       json={"status": "en_revision", "message": ""}).status_code == 200
    confirm = client.post(f"{base}/decisions", auth=reviewer,
                          json={"commitment": "c1", "action": "confirm"})
    assert confirm.status_code == 201, confirm.text
    assert confirm.json()["document_id"] is None and confirm.json()["endorsed_ids"] == [doc]
    assert _counted_confirmed(sub["id"])[:2] == (1, 1)
    assert client.post(f"{base}/review", auth=reviewer, json={
        "status": "observada", "message": "Envíe el acta firmada."}).status_code == 200

    r = client.put(f"{base}/documents/{doc}", headers=applicant, files=[
        ("file", ("acta-firmada.txt", _SAFETY.encode(), "text/plain"))])
    assert r.status_code == 202, r.text
    run_worker_burst()

    def c1(**kw):
        body = client.get(base, **kw).json()
        return next(c for c in body["commitments"] if c["id"] == "c1")

    for seen in (c1(headers=applicant), c1(auth=reviewer)):
        assert seen["status"] == "missing" and seen["decision"] is None, seen
    matrix = client.get(f"{base}/matrix", auth=reviewer).json()["commitments"][0]
    assert matrix["status"] == "missing" and matrix["decision"] is None
    assert _counted_confirmed(sub["id"]) == (0, 0, False)
    missing = client.get("/api/dashboard", auth=reviewer).json()["missing"]
    assert "c1" in [m["commitment"] for m in missing]
    # nothing in force to take back; the history keeps the entry, on the retired minutes
    _refusal(client.post(f"{base}/decisions", auth=reviewer,
                         json={"commitment": "c1", "action": "undo"}), "nothing_to_undo")
    page = client.get(f"/revision/s/{sub['id']}", auth=reviewer).text
    history = page[page.index('id="historial-titulo"'):]
    assert "acta.txt (retirado de la postulación)" in history

    # sent again and approved: the approved submission does not say c1 was confirmed
    assert client.post(f"{base}/submit", headers=applicant).status_code == 200
    assert client.post(f"{base}/review", auth=reviewer,
                       json={"status": "en_revision", "message": ""}).status_code == 200
    r = client.post(f"{base}/review", auth=reviewer, json={"status": "aprobada", "message": ""})
    assert r.status_code == 200, r.text
    assert c1(headers=applicant)["status"] == "missing"
    rows = list(_csv.reader(io.StringIO(
        client.get(f"{base}/matrix?format=csv", auth=reviewer).text.lstrip("\ufeff")),
        delimiter=";"))
    assert rows[1][0] == "c1" and rows[1][2] != "Confirmado"


def test_a_plain_confirm_holds_while_one_document_it_endorsed_remains(
        client, reviewer, run_worker_burst, committee):
    """It rests on every document shown as supporting c1 when it was made: one removed, it
    holds on the other; a document uploaded after it is not one it rests on."""
    import openpyxl
    import pypdfium2

    sub, (talca, arica) = committee, committee["docs"]
    r = client.post(sub["url"], auth=reviewer, json={"commitment": "c1", "action": "confirm"})
    assert r.status_code == 201, r.text
    assert sorted(r.json()["endorsed_ids"]) == sorted([talca, arica])
    later = client.post(f"{sub['base']}/documents", headers=sub["headers"], files=[
        _txt("acta-osorno.txt", _COMMITTEE.format(city="Osorno"))])
    assert later.status_code == 202, later.text
    run_worker_burst()

    assert client.delete(f"{sub['base']}/documents/{talca}",
                         headers=sub["headers"]).status_code == 204
    assert _c1(client, sub, reviewer)["status"] == "confirmed"
    assert _counted_confirmed(sub["id"])[:2] == (1, 1)
    # the reviewer reads what it rests on, the retired one marked
    on = "acta-arica.txt, acta-talca.txt (retirado de la postulación)"
    page = client.get(f"/revision/s/{sub['id']}", auth=reviewer).text
    assert f"Sobre {on}" in page[page.index('id="historial-titulo"'):]
    pdf = pypdfium2.PdfDocument(client.get(f"/revision/s/{sub['id']}/informe.pdf",
                                           auth=reviewer).content)
    text = " ".join(" ".join(p.get_textpage().get_text_range().split()) for p in pdf)
    assert f"Confirmó (sobre {on})" in text

    assert client.delete(f"{sub['base']}/documents/{arica}",
                         headers=sub["headers"]).status_code == 204
    c1 = _c1(client, sub, reviewer)  # Osorno's minutes support it: found, not confirmed
    assert c1["status"] == "detected" and c1["decision"] is None
    assert _counted_confirmed(sub["id"]) == (0, 0, False)
    book = openpyxl.load_workbook(io.BytesIO(client.get(
        f"{sub['base']}/matrix?format=xlsx", auth=reviewer).content))
    header, row = list(book["Historial"].iter_rows(values_only=True))
    assert row[header.index("Decisión")] == "Confirmó"
    assert row[header.index("Documento")] == (
        "acta-arica.txt (retirado de la postulación), acta-talca.txt (retirado de la "
        "postulación)")


def test_an_unknown_action_is_refused_with_the_actions_explained_in_spanish(client, reviewer):
    """QA sweep: the refusal listed the API's English action names (confirm, reject…) bare; each
    value stays as the API takes it, followed by what it means in Spanish."""
    sub = client.post("/api/submissions",
                      json={"organization": "Fundación Puentes del Sur", "rut": "76.543.210-3"})
    url = f"/api/submissions/{sub.json()['id']}/decisions"
    message = _refusal(client.post(url, json={"commitment": "c1", "action": "aprobar"},
                                   auth=reviewer), "validation")
    for value, meaning in [("confirm", "confirmar"), ("reject", "rechazar"),
                           ("attach", "adjuntar evidencia"), ("undo", "deshacer"),
                           ("comment", "comentar")]:
        assert f"'{value}' ({meaning}" in message, message

    from service.domain.errors import ErrorCode
    from service.domain.messages import error_message

    message = error_message(ErrorCode.invalid_action)
    assert "confirm (confirmar)" in message and "comment (comentar)" in message, message


def test_two_files_with_the_same_name_are_told_apart_on_the_pages_and_in_the_exports(
        client, reviewer, run_worker_burst):
    """QA sweep: two different files both uploaded as «acta.txt» read the same in the matrix,
    its exports and the report's list; the second is «acta.txt (2)» everywhere."""
    sub = client.post("/api/submissions",
                      json={"organization": "Fundación Puentes del Sur", "rut": "76.543.210-3"}
                      ).json()
    auth = {"Authorization": f"Bearer {sub['token']}"}
    for text in (b"Acta uno: politica de inclusion laboral de personas migrantes.",
                 b"Acta dos: capacitacion en derechos laborales para personas migrantes."):
        client.post(f"/api/submissions/{sub['id']}/documents", headers=auth,
                    files=[("files", ("acta.txt", text, "text/plain"))])
    run_worker_burst()
    matrix = client.get(f"/api/submissions/{sub['id']}/matrix", auth=reviewer).json()
    documents = [d["id"] for d in matrix["documents"]]
    page = client.get(f"/s/{sub['id']}?t={sub['token']}").text  # the applicant's page
    assert "acta.txt (2)" in page, page
    url = f"/api/submissions/{sub['id']}/decisions"
    client.post(url, auth=reviewer, json={"commitment": "c5", "action": "attach",
                                          "document_id": documents[1],
                                          "excerpt": "capacitacion en derechos"})
    csv = client.get(f"/api/submissions/{sub['id']}/matrix?format=csv", auth=reviewer)
    assert "acta.txt (2)" in csv.content.decode("utf-8-sig"), csv.text
