"""Issue 12: no string or number a client sends gives a 5xx (NUL bytes PostgreSQL refuses,
control characters, a page beyond 64 bits), and stored text can never break the XLSX export
(openpyxl refuses control characters; decisions are append-only, so a broken export would stay
broken)."""

from __future__ import annotations

import io


def test_nul_and_control_characters_are_dropped_not_a_500(client, reviewer):
    r = client.post("/api/submissions", json={"organization": "Fund\x00ación \x07Ñandú"})
    assert r.status_code == 201, r.text
    sub = r.json()
    assert sub["organization"] == "Fundación Ñandú"
    base = f"/api/submissions/{sub['id']}"
    r = client.post(f"{base}/decisions", auth=reviewer, json={
        "commitment": "c1", "action": "reject", "comment": "visto\x00 en\x07 el acta\n(p. 2)"})
    assert r.status_code == 201, r.text
    assert r.json()["comment"] == "visto en el acta\n(p. 2)"
    r = client.post(f"{base}/decisions", auth=reviewer, json={
        "commitment": "c1", "action": "attach", "excerpt": "acta", "page": 2**70})
    assert r.status_code == 422
    r = client.post("/api/session", json={"username": "ana\x00", "password": "x"})
    assert r.status_code in (401, 422)


def test_the_xlsx_export_survives_control_characters_already_stored(client, reviewer):
    from openpyxl import load_workbook

    from service.db import SessionLocal
    from service.domain.models import Decision, Organization, User

    sub = client.post("/api/submissions", json={"organization": "Fundación Ñandú"}).json()
    client.post(f"/api/submissions/{sub['id']}/decisions", auth=reviewer,
                json={"commitment": "c2", "action": "reject", "comment": "falta"})
    with SessionLocal() as session:  # rows written before the text was cleaned at the door
        session.query(Organization).update({"name": "Fundación \x07Ñandú"})
        user = session.query(User).one()
        session.add(Decision(submission_id=sub["id"], commitment="c1", action="confirm",
                             comment="ok\x07\x1b", reviewer_id=user.id))
        session.commit()
    r = client.get(f"/api/submissions/{sub['id']}/matrix?format=xlsx", auth=reviewer)
    assert r.status_code == 200
    cells = [c.value for ws in load_workbook(io.BytesIO(r.content)) for row in ws.iter_rows()
             for c in row]
    assert "ok" in cells and "Organización: Fundación Ñandú" in cells
