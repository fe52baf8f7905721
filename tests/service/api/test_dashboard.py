"""The reviewers' dashboard (issue 11, item 10) on SQLite and PostgreSQL, worker in-process."""

from __future__ import annotations

NOTE = "Acta de reunión. Se acordó revisar el calendario de turnos de bodega.".encode()


def test_dashboard_counts_statuses_backlog_missing_and_the_week(client, reviewer,
                                                               run_worker_burst):
    def create(name, rut):
        return client.post("/api/submissions", json={"organization": name, "rut": rut}).json()

    create("Sin Documentos Ltda.", "77.214.538-1")
    sub = create("Fundación Puentes del Sur", "76.543.210-3")
    client.post(f"/api/submissions/{sub['id']}/documents",
                files=[("files", ("acta.txt", NOTE, "text/plain"))],
                headers={"Authorization": f"Bearer {sub['token']}"})
    assert client.get("/api/dashboard").status_code == 401
    board = client.get("/api/dashboard", auth=reviewer).json()
    assert {s["status"]: s["count"] for s in board["statuses"]} == {
        "borrador": 2, "enviada": 0, "en_revision": 0, "observada": 0, "aprobada": 0,
        "no_aprobada": 0}
    assert board["assessed"] == 0 and board["backlog"]["waiting"] == 0

    run_worker_burst()
    assert client.post(f"/api/submissions/{sub['id']}/submit",
                       headers={"Authorization": f"Bearer {sub['token']}"}).status_code == 200
    url = f"/api/submissions/{sub['id']}/decisions"
    for body in ({"commitment": "c1", "action": "reject"},
                 {"commitment": "c2", "action": "reject"},
                 {"commitment": "c2", "action": "undo"},
                 {"commitment": "c3", "action": "comment", "comment": "Pedir el reglamento."}):
        assert client.post(url, json=body, auth=reviewer).status_code == 201
    board = client.get("/api/dashboard", auth=reviewer).json()
    statuses = {s["status"]: s["count"] for s in board["statuses"]}
    assert (statuses["borrador"], statuses["enviada"]) == (1, 1)
    assert board["backlog"]["waiting"] == 1
    assert board["backlog"]["oldest_seconds"] >= 0
    assert board["backlog"]["oldest_seconds"] == board["backlog"]["median_seconds"]
    assert board["assessed"] == 1
    missing = {m["commitment"]: m["count"] for m in board["missing"]}
    assert missing["c1"] == 1 and missing["c5"] == 1  # rejected; never detected
    assert board["reviewers"] == [
        {"reviewer": "ana.revisora", "decisions": 2, "undone": 1, "comments": 1}]
    assert board["week_start"].endswith("T00:00:00-03:00")

    page = client.get("/revision/panel", auth=reviewer)
    assert page.status_code == 200 and "Panel de revisión" in page.text
    assert "ana.revisora" in page.text and "Esperan a un revisor" in page.text
    assert 'href="/revision/panel"' in client.get("/revision", auth=reviewer).text


def test_a_removed_document_counts_on_the_dashboard_as_on_the_matrix(client, reviewer,
                                                                    run_worker_burst):
    """QA 2026-12-08: after the applicant removed the only document supporting c3, the matrix
    said c3 had no evidence while the dashboard still counted it covered; and a document
    removed while still queued kept its submission out of "Compromisos que más faltan" for
    good (the dashboard counted it as still being read)."""
    from pathlib import Path

    policy = Path(__file__).resolve().parents[3] / "samples" / "demo" / "politica-inclusion.docx"
    sub = client.post("/api/submissions", json={
        "organization": "Fundación Puentes del Sur", "rut": "76.543.210-3"}).json()
    applicant = {"Authorization": f"Bearer {sub['token']}"}
    docs = client.post(f"/api/submissions/{sub['id']}/documents", headers=applicant, files=[
        ("files", ("politica.docx", policy.read_bytes())),
        ("files", ("acta.txt", NOTE, "text/plain"))]).json()["documents"]
    run_worker_burst()

    def missing():
        board = client.get("/api/dashboard", auth=reviewer).json()
        return board["assessed"], {m["commitment"]: m["count"] for m in board["missing"]}

    def matrix_missing():
        status = client.get(f"/api/submissions/{sub['id']}", auth=reviewer).json()
        return {c["id"] for c in status["commitments"] if c["status"] == "missing"}

    assessed, counts = missing()
    assert assessed == 1 and "c3" not in counts and "c3" not in matrix_missing()

    policy_id = next(d["id"] for d in docs if d["name"] == "politica.docx")
    assert client.delete(f"/api/submissions/{sub['id']}/documents/{policy_id}",
                         headers=applicant).status_code == 204
    assert "c3" in matrix_missing()
    assessed, counts = missing()
    assert assessed == 1 and counts.get("c3") == 1

    late = client.post(f"/api/submissions/{sub['id']}/documents", headers=applicant, files=[
        ("files", ("otra-acta.txt", NOTE + b" Segunda copia.", "text/plain"))]).json()
    assert client.delete(f"/api/submissions/{sub['id']}/documents/{late['documents'][0]['id']}",
                         headers=applicant).status_code == 204  # removed while still queued
    assert missing() == (1, counts)
