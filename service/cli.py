"""The ``evidencia`` command.

Only argparse is imported at start-up: each subcommand imports what it needs when it runs, so
``--help`` and usage errors answer at once. Exit codes: 0 success, 1 some file or job failed,
2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import importlib
import sys

__all__ = ["main"]

#: subcommand -> "module:function"; the function takes the parsed args and returns an exit code.
_HANDLERS = {
    "analyze": "service.analyze:run",
    "eval": "classifiers.evaluate:run",
    "serve": "service.commands:serve",
    "worker": "service.commands:worker",
    "requeue": "service.commands:requeue",
    "user": "service.commands:user",
    "db": "service.commands:db",
    "up": "service.commands:up",
    "batch": "service.batch:run",
    "reprocess": "service.reprocess:run",
}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="evidencia",
        description="Evidencia: revisión de evidencias del Compromiso Migrante.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMANDO")

    a = sub.add_parser("analyze", help="Analiza archivos, carpetas o ZIP y muestra la matriz.")
    a.add_argument("paths", nargs="+", metavar="RUTA")
    a.add_argument("--json", action="store_true", help="Un objeto JSON en la salida estándar.")
    a.add_argument("--password", help="Contraseña para PDF protegidos.")
    a.add_argument(
        "--jobs", type=int, default=None,
        help="Procesos en paralelo (por defecto 1; 2 con 6 archivos o más).",
    )

    e = sub.add_parser("eval", help="Mide la calidad del clasificador sobre un corpus etiquetado.")
    e.add_argument("corpus", metavar="CORPUS")
    e.add_argument("--json", action="store_true")
    e.add_argument(
        "--split", choices=["dev", "heldout", "register", "all"], default="all",
        help="dev: organizaciones de desarrollo; heldout: organizaciones reservadas; register: "
             "prensa y web de todas (registro reservado); all: todo.",
    )
    e.add_argument("--rules-only", action="store_true",
                   help="Solo las reglas, sin el modelo aprendido (para compararlos).")

    s = sub.add_parser("serve", help="Inicia la API y las páginas web.")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--workers", type=int, default=1, metavar="N",
                   help="Procesos de la API (hasta uno por núcleo).")

    w = sub.add_parser("worker", help="Inicia un worker de rq (interactive antes que batch).")
    w.add_argument("--burst", action="store_true", help="Termina cuando las colas quedan vacías.")
    w.add_argument("--queues", nargs="+", default=["interactive", "batch"])
    w.add_argument(
        "--ocr-threads", type=int, default=None, metavar="N",
        help="Páginas en OCR a la vez por documento (con varios workers por máquina, use 1).",
    )

    sub.add_parser("requeue", help="Reencola documentos pendientes según la base de datos.")

    u = sub.add_parser("user", help="Cuentas de revisores.")
    usub = u.add_subparsers(dest="user_command", required=True)
    ua = usub.add_parser("add", help="Crea o actualiza un revisor.")
    ua.add_argument("username")
    ua.add_argument("--password", help="Si se omite, se lee de la entrada estándar.")
    ua.add_argument("--role", choices=["reviewer", "admin"], default="reviewer")

    d = sub.add_parser("db", help="Base de datos.")
    dsub = d.add_subparsers(dest="db_command", required=True)
    dsub.add_parser("upgrade", help="Aplica las migraciones pendientes.")

    up = sub.add_parser(
        "up", help="Todo en uno: Redis si falta, migraciones, API, un worker y la demo."
    )
    up.add_argument("--host", default="127.0.0.1")
    up.add_argument("--port", type=int, default=8000)
    up.add_argument("--no-demo", action="store_true", help="No carga samples/ como demo.")

    b = sub.add_parser("batch", help="Carga archivos históricos (carpetas y ZIP) en lote.")
    b.add_argument("paths", nargs="+", metavar="RUTA")
    b.add_argument("--org-from", choices=["folder", "archive", "csv"], default="folder")
    b.add_argument("--csv", dest="csv_file", metavar="ARCHIVO", help="CSV ruta→organización,RUT.")
    b.add_argument("--wait", action="store_true", help="Espera a que los workers terminen.")
    b.add_argument("--summary", metavar="ARCHIVO", help="CSV de resumen (por defecto en data/).")

    r = sub.add_parser("reprocess", help="Reclasifica el texto ya extraído, sin OCR.")
    scope = r.add_mutually_exclusive_group(required=True)
    scope.add_argument("--all", action="store_true")
    scope.add_argument("--org", nargs="+", metavar="ORG")
    scope.add_argument("--since", metavar="FECHA", help="AAAA-MM-DD")
    r.add_argument("--dry-run", action="store_true")
    r.add_argument("--inline", action="store_true", help="Sin cola: en este proceso.")
    r.add_argument("--report", metavar="ARCHIVO", help="CSV de cambios.")
    return p


#: commands that run for a long time and whose logs are read by operators
_SERVICE_COMMANDS = {"serve", "worker"}


def _configure_logging(command: str) -> None:
    import logging

    from service.settings import get_settings

    default = "INFO" if command in _SERVICE_COMMANDS else "WARNING"
    logging.basicConfig(
        level=(get_settings().log_level or default).upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _configure_logging(args.command)
    module_name, func_name = _HANDLERS[args.command].split(":")
    handler = getattr(importlib.import_module(module_name), func_name)
    try:
        return int(handler(args) or 0)
    except KeyboardInterrupt:
        print("Interrumpido.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
