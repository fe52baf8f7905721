"""Issue 11, search: organisation, RUT in any format and the documents' text, with or without
accents and capitals, paginated; on SQLite (FTS5) and PostgreSQL (unaccent + Spanish), through
real uploads read by the real worker."""

from __future__ import annotations

import pytest


def _create(client, organization, rut=None):
    r = client.post("/api/submissions", json={"organization": organization, "rut": rut})
    assert r.status_code == 201, r.text
    return r.json()


def _upload(client, sub, name, data):
    r = client.post(f"/api/submissions/{sub['id']}/documents",
                    files=[("files", (name, data, "application/pdf"))],
                    headers={"Authorization": f"Bearer {sub['token']}"})
    assert r.status_code == 202, r.text


@pytest.fixture
def found(client, reviewer, run_worker_burst, text_pdf):
    """``found(q, **params) -> body`` of ``GET /api/search`` over three organisations."""
    nandu = _create(client, "Fundación Ñandú", "76.086.428-5")
    _upload(client, nandu, "plan.pdf", text_pdf([
        "Plan anual de la fundación.",
        "Capacitación en convivencia intercultural para el equipo de Ñuñoa.",
    ]))
    other = _create(client, "Panadería El Trigal", "77.214.538-1")
    _upload(client, other, "acta.pdf", text_pdf(["Acta del comité paritario de higiene."]))
    run_worker_burst()

    def search(q, **params):
        r = client.get("/api/search", params={"q": q, **params}, auth=reviewer)
        assert r.status_code == 200, r.text
        return r.json()

    search.ids = {"nandu": nandu["id"], "other": other["id"]}
    return search


def test_search_ignores_accents_and_capitals_pages_and_refuses_nonsense(client, reviewer, found):
    nandu = found.ids["nandu"]
    for q in ("ñandú", "Ñandú", "NANDU", "fundacion nandu"):
        body = found(q)
        assert [h["submission_id"] for h in body["items"]] == [nandu], q
        assert body["total"] == 1 and body["items"][0]["organization_matched"], q
    for q in ("76.086.428-5", "76086428-5", "760864285", "76.086.428"):
        body = found(q)
        assert [h["submission_id"] for h in body["items"]] == [nandu], q

    for q in ("ñuñoa", "NUNOA", "capacitacion intercultural"):
        body = found(q)
        assert [h["submission_id"] for h in body["items"]] == [nandu], q
        hit = body["items"][0]
        assert not hit["organization_matched"]
        [excerpt] = hit["excerpts"]
        assert excerpt["page"] == 2 and excerpt["document"] == "plan.pdf"
        assert "Ñuñoa" in excerpt["snippet"], excerpt
    assert found("higiene")["items"][0]["submission_id"] == found.ids["other"]
    assert found("ñuñoa higiene")["total"] == 0  # every word must be there

    # paginated, with the total
    ids = [_create(client, f"Cooperativa Añañuca {n}")["id"] for n in range(3)]
    first, second = found("anañuca", limit=2), found("ANANUCA", limit=2, offset=2)
    assert first["total"] == second["total"] == 3
    assert len(first["items"]) == 2 and len(second["items"]) == 1
    assert {h["submission_id"] for h in first["items"] + second["items"]} == set(ids)

    assert found("ñandú\x00")["total"] == 1  # a NUL byte is dropped, never a 500
    for params in ({"q": "x", "offset": 10**12}, {"q": "x" * 201}, {"q": "x", "limit": 0}):
        r = client.get("/api/search", params=params, auth=reviewer)
        assert r.status_code == 422, (params, r.text)
        assert r.json()["detail"]["message"]
    assert client.get("/api/search", params={"q": "x"}).status_code == 401

    # the reviewers' list filters with the same search
    r = client.get("/api/submissions", params={"q": "76086428-5"}, auth=reviewer)
    assert [i["id"] for i in r.json()["items"]] == [found.ids["nandu"]]
    page = client.get("/revision", params={"buscar": "nunoa"}, auth=reviewer).text
    assert "Fundación Ñandú" in page and "Panadería" not in page
    assert "<mark>Ñuñoa</mark>" in page and "pág. 2" in page
