"""Who may see what: reviewer accounts and sessions, applicants' secret submission tokens.

Reviewers log in (argon2 password hashes) and get a server-side session (``reviewer_sessions``):
the client holds only a random token (a cookie for the pages, the same value as a bearer token
for the API), which logout, a password change or the account's removal revokes. Applicants
have no account: creating a submission returns a random token once; only its sha256 is stored,
and checks compare digests in constant time. :func:`check_access` is the one rule both the API
and the pages apply.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service.domain import clock
from service.domain.models import ReviewerSession, Submission, User
from service.domain.password_policy import check_password

__all__ = [
    "Access",
    "SubmissionStamp",
    "check_access",
    "ROLES",
    "hash_password",
    "verify_password",
    "create_user",
    "check_username",
    "authenticate",
    "new_token",
    "hash_token",
    "check_submission_token",
    "SESSION_COOKIE",
    "SESSION_MAX_AGE",
    "open_session",
    "load_session",
    "close_session",
    "remove_user",
]

#: Cookie (web pages) that carries the same session token as an API bearer token.
SESSION_COOKIE = "evidencia_session"
#: Cookie that keeps an applicant's secret token, scoped to the path of their submission.
APPLICANT_COOKIE = "evidencia_t"
#: Marks a reviewer's session token apart from an applicant's (both travel as bearer tokens):
#: ``.`` never occurs in ``token_urlsafe`` output, so an applicant's token costs no lookup.
_SESSION_PREFIX = "rv."
#: A reviewer's session lasts a working day.
SESSION_MAX_AGE = 12 * 3600

ROLES = ("reviewer", "admin")

_hasher = PasswordHasher()


@cache
def _hash_turns(slots: int) -> threading.BoundedSemaphore:
    return threading.BoundedSemaphore(slots)


@contextmanager
def _hash_turn():
    """A turn to run argon2, which takes 64 MiB while it runs: at most ``password_hash_slots``
    at once per process, so a burst of parallel guesses queues instead of growing memory (80
    at once took 1 GB); one that waits longer than ``db_pool_timeout`` is told "busy" (503)."""
    from service.domain.errors import UnavailableError
    from service.settings import get_settings

    settings = get_settings()
    turns = _hash_turns(settings.password_hash_slots)
    if not turns.acquire(timeout=settings.db_pool_timeout):
        raise UnavailableError(code="busy")
    try:
        yield
    finally:
        turns.release()


def hash_password(password: str) -> str:
    with _hash_turn():
        return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        with _hash_turn():
            return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_user(session: Session, username: str, password: str,
                role: str | None = "reviewer") -> User:
    """Create the reviewer, or reset the password and role of an existing one (which ends its
    sessions and reactivates a removed account); ``role=None``: a new one is a reviewer, an
    existing one keeps its role (a password reset must not demote an admin). The password
    must meet the policy (``service.domain.password_policy``: ``ValidationError`` saying why)."""
    if role is not None and role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    if not password:
        raise ValueError("a password is required")
    check_username(username)
    check_password(password, username)
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        user = User(username=username.strip(), password_hash=hash_password(password),
                    role=role or "reviewer")
        session.add(user)
    else:
        user.password_hash = hash_password(password)
        user.role = role or user.role
        user.active = True
        _end_sessions_of(session, user)
    session.commit()
    return user


#: The longest user name: the column's, which the login form takes too.
USERNAME_MAX = User.__table__.c.username.type.length


def check_username(username: str) -> None:
    """Refuse a user name nobody could log in with (``ValidationError``, Spanish, says why):
    blank, longer than the login form takes, or with a control character (a tab, a line
    break) that cannot be typed into it."""
    from service.domain.errors import ValidationError
    from service.domain.messages import error_message

    name = username.strip()
    problem = ("blank" if not name else "long" if len(name) > USERNAME_MAX
               else "control" if any(unicodedata.category(c) == "Cc" for c in name) else None)
    if problem is not None:
        raise ValidationError(error_message(f"bad_username_{problem}", max=USERNAME_MAX),
                              field="username")


def remove_user(session: Session, username: str) -> User | None:
    """Deactivate a reviewer and end its sessions; the row stays (its decisions name it)."""
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is not None:
        user.active = False
        _end_sessions_of(session, user)
        session.commit()
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    if "\x00" in username:  # PostgreSQL cannot even compare it: no such user
        hash_password(password)
        return None
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        hash_password(password)  # same cost whether or not the user exists
        return None
    return user if verify_password(user.password_hash, password) else None


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class SubmissionStamp:
    """What the cached reads (status, matrix) need of a submission: its id, its version stamp
    and the digest its applicant token is checked against, read in one statement without the
    ORM (``service.domain.submissions.read_stamp``)."""

    id: str
    version: int
    token_hash: str


def check_submission_token(submission: Submission | SubmissionStamp, token: str | None) -> bool:
    if not token:
        return False
    return hmac.compare_digest(submission.token_hash, hash_token(token))


@dataclass(frozen=True, slots=True)
class Access:
    """A caller allowed to see ``submission``: a reviewer, or the holder of its token. The
    submission is the ORM row, or for the cached reads only its :class:`SubmissionStamp`."""

    submission: Submission | SubmissionStamp
    reviewer: User | None = None
    token: str | None = None

    @property
    def is_reviewer(self) -> bool:
        return self.reviewer is not None


def check_access(submission: Submission | SubmissionStamp, *, reviewer: User | None,
                 token: str | None) -> Access:
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


def _session_id(token: str) -> str:
    """What the table stores for a session token: its HMAC under the secret key, so a copy of
    the database opens no session, and a new key ends every session at once."""
    from service.settings import get_settings

    key = get_settings().secret_key.encode("utf-8")
    return hmac.new(key, token.encode("utf-8"), hashlib.sha256).hexdigest()


def open_session(session: Session, user: User) -> str:
    """A new session for ``user``: the random token it gives the client (cookie ``evidencia_
    session`` or bearer token). Expired sessions are purged on the way."""
    now = clock.now()
    session.execute(delete(ReviewerSession).where(ReviewerSession.expires_at < now))
    token = _SESSION_PREFIX + secrets.token_urlsafe(32)
    session.add(ReviewerSession(id=_session_id(token), user_id=user.id, created_at=now,
                                expires_at=now + timedelta(seconds=SESSION_MAX_AGE)))
    session.commit()
    return token


def load_session(session: Session, token: str | None) -> User | None:
    """The active reviewer whose unexpired session ``token`` is, or None."""
    if not token or not token.startswith(_SESSION_PREFIX) or len(token) > 200:
        return None  # an applicant's token (or nothing): no database round trip
    row = session.get(ReviewerSession, _session_id(token))
    if row is None or clock.aware(row.expires_at) <= clock.now():
        return None
    user = row.user
    return user if user.active else None


def close_session(session: Session, token: str | None) -> None:
    """Logout: the session ends on the server, wherever its token was copied."""
    if token and token.startswith(_SESSION_PREFIX) and len(token) <= 200:
        session.execute(delete(ReviewerSession).where(ReviewerSession.id == _session_id(token)))
        session.commit()


def _end_sessions_of(session: Session, user: User) -> None:
    session.execute(delete(ReviewerSession).where(ReviewerSession.user_id == user.id))
