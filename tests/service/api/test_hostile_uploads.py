"""Stored XSS (issue 12): an applicant's file fetched by a reviewer can never run script.

Every original goes back as an attachment with an inert type, ``nosniff`` and a sandboxing CSP;
SVG (refused by the pipeline) is not kept at all. The browser's side of it is proven in
``tests/web/test_hostile_files.py``.
"""

from __future__ import annotations

from tests.documents import make_zip

#: What the issue's reviewer opened: read every submission, then decide as the reviewer.
SCRIPT = (
    "<script>fetch('/api/submissions').then(r => r.json());"
    "fetch(location.pathname.split('/documents/')[0] + '/decisions', {method: 'POST',"
    " headers: {'Content-Type': 'application/json'},"
    " body: JSON.stringify({commitment: 'c1', action: 'confirm'})});</script>"
)
HTML_PAGE = f"<!DOCTYPE html><html><head><title>Acta</title></head><body>{SCRIPT}</body></html>"
SVG = (
    '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
    f"{SCRIPT}</svg>"
)


def zip_polyglot() -> bytes:
    """An HTML page that is also a valid ZIP (the archive appended after the markup)."""
    return HTML_PAGE.encode() + make_zip({"acta.txt": "Acta del comité de inclusión.".encode()})


#: name → bytes: an applicant's HTML file, a PDF-named HTML file, an HTML page inside a ZIP.
#: The text parser reads them (as text): they are stored and can be fetched.
HOSTILE_READABLE = {
    "acta.html": HTML_PAGE.encode(),
    "informe.pdf": HTML_PAGE.encode(),
    "evidencias.zip": make_zip({"2025/pagina.html": HTML_PAGE.encode()}),
}
#: Refused by the pipeline (no parser reads them): never kept, so never served.
HOSTILE_REFUSED = {"logo.svg": SVG.encode(), "acta-poliglota.html": zip_polyglot()}
ACTIVE_TYPES = ("text/html", "image/svg+xml", "application/xhtml+xml", "text/xml",
                "application/xml", "application/javascript", "text/javascript")


def _upload(client, files: dict[str, bytes]) -> tuple[dict, list[dict]]:
    r = client.post("/api/submissions",
                    json={"organization": "Fundación Puentes del Sur", "rut": "76.543.210-3"})
    sub = r.json()
    r = client.post(
        f"/api/submissions/{sub['id']}/documents",
        files=[("files", (name, data, "application/octet-stream")) for name, data in files.items()],
        headers={"Authorization": f"Bearer {sub['token']}"},
    )
    assert r.status_code == 202, r.text
    return sub, r.json()["documents"]


def assert_inert_attachment(response) -> None:
    assert response.status_code == 200, response.text
    media_type = response.headers["content-type"].split(";")[0].strip()
    assert media_type not in ACTIVE_TYPES
    assert media_type == "application/octet-stream" or media_type in {
        "application/pdf", "text/plain"}, media_type
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["x-content-type-options"] == "nosniff"
    csp = response.headers["content-security-policy"]
    assert "sandbox" in csp and "default-src 'none'" in csp


def test_hostile_files_come_back_as_inert_attachments(client, reviewer):
    from service.db import SessionLocal
    from service.domain.models import Decision

    sub, docs = _upload(client, HOSTILE_READABLE)
    names = ["acta.html", "informe.pdf", "evidencias.zip/2025/pagina.html"]
    assert [d["name"] for d in docs] == names
    assert {d["status"] for d in docs} == {"queued"}
    for doc in docs:
        r = client.get(f"/api/submissions/{sub['id']}/documents/{doc['id']}/file",
                       auth=reviewer)
        assert_inert_attachment(r)
    html = next(d for d in docs if d["name"] == "acta.html")
    r = client.get(f"/api/submissions/{sub['id']}/documents/{html['id']}/file",
                   auth=reviewer)
    assert r.headers["content-type"].startswith("application/octet-stream")
    assert r.content == HOSTILE_READABLE["acta.html"]  # the bytes, untouched, as a download
    with SessionLocal() as session:
        assert session.query(Decision).count() == 0


def test_svg_and_a_zip_polyglot_are_refused_and_not_kept(client, reviewer):
    from service.domain.storage import path_for, sha256_bytes

    sub, docs = _upload(client, HOSTILE_REFUSED)
    assert [d["name"] for d in docs] == list(HOSTILE_REFUSED)
    for doc, data in zip(docs, HOSTILE_REFUSED.values(), strict=True):
        assert (doc["status"], doc["error_code"]) == ("error", "unsupported_type")
        assert "no soportado" in doc["error"]
        r = client.get(f"/api/submissions/{sub['id']}/documents/{doc['id']}/file",
                       auth=reviewer)
        assert r.status_code == 404
        assert not path_for(sha256_bytes(data)).exists()


def test_a_plain_text_file_is_a_text_attachment(client, reviewer):
    note = "Acta de reunión del comité de inclusión.".encode()
    sub, (doc,) = _upload(client, {"nota.txt": note})
    r = client.get(f"/api/submissions/{sub['id']}/documents/{doc['id']}/file",
                   auth=reviewer)
    assert_inert_attachment(r)
    assert r.headers["content-type"].startswith("text/plain")
    assert "filename*=UTF-8''nota.txt" in r.headers["content-disposition"]
    assert r.content == note


def test_hostile_names_fail_alone_in_spanish_while_the_rest_proceeds(client, text_pdf):
    """Traversal, absolute paths, NUL and other control characters, 300-character names and a
    polyglot, uploaded with a good file: each hostile one is a document in error saying why in
    Spanish, and the good one is queued."""
    from service.domain.storage import path_for, sha256_bytes

    good = text_pdf(["Plan anual de capacitación en interculturalidad."])
    files = [
        ("../../etc/passwd.txt", b"Acta de la reunion del comite."),
        ("/etc/shadow.txt", b"Acta 2 de la reunion del comite."),
        ("acta\x00.pdf.txt", b"Acta 3 de la reunion del comite."),
        ("acta\x07\x1b[31m.txt", b"Acta 4 de la reunion del comite."),
        ("a" * 300 + ".txt", b"Acta 5 de la reunion del comite."),
        ("acta-poliglota.html", zip_polyglot()),
        ("plan.pdf", good),
    ]
    sub = client.post("/api/submissions", json={"organization": "Fundación Puentes del Sur",
                                                "rut": "76.543.210-3"}).json()
    # by hand: httpx, as browsers do, would send a NUL in a file name as "%00"
    body = b"".join(
        b'--b\r\nContent-Disposition: form-data; name="files"; filename="'
        + name.encode() + b'"\r\nContent-Type: application/octet-stream\r\n\r\n'
        + data + b"\r\n" for name, data in files) + b"--b--\r\n"
    r = client.post(f"/api/submissions/{sub['id']}/documents", content=body,
                    headers={"Authorization": f"Bearer {sub['token']}",
                             "Content-Type": "multipart/form-data; boundary=b"})
    assert r.status_code == 202, r.text
    docs = r.json()["documents"]
    assert len(docs) == len(files)
    by_code = [(d["status"], d["error_code"]) for d in docs]
    assert by_code == [("error", "invalid_name")] * 4 + [
        ("error", "name_too_long"), ("error", "unsupported_type"), ("queued", None)]
    assert "nombre del archivo no es válido" in docs[0]["error"]
    assert "demasiado largo (máximo 255 caracteres)" in docs[4]["error"]
    for doc in docs:
        assert "\x00" not in doc["name"] and ".." not in doc["name"].split("/")
        assert len(doc["name"]) <= 255 and not doc["name"].startswith("/")
    assert docs[0]["name"] == "etc/passwd.txt" and docs[2]["name"] == "acta?.pdf.txt"
    for _name, data in files[:5]:  # bytes under a refused name are not kept
        assert not path_for(sha256_bytes(data)).exists()



def test_a_name_that_disguises_its_extension_is_refused(client):
    """QA 2026-12-06: "acta\u202efdp.bat" (a right-to-left override) was accepted as a text
    file and shown as "actatab.pdf" on the pages, while its download kept the .bat name; in a
    ZIP the member's name shows the control as "?"."""
    from service.domain.storage import path_for, sha256_bytes

    script = b"Acta del comite de inclusion.\r\ndel /q %USERPROFILE%\\Documents\r\n"
    sub = client.post("/api/submissions", json={"organization": "Fundación Puentes del Sur",
                                                "rut": "76.543.210-3"}).json()
    r = client.post(f"/api/submissions/{sub['id']}/documents",
                    headers={"Authorization": f"Bearer {sub['token']}"}, files=[
                        ("files", ("acta\u202efdp.bat", script)),
                        ("files", ("actas.zip", make_zip({"acta\u2067fdp.cmd": script + b"2"}))),
                    ])
    assert r.status_code == 202, r.text
    named, member = r.json()["documents"]
    assert (named["status"], named["error_code"]) == ("error", "invalid_name")
    assert "\u202e" not in named["name"] and not path_for(sha256_bytes(script)).exists()
    assert member["name"] == "actas.zip/acta?fdp.cmd"


def test_a_download_never_keeps_a_name_windows_would_run(client, reviewer):
    """QA 2026-12-06: a text file named "acta.bat" (or an HTML page named "acta.hta") was
    accepted, read, and downloaded under that name: a double click on the reviewer's Windows
    machine would run it. The download now adds its type's extension."""
    script = b"Acta del comite de inclusion.\r\ndel /q %USERPROFILE%\\Documents\r\n"
    sub, docs = _upload(client, {"acta.bat": script, "acta.hta": HTML_PAGE.encode(),
                                 "nota.TXT": b"Nota del comite de inclusion."})
    names = []
    for doc in docs:
        r = client.get(f"/api/submissions/{sub['id']}/documents/{doc['id']}/file",
                       auth=reviewer)
        assert_inert_attachment(r)
        names.append(r.headers["content-disposition"].split("''", 1)[1])
    assert names == ["acta.bat.txt", "acta.hta.html", "nota.TXT"]


def test_every_accepted_format_downloads_under_its_own_name():
    """The extensions a download keeps derive from the accepted formats (a list written apart
    missed XLS: "nomina.xls" downloaded as "nomina.xls.bin")."""
    from extractors.registry import FORMATS
    from service.api.documents import download_name

    for fmt in FORMATS:
        for ext in fmt.extensions:
            assert download_name(f"carpeta/nomina{ext.upper()}", fmt.mime) == f"nomina{ext.upper()}"
        assert download_name("nomina", fmt.mime) == f"nomina{fmt.extensions[0]}"
    assert download_name("acta.hta", "text/html") == "acta.hta.html"
    assert download_name("programa.exe", "application/x-dosexec") == "programa.exe.bin"
