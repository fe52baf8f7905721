"""Idempotency keys: a request retried with the same ``Idempotency-Key`` gets the first answer
again and creates nothing twice.

A client that lost the answer to an upload or a submission creation (the API restarted, the
network dropped) sends the very same request again with the same key. The first request's
answer is stored in the same transaction as what it created (:func:`remember`, then the
caller's commit), so either both exist or neither does; the retry finds it (:func:`recall`)
and gets it back. The same key with a different request is refused (409): it is a client bug,
and guessing which request it meant would be worse. Keys are kept ``KEEP`` long.

An applicant's secret token in a stored answer is sealed with a key derived from
``EVIDENCIA_SECRET_KEY`` (Fernet), never kept in clear.
"""

from __future__ import annotations

import base64
import hashlib
import string
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from service.domain import clock
from service.domain.errors import ServiceError, ValidationError
from service.domain.models import IdempotencyKey

__all__ = ["HEADER", "KEEP", "Answer", "check_key", "fingerprint", "recall", "remember"]

#: The HTTP header clients send (as Stripe and the IETF draft name it).
HEADER = "Idempotency-Key"
#: How long an answer is kept for a retry; after that the key is free again.
KEEP = timedelta(hours=24)
#: Fields of an answer that are secrets: sealed when stored.
_SECRETS = ("token",)
_ALLOWED = frozenset(string.ascii_letters + string.digits + "-_.:")


@dataclass(frozen=True, slots=True)
class Answer:
    """The answer given to the first request with a key."""

    status_code: int
    body: dict


def check_key(key: str) -> str:
    """The key, or a Spanish 422: 1-200 letters, digits and ``- _ . :`` (a UUID fits)."""
    if not key or len(key) > 200 or not set(key) <= _ALLOWED:
        raise ValidationError(code="invalid_idempotency_key", field=HEADER)
    return key


def fingerprint(parts: Iterable[bytes | str]) -> str:
    """A digest of what a request asks for, to tell a retry from another request."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


def recall(session: Session, scope: str, key: str, request: str) -> Answer | None:
    """The answer stored for this key, or None if it is new (or expired). Raises 409 if the
    key came with another request (``request`` is its :func:`fingerprint`)."""
    row = session.get(IdempotencyKey, (scope, key))
    if row is None:
        return None
    if clock.aware(row.created_at) < clock.now() - KEEP:
        session.delete(row)
        session.flush()
        return None
    if row.fingerprint != request:
        raise ServiceError(code="idempotency_conflict")
    return Answer(row.status_code, _open(row.response))


def remember(session: Session, scope: str, key: str, request: str, status_code: int,
             body: dict) -> None:
    """Store the answer with what the request created: added, not committed (the caller's
    commit makes both durable together; a concurrent retry's commit fails on the key)."""
    session.add(IdempotencyKey(scope=scope, key=key, fingerprint=request,
                               status_code=status_code, response=_seal(body)))


def _fernet():
    from cryptography.fernet import Fernet

    from service.settings import get_settings

    secret = hashlib.sha256(b"evidencia-idempotency:" + get_settings().secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(secret.digest()))


def _seal(body: dict) -> dict:
    sealed = {k: _fernet().encrypt(str(v).encode()).decode()
              for k, v in body.items() if k in _SECRETS and v is not None}
    return {"body": {k: v for k, v in body.items() if k not in sealed}, "sealed": sealed}


def _open(stored: dict) -> dict:
    from cryptography.fernet import InvalidToken

    body = dict(stored.get("body") or {})
    for name, value in (stored.get("sealed") or {}).items():
        try:
            body[name] = _fernet().decrypt(value.encode()).decode()
        except InvalidToken:  # the secret key changed since: the secret cannot be given back
            raise ServiceError(code="idempotency_conflict") from None
    return body
