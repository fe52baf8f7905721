"""Hostile uploads through the real API, in a child process whose peak memory is measured.

Before the fix a 1.1 MB ZIP of 1,000 × 1 MB members took the API to +0.9 GB before the
files-per-upload limit was checked, and 450 such members were written to the store; a reviewer
viewing the page of a 375-megapixel PNG took it to 3 GB.
"""

from __future__ import annotations

import json

from tests.bombs import Segment, png_bomb, run_measured, zip_file, zip_of_zeros

_UPLOAD = """
import json
from fastapi.testclient import TestClient
from service.app import create_app

files = {files!r}
with TestClient(create_app()) as client:
    sub = client.post(
        "/api/submissions", json={{"organization": "ONG Norte", "rut": "76.543.210-3"}}
    ).json()
    r = client.post(
        f"/api/submissions/{{sub['id']}}/documents",
        files=[("files", (name, open(path, "rb").read(), "application/octet-stream"))
               for name, path in files],
        headers={{"Authorization": "Bearer " + sub["token"]}},
    )
    print(json.dumps({{"status": r.status_code, "body": r.json()}}))
"""


def _upload(files: list[tuple[str, str]]) -> tuple[dict, float]:
    out, peak = run_measured(_UPLOAD.format(files=files))
    return json.loads(out.strip().splitlines()[-1]), peak


def _stored_blobs(service_env) -> list:
    files = service_env.data_dir / "files"
    return [p for p in files.rglob("*") if p.is_file()] if files.exists() else []


def test_zip_of_1000_members_is_refused_from_its_directory(service_env, tmp_path):
    bomb = zip_of_zeros(tmp_path / "lote.zip", 1000, 1_000_000)
    answer, peak = _upload([("lote.zip", str(bomb))])
    assert answer["status"] == 413
    assert "500" in answer["body"]["detail"]["message"]
    assert _stored_blobs(service_env) == []
    assert peak < 300, f"peak RSS {peak:.0f} MB"


def test_zip_of_450_bomb_members_stores_nothing_and_the_rest_proceeds(service_env, tmp_path):
    bomb = zip_of_zeros(tmp_path / "lote.zip", 450, 1_000_000)
    note = tmp_path / "nota.txt"
    note.write_text("Acta de la reunión del comité de inclusión.", encoding="utf-8")
    answer, peak = _upload([("lote.zip", str(bomb)), ("nota.txt", str(note))])
    assert answer["status"] == 202
    docs = answer["body"]["documents"]
    assert len(docs) == 451
    assert all(d["status"] == "error" and "bomba ZIP" in d["error"] for d in docs[:450])
    assert docs[450]["name"] == "nota.txt" and docs[450]["status"] == "queued"
    assert len(_stored_blobs(service_env)) == 1  # the note only
    assert peak < 300, f"peak RSS {peak:.0f} MB"


def test_bad_members_get_their_own_error_and_good_ones_are_stored(service_env, tmp_path):
    zeros = [Segment(b"\0" * 60_000)]
    many_small = zip_file(tmp_path / "interno.zip", [(f"n{i}.txt", zeros) for i in range(100)])
    upload = zip_file(tmp_path / "entrega.zip", [
        ("acta.txt", [Segment("Acta de constitución del comité".encode())]),
        ("ceros.bin", [Segment(b"\0" * 5_000_000)]),
        ("vacio.txt", [Segment(b"")]),
        ("interno.zip", [Segment(many_small.read_bytes())]),
        ("plan.txt", [Segment("Plan de capacitación 2025".encode())]),
    ])  # fmt: skip
    answer, _peak = _upload([("entrega.zip", str(upload))])
    assert answer["status"] == 202
    by_name = {d["name"]: d for d in answer["body"]["documents"]}
    assert by_name["entrega.zip/acta.txt"]["status"] == "queued"
    assert by_name["entrega.zip/plan.txt"]["status"] == "queued"
    assert "bomba ZIP" in by_name["entrega.zip/ceros.bin"]["error"]
    assert by_name["entrega.zip/vacio.txt"]["error"].startswith("El archivo está vacío")
    assert "bomba ZIP" in by_name["entrega.zip/interno.zip"]["error"]
    assert len(_stored_blobs(service_env)) == 2


def test_reviewer_page_of_a_375_megapixel_png_is_refused_within_memory(service_env, tmp_path):
    bomb = png_bomb(tmp_path / "plano.png")
    out, peak = run_measured(f"""
from extractors.errors import TooLargeError
from service.domain.storage import store_bytes
from service.web.page_images import page_png
sha = store_bytes(open({str(bomb)!r}, "rb").read())
try:
    page_png(sha, "image/png", 1)
    print("rendered")
except TooLargeError as exc:
    print(exc.message)
""")
    assert "375 megapíxeles" in out
    assert peak < 250, f"peak RSS {peak:.0f} MB"
