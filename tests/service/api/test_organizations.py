"""One organisation per RUT with its names kept (issue 11, item 4): a second submission under a
known RUT shows the registered name, its own name is kept as an alias, never overwriting, and
its applicant sees nothing of the first submission."""

from __future__ import annotations

RUT = "76.543.210-3"
REGISTERED = "Fundación Puentes del Sur"


def _create(client, organization):
    r = client.post("/api/submissions", json={"organization": organization, "rut": RUT})
    assert r.status_code == 201, r.text
    return r.json()


def test_a_known_rut_keeps_its_registered_name_and_records_the_new_one(client, reviewer):
    from sqlalchemy import select

    from service.db import SessionLocal
    from service.domain.models import Organization, OrganizationName

    first = _create(client, REGISTERED)
    assert first["notice"] is None
    client.post(f"/api/submissions/{first['id']}/documents",
                files=[("files", ("acta-privada.txt", b"Acta del comite.", "text/plain"))],
                headers={"Authorization": f"Bearer {first['token']}"})

    second = _create(client, "ONG Puentes")
    assert second["organization"] == REGISTERED
    assert second["notice"].startswith(f"Esta organización está registrada como «{REGISTERED}».")
    assert "«ONG Puentes»" in second["notice"]
    same = _create(client, "FUNDACION  puentes del sur")  # case, accents, spaces: the same
    assert same["notice"] is None and same["organization"] == REGISTERED

    with SessionLocal() as session:
        assert len(session.scalars(select(Organization)).all()) == 1
        names = session.scalars(select(OrganizationName).order_by(OrganizationName.id)).all()
        assert [(n.name, n.kind, n.submission_id, n.source) for n in names] == [
            (REGISTERED, "registered", first["id"], "upload"),
            ("ONG Puentes", "alias", second["id"], "upload"),
        ]
        assert all(n.created_at for n in names)

    # the second applicant sees the registered name, never the first submission's data
    token = {"Authorization": f"Bearer {second['token']}"}
    status = client.get(f"/api/submissions/{second['id']}", headers=token).json()
    assert status["organization"] == REGISTERED and status["documents"] == []
    assert client.get(f"/api/submissions/{first['id']}", headers=token).status_code == 403
    page = client.get(f"/s/{second['id']}?t={second['token']}")
    assert second["notice"] in page.text.replace("&#34;", '"')
    assert "acta-privada" not in page.text and first["id"] not in page.text
    assert "acta-privada" not in client.get(f"/s/{same['id']}?t={same['token']}").text
    # reviewers see every name the organisation was submitted under
    matrix_page = client.get(f"/revision/s/{first['id']}", auth=reviewer)
    assert "también presentada como «ONG Puentes»" in matrix_page.text
