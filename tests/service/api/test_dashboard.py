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
