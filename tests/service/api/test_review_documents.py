"""Issue 11, documents: damaged files named as such, duplicates, delete and replace, forced OCR.

Real files through the HTTP API, the real Redis and both databases, the worker in-process.
"""

from __future__ import annotations

import random

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
