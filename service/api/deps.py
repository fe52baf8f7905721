"""Dependencies shared by the routers, as ``Annotated`` aliases.

- ``SessionDep``: a database session closed after the request. At most ``db_pool_size``
  requests hold one at a time: the others wait in the event loop, holding no thread, and get a
  503 after ``db_pool_timeout`` seconds (see :func:`get_session`).
- ``CurrentReviewer`` / ``OptionalReviewer``: a reviewer from HTTP Basic, a bearer session token
  or the ``evidencia_session`` cookie (the web pages and the API share it), sessions being
  rows of ``reviewer_sessions`` (``service.domain.access``).
- ``SubmissionAccess``: the submission in the path, if the caller is a reviewer or holds that
  submission's applicant token (``Authorization: Bearer``, ``X-Submission-Token`` or ``?token=``).
- ``StampAccess``: the same check for the answers kept per version (status, matrix): the
  submission's version stamp and token digest in one statement on an autocommit connection,
  in one thread hop, with no ORM session unless a reviewer must be looked up (see
  :func:`stamp_access`); :func:`resolve_stamp_access` resolves it, the app-wide checks
  (:data:`APP_CHECKS`) first, by calling the same functions without FastAPI's resolution.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

import anyio
from fastapi import Depends, FastAPI, Path, Request
from fastapi.security import (
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
)
from sqlalchemy.orm import Session

from service.api.inputs import refuse_unstorable_input
from service.db import SessionLocal
from service.domain.access import (
    SESSION_COOKIE,
    Access,
    check_access,
    check_submission_token,
    load_session,
)
from service.domain.errors import (
    AuthenticationError,
    UnavailableError,
)
from service.domain.models import User
from service.domain.submissions import get_submission, read_stamp
from service.security import csrf_protect
from service.throttle import DEVICE_COOKIE, authenticate_limited, client_address

__all__ = [
    "APP_CHECKS",
    "get_session",
    "database_turn",
    "BearerDep",
    "configure_concurrency",
    "SessionDep",
    "OptionalReviewer",
    "CurrentReviewer",
    "Access",
    "SubmissionAccess",
    "StampAccess",
    "resolve_stamp_access",
]

#: The checks every request passes before its route, in this order (the app's dependencies):
#: the CSRF check, then the input no database may store.
APP_CHECKS = (csrf_protect, refuse_unstorable_input)


def configure_concurrency(app: FastAPI) -> None:
    """The threadpool and the database gate, sized from the pool (call inside the event loop).

    Why a gate: a request's session keeps its connection across several thread hops (each sync
    dependency and the route run in a thread). Without one, more requests than pooled
    connections fill every thread waiting for a connection, while the requests holding the
    connections wait for a thread: the API stops answering until the pool times out.
    """
    from service.settings import get_settings

    settings = get_settings()
    anyio.to_thread.current_default_thread_limiter().total_tokens = settings.api_threads
    app.state.db_gate = anyio.Semaphore(settings.db_pool_size)


@asynccontextmanager
async def database_turn(request: Request) -> AsyncIterator[None]:
    """A turn at the database for this request (see :func:`configure_concurrency`), waited
    for in the event loop without a thread; 503 (``busy``) after ``db_pool_timeout``."""
    from service.settings import get_settings

    gate = getattr(request.app.state, "db_gate", None)
    if gate is None:  # an app driven without its lifespan (tests calling routes directly)
        configure_concurrency(request.app)
        gate = request.app.state.db_gate
    try:
        with anyio.fail_after(get_settings().db_pool_timeout):
            await gate.acquire()
    except TimeoutError:
        raise UnavailableError(code="busy") from None
    try:
        yield
    finally:
        gate.release()


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A session for this request, once it is admitted to the database (503 if it waits
    longer than ``db_pool_timeout``); the session is closed in a thread, then the turn freed."""
    async with database_turn(request):
        session = SessionLocal()
        try:
            yield session
        finally:
            with anyio.CancelScope(shield=True):  # a dropped client must not leak its turn
                await anyio.to_thread.run_sync(session.close)


SessionDep = Annotated[Session, Depends(get_session)]

_basic = HTTPBasic(auto_error=False, description="Usuario y contraseña de un revisor")
_bearer = HTTPBearer(
    auto_error=False,
    description="Token secreto de la postulación, o token de sesión de un revisor "
    "(POST /api/session)",
)
BasicDep = Annotated[HTTPBasicCredentials | None, Depends(_basic)]
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def optional_reviewer(
    request: Request, session: SessionDep, basic: BasicDep, bearer: BearerDep
) -> User | None:
    if basic is not None:  # a login on every request: the same limits as the login forms
        return authenticate_limited(session, basic.username, basic.password,
                                    client_address(request), request.cookies.get(DEVICE_COOKIE))
    if bearer is not None:
        user = load_session(session, bearer.credentials)
        if user is not None:
            return user
    return load_session(session, request.cookies.get(SESSION_COOKIE))


OptionalReviewer = Annotated[User | None, Depends(optional_reviewer)]


async def current_reviewer(user: OptionalReviewer) -> User:  # async: no I/O, no thread hop
    if user is None:
        raise AuthenticationError()
    return user


CurrentReviewer = Annotated[User, Depends(current_reviewer)]


def submission_access(
    submission_id: Annotated[str, Path(description="Identificador de la postulación")],
    request: Request,
    session: SessionDep,
    basic: BasicDep,
    bearer: BearerDep,
) -> Access:
    token = (
        (bearer.credentials if bearer is not None else None)
        or request.headers.get("x-submission-token")
        or request.query_params.get("token")
    )
    if basic is None and not request.cookies.get(SESSION_COOKIE):
        # an applicant polling with the submission's token: one query (the submission, its
        # version stamp with it), no reviewer-session lookup first
        submission = get_submission(session, submission_id)
        if check_submission_token(submission, token):
            return Access(submission, token=token)
    # the reviewer is looked up here rather than as a dependency: one thread hop, not two
    reviewer = optional_reviewer(request, session, basic, bearer)
    return check_access(get_submission(session, submission_id), reviewer=reviewer, token=token)


SubmissionAccess = Annotated[Access, Depends(submission_access)]


async def stamp_access(
    submission_id: Annotated[str, Path(description="Identificador de la postulación")],
    request: Request,
    basic: BasicDep,
    bearer: BearerDep,
) -> Access:
    """:func:`submission_access` for the answers kept per version: the submission only as its
    :class:`~service.domain.access.SubmissionStamp`. An applicant's request costs one turn at
    the database, one thread hop and one statement."""
    token = (
        (bearer.credentials if bearer is not None else None)
        or request.headers.get("x-submission-token")
        or request.query_params.get("token")
    )
    async with database_turn(request):
        return await anyio.to_thread.run_sync(_stamp_access, request, submission_id, token,
                                              basic, bearer)


def _stamp_access(request: Request, submission_id: str, token: str | None,
                  basic: HTTPBasicCredentials | None,
                  bearer: HTTPAuthorizationCredentials | None) -> Access:
    stamp = read_stamp(submission_id)  # one statement, autocommit
    if basic is None and not request.cookies.get(SESSION_COOKIE) and check_submission_token(
            stamp, token):
        return Access(stamp, token=token)
    with SessionLocal() as session:  # a reviewer: the same lookup as every other route
        reviewer = optional_reviewer(request, session, basic, bearer)
    return check_access(stamp, reviewer=reviewer, token=token)


StampAccess = Annotated[Access, Depends(stamp_access)]


async def resolve_stamp_access(request: Request) -> Access:
    """What FastAPI resolves for a route that takes only ``Request`` and ``StampAccess``, in
    its order: :data:`APP_CHECKS`, HTTP Basic, the bearer token, then :func:`stamp_access`;
    the same functions, so the same answers and errors, without the generic resolution (about
    a third of the API's CPU on a cached status or matrix answer)."""
    for check in APP_CHECKS:
        await check(request)
    basic, bearer = await _basic(request), await _bearer(request)
    return await stamp_access(request.path_params["submission_id"], request, basic, bearer)
