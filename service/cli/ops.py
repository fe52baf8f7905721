"""Handlers of ``evidencia serve | worker | requeue | user | db | up``: running the service.

Each takes the parsed arguments and returns an exit code; a problem is raised as a
``ServiceError`` and told by the command line's one boundary (``service.cli.main``).
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

from service.domain.messages import error_message

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

REPO = Path(__file__).resolve().parents[2]
DEMO_DIR = REPO / "samples" / "demo"
DEMO_SOURCE_KEY = "demo"
DEMO_ORGANIZATION = ("Transportes Cordillera Limitada", "77.214.538-1")
DEMO_REVIEWER = "revisor"
#: files in samples/demo that describe the demo instead of being part of it
_DEMO_SKIP = {"expected.json", "README.md"}


def serve(args) -> int:
    import uvicorn

    from service.security import require_secret_key

    require_secret_key()  # told here, before uvicorn, as one clear line

    uvicorn.run(
        "service.app:create_app", factory=True, host=args.host, port=args.port,
        proxy_headers=True, workers=max(1, getattr(args, "workers", 1) or 1),
    )
    return 0


def worker(args) -> int:
    from service.domain.dispatch import get_dispatcher
    from service.settings import get_settings

    options = get_settings().extract_options(ocr_workers=getattr(args, "ocr_threads", None))
    ok = get_dispatcher().work(args.queues, burst=args.burst, options=options)
    return 0 if ok or args.burst else 1


def requeue(args) -> int:
    from service.domain.dispatch import requeue_lost
    from service.domain.errors import UnavailableError

    try:
        ids = requeue_lost()
    except Exception as exc:
        raise UnavailableError(error_message("queue_unreachable", reason=type(exc).__name__),
                               detail=repr(exc)) from exc
    print(f"Documentos reencolados: {len(ids)}")
    return 0


def _new_password(given: str | None) -> str:
    """The password from ``--password``, asked twice at a terminal, or read from stdin."""
    from service.domain.errors import UsageError

    password = given
    if not password:
        if sys.stdin.isatty():
            import getpass

            password = getpass.getpass("Contraseña: ")
            if password != getpass.getpass("Repita la contraseña: "):
                raise UsageError(error_message("passwords_differ"))
        else:
            password = sys.stdin.readline().rstrip("\n")
    if not password:
        raise UsageError(error_message("empty_password"))
    return password


def user(args) -> int:
    from service.db import SessionLocal
    from service.domain.access import create_user, remove_user
    from service.domain.errors import UsageError

    if args.user_command == "remove":
        with SessionLocal() as session:
            if remove_user(session, args.username) is None:
                raise UsageError(error_message("no_such_user", username=args.username))
        print(f"Usuario «{args.username}» dado de baja; sus sesiones quedaron cerradas.")
        return 0
    password = _new_password(args.password)
    with SessionLocal() as session:
        create_user(session, args.username, password, args.role)
    print(f"Usuario «{args.username}» ({args.role}) listo.")
    return 0


def db(args) -> int:
    from service.migrate import upgrade
    from service.settings import get_settings

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

    from service.domain.errors import UsageError

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
        return "running"
    except redis.exceptions.ConnectionError:
        pass
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 6379
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise UsageError(error_message("redis_not_local", url=url))
    server = shutil.which("redis-server")
    if server is None:
        raise UsageError(error_message("redis_server_missing"))
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
    raise UsageError(error_message("redis_did_not_start", log=folder / "redis.log"))


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
    from service.domain.errors import UnavailableError
    from service.settings import get_settings

    settings = get_settings()
    base = f"http://{args.host}:{args.port}"
    # links name this server unless the deployment published another address
    public = settings.public_url if "public_url" in settings.model_fields_set else base
    credentials, demo = _prepare(args, settings)
    env = {**os.environ, "EVIDENCIA_PUBLIC_URL": public,
           "EVIDENCIA_DATA_DIR": str(settings.data_dir.resolve()),
           "EVIDENCIA_SECRET_KEY": _secret_key(settings)}
    cli = [sys.executable, "-m", "service.cli"]
    children = [
        subprocess.Popen([*cli, "worker"], env=env),
        subprocess.Popen([*cli, "serve", "--host", args.host, "--port", str(args.port)], env=env),
    ]
    try:
        if not _wait_http(f"{base}/healthz", 60, children[1]):
            raise UnavailableError(error_message("api_did_not_start"))
        _print_links(public.rstrip("/"), credentials, demo)
        while all(c.poll() is None for c in children):
            time.sleep(0.5)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        _stop(children)


def _secret_key(settings) -> str:
    """The deployment's key, or on a development machine that set none, a random one made on
    first start and kept in the data folder (so sessions outlive a restart)."""
    from service.security import require_secret_key

    if settings.secret_key_problem != "missing":
        require_secret_key()  # a placeholder or short key is a mistake to tell, not to replace
        return settings.secret_key
    path = settings.secret_key_file
    key = path.read_text().strip() if path.exists() else ""
    if len(key) < 32:
        key = secrets.token_hex(32)
        path.write_text(key + "\n")
    path.chmod(0o600)
    return key


def _prepare(args, settings) -> tuple[tuple[str, str], tuple[str, str] | None]:
    """Redis running, the database migrated, the demo reviewer and submission in place."""
    from service.domain.errors import UsageError
    from service.migrate import upgrade

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if not _port_free(args.host, args.port):
        raise UsageError(error_message("port_in_use", port=args.port))
    how = ensure_redis(settings.redis_url, settings.data_dir)
    print(f"Redis: {'iniciado' if how == 'started' else 'en uso'} ({settings.redis_url})")
    upgrade(settings.sqlalchemy_url)
    print(f"Base de datos: {_safe_url(settings.sqlalchemy_url)}")
    credentials = _demo_reviewer(settings.data_dir)
    return credentials, None if args.no_demo else load_demo(settings.data_dir)


def _print_links(public: str, credentials: tuple[str, str], demo) -> None:
    username, password = credentials
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


def _stop(children: list[subprocess.Popen]) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGINT)
    for child in children:
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
