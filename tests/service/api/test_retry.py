"""Issue 12: a reviewer retries documents in ``error`` (API, pages, command line), one domain
function behind them (``service.domain.retry.retry_documents``). Any error may be retried;
bytes refused at upload were never stored and cannot be."""

from __future__ import annotations

import re

from service.domain.codes import DocumentStatus

NOTE = "Acta del comité de inclusión. Se aprobó el plan de capacitación del personal.".encode()
CORRUPT_PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\ngarbage\x00\xff"


def _upload(client, files: dict[str, bytes]) -> tuple[dict, list[dict]]:
    sub = client.post("/api/submissions", json={"organization": "Fundación Ñandú",
                                                "rut": "76.086.428-5"}).json()
    r = client.post(f"/api/submissions/{sub['id']}/documents",
                    files=[("files", (n, d, "application/octet-stream"))
                           for n, d in files.items()],
                    headers={"Authorization": f"Bearer {sub['token']}"})
    assert r.status_code == 202, r.text
    return sub, r.json()["documents"]


def _interrupted(document_id: str) -> None:
    """As if its work horse had been killed every time (e.g. out of memory)."""
    from service.db import SessionLocal
    from service.domain import lifecycle
    from service.domain.models import Document

    with SessionLocal() as session:
        document = session.get(Document, document_id)
        document.attempts = 5
        lifecycle.fail(document, "interrupted", "Interrumpido 5 veces.")
        session.commit()


def _document(document_id: str):
    from service.db import SessionLocal
    from service.domain.models import Document

    with SessionLocal() as session:
        return session.get(Document, document_id)


def test_a_reviewer_retries_documents_in_error_through_the_api(
    client, reviewer, run_worker_burst
):
    sub, (note, corrupt, empty) = _upload(
        client, {"acta.txt": NOTE, "informe.pdf": CORRUPT_PDF, "vacio.pdf": b""})
    _interrupted(note["id"])
    run_worker_burst()
    assert _document(corrupt["id"]).error_code == "corrupt"
    base = f"/api/submissions/{sub['id']}"

    # applicants cannot; reviewers can, and the interrupted one is read this time
    applicant = {"Authorization": f"Bearer {sub['token']}"}
    assert client.post(f"{base}/documents/{note['id']}/retry",
                       headers=applicant).status_code == 401
    r = client.post(f"{base}/documents/{note['id']}/retry", auth=reviewer)
    assert (r.status_code, r.json()) == (202, {"queued": [note["id"]], "refused": []})
    retried = _document(note["id"])
    assert (retried.status, retried.error_code, retried.error, retried.attempts) == (
        "queued", None, None, 0)
    run_worker_burst()
    assert _document(note["id"]).status == DocumentStatus.done

    # not in error any more, or never stored: a Spanish 409
    again = client.post(f"{base}/documents/{note['id']}/retry", auth=reviewer)
    assert again.status_code == 409 and again.json()["detail"]["code"] == "not_in_error"
    assert again.json()["detail"]["message"] == (
        "Sin error, nada que reintentar: lectura terminada («listo»).")
    never = client.post(f"{base}/documents/{empty['id']}/retry", auth=reviewer)
    assert never.status_code == 409 and never.json()["detail"]["code"] == "nothing_stored"
    assert "no hay nada que reintentar" in never.json()["detail"]["message"]
    assert never.json()["detail"]["message"].endswith(  # who can act, told to the reviewer
        "Solo la organización puede subirlo de nuevo, corregido.")

    # the whole submission: the damaged file is allowed another try, and fails the same way
    r = client.post(f"{base}/retry", auth=reviewer)
    assert r.status_code == 202
    assert r.json()["queued"] == [corrupt["id"]]
    assert [x["id"] for x in r.json()["refused"]] == [empty["id"]]
    run_worker_burst()
    assert _document(corrupt["id"]).error_code == "corrupt"


def test_the_retry_buttons_on_the_reviewer_pages(client, reviewer, run_worker_burst):
    sub, (note, empty) = _upload(client, {"acta.txt": NOTE, "vacio.pdf": b""})
    _interrupted(note["id"])
    page = client.get(f"/revision/s/{sub['id']}", auth=reviewer).text
    # a button for the stored file, none for the one refused at upload
    assert f'action="/revision/d/{note["id"]}/reintentar"' in page
    assert f'action="/revision/d/{empty["id"]}/reintentar"' not in page
    view = client.get(f"/revision/d/{note['id']}", auth=reviewer).text
    assert f'action="/revision/d/{note["id"]}/reintentar"' in view
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)

    url = f"/revision/d/{note['id']}/reintentar"
    assert client.post(url, auth=reviewer, follow_redirects=False).status_code == 403  # no token
    r = client.post(url, data={"csrf_token": token}, auth=reviewer, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith(f"/revision/s/{sub['id']}")
    assert _document(note["id"]).status == DocumentStatus.queued
    r = client.post(url, data={"csrf_token": token}, auth=reviewer)  # twice: said in Spanish
    assert r.status_code == 409 and "Sin error, nada que reintentar: en cola" in r.text
    run_worker_burst()
    assert _document(note["id"]).status == DocumentStatus.done


def test_evidencia_retry(service_env, capsys):
    from service.cli.main import main
    from service.db import SessionLocal
    from service.domain.submissions import add_files, create_submission

    with SessionLocal() as session:
        submission, _ = create_submission(session, "Fundación Ñandú", None)
        submission_id = submission.id
        note, empty = (d.id for d in add_files(session, submission,
                                                [("acta.txt", NOTE), ("vacio.pdf", b"")]))
    _interrupted(note)
    assert main(["retry", "--all"]) == 0
    assert "Documentos reintentados: 1" in capsys.readouterr().out
    assert _document(note).status == DocumentStatus.queued
    assert main(["retry", note, empty]) == 1  # named ones that cannot be: said, exit 1
    err = capsys.readouterr().err
    assert "No se reintentaron 2 documento(s), por motivo:" in err
    # QA (hygiene) 2026-12-06: the group read "Solo se reintentan documentos con error: este
    # está «en cola»." ("este" over a list of documents; what happens to them unsaid)
    assert "1  Sin error, nada que reintentar: en cola, a la espera de un worker." in err
    assert f"- {note} (acta.txt)" in err
    assert "1  El archivo no se guardó" in err and f"- {empty} (vacio.pdf)" in err
    # QA 2026-12-06: a mistyped submission said "Documentos reintentados: 0" and exit 0
    assert main(["retry", "--submission", "no-existe"]) == 2
    assert "No se encontró la postulación." in capsys.readouterr().err
    assert main(["retry", "--submission", submission_id]) == 0



def test_an_unknown_document_id_is_a_usage_error_as_an_unknown_submission(service_env, capsys):
    """QA 2026-12-08: `evidencia retry ID` with a mistyped document id exited 1 (as if a file
    had failed) where a mistyped `--submission` exits 2, against REFERENCE's "0 done, 1 some
    file or job failed, 2 usage or configuration error". An id that names no document, like
    one that names no submission, is a wrong argument: said, nothing retried, exit 2; a
    document that exists but cannot be retried still exits 1."""
    from service.cli.main import main
    from service.db import SessionLocal
    from service.domain.submissions import add_files, create_submission

    with SessionLocal() as session:
        submission, _ = create_submission(session, "Fundación Ñandú", None)
        [note] = (d.id for d in add_files(session, submission, [("acta.txt", NOTE)]))
    _interrupted(note)
    assert main(["retry", note, "no-existe"]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("evidencia retry: No existe ningún documento con el id")
    assert "«no-existe»" in captured.err and "No se reintentó ninguno." in captured.err
    assert _document(note).status == DocumentStatus.error  # nothing retried
    assert main(["retry", "--submission", "no-existe"]) == 2
    assert main(["retry", note]) == 0
    assert main(["retry", note]) == 1  # it exists, queued now: not retried, a failure

def test_retry_all_groups_the_refused_by_reason(service_env, capsys):
    """QA 2026-12-06: `evidencia retry --all` printed every refused file's whole reason, one
    line each: thousands at archive volume. By reason, with counts and a few names."""
    from service.cli.grouped import EXAMPLES
    from service.cli.main import main
    from service.db import SessionLocal
    from service.domain.submissions import add_files, create_submission

    empties = [(f"vacio-{i}.pdf", b"") for i in range(EXAMPLES + 3)]
    with SessionLocal() as session:
        submission, _ = create_submission(session, "Fundación Ñandú", None)
        ids = [d.id for d in add_files(session, submission, [("acta.txt", NOTE), *empties])]
    _interrupted(ids[0])
    assert main(["retry", "--all"]) == 0  # nothing named: the refused are not a failure
    captured = capsys.readouterr()
    assert "Documentos reintentados: 1" in captured.out
    err = captured.err.splitlines()
    assert err[0] == f"No se reintentaron {EXAMPLES + 3} documento(s), por motivo:"
    assert err[1].split()[0] == str(EXAMPLES + 3) and "El archivo no se guardó" in err[1]
    assert len([line for line in err if line.lstrip().startswith("- ")]) == EXAMPLES
    assert err[-1].strip() == "… y 3 más" and len(err) == EXAMPLES + 3


def test_removed_documents_in_error_are_not_retried(service_env, client, reviewer, capsys):
    """QA 2026-12-06: `evidencia retry --all` put back in the queue (or listed as "nothing to
    retry") documents in error the applicant had removed or a batch rerun had replaced: they
    count nowhere, and a removed one came back to life in the queue."""
    from service.cli.main import main
    from service.db import SessionLocal
    from service.domain.documents import remove_document
    from service.domain.submissions import add_files, create_submission

    with SessionLocal() as session:
        submission, _ = create_submission(session, "Fundación Ñandú", None)
        submission_id = submission.id
        gone, empty, kept = (d.id for d in add_files(session, submission, [
            ("acta.txt", NOTE), ("vacio.pdf", b""), ("otra.txt", NOTE + b" Otra.")]))
    _interrupted(gone)
    _interrupted(kept)
    with SessionLocal() as session:
        from service.domain.models import Submission

        submission = session.get(Submission, submission_id)
        remove_document(session, submission, gone)
        remove_document(session, submission, empty)

    r = client.post(f"/api/submissions/{submission_id}/retry", auth=reviewer)
    assert r.status_code == 202, r.text
    assert r.json()["queued"] == [kept] and r.json()["refused"] == []
    _interrupted(kept)
    assert main(["retry", "--all"]) == 0
    captured = capsys.readouterr()
    assert "Documentos reintentados: 1" in captured.out
    assert gone not in captured.err and empty not in captured.err
    assert _document(gone).status == DocumentStatus.error
    assert main(["retry", gone]) == 1
    assert f"- {gone} (acta.txt)" in capsys.readouterr().err


def test_the_view_of_a_document_that_could_not_be_read(client, reviewer, run_worker_burst):
    """QA 2026-12-06: the view of a PDF in error said "Página 1 de 1" of a document with no
    page, that "this type of document has no page image" (a PDF), and ended its reason
    with two full stops. The file is the peer corpus' header-only PDF."""
    from tests.conftest import PEERS

    sub, (broken,) = _upload(client, {
        "acta.pdf": (PEERS / "ocrmypdf-header-only-invalid.pdf").read_bytes()})
    run_worker_burst()
    assert _document(broken["id"]).status == DocumentStatus.error
    view = client.get(f"/revision/d/{broken['id']}", auth=reviewer).text
    reason = _document(broken["id"]).error
    assert reason.endswith(".") and f"Sin texto extraído: {reason}</p>" in view
    assert "Ninguna página leída" in view and "Página 1 de 1" not in view
    assert "no tiene imagen de página" not in view
    assert f'action="/revision/d/{broken["id"]}/reintentar"' in view


def test_a_final_verdict_refuses_a_retry(service_env, client, reviewer, run_worker_burst,
                                         capsys):
    """A retry of a document in error under a final verdict was still queued, while a forced
    OCR reading was refused (409 ``reread_locked``): read, its passages would change the matrix
    under the closed decisions. Refused the same way (``workflow.VerdictLock``), 409
    ``retry_locked`` in Spanish, in the API, on the reviewer's pages and by ``evidencia
    retry``, until an admin reopens the submission."""
    from service.cli.main import main
    from service.db import SessionLocal
    from service.domain.access import create_user

    with SessionLocal() as session:
        create_user(session, "jefa", "clave-de-jefa-2026", "admin")
    admin = ("jefa", "clave-de-jefa-2026")
    sub, (note, other) = _upload(client, {"acta.txt": NOTE, "otra.txt": NOTE + b" Otra."})
    _interrupted(note["id"])
    _interrupted(other["id"])
    run_worker_burst()
    base = f"/api/submissions/{sub['id']}"
    assert client.post(f"{base}/submit",
                       headers={"Authorization": f"Bearer {sub['token']}"}).status_code == 200
    for status in ("en_revision", "aprobada"):
        r = client.post(f"{base}/review", auth=reviewer, json={"status": status})
        assert r.status_code == 200, r.text
    said = ("La postulación ya tiene su resultado final («Aprobada»): sus documentos con error "
            "no se pueden reintentar")

    # the API: one document (409), and the submission's (each refused, with the reason)
    for who in (reviewer, admin):
        r = client.post(f"{base}/documents/{note['id']}/retry", auth=who)
        assert r.status_code == 409 and r.json()["detail"]["code"] == "retry_locked", r.text
        assert r.json()["detail"]["message"].startswith(said)
    r = client.post(f"{base}/retry", auth=reviewer)
    assert r.status_code == 202 and r.json()["queued"] == []
    assert {x["id"] for x in r.json()["refused"]} == {note["id"], other["id"]}
    assert all(x["reason"].startswith(said) for x in r.json()["refused"])

    # the pages: no button, the reason instead; a form left open is refused in Spanish
    page = client.get(f"/revision/s/{sub['id']}", auth=reviewer).text
    assert "/reintentar" not in page and "data-retry-locked" in page
    view = client.get(f"/revision/d/{note['id']}", auth=reviewer).text
    assert "/reintentar" not in view and "data-retry-locked" in view
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    for url in (f"/revision/d/{note['id']}/reintentar", f"/revision/s/{sub['id']}/reintentar"):
        r = client.post(url, data={"csrf_token": token}, auth=reviewer, follow_redirects=False)
        assert r.status_code == 409 and said in r.text

    # the command line: named, exit 1; --all, the refused told by reason, exit 0
    assert main(["retry", note["id"]]) == 1
    err = capsys.readouterr().err
    assert f"1  {said}" in err and f"- {note['id']} (acta.txt)" in err
    assert main(["retry", "--all"]) == 0
    captured = capsys.readouterr()
    assert "Documentos reintentados: 0" in captured.out and f"2  {said}" in captured.err
    run_worker_burst()
    assert {_document(d["id"]).status for d in (note, other)} == {DocumentStatus.error}

    # reopened by an admin, they may be retried
    r = client.post(f"{base}/review", auth=admin,
                    json={"status": "en_revision", "message": "Reintentar las actas."})
    assert r.status_code == 200, r.text
    assert f'action="/revision/d/{note["id"]}/reintentar"' in client.get(
        f"/revision/d/{note['id']}", auth=reviewer).text
    r = client.post(f"{base}/documents/{note['id']}/retry", auth=reviewer)
    assert (r.status_code, r.json()) == (202, {"queued": [note["id"]], "refused": []})
    assert main(["retry", "--submission", sub["id"]]) == 0
    assert "Documentos reintentados: 1" in capsys.readouterr().out
    run_worker_burst()
    assert {_document(d["id"]).status for d in (note, other)} == {DocumentStatus.done}


def test_a_damaged_file_sent_twice_is_retried_as_one_document(service_env, client, capsys,
                                                              run_worker_burst):
    """QA 2026-12-07: OCRmyPDF's header-only PDF sent twice in a submission ("acta.pdf" and
    the browser's "acta (1).pdf"): the status, the matrix and the reviewers' list count one
    document in error (the copy is "Duplicado de acta.pdf"), but `evidencia retry` said
    "Documentos reintentados: 2". Both are read again; the copy is said as such."""
    from service.cli.main import main
    from tests.conftest import PEERS

    damaged = (PEERS / "ocrmypdf-header-only-invalid.pdf").read_bytes()
    sub, docs = _upload(client, {"acta.pdf": damaged, "acta (1).pdf": damaged})
    run_worker_burst()
    status = client.get(f"/api/submissions/{sub['id']}",
                        headers={"Authorization": f"Bearer {sub['token']}"}).json()
    assert status["counts"]["error"] == 1
    assert [d["duplicate_of"] for d in status["documents"]] == [None, docs[0]["id"]]

    assert main(["retry", "--submission", sub["id"]]) == 0
    out = capsys.readouterr().out
    assert "Documentos reintentados: 1, más 1 copia(s) repetida(s) en su postulación " in out, out
    assert {_document(d["id"]).status for d in docs} == {DocumentStatus.queued}
