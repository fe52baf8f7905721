"""Dependencies shared by the routers, as ``Annotated`` aliases.

- ``SessionDep``: a database session closed after the request.
- ``CurrentReviewer`` / ``OptionalReviewer``: a reviewer from HTTP Basic, a bearer session token
  or the signed ``evidencia_session`` cookie (the web pages and the API share it).
- ``SubmissionAccess``: the submission in the path, if the caller is a reviewer or holds that
  submission's applicant token (``Authorization: Bearer``, ``X-Submission-Token`` or ``?token=``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import (
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
)
from sqlalchemy.orm import Session

from service.db import SessionLocal
from service.domain.access import SESSION_COOKIE, authenticate, check_submission_token, load_session
from service.domain.errors import AuthenticationError, PermissionDeniedError
from service.domain.models import Submission, User
from service.domain.submissions import get_submission

__all__ = [
    "get_session",
    "SessionDep",
    "OptionalReviewer",
    "CurrentReviewer",
    "Access",
    "SubmissionAccess",
]


def get_session() -> Iterator[Session]:
    session = SessionLocal()
    try:
        yield session
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]

_basic = HTTPBasic(auto_error=False, description="Reviewer username and password")
_bearer = HTTPBearer(
    auto_error=False,
    description="Applicant submission token, or a reviewer session token from POST /api/session",
)
BasicDep = Annotated[HTTPBasicCredentials | None, Depends(_basic)]
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def optional_reviewer(
    request: Request, session: SessionDep, basic: BasicDep, bearer: BearerDep
) -> User | None:
    if basic is not None:
        user = authenticate(session, basic.username, basic.password)
        if user is None:
            raise AuthenticationError(code="bad_credentials")
        return user
    if bearer is not None:
        user = load_session(session, bearer.credentials)
        if user is not None:
            return user
    return load_session(session, request.cookies.get(SESSION_COOKIE))


OptionalReviewer = Annotated[User | None, Depends(optional_reviewer)]


def current_reviewer(user: OptionalReviewer) -> User:
    if user is None:
        raise AuthenticationError()
    return user


CurrentReviewer = Annotated[User, Depends(current_reviewer)]


@dataclass(frozen=True, slots=True)
class Access:
    submission: Submission
    reviewer: User | None = None

    @property
    def is_reviewer(self) -> bool:
        return self.reviewer is not None


def submission_access(
    submission_id: str,
    request: Request,
    session: SessionDep,
    reviewer: OptionalReviewer,
    bearer: BearerDep,
) -> Access:
    submission = get_submission(session, submission_id)
    if reviewer is not None:
        return Access(submission, reviewer)
    token = (
        (bearer.credentials if bearer is not None else None)
        or request.headers.get("x-submission-token")
        or request.query_params.get("token")
    )
    if not token:
        raise AuthenticationError()
    if not check_submission_token(submission, token):
        raise PermissionDeniedError()
    return Access(submission)


SubmissionAccess = Annotated[Access, Depends(submission_access)]
