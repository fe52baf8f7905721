"""The review workflow over the API (issue 11): every transition and every refusal, on SQLite
and PostgreSQL (``service_env``), with the real Redis queue."""

from __future__ import annotations

import re

NOTE = ("files", ("acta.txt", "Acta de constitución del comité de inclusión.".encode(),
                  "text/plain"))


def _bearer(token):
    return {"Authorization": f"Bearer {token}"}


def _create(client, email="postulacion@acoge.cl", rut="76.543.210-3"):
    r = client.post("/api/submissions",
                    json={"organization": "Fundación Acoge", "rut": rut, "email": email})
    assert r.status_code == 201, r.text
    return r.json()


class _Session:
    """A reviewer's session token, so a test hashes each password once (argon2 is slow)."""

    def __init__(self, token):
        self.headers = {"Authorization": f"Bearer {token}"}

    def __call__(self, request):
        request.headers.update(self.headers)
        return request


def _users():
    from service.db import SessionLocal
    from service.domain.access import create_user, open_session

    with SessionLocal() as session:
        users = [create_user(session, "ana", "clave-de-ana-2026"),
                 create_user(session, "luis", "clave-de-luis-2026"),
                 create_user(session, "jefa", "clave-de-jefa-2026", "admin")]
        return tuple(_Session(open_session(session, u)) for u in users)


def test_the_email_is_validated_in_spanish(client):
    r = client.post("/api/submissions", json={"organization": "ONG X", "rut": "76.543.210-3",
                                              "email": "no es un correo"})
    assert r.status_code == 422
    assert r.json()["detail"]["code"] == "invalid_email"
    assert "correo electrónico no es válido" in r.json()["detail"]["message"]
    body = _create(client, email="  Postulacion@ACOGE.cl ")
    assert body["email"] == "Postulacion@acoge.cl" and body["status"] == "borrador"
    assert _create(client, email=None)["email"] is None  # still optional


def test_the_whole_cycle_and_every_refusal(client):
    ana, luis, jefa = _users()
    sub = _create(client)
    sid, app = sub["id"], _bearer(sub["token"])
    url = f"/api/submissions/{sid}"

    def review(auth, status, message="", commitments=None):
        return client.post(f"{url}/review", auth=auth,
                           json={"status": status, "message": message,
                                 "commitments": commitments or {}})

    def refused(r, status, code):
        assert r.status_code == status, r.text
        assert r.json()["detail"]["code"] == code
        return r.json()["detail"]["message"]

    # borrador: nothing to submit yet; reviewers cannot act on a draft
    refused(client.post(f"{url}/submit", headers=app), 422, "nothing_to_submit")
    message = refused(review(ana, "en_revision"), 409, "illegal_transition")
    assert message.startswith("La postulación está «Borrador»: no puede pasar a «En revisión».")
    assert client.post(f"{url}/documents", files=[NOTE], headers=app).status_code == 202
    assert client.post(f"{url}/submit").status_code == 401
    r = client.post(f"{url}/submit", headers=app)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "enviada" and r.json()["submitted_at"]

    # enviada: the applicant cannot add documents or submit again; only a claim is legal
    refused(client.post(f"{url}/documents", files=[NOTE], headers=app), 409, "closed_for_upload")
    refused(client.post(f"{url}/submit", headers=app), 409, "illegal_transition")
    for status in ("observada", "aprobada", "no_aprobada"):
        refused(review(ana, status, "x"), 409, "illegal_transition")
    assert review(ana, "borrador").status_code == 422  # not a reviewer's status at all
    assert client.post(f"{url}/review", headers=app,
                       json={"status": "en_revision"}).status_code == 401
    r = review(ana, "en_revision")
    assert r.status_code == 200 and r.json()["assigned_to"] == "ana"

    # en_revision: held by ana; luis may not move it, an admin may reassign it
    refused(review(luis, "aprobada"), 409, "not_assignee")
    refused(review(ana, "en_revision"), 409, "illegal_transition")
    refused(review(ana, "observada"), 422, "message_required")
    refused(review(ana, "observada", "", {"c9": "x"}), 422, "validation")
    refused(client.post(f"{url}/assign", auth=ana, json={"reviewer": "luis"}), 403, "admin_only")
    refused(client.post(f"{url}/assign", auth=jefa, json={"reviewer": "nadie"}), 422,
            "unknown_reviewer")
    r = client.post(f"{url}/assign", auth=jefa, json={"reviewer": "luis"})
    assert r.status_code == 200 and r.json()["assigned_to"] == "luis"
    assert r.json()["status"] == "en_revision"
    refused(review(ana, "aprobada"), 409, "not_assignee")
    r = review(luis, "observada", "Faltan antecedentes.",
               {"c5": "Envíe la nómina del comité con nacionalidades.", "c2": "  "})
    assert r.status_code == 200, r.text
    assert r.json()["messages"] == {"c5": "Envíe la nómina del comité con nacionalidades."}

    # observada: the applicant adds documents and resubmits; it returns to its reviewer
    refused(review(luis, "aprobada"), 409, "illegal_transition")
    assert client.post(f"{url}/documents", files=[NOTE], headers=app).status_code == 202
    r = client.post(f"{url}/submit", headers=app)
    assert r.status_code == 200 and r.json()["status"] == "enviada"
    refused(review(ana, "en_revision"), 409, "not_assignee")
    assert review(luis, "en_revision").status_code == 200
    r = review(luis, "aprobada", "Cumple los cinco compromisos.")
    assert r.status_code == 200 and r.json()["status"] == "aprobada"

    # aprobada is final: only an admin reopens it
    for status in ("observada", "aprobada", "no_aprobada"):
        refused(review(luis, status, "x"), 409, "illegal_transition")
    message = refused(review(luis, "en_revision", "x"), 403, "admin_only_reopen")
    assert message.startswith("Solo un administrador puede reabrir")
    refused(client.post(f"{url}/submit", headers=app), 409, "illegal_transition")
    refused(client.post(f"{url}/assign", auth=jefa, json={"reviewer": "ana"}), 409,
            "illegal_transition")

    # the applicant reads it all; reviewer names only for reviewers
    body = client.get(url, headers=app).json()
    review_block = body["review"]
    assert review_block["status"] == "aprobada" and review_block["assigned_to"] == "luis"
    assert review_block["message"] == "Cumple los cinco compromisos."
    assert [(h["from_status"], h["status"]) for h in review_block["history"]] == [
        ("borrador", "enviada"), ("enviada", "en_revision"), ("en_revision", "observada"),
        ("observada", "enviada"), ("enviada", "en_revision"), ("en_revision", "aprobada"),
    ]  # the reassignment is the reviewers' business
    assert all(h["at"][-6] in "+-" and h["by"] is None for h in review_block["history"])
    assert review_block["history"][2]["commitments"] == {
        "c5": "Envíe la nómina del comité con nacionalidades."}
    assert [c["id"] for c in body["commitments"]] == ["c1", "c2", "c3", "c4", "c5"]
    as_reviewer = client.get(url, auth=ana).json()["review"]["history"]
    assert [h["by"] for h in as_reviewer] == [None, "ana", "jefa", "luis", None, "luis", "luis"]


def test_no_aprobada_needs_a_reason_and_decisions_reach_the_applicant(client):
    ana, _, _ = _users()
    sub = _create(client, email=None)
    url, app = f"/api/submissions/{sub['id']}", _bearer(sub["token"])
    client.post(f"{url}/documents", files=[NOTE], headers=app)
    client.post(f"{url}/submit", headers=app)
    client.post(f"{url}/review", auth=ana, json={"status": "en_revision"})
    r = client.post(f"{url}/decisions", auth=ana,
                    json={"commitment": "c3", "action": "reject", "comment": "Sin política."})
    assert r.status_code == 201
    r = client.post(f"{url}/review", auth=ana, json={"status": "no_aprobada"})
    assert r.status_code == 422 and r.json()["detail"]["code"] == "message_required"
    assert "«No aprobada» necesita una explicación" in r.json()["detail"]["message"]
    r = client.post(f"{url}/review", auth=ana,
                    json={"status": "no_aprobada", "commitments": {"c3": "No hay política."}})
    assert r.status_code == 200
    c3 = client.get(url, headers=app).json()["commitments"][2]
    assert c3["decision"] == "reject" and c3["status"] == "rejected"
    assert c3["comment"] == "Sin política." and c3["message"] == "No hay política."


def test_next_pending_takes_the_oldest_waiting_for_me(client):
    ana, luis, _ = _users()
    ids = []
    for rut in ("76.543.210-3", "77.214.538-1", "11.111.111-1"):
        sub = _create(client, rut=rut)
        app = _bearer(sub["token"])
        client.post(f"/api/submissions/{sub['id']}/documents", files=[NOTE], headers=app)
        assert client.post(f"/api/submissions/{sub['id']}/submit", headers=app).status_code == 200
        ids.append(sub["id"])
    unassigned = client.get("/api/submissions?assigned=none", auth=ana).json()
    assert unassigned["total"] == 3
    assert {i["review_status"] for i in unassigned["items"]} == {"enviada"}
    assert all(i["submitted_at"][-6] in "+-" for i in unassigned["items"])
    taken = [client.post("/api/submissions/next", auth=who).json()["id"]
             for who in (ana, luis, ana)]
    assert taken == ids
    mine = client.get("/api/submissions?assigned=me", auth=ana).json()["items"]
    assert sorted(i["id"] for i in mine) == sorted([ids[0], ids[2]])
    assert {(i["review_status"], i["assigned_to"]) for i in mine} == {("en_revision", "ana")}
    assert client.get("/api/submissions?assigned=none", auth=ana).json()["total"] == 0
    r = client.post("/api/submissions/next", auth=luis).json()
    assert r["id"] is None and r["message"] == "No hay postulaciones pendientes para usted."
    assert client.post("/api/submissions/next").status_code == 401


def test_lost_link_requests_are_limited_per_address(client, monkeypatch):
    from service.settings import get_settings

    monkeypatch.setenv("EVIDENCIA_LINK_REQUESTS_PER_ADDRESS", "2")
    get_settings.cache_clear()
    body = {"rut": "76.543.210-3", "email": "nadie@acoge.cl"}
    codes = [client.post("/api/submissions/lost-link", json=body).status_code for _ in range(3)]
    assert codes == [202, 202, 429]
    r = client.post("/api/submissions/lost-link", json=body)
    assert r.json()["detail"]["code"] == "too_many_link_requests"
    assert "demasiados enlaces" in r.json()["detail"]["message"]
    assert int(r.headers["Retry-After"]) > 0


def test_a_final_verdict_locks_the_decisions(client):
    """After «Aprobada» (or «No aprobada») no decision, undo or comment is recorded: the
    applicant's "Aprobada" never sits beside a later "No acreditado". The reviewer's pages show
    the matrix read-only (only an admin's reopening opens them again)."""
    import re

    ana, _, _ = _users()
    for verdict, message in (("aprobada", ""), ("no_aprobada", "No acredita el compromiso 3.")):
        sub = _create(client, email=None)
        url, app = f"/api/submissions/{sub['id']}", _bearer(sub["token"])
        assert client.post(f"{url}/documents", files=[NOTE], headers=app).status_code == 202
        client.post(f"{url}/submit", headers=app)
        client.post(f"{url}/review", auth=ana, json={"status": "en_revision"})
        r = client.post(f"{url}/decisions", auth=ana,
                        json={"commitment": "c1", "action": "comment", "comment": "Antes."})
        assert r.status_code == 201  # in review: decisions are open
        page = client.get(f"/revision/s/{sub['id']}", auth=ana).text
        assert 'class="decide"' in page and "data-decisions-locked" not in page
        r = client.post(f"{url}/review", auth=ana, json={"status": verdict, "message": message})
        assert r.status_code == 200, r.text

        for body in ({"commitment": "c1", "action": "reject"},
                     {"commitment": "c1", "action": "undo"},
                     {"commitment": "c1", "action": "comment", "comment": "Después."}):
            r = client.post(f"{url}/decisions", auth=ana, json=body)
            assert r.status_code == 409, r.text
            assert r.json()["detail"]["code"] == "decisions_locked"
            assert "resultado final" in r.json()["detail"]["message"]
        history = client.get(f"{url}/decisions", auth=ana).json()
        assert [d["action"] for d in history] == ["comment"]
        assert client.get(url, headers=app).json()["commitments"][0]["status"] != "rejected"

        page = client.get(f"/revision/s/{sub['id']}", auth=ana).text
        assert "data-decisions-locked" in page and "solo lectura" in page
        assert 'class="decide"' not in page and 'class="attach"' not in page
        assert 'class="undo"' not in page
        # a form left open in another tab is refused on the page, in Spanish
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        r = client.post(f"/revision/s/{sub['id']}/decision", auth=ana,
                        data={"csrf_token": token, "compromiso": "c2", "accion": "reject"})
        assert r.status_code == 409 and "resultado final" in r.text


def _outbox_kinds(submission_id):
    from sqlalchemy import select

    from service.db import SessionLocal
    from service.domain.models import OutboxEmail

    with SessionLocal() as session:
        return list(session.scalars(select(OutboxEmail.kind)
                                    .where(OutboxEmail.submission_id == submission_id)
                                    .order_by(OutboxEmail.id)))


def test_an_admin_reopens_a_final_verdict_with_a_reason(client):
    """A mistaken verdict is corrected: an admin takes it back to «En revisión» with the reason
    (the history keeps it), the decisions open again, the applicant no longer reads
    «Aprobada» nor the withdrawn verdict's message, and no e-mail goes out for it."""
    ana, luis, jefa = _users()
    for verdict, message in (("aprobada", "Cumple los cinco compromisos."),
                             ("no_aprobada", "No acredita el compromiso 3.")):
        sub = _create(client)
        sid, app = sub["id"], _bearer(sub["token"])
        url = f"/api/submissions/{sid}"
        assert client.post(f"{url}/documents", files=[NOTE], headers=app).status_code == 202
        client.post(f"{url}/submit", headers=app)
        assert client.post(f"{url}/review", auth=ana,
                           json={"status": "en_revision"}).status_code == 200
        r = client.post(f"{url}/review", auth=ana, json={"status": verdict, "message": message})
        assert r.status_code == 200, r.text
        assert _outbox_kinds(sid) == [verdict]

        # reviewers see no "Reabrir"; an admin does
        page = client.get(f"/revision/s/{sid}", auth=ana).text
        assert "data-reopen" not in page and "Reabrir" not in page
        page = client.get(f"/revision/s/{sid}", auth=jefa).text
        assert "data-reopen" in page and ">Reabrir</button>" in page
        # the reason is required, in Spanish; a reviewer who is not an admin may not reopen
        for body in ({"status": "en_revision"},
                     {"status": "en_revision", "message": "   "},
                     {"status": "en_revision", "commitments": {"c3": "Revisar."}}):
            r = client.post(f"{url}/review", auth=jefa, json=body)
            assert r.status_code == 422, r.text
            assert r.json()["detail"]["code"] == "reason_required"
            assert r.json()["detail"]["message"].startswith("Escriba la razón para reabrir")
        r = client.post(f"{url}/review", auth=luis,
                        json={"status": "en_revision", "message": "Error."})
        assert r.status_code == 403 and r.json()["detail"]["code"] == "admin_only_reopen"
        assert client.get(url, headers=app).json()["review"]["status"] == verdict

        reason = "Se registró por error: falta verificar el compromiso 3."
        r = client.post(f"{url}/review", auth=jefa,
                        json={"status": "en_revision", "message": reason})
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "en_revision" and r.json()["assigned_to"] == "ana"
        assert _outbox_kinds(sid) == [verdict]  # no e-mail, as for the claim

        # the history keeps the step, who took it and why
        history = client.get(url, auth=ana).json()["review"]["history"]
        assert (history[-1]["from_status"], history[-1]["status"], history[-1]["by"],
                history[-1]["message"]) == (verdict, "en_revision", "jefa", reason)
        page = client.get(f"/revision/s/{sid}", auth=ana).text
        assert "data-reopen" not in page and reason in page
        # decisions are open again, for the assignee
        assert 'class="decide"' in page and "data-decisions-locked" not in page
        r = client.post(f"{url}/decisions", auth=ana,
                        json={"commitment": "c3", "action": "comment", "comment": "Reviso."})
        assert r.status_code == 201, r.text

        # the applicant no longer reads the verdict nor its message
        review_block = client.get(url, headers=app).json()["review"]
        assert review_block["status"] == "en_revision"
        assert review_block["status_label"] == "En revisión"
        assert review_block["message"] is None and review_block["messages"] == {}
        page = client.get(f"/s/{sid}", params={"t": sub["token"]}).text
        assert 'data-review-status="en_revision"' in page
        assert "El equipo revisor está revisando su postulación." in page
        assert "data-review-message" not in page
        assert "El equipo revisor aprobó" not in page and "no aprobó" not in page

        # a new verdict locks again and is told by e-mail
        r = client.post(f"{url}/review", auth=ana, json={"status": "aprobada"})
        assert r.status_code == 200 and r.json()["status"] == "aprobada"
        assert _outbox_kinds(sid) == [verdict, "aprobada"]
        r = client.post(f"{url}/decisions", auth=ana,
                        json={"commitment": "c3", "action": "comment", "comment": "Tarde."})
        assert r.status_code == 409 and r.json()["detail"]["code"] == "decisions_locked"


def test_only_a_document_that_counts_lets_a_submission_be_sent(client, run_worker_burst):
    """QA 2026-12-07: a submission whose one file was refused at upload (an empty PDF, never
    stored) was sent to review, and so was one whose only document the applicant had removed:
    reviewers got a submission with nothing to read."""
    sub = _create(client)
    url, app = f"/api/submissions/{sub['id']}", _bearer(sub["token"])
    r = client.post(f"{url}/documents", headers=app,
                    files=[("files", ("vacio.pdf", b"", "application/pdf"))])
    assert r.status_code == 202 and r.json()["documents"][0]["error_code"] == "empty_file"
    r = client.post(f"{url}/submit", headers=app)
    assert r.status_code == 422 and r.json()["detail"]["code"] == "nothing_to_submit", r.text
    assert "no cuentan los archivos rechazados" in r.json()["detail"]["message"]

    (doc,) = client.post(f"{url}/documents", files=[NOTE], headers=app).json()["documents"]
    run_worker_burst()
    assert client.delete(f"{url}/documents/{doc['id']}", headers=app).status_code == 204
    r = client.post(f"{url}/submit", headers=app)
    assert r.status_code == 422 and r.json()["detail"]["code"] == "nothing_to_submit", r.text

    assert client.post(f"{url}/documents", files=[NOTE], headers=app).status_code == 202
    r = client.post(f"{url}/submit", headers=app)
    assert r.status_code == 200 and r.json()["status"] == "enviada", r.text


def test_a_final_verdict_refuses_a_forced_ocr_reading(client, run_worker_burst,
                                                      training_plan_pdf):
    """QA 2026-12-07: «Volver a leer con OCR» on an approved submission's document queued a new
    reading, which replaced the passages detected under its closed decisions. A final verdict
    refuses it (409 ``reread_locked``) in the API and on the document view, for a reviewer and
    an admin alike, until an admin reopens the submission."""
    import re

    ana, _, jefa = _users()
    sub = _create(client, email=None)
    url, app = f"/api/submissions/{sub['id']}", _bearer(sub["token"])
    r = client.post(f"{url}/documents", headers=app,
                    files=[("files", ("plan.pdf", training_plan_pdf, "application/pdf"))])
    assert r.status_code == 202, r.text
    [doc] = r.json()["documents"]
    run_worker_burst()
    assert client.post(f"{url}/submit", headers=app).status_code == 200
    assert client.post(f"{url}/review", auth=ana, json={"status": "en_revision"}).status_code == 200
    assert client.post(f"{url}/review", auth=ana, json={"status": "aprobada"}).status_code == 200

    doc_url = f"{url}/documents/{doc['id']}"

    def reading():
        body = client.get(doc_url, auth=ana).json()
        return (body["status"], body["extractor_version"],
                sorted((e["commitment"], e["page"], e["text"]) for e in body["evidence"]))

    before = reading()
    assert before[0] == "done" and not before[1].endswith("+ocr") and before[2]
    for who in (ana, jefa):
        r = client.post(f"{doc_url}/ocr", auth=who)
        assert r.status_code == 409, r.text
        assert r.json()["detail"]["code"] == "reread_locked"
        assert r.json()["detail"]["message"].startswith(
            "La postulación ya tiene su resultado final («Aprobada»): sus documentos no se "
            "pueden volver a leer con OCR")
    run_worker_burst()  # nothing was queued
    assert reading() == before

    # the document view: no button, the reason instead; a form left open is refused in Spanish
    page = client.get(f"/revision/d/{doc['id']}", auth=ana).text
    assert f'action="/revision/d/{doc["id"]}/ocr"' not in page and "data-reread-locked" in page
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    r = client.post(f"/revision/d/{doc['id']}/ocr", auth=ana, data={"csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == 409 and "no se pueden volver a leer con OCR" in r.text
    run_worker_burst()
    assert reading() == before

    # reopened by an admin, the document may be read again
    r = client.post(f"{url}/review", auth=jefa,
                    json={"status": "en_revision", "message": "Revisar la lectura del plan."})
    assert r.status_code == 200, r.text
    page = client.get(f"/revision/d/{doc['id']}", auth=ana).text
    assert f'action="/revision/d/{doc["id"]}/ocr"' in page and "data-reread-locked" not in page
    r = client.post(f"{doc_url}/ocr", auth=ana)
    assert r.status_code == 202 and r.json()["status"] == "queued", r.text
    run_worker_burst()
    assert reading()[1].endswith("+ocr")


def test_what_would_cover_a_commitment_is_told_only_while_the_applicant_can_upload(
        client, run_worker_burst):
    """Tried as an applicant 2026-12-07: an approved submission's page still told, under each
    commitment without evidence, «Qué lo cubriría: Suba un documento que…», with the upload
    form gone (uploads are refused once submitted, until changes are requested). The hint is
    shown while the applicant can upload (borrador, observada), not while it waits for the
    reviewers or after a final verdict."""
    ana, _, _ = _users()
    sub = _create(client, email=None)
    url, app = f"/api/submissions/{sub['id']}", _bearer(sub["token"])
    assert client.post(f"{url}/documents", files=[NOTE], headers=app).status_code == 202
    run_worker_burst()

    def hints() -> int:
        page = client.get(f"/s/{sub['id']}", params={"t": sub["token"]}).text
        assert ('id="subida"' in page) == (page.count("Qué lo cubriría") > 0)  # with the form
        return page.count("Qué lo cubriría")

    assert hints() >= 4  # borrador: the note covers one commitment at most
    assert client.post(f"{url}/submit", headers=app).status_code == 200
    assert hints() == 0  # enviada
    for status, message in (("en_revision", ""), ("observada", "Falta la política.")):
        r = client.post(f"{url}/review", auth=ana, json={"status": status, "message": message})
        assert r.status_code == 200, r.text
    assert hints() >= 4  # observada: the applicant adds documents
    assert client.post(f"{url}/submit", headers=app).status_code == 200
    for status in ("en_revision", "aprobada"):
        assert client.post(f"{url}/review", auth=ana, json={"status": status}).status_code == 200
    assert hints() == 0


def test_a_final_verdict_refuses_a_reviewers_upload_until_reopened(client, run_worker_burst):
    """A reviewer's upload is taken in any status of the review, but not under a final verdict:
    the new document's passages would change the matrix the closed decisions rest on (as
    ``evidencia batch`` refuses a new file there, 409 ``add_locked``), until an admin reopens."""
    ana, _, jefa = _users()
    sub = _create(client, email=None)
    url, app = f"/api/submissions/{sub['id']}", _bearer(sub["token"])
    assert client.post(f"{url}/documents", files=[NOTE], headers=app).status_code == 202
    run_worker_burst()
    assert client.post(f"{url}/submit", headers=app).status_code == 200
    # in review, the reviewer adds a file the organisation sent another way
    assert client.post(f"{url}/review", auth=ana, json={"status": "en_revision"}).status_code == 200
    assert client.post(f"{url}/documents", files=[NOTE], auth=ana).status_code == 202
    assert client.post(f"{url}/review", auth=ana, json={"status": "aprobada"}).status_code == 200
    counted = client.get(url, auth=ana).json()["counts"]

    for who in (ana, jefa):
        r = client.post(f"{url}/documents", files=[NOTE], auth=who)
        assert r.status_code == 409, r.text
        assert r.json()["detail"]["code"] == "add_locked"
        assert r.json()["detail"]["message"].startswith(
            "La postulación ya tiene su resultado final («Aprobada»): no se le pueden agregar")
    assert client.get(url, auth=ana).json()["counts"] == counted

    r = client.post(f"{url}/review", auth=jefa,
                    json={"status": "en_revision", "message": "Falta el plan firmado."})
    assert r.status_code == 200, r.text
    assert client.post(f"{url}/documents", files=[NOTE], auth=ana).status_code == 202


_MONTHS = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
           "septiembre", "octubre", "noviembre", "diciembre")


def _file(name: str, text: str, field: str = "files"):
    return (field, (name, text.encode(), "text/plain"))


def test_the_reviewer_is_told_what_changed_in_the_documents_since_the_observation(
        client, run_worker_burst):
    """QA sweep 2026-12-07: after ``observada`` the applicant replaced and removed documents
    and resubmitted, and nothing told the reviewer which: replacements and removals left no
    entry in the review history. The reviewer's status and page now say what was added,
    replaced (old name → new name) and removed since the last observation, and when."""
    ana, _, _ = _users()
    sub = _create(client, email=None)
    sid, app = sub["id"], _bearer(sub["token"])
    url = f"/api/submissions/{sid}"
    docs = {}
    for name, text in (("acta.pdf.txt", "Acta del comité de inclusión, sin firmas."),
                       ("nomina.txt", "Nómina del comité: Ana Pérez, Luis Soto."),
                       ("politica.txt", "Política de inclusión de personas migrantes.")):
        r = client.post(f"{url}/documents", files=[_file(name, text)], headers=app)
        assert r.status_code == 202, r.text
        docs[name] = r.json()["documents"][0]["id"]
    run_worker_burst()
    assert client.post(f"{url}/submit", headers=app).status_code == 200
    assert client.post(f"{url}/review", auth=ana,
                       json={"status": "en_revision"}).status_code == 200

    # a first round: nothing changed since it was sent
    first = client.get(url, auth=ana).json()["review"]["document_changes"]
    assert first["since_status"] == "enviada"
    assert (first["added"], first["replaced"], first["removed"]) == ([], [], [])
    assert first["summary"].startswith("Sin cambios en los documentos desde el envío del ")

    r = client.post(f"{url}/review", auth=ana,
                    json={"status": "observada", "message": "El acta no está firmada."})
    assert r.status_code == 200, r.text
    observed_at = r.json()["history"][-1]["at"]

    # the applicant answers: replaces the act, removes the list, adds two, and one it regrets
    r = client.put(f"{url}/documents/{docs['acta.pdf.txt']}", headers=app,
                   files=[_file("acta-firmada.txt", "Acta del comité, firmada por todos.",
                                "file")])
    assert r.status_code == 202, r.text
    assert client.delete(f"{url}/documents/{docs['nomina.txt']}", headers=app).status_code == 204
    r = client.post(f"{url}/documents", headers=app,
                    files=[_file("plan.txt", "Plan de capacitación en interculturalidad."),
                           _file("fotos.txt", "Registro de la jornada con la comunidad."),
                           _file("borrador.txt", "Un archivo subido por error.")])
    assert r.status_code == 202, r.text
    regretted = r.json()["documents"][2]["id"]
    assert client.delete(f"{url}/documents/{regretted}", headers=app).status_code == 204
    run_worker_burst()
    assert client.post(f"{url}/submit", headers=app).status_code == 200

    changes = client.get(url, auth=ana).json()["review"]["document_changes"]
    assert changes["since_status"] == "observada" and changes["since"] == observed_at
    assert sorted(a["name"] for a in changes["added"]) == ["fotos.txt", "plan.txt"]
    assert [(c["old"], c["new"]) for c in changes["replaced"]] == [
        ("acta.pdf.txt", ["acta-firmada.txt"])]
    assert [c["name"] for c in changes["removed"]] == ["nomina.txt"]
    for entry in (*changes["added"], *changes["replaced"], *changes["removed"]):
        assert entry["at"] > observed_at and entry["at"][-6] in "+-"
    day = f"{int(observed_at[8:10])} de {_MONTHS[int(observed_at[5:7]) - 1]}"
    summary = (f"Cambios en los documentos desde la observación del {day}: 2 nuevos, "
               "1 reemplazado (acta.pdf.txt → acta-firmada.txt), 1 retirado")
    assert changes["summary"] == summary

    # the applicant's view does not carry it
    assert client.get(url, headers=app).json()["review"]["document_changes"] is None

    # the reviewer's page says it, each change with its name and when
    page = client.get(f"/revision/s/{sid}", auth=ana).text
    assert summary.replace("→", "&rarr;") in page or summary in page
    assert "data-document-changes" in page
    for name in ("plan.txt", "fotos.txt", "acta-firmada.txt", "nomina.txt"):
        assert name in page.split("data-document-changes", 1)[1].split("</section>", 1)[0]
    assert "borrador.txt" not in page.split("data-document-changes", 1)[1].split(
        "</section>", 1)[0]  # added and removed in the same round: nothing changed

    # claimed again and observed again: the next round starts from the new observation
    assert client.post(f"{url}/review", auth=ana,
                       json={"status": "en_revision"}).status_code == 200
    r = client.post(f"{url}/review", auth=ana, json={"status": "observada", "message": "x"})
    assert r.status_code == 200
    again = client.get(url, auth=ana).json()["review"]["document_changes"]
    assert again["since"] == r.json()["history"][-1]["at"]
    assert (again["added"], again["replaced"], again["removed"]) == ([], [], [])


def test_what_changed_in_the_documents_costs_one_query(client):
    """The reviewer's page and status read the changes with one statement, however many
    documents the submission holds."""
    from sqlalchemy import event

    from service.db import SessionLocal
    from service.domain import workflow

    sub = _create(client, email=None)
    url, app = f"/api/submissions/{sub['id']}", _bearer(sub["token"])
    for k in range(4):
        assert client.post(f"{url}/documents", headers=app,
                           files=[_file(f"doc{k}.txt", f"Documento número {k}.")]
                           ).status_code == 202
    assert client.post(f"{url}/submit", headers=app).status_code == 200
    with SessionLocal() as session:
        state = workflow.review_state(session, sub["id"])
        statements = []
        engine = session.get_bind()
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            changes = workflow.document_changes(session, sub["id"], state)
        finally:
            event.remove(engine, "before_cursor_execute", listener)
    assert len(statements) == 1, statements
    assert changes.since_status == "enviada" and not changes.changed


def test_what_changed_counts_net_changes_within_a_round(client):
    """A document replaced twice in a round is one replacement, from the name the reviewer saw
    to the last; one added and then replaced is an addition of the last."""
    ana, _, _ = _users()
    sub = _create(client, email=None)
    url, app = f"/api/submissions/{sub['id']}", _bearer(sub["token"])
    (acta,) = client.post(f"{url}/documents", headers=app,
                          files=[_file("acta.txt", "Acta sin firmas.")]).json()["documents"]
    assert client.post(f"{url}/submit", headers=app).status_code == 200
    for status in ("en_revision", "observada"):
        r = client.post(f"{url}/review", auth=ana, json={"status": status, "message": "Firmas."})
        assert r.status_code == 200, r.text

    def replace(doc_id, name, text):
        r = client.put(f"{url}/documents/{doc_id}", headers=app,
                       files=[_file(name, text, "file")])
        assert r.status_code == 202, r.text
        return r.json()["documents"][0]["id"]

    second = replace(acta["id"], "acta-v2.txt", "Acta con una firma.")
    replace(second, "acta-v3.txt", "Acta con todas las firmas.")
    (plan,) = client.post(f"{url}/documents", headers=app,
                          files=[_file("plan.txt", "Plan de trabajo.")]).json()["documents"]
    replace(plan["id"], "plan-2027.txt", "Plan de trabajo 2027.")
    assert client.post(f"{url}/submit", headers=app).status_code == 200

    changes = client.get(url, auth=ana).json()["review"]["document_changes"]
    assert [(c["old"], c["new"]) for c in changes["replaced"]] == [("acta.txt", ["acta-v3.txt"])]
    assert [a["name"] for a in changes["added"]] == ["plan-2027.txt"]
    assert changes["removed"] == []
    assert changes["summary"].endswith(": 1 nuevo, 1 reemplazado (acta.txt → acta-v3.txt)")


def test_a_message_too_long_says_the_limit_and_line_breaks_count_once(client):
    """QA 2026-12-08: a reviewer's message over 5,000 characters on the review form was
    refused with «Los datos enviados no son válidos.», which names neither the field nor the
    limit; and a browser sends a textarea's line breaks as two characters (CRLF) while its
    maxlength counted them as one, so a message the form let through could be refused."""
    ana, _, _ = _users()
    sub = _create(client)
    url, app = f"/api/submissions/{sub['id']}", _bearer(sub["token"])
    client.post(f"{url}/documents", files=[NOTE], headers=app)
    client.post(f"{url}/submit", headers=app)
    client.post(f"{url}/review", auth=ana, json={"status": "en_revision"})
    form = f"/revision/s/{sub['id']}/estado"
    page = client.get(f"/revision/s/{sub['id']}", auth=ana).text
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)

    too_long = ("Falta el acta. " * 334).strip()  # 5,009 characters
    r = client.post(form, auth=ana,
                    data={"estado": "observada", "mensaje": too_long, "csrf_token": token})
    assert r.status_code == 422
    assert "no puede superar 5.000 caracteres" in r.text and "tiene 5.009" in r.text
    assert too_long in r.text  # what was typed is kept
    r = client.post(f"{url}/review", auth=ana, json={
        "status": "observada", "commitments": {"c5": too_long}})
    assert r.status_code == 422 and r.json()["detail"]["code"] == "message_too_long"
    assert "Participación de personas extranjeras" in r.json()["detail"]["message"]

    typed = "\n".join(["Suba la nómina con la nacionalidad de cada integrante."] * 90)
    assert len(typed) <= 5000 < len(typed.replace("\n", "\r\n"))
    r = client.post(form, auth=ana, follow_redirects=False,
                    data={"estado": "observada", "mensaje": typed.replace("\n", "\r\n"),
                          "csrf_token": token})
    assert r.status_code == 303, r.text
    assert client.get(url, headers=app).json()["review"]["message"] == typed
