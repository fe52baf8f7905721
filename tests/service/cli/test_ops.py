"""Running the service: `evidencia up` (the README's main command) from an empty data folder to
a processed demo, its local Redis, every process it started gone after SIGTERM, the demo loaded
once, `db upgrade`, `user add` and `ops cache`."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import httpx
import pytest

from tests.conftest import REPO, SAMPLES, free_port


@pytest.mark.slow
@pytest.mark.skipif(not (SAMPLES / "demo").is_dir(), reason="samples/demo missing")
def test_up_serves_the_processed_demo(tmp_path, redis_url):
    port = free_port()
    env = {
        **os.environ,
        "EVIDENCIA_DATA_DIR": str(tmp_path / "data"),
        "EVIDENCIA_REDIS_URL": redis_url,
        "EVIDENCIA_DATABASE_URL": "",
        "EVIDENCIA_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "EVIDENCIA_SECRET_KEY": "",  # as scripts/run: up makes one for this machine
        "OMP_THREAD_LIMIT": "1",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "up", "--port", str(port)],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        printed = ""
        deadline = time.monotonic() + 90
        while "Ctrl-C" not in printed and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                break
            printed += line
        link = re.search(r"(http://\S+/s/(\w+)\?t=(\S+))", printed)
        assert link, printed
        login = re.search(r"usuario: (revisor)\s+contraseña: (\S+)", printed)
        assert login, printed
        assert f"http://127.0.0.1:{port}/revision/ingresar" in printed
        key_file = tmp_path / "data" / "secret-key"
        assert len(key_file.read_text().strip()) == 64 and key_file.stat().st_mode & 0o077 == 0
        session = httpx.post(f"http://127.0.0.1:{port}/api/session",
                             json={"username": login.group(1), "password": login.group(2)})
        assert session.status_code == 200, session.text
        sub_id, token = link.group(2), link.group(3)
        url = f"http://127.0.0.1:{port}/api/submissions/{sub_id}/matrix"
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            matrix = httpx.get(url, headers={"Authorization": f"Bearer {token}"}).json()
            if matrix["complete"]:
                break
            time.sleep(1)
        assert matrix["complete"], matrix["documents"]
        assert {d["status"] for d in matrix["documents"]} == {"done"}, matrix["documents"]
        assert len(matrix["documents"]) == 6
        assert httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.mark.slow
def test_sigterm_to_up_stops_every_process_it_started(tmp_path):
    import redis

    from tests.queue.outages import alive, descendants, kill_whole_worker

    port, redis_port = free_port(), free_port()
    redis_url = f"redis://127.0.0.1:{redis_port}/0"  # none answers: up starts its own
    env = {
        **os.environ,
        "EVIDENCIA_DATA_DIR": str(tmp_path / "data"),
        "EVIDENCIA_REDIS_URL": redis_url,
        "EVIDENCIA_DATABASE_URL": "",
        "OMP_THREAD_LIMIT": "1",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "up", "--port", str(port), "--no-demo"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        printed = ""
        while "Ctrl-C" not in printed and proc.poll() is None:
            printed += proc.stdout.readline()
        assert "Redis: iniciado" in printed, printed
        deadline = time.monotonic() + 120
        while not redis.Redis.from_url(redis_url).scard("rq:workers"):  # models loaded
            assert time.monotonic() < deadline, "the worker did not register"
            time.sleep(0.3)
        started = descendants(proc.pid)
        assert len(started) >= 3  # Redis, the worker (and its scheduler), the API
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        assert [pid for pid in started if alive(pid)] == []
        with pytest.raises(redis.exceptions.ConnectionError):
            redis.Redis.from_url(redis_url, socket_connect_timeout=1).ping()
    finally:
        if proc.poll() is None:
            kill_whole_worker(proc)


def test_ensure_redis_starts_a_local_server_only_when_none_answers(tmp_path):
    import redis

    from service.cli.ops import ensure_redis, stop_children
    from service.domain.errors import UsageError

    url = f"redis://127.0.0.1:{free_port()}/0"
    started = ensure_redis(url, tmp_path)
    assert started is not None
    try:
        assert ensure_redis(url, tmp_path) is None  # one answers: nothing started
        conn = redis.Redis.from_url(url)
        assert conn.config_get("save") == {"save": ""}  # no persistence: the database is truth
        assert conn.config_get("dir")["dir"] == str((tmp_path / "redis").resolve())
    finally:
        stop_children([started])
    assert started.returncode is not None
    with pytest.raises(UsageError, match="no es local"):
        ensure_redis("redis://192.0.2.1:6379/0", tmp_path)


@pytest.mark.parametrize("key, problem", [("", "no está definida"),
                                          ("change-me", "valor de ejemplo"),
                                          ("corta-1234", "demasiado corta")])
def test_the_api_refuses_to_start_without_its_own_secret_key(monkeypatch, capsys, key, problem):
    from service.app import create_app
    from service.cli import main
    from service.domain.errors import UsageError
    from service.settings import get_settings

    monkeypatch.setenv("EVIDENCIA_SECRET_KEY", key)
    get_settings.cache_clear()
    try:
        with pytest.raises(UsageError, match=problem):
            create_app()
        assert main(["serve", "--port", str(free_port())]) == 2  # before uvicorn starts
        err = capsys.readouterr().err
        assert problem in err and "EVIDENCIA_SECRET_KEY" in err and "openssl rand -hex 32" in err
        assert "./scripts/run" in err
    finally:
        get_settings.cache_clear()


def test_cli_db_upgrade_and_user_add(service_env, capsys):
    from service.cli import main
    from service.db import SessionLocal
    from service.domain.access import authenticate

    assert main(["db", "upgrade"]) == 0
    assert main(["user", "add", "carla", "--password", "s3creta-larga-7"]) == 0
    with SessionLocal() as session:
        assert authenticate(session, "carla", "s3creta-larga-7") is not None
        assert authenticate(session, "carla", "otra") is None
    assert "carla" in capsys.readouterr().out


def test_user_add_on_an_existing_admin_resets_the_password_and_keeps_the_role(
        service_env, capsys):
    """QA 2026-12-07, as programme staff: `evidencia user add jefa` to give the admin a new
    password also made her a plain reviewer (--role defaulted to reviewer) and said only
    "Usuario «jefa» (reviewer) listo.", as for a new account. Without --role an existing
    account keeps its role, and the command says whether it created an account or replaced
    an existing one's password (closing its sessions), with any change of role."""
    from service.cli import main
    from service.db import SessionLocal
    from service.domain.access import authenticate

    assert main(["user", "add", "jefa", "--role", "admin",
                 "--password", "mesa verde junto al rio 1"]) == 0
    assert capsys.readouterr().out == "Usuario «jefa» (admin) creado.\n"
    assert main(["user", "add", "jefa", "--password", "mesa verde junto al rio 2"]) == 0
    assert capsys.readouterr().out == (
        "Usuario «jefa» (admin) ya existía: contraseña nueva; sus sesiones abiertas quedaron "
        "cerradas.\n")
    with SessionLocal() as session:
        assert authenticate(session, "jefa", "mesa verde junto al rio 2").role == "admin"
    assert main(["user", "add", "jefa", "--role", "reviewer",
                 "--password", "mesa verde junto al rio 3"]) == 0
    assert "rol cambiado de admin a reviewer" in capsys.readouterr().out
    with SessionLocal() as session:
        assert authenticate(session, "jefa", "mesa verde junto al rio 3").role == "reviewer"


@pytest.mark.parametrize("username", ["", "   ", "a" * 121, "ana\tlopez", "ana\nlopez"])
def test_user_add_refuses_a_name_no_one_could_log_in_with(service_env, capsys, username):
    """QA 2026-12-08: `evidencia user add ""` ended in a traceback and "Error interno del
    programa" (a ValueError in English); a name longer than the column's 120 characters did
    too on PostgreSQL (DataError) and was stored on SQLite, where no login could ever match it
    (the login form takes 120); a name with a tab or a line break was stored, and nobody can
    type it into the form. Each is now one Spanish line and exit 2, and no account is made."""
    from sqlalchemy import func, select

    from service.cli import main
    from service.db import SessionLocal
    from service.domain.models import User

    assert main(["user", "add", username, "--password", "mesa verde junto al rio 1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("evidencia user: El nombre de usuario ")
    assert "Traceback" not in err and "Error interno" not in err
    with SessionLocal() as session:
        assert session.scalar(select(func.count(User.id))) == 0


def test_user_add_reads_a_password_piped_from_a_windows_file(service_env, capsys, monkeypatch):
    """QA 2026-12-08: `evidencia user add ana < clave.txt` with a file saved on Windows (its
    line ending CR LF) kept the CR in the password: the account was created, and the reviewer
    could not log in with the password written in the file. The line ending goes, whichever
    it is; the password itself is kept as written."""
    import io

    from service.cli import main
    from service.db import SessionLocal
    from service.domain.access import authenticate

    monkeypatch.setattr(sys, "stdin", io.StringIO(" mesa verde junto al rio \r\n"))
    assert main(["user", "add", "ana"]) == 0
    assert "Usuario «ana» (reviewer) creado." in capsys.readouterr().out
    with SessionLocal() as session:
        assert authenticate(session, "ana", " mesa verde junto al rio ") is not None


def test_demo_is_loaded_once(service_env, tmp_path):
    from service.cli.ops import load_demo
    from service.db import SessionLocal
    from service.domain.models import Submission

    demo = tmp_path / "demo"
    demo.mkdir()
    (demo / "acta.txt").write_text("Acta de constitución del comité de inclusión.")
    (demo / "expected.json").write_text("{}")
    first = load_demo(service_env.data_dir, demo)
    second = load_demo(service_env.data_dir, demo)
    assert first == second and first[1]
    with SessionLocal() as session:
        submissions = session.query(Submission).all()
        assert len(submissions) == 1
        assert [d.name for d in submissions[0].documents] == ["acta.txt"]


def test_ops_cache_lists_the_generations_and_prune_frees_the_old_ones(tmp_path, monkeypatch,
                                                                      capsys):
    """`evidencia ops cache`: each cache's generations with entries, size and which is in force,
    and the patterns' validation marks; `--prune`: the old generations removed with the orphan
    temporary files and the stale marks (one was left per change of the patterns: hygiene
    2026-12-06), the current mark kept, what that freed told."""
    from classifiers import annotation_cache, cache_dir, readings
    from service.cli import main
    from service.cli.ops import current_patterns_mark, reprocess_caches
    from service.domain.messages import format_size
    from service.settings import get_settings

    nlp = tmp_path / "data" / "nlp"
    current, rules = annotation_cache.generation(), readings.generation()
    for folder, n in ((nlp / current, 2), (nlp / "0123456789abcdef", 3),
                      (nlp / "readings" / rules, 1), (nlp / "readings" / "fedcba9876543210", 5)):
        for i in range(n):
            entry = folder / f"{i:02x}" / f"{i:02x}{'0' * 62}.spacy"
            entry.parent.mkdir(parents=True, exist_ok=True)
            entry.write_bytes(b"x" * 5000)
    marks = nlp / cache_dir.MARKS_FOLDER
    marks.mkdir()
    mark = current_patterns_mark()
    for name in (mark, "1" * 64, "2" * 64):
        (marks / name).touch()
    orphan = nlp / current / "00" / ".tmp-killed"
    orphan.write_bytes(b"y" * 100)
    then = time.time() - cache_dir.ORPHAN_SECONDS - 60
    os.utime(orphan, (then, then))
    sizes = {g.name: format_size(g.bytes) for c in reprocess_caches(nlp)
             for g in cache_dir.generations(c)}
    old_bytes = sum(g.bytes for c in reprocess_caches(nlp) for g in cache_dir.generations(c)
                    if not g.current)
    (orphan_bytes,) = [size for _path, size in cache_dir.orphans(nlp / current)]
    monkeypatch.setenv("EVIDENCIA_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    try:
        assert main(["ops", "cache"]) == 0
        listing = capsys.readouterr().out
        assert main(["ops", "cache", "--prune"]) == 0
        pruned = capsys.readouterr().out
        assert main(["ops", "cache"]) == 0
        after = capsys.readouterr().out
    finally:
        get_settings.cache_clear()
    lines = [" ".join(line.split()) for line in listing.splitlines()]
    assert lines == [
        f"Caché de anotaciones (spaCy): {nlp}",
        "generación entradas en disco",
        f"{current} 2 {sizes[current]} vigente",
        f"0123456789abcdef 3 {sizes['0123456789abcdef']} antigua",
        f"Caché de lecturas (reglas y rasgos): {nlp / 'readings'}",
        "generación entradas en disco",
        f"{rules} 1 {sizes[rules]} vigente",
        f"fedcba9876543210 5 {sizes['fedcba9876543210']} antigua",
        f"Almacén de archivos y páginas dibujadas: {tmp_path / 'data' / 'files'}, "
        f"{tmp_path / 'data' / 'renders'}: 0 archivos temporales huérfanos (0 B)",
        f"Validaciones de patrones recordadas: {marks}",
        f"{mark[:16]} vigente",
        f"{'1' * 16} antigua",
        f"{'2' * 16} antigua",
        f"Antiguas: 2 generaciones ({format_size(old_bytes)}); 1 archivo temporal huérfano "
        f"({format_size(orphan_bytes)}); 2 validaciones de patrones; «evidencia ops cache "
        "--prune» las borra.",
    ]
    assert pruned.splitlines()[-1] == (
        "Borradas: 2 generaciones, 1 archivo temporal huérfano y 2 validaciones de patrones; "
        f"liberados {format_size(old_bytes + orphan_bytes)}.")  # empty marks: no block
    assert [p.name for p in marks.iterdir()] == [mark]
    assert sorted(p.name for p in nlp.iterdir()) == sorted([current, "readings",
                                                            cache_dir.MARKS_FOLDER])
    assert [p.name for p in (nlp / "readings").iterdir()] == [rules]
    assert not orphan.exists() and len(list(nlp.rglob("*.spacy"))) == 3
    assert after.splitlines()[-1] == (
        "Antiguas: 0 generaciones (0 B); 0 archivos temporales huérfanos (0 B); 0 validaciones "
        "de patrones.")


def test_ops_cache_prune_exits_1_when_something_stays(tmp_path, monkeypatch, capsys):
    from classifiers import cache_dir
    from service.cli import main
    from service.settings import get_settings

    old = tmp_path / "data" / "nlp" / "0123456789abcdef" / "00"
    old.mkdir(parents=True)
    (old / "entry.spacy").write_bytes(b"x")

    def refused(path, onerror):
        onerror(os.rmdir, str(path), (PermissionError, PermissionError(13, "Permiso denegado"),
                                      None))

    monkeypatch.setattr(cache_dir.shutil, "rmtree", refused)
    monkeypatch.setenv("EVIDENCIA_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    try:
        assert main(["ops", "cache", "--prune"]) == 1
    finally:
        get_settings.cache_clear()
    out, err = capsys.readouterr()
    assert "Borradas: 0 generaciones, 0 archivos temporales huérfanos y 0 validaciones" in out
    assert err.strip() == f"no se pudo borrar {old.parent}: Permiso denegado"


_SLOW_UPLOAD = """
import sys, time
from pathlib import Path
from service.domain.storage import store_stream

class Slow:
    sent = False
    def read(self, n):
        if self.sent:
            time.sleep(3600)  # the client stalls: killed here, mid-write
        self.sent = True
        return b"%PDF-1.7 half of an upload" * 1000

store_stream(Slow(), Path(sys.argv[1]))
"""


def test_ops_cache_prune_removes_the_file_stores_orphans_of_a_writer_killed_mid_write(
        tmp_path, monkeypatch, capsys):
    """Bug: a process SIGKILLed while it wrote to the content-addressed store (an upload, a ZIP
    member) left its `.tmp-` file in `files/` for ever; nothing listed or removed it. Now
    `evidencia ops cache` counts them with the caches' orphans and `--prune` removes those
    older than the caches' age rule (an hour), and the page renders' too; a younger one (a write
    in progress) and every stored file are left."""
    from classifiers import cache_dir
    from service.cli import main
    from service.domain.messages import format_size
    from service.domain.storage import store_bytes
    from service.settings import get_settings

    files, renders = tmp_path / "data" / "files", tmp_path / "data" / "renders"
    stored = store_bytes(b"an uploaded file, whole", files)
    writer = subprocess.Popen([sys.executable, "-c", _SLOW_UPLOAD, str(files)], cwd=REPO,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        deadline = time.monotonic() + 30
        while not [p for p in files.iterdir() if p.name.startswith(cache_dir.TMP_PREFIX)]:
            assert writer.poll() is None and time.monotonic() < deadline, "no write began"
            time.sleep(0.05)
        time.sleep(0.2)  # its first chunk written
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(10)
    [killed] = [p for p in files.iterdir() if p.name.startswith(cache_dir.TMP_PREFIX)]
    assert killed.stat().st_size > 0
    render = renders / "ab" / f"{cache_dir.TMP_PREFIX}0123456789abcdef"
    render.parent.mkdir(parents=True)
    render.write_bytes(b"half a png")
    young = files / "ab" / f"{cache_dir.TMP_PREFIX}fedcba9876543210"
    young.parent.mkdir(parents=True)
    young.write_bytes(b"a write in progress")
    then = time.time() - cache_dir.ORPHAN_SECONDS - 60  # an hour later, as the prune sees it
    for path in (killed, render):
        os.utime(path, (then, then))
    size = sum(b for folder in (files, renders) for _p, b in cache_dir.orphans(folder))

    monkeypatch.setenv("EVIDENCIA_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    try:
        assert main(["ops", "cache"]) == 0
        listing = capsys.readouterr().out.splitlines()
        assert main(["ops", "cache", "--prune"]) == 0
        pruned = capsys.readouterr().out.splitlines()
    finally:
        get_settings.cache_clear()
    assert (f"Almacén de archivos y páginas dibujadas: {files}, {renders}: 2 archivos "
            f"temporales huérfanos ({format_size(size)})") in listing
    assert listing[-1].startswith("Antiguas: 0 generaciones (0 B); 2 archivos temporales "
                                  f"huérfanos ({format_size(size)}); ")
    assert pruned[-1] == ("Borradas: 0 generaciones, 2 archivos temporales huérfanos y 0 "
                          f"validaciones de patrones; liberados {format_size(size)}.")
    assert not killed.exists() and not render.exists() and young.exists()
    assert (files / stored[:2] / stored[2:4] / stored).read_bytes() == b"an uploaded file, whole"
