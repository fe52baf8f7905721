"""E-mail to applicants (issue 11): outcomes and a lost link, through the outbox, the real rq
queue and a real SMTP server in-process (aiosmtpd), whose messages are read back."""

from __future__ import annotations

import re

import pytest

from tests.smtp import SmtpSink, body_of

NOTE = ("files", ("acta.txt", "Acta de constitución del comité de inclusión.".encode(),
                  "text/plain"))
ADDRESS = "postulacion@acoge.cl"


@pytest.fixture
def smtp(service_env, monkeypatch):
    from service.settings import get_settings

    with SmtpSink() as sink:
        for key, value in sink.env().items():
            monkeypatch.setenv(key, value)
        get_settings.cache_clear()
        yield sink
    get_settings.cache_clear()


def _submitted(client, email=ADDRESS):
    from service.db import SessionLocal
    from service.domain.access import create_user, open_session

    sub = client.post("/api/submissions", json={
        "organization": "Fundación Acoge", "rut": "76.543.210-3", "email": email}).json()
    app = {"Authorization": f"Bearer {sub['token']}"}
    client.post(f"/api/submissions/{sub['id']}/documents", files=[NOTE], headers=app)
    assert client.post(f"/api/submissions/{sub['id']}/submit", headers=app).status_code == 200
    with SessionLocal() as session:
        token = open_session(session, create_user(session, "ana", "clave-de-ana-2026"))
    reviewer = {"Authorization": f"Bearer {token}"}
    r = client.post(f"/api/submissions/{sub['id']}/review", headers=reviewer,
                    json={"status": "en_revision"})
    assert r.status_code == 200
    return sub, reviewer


def _outbox():
    from sqlalchemy import select

    from service.db import SessionLocal
    from service.domain.models import OutboxEmail

    with SessionLocal() as session:
        return [(o.kind, o.status, o.attempts, o.secret, o.last_error)
                for o in session.scalars(select(OutboxEmail).order_by(OutboxEmail.id))]


def test_observada_reaches_the_applicant_by_email(client, smtp, run_worker_burst):
    sub, reviewer = _submitted(client)
    r = client.post(f"/api/submissions/{sub['id']}/review", headers=reviewer, json={
        "status": "observada", "message": "Faltan antecedentes de la participación.",
        "commitments": {"c5": "Envíe la nómina del comité con la nacionalidad de cada uno."}})
    assert r.status_code == 200
    assert _outbox() == [("observada", "pending", 0, None, None)]  # with the transition
    run_worker_burst()
    (message,) = smtp.wait_for(ADDRESS)
    assert message["Subject"] == "Compromiso Migrante: se solicitan cambios en su postulación"
    assert "no-responder@evidencia.test" in message["From"]
    body = body_of(message)
    assert "postulación de Fundación Acoge" in body
    assert "Faltan antecedentes de la participación." in body
    assert ("- Participación de personas extranjeras (c5): Envíe la nómina del comité con la "
            "nacionalidad de cada uno.") in body
    assert "http://testserver/recuperar" in body
    assert _outbox() == [("observada", "sent", 1, None, None)]


def test_a_lost_link_is_sent_again_and_the_old_one_stops_working(client, smtp,
                                                                 run_worker_burst):
    sub, _ = _submitted(client)
    url = f"/api/submissions/{sub['id']}"
    answers = [client.post("/api/submissions/lost-link", json={"rut": rut, "email": email})
               for rut, email in (("76.543.210-3", "POSTULACION@acoge.cl"),
                                  ("76.543.210-3", "otra@acoge.cl"),
                                  ("77.214.538-1", ADDRESS), ("no-es-rut", "x"))]
    assert {r.status_code for r in answers} == {202}
    assert len({r.text for r in answers}) == 1  # never says whether the pair exists
    assert "enviamos a ese correo un enlace nuevo" in answers[0].json()["message"]
    assert client.get(url, headers={"Authorization": f"Bearer {sub['token']}"}).status_code \
        == 403
    run_worker_burst()
    (message,) = smtp.wait_for(ADDRESS)
    assert message["Subject"] == "Compromiso Migrante: nuevo enlace a su postulación"
    link = next(w for w in body_of(message).split() if w.startswith("http://testserver/s/"))
    new_token = link.split("?t=", 1)[1]
    assert link == f"http://testserver/s/{sub['id']}?t={new_token}"
    assert client.get(url, headers={"Authorization": f"Bearer {new_token}"}).status_code == 200
    assert _outbox() == [("lost_link", "sent", 1, None, None)]  # the link is not kept


def test_a_failing_smtp_server_never_loses_the_transition(client, service_env, monkeypatch):
    from service.domain import mail
    from service.settings import get_settings
    from tests.conftest import free_port

    sub, reviewer = _submitted(client)
    monkeypatch.setenv("EVIDENCIA_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("EVIDENCIA_SMTP_PORT", str(free_port()))  # nobody listens
    monkeypatch.setenv("EVIDENCIA_SMTP_TLS", "none")
    get_settings.cache_clear()
    r = client.post(f"/api/submissions/{sub['id']}/review", headers=reviewer,
                    json={"status": "aprobada"})
    assert r.status_code == 200 and r.json()["status"] == "aprobada"
    ((kind, status, attempts, _, _),) = _outbox()
    with pytest.raises(mail.MailError):
        mail.send_outbox(1, last_attempt=False)  # rq retries it later
    assert _outbox()[0][1:3] == ("pending", 1) and "ConnectionRefused" in _outbox()[0][4]
    assert mail.send_outbox(1, last_attempt=True) == "failed"
    assert _outbox()[0][1:3] == ("failed", 2)
    body = client.get(f"/api/submissions/{sub['id']}", headers=reviewer).json()
    assert body["review"]["status"] == "aprobada"


def test_without_an_smtp_host_nothing_is_sent(client, service_env, run_worker_burst):
    sub, reviewer = _submitted(client)
    client.post(f"/api/submissions/{sub['id']}/review", headers=reviewer,
                json={"status": "no_aprobada", "message": "No se acreditó ningún compromiso."})
    run_worker_burst()
    assert _outbox() == [("no_aprobada", "skipped", 0, None, None)]


def test_an_email_whose_job_was_lost_is_queued_again_by_the_sweep(client, smtp,
                                                                   run_worker_burst, redis_url):
    """Redis lost the job (flushed) after the transition committed: the workers' sweep finds
    the row still pending and queues it again."""
    from datetime import timedelta

    import redis
    from evidencia_queue.recovery import _requeue_mail
    from sqlalchemy import update

    from service.db import SessionLocal
    from service.domain import clock
    from service.domain.models import OutboxEmail

    sub, reviewer = _submitted(client)
    client.post(f"/api/submissions/{sub['id']}/review", headers=reviewer,
                json={"status": "aprobada"})
    redis.Redis.from_url(redis_url).flushdb()
    with SessionLocal() as session:
        session.execute(update(OutboxEmail).values(
            created_at=clock.now() - timedelta(minutes=5)))
        session.commit()
    _requeue_mail()
    run_worker_burst()
    (message,) = smtp.wait_for(ADDRESS)
    assert message["Subject"] == "Compromiso Migrante: su postulación fue aprobada"
    assert _outbox()[0][:3] == ("aprobada", "sent", 1)


def test_a_lost_link_is_not_replaced_when_no_email_can_carry_it(client, monkeypatch):
    """QA 2026-12-06: without EVIDENCIA_SMTP_HOST (`evidencia up`'s default) "Perdí el enlace"
    replaced the token, so the applicant's only link stopped working, and said a new one had
    been sent: nothing was. Now nothing changes, and the answer says so (the same for any
    pair)."""
    from service.settings import get_settings

    monkeypatch.delenv("EVIDENCIA_SMTP_HOST", raising=False)
    get_settings.cache_clear()
    sub = client.post("/api/submissions", json={
        "organization": "Fundación Acoge", "rut": "76.543.210-3", "email": ADDRESS}).json()
    answers = [client.post("/api/submissions/lost-link", json={"rut": rut, "email": email})
               for rut, email in (("76.543.210-3", ADDRESS), ("77.214.538-1", ADDRESS))]
    assert {r.status_code for r in answers} == {202}
    assert len({r.text for r in answers}) == 1
    assert "no envía correos" in answers[0].json()["message"]
    assert "sigue funcionando" in answers[0].json()["message"]
    mine = {"Authorization": f"Bearer {sub['token']}"}
    assert client.get(f"/api/submissions/{sub['id']}", headers=mine).status_code == 200
    assert _outbox() == []
    form = client.get("/recuperar").text
    assert "no envía correos" in form and "Enviar un enlace nuevo" not in form  # said first
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', form).group(1)
    page = client.post("/recuperar", data={"rut": "76.543.210-3", "correo": ADDRESS,
                                           "csrf_token": csrf})
    assert page.status_code == 200 and "no envía correos" in page.text
    assert client.get(f"/api/submissions/{sub['id']}", headers=mine).status_code == 200
