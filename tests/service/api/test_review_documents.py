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
