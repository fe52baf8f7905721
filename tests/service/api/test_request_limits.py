"""The HTTP layer against a real uvicorn (issue 12): the body limit answers before anything is
spooled, applicant tokens never reach the access log, a 500 keeps the keep-alive connection
and logs its traceback, a 405 says so."""

from __future__ import annotations

import logging
import socket
import threading
import time

import httpx
import pytest

from tests.conftest import free_port

pytestmark = pytest.mark.parametrize("service_env", ["sqlite"], indirect=True)  # HTTP only

LIMIT = 1024 * 1024


@pytest.fixture
def server(service_env, monkeypatch):
    """A real uvicorn serving the app in this process, uploads limited to 1 MiB."""
    import uvicorn

    from service.app import create_app
    from service.settings import get_settings

    monkeypatch.setenv("EVIDENCIA_MAX_REQUEST_BYTES", str(LIMIT))
    get_settings.cache_clear()
    app = create_app()

    @app.get("/api/prueba-falla", include_in_schema=False)
    def broken():  # a bug, as any route might have one
        raise RuntimeError("falla de prueba")

    port = free_port()
    # log_config=None: uvicorn's loggers propagate, so caplog sees the access log
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None,
                            access_log=True, lifespan="on")
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not instance.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert instance.started
    yield f"http://127.0.0.1:{port}", port
    instance.should_exit = True
    thread.join(timeout=10)


def _raw(port: int, head: bytes, body: bytes = b"") -> tuple[socket.socket, bytes]:
    sock = socket.create_connection(("127.0.0.1", port), timeout=20)
    sock.sendall(head + body)
    return sock, _read_response(sock)


def _read_response(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    while len(rest) < length:
        rest += sock.recv(65536)
    return head + b"\r\n\r\n" + rest


def _submission(base: str) -> dict:
    r = httpx.post(f"{base}/api/submissions",
                   json={"organization": "Panadería Los Andes", "rut": "76.543.210-3"})
    assert r.status_code == 201, r.text
    return r.json()


def test_a_declared_oversized_upload_is_refused_before_its_body_is_sent(server):
    base, port = server
    sub = _submission(base)
    head = (f"POST /api/submissions/{sub['id']}/documents HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer {sub['token']}\r\n"
            "Content-Type: multipart/form-data; boundary=b\r\n"
            f"Content-Length: {200 * 1024 * 1024}\r\n\r\n").encode()
    sock, answer = _raw(port, head, b"--b\r\n")  # 5 of the 200 MB announced, then we wait
    sock.close()
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert "supera el máximo de 1 MB por envío" in answer.decode("utf-8")
    assert b'"code":"request_too_large"' in answer
    # the upload page knows the limit, so its script refuses such a choice before sending
    page = httpx.get(f"{base}/s/{sub['id']}?t={sub['token']}").text
    assert f'data-max-bytes="{LIMIT}"' in page


def test_a_streamed_upload_is_answered_while_it_streams(server):
    """Chunked, no Content-Length: only the bytes counted can stop it, and the 413 comes back
    while the client is still sending (nothing of the rest is read, let alone spooled)."""
    import select

    base, port = server
    sub = _submission(base)
    sock = socket.create_connection(("127.0.0.1", port), timeout=20)
    sock.sendall((f"POST /api/submissions/{sub['id']}/documents HTTP/1.1\r\nHost: x\r\n"
                  f"Authorization: Bearer {sub['token']}\r\n"
                  "Content-Type: multipart/form-data; boundary=b\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n").encode())
    part = (b'--b\r\nContent-Disposition: form-data; name="files"; filename="a.pdf"\r\n\r\n'
            + b"%PDF" + b"\0" * 65000)
    offered, sent = 50 * 1024 * 1024, 0
    try:
        while sent < offered and not select.select([sock], [], [], 0.02)[0]:
            sock.sendall(b"%x\r\n%s\r\n" % (len(part), part))
            sent += len(part)
            part = b"\0" * 65536
    except OSError:  # the server closed its side after answering
        pass
    answer = _read_response(sock)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 413"), answer[:300]
    assert b'"code":"request_too_large"' in answer
    assert sent < offered / 2, sent


def test_json_bodies_have_their_own_small_limit(server):
    base, _ = server
    r = httpx.post(f"{base}/api/session", content=b'{"username": "' + b"a" * (2 * LIMIT) + b'"}',
                   headers={"Content-Type": "application/json"})
    assert r.status_code == 413


def test_applicant_tokens_never_reach_the_access_log(server, caplog):
    base, _ = server
    sub = _submission(base)
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        httpx.get(f"{base}/s/{sub['id']}?t={sub['token']}")
        httpx.get(f"{base}/api/submissions/{sub['id']}?token={sub['token']}&x=1")
        time.sleep(0.3)  # the access line is written after the response
    lines = [r.getMessage() for r in caplog.records if r.name == "uvicorn.access"]
    assert len(lines) >= 2, lines
    assert all(sub["token"] not in line for line in lines), lines
    assert any("?t=[oculto]" in line for line in lines)
    assert any("?token=[oculto]&x=1" in line for line in lines)


def test_a_500_keeps_the_connection_and_logs_the_traceback(server, caplog):
    _, port = server
    request = b"GET /api/prueba-falla HTTP/1.1\r\nHost: x\r\n\r\n"
    with caplog.at_level(logging.ERROR):
        sock, first = _raw(port, request)
        assert first.startswith(b"HTTP/1.1 500"), first[:200]
        assert b'"code":"internal"' in first
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")  # same connection
        second = _read_response(sock)
        sock.close()
    assert second.startswith(b"HTTP/1.1 200"), second[:200]
    logged = [r for r in caplog.records if r.exc_info]
    assert logged and "RuntimeError: falla de prueba" in logging.Formatter().formatException(
        logged[0].exc_info)
    assert not any("NoneType: None" in (r.exc_text or "") for r in caplog.records)


def test_a_wrong_method_says_so(server):
    base, _ = server
    r = httpx.put(f"{base}/api/session")
    assert r.status_code == 405
    assert r.json()["detail"]["code"] == "method_not_allowed"
    assert "no admite esa operación" in r.json()["detail"]["message"]
