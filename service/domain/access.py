"""Who may see what: reviewer accounts and sessions, applicants' secret submission tokens.

Reviewers log in (argon2 password hashes) and carry a signed session (a cookie for the pages,
the same value as a bearer token for the API). Applicants have no account: creating a
submission returns a random token once; only its sha256 is stored, and checks compare digests
in constant time. :func:`check_access` is the one rule both the API and the pages apply.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.domain.models import Submission, User

__all__ = [
    "Access",
    "check_access",
    "ROLES",
    "hash_password",
    "verify_password",
    "create_user",
    "authenticate",
    "new_token",
    "hash_token",
    "check_submission_token",
    "SESSION_COOKIE",
    "SESSION_MAX_AGE",
    "sign_session",
    "load_session",
]

#: Cookie (web pages) that carries the same signed value as an API bearer session token.
SESSION_COOKIE = "evidencia_session"
#: A reviewer's session lasts a working day.
SESSION_MAX_AGE = 12 * 3600

ROLES = ("reviewer", "admin")

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_user(session: Session, username: str, password: str, role: str = "reviewer") -> User:
    """Create the reviewer, or reset the password and role of an existing one."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    if not username.strip() or not password:
        raise ValueError("username and password are required")
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        user = User(username=username.strip(), password_hash=hash_password(password), role=role)
        session.add(user)
    else:
        user.password_hash = hash_password(password)
        user.role = role
    session.commit()
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        _hasher.hash(password)  # same cost whether or not the user exists
        return None
    return user if verify_password(user.password_hash, password) else None


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_submission_token(submission: Submission, token: str | None) -> bool:
    if not token:
        return False
    return hmac.compare_digest(submission.token_hash, hash_token(token))


@dataclass(frozen=True, slots=True)
class Access:
    """A caller allowed to see ``submission``: a reviewer, or the holder of its token."""

    submission: Submission
    reviewer: User | None = None
    token: str | None = None

    @property
    def is_reviewer(self) -> bool:
        return self.reviewer is not None


def check_access(submission: Submission, *, reviewer: User | None, token: str | None) -> Access:
    """Reviewers see every submission; anyone else needs that submission's token
    (AuthenticationError without one, PermissionDeniedError with another's)."""
    from service.domain.errors import AuthenticationError, PermissionDeniedError

    if reviewer is not None:
        return Access(submission, reviewer)
    if not token:
        raise AuthenticationError()
    if not check_submission_token(submission, token):
        raise PermissionDeniedError()
    return Access(submission, token=token)


def _serializer() -> URLSafeTimedSerializer:
    from service.settings import get_settings

    return URLSafeTimedSerializer(get_settings().secret_key, salt="evidencia-session")


def sign_session(user: User) -> str:
    """Signed session value for a reviewer: the ``evidencia_session`` cookie or a bearer token.

    It carries a fingerprint of the password hash, so changing the password ends old sessions.
    """
    return _serializer().dumps({"uid": user.id, "pw": user.password_hash[-16:]})


def load_session(session: Session, value: str | None, max_age: int = SESSION_MAX_AGE):
    """The reviewer a signed session value belongs to, or None (bad, expired or revoked)."""
    if not value:
        return None
    try:
        data = _serializer().loads(value, max_age=max_age)
    except BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    user = session.get(User, data.get("uid"))
    if user is None or user.password_hash[-16:] != data.get("pw"):
        return None
    return user
