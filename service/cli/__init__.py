"""The ``evidencia`` command line: ``main`` parses and dispatches; a module per command family
(``analyze``, ``batch``, ``reprocess``, ``ops`` for running the service)."""

from service.cli.main import main

__all__ = ["main"]
