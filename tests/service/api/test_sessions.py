"""Reviewer sessions live on the server (issue 12, item 5): the token is a random id, logout
revokes it, a password change or the account's removal ends every session, and it expires."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update


def _login(client, reviewer) -> str:
    r = client.post("/api/session", json={"username": reviewer[0], "password": reviewer[1]})
    assert r.status_code == 200, r.text
    return r.json()["token"]


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _who(client, token: str) -> str | None:
    found = client.get("/api/session", headers=_bearer(token)).json()
    return found and found["username"]


def test_the_token_is_a_random_id_with_no_password_material(client, reviewer):
    from service.db import SessionLocal
    from service.domain.models import ReviewerSession, User

    tokens = {_login(client, reviewer) for _ in range(2)}
    assert len(tokens) == 2  # a fresh session each time
    with SessionLocal() as session:
        user = session.scalar(select(User).where(User.username == reviewer[0]))
        stored = session.scalars(select(ReviewerSession.id)).all()
    for token in tokens:
        # "rv." and 32 random bytes: no payload, no signature
        assert token.startswith("rv.") and len(token) == 46 and "." not in token[3:]
        assert user.password_hash[-16:] not in token
        assert token not in stored  # only a keyed digest is kept
        assert _who(client, token) == reviewer[0]


def test_logout_revokes_the_token_wherever_it_was_copied(client, reviewer):
    token = _login(client, reviewer)
    copy = dict(_bearer(token))
    assert client.get("/api/submissions", headers=copy).status_code == 200
    assert client.delete("/api/session", headers=copy).status_code == 204
    assert client.get("/api/submissions", headers=copy).status_code == 401
    assert _who(client, token) is None
    # the cookie given at login is ended too when logging out with it
    _login(client, reviewer)
    assert client.get("/api/submissions").status_code == 200
    client.delete("/api/session")
    client.cookies.clear()
    assert client.get("/api/submissions").status_code == 401


def test_web_logout_revokes_the_cookie(client, reviewer):
    from service.domain.access import SESSION_COOKIE
    from service.security import CSRF_COOKIE

    token = _login(client, reviewer)
    client.cookies.set(CSRF_COOKIE, "x" * 32)
    r = client.post("/revision/salir", data={"csrf_token": "x" * 32}, follow_redirects=False)
    assert r.status_code == 303
    assert SESSION_COOKIE not in client.cookies
    assert _who(client, token) is None


def test_password_change_and_removal_end_sessions(client, reviewer, capsys):
    from service.cli import main
    from service.db import SessionLocal
    from service.domain.access import create_user

    first, second = _login(client, reviewer), _login(client, reviewer)
    with SessionLocal() as session:
        create_user(session, reviewer[0], "otra-clave-larga-9")
    assert _who(client, first) is None and _who(client, second) is None

    token = _login(client, (reviewer[0], "otra-clave-larga-9"))
    assert main(["user", "remove", reviewer[0]]) == 0
    assert "dado de baja" in capsys.readouterr().out
    assert _who(client, token) is None
    r = client.post("/api/session", json={"username": reviewer[0],
                                          "password": "otra-clave-larga-9"})
    assert r.status_code == 401
    assert main(["user", "remove", "nadie"]) == 2
    assert "No existe el usuario «nadie»" in capsys.readouterr().err


def test_sessions_expire(client, reviewer):
    from service.db import SessionLocal
    from service.domain import clock
    from service.domain.models import ReviewerSession

    token = _login(client, reviewer)
    with SessionLocal() as session:
        session.execute(update(ReviewerSession).values(
            expires_at=clock.now() - timedelta(seconds=1)))
        session.commit()
    assert _who(client, token) is None
    _login(client, reviewer)  # a new login purges the expired rows
    with SessionLocal() as session:
        assert len(session.scalars(select(ReviewerSession)).all()) == 1


def test_an_error_page_shows_the_reviewer_still_logged_in(client, reviewer):
    """QA 2026-12-07, as a reviewer: a document link that no longer opens (a document the
    applicant removed) or a mistyped page number gave an error page whose header offered
    "Nueva postulación · Ingreso revisores", as if the session had ended; it had not. The
    error page's header now names the reviewer, with "Cerrar sesión", as every reviewer's
    page does."""
    _login(client, reviewer)
    for path in ("/revision/d/no-existe", "/revision?pagina=abc", "/no-existe"):
        r = client.get(path, headers={"Accept": "text/html"})
        assert r.status_code in (404, 422), path
        assert f'<span class="who">{reviewer[0]}</span>' in r.text, path
        assert "Cerrar sesión" in r.text and "Ingreso revisores" not in r.text, path
        assert 'href="/revision"' in r.text, path
    client.cookies.clear()
    r = client.get("/no-existe", headers={"Accept": "text/html"})
    assert "Ingreso revisores" in r.text and "Cerrar sesión" not in r.text
