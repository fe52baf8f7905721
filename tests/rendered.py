"""A corpus file rendered from its source in ``samples/corpus`` byte for byte as
``scripts/render_corpus.py`` renders /tmp/corpus: the very file that showed a bug, in a test."""

from __future__ import annotations

import importlib.util
import sys
from functools import cache

from tests.conftest import REPO

__all__ = ["renderer", "rendered"]


@cache
def renderer():
    """``scripts/render_corpus.py`` as a module (it is a script, not a package's)."""
    path = REPO / "scripts" / "render_corpus.py"
    spec = importlib.util.spec_from_file_location("render_corpus", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["render_corpus"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def rendered(source: str, kind: str) -> bytes:
    """``source``: the path under samples/corpus (``orgNN-…/name.md``); ``kind``: ``docx`` or
    ``txt`` (the renders that need no external program)."""
    module = renderer()
    root = REPO / "samples" / "corpus"
    return {"docx": module.render_docx, "txt": module.render_txt}[kind](
        module.read_source(root / source, root))
