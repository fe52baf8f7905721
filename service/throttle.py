"""Rate limits of the web surface, counted in Redis so that every API process (``serve
--workers N``, several machines) shares them.

- :func:`authenticate_limited`: every way a reviewer proves a password (``POST /api/session``,
  the login page, HTTP Basic) counts the attempt per account and per client address *before*
  argon2 runs, so parallel guesses cannot slip in between; a correct login takes its attempt
  back. Over the limit, a Spanish 429 (``too_many_logins``) with ``Retry-After``, even for the
  right password, until the window ends. A browser or client where the reviewer has logged in
  before holds a device cookie (OWASP's "device cookies"): its attempts count against that
  device instead of the account, so that guesses from elsewhere, which lock the account for
  unknown clients, cannot lock its reviewer out of a known one.
- :func:`limit_submissions`: anonymous submission creation per client address.
- :func:`limit_link_requests`: "Perdí el enlace" requests per client address.

Redis holds only counters, under an HMAC of the account or address (never the name itself),
each expiring with its window: throttling, not truth. If Redis does not answer, logins go on
(they need the database, not Redis) and each API process counts in its own memory until Redis is
back, with a warning: an outage must not open the door to guessing, though with N processes the
limit is at worst N times looser. The argon2 turns of ``service.domain.access`` still bound the
memory guesses can take.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import secrets
import threading
import time
from functools import cache

from fastapi import Request
from sqlalchemy.orm import Session

from service.domain.access import authenticate
from service.domain.errors import AuthenticationError, RateLimitError
from service.domain.models import User
from service.settings import get_settings

__all__ = ["client_address", "authenticate_limited", "limit_submissions",
           "limit_link_requests", "DEVICE_COOKIE", "DEVICE_MAX_AGE", "device_token"]

log = logging.getLogger(__name__)

_PREFIX = "evidencia:limit"

#: the cookie a successful login leaves (the same name for every account: one reviewer a browser)
DEVICE_COOKIE = "evidencia_dispositivo"
DEVICE_MAX_AGE = 180 * 24 * 3600


def client_address(request: Request) -> str:
    """The caller's address (uvicorn resolves ``X-Forwarded-For`` from trusted proxies)."""
    return request.client.host if request.client else "desconocida"


def authenticate_limited(session: Session, username: str, password: str, address: str,
                         device: str | None = None) -> User:
    """The reviewer these credentials name, within the login limits (see the module
    docstring): ``RateLimitError`` (429) over them, ``AuthenticationError`` on a wrong pair.
    ``device`` is the client's device cookie, if any."""
    settings = get_settings()
    account = username.strip().casefold()[:200]
    nonce = _device_nonce(account, device)
    who = ("login-device", f"{account}:{nonce}") if nonce else ("login-account", account)
    counters = [
        (*who, settings.login_attempts_per_account),
        ("login-address", address, settings.login_attempts_per_address),
    ]
    wait = _count(counters, settings.login_window_seconds)
    if wait:
        raise RateLimitError(code="too_many_logins", retry_after=wait,
                             minutes=math.ceil(wait / 60))
    user = authenticate(session, username, password)
    if user is None:
        raise AuthenticationError(code="bad_credentials")
    _take_back(counters, settings.login_window_seconds)
    return user


def device_token(username: str) -> str:
    """A new device cookie for ``username``'s reviewer: a random nonce and its HMAC under the
    secret key (bound to the account, so another account's cookie counts for nothing)."""
    nonce = secrets.token_urlsafe(16)
    return f"{nonce}.{_device_mac(username.strip().casefold()[:200], nonce)}"


def _device_mac(account: str, nonce: str) -> str:
    secret = get_settings().secret_key.encode("utf-8")
    return hmac.new(secret, f"device:{account}:{nonce}".encode(), hashlib.sha256).hexdigest()[:32]


def _device_nonce(account: str, token: str | None) -> str | None:
    """The nonce of a genuine device cookie for ``account``, else None."""
    nonce, _, mac = (token or "")[:100].partition(".")
    if nonce and mac and hmac.compare_digest(mac, _device_mac(account, nonce)):
        return nonce
    return None


def limit_submissions(address: str) -> None:
    """Count one anonymous submission from ``address``; ``RateLimitError`` (429) over the
    limit."""
    settings = get_settings()
    wait = _count([("submissions", address, settings.submissions_per_address)],
                  settings.submissions_window_seconds)
    if wait:
        raise RateLimitError(code="too_many_submissions", retry_after=wait,
                             minutes=math.ceil(wait / 60))


def limit_link_requests(address: str) -> None:
    """Count one "Perdí el enlace" request from ``address`` (each one rotates tokens and sends
    mail: nobody should fire them in bulk); ``RateLimitError`` (429) over the limit."""
    settings = get_settings()
    wait = _count([("lost-link", address, settings.link_requests_per_address)],
                  settings.submissions_window_seconds)
    if wait:
        raise RateLimitError(code="too_many_link_requests", retry_after=wait,
                             minutes=math.ceil(wait / 60))


def _key(kind: str, subject: str, window: int, now: float) -> str:
    secret = get_settings().secret_key.encode("utf-8")
    digest = hmac.new(secret, f"{kind}:{subject}".encode(), hashlib.sha256).hexdigest()[:32]
    return f"{_PREFIX}:{kind}:{digest}:{int(now // window)}"


def _count(counters: list[tuple[str, str, int]], window: int) -> int:
    """Count an attempt on every counter; the seconds to wait if any is over its limit."""
    now = time.time()
    keys = [_key(kind, subject, window, now) for kind, subject, _limit in counters]
    try:
        pipe = _redis().pipeline()
        for key in keys:
            pipe.incr(key)
            pipe.expire(key, window + 1)
        counts = pipe.execute()[0::2]
    except Exception as exc:  # Redis down: count in this process rather than not at all
        log.warning("rate limits counted in this process only, Redis unavailable: %r", exc)
        counts = _LOCAL.add(keys, 1, now + window + 1)
    if any(count > limit for count, (_k, _s, limit) in zip(counts, counters, strict=True)):
        return max(1, math.ceil(window - now % window))
    return 0


def _take_back(counters: list[tuple[str, str, int]], window: int) -> None:
    """A correct login: the account (or device) starts afresh, the address gets its attempt
    back."""
    now = time.time()
    try:
        pipe = _redis().pipeline()
        for kind, subject, _limit in counters:
            key = _key(kind, subject, window, now)
            pipe.decr(key) if kind == "login-address" else pipe.delete(key)
        pipe.execute()
    except Exception as exc:
        log.warning("rate limits updated in this process only, Redis unavailable: %r", exc)
    for kind, subject, _limit in counters:  # whichever counted the attempt, it is taken back
        key = _key(kind, subject, window, now)
        _LOCAL.add([key], -1, 0) if kind == "login-address" else _LOCAL.reset(key)


class _LocalCounters:
    """This process's counters while Redis is away: the same keys, expiring with their window."""

    def __init__(self) -> None:
        self._counts: dict[str, list] = {}  # key -> [count, expires at]
        self._lock = threading.Lock()

    #: a spray of names during a long outage forgets the oldest counters, never grows unbounded
    MAX_KEYS = 100_000

    def add(self, keys: list[str], step: int, expires: float) -> list[int]:
        now = time.time()
        with self._lock:
            for key in [k for k, (_c, until) in self._counts.items() if until <= now]:
                del self._counts[key]
            while len(self._counts) >= self.MAX_KEYS:
                del self._counts[next(iter(self._counts))]
            out = []
            for key in keys:
                entry = self._counts.get(key)
                if entry is None:
                    if step <= 0:  # nothing counted here: nothing to take back
                        out.append(0)
                        continue
                    entry = self._counts[key] = [0, expires]
                entry[0] = max(0, entry[0] + step)
                out.append(entry[0])
            return out

    def reset(self, key: str) -> None:
        with self._lock:
            self._counts.pop(key, None)


_LOCAL = _LocalCounters()


def _redis():
    return _client(get_settings().redis_url)


@cache
def _client(url: str):
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
