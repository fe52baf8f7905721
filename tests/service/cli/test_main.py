"""The command line's one error boundary: a Spanish line on stderr and the code's exit code;
every command and option helped in Spanish, argparse's own words too; ``--version``."""

from __future__ import annotations

import argparse
import logging
import re

import pytest


def test_errors_become_exit_codes_and_one_spanish_line(service_env, capsys, tmp_path,
                                                       monkeypatch):
    from service.cli import main
    from service.settings import get_settings

    assert main(["reprocess", "--since", "ayer"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("evidencia reprocess: Fecha inválida") and "AAAA-MM-DD" in err
    assert "Traceback" not in err

    assert main(["batch", str(tmp_path / "no-existe")]) == 2
    assert "No existe" in capsys.readouterr().err

    monkeypatch.setenv("EVIDENCIA_DATABASE_URL", f"sqlite:///{tmp_path / 'vacia.db'}")
    get_settings.cache_clear()
    assert main(["reprocess", "--all"]) == 2  # a database nobody migrated
    assert "evidencia db upgrade" in capsys.readouterr().err
    assert main(["batch", str(tmp_path)]) == 2
    assert "continuar donde quedó" in capsys.readouterr().err  # a batch resumes


def test_a_batch_usage_error_does_not_promise_to_resume(service_env, capsys, tmp_path):
    """QA 2026-12-06: every exit 2 of `evidencia batch` (a bad RUT in the CSV, --csv missing)
    ended "Lo cargado quedó guardado: vuelva a ejecutar el mismo comando para continuar donde
    quedó", which would only fail again, before anything was loaded."""
    from service.cli import main

    folder = tmp_path / "Fundación Sol"
    folder.mkdir()
    (folder / "acta.txt").write_text("Acta del comité de inclusión.", encoding="utf-8")
    assert main(["batch", str(tmp_path), "--org-from", "csv"]) == 2
    err = capsys.readouterr().err
    assert "--csv" in err and "continuar donde quedó" not in err
    orgs = tmp_path / "orgs.csv"
    orgs.write_text("ruta,organizacion,rut\nFundación Sol,Fundación Sol,12.345.678-0\n",
                    encoding="utf-8")
    assert main(["batch", str(tmp_path), "--org-from", "csv", "--csv", str(orgs)]) == 2
    err = capsys.readouterr().err
    assert "RUT inválido" in err and "'12.345.678-0'. Corrija esa fila" in err
    assert "continuar donde quedó" not in err


#: Words that give away an English help line (whole words; none is also Spanish, and none is
#: a choice the options take, such as `all`).
_ENGLISH = re.compile(
    r"\b(the|and|of|to|show|this|message|exit|with|for|from|is|are|only|run|runs|when|"
    r"default|which|be|if|or|into|it|its|by|an|on|in|file|files|path|paths|help|number|"
    r"uses|without|each|every|one|new|instead|given|read|write|will)\b",
    re.IGNORECASE,
)


def _help_lines(parser, path=("evidencia",)):
    """(command path and option, help as shown) for every command and option, recursively."""
    formatter = parser._get_formatter()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                yield " ".join((*path, choice.dest)), choice.help or ""
            for name, sub in action.choices.items():
                yield from _help_lines(sub, (*path, name))
        elif action.help != argparse.SUPPRESS:
            name = action.option_strings[-1] if action.option_strings else action.dest
            shown = formatter._expand_help(action) if action.help else ""
            yield " ".join((*path, name)), shown


def test_every_command_and_option_has_a_spanish_help_line():
    from service.cli.main import _parser

    lines = list(_help_lines(_parser()))
    assert len(lines) > 50
    assert [name for name, shown in lines if not shown.strip()] == []
    assert [(name, shown) for name, shown in lines if _ENGLISH.search(shown)] == []
    assert _ENGLISH.search("show this help message and exit")  # argparse's own would fail


def test_version_usage_and_argparse_errors_in_spanish(capsys):
    from importlib.metadata import version

    from service.cli import main

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out == f"evidencia {version('evidencia')}\n"

    with pytest.raises(SystemExit):
        main(["reprocess", "--help"])
    out = capsys.readouterr().out
    assert out.startswith("uso: evidencia reprocess") and "Muestra esta ayuda" in out
    assert "usage" not in out and "options:" not in out

    for argv, said in (
        (["batch"], "faltan los argumentos: RUTA"),
        (["reprocess"], "se necesita uno de los argumentos --all --org --since"),
        (["serve", "--port", "x"], "argumento --port: valor no válido: 'x'"),
        (["db", "downgrade"], "no es una opción válida"),
        (["up", "--bogus"], "argumentos desconocidos: --bogus"),
    ):
        with pytest.raises(SystemExit) as done:
            main(argv)
        assert done.value.code == 2
        err = capsys.readouterr().err
        assert said in err and err.startswith("uso: evidencia"), err


@pytest.mark.parametrize("argv", [
    ["batch", "--bogus", "carpeta"], ["reprocess", "--all", "--bogus"],
    ["retry", "--all", "--bogus"], ["ops", "cache", "--bogus"], ["user", "add", "ana", "--bogus"],
    ["eval", "--bogus", "corpus"],
])
def test_an_unknown_option_is_told_with_its_commands_usage(argv, capsys):
    """QA 2026-12-07: `evidencia ops cache --bogus` (any command's unknown option) printed the top
    parser's usage, "uso: evidencia [-h] [--version] COMANDO ...", and "evidencia: error:",
    which shows none of the options the command does take."""
    from service.cli import main

    command = " ".join(argv[:2] if argv[0] in ("ops", "user") else argv[:1])
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"uso: evidencia {command} "), err
    assert f"evidencia {command}: error: argumentos desconocidos: --bogus" in err, err


def test_output_piped_into_a_reader_that_leaves(tmp_path):
    """QA 2026-12-06: `evidencia analyze --json … | head -c 600` ended in a traceback and "Ocurrió
    un error interno al procesar el documento…" once head had read enough. A real process
    whose stdout pipe is closed before it writes: no message, the shell's SIGPIPE status."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[3]
    env = {**os.environ, "PYTHONPATH": str(repo), "EVIDENCIA_DATA_DIR": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "analyze", "--json",
         str(repo / "samples" / "demo" / "acta-comite-paritario.txt")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp_path)
    proc.stdout.close()  # the reader is gone before the first line
    _, err = proc.communicate(timeout=120)
    err = err.decode()
    assert proc.returncode == 141, err
    assert "Traceback" not in err and "error interno" not in err and "BrokenPipe" not in err


class _BuggyDispatcher:
    """A dispatcher with a bug: any document it is asked about raises (an unexpected error)."""

    def job_id(self, document_id):
        raise RuntimeError("un defecto del programa")


def test_an_unexpected_error_speaks_to_staff(service_env, capsys, caplog):
    """QA 2026-12-06: a command's crash ended with the applicant's wording ("Ocurrió un error
    interno al procesar el documento… puede intentar subirlo de nuevo más tarde"); staff need
    to know it is the program's fault and where its traceback is."""
    from service.cli import main
    from service.db import SessionLocal
    from service.domain import dispatch, lifecycle
    from service.domain.models import Document
    from service.domain.submissions import add_files, create_submission

    with SessionLocal() as session:
        submission, _ = create_submission(session, "Fundación Ñandú", None)
        (document,) = add_files(session, submission, [("acta.txt", b"Acta del comite.")])
        lifecycle.fail(session.get(Document, document.id), "interrupted", "Interrumpido.")
        session.commit()
    previous = dispatch.install(_BuggyDispatcher())
    try:
        assert main(["retry", "--all"]) == 1  # ErrorCode.internal, as README says
        err = capsys.readouterr().err
        assert err.startswith("evidencia retry: Error interno del programa")
        assert "líneas anteriores" in err and "subirlo de nuevo" not in err
        (record,) = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert record.exc_info and "un defecto del programa" in str(record.exc_info[1])

        caplog.set_level(logging.CRITICAL)  # EVIDENCIA_LOG_LEVEL=CRITICAL: no traceback shown
        assert main(["retry", "--all"]) == 1
        assert "ejecute de nuevo el comando con EVIDENCIA_LOG_LEVEL=ERROR" in (
            capsys.readouterr().err)
    finally:
        dispatch.install(previous)


def test_no_option_shows_argparse_english_placeholder(capsys):
    """QA 2026-12-07: `analyze --help` showed "--password PASSWORD" and "--jobs JOBS",
    `user add` "--password PASSWORD", `train` "--jobs JOBS": argparse's placeholder, the
    option's English name in capitals, where every other option says CONTRASEÑA, N, ARCHIVO."""
    from service.cli import main

    commands = [["analyze"], ["eval"], ["train"], ["serve"], ["worker"], ["up"], ["requeue"],
                ["retry"], ["user", "add"], ["user", "remove"], ["db", "upgrade"],
                ["ops", "cache"], ["batch"], ["reprocess"]]
    for command in commands:
        with pytest.raises(SystemExit):
            main([*command, "--help"])
        out = capsys.readouterr().out
        for option, shown in re.findall(r"(--[a-z][a-z-]*) ([A-Z_]{2,})\b", out):
            assert shown != option[2:].upper().replace("-", "_"), (command, option, shown)


@pytest.mark.parametrize("variable, value, said", [
    ("EVIDENCIA_MAX_FILE_BYTES", "abc", "(se dio «abc»): debe ser un número entero."),
    ("EVIDENCIA_MAX_FILE_BYTES", "-5", "(se dio «-5»): debe ser mayor que 0."),
    ("EVIDENCIA_LOG_LEVEL", "verbose",
     "(se dio «verbose»): use DEBUG, INFO, WARNING, ERROR o CRITICAL."),
])
def test_a_bad_setting_is_one_spanish_line_and_exit_2(variable, value, said, service_env,
                                                        monkeypatch, capsys, tmp_path):
    """QA 2026-12-07: `EVIDENCIA_MAX_FILE_BYTES=abc evidencia reprocess --all` ended in
    pydantic's English traceback and exit 1; `EVIDENCIA_LOG_LEVEL=verbose` in logging's
    "ValueError: Unknown level: 'VERBOSE'"."""
    from service.cli import main
    from service.settings import get_settings

    monkeypatch.setenv(variable, value)
    get_settings.cache_clear()
    try:
        assert main(["analyze", str(tmp_path)]) == 2
    finally:
        monkeypatch.delenv(variable)
        get_settings.cache_clear()
    err = capsys.readouterr().err
    assert err == (f"evidencia analyze: La variable de entorno {variable} no es válida {said} "
                   "Corríjala y vuelva a ejecutar.\n"), err


@pytest.mark.parametrize("argv, said", [
    (["serve", "--port", "99999"], "argumento --port: debe estar entre 1 y 65535 (se dio 99999)"),
    (["up", "--port", "0"], "argumento --port: debe estar entre 1 y 65535 (se dio 0)"),
    (["serve", "--workers", "-1"], "argumento --workers: debe ser 1 o más (se dio -1)"),
    (["worker", "--ocr-threads", "-2"], "argumento --ocr-threads: debe ser 1 o más (se dio -2)"),
    (["analyze", "--jobs", "0", "x"], "argumento --jobs: debe ser 1 o más (se dio 0)"),
    (["train", "--jobs", "abc", "x"], "argumento --jobs: valor no válido: 'abc'"),
    (["worker", "--queues", "interactive", "lote"],
     "argumento --queues: no hay una cola 'lote' (elija entre interactive, batch)"),
])
def test_a_count_or_a_port_out_of_range_is_a_usage_error(argv, said, capsys):
    """QA 2026-12-07: `serve --port 99999` said "Uvicorn running on http://127.0.0.1:99999"
    (it listened elsewhere); `serve --workers -1` ran; `worker --ocr-threads -2` ended in a
    traceback and "Error interno del programa". QA 2026-12-08: `worker --queues lote` too
    (a ValueError in English, "unknown queue"), after connecting to Redis."""
    from service.cli import main

    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"uso: evidencia {argv[0]} ") and f"error: {said}\n" in err, err


def test_a_command_starts_numpy_without_blas_threads(service_env, tmp_path):
    """Issue 12 (reprocess at archive speed): numpy's import started OpenBLAS's threads, one a
    core, spinning a while (~40 ms of CPU on 2 cores) in each `evidencia reprocess` that read a
    cached token array; no command but `train` computes with BLAS. A real process."""
    import os
    import subprocess
    import sys

    from tests.conftest import REPO

    code = ("import os\n"
            "from service.cli import main\n"
            "main(['ops', 'cache'])\n"
            "import numpy\n"
            "print(len(os.listdir('/proc/self/task')))\n")
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path, env={**env, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "1"  # the main thread alone


def test_eval_errors_carry_the_commands_prefix(service_env, capsys, tmp_path):
    """QA sweep: `evidencia eval` printed its own errors bare («No se encontró …», «Corpus
    inválido: …») where every other command says «evidencia <command>: …»; they now go
    through the command line's one error boundary, exit 2 as before."""
    from service.cli import main

    assert main(["eval", str(tmp_path / "no-existe")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("evidencia eval: No se encontró") and "labels.jsonl" in err, err
    (tmp_path / "labels.jsonl").write_text('{"file": "x.txt", "split": "otro"}\n')
    assert main(["eval", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("evidencia eval: Corpus inválido") and "Traceback" not in err, err
