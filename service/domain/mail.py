"""E-mail to applicants through an outbox: written with what caused it, sent by a job.

An outcome (``observada``, ``aprobada``, ``no_aprobada``) or a lost-link request writes an
:class:`~service.domain.models.OutboxEmail` row in the transaction that records it; once
committed, :func:`dispatch` queues the job (``evidencia_queue.jobs.send_email``) that calls
:func:`send_outbox`. A failed send is retried by rq with growing intervals; every failure is
logged and kept on the row (``attempts``, ``last_error``), and no failure undoes the
transition. Rows whose job was lost (Redis down at the time) are queued again by the workers'
sweep (:func:`unsent`). With no ``EVIDENCIA_SMTP_HOST`` nothing is sent: rows end ``skipped``.

Secret links are never kept: the body holds ``{link}`` and the link lives in ``secret`` only
until the e-mail is sent or given up.
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from service.domain import clock, messages
from service.domain.errors import ValidationError
from service.domain.models import OutboxEmail, ReviewEvent, Submission

__all__ = [
    "normalize_email",
    "applicant_link",
    "queue_outcome",
    "request_link",
    "sending_enabled",
    "dispatch",
    "send_outbox",
    "unsent",
    "MailError",
]

log = logging.getLogger(__name__)

#: One @, a dot in the domain, no spaces: what a form can check without asking DNS.
_EMAIL = re.compile(r"^[^@\s<>(),;:\"]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+$")


class MailError(Exception):
    """A send failed; rq tries again later."""


def normalize_email(text: str | None) -> str | None:
    """``" Ana@Org.CL "`` → ``"Ana@org.cl"`` (the domain lower-cased); empty → None; raises
    ValidationError (field "email") when it cannot be an address."""
    value = (text or "").strip()
    if not value:
        return None
    if len(value) > 254 or not _EMAIL.match(value):
        raise ValidationError(code="invalid_email", field="email")
    local, _, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


def applicant_link(submission_id: str, token: str) -> str:
    from service.settings import get_settings

    return f"{get_settings().public_url.rstrip('/')}/s/{submission_id}?t={token}"


def _recover_url() -> str:
    from service.settings import get_settings

    return f"{get_settings().public_url.rstrip('/')}/recuperar"


def queue_outcome(session: Session, submission: Submission,
                  event: ReviewEvent) -> OutboxEmail | None:
    """The outcome e-mail of a review step, added to the session (the caller commits it with
    the step); None when the applicant left no address."""
    if not submission.contact_email:
        return None
    subject, opening = messages.EMAILS[event.to_status]
    lines = [opening.format(organization=submission.organization.name), ""]
    if event.message:
        lines += [messages.EMAIL_LABELS["general"], event.message, ""]
    if event.commitments:
        lines.append(messages.EMAIL_LABELS["per_commitment"])
        for cid, text in event.commitments.items():
            lines.append(f"- {messages.commitment_short(cid)} ({cid}): {text}")
        lines.append("")
    lines += [messages.EMAIL_LABELS["read_more"].format(url=_recover_url()), "",
              messages.EMAIL_LABELS["signature"]]
    row = OutboxEmail(submission_id=submission.id, kind=event.to_status,
                      to_address=submission.contact_email, subject=subject,
                      body="\n".join(lines))
    session.add(row)
    session.flush()
    return row


def sending_enabled() -> bool:
    """Whether e-mail leaves this server at all (``EVIDENCIA_SMTP_HOST`` set)."""
    from service.settings import get_settings

    return bool(get_settings().smtp_host)


def request_link(session: Session, rut: str, email: str) -> int:
    """"Perdí el enlace": each submission of this RUT whose contact is this address gets a new
    secret token (only hashes are stored, so the old link cannot be sent again: it stops
    working) and an e-mail with the new link. Commits; returns how many, which the caller must
    never tell (the answer is the same whether or not the pair exists).

    Without e-mail (:func:`sending_enabled`) nothing changes: a new token nobody can receive
    would only lock the applicant out of the link they may still have."""
    from service.domain.access import hash_token, new_token
    from service.domain.models import Organization
    from service.domain.rut import RutError
    from service.domain.rut import normalize_rut as _normalize_rut

    try:
        normalized_rut = _normalize_rut(rut)
        address = normalize_email(email)
    except (RutError, ValidationError):
        return 0
    if address is None:
        return 0
    if not sending_enabled():
        log.warning("lost-link request not served: no EVIDENCIA_SMTP_HOST to send the link")
        return 0
    found = session.scalars(
        select(Submission)
        .join(Organization, Organization.id == Submission.organization_id)
        .where(Organization.rut == normalized_rut,
               func.lower(Submission.contact_email) == address.lower())
        .options(joinedload(Submission.organization))
    ).all()
    subject, opening = messages.EMAILS["lost_link"]
    rows = []
    for submission in found:
        token = new_token()
        submission.token_hash = hash_token(token)
        body = "\n".join([
            opening.format(organization=submission.organization.name,
                           created=messages.format_datetime(submission.created_at)),
            "", messages.EMAIL_LABELS["signature"],
        ])
        row = OutboxEmail(submission_id=submission.id, kind="lost_link",
                          to_address=submission.contact_email,
                          subject=subject, body=body,
                          secret=applicant_link(submission.id, token))
        session.add(row)
        rows.append(row)
    session.commit()
    for row in rows:
        dispatch(row.id)
    return len(rows)


def dispatch(outbox_id: int) -> None:
    """Queue the sending of a committed outbox row; if the queue is down the row waits for
    the workers' sweep."""
    from service.domain.dispatch import get_dispatcher

    try:
        get_dispatcher().enqueue_email(outbox_id)
    except Exception:
        log.warning("could not queue e-mail %s; the workers' sweep will", outbox_id,
                    exc_info=True)


def unsent(session: Session, older_than: timedelta = timedelta(minutes=2)) -> list[int]:
    """Pending rows old enough that their job should have run (the sweep queues them again;
    queueing is idempotent)."""
    cutoff = clock.now() - older_than
    return list(session.scalars(
        select(OutboxEmail.id)
        .where(OutboxEmail.status == "pending", OutboxEmail.created_at < cutoff)
        .order_by(OutboxEmail.id).limit(500)
    ))


def send_outbox(outbox_id: int, *, last_attempt: bool = True) -> str:
    """Send one outbox row (the job); returns its status. Raises MailError on a failure
    that another attempt may fix, unless this is the last attempt (then: ``failed``)."""
    from service.db import SessionLocal
    from service.settings import get_settings

    settings = get_settings()
    with SessionLocal() as session:
        row = session.get(OutboxEmail, outbox_id)
        if row is None or row.status != "pending":
            return row.status if row is not None else "missing"
        if not settings.smtp_host:
            row.status, row.secret = "skipped", None
            session.commit()
            log.warning("e-mail %s (%s) not sent: no EVIDENCIA_SMTP_HOST", row.id, row.kind)
            return row.status
        row.attempts += 1
        try:
            _deliver(settings, row)
        except Exception as exc:
            row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if last_attempt:
                row.status, row.secret = "failed", None
            session.commit()
            log.warning("e-mail %s to %s failed (attempt %d%s): %s", row.id, row.to_address,
                        row.attempts, ", giving up" if last_attempt else "", row.last_error)
            if last_attempt:
                return row.status
            raise MailError(row.last_error) from exc
        row.status, row.secret, row.sent_at, row.last_error = "sent", None, clock.now(), None
        session.commit()
        log.info("e-mail %s (%s) sent to %s", row.id, row.kind, row.to_address)
        return row.status


def _deliver(settings, row: OutboxEmail) -> None:
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="evidencia")
    body = row.body if row.secret is None else row.body.replace("{link}", row.secret)
    message.set_content(body)
    if settings.smtp_tls == "ssl":
        smtp = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port,
                                timeout=settings.smtp_timeout,
                                context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port,
                            timeout=settings.smtp_timeout)
    with smtp:
        if settings.smtp_tls == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password)
        smtp.send_message(message)
