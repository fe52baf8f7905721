"""The ``evidencia`` command: its arguments, its handlers and its one error boundary.

Only argparse is imported at start-up: each subcommand imports what it needs when it runs, so
``--help`` and usage errors answer at once. Exit codes: 0 success, 1 some file or job failed
or an unexpected error (a bug: its traceback logged on stderr), 2 usage or configuration error,
130 interrupted; an error's code says which (``service.domain.errors.ErrorCode.exit_code``),
told in Spanish by :func:`_report` alone.
"""

from __future__ import annotations

import argparse
import functools
import gc
import importlib
import logging
import os
import sys

__all__ = ["main"]

log = logging.getLogger(__name__)

#: subcommand -> "module:function"; the function takes the parsed args and returns an exit code.
_HANDLERS = {
    "analyze": "service.cli.analyze:run",
    "eval": "service.cli.evaluate:run",
    "serve": "service.cli.ops:serve",
    "worker": "service.cli.ops:worker",
    "requeue": "service.cli.ops:requeue",
    "retry": "service.cli.ops:retry",
    "user": "service.cli.ops:user",
    "db": "service.cli.ops:db",
    "up": "service.cli.ops:up",
    "ops": "service.cli.ops:ops",
    "batch": "service.cli.batch:run",
    "reprocess": "service.cli.reprocess:run",
    "train": "service.cli.train:run",
}
#: commands whose work is kept when stopped: what running them again does
_RESUMABLE = {"batch": "resume", "reprocess": "resume_reprocess"}


class _SpanishFormatter(argparse.HelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, "uso: " if prefix is None else prefix)


#: argparse's own error messages (Python 3.11-3.13), in Spanish: pattern -> replacement
_ARGPARSE_ERRORS = (
    (r"the following arguments are required: (.*)", r"faltan los argumentos: \1"),
    (r"unrecognized arguments: (.*)", r"argumentos desconocidos: \1"),
    (r"one of the arguments (.*) is required", r"se necesita uno de los argumentos \1"),
    (r"argument (\S+): not allowed with argument (.*)", r"el argumento \1 no va junto con \2"),
    (r"argument (\S+): invalid choice: (.*) \(choose from (.*)\)",
     r"argumento \1: \2 no es una opción válida (elija entre \3)"),
    (r"argument (\S+): invalid (\w+) value: (.*)", r"argumento \1: valor no válido: \3"),
    (r"argument (\S+): expected one argument", r"el argumento \1 necesita un valor"),
    (r"argument (\S+): expected at least one argument",
     r"el argumento \1 necesita al menos un valor"),
    (r"argument (\S+): ignored explicit argument (.*)",
     r"el argumento \1 no lleva valor (se dio \2)"),
    (r"argument (\S+): (.*)", r"argumento \1: \2"),  # a type's own (Spanish) reason
)


def _spanish(message: str) -> str:
    import re

    for pattern, replacement in _ARGPARSE_ERRORS:
        if re.fullmatch(pattern, message):
            return re.sub(pattern, replacement, message)
    return message


class _Parser(argparse.ArgumentParser):
    """argparse speaking Spanish: its help option, section titles, usage line and errors."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _SpanishFormatter)
        super().__init__(*args, **{**kwargs, "add_help": False})
        self._positionals.title = "argumentos"
        self._optionals.title = "opciones"
        self.add_argument("-h", "--help", action="help", help="Muestra esta ayuda y termina.")

    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {_spanish(message)}\n")

    def parse_known_args(self, args=None, namespace=None):
        # A subcommand refuses what it does not know itself, with its own usage line: argparse
        # hands a subcommand's unknown options up to the top parser, whose usage ("uso:
        # evidencia [-h] [--version] COMANDO ...") says nothing of the command's options.
        namespace, extras = super().parse_known_args(args, namespace)
        if extras and self.prog != "evidencia":
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return namespace, extras


def _count(text: str) -> int:
    """A number of processes or pages at once: a whole number from 1 (0 or -2 ran, or failed
    later with a traceback)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"valor no válido: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"debe ser 1 o más (se dio {value})")
    return value


def _port(text: str) -> int:
    """A TCP port: 1 to 65535 (99999 was taken, and the API listened on another port)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"valor no válido: {text!r}") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"debe estar entre 1 y 65535 (se dio {value})")
    return value


def _queue(text: str) -> str:
    """A queue a worker serves: one of the lanes (any other name was taken, and the worker
    ended in a traceback once connected to Redis); the lanes are read only when the option is
    given."""
    from service.domain.codes import Lane

    lanes = [lane.value for lane in Lane]
    if text not in lanes:
        raise argparse.ArgumentTypeError(
            f"no hay una cola {text!r} (elija entre {', '.join(lanes)})")
    return text


class _Version(argparse.Action):
    """``--version``: the installed package's version (looked up only when asked)."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("evidencia")
        except PackageNotFoundError:  # run from a checkout that was never installed
            number = "desconocida (no instalada)"
        print(f"evidencia {number}")
        parser.exit()


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="evidencia",
        description="Evidencia: revisión de evidencias del Compromiso Migrante.",
    )
    p.add_argument("--version", action=_Version, help="Muestra la versión instalada y termina.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMANDO",
                           title="comandos")
    for add in (_analysis_commands, _service_commands, _admin_commands, _archive_commands):
        add(sub)
    return p


def _analysis_commands(sub) -> None:
    a = sub.add_parser("analyze", help="Analiza archivos, carpetas o ZIP y muestra la matriz.")
    a.add_argument("paths", nargs="+", metavar="RUTA",
                   help="Archivos, carpetas, ZIP o correos (EML) a analizar.")
    a.add_argument("--json", action="store_true", help="Un objeto JSON en la salida estándar.")
    a.add_argument("--password", metavar="CONTRASEÑA", help="Contraseña para PDF protegidos.")
    a.add_argument(
        "--jobs", type=_count, default=None, metavar="N",
        help="Procesos en paralelo (por defecto 1; 2 con 6 archivos o más).",
    )

    e = sub.add_parser("eval", help="Mide la calidad del clasificador vigente (con el modelo "
                                    "adoptado por train, si lo hay) sobre un corpus etiquetado.")
    e.add_argument("corpus", metavar="CORPUS",
                   help="Corpus etiquetado generado por scripts/render_corpus.py.")
    e.add_argument("--json", action="store_true", help="Un objeto JSON en la salida estándar.")
    e.add_argument(
        "--split", choices=["dev", "heldout", "register", "all"], default="all",
        help="dev: organizaciones de desarrollo; heldout: organizaciones reservadas; register: "
             "prensa y web de todas (registro reservado); all: todo.",
    )
    e.add_argument("--rules-only", action="store_true",
                   help="Solo las reglas, sin el modelo aprendido (para compararlos).")

    t = sub.add_parser(
        "train",
        help="Entrena un modelo candidato con el corpus y las decisiones de los revisores; lo "
             "adopta solo si supera al vigente.",
    )
    t.add_argument("corpus", metavar="CORPUS",
                   help="Corpus etiquetado generado por scripts/render_corpus.py.")
    t.add_argument("--jobs", type=_count, default=2, metavar="N",
                   help="Procesos para extraer el corpus (por defecto 2).")
    t.add_argument("--json", action="store_true", help="Un objeto JSON en la salida estándar.")


def _service_commands(sub) -> None:
    s = sub.add_parser("serve", help="Inicia la API y las páginas web.")
    _listen_arguments(s)
    s.add_argument("--workers", type=_count, default=None, metavar="N",
                   help="Procesos de la API (por defecto EVIDENCIA_API_WORKERS: uno por núcleo "
                        "además del primero, hasta 2).")

    w = sub.add_parser("worker", help="Inicia un worker de rq (interactive antes que batch).")
    w.add_argument("--burst", action="store_true", help="Termina cuando las colas quedan vacías.")
    w.add_argument("--queues", nargs="+", type=_queue, default=["interactive", "batch"],
                   metavar="COLA",
                   help="Colas que atiende, en orden (por defecto: interactive batch).")
    w.add_argument(
        "--ocr-threads", type=_count, default=None, metavar="N",
        help="Páginas en OCR a la vez por documento (con varios workers por máquina, use 1).",
    )

    up = sub.add_parser(
        "up", help="Todo en uno: Redis si falta, migraciones, API, un worker y la demo."
    )
    _listen_arguments(up)
    up.add_argument("--no-demo", action="store_true", help="No carga samples/ como demo.")


def _listen_arguments(parser) -> None:
    parser.add_argument("--host", default="127.0.0.1", metavar="DIRECCIÓN",
                        help="Dirección en que escucha la API (por defecto %(default)s; "
                             "0.0.0.0 para toda la red).")
    parser.add_argument("--port", type=_port, default=8000, metavar="PUERTO",
                        help="Puerto de la API (por defecto %(default)s).")


def _admin_commands(sub) -> None:
    sub.add_parser("requeue", help="Reencola documentos pendientes según la base de datos.")

    rt = sub.add_parser(
        "retry", help="Vuelve a procesar documentos con error (los nombrados, los de una "
                      "postulación o todos).",
        description="Devuelve a la cola documentos con error para leerlos de nuevo desde cero. "
                    "Cualquier error puede reintentarse; no los archivos rechazados al subirlos, "
                    "que no se guardaron.",
    )
    target = rt.add_mutually_exclusive_group(required=True)
    target.add_argument("documents", nargs="*", default=[], metavar="DOCUMENTO",
                        help="Identificadores de los documentos.")
    target.add_argument("--submission", metavar="POSTULACIÓN",
                        help="Todos los documentos con error de esta postulación.")
    target.add_argument("--all", action="store_true",
                        help="Todos los documentos con error.")

    u = sub.add_parser("user", help="Cuentas de revisores.")
    usub = u.add_subparsers(dest="user_command", required=True, metavar="ACCIÓN",
                            title="acciones")
    ua = usub.add_parser("add", help="Crea o actualiza un revisor (cambiar la contraseña "
                         "cierra sus sesiones).")
    ua.add_argument("username", metavar="USUARIO", help="Nombre de usuario del revisor.")
    ua.add_argument("--password", metavar="CONTRASEÑA",
                    help="Si se omite, se pide (o se lee de la entrada estándar).")
    ua.add_argument("--role", choices=["reviewer", "admin"], default=None,
                    help="reviewer: revisa postulaciones; admin: además administra (por "
                         "defecto reviewer para un usuario nuevo; uno existente conserva "
                         "el suyo).")
    ur = usub.add_parser("remove", help="Da de baja a un revisor y cierra sus sesiones "
                         "(sus decisiones se conservan).")
    ur.add_argument("username", metavar="USUARIO", help="Nombre de usuario del revisor.")

    d = sub.add_parser("db", help="Base de datos.")
    dsub = d.add_subparsers(dest="db_command", required=True, metavar="ACCIÓN",
                            title="acciones")
    dsub.add_parser("upgrade", help="Aplica las migraciones pendientes.")

    o = sub.add_parser("ops", help="Mantenimiento de la instalación.")
    osub = o.add_subparsers(dest="ops_command", required=True, metavar="ACCIÓN",
                            title="acciones")
    c = osub.add_parser(
        "cache",
        help="Lista las generaciones de las cachés de reproceso (anotaciones y lecturas): "
             "entradas, tamaño en disco y cuál es la vigente; y las validaciones de patrones "
             "recordadas.",
        description="Las cachés de anotaciones y de lecturas (en la carpeta de datos, nlp/) "
                    "hacen rápido el reproceso. Cada versión del clasificador o de spaCy "
                    "escribe su propia generación; las anteriores ya no se leen. Cada versión de "
                    "los patrones deja además una marca de que spaCy los validó.",
    )
    c.add_argument("--prune", action="store_true",
                   help="Borra las generaciones que no son la vigente, los archivos "
                        "temporales huérfanos y las validaciones de patrones antiguas (la "
                        "vigente se conserva), y muestra el espacio liberado.")


def _archive_commands(sub) -> None:
    b = sub.add_parser("batch", help="Carga archivos históricos (carpetas y ZIP) en lote.")
    b.add_argument("paths", nargs="+", metavar="RUTA",
                   help="Carpetas o ZIP con los archivos de las organizaciones.")
    b.add_argument(
        "--org-from", choices=["folder", "archive", "csv"], default="folder",
        help="De dónde sale cada organización: folder, una carpeta por organización (por "
             "defecto); archive, un ZIP por organización; csv, el archivo de --csv.",
    )
    b.add_argument("--csv", dest="csv_file", metavar="ARCHIVO",
                   help="Solo en el modo csv: CSV con las columnas ruta, organizacion y rut (una "
                        "fila por carpeta, archivo o ZIP; rutas relativas a la carpeta del "
                        "CSV).")
    b.add_argument("--wait", action="store_true", help="Espera a que los workers terminen.")
    b.add_argument(
        "--retire-missing", action="store_true",
        help="Retira de su postulación los documentos cuyo archivo ya no está en la carpeta "
             "o ZIP de la organización (dejan de contar; su historial se conserva). Sin esta "
             "opción solo se informan («ya no están en la carpeta»). Nunca retira de una "
             "postulación con veredicto final. No aplica a organizaciones tomadas de un CSV.",
    )
    b.add_argument("--summary", metavar="ARCHIVO",
                   help="CSV de resumen, o una carpeta donde crearlo (por defecto en data/).")

    r = sub.add_parser("reprocess", help="Reclasifica el texto ya extraído, sin OCR.")
    scope = r.add_mutually_exclusive_group(required=True)
    scope.add_argument("--all", action="store_true", help="Todos los documentos.")
    scope.add_argument("--org", nargs="+", metavar="ORGANIZACIÓN",
                       help="Solo estas organizaciones (nombre o RUT).")
    scope.add_argument("--since", metavar="FECHA",
                       help="Solo postulaciones creadas o con documentos desde esta fecha "
                            "(AAAA-MM-DD).")
    r.add_argument("--dry-run", action="store_true",
                   help="Muestra qué cambiaría sin tocar la base de datos (el informe de "
                        "cambios sí se escribe).")
    r.add_argument("--inline", action="store_true", help="Sin cola: en este proceso.")
    r.add_argument("--report", metavar="ARCHIVO",
                   help="CSV de cambios, o una carpeta donde crearlo (por defecto en data/).")


#: commands that run for a long time and whose logs are read by operators
_SERVICE_COMMANDS = {"serve", "worker"}
#: Commands left with OpenBLAS's own thread count. numpy's import starts OpenBLAS's threads,
#: one per core, and they spin a while: ~40 ms of CPU on 2 cores (more on more cores) in every
#: process that reads a cached token array (``reprocess`` after an edit of the patterns), a
#: tenth of such a command. Nothing else computes with BLAS (spaCy multiplies with blis; the
#: deskew solves 3 x 3 systems), so every other command runs it on one thread
#: (``OPENBLAS_NUM_THREADS``, an operator's own value kept); ``train`` fits scikit-learn's
#: logistic regressions, whose floats must not depend on it.
_BLAS_THREADS_KEPT = {"train"}


def _configure_logging(command: str) -> None:
    from service.settings import get_settings

    default = "INFO" if command in _SERVICE_COMMANDS else "WARNING"
    logging.basicConfig(
        level=(get_settings().log_level or default).upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if command not in _SERVICE_COMMANDS:  # staff at a terminal: their notices in Spanish
        for handler in logging.getLogger().handlers:
            handler.addFilter(_StaffNotices(command))


class _StaffNotices(logging.Filter):
    """A short command's terminal: a classifier artefact refused (a stale calibration or
    model) is said once in Spanish (``messages.classifier_fallback``) instead of its English
    log record; the service commands' logs keep the records."""

    def __init__(self, command: str):
        super().__init__()
        self.command = command
        self.said: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.WARNING or not record.name.startswith("classifiers."):
            return True
        from service.domain.messages import classifier_fallback

        notice = classifier_fallback(record.name, record.getMessage())
        if notice is None:
            return True
        if notice not in self.said:
            self.said.add(notice)
            print(f"evidencia {self.command}: {notice}", file=sys.stderr)
        return False


def _report(command: str, exc: BaseException) -> int:
    """The command line's one error boundary: a Spanish line on stderr, the code's exit code."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from extractors.errors import EvidenciaError
    from service.domain.errors import ErrorCode, fault_of
    from service.domain.messages import error_message

    if isinstance(exc, BrokenPipeError):  # the reader left (``| head``): not a failure here
        return _reader_left()
    if isinstance(exc, KeyboardInterrupt):
        message, exit_code = error_message("command_interrupted"), 130
    elif isinstance(exc, OperationalError | ProgrammingError):  # unreachable or not migrated
        log.debug("database error", exc_info=exc)
        reason = type(exc.orig).__name__ if exc.orig else str(exc)
        code = ErrorCode.database_unavailable
        message, exit_code = error_message(code, reason=reason), code.exit_code
    elif isinstance(exc, EvidenciaError):
        message, exit_code = exc.message, fault_of(exc).exit_code
    elif _queue_down(exc):
        from service.settings import get_settings

        log.debug("Redis unreachable", exc_info=exc)
        message = error_message("queue_down", url=_shown_url(get_settings().redis_url))
        exit_code = ErrorCode.unavailable.exit_code
    else:
        log.error("evidencia %s failed", command, exc_info=exc)  # the traceback, on stderr
        # staff ran the command: where its traceback is, not the applicant's "upload it again"
        shown = "internal_command" if log.isEnabledFor(logging.ERROR) else (
            "internal_command_hidden")
        message, exit_code = error_message(shown), ErrorCode.internal.exit_code
    stopped_midway = isinstance(exc, KeyboardInterrupt | OperationalError | ProgrammingError) or (
        isinstance(exc, EvidenciaError) and fault_of(exc) is ErrorCode.database_unavailable
    ) or _queue_down(exc)
    if command in _RESUMABLE and stopped_midway:  # not a usage error: it would only repeat
        message += " " + error_message(_RESUMABLE[command])
    print(f"evidencia {command}: {message}", file=sys.stderr)
    return exit_code


def _queue_down(exc: BaseException) -> bool:
    """Redis could not be reached (refused, timed out, gone mid-command)."""
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    return isinstance(exc, RedisConnectionError | RedisTimeoutError)


def _shown_url(url: str) -> str:
    """A URL as it may be printed: without its password."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        host = parts.hostname + (f":{parts.port}" if parts.port else "")
        parts = parts._replace(netloc=f"{parts.username or ''}:***@{host}")
    return urlunsplit(parts)


#: What a shell reports for a command stopped by SIGPIPE (128 + 13).
_EXIT_READER_LEFT = 141


def _reader_left() -> int:
    """The output's reader closed the pipe: say nothing (there is nobody to read it), and send
    what Python still flushes at exit to /dev/null instead of a second traceback."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a file descriptor (a test's capture)
        pass
    return _EXIT_READER_LEFT


@functools.cache
def _freeze_start_up() -> None:
    gc.freeze()


def _settings_problem() -> str | None:
    """Why the settings the environment gives cannot be used, in Spanish (None if they can):
    read before anything else, so that a bad value is one line and exit 2, not a traceback."""
    from pydantic import ValidationError

    from service.settings import get_settings

    try:
        get_settings()
    except ValidationError as exc:
        from service.domain.messages import error_message, validation_problem

        first = exc.errors()[0]
        name = "EVIDENCIA_" + "_".join(str(part) for part in first["loc"]).upper()
        return error_message("bad_setting", name=name, value=first.get("input"),
                             problem=validation_problem(first["type"], first.get("ctx")))
    return None


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command not in _BLAS_THREADS_KEPT:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    # The start-up's imports (settings, SQLAlchemy, the command's module) make tens of thousands
    # of objects that live as long as the process: the collector, run dozens of times while
    # they are made, frees none of them (~8 % of the imports' CPU); frozen (once a process),
    # the command's own collections do not walk them again.
    problem = None
    gc.disable()
    try:
        problem = _settings_problem()
        if problem is None:
            _configure_logging(args.command)
            module_name, func_name = _HANDLERS[args.command].split(":")
            handler = getattr(importlib.import_module(module_name), func_name)
    finally:
        if problem is None:
            _freeze_start_up()
        gc.enable()
    if problem is not None:
        print(f"evidencia {args.command}: {problem}", file=sys.stderr)
        return 2
    try:
        return int(handler(args) or 0)
    except (Exception, KeyboardInterrupt) as exc:
        return _report(args.command, exc)
