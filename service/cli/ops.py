"""Handlers of ``evidencia serve | worker | requeue | user | db | up | ops``: running the service.

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

from service.cli.grouped import print_by_reason
from service.domain.messages import error_message

__all__ = [
    "serve",
    "worker",
    "requeue",
    "user",
    "db",
    "up",
    "ops",
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
    from service.settings import get_settings

    require_secret_key()  # told here, before uvicorn, as one clear line

    uvicorn.run(
        "service.app:create_app", factory=True, host=args.host, port=args.port,
        proxy_headers=True,
        workers=max(1, getattr(args, "workers", None) or get_settings().api_processes),
    )
    return 0


def worker(args) -> int:
    from service.domain.dispatch import get_dispatcher
    from service.settings import get_settings

    options = get_settings().extract_options(ocr_workers=getattr(args, "ocr_threads", None))
    # A worker ends when its queues are empty (--burst) or when told to stop (SIGTERM,
    # SIGINT): both are success, whether or not it ran a job; faults are raised.
    get_dispatcher().work(args.queues, burst=args.burst, options=options)
    return 0


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


def retry(args) -> int:
    """Documents in ``error`` back to the queue (``service.domain.retry.retry_documents``):
    the ones named, a submission's, or every one. Exit 2 for an id that names no document or
    no submission (a wrong argument: nothing retried), 1 when a document named could not be
    retried (it exists: removed, not in error, under a final verdict...), else 0."""
    from service.db import SessionLocal
    from service.domain.errors import UsageError
    from service.domain.retry import documents_in_error, retry_documents
    from service.domain.submissions import get_submission

    with SessionLocal() as session:
        ids = list(args.documents)
        if ids:  # a mistyped id is said before anything is retried, exit 2 (as a submission's)
            known = _document_names(session, ids)
            unknown = [i for i in dict.fromkeys(ids) if i not in known]
            if unknown:
                raise UsageError(error_message("retry_unknown_documents",
                                               ids=", ".join(f"«{i}»" for i in unknown)))
        else:
            if args.submission:
                get_submission(session, args.submission)  # a mistyped id is said, exit 2
            ids = documents_in_error(session, args.submission)
        outcome = retry_documents(session, ids)
        names = _document_names(session, list(outcome.refused))
        copies = _copies(session, list(outcome.queued))
    # a copy of a document sent again in its submission counts nowhere (the matrix, the
    # status): read again with the rest, said apart
    print(f"Documentos reintentados: {len(outcome.queued) - copies}"
          + (f", más {copies} copia(s) repetida(s) en su postulación (no cuentan aparte)"
             if copies else ""))
    if outcome.refused:  # thousands at archive volume: by reason, a few names each
        grouped: dict[str, list[str]] = {}
        for document_id, refusal in outcome.refused.items():
            shown = f"{document_id} ({names[document_id]})" if document_id in names else (
                document_id)
            grouped.setdefault(refusal.message, []).append(shown)
        print_by_reason(grouped, "No se reintentaron {total} documento(s), por motivo:",
                        sys.stderr)
    return 1 if outcome.refused and args.documents else 0


def _copies(session, document_ids: list[str]) -> int:
    """How many of ``document_ids`` repeat the bytes of an earlier document of their
    submission (``listing.is_duplicate``)."""
    from sqlalchemy import func, select

    from service.domain.listing import is_duplicate
    from service.domain.models import Document

    return sum(session.scalar(select(func.count(Document.id)).where(
        Document.id.in_(document_ids[start : start + 500]), is_duplicate())) or 0
        for start in range(0, len(document_ids), 500))


def _document_names(session, document_ids: list[str]) -> dict[str, str]:
    from sqlalchemy import select

    from service.domain.models import Document

    return {i: n for start in range(0, len(document_ids), 500)
            for i, n in session.execute(select(Document.id, Document.name).where(
                Document.id.in_(document_ids[start : start + 500])))}


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
            password = sys.stdin.readline().rstrip("\r\n")  # the line ending, LF or CR LF
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
        before = _account(session, args.username)
        user = create_user(session, args.username, password, args.role)
        print(_user_outcome(before, user.username, user.role))
    return 0


def _account(session, username: str) -> tuple[str, bool] | None:
    """(role, active) of an existing account, None for a new name."""
    from sqlalchemy import select

    from service.domain.models import User

    found = session.execute(select(User.role, User.active)
                            .where(User.username == username.strip())).first()
    return None if found is None else (found.role, found.active)


def _user_outcome(before: tuple[str, bool] | None, username: str, role: str) -> str:
    """What ``user add`` did, said apart: an account created, or an existing one whose
    password was replaced (its sessions closed), with its role change or reactivation, so a
    staff member who meant to create one learns they reset someone's password."""
    if before is None:
        return f"Usuario «{username}» ({role}) creado."
    old_role, was_active = before
    changes = ["contraseña nueva; sus sesiones abiertas quedaron cerradas"]
    if old_role != role:
        changes.append(f"rol cambiado de {old_role} a {role}")
    if not was_active:
        changes.append("reactivado")
    return f"Usuario «{username}» ({role}) ya existía: " + "; ".join(changes) + "."


def db(args) -> int:
    from service.migrate import upgrade
    from service.settings import get_settings

    url = get_settings().sqlalchemy_url
    upgrade(url)
    print(f"Base de datos al día: {_safe_url(url)}")
    return 0


# --- evidencia ops ---------------------------------------------------------------------------


def ops(args) -> int:
    """``evidencia ops cache [--prune]`` (the only action so far)."""
    return cache(args)


#: how each cache is named to the operator
_CACHE_NAMES = {"annotations": "Caché de anotaciones (spaCy)",
                "readings": "Caché de lecturas (reglas y rasgos)"}


def reprocess_caches(folder: Path):
    """The caches kept under ``folder`` (the annotations, and the readings in its ``readings``
    folder), each with its current generation, computed from the code and model installed
    (neither spaCy nor the patterns are loaded)."""
    from classifiers import annotation_cache, readings
    from classifiers.cache_dir import Cache

    folder = Path(folder)
    return [Cache("annotations", folder, annotation_cache.generation()),
            Cache("readings", folder / readings.FOLDER, readings.generation())]


def store_folders() -> list[Path]:
    """The folders the service writes through the atomic writer besides the caches: the
    content-addressed file store and the page renders. A writer killed mid-write (SIGKILL, a
    machine gone) leaves a temporary file there that nothing else removes: ``cache --prune`` is
    their one owner, with the caches' age rule (``cache_dir.ORPHAN_SECONDS``)."""
    from service.settings import get_settings

    settings = get_settings()
    return [settings.files_dir, settings.renders_dir]


def current_patterns_mark() -> str | None:
    """The fingerprint naming the installed patterns' validation mark (the patterns read, not
    spaCy: ~0.2 s); None when they cannot be read, so no mark is taken for stale."""
    from classifiers.rules import load_rules

    try:
        return load_rules().fingerprint()
    except Exception:  # a listing must not fail on the patterns
        log.warning("patterns not readable: no validation mark counts as stale", exc_info=True)
        return None


def cache(args) -> int:
    """The reprocess caches' generations (entries, size on disk, which is in force), the orphan
    temporary files of the file store and the page renders, and the patterns' validation marks;
    with ``--prune`` the old generations, the orphan temporary files (of the caches' current
    generations and of the store) and the stale marks removed, and what that freed. Exit 1 when
    something could not be removed (told on stderr)."""
    from classifiers.cache_dir import (
        GENERATION_CHARS,
        MARKS_FOLDER,
        generations,
        orphans,
        prune,
        prune_marks,
        prune_orphans,
        validation_marks,
    )
    from service.domain.messages import format_size
    from service.settings import get_settings

    old = old_bytes = tmp_files = tmp_bytes = 0
    root = get_settings().annotations_dir
    found = reprocess_caches(root)
    for c in found:
        print(f"{_CACHE_NAMES[c.name]}: {c.root}")
        print(f"  {'generación':<20} {'entradas':>10} {'en disco':>10}")
        for gen in generations(c):
            name = gen.name or "(sin generación)"
            state = "vigente" if gen.current else "antigua"
            print(f"  {name:<20} {_count(gen.entries):>10} {format_size(gen.bytes):>10}  {state}")
            if gen.current:
                left = orphans(c.root / gen.name)
                tmp_files, tmp_bytes = tmp_files + len(left), tmp_bytes + sum(b for _, b in left)
            else:
                old, old_bytes = old + 1, old_bytes + gen.bytes
    stored = store_folders()
    left = [o for folder in stored for o in orphans(folder)]
    print(f"Almacén de archivos y páginas dibujadas: {', '.join(map(str, stored))}: "
          f"{_plural(len(left), *_ORPHANS)} ({format_size(sum(b for _, b in left))})")
    tmp_files, tmp_bytes = tmp_files + len(left), tmp_bytes + sum(b for _, b in left)
    current_mark = current_patterns_mark()
    marks = validation_marks(root, current_mark)
    stale = 0 if current_mark is None else sum(not m.current for m in marks)
    print(f"Validaciones de patrones recordadas: {root / MARKS_FOLDER}")
    for mark in marks:
        state = "vigente" if mark.current else "antigua"
        print(f"  {mark.path.name[:GENERATION_CHARS]:<20} {state}")
    if not args.prune:
        hint = "; «evidencia ops cache --prune» las borra." if old or tmp_files or stale else "."
        print(f"Antiguas: {_plural(old, 'generación', 'generaciones')} "
              f"({format_size(old_bytes)}); {_plural(tmp_files, *_ORPHANS)} "
              f"({format_size(tmp_bytes)}); {_plural(stale, *_MARKS)}{hint}")
        return 0
    removed = removed_tmp = freed = 0
    failed: list = []
    done_marks = prune_marks(root, current_mark)
    for done in [*(prune(c) for c in found), *(prune_orphans(f) for f in stored), done_marks]:
        removed += len(done.generations)
        removed_tmp += done.tmp_files
        freed += done.bytes
        failed += done.failed
    print(f"Borradas: {_plural(removed, 'generación', 'generaciones')}, "
          f"{_plural(removed_tmp, *_ORPHANS)} y {_plural(done_marks.marks, *_MARKS)}; "
          f"liberados {format_size(freed)}.")
    for path, reason in failed:
        print(f"  no se pudo borrar {path}: {reason}", file=sys.stderr)
    return 1 if failed else 0


_MARKS = ("validación de patrones", "validaciones de patrones")
_ORPHANS = ("archivo temporal huérfano", "archivos temporales huérfanos")


def _plural(n: int, one: str, many: str) -> str:
    """"1 generación", "12.345 generaciones" (Spanish thousands separator)."""
    return f"{n:,} {one if n == 1 else many}".replace(",", ".")


def _count(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def _safe_url(url: str) -> str:
    parsed = urlparse(url)
    if parsed.password:
        return url.replace(f":{parsed.password}@", ":***@")
    return url


# --- evidencia up ---------------------------------------------------------------------------


def ensure_redis(url: str, data_dir: Path, *, wait: float = 10.0) -> subprocess.Popen | None:
    """None if Redis answers at ``url``, else a local one started as a child of this process
    (the caller stops it: :func:`stop_children`).

    Only a local address is started (no persistence: the database is the truth).
    """
    import redis

    from service.domain.errors import UsageError

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
        return None
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
    proc = subprocess.Popen(
        [
            server, "--bind", host, "--port", str(port), "--save", "", "--appendonly", "no",
            "--dir", str(folder), "--logfile", str(folder / "redis.log"),
        ],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, start_new_session=True,
    )
    deadline = time.monotonic() + wait
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                redis.Redis.from_url(url, socket_connect_timeout=1).ping()
                return proc
            except redis.exceptions.ConnectionError:
                time.sleep(0.2)
        raise UsageError(error_message("redis_did_not_start", log=folder / "redis.log"))
    except BaseException:
        stop_children([proc])
        raise


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
    """Everything on one machine: Redis if missing, migrations, one worker, the API, the demo.

    SIGTERM or SIGINT (Ctrl-C) is passed on to every child, which is waited for
    (:func:`stop_children`): the worker finishes its current job first.
    """
    from service.domain.errors import UnavailableError, UsageError
    from service.settings import get_settings

    settings = get_settings()
    base = f"http://{args.host}:{args.port}"
    # links name this server unless the deployment published another address
    public = settings.public_url if "public_url" in settings.model_fields_set else base
    services: list[subprocess.Popen] = []
    started_redis: list[subprocess.Popen] = []
    signum = signal.SIGTERM
    previous = _on_stop_signals(_raise_stop)
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        if not _port_free(args.host, args.port):
            raise UsageError(error_message("port_in_use", port=args.port))
        redis_proc = ensure_redis(settings.redis_url, settings.data_dir)
        started_redis += [redis_proc] if redis_proc else []
        print(f"Redis: {'iniciado' if redis_proc else 'en uso'} ({settings.redis_url})")
        credentials, demo = _prepare(args, settings)
        env = {**os.environ, "EVIDENCIA_PUBLIC_URL": public,
               "EVIDENCIA_DATA_DIR": str(settings.data_dir.resolve()),
               "EVIDENCIA_SECRET_KEY": _secret_key(settings)}
        cli = [sys.executable, "-m", "service.cli"]
        # Own sessions: a terminal's Ctrl-C reaches this process only, which passes it on in
        # order (the services, then Redis) and can find every process each child started.
        for command in (["worker"], ["serve", "--host", args.host, "--port", str(args.port)]):
            services.append(subprocess.Popen([*cli, *command], env=env, start_new_session=True))
        if not _wait_http(f"{base}/healthz", 60, services[1]):
            raise UnavailableError(error_message("api_did_not_start"))
        _print_links(public.rstrip("/"), credentials, demo)
        while all(c.poll() is None for c in [*services, *started_redis]):
            time.sleep(0.5)
        return 1
    except _StopSignal as stop:
        signum = stop.signum
        return 0
    finally:
        stop_children(services, signum)
        stop_children(started_redis, signum)
        _on_stop_signals(previous)


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
    """The database migrated, the demo reviewer and submission in place."""
    from service.migrate import upgrade

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
    print(f"  Salud:                          {public}/readyz")
    print(f"  Métricas (revisores, o token):  {public}/metrics")
    print("Ctrl-C para detener.")


#: Seconds the children get after the stop signal: the worker finishes the job it runs (rq's
#: warm shutdown), the API its requests. Then they are told again: the worker hands its job
#: back to the queue (cold shutdown), the API closes its connections.
STOP_GRACE = 20.0
#: Seconds after the second signal before whatever still runs is killed.
KILL_GRACE = 10.0


class _StopSignal(KeyboardInterrupt):
    """SIGTERM or SIGINT reached ``evidencia up`` (told like Ctrl-C if it escapes)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _raise_stop(signum, frame):
    raise _StopSignal(signum)


def _on_stop_signals(handler) -> dict:
    """Install ``handler`` (a callable or a dict of previous handlers) for SIGTERM and SIGINT;
    return the handlers it replaced."""
    handlers = handler if isinstance(handler, dict) else dict.fromkeys(_STOP_SIGNALS, handler)
    return {sig: signal.signal(sig, h) for sig, h in handlers.items()}


_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def stop_children(children: list[subprocess.Popen], signum: int = signal.SIGTERM, *,
                  grace: float = STOP_GRACE, kill_after: float = KILL_GRACE) -> None:
    """Pass ``signum`` to the children and wait for them; a second signal after ``grace``
    seconds (or at once if this process is signalled again), SIGKILL after ``kill_after``
    more. Then anything left in their sessions (a work horse, Tesseract) is killed."""
    again: list[int] = []
    previous = _on_stop_signals(lambda sig, frame: again.append(sig))
    try:
        for wait in (grace, kill_after):
            for child in children:
                if child.poll() is None:
                    child.send_signal(signum)
            sent = time.monotonic()
            while any(c.poll() is None for c in children) and time.monotonic() < sent + wait:
                if again and time.monotonic() > sent + 1.5:  # rq ignores a repeat within 1 s
                    again.clear()
                    break
                time.sleep(0.1)
        for child in children:
            _kill_session(child.pid)
            child.wait()
    finally:
        _on_stop_signals(previous)


def _kill_session(sid: int) -> None:
    """SIGKILL every process of session ``sid`` (a child started with its own session is its
    leader; its descendants stay in it unless they start their own)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 3 and fields[3] == str(sid) and fields[0] != "Z":
            try:
                os.kill(int(stat.parent.name), signal.SIGKILL)
            except ProcessLookupError:
                pass
