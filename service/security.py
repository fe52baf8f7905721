"""The web surface's protections, in one place: security headers on every response and the
CSRF check on every state-changing request.

- :class:`SecurityMiddleware` (pure ASGI) adds the headers (a CSP with no inline script,
  ``frame-ancestors 'none'`` and ``X-Frame-Options: DENY``, ``nosniff``, ``Referrer-Policy:
  same-origin``: applicant tokens travel in URLs) to every response that has not set its own,
  and issues the CSRF cookie when a page asked for a token and the browser had none.
- :func:`csrf_protect` (an app-wide dependency) refuses, with a Spanish 403 (``csrf``), an
  unsafe request (POST, PUT, PATCH, DELETE) that comes from another site (``Origin``, else
  ``Referer``) or that a browser's cookies authenticate without the token: every web form
  (``csrf_token`` hidden field) and every htmx or fetch request (``X-CSRF-Token`` header,
  read from ``<meta name="csrf-token">`` by ``static/evidencia.js``). API calls that carry
  their own credentials (``Authorization``, ``X-Submission-Token``) need no token: a browser
  never adds those on its own.

The token is a double-submit value: a random ``evidencia_csrf`` cookie (HttpOnly, SameSite=Lax)
and the same value in the page, compared in constant time.

- The body limit: a request larger than the settings allow is refused with a Spanish 413 as
  its bytes arrive, before anything is spooled to disk (:class:`_BodyLimit`).
- :func:`install_log_redaction`: applicant tokens (``?t=``, ``?token=``) never reach the access
  log.
- :func:`require_secret_key`: the API does not start with no secret key of its own (missing, a
  public placeholder, too short); ``evidencia up`` makes one for a development machine.
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
from urllib.parse import urlsplit

from fastapi import Request
from markupsafe import Markup
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "require_secret_key",
    "CSRF_COOKIE",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "CONTENT_SECURITY_POLICY",
    "SecurityMiddleware",
    "RequestTooLarge",
    "redact_tokens",
    "install_log_redaction",
    "csrf_protect",
    "csrf_token",
    "template_context",
]

CSRF_COOKIE = "evidencia_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
_SCOPE_KEY = "evidencia.csrf"
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})

#: The pages' policy: scripts and styles only from this site (no inline script, no eval);
#: ``style-src-attr`` lets the markup position evidence boxes with ``style=""`` (no selectors,
#: no script), while ``<style>`` elements stay refused.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
)


def require_secret_key() -> None:
    """Refuse to serve with a secret key anyone may know (``UsageError``, Spanish, exit 2)."""
    from service.domain.errors import UsageError
    from service.domain.messages import SECRET_KEY_PROBLEMS, error_message
    from service.settings import get_settings

    problem = get_settings().secret_key_problem
    if problem is not None:
        raise UsageError(error_message("insecure_secret_key", problem=SECRET_KEY_PROBLEMS[problem]))


class SecurityMiddleware:
    """The outermost layer of every HTTP request: security headers on the response (a header
    the route set itself, such as the file downloads' sandboxing CSP, is kept), the CSRF
    cookie when one was issued, and the body limit (:class:`_BodyLimit`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = _CsrfState(_cookie(scope, CSRF_COOKIE))
        scope[_SCOPE_KEY] = state
        answered = False

        async def send_with_headers(message: Message) -> None:
            nonlocal answered
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                _add_policy(headers)
                headers.extend(h for h in _HEADERS if h[0] not in present)
                if state.issued:
                    headers.append((b"set-cookie", _set_cookie(state.value).encode("latin-1")))
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                answered = True
            await send(message)

        try:
            await self.app(scope, _BodyLimit(scope, receive), send_with_headers)
        except Exception:
            if not answered:
                raise
            # Starlette re-raises a bug after its 500 went out (the error boundary logged it
            # with its traceback); raised further, uvicorn would drop the keep-alive connection.


class _BodyLimit:
    """``receive`` that refuses a body larger than the settings allow, before it is spooled:
    a declared ``Content-Length`` over the limit at the first read, a streamed (chunked) one as
    soon as the bytes pass it. Raised as a 413 that the one error boundary words in Spanish.
    Uploads (multipart) may carry ``request_limit`` bytes, anything else ``max_form_bytes``."""

    __slots__ = ("receive", "limit", "declared", "seen")

    def __init__(self, scope: Scope, receive: Receive) -> None:
        from service.settings import get_settings

        settings = get_settings()
        self.receive = receive
        self.seen = 0
        self.declared = None
        kind = b""
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit():
                self.declared = int(value)
            elif name == b"content-type":
                kind = value.split(b";", 1)[0].strip().lower()
        self.limit = (settings.request_limit if kind == b"multipart/form-data"
                      else settings.max_form_bytes)

    async def __call__(self) -> Message:
        if self.declared is not None and self.declared > self.limit:
            raise RequestTooLarge(self.limit)
        message = await self.receive()
        if message["type"] == "http.request":
            self.seen += len(message.get("body", b""))
            if self.seen > self.limit:
                raise RequestTooLarge(self.limit)
        return message


class RequestTooLarge(StarletteHTTPException):
    """A body over the limit (413): an ``HTTPException`` so that FastAPI's body parsing lets it
    through to the error boundary instead of calling it a malformed body."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(413)


def _add_policy(headers: list[tuple[bytes, bytes]]) -> None:
    """The pages' CSP, unless the response chose its own (file downloads: a sandbox; the
    API pages of ``service.api.openapi``), which still may not be framed."""
    for i, (name, value) in enumerate(headers):
        if name.lower() == b"content-security-policy":
            if b"frame-ancestors" not in value:
                headers[i] = (name, value.rstrip(b"; ") + b"; frame-ancestors 'none'")
            return
    headers.append((b"content-security-policy", _POLICY))


_POLICY = CONTENT_SECURITY_POLICY.encode()


class _CsrfState:
    """This request's CSRF value: the browser's cookie, or one issued now (lazily, when a page
    asks for a token)."""

    __slots__ = ("value", "issued")

    def __init__(self, cookie: str | None) -> None:
        self.value = cookie if cookie and 20 <= len(cookie) <= 100 else None
        self.issued = False

    def token(self) -> str:
        if self.value is None:
            self.value = secrets.token_urlsafe(32)
            self.issued = True
        return self.value


def csrf_token(request: Request) -> str:
    """The token a page embeds (meta tag, hidden field); issues the cookie if needed."""
    state = request.scope.get(_SCOPE_KEY)
    if state is None:  # an app built without the middleware (never in service.app)
        state = request.scope[_SCOPE_KEY] = _CsrfState(request.cookies.get(CSRF_COOKIE))
    return state.token()


def template_context(request: Request) -> dict:
    """Jinja context processor: ``{{ csrf_token }}`` and ``{{ csrf_field }}`` on every page."""
    token = csrf_token(request)
    return {
        "csrf_token": token,
        "csrf_field": Markup('<input type="hidden" name="{}" value="{}">').format(
            CSRF_FIELD, token),
    }


async def csrf_protect(request: Request) -> None:
    """Refuse cross-site and unproven state changes (see the module docstring)."""
    if request.method not in _UNSAFE:
        return
    from service.domain.errors import PermissionDeniedError

    if not _same_origin(request):
        raise PermissionDeniedError(code="csrf")
    if not _needs_token(request):
        return
    expected = request.cookies.get(CSRF_COOKIE)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and _is_form(request):
        form = await request.form()  # Starlette keeps it: the route reads the same form
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not expected or not sent or not hmac.compare_digest(
        expected.encode("utf-8", "replace"), sent.encode("utf-8", "replace")
    ):
        raise PermissionDeniedError(code="csrf")


def _needs_token(request: Request) -> bool:
    """Pages always; the API when the browser's session cookie is what authenticates it."""
    if not request.url.path.startswith("/api/"):
        return True
    from service.domain.access import SESSION_COOKIE

    if request.url.path == "/api/session" and request.method == "POST":
        return False  # logging in: the credentials are the JSON body a form cannot send
    if request.headers.get("authorization") or request.headers.get("x-submission-token"):
        return False
    return SESSION_COOKIE in request.cookies


def _same_origin(request: Request) -> bool:
    """``Origin`` (else ``Referer``), when a browser sent one, names this site: the host the
    request reached or the one ``EVIDENCIA_PUBLIC_URL`` publishes (behind a proxy)."""
    source = request.headers.get("origin")
    if source is None:
        source = request.headers.get("referer")
        if source is None:
            return True  # not a browser, or one that says nothing: the token decides
    if source == "null":
        return False
    from service.settings import get_settings

    netloc = urlsplit(source).netloc.lower()
    ours = {request.headers.get("host", "").lower(),
            urlsplit(get_settings().public_url).netloc.lower()}
    return bool(netloc) and netloc in ours


def _is_form(request: Request) -> bool:
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return kind in ("application/x-www-form-urlencoded", "multipart/form-data")


def _cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == b"cookie":
            found = cookie_parser(value.decode("latin-1")).get(name)
            if found:
                return found
    return None


def _set_cookie(value: str) -> str:
    from service.settings import get_settings

    secure = "; Secure" if get_settings().public_url.startswith("https://") else ""
    return f"{CSRF_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax{secure}"


_TOKEN_IN_QUERY = re.compile(r"([?&](?:t|token)=)[^&#\s]*", re.IGNORECASE)


def redact_tokens(text: str) -> str:
    """``/s/abc?t=SECRET`` -> ``/s/abc?t=[oculto]``: secret links must not end up in logs."""
    return _TOKEN_IN_QUERY.sub(r"\1[oculto]", text)


class _RedactTokens(logging.Filter):
    """uvicorn's access log line is ``'%s - "%s %s HTTP/%s" %d'``: the path is its 3rd arg."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact_tokens(a) if isinstance(a, str) else a
                                for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact_tokens(record.msg)
        return True


def install_log_redaction() -> None:
    """Filter the access log of every process that serves the app (idempotent)."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, _RedactTokens) for f in access.filters):
        access.addFilter(_RedactTokens())
