"""Issue 11, documents: damaged files named as such, duplicates, delete and replace, forced OCR.

Real files through the HTTP API, the real Redis and both databases, the worker in-process.
"""

from __future__ import annotations

import random
import re

from tests.documents import make_zip

#: Bytes that are no format at all (seeded: libmagic's answer must not vary between runs).
RANDOM_BYTES = random.Random(11).randbytes(6000)


def _create(client, organization="Fundación Ñandú", rut="76.086.428-5"):
    r = client.post("/api/submissions", json={"organization": organization, "rut": rut})
    assert r.status_code == 201, r.text
    return r.json()


def _bearer(token):
    return {"Authorization": f"Bearer {token}"}


def _upload(client, sub, files: dict[str, bytes]) -> list[dict]:
    r = client.post(
        f"/api/submissions/{sub['id']}/documents",
        files=[("files", (name, data, "application/octet-stream")) for name, data in files.items()],
        headers=_bearer(sub["token"]),
    )
    assert r.status_code == 202, r.text
    return r.json()["documents"]


def test_random_bytes_named_pdf_are_a_damaged_pdf_not_an_unsupported_type(client):
    sub = _create(client)
    docs = _upload(client, sub, {
        "informe.pdf": RANDOM_BYTES,
        "lote.zip": make_zip({"actas/acta.pdf": RANDOM_BYTES}),
        "datos.bin": RANDOM_BYTES,
    })
    assert [d["name"] for d in docs] == ["informe.pdf", "lote.zip/actas/acta.pdf", "datos.bin"]
    for doc in docs[:2]:
        assert (doc["status"], doc["error_code"]) == ("error", "corrupt")
        assert doc["error"].startswith("El archivo PDF está dañado o incompleto")
        assert "no soportado" not in doc["error"]
    # a name that claims nothing: still an unsupported type
    assert docs[2]["error_code"] == "unsupported_type"


def test_commitments_are_in_process_not_missing_while_files_are_read(
    client, run_worker_burst, training_plan_pdf
):
    sub = _create(client)
    _upload(client, sub, {"plan.pdf": training_plan_pdf})
    matrix = client.get(f"/api/submissions/{sub['id']}/matrix",
                        headers=_bearer(sub["token"])).json()
    assert [c["status"] for c in matrix["commitments"]] == ["pending"] * 5
    assert matrix["missing"] == [] and matrix["waiting"] == ["c1", "c2", "c3", "c4", "c5"]
    page = client.get(f"/s/{sub['id']}?t={sub['token']}").text
    assert page.count('data-status="pending"') == 5 and "Falta evidencia" not in page

    run_worker_burst()
    matrix = client.get(f"/api/submissions/{sub['id']}/matrix",
                        headers=_bearer(sub["token"])).json()
    statuses = {c["id"]: c["status"] for c in matrix["commitments"]}
    assert statuses["c2"] == "detected" and "pending" not in statuses.values()
    assert matrix["waiting"] == [] and "c2" not in matrix["missing"] and matrix["missing"]
    page = client.get(f"/s/{sub['id']}?t={sub['token']}").text
    assert "Falta evidencia" in page and 'data-status="pending"' not in page


def test_the_same_file_sent_again_and_in_a_zip_counts_once(
    client, reviewer, run_worker_burst, training_plan_pdf
):
    sub = _create(client)
    [first] = _upload(client, sub, {"plan.pdf": training_plan_pdf})
    again = _upload(client, sub, {"plan.pdf": training_plan_pdf,
                                  "anexos.zip": make_zip({"plan-copia.pdf": training_plan_pdf})})
    run_worker_burst()

    body = client.get(f"/api/submissions/{sub['id']}", headers=_bearer(sub["token"])).json()
    duplicates = {d["id"]: d["duplicate_of"] for d in body["documents"]}
    assert duplicates == {first["id"]: None, again[0]["id"]: first["id"],
                          again[1]["id"]: first["id"]}
    assert body["counts"]["done"] == 1 and body["complete"]

    matrix = client.get(f"/api/submissions/{sub['id']}/matrix", auth=reviewer).json()
    c2 = next(c for c in matrix["commitments"] if c["id"] == "c2")
    assert c2["status"] == "detected"
    assert [cell["document_id"] for cell in c2["documents"]] == [first["id"]]
    assert {e["document_id"] for e in c2["evidence"]} == {first["id"]}
    csv = client.get(f"/api/submissions/{sub['id']}/matrix?format=csv", auth=reviewer).text
    assert "plan.pdf" in csv and "plan-copia.pdf" not in csv
    [row] = client.get("/api/submissions", auth=reviewer).json()["items"]
    assert row["documents"] == 1

    page = client.get(f"/revision/s/{sub['id']}", auth=reviewer).text
    assert "1 documento(s) · 2 duplicado(s)" in page
    assert page.count("Duplicado de plan.pdf") == 2
    applicant = client.get(f"/s/{sub['id']}?t={sub['token']}").text
    assert applicant.count("Duplicado de plan.pdf: no se cuenta dos veces.") == 2


def test_an_upload_says_which_document_a_copy_duplicates(client, training_plan_pdf):
    """QA 2026-12-07: the upload's answer gave a copy of a document already sent status
    "queued" and nothing more, while the submission lists it as a duplicate that counts
    once: a client could not tell it apart from a new document. The answer now names the
    original (``duplicate_of``), as the submission's listing does, within one upload too."""
    sub = _create(client)
    [first] = _upload(client, sub, {"plan.pdf": training_plan_pdf})
    assert first["duplicate_of"] is None
    again = _upload(client, sub, {"nota.txt": b"Nota nueva del comit\xc3\xa9.",
                                  "plan-copia.pdf": training_plan_pdf,
                                  "anexos.zip": make_zip({"nota-copia.txt":
                                                          "Nota nueva del comité.".encode()})})
    assert [(d["name"], d["duplicate_of"]) for d in again] == [
        ("nota.txt", None), ("plan-copia.pdf", first["id"]),
        ("anexos.zip/nota-copia.txt", again[0]["id"])]
    body = client.get(f"/api/submissions/{sub['id']}", headers=_bearer(sub["token"])).json()
    assert {d["id"]: d["duplicate_of"] for d in body["documents"]} == {
        d["id"]: d["duplicate_of"] for d in [first, *again]}


def _csrf(html: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def _matrix(client, sub):
    return client.get(f"/api/submissions/{sub['id']}/matrix", headers=_bearer(sub["token"])).json()


def _status_of(matrix, cid):
    return next(c["status"] for c in matrix["commitments"] if c["id"] == cid)


def test_an_applicant_removes_and_replaces_documents(
    client, reviewer, run_worker_burst, training_plan_pdf, text_pdf
):
    from service.domain.storage import path_for

    sub = _create(client)
    plan, acta = _upload(client, sub, {"plan.pdf": training_plan_pdf,
                                       "acta.pdf": text_pdf(["Acta de la reunión de directorio."])})
    run_worker_burst()
    assert _status_of(_matrix(client, sub), "c2") == "detected"
    sha = client.get(f"/api/submissions/{sub['id']}",
                     headers=_bearer(sub["token"])).json()["documents"][0]["sha256"]

    url = f"/api/submissions/{sub['id']}/documents/{plan['id']}"
    assert client.delete(url, headers=_bearer(sub["token"])).status_code == 204
    body = client.get(f"/api/submissions/{sub['id']}", headers=_bearer(sub["token"])).json()
    assert [d["id"] for d in body["documents"]] == [acta["id"]]
    assert _status_of(_matrix(client, sub), "c2") == "missing"  # its results no longer count
    assert client.get("/api/search", params={"q": "capacitacion"}, auth=reviewer).json()[
        "total"] == 0
    assert path_for(sha).exists()  # content-addressed: the bytes stay
    r = client.post(f"/api/submissions/{sub['id']}/decisions", auth=reviewer, json={
        "commitment": "c2", "action": "attach", "document_id": plan["id"]})
    assert r.status_code == 404, r.text  # a removed document cannot back a decision
    assert client.delete(url, headers=_bearer(sub["token"])).status_code == 404
    assert client.get(url, headers=_bearer(sub["token"])).status_code == 404

    r = client.put(f"/api/submissions/{sub['id']}/documents/{acta['id']}",
                   files={"file": ("plan-2026.pdf", training_plan_pdf, "application/pdf")},
                   headers=_bearer(sub["token"]))
    assert r.status_code == 202, r.text
    [new] = r.json()["documents"]
    assert new["name"] == "plan-2026.pdf" and new["status"] == "queued"
    run_worker_burst()
    body = client.get(f"/api/submissions/{sub['id']}", headers=_bearer(sub["token"])).json()
    assert [d["id"] for d in body["documents"]] == [new["id"]]
    assert _status_of(_matrix(client, sub), "c2") == "detected"

    # the applicant's page: a form per document, with the CSRF field, no script
    page = client.get(f"/s/{sub['id']}?t={sub['token']}").text
    action = f"/s/{sub['id']}/documentos/{new['id']}/eliminar"
    assert f'action="{action}"' in page and "reemplazar" in page
    r = client.post(action, data={"csrf_token": _csrf(page)}, follow_redirects=False)
    assert r.status_code == 303  # the notice by its code and the document's id, never words
    assert r.headers["location"] == (
        f"/s/{sub['id']}?aviso=document_removed&documento={new['id']}")
    assert "Se eliminó «plan-2026.pdf»" in client.get(r.headers["location"]).text
    assert client.get(f"/api/submissions/{sub['id']}",
                      headers=_bearer(sub["token"])).json()["documents"] == []


    # once sent to review the documents stay as they are, until changes are requested
    [last] = _upload(client, sub, {"plan.pdf": training_plan_pdf})
    run_worker_burst()
    assert client.post(f"/api/submissions/{sub['id']}/submit",
                       headers=_bearer(sub["token"])).status_code == 200
    url = f"/api/submissions/{sub['id']}/documents/{last['id']}"
    for r in (client.delete(url, headers=_bearer(sub["token"])),
              client.put(url, files={"file": ("x.pdf", training_plan_pdf, "application/pdf")},
                         headers=_bearer(sub["token"]))):
        assert r.status_code == 409, r.text
        assert r.json()["detail"]["message"].startswith("Los documentos ya no se pueden")
    page = client.get(f"/s/{sub['id']}?t={sub['token']}").text
    assert "/eliminar" not in page
    r = client.post(f"/s/{sub['id']}/documentos/{last['id']}/eliminar",
                    data={"csrf_token": _csrf(page)})
    assert r.status_code == 409 and "Los documentos ya no se pueden" in r.text
    for status in ("en_revision", "observada"):
        r = client.post(f"/api/submissions/{sub['id']}/review", auth=reviewer,
                        json={"status": status, "message": "Falta la nómina.", "commitments": {}})
        assert r.status_code == 200, r.text
    assert client.delete(url, headers=_bearer(sub["token"])).status_code == 204


def test_a_refused_replacement_keeps_the_document_it_was_meant_to_replace(
        client, run_worker_burst):
    """QA 2026-12-07, as an applicant: "Reemplazar…" on the demo's training plan with the wrong
    file picked (an empty PDF, a program) removed the plan, left an error document in its place
    and said «Se reemplazó «plan-capacitacion-2025.pdf»: el archivo nuevo se está procesando»;
    c2 went from covered to missing. A replacement refused as it arrives is now refused as a
    whole (422, in Spanish, on the page and in the API) and the plan stays."""
    from tests.conftest import SAMPLES

    sub = _create(client)
    plan_bytes = (SAMPLES / "demo" / "plan-capacitacion-2025.pdf").read_bytes()
    [plan] = _upload(client, sub, {"plan-capacitacion-2025.pdf": plan_bytes})
    run_worker_burst()
    assert _status_of(_matrix(client, sub), "c2") == "detected"

    page = client.get(f"/s/{sub['id']}?t={sub['token']}").text
    r = client.post(f"/s/{sub['id']}/documentos/{plan['id']}/reemplazar",
                    data={"csrf_token": _csrf(page)},
                    files={"archivo": ("plan-corregido.pdf", b"", "application/pdf")},
                    follow_redirects=False)
    assert r.status_code == 422, r.headers.get("location")
    assert "No se reemplazó «plan-capacitacion-2025.pdf»: el archivo está vacío" in r.text
    assert "El documento anterior se mantiene" in r.text

    url = f"/api/submissions/{sub['id']}/documents/{plan['id']}"
    r = client.put(url, files={"file": ("plan.exe", b"MZ\x90\x00" + bytes(200),
                                        "application/octet-stream")},
                   headers=_bearer(sub["token"]))
    assert r.status_code == 422, r.text
    assert r.json()["detail"]["code"] == "replacement_refused"
    assert ": tipo de archivo no soportado." in r.json()["detail"]["message"]

    body = client.get(f"/api/submissions/{sub['id']}", headers=_bearer(sub["token"])).json()
    assert [(d["id"], d["status"]) for d in body["documents"]] == [(plan["id"], "done")]
    assert _status_of(_matrix(client, sub), "c2") == "detected"


def test_a_reviewer_has_a_document_read_again_with_forced_ocr(
    client, reviewer, run_worker_burst, training_plan_pdf
):
    sub = _create(client)
    pdf, note = _upload(client, sub, {
        "plan.pdf": training_plan_pdf,
        "nota.txt": b"Nota sin imagen.",
    })
    run_worker_burst()
    doc_url = f"/api/submissions/{sub['id']}/documents/{pdf['id']}"
    before = client.get(doc_url, auth=reviewer).json()
    assert not before["pages"][0]["ocr"], before

    r = client.post(f"{doc_url}/ocr", headers=_bearer(sub["token"]))
    assert r.status_code == 401  # reviewers only
    r = client.post(f"{doc_url}/ocr", auth=reviewer)
    assert r.status_code == 202 and r.json()["status"] == "queued", r.text
    r = client.post(f"{doc_url}/ocr", auth=reviewer)
    assert r.status_code == 409 and "aún se está leyendo" in r.json()["detail"]["message"]
    r = client.post(f"/api/submissions/{sub['id']}/documents/{note['id']}/ocr", auth=reviewer)
    assert r.status_code == 409 and "PDF" in r.json()["detail"]["message"]

    run_worker_burst()  # through the queue, like any job
    after = client.get(doc_url, auth=reviewer).json()
    assert after["status"] == "done" and after["extractor_version"].endswith("+ocr")
    assert after["ocr_pages"] == 1 and after["pages"][0]["ocr"]
    assert "capacitaci" in after["pages"][0]["text"].lower()
    assert {e["commitment"] for e in after["evidence"]} >= {"c2"}
    assert after["classifier_version"] == before["classifier_version"]

    # the document view: the original file and the button, a form with the CSRF field
    page = client.get(f"/revision/d/{pdf['id']}", auth=reviewer).text
    assert f'href="{doc_url}/file"' in page and "Descargar el archivo original" in page
    r = client.post(f"/revision/d/{pdf['id']}/ocr", data={"csrf_token": _csrf(page)},
                    auth=reviewer, follow_redirects=False)
    assert r.status_code == 303
    assert client.get(doc_url, auth=reviewer).json()["status"] == "queued"
