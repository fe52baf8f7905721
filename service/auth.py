"""Reviewer accounts (argon2 password hashes) and applicants' secret submission tokens.

Applicants have no account: creating a submission returns a random token once; only its sha256
is stored, and checks compare digests in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import Submission, User

__all__ = [
    "ROLES",
    "hash_password",
    "verify_password",
    "create_user",
    "authenticate",
    "new_token",
    "hash_token",
    "check_submission_token",
]

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
