"""The HTTP API contract (issue 4) against the real Redis and databases, worker in-process."""

from __future__ import annotations

import io
import re

NOTE = "Acta de reunión del comité. Se acordó revisar el calendario de turnos.".encode()


def _create(client, organization="Fundación Puentes del Sur", rut="76.543.210-3"):
    r = client.post("/api/submissions", json={"organization": organization, "rut": rut})
    assert r.status_code == 201, r.text
    return r.json()


def _bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_create_submission_validates_the_rut(client):
    r = client.post("/api/submissions", json={"organization": "ONG X", "rut": "76.543.210-4"})
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert detail["code"] == "invalid_rut"
    assert "RUT" in detail["message"]

    body = _create(client)
    assert body["rut"] == "76543210-3"
    assert len(body["token"]) >= 32
    assert body["applicant_url"].endswith(f"/s/{body['id']}?t={body['token']}")

    r = client.post("/api/submissions", json={"rut": "76.543.210-3"})
    assert r.status_code == 422
    assert r.json()["detail"]["code"] == "validation"


def test_upload_status_worker_matrix_and_downloads(
    client, run_worker_burst, training_plan_pdf
):
    sub = _create(client)
    files = [
        ("files", ("plan.pdf", training_plan_pdf, "application/pdf")),
        ("files", ("nota.txt", NOTE, "text/plain")),
        ("files", ("vacío.pdf", b"", "application/pdf")),
    ]
    r = client.post(f"/api/submissions/{sub['id']}/documents", files=files,
                    headers=_bearer(sub["token"]))
    assert r.status_code == 202, r.text
    docs = r.json()["documents"]
    assert [d["status"] for d in docs] == ["queued", "queued", "error"]
    assert docs[2]["error"].startswith("El archivo está vacío")

    status = client.get(f"/api/submissions/{sub['id']}", headers=_bearer(sub["token"])).json()
    assert status["organization"] == "Fundación Puentes del Sur"
    assert [d["status"] for d in status["documents"]] == ["queued", "queued", "error"]
    assert {"id", "name", "status", "stage", "error"} <= set(status["documents"][0])
    assert not status["complete"]

    run_worker_burst()

    status = client.get(f"/api/submissions/{sub['id']}", headers=_bearer(sub["token"])).json()
    assert [d["status"] for d in status["documents"]] == ["done", "done", "error"]
    assert status["complete"]
    matrix = client.get(f"/api/submissions/{sub['id']}/matrix",
                        headers=_bearer(sub["token"])).json()
    assert [c["id"] for c in matrix["commitments"]] == ["c1", "c2", "c3", "c4", "c5"]
    c2 = matrix["commitments"][1]
    assert c2["supported"] and c2["decision"] is None
    assert 0.0 <= c2["confidence"] <= 1.0
    ev = c2["evidence"][0]
    assert ev["document"] == "plan.pdf" and ev["page"] == 1 and ev["text"]
    assert ev["document_id"] == docs[0]["id"]
    assert "c2" not in matrix["missing"]

    detail = client.get(f"/api/submissions/{sub['id']}/documents/{docs[0]['id']}?words=true",
                        headers=_bearer(sub["token"])).json()
    assert "PLAN ANUAL DE CAPACITACIÓN" in detail["text"]
    assert detail["pages"][0]["number"] == 1
    assert any(e["commitment"] == "c2" and e["supported"] for e in detail["evidence"])

    csv = client.get(f"/api/submissions/{sub['id']}/matrix?format=csv",
                     headers=_bearer(sub["token"]))
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Compromiso;")
    assert len(lines) == 6

    xlsx = client.get(f"/api/submissions/{sub['id']}/matrix?format=xlsx",
                      headers=_bearer(sub["token"]))
    assert xlsx.status_code == 200
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(xlsx.content))["Matriz"]
    assert [sheet.cell(row=r, column=1).value for r in range(3, 8)] == [
        "c1", "c2", "c3", "c4", "c5"
    ]


def test_an_applicant_token_cannot_read_another_submission(client, reviewer):
    a, b = _create(client), _create(client, "Otra Organización", "77.214.538-1")
    for path in ("", "/matrix"):
        assert client.get(f"/api/submissions/{b['id']}{path}",
                          headers=_bearer(a["token"])).status_code == 403
        assert client.get(f"/api/submissions/{b['id']}{path}").status_code == 401
        assert client.get(f"/api/submissions/{b['id']}{path}",
                          headers=_bearer(b["token"])).status_code == 200
        assert client.get(f"/api/submissions/{b['id']}{path}", auth=reviewer).status_code == 200
    r = client.post(f"/api/submissions/{b['id']}/documents",
                    files=[("files", ("n.txt", NOTE, "text/plain"))], headers=_bearer(a["token"]))
    assert r.status_code == 403
    assert r.json()["detail"] == {
        "code": "forbidden", "message": "No tiene permiso para ver esta postulación."
    }
    assert client.get("/api/submissions", headers=_bearer(a["token"])).status_code == 401
    listing = client.get("/api/submissions", auth=reviewer).json()
    assert listing["total"] == 2
    assert client.get("/api/submissions/nada", auth=reviewer).status_code == 404


def test_reviewer_decisions_keep_their_history(client, reviewer):
    from service.db import SessionLocal
    from service.domain.access import create_user

    with SessionLocal() as session:
        create_user(session, "luis", "otra-clave-2")
    sub = _create(client)
    url = f"/api/submissions/{sub['id']}/decisions"
    # an applicant cannot decide
    assert client.post(url, json={"commitment": "c1", "action": "confirm"},
                       headers=_bearer(sub["token"])).status_code == 401
    r = client.post(url, json={"commitment": "c1", "action": "reject", "comment": "Sin acta."},
                    auth=reviewer)
    assert r.status_code == 201, r.text
    login = client.post("/api/session", json={"username": "luis", "password": "otra-clave-2"})
    assert login.status_code == 200
    r = client.post(url, json={"commitment": "c1", "action": "reject", "comment": "Es paritario."},
                    headers=_bearer(login.json()["token"]))
    assert r.status_code == 201
    bad = client.post(url, json={"commitment": "c9", "action": "reject"}, auth=reviewer)
    assert bad.status_code == 422

    history = client.get(url, auth=reviewer).json()
    assert [(d["commitment"], d["action"], d["reviewer"]) for d in history] == [
        ("c1", "reject", "ana.revisora"),
        ("c1", "reject", "luis"),
    ]
    assert all(d["created_at"] for d in history)
    matrix = client.get(f"/api/submissions/{sub['id']}/matrix", auth=reviewer).json()
    c1 = matrix["commitments"][0]
    assert c1["decision"]["reviewer"] == "luis" and c1["status"] == "rejected"
    assert [c["comment"] for c in c1["comments"]] == ["Sin acta.", "Es paritario."]
    assert "c1" in matrix["missing"]


def test_session_cookie_is_shared_with_the_pages(client, reviewer):
    from service.domain.access import SESSION_COOKIE

    assert client.get("/api/submissions").status_code == 401
    r = client.post("/api/session", json={"username": reviewer[0], "password": "mala"})
    assert r.status_code == 401 and r.json()["detail"]["code"] == "bad_credentials"
    r = client.post("/api/session", json={"username": reviewer[0], "password": reviewer[1]})
    assert r.status_code == 200 and SESSION_COOKIE in r.cookies
    assert client.get("/api/submissions").status_code == 200  # the cookie alone
    assert client.get("/api/session").json()["username"] == reviewer[0]


def test_upload_limits_and_types(client, monkeypatch, service_env):
    from service.settings import get_settings

    monkeypatch.setenv("EVIDENCIA_MAX_FILES_PER_UPLOAD", "2")
    monkeypatch.setenv("EVIDENCIA_MAX_FILE_BYTES", "1000")
    get_settings.cache_clear()
    sub = _create(client)
    url = f"/api/submissions/{sub['id']}/documents"
    many = [("files", (f"n{i}.txt", NOTE, "text/plain")) for i in range(3)]
    r = client.post(url, files=many, headers=_bearer(sub["token"]))
    assert r.status_code == 413
    assert r.json()["detail"]["code"] == "too_many_files"

    files = [
        ("files", ("grande.txt", b"a" * 1001, "text/plain")),
        ("files", ("disfrazado.pdf", b"\x89PNG\r\n\x1a\n" + bytes(64), "application/pdf")),
    ]
    r = client.post(url, files=files, headers=_bearer(sub["token"]))
    assert r.status_code == 202
    docs = r.json()["documents"]
    # bytes libmagic cannot name, under a PDF name: a damaged PDF (issue 11)
    assert [d["error_code"] for d in docs] == ["too_large", "corrupt"]
    assert all(d["status"] == "error" and d["error"] for d in docs)

    r = client.post(url, headers=_bearer(sub["token"]))
    assert r.status_code == 422 and r.json()["detail"]["code"] == "no_files"


def test_a_zip_without_documents_says_so_instead_of_nothing(client):
    """QA 2026-12-08: a ZIP holding only what a Mac adds (``__MACOSX/``, ``.DS_Store``), or
    an empty one, answered «Se recibieron 0 documentos de 1 archivo.» and left nothing on the
    page: the applicant could believe the folder was sent. It becomes a document in error
    that says what was in it and what to do, as an empty file does."""
    from tests.documents import make_zip

    sub = _create(client)
    url = f"/api/submissions/{sub['id']}/documents"
    junk = make_zip({"__MACOSX/._acta.pdf": b"\x00\x05\x16\x07",
                     ".DS_Store": b"\x00\x00\x00\x01Bud1"})
    empty = make_zip({})
    r = client.post(url, headers=_bearer(sub["token"]), files=[
        ("files", ("evidencias.zip", junk, "application/zip")),
        ("files", ("vacio.zip", empty, "application/zip")),
        ("files", ("acta.txt", NOTE, "text/plain"))])
    assert r.status_code == 202
    docs = {d["name"]: d for d in r.json()["documents"]}
    assert set(docs) == {"evidencias.zip", "vacio.zip", "acta.txt"}
    for name in ("evidencias.zip", "vacio.zip"):
        assert docs[name]["status"] == "error" and docs[name]["error_code"] == "empty_archive"
        assert "no contiene ningún documento" in docs[name]["error"]
        assert "archivos ocultos o del sistema" in docs[name]["error"]

    page = client.get(f"/s/{sub['id']}", params={"t": sub["token"]}).text
    assert "3 documento(s), 1 en proceso, 2 con error" in " ".join(page.split())


def test_a_size_limit_is_said_as_it_is(client, monkeypatch, service_env):
    """QA 2026-12-07: with EVIDENCIA_MAX_FILE_BYTES=2000000 (1.9 MiB) a file over it was refused
    with "supera el tamaño máximo permitido (1 MB)" and the upload page offered "1 MB por envío",
    though a 1.5 MB file went in: MB were rounded down to the unit."""
    from service.settings import get_settings

    monkeypatch.setenv("EVIDENCIA_MAX_FILE_BYTES", "2000000")
    get_settings.cache_clear()
    sub = _create(client)
    r = client.post(f"/api/submissions/{sub['id']}/documents", headers=_bearer(sub["token"]),
                    files=[("files", ("escaneo.txt", b"a" * 2_000_001, "text/plain")),
                           ("files", ("nota.txt", NOTE, "text/plain"))])
    assert r.status_code == 202, r.text
    big, note = r.json()["documents"]
    assert big["error_code"] == "too_large"
    assert big["error"] == "El archivo supera el tamaño máximo permitido (1,9 MB)."
    assert note["status"] == "queued"  # the rest of the upload goes on
    # a ZIP's member over it says the same limit (it said "(1 MB)" too)
    from tests.documents import make_zip

    zipped = make_zip({"acta.txt": b"acta " * 400_001})
    r = client.post(f"/api/submissions/{sub['id']}/documents", headers=_bearer(sub["token"]),
                    files=[("files", ("actas.zip", zipped, "application/zip"))])
    assert r.status_code == 202, r.text
    (member,) = r.json()["documents"]
    assert member["name"] == "actas.zip/acta.txt" and member["error_code"] == "too_large"
    assert member["error"] == "Un archivo dentro del ZIP supera el tamaño máximo (1,9 MB)."
    page = client.get(f"/s/{sub['id']}", params={"t": sub["token"]}).text
    assert "1,9 MB por envío" in page and 'data-max-file-bytes="2000000"' in page


def test_health_readiness_metrics_and_openapi(client, run_worker_burst, training_plan_pdf,
                                              monkeypatch, reviewer):
    from service.settings import get_settings

    monkeypatch.setenv("EVIDENCIA_METRICS_TOKEN", "token-de-prometheus-1234")
    get_settings.cache_clear()
    prometheus = {"Authorization": "Bearer token-de-prometheus-1234"}
    assert client.get("/healthz").json()["status"] == "ok"
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "redis": "ok", "schema": "ok"}

    sub = _create(client)
    client.post(f"/api/submissions/{sub['id']}/documents", headers=_bearer(sub["token"]),
                files=[("files", ("plan.pdf", training_plan_pdf, "application/pdf")),
                       ("files", ("x.bin", b"\x00\x01\x02" * 50, "application/pdf"))])
    # not public: the token, or a reviewer
    for headers in ({}, {"Authorization": "Bearer otro"}, _bearer(sub["token"])):
        r = client.get("/metrics", headers=headers)
        assert r.status_code == 401 and r.json()["detail"]["code"] == "metrics_token"
    assert "EVIDENCIA_METRICS_TOKEN" in r.json()["detail"]["message"]
    assert client.get("/metrics", auth=reviewer).status_code == 200
    text = client.get("/metrics", headers=prometheus).text
    assert 'evidencia_queue_depth{queue="interactive"} 1.0' in text
    run_worker_burst()
    text = client.get("/metrics", headers=prometheus).text
    assert "evidencia_documents_processed_total 1.0" in text
    assert 'evidencia_document_failures_total{code="unsupported_type"} 1.0' in text
    assert 'evidencia_stage_duration_seconds_count{stage="extract"} 1.0' in text

    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in (
        "/api/submissions",
        "/api/submissions/{submission_id}/documents",
        "/api/submissions/{submission_id}",
        "/api/submissions/{submission_id}/matrix",
        "/api/submissions/{submission_id}/documents/{document_id}",
        "/api/submissions/{submission_id}/decisions",
    ):
        assert path in paths
    assert "MatrixPublic" in spec["components"]["schemas"]
    assert paths["/api/submissions"]["post"]["responses"]["201"]


def test_unknown_route_and_bad_json_answer_in_spanish(client):
    r = client.get("/api/nada")
    assert r.status_code == 404
    assert r.json()["detail"]["code"] == "not_found"
    r = client.post("/api/submissions", content=b"{no json", headers={
        "content-type": "application/json"})
    assert r.status_code == 422
    assert r.json()["detail"]["message"] == (
        "Los datos enviados no son válidos: el cuerpo no es un JSON válido.")
    # QA 2026-12-06: each field's problem came in pydantic's English ("String should have at
    # least 1 character"), and the message did not say which field
    r = client.post("/api/submissions", json={"organization": "", "rut": "76.543.210-3",
                                              "email": 123})
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert detail["message"] == ("Los datos enviados no son válidos: «organization»: debe tener "
                                 "al menos 1 carácter(es).")
    assert [(e["loc"], e["type"], e["msg"]) for e in detail["errors"]] == [
        (["body", "organization"], "string_too_short", "debe tener al menos 1 carácter(es)."),
        (["body", "email"], "string_type", "debe ser un texto.")]
    sub = client.post("/api/submissions", json={"organization": "Fundación Acoge",
                                                "rut": "76.543.210-3"}).json()
    r = client.get(f"/api/submissions/{sub['id']}/matrix", params={"format": "pdf"},
                   headers={"Authorization": f"Bearer {sub['token']}"})
    assert r.json()["detail"]["errors"][0]["msg"] == (
        "debe ser uno de estos valores: 'json', 'csv' o 'xlsx'.")


def test_uploads_survive_redis_being_down(client, monkeypatch, service_env, run_worker_burst,
                                          training_plan_pdf):
    """The database is the truth: with Redis unreachable the upload is kept as queued, and
    `requeue` hands it to the workers once Redis is back."""
    from service.domain.dispatch import requeue_lost as requeue
    from service.settings import get_settings

    sub = _create(client)
    monkeypatch.setenv("EVIDENCIA_REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens there
    get_settings.cache_clear()
    r = client.post(f"/api/submissions/{sub['id']}/documents", headers=_bearer(sub["token"]),
                    files=[("files", ("plan.pdf", training_plan_pdf, "application/pdf"))])
    assert r.status_code == 202
    assert r.json()["documents"][0]["status"] == "queued"
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["checks"]["redis"].startswith("error")

    monkeypatch.setenv("EVIDENCIA_REDIS_URL", service_env.redis_url)
    get_settings.cache_clear()
    assert len(requeue()) == 1
    run_worker_burst()
    status = client.get(f"/api/submissions/{sub['id']}", headers=_bearer(sub["token"])).json()
    assert status["documents"][0]["status"] == "done"


def test_a_new_decision_resolves_the_review_flag(client, reviewer):
    from service.db import SessionLocal
    from service.domain.models import ReviewFlag

    sub = _create(client)
    with SessionLocal() as session:
        session.add(ReviewFlag(submission_id=sub["id"], commitment="c3", old_version="v1",
                               new_version="v2", old_supported=True, new_supported=False))
        session.commit()
    url = f"/api/submissions/{sub['id']}/matrix"
    flags = client.get(url, auth=reviewer).json()["commitments"][2]["flags"]
    assert [(f["old_version"], f["new_version"]) for f in flags] == [("v1", "v2")]
    client.post(f"/api/submissions/{sub['id']}/decisions", auth=reviewer,
                json={"commitment": "c3", "action": "reject", "comment": "Ya no aplica."})
    assert client.get(url, auth=reviewer).json()["commitments"][2]["flags"] == []


def test_the_app_serves_the_web_pages_too(client):
    home = client.get("/")
    assert home.status_code == 200 and home.headers["content-type"].startswith("text/html")
    assert client.get("/static/htmx.min.js").status_code == 200


def test_readyz_fails_until_the_database_is_migrated(client, monkeypatch, tmp_path):
    from service.settings import get_settings

    monkeypatch.setenv("EVIDENCIA_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    get_settings.cache_clear()
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert "evidencia db upgrade" in ready.json()["checks"]["schema"]


def test_the_matrix_is_rebuilt_when_a_decision_or_a_result_lands(
    client, reviewer, run_worker_burst
):
    """The matrix is served from a per-process cache keyed by the submission's version stamp,
    read with the access check: an unchanged matrix answers 304, any change rebuilds it."""
    sub = _create(client)
    url = f"/api/submissions/{sub['id']}/matrix"
    client.post(f"/api/submissions/{sub['id']}/documents",
                files=[("files", ("nota.txt", NOTE, "text/plain"))], headers=_bearer(sub["token"]))
    first = client.get(url, auth=reviewer)
    etag = first.headers["etag"]
    assert first.json()["pending"] == 1
    assert client.get(url, auth=reviewer, headers={"If-None-Match": etag}).status_code == 304

    run_worker_burst()  # the document is done and classified
    done = client.get(url, auth=reviewer, headers={"If-None-Match": etag})
    assert done.status_code == 200 and done.json()["complete"]
    assert done.json()["classifier_versions"]
    client.post(f"/api/submissions/{sub['id']}/decisions",
                json={"commitment": "c3", "action": "reject"}, auth=reviewer)
    decided = client.get(url, auth=reviewer, headers={"If-None-Match": done.headers["etag"]})
    assert decided.status_code == 200
    assert decided.json()["commitments"][2]["status"] == "rejected"
    shown = decided.json()  # what the applicant reads: the same, but not who decided
    for c in shown["commitments"]:
        for d in filter(None, [c["decision"], *c["comments"]]):
            d["reviewer"] = None
    assert shown == client.get(url, headers=_bearer(sub["token"])).json()


def test_xls_roster_upload_is_read_and_its_rows_are_evidence(client, run_worker_burst, tmp_path):
    """An attendance list or roster kept in Excel 97-2003 (saved here by LibreOffice Calc) is
    read like its XLSX: done, each row a line with its number, the committee row the evidence."""
    from tests.extractors.format_makers import roster_xls

    sub = _create(client)
    roster = roster_xls(tmp_path / "nomina-comite.xls").read_bytes()
    r = client.post(f"/api/submissions/{sub['id']}/documents",
                    files=[("files", ("Nómina comité.xls", roster, "application/vnd.ms-excel"))],
                    headers=_bearer(sub["token"]))  # fmt: skip
    assert r.status_code == 202, r.text
    [doc] = r.json()["documents"]
    assert doc["status"] == "queued"

    run_worker_burst()

    status = client.get(f"/api/submissions/{sub['id']}", headers=_bearer(sub["token"])).json()
    assert [(d["name"], d["status"]) for d in status["documents"]] == [
        ("Nómina comité.xls", "done")
    ], status["documents"]
    detail = client.get(f"/api/submissions/{sub['id']}/documents/{doc['id']}",
                        headers=_bearer(sub["token"])).json()
    assert detail["pages"][0]["text"].startswith("Hoja «Nómina»")
    assert "Fila 4 | María Fernanda López | Presidenta | Venezolana | 15-03-2024" in detail["text"]
    assert "Colombiana" not in detail["text"]  # the hidden sheet
    matrix = client.get(f"/api/submissions/{sub['id']}/matrix",
                        headers=_bearer(sub["token"])).json()
    c5 = next(c for c in matrix["commitments"] if c["id"] == "c5")
    assert c5["supported"] and c5["evidence"][0]["document"] == "Nómina comité.xls"


def test_the_pages_name_an_icon_that_exists(client):
    """QA 2026-12-06: no page named an icon, so every browser asked for /favicon.ico: a 404 in
    its console and in the access log on each visit."""
    for url in ("/", "/revision/ingresar", "/recuperar"):
        href = re.search(r'<link rel="icon" href="([^"]+)"', client.get(url).text).group(1)
        icon = client.get(href)
        assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg")


def test_matrix_csv_writes_confidence_with_a_decimal_comma(client, run_worker_burst):
    """The matrix CSV is made for Excel in a Spanish locale (``;``, BOM), where "0.853" reads
    as 853 (the dot groups thousands): the confidence is written "0,853", as that Excel and
    LibreOffice read a fraction. Seen on the demo's training plan, exported by a reviewer."""
    from tests.conftest import SAMPLES

    sub = _create(client)
    plan = (SAMPLES / "demo" / "plan-capacitacion-2025.pdf").read_bytes()
    r = client.post(f"/api/submissions/{sub['id']}/documents",
                    files=[("files", ("plan-capacitacion-2025.pdf", plan, "application/pdf"))],
                    headers=_bearer(sub["token"]))
    assert r.status_code == 202, r.text
    run_worker_burst()

    matrix = client.get(f"/api/submissions/{sub['id']}/matrix",
                        headers=_bearer(sub["token"])).json()
    csv = client.get(f"/api/submissions/{sub['id']}/matrix?format=csv",
                     headers=_bearer(sub["token"]))
    header, *rows = [line.split(";") for line in csv.content.decode("utf-8-sig").splitlines()]
    column = header.index("Confianza")
    for row, commitment in zip(rows, matrix["commitments"], strict=True):
        written = row[column]
        assert "." not in written and "," in written, written
        assert float(written.replace(",", ".")) == round(commitment["confidence"], 3)


def test_downloads_are_named_after_the_organisation(client, reviewer, run_worker_burst):
    """QA 2026-12-07, as a reviewer exporting several submissions: every download was named by
    the submission's id alone ("matriz-63fbe89c.csv", "informe-63fbe89c.pdf"), so a folder of
    exports could not be told apart without opening each. The organisation comes first, in
    ASCII."""
    from tests.conftest import SAMPLES

    sub = _create(client, organization="Fundación Ñandú (Sede Quilicura)")
    report = (SAMPLES / "demo" / "informe-actividades-2025.pdf").read_bytes()
    client.post(f"/api/submissions/{sub['id']}/documents",
                files=[("files", ("informe-actividades-2025.pdf", report, "application/pdf"))],
                headers=_bearer(sub["token"]))
    run_worker_burst()
    stem = f"fundacion-nandu-sede-quilicura-{sub['id'][:8]}"
    for fmt in ("csv", "xlsx"):
        r = client.get(f"/api/submissions/{sub['id']}/matrix?format={fmt}",
                       headers=_bearer(sub["token"]))
        assert r.headers["content-disposition"] == f'attachment; filename="matriz-{stem}.{fmt}"'
    r = client.get(f"/revision/s/{sub['id']}/informe.pdf", auth=reviewer)
    assert r.status_code == 200
    assert r.headers["content-disposition"] == f'attachment; filename="informe-{stem}.pdf"'


def test_status_and_matrix_answer_alike_with_or_without_dependency_resolution(
        client, reviewer, monkeypatch):
    """Status and matrix without a query string are answered by calling the routes' checks
    directly (``service.api.submissions._Route``); with one, by FastAPI's resolution of the
    same dependencies. Every answer, error or not, is the same either way, and the first way
    resolves nothing."""
    import base64

    import fastapi.routing

    a, b = _create(client), _create(client, "Otra Organización", "77.214.538-1")
    session = client.post("/api/session",
                          json={"username": reviewer[0], "password": reviewer[1]}).json()
    etag = client.get(f"/api/submissions/{a['id']}", headers=_bearer(a["token"])).headers["etag"]
    malformed = "Basic " + base64.b64encode(b"sin-separador").decode()
    cases = [
        (a["id"], _bearer(a["token"])),
        (a["id"], {**_bearer(a["token"]), "If-None-Match": etag}),
        (a["id"], {"X-Submission-Token": a["token"]}),
        (a["id"], _bearer(b["token"])),
        (a["id"], {}),
        (a["id"], _bearer(session["token"])),
        (a["id"], {"Authorization": "Basic " + base64.b64encode(
            f"{reviewer[0]}:{reviewer[1]}".encode()).decode()}),
        (a["id"], {"Authorization": malformed}),
        (a["id"], {"Authorization": "Token " + a["token"]}),
        ("no-existe", _bearer(a["token"])),
        ("no%00existe", _bearer(a["token"])),
    ]
    resolved = fastapi.routing.solve_dependencies
    resolutions = []

    async def counted(*args, **kwargs):
        resolutions.append(1)
        return await resolved(*args, **kwargs)

    monkeypatch.setattr(fastapi.routing, "solve_dependencies", counted)
    for submission_id, headers in cases:
        for path, query in (("", "?x=1"), ("/matrix", "?format=json")):
            url = f"/api/submissions/{submission_id}{path}"
            direct = client.get(url, headers=headers)
            assert not resolutions, (url, headers)
            through = client.get(url + query, headers=headers)
            assert resolutions, (url, headers)
            resolutions.clear()
            assert (direct.status_code, direct.content, dict(direct.headers)) == (
                through.status_code, through.content, dict(through.headers)), (url, headers)


def test_the_xlsx_shows_the_rut_as_the_pages_do(client):
    """QA sweep: the XLSX's heading showed «RUT: 76543210-3» where the pages show
    «76.543.210-3»; one rule (``rut.format_rut``) for how a RUT is shown."""
    from openpyxl import load_workbook

    sub = _create(client)
    page = client.get(f"/s/{sub['id']}?t={sub['token']}").text
    xlsx = client.get(f"/api/submissions/{sub['id']}/matrix?format=xlsx",
                      headers=_bearer(sub["token"]))
    heading = load_workbook(io.BytesIO(xlsx.content))["Matriz"].cell(row=1, column=2).value
    assert heading == "RUT: 76.543.210-3" and "RUT 76.543.210-3" in page, heading
