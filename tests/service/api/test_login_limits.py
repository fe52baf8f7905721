"""Online guessing is stopped (issue 12, item 5): login attempts counted per account and per
address in Redis across the API, the login page and HTTP Basic, a Spanish 429; argon2 runs a
bounded number at once; anonymous submissions limited per address; the password policy."""

from __future__ import annotations

import threading

import pytest

TOO_MANY = "Demasiados intentos de ingreso"


def _api_login(client, username, password):
    return client.post("/api/session", json={"username": username, "password": password})


def _web_login(client, username, password):
    from service.security import CSRF_COOKIE

    client.cookies.set(CSRF_COOKIE, "t" * 32)
    return client.post("/revision/ingresar", headers={"Accept": "text/html"},
                       data={"usuario": username, "clave": password, "csrf_token": "t" * 32},
                       follow_redirects=False)


def _limits(monkeypatch, **values):
    from service.settings import get_settings

    for name, value in values.items():
        monkeypatch.setenv(f"EVIDENCIA_{name.upper()}", str(value))
    get_settings.cache_clear()


def test_wrong_passwords_lock_the_account_everywhere_even_for_the_right_one(client, reviewer):
    user, password = reviewer
    for i in range(10):  # 10 wrong, through the API and the page alike
        r = (_api_login if i % 2 else _web_login)(client, user, f"mala-{i}")
        assert r.status_code == 401, r.text
    r = _api_login(client, user, password)
    assert r.status_code == 429
    assert r.json()["detail"]["code"] == "too_many_logins"
    assert r.json()["detail"]["message"].startswith(TOO_MANY)
    assert 0 < int(r.headers["Retry-After"]) <= 15 * 60
    page = _web_login(client, user, password)
    assert page.status_code == 429 and TOO_MANY in page.text and "evidencia_session" not in (
        page.headers.get("set-cookie", ""))
    basic = client.get("/api/submissions", auth=reviewer)
    assert basic.status_code == 429
    # another account from the same address is not locked
    from service.db import SessionLocal
    from service.domain.access import create_user

    with SessionLocal() as session:
        create_user(session, "luis", "otra-clave-larga-2")
    assert _api_login(client, "luis", "otra-clave-larga-2").status_code == 200


def test_guesses_from_elsewhere_do_not_lock_the_reviewer_out_of_a_known_browser(
    client, reviewer, service_env
):
    """Account lockout as a weapon: a guesser locks the account for unknown clients only; the
    browser where the reviewer logged in before (its device cookie) still gets in, and guesses
    made with that cookie lock that device alone."""
    from fastapi.testclient import TestClient

    from service.throttle import DEVICE_COOKIE

    user, password = reviewer
    assert _web_login(client, user, password).status_code == 303
    assert client.cookies.get(DEVICE_COOKIE)
    from service.db import SessionLocal
    from service.domain.access import create_user

    with SessionLocal() as session:
        create_user(session, "luis", "otra-clave-larga-2")
    guesser = TestClient(client.app)  # no cookie of these accounts
    for name in (user, "luis"):
        for i in range(10):
            assert _api_login(guesser, name, f"mala-{i}").status_code == 401
        assert _api_login(guesser, name, "x").status_code == 429
    assert _api_login(guesser, user, password).status_code == 429
    # ana's device cookie does not open luis's account
    guesser.cookies.set(DEVICE_COOKIE, client.cookies.get(DEVICE_COOKIE))
    assert _api_login(guesser, "luis", "otra-clave-larga-2").status_code == 429
    assert _web_login(client, user, password).status_code == 303  # the reviewer's browser
    assert _api_login(client, user, password).status_code == 200
    for i in range(10):  # the known browser guessing: it locks itself
        assert _api_login(client, user, f"otra-mala-{i}").status_code == 401
    assert _api_login(client, user, password).status_code == 429
    forged = client.cookies.get(DEVICE_COOKIE).split(".")[0] + "." + "0" * 32
    client.cookies.set(DEVICE_COOKIE, forged)  # a forged cookie is an unknown client
    assert _api_login(client, user, password).status_code == 429


def test_a_correct_login_starts_the_account_afresh(client, reviewer):
    user, password = reviewer
    for _ in range(2):
        for i in range(9):
            assert _api_login(client, user, f"mala-{i}").status_code == 401
        assert _api_login(client, user, password).status_code == 200


def test_one_address_trying_many_accounts_is_stopped(client, reviewer, monkeypatch):
    _limits(monkeypatch, login_attempts_per_address=3)
    for name in ("ana", "berta", "carla"):
        assert _api_login(client, name, "clave-que-no-es").status_code == 401
    r = _api_login(client, reviewer[0], reviewer[1])
    assert r.status_code == 429 and r.json()["detail"]["message"].startswith(TOO_MANY)


def test_parallel_guesses_take_bounded_argon2_turns(service_env, monkeypatch):
    """80 parallel guesses took 1 GB (64 MiB each): at most ``password_hash_slots`` at once."""
    from argon2 import PasswordHasher

    from service.domain import access

    _limits(monkeypatch, db_pool_timeout=300)  # waiting its turn is the point, never a 503 here
    stored = access.hash_password("una-clave-bastante-larga")
    busy, peak, lock = [0], [0], threading.Lock()

    class Counting(PasswordHasher):  # the real argon2, counting who is inside it
        def verify(self, hash, password):
            with lock:
                busy[0] += 1
                peak[0] = max(peak[0], busy[0])
            try:
                return super().verify(hash, password)
            finally:
                with lock:
                    busy[0] -= 1

    monkeypatch.setattr(access, "_hasher", Counting())
    threads = [threading.Thread(target=access.verify_password, args=(stored, f"intento-{i}"))
               for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 2  # the default password_hash_slots, reached and never passed


def test_anonymous_submissions_are_limited_per_address(client, monkeypatch):
    from service.security import CSRF_COOKIE

    _limits(monkeypatch, submissions_per_address=2)
    body = {"organization": "Panadería Los Andes", "rut": "76.543.210-3"}
    assert client.post("/api/submissions", json=body).status_code == 201
    body["rut"] = "77.214.538-1"
    assert client.post("/api/submissions", json=body).status_code == 201
    r = client.post("/api/submissions", json={**body, "rut": "96.790.240-3"})
    assert r.status_code == 429 and "Retry-After" in r.headers
    assert r.json()["detail"]["message"].startswith("Se crearon demasiadas postulaciones")
    client.cookies.set(CSRF_COOKIE, "t" * 32)
    page = client.post("/s", data={"organizacion": "Otra", "rut": "96.790.240-3",
                                   "csrf_token": "t" * 32}, headers={"Accept": "text/html"})
    assert page.status_code == 429 and "demasiadas postulaciones" in page.text


@pytest.mark.parametrize("password, username, problem", [
    ("a", "carla", "too_short"),
    ("corta-2024", "carla", "too_short"),
    ("x" * 300, "carla", "too_long"),
    ("carla.revisora-2026", "carla.revisora", "username"),
    ("clave-de-luis-2026", "luis", None),  # long enough without the name
    ("aaaaaaaaaaaaaaaa", "carla", "repetitive"),
    ("EvidenciaSegura!2026", "carla", "context"),
    ("qwertyuiop123", "carla", "common"),  # a list entry with digits added
    ("password1234", "carla", "common"),
    ("1q2w3e4r5t6y", "carla", "common"),
    ("international", "carla", "common"),
    ("mesa verde junto al río", "carla", None),
    ("clave-segura-1", "carla", None),
])
def test_password_policy(password, username, problem):
    from service.domain.password_policy import password_problem

    assert password_problem(password, username) == problem


def test_user_add_refuses_a_weak_password_in_spanish(service_env, capsys):
    from service.cli import main

    assert main(["user", "add", "carla", "--password", "a"]) == 2
    assert "al menos 12 caracteres" in capsys.readouterr().err
    assert main(["user", "add", "carla", "--password", "password1234"]) == 2
    assert "entre las más usadas" in capsys.readouterr().err
    assert main(["user", "add", "carla", "--password", "mesa verde junto al río"]) == 0


def test_guessing_stays_limited_while_redis_is_away(client, reviewer, monkeypatch, caplog):
    """Redis down: logins still work, and each API process counts attempts in its own memory."""
    from service import throttle

    user, password = reviewer
    _limits(monkeypatch, redis_url="redis://127.0.0.1:9/0")  # nothing listens there
    monkeypatch.setattr(throttle, "_LOCAL", throttle._LocalCounters())
    assert _api_login(client, user, password).status_code == 200
    for i in range(10):
        assert _api_login(client, user, f"mala-{i}").status_code == 401
    r = _api_login(client, user, password)
    assert r.status_code == 429 and r.json()["detail"]["message"].startswith(TOO_MANY)
    assert "counted in this process only" in caplog.text
