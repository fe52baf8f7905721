"""Issue 12: ``Idempotency-Key`` on uploads and submission creation. A retried request gets
the first answer again and creates nothing twice; the same key with another request is a
Spanish 409; documents committed without their jobs are queued by the retry."""

from __future__ import annotations

import uuid

NOTE = "Acta del comité de inclusión. Se aprobó el plan de capacitación del personal.".encode()
ORG = {"organization": "Fundación Ñandú", "rut": "76.086.428-5"}


def _count(model) -> int:
    from sqlalchemy import func, select

    from service.db import SessionLocal

    with SessionLocal() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_a_submission_created_twice_with_one_key_is_one(client):
    from service.domain.models import Submission

    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = client.post("/api/submissions", json=ORG, headers=key)
    again = client.post("/api/submissions", json=ORG, headers=key)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()  # the same token: the client may have lost the first
    assert again.headers["idempotent-replayed"] == "true"
    assert _count(Submission) == 1
    sub = again.json()
    status = client.get(f"/api/submissions/{sub['id']}",
                        headers={"Authorization": f"Bearer {sub['token']}"})
    assert status.status_code == 200

    other = client.post("/api/submissions", json={**ORG, "organization": "Otra"}, headers=key)
    assert other.status_code == 409
    assert other.json()["detail"]["code"] == "idempotency_conflict"
    assert "ya se usó con otra solicitud" in other.json()["detail"]["message"]
    bad = client.post("/api/submissions", json=ORG, headers={"Idempotency-Key": "a b/c"})
    assert bad.status_code == 422 and "Idempotency-Key no es válida" in bad.text
    assert _count(Submission) == 1
    # without a key, as before: each request creates one
    assert client.post("/api/submissions", json=ORG).json()["id"] != sub["id"]


def test_an_upload_retried_with_its_key_creates_nothing_twice_and_is_queued(
    client, service_env
):
    from service.domain import dispatch
    from service.domain.models import Document

    sub = client.post("/api/submissions", json=ORG).json()
    url = f"/api/submissions/{sub['id']}/documents"
    auth = {"Authorization": f"Bearer {sub['token']}", "Idempotency-Key": "subida-1"}
    files = [("files", ("acta.txt", NOTE, "text/plain")), ("files", ("vacio.pdf", b"", "x/y"))]

    class RedisDown:  # the API stops (or Redis fails) between the commit and the enqueue
        def __getattr__(self, name):
            return getattr(real, name)

        def enqueue_document(self, *args, **kwargs):
            raise ConnectionError("Redis went away")

    real = dispatch.get_dispatcher()
    dispatch.install(RedisDown())
    try:
        first = client.post(url, files=files, headers=auth)
    finally:
        dispatch.install(real)
    assert first.status_code == 202
    queued = first.json()["documents"][0]
    assert queued["status"] == "queued" and not real.is_live(queued["id"])

    again = client.post(url, files=files, headers=auth)  # the client's retry
    assert again.status_code == 202 and again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert _count(Document) == 2
    assert real.is_live(queued["id"])  # queued by the retry, no sweep needed

    changed = client.post(url, files=files[:1], headers=auth)
    assert changed.status_code == 409 and _count(Document) == 2
