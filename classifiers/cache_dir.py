"""The reprocess caches' folders on disk: generations, the listing, the prune (which caches
there are: ``service/cli/ops.py``, ``reprocess_caches``).

Two caches make ``evidencia reprocess`` fast: the annotation cache (``annotation_cache.py``:
spaCy's annotations per text) and the reading cache (``readings.py``: what the rules read of
each text). An entry's key is a hash of a *key base* (what every entry of one version of the
code shares: the code, the spaCy model; the pattern data is not in the reading cache's, which
diffs it instead, ``pattern_sets.py``) and of the text. Each cache
writes under a folder named by its key base's first ``GENERATION_CHARS`` hex digits, its
*generation*::

    <root>/<generation>/<ab>/<key>.<ext>     (ab: the key's first two digits)

so a new classifier or pipeline starts a new generation beside the old one, and an old
generation, which no entry of the code in force can ever be read from again, is one folder
removed whole (``prune``, ``evidencia ops cache --prune``). Entries written before generations
sat right under the root in two-digit folders: they are listed as one generation without a name
and pruned with the old ones.

File handling only: nothing here decides a classification, so this module is in no
fingerprint (``version.py``) and in neither cache's key: editing it re-keys nothing.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path

# the caches write through the project's one atomic writer (shared with the file store); it is
# named here so the caches' modules, whose own code keys their entries, import it unchanged
from extractors.files import TMP_PREFIX, atomic_write

__all__ = ["GENERATION_CHARS", "TMP_PREFIX", "ORPHAN_SECONDS", "MARKS_FOLDER", "Cache",
           "Generation", "Mark", "Pruned", "generation_name", "atomic_write", "generations",
           "orphans", "prune", "prune_orphans", "validation_marks", "prune_marks"]

#: hex digits of the key base that name a generation's folder (64 bits: two versions of the
#: code never share one)
GENERATION_CHARS = 16
#: a temporary file older than this (seconds) is an orphan, never a write in progress (an entry
#: is written in milliseconds): the prune removes it. Kept here, not in ``defaults.py``, which is
#: fingerprinted: a file-handling value must not stale the calibration.
ORPHAN_SECONDS = 3600

#: the folder, under the annotation cache's root, where ``engine.py`` remembers that spaCy
#: validated the patterns (or ``pattern_check.py`` that spaCy surely would): one empty file
#: named by their fingerprint (``RuleSet.fingerprint``), so one more each time the patterns or
#: spaCy change. Named again here, not imported:
#: ``engine.py`` is fingerprinted, this module is not (tests/classifiers/test_cache_dir.py checks
#: that the two agree).
MARKS_FOLDER = "patterns-validated"

_GENERATION = re.compile(rf"[0-9a-f]{{{GENERATION_CHARS}}}")
_BEFORE_GENERATIONS = re.compile(r"[0-9a-f]{2}")  # the entry folders of the earlier layout


def generation_name(key_base: bytes) -> str:
    """The folder of the generation whose entries' keys start from ``key_base``."""
    return key_base.hex()[:GENERATION_CHARS]


@dataclass(frozen=True, slots=True)
class Cache:
    """One cache kept under the folder ``classifiers.load(annotation_cache=...)`` is given."""

    name: str  # "annotations" or "readings"
    root: Path
    current: str  # the generation the code in force reads and writes


@dataclass(frozen=True, slots=True)
class Generation:
    name: str  # the key base's first digits; "" for the entries written before generations
    paths: tuple[Path, ...]  # its folder (before generations: the two-digit entry folders)
    entries: int
    bytes: int  # on disk (blocks allocated, folders included), as ``du`` counts
    current: bool


def generations(cache: Cache) -> list[Generation]:
    """The generations found under the cache's root, the current one first (listed even when
    it holds nothing yet), then the others by name. Other files and folders (the reading cache
    inside the annotation cache's root, the patterns' validation marks) are not generations."""
    found: dict[str, list[Path]] = {cache.current: []}
    try:
        children = sorted(cache.root.iterdir())
    except FileNotFoundError:
        children = []
    for child in children:
        if _GENERATION.fullmatch(child.name) and child.is_dir():
            found.setdefault(child.name, []).append(child)
        elif _BEFORE_GENERATIONS.fullmatch(child.name) and child.is_dir():
            found.setdefault("", []).append(child)
    out = []
    for name, paths in found.items():
        entries = size = 0
        for path in paths:
            n, b = _usage(path)
            entries, size = entries + n, size + b
        out.append(Generation(name, tuple(paths), entries, size, name == cache.current))
    return sorted(out, key=lambda g: (not g.current, g.name))


def orphans(folder: Path, *, now: float | None = None) -> list[tuple[Path, int]]:
    """Temporary files older than ``ORPHAN_SECONDS`` under ``folder``, with their size on disk:
    what writers killed mid-write left (a younger one may be a write in progress)."""
    now = time.time() if now is None else now
    out = []
    for path, st in _walk(folder):
        if path.name.startswith(TMP_PREFIX) and now - st.st_mtime > ORPHAN_SECONDS:
            out.append((path, _disk_bytes(st)))
    return out


@dataclass(frozen=True, slots=True)
class Mark:
    """A remembered validation of the patterns whose fingerprint is ``path.name``."""

    path: Path
    current: bool  # of the patterns (and spaCy) installed


def validation_marks(root: Path, current: str | None) -> list[Mark]:
    """The validation marks under ``root`` (the annotation cache's), the current one first,
    then the others by name. ``current``: the installed patterns' fingerprint (None when they
    cannot be loaded: then no mark is current, and none is pruned)."""
    try:
        paths = [p for p in (root / MARKS_FOLDER).iterdir() if not p.is_dir()]
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted((Mark(p, p.name == current) for p in paths),
                  key=lambda m: (not m.current, m.path.name))


def prune_marks(root: Path, current: str | None) -> Pruned:
    """Remove the validation marks of other patterns than the installed ones (a mark is
    written once per fingerprint and never read again once the patterns change); the current
    one is kept, so the next start needs no spaCy to validate them. Nothing is removed when
    ``current`` is None (the installed patterns could not be read)."""
    done = Pruned()
    if current is None:
        return done
    for mark in validation_marks(root, current):
        if mark.current:
            continue
        try:
            size = _disk_bytes(mark.path.stat())
            mark.path.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            done.failed.append((mark.path, exc.strerror or str(exc)))
            continue
        done.marks += 1
        done.bytes += size
    return done


@dataclass
class Pruned:
    generations: list[Generation] = field(default_factory=list)  # removed whole
    tmp_files: int = 0  # orphans removed from the current generation (or a folder's)
    marks: int = 0  # stale validation marks removed
    bytes: int = 0  # freed on disk
    #: what could not be removed, with the reason (a permission, a writer of the old code
    #: adding to a generation while it was removed)
    failed: list[tuple[Path, str]] = field(default_factory=list)


def prune(cache: Cache, *, now: float | None = None) -> Pruned:
    """Remove every generation but the current one, and the current one's orphan temporary
    files. Entries of the current generation are never touched. A worker still running the
    old code would write its old generation again: prune once every process runs the new one.
    """
    done = Pruned()
    for gen in generations(cache):
        if gen.current:
            _remove_orphans(cache.root / gen.name, now, done)
            continue
        errors: list[tuple[Path, str]] = []
        for path in gen.paths:
            shutil.rmtree(path, onerror=_collect(errors))
        if errors:  # partly removed: what is left is listed again next time
            done.failed += errors
            left = sum(_usage(p)[1] for p in gen.paths if p.exists())
            done.bytes += max(gen.bytes - left, 0)
        else:
            done.generations.append(gen)
            done.bytes += gen.bytes
    return done


def prune_orphans(folder: Path, *, now: float | None = None) -> Pruned:
    """Remove the orphan temporary files under ``folder`` (``orphans``), anything else left as
    it is: the file store's and the page renders' folders, whose writers, the same atomic
    writer, leave them when killed mid-write (``evidencia ops cache --prune``)."""
    done = Pruned()
    _remove_orphans(folder, now, done)
    return done


def _remove_orphans(folder: Path, now: float | None, done: Pruned) -> None:
    for path, size in orphans(folder, now=now):
        try:
            path.unlink()
        except FileNotFoundError:
            continue  # renamed into place or removed meanwhile
        except OSError as exc:
            done.failed.append((path, exc.strerror or str(exc)))
            continue
        done.tmp_files += 1
        done.bytes += size


def _collect(errors: list):
    """``shutil.rmtree``'s error handler (``onerror``: Python 3.11) that notes what failed and
    goes on with the rest."""
    def onerror(function, path, exc_info):
        exc = exc_info[1]
        if not isinstance(exc, FileNotFoundError):  # gone already: nothing to free
            errors.append((Path(path), getattr(exc, "strerror", None) or str(exc)))
    return onerror


def _usage(folder: Path) -> tuple[int, int]:
    """(entries, bytes on disk) under ``folder``: an entry is a file in a two-digit folder;
    temporary files, and what a cache keeps beside its entries (the reading cache's snapshots
    of pattern sets, ``pattern_sets.py``), are not entries but count in the bytes."""
    entries = 0
    size = _disk_bytes(folder.stat())
    for path, st in _walk(folder, folders=True):
        size += _disk_bytes(st)
        if (not path.name.startswith(TMP_PREFIX) and not _is_dir(st)
                and _BEFORE_GENERATIONS.fullmatch(path.parent.name)):
            entries += 1
    return entries, size


def _walk(folder: Path, folders: bool = False):
    """(path, stat) of every file under ``folder`` (and every folder, with ``folders``), without
    following links; what vanishes meanwhile (a writer's rename, a prune) is skipped."""
    stack = [folder]
    while stack:
        try:
            with os.scandir(stack.pop()) as it:
                items = list(it)
        except (FileNotFoundError, NotADirectoryError):
            continue
        for item in items:
            try:
                st = item.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            if _is_dir(st):
                stack.append(Path(item.path))
                if folders:
                    yield Path(item.path), st
            else:
                yield Path(item.path), st


def _is_dir(st: os.stat_result) -> bool:
    return stat.S_ISDIR(st.st_mode)


def _disk_bytes(st: os.stat_result) -> int:
    blocks = getattr(st, "st_blocks", None)
    return st.st_size if blocks is None else blocks * 512
