"""Handlers of ``evidencia serve | worker | requeue | user | db | up`` (parsed in ``service.cli``).

Each takes the parsed arguments and returns an exit code: 0 success, 1 failure, 2 usage or
configuration error.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

__all__ = [
    "serve",
    "worker",
    "requeue",
    "user",
    "db",
    "up",
    "ensure_redis",
    "load_demo",
    "DEMO_SOURCE_KEY",
]

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[1]
DEMO_DIR = REPO / "samples" / "demo"
DEMO_SOURCE_KEY = "demo"
DEMO_ORGANIZATION = ("Transportes Cordillera Limitada", "77.214.538-1")
DEMO_REVIEWER = "revisor"
#: files in samples/demo that describe the demo instead of being part of it
_DEMO_SKIP = {"expected.json", "README.md"}


def serve(args) -> int:
    import uvicorn

    uvicorn.run(
        "service.app:create_app", factory=True, host=args.host, port=args.port,
        proxy_headers=True, workers=max(1, getattr(args, "workers", 1) or 1),
    )
    return 0


def worker(args) -> int:
    from dataclasses import replace

    from extractors.options import ExtractOptions
    from service.domain.dispatch import get_dispatcher

    options = ExtractOptions()
    if getattr(args, "ocr_threads", None):
        options = replace(options, ocr_workers=max(1, args.ocr_threads))
    ok = get_dispatcher().work(args.queues, burst=args.burst, options=options)
    return 0 if ok or args.burst else 1


def requeue(args) -> int:
    from service.domain.dispatch import requeue_lost

    try:
        ids = requeue_lost()
    except Exception as exc:
        print(f"No se pudo reencolar: {exc}", file=sys.stderr)
        return 1
    print(f"Documentos reencolados: {len(ids)}")
    return 0


def user(args) -> int:
    from service.db import SessionLocal
    from service.domain.access import create_user

    if args.user_command != "add":
        return 2
    password = args.password
    if not password:
        if sys.stdin.isatty():
            import getpass

            password = getpass.getpass("Contraseña: ")
            if password != getpass.getpass("Repita la contraseña: "):
                print("Las contraseñas no coinciden.", file=sys.stderr)
                return 2
        else:
            password = sys.stdin.readline().rstrip("\n")
    if not password:
        print("La contraseña no puede estar vacía.", file=sys.stderr)
        return 2
    with SessionLocal() as session:
        create_user(session, args.username, password, args.role)
    print(f"Usuario «{args.username}» ({args.role}) listo.")
    return 0


def db(args) -> int:
    from service.migrate import upgrade
    from service.settings import get_settings

    if args.db_command != "upgrade":
        return 2
    url = get_settings().sqlalchemy_url
    upgrade(url)
    print(f"Base de datos al día: {_safe_url(url)}")
    return 0


def _safe_url(url: str) -> str:
    parsed = urlparse(url)
    if parsed.password:
        return url.replace(f":{parsed.password}@", ":***@")
    return url


# --- evidencia up ---------------------------------------------------------------------------


def ensure_redis(url: str, data_dir: Path, *, wait: float = 10.0) -> str:
    """Return "running" if Redis answers at ``url``, else start a local one: "started".

    Only a local address is started (daemonized, no persistence: the database is the truth).
    """
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
        return "running"
    except redis.exceptions.ConnectionError:
        pass
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 6379
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise RuntimeError(f"Redis no responde en {url} y no es local: no se puede iniciar.")
    server = shutil.which("redis-server")
    if server is None:
        raise RuntimeError("Redis no responde y falta redis-server (paquete redis-server).")
    folder = (data_dir / "redis").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            server, "--bind", host, "--port", str(port), "--daemonize", "yes",
            "--save", "", "--appendonly", "no", "--dir", str(folder),
            "--logfile", str(folder / "redis.log"), "--pidfile", str(folder / "redis.pid"),
        ],
        check=True,
    )
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            redis.Redis.from_url(url, socket_connect_timeout=1).ping()
            return "started"
        except redis.exceptions.ConnectionError:
            time.sleep(0.2)
    raise RuntimeError(f"Redis no arrancó; vea {folder / 'redis.log'}")


def _demo_reviewer(data_dir: Path) -> tuple[str, str]:
    """The demo reviewer's credentials, kept in data_dir so every `up` prints the same ones."""
    from service.db import SessionLocal
    from service.domain.access import authenticate, create_user

    secret_file = data_dir / "demo-reviewer.txt"
    password = secret_file.read_text().strip() if secret_file.exists() else ""
    with SessionLocal() as session:
        if not password or authenticate(session, DEMO_REVIEWER, password) is None:
            password = password or secrets.token_urlsafe(9)
            create_user(session, DEMO_REVIEWER, password, "reviewer")
    secret_file.write_text(password + "\n")
    secret_file.chmod(0o600)
    return DEMO_REVIEWER, password


def load_demo(data_dir: Path, demo_dir: Path = DEMO_DIR) -> tuple[str, str] | None:
    """Load ``samples/demo`` as one submission, once (source_key "demo"); (id, token) or None."""
    from service.db import SessionLocal
    from service.domain.submissions import add_files, create_submission, find_submission

    token_file = data_dir / "demo-token.txt"
    with SessionLocal() as session:
        existing = find_submission(session, DEMO_SOURCE_KEY)
        if existing is not None:
            token = token_file.read_text().strip() if token_file.exists() else ""
            return existing.id, token
        if not demo_dir.is_dir():
            return None
        files = [
            (p.name, p.read_bytes())
            for p in sorted(demo_dir.iterdir())
            if p.is_file() and p.name not in _DEMO_SKIP and not p.name.startswith(".")
        ]
        if not files:
            return None
        submission, token = create_submission(
            session, *DEMO_ORGANIZATION, source="upload", source_key=DEMO_SOURCE_KEY
        )
        add_files(session, submission, files)
        token_file.write_text(token + "\n")
        token_file.chmod(0o600)
        return submission.id, token


def _port_free(host: str, port: int) -> bool:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _wait_http(url: str, timeout: float, proc: subprocess.Popen) -> bool:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    return False


def up(args) -> int:
    """Everything on one machine: Redis if missing, migrations, one worker, the API, the demo."""
    from service.migrate import upgrade
    from service.settings import get_settings

    base = f"http://{args.host}:{args.port}"
    os.environ.setdefault("EVIDENCIA_PUBLIC_URL", base)
    get_settings.cache_clear()
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if not _port_free(args.host, args.port):
        print(f"Error: el puerto {args.port} ya está en uso; elija otro con --port.",
              file=sys.stderr)
        return 2
    try:
        how = ensure_redis(settings.redis_url, settings.data_dir)
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    print(f"Redis: {'iniciado' if how == 'started' else 'en uso'} ({settings.redis_url})")
    upgrade(settings.sqlalchemy_url)
    print(f"Base de datos: {_safe_url(settings.sqlalchemy_url)}")
    username, password = _demo_reviewer(settings.data_dir)
    demo = None if args.no_demo else load_demo(settings.data_dir)

    env = {**os.environ, "EVIDENCIA_DATA_DIR": str(settings.data_dir.resolve())}
    cli = [sys.executable, "-m", "service.cli"]
    children = [
        subprocess.Popen([*cli, "worker"], env=env),
        subprocess.Popen([*cli, "serve", "--host", args.host, "--port", str(args.port)], env=env),
    ]
    try:
        if not _wait_http(f"{base}/healthz", 60, children[1]):
            print("La API no arrancó; vea los mensajes anteriores.", file=sys.stderr)
            return 1
        public = settings.public_url.rstrip("/")
        print()
        print("evidencia está funcionando.")
        print(f"  Postular (nueva postulación):   {public}/")
        if demo:
            sub_id, token = demo
            link = f"{public}/s/{sub_id}?t={token}" if token else f"{public}/s/{sub_id}"
            print(f"  Postulación de demostración:    {link}")
        print(f"  Revisores:                      {public}/revision/ingresar")
        print(f"    usuario: {username}   contraseña: {password}")
        print(f"  API (OpenAPI):                  {public}/docs")
        print(f"  Salud y métricas:               {public}/readyz  {public}/metrics")
        print("Ctrl-C para detener.")
        while all(c.poll() is None for c in children):
            time.sleep(0.5)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
