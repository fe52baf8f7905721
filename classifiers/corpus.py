"""The labelled corpus as the evaluation and the calibration read it.

A corpus folder holds rendered files plus ``labels.jsonl`` (one JSON object per file; see
samples/corpus/README.md). Extraction (OCR included) is the slow part and does not depend on the
classifier, so extracted documents are cached by file content and extractor version under
``$EVIDENCIA_CACHE_DIR`` (default ``~/.cache/evidencia/extractions``): re-running an evaluation
after a pattern change costs only the classification.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from extractors.document import ExtractedDocument, Page

__all__ = [
    "CorpusEntry", "load_labels", "extract_all", "cache_dir", "REGISTERS", "HELDOUT_REGISTERS",
    "HELDOUT_ORGS", "FORMER_HELDOUT_ORGS", "EVAL_SPLITS", "eval_split", "input_kind",
]

#: the kinds of text submissions arrive as (``register`` in a source's front matter)
REGISTERS: tuple[str, ...] = (
    "interno",  # policies, protocols, minutes, plans, attendance lists, memos (the default)
    "prensa",  # press releases and news about the organisation
    "web",  # the organisation's web pages
    "reporte",  # annual, sustainability and ESG reports, cuentas públicas
    "riohs",  # long Reglamento Interno de Orden, Higiene y Seguridad
    "sindical",  # union statutes and minutes, collective agreements
    "acto_administrativo",  # municipal decrees, exempt resolutions
    "correo",  # e-mail threads
)
DEFAULT_REGISTER = "interno"
#: whole registers kept out of all tuning and training: they measure generalisation
HELDOUT_REGISTERS = frozenset({"prensa", "web"})
#: whole organisations kept out of all tuning and training (``split = "heldout"``)
HELDOUT_ORGS = frozenset({
    "org07", "org08", "org15", "org16", "org20", "org25", "org30", "org34", "org38", "org42",
    "org44",
    # written blind on 2026-12-06 by a writer who read nothing under classifiers/ and ran no
    # classifier on them: the third fresh set
    "org75", "org76", "org77", "org78", "org79", "org80",
    # written blind on 2026-12-06 by a writer who read nothing under classifiers/ beyond this
    # block and ran no classifier on them: the fourth fresh set
    "org81", "org82", "org83", "org84", "org85", "org86",
    # written blind on 2026-12-06 by a writer who read nothing under classifiers/ beyond this
    # block and ran no classifier on them: the fifth fresh set
    "org87", "org88", "org89", "org90", "org91", "org92",
    # written blind on 2026-12-07 by a writer who read nothing under classifiers/ beyond this
    # block and ran no classifier on them: the sixth fresh set
    "org93", "org94", "org95", "org96", "org97", "org98",
    # written blind on 2026-12-07 by a writer who read nothing under classifiers/ beyond this
    # block and ran no classifier on them: the seventh fresh set
    "org117", "org118", "org119", "org120", "org121", "org122",
    # written blind on 2026-12-07 by a writer who read nothing under classifiers/ beyond this
    # block and ran no classifier on them: the eighth fresh set
    "org141", "org142", "org143", "org144", "org145", "org146",
    # written blind on 2026-12-07 by a writer who read nothing under classifiers/ beyond this
    # block and ran no classifier on them: the ninth fresh set
    "org165", "org166", "org167", "org168", "org169", "org170",
    # written blind on 2026-12-07 by a writer who read nothing under classifiers/ beyond this
    # block and ran no classifier on them: the tenth fresh set
    "org171", "org172", "org173", "org174", "org175", "org176",
    # written blind on 2026-12-07 by a writer who read nothing under classifiers/ beyond this
    # block and ran no classifier on them: the eleventh fresh set
    "org177", "org178", "org179", "org180", "org181", "org182",
    # written blind on 2026-12-07 by a writer who read nothing under classifiers/ beyond this
    # block and ran no classifier on them: the twelfth fresh set
    "org201", "org202", "org203", "org204", "org205", "org206",
    # written blind on 2026-12-07 by a writer who read nothing under classifiers/ beyond this
    # block and ran no classifier on them: the thirteenth fresh set
    "org207", "org208", "org209", "org210", "org211", "org212",
    # written blind on 2026-12-07 by a writer who read nothing under classifiers/ beyond this
    # block and ran no classifier on them: the fourteenth fresh set
    "org261", "org262", "org263", "org264", "org265", "org266",
})
#: held-out organisations moved to dev (ninth round, classifiers/QUALITY.md): the first two blind
#: sets, written blind on 2026-12-05 (org45..org50) and that evening (org51..org56), were
#: measured and then read (their confusions studied, rules changed after them), so they no longer
#: measure text nobody tuned to; they train instead (documents in the held-out registers stay
#: out of training as every organisation's do). A corpus rendered before the move still says
#: ``heldout`` for them: ``load_labels`` reads it as ``dev``.
FORMER_HELDOUT_ORGS = frozenset({
    "org45", "org46", "org47", "org48", "org49", "org50",
    "org51", "org52", "org53", "org54", "org55", "org56",
})
#: what ``evidencia eval --split`` accepts: ``dev`` (dev organisations, registers other than the
#: held-out ones), ``heldout`` (held-out organisations, same registers), ``register`` (the
#: held-out registers of every organisation), ``all``
EVAL_SPLITS = ("dev", "heldout", "register", "all")


def eval_split(org_split: str, register: str) -> str:
    """The evaluation split of a document: its held-out register first, then its organisation."""
    return "register" if register in HELDOUT_REGISTERS else org_split


def input_kind(render: str) -> str:
    """``scan``, ``photo`` or ``born_digital`` (PDF with text, DOCX, text, HTML, e-mail)."""
    return render if render in ("scan", "photo") else "born_digital"


@dataclass(frozen=True, slots=True)
class CorpusEntry:
    file: str
    id: str
    split: str  # "dev" | "heldout": the organisation's split, as in the source
    render: str
    doc_type: str
    labels: dict
    evidence: dict
    tags: tuple[str, ...] = ()
    ocr_render: bool = False
    register: str = DEFAULT_REGISTER

    @property
    def eval_split(self) -> str:
        return eval_split(self.split, self.register)

    @property
    def org(self) -> str:
        """``orgNN`` from the id (the unit of cross-validation), or the id's first folder."""
        return org_of(self.id)


def org_of(source_id: str) -> str:
    """``org07``, ``org117``: the organisation of a source id (``org117-slug/doc``); the first
    folder when it names none. Numbers have two digits or more: never cut at five characters,
    or org100..org109 would all be org10."""
    first = source_id.split("/", 1)[0]
    found = re.match(r"org\d+(?=-|$)", first)
    return found.group(0) if found else first


def _split(label: dict) -> str:
    """The organisation's split of a label line: as rendered, but ``dev`` for an organisation
    moved out of the held-out ones after its corpus was rendered (``FORMER_HELDOUT_ORGS``)."""
    split = label.get("split", "dev")
    org = org_of(label.get("id", label["file"]))
    return "dev" if split == "heldout" and org in FORMER_HELDOUT_ORGS else split


def load_labels(corpus: Path) -> list[CorpusEntry]:
    path = corpus / "labels.jsonl"
    entries = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            entries.append(
                CorpusEntry(
                    file=d["file"], id=d.get("id", d["file"]), split=_split(d),
                    render=d.get("render", ""), doc_type=d.get("doc_type", "otro"),
                    labels={k: bool(v) for k, v in d["labels"].items()},
                    evidence={k: list(v) for k, v in (d.get("evidence") or {}).items()},
                    tags=tuple(d.get("tags", ())),
                    ocr_render=bool(d.get("ocr", d.get("render") in ("scan", "photo"))),
                    register=d.get("register", DEFAULT_REGISTER),
                )
            )
        except (KeyError, TypeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path}:{lineno}: invalid label line: {exc}") from exc
    return entries


def cache_dir() -> Path:
    root = os.environ.get("EVIDENCIA_CACHE_DIR") or Path.home() / ".cache" / "evidencia"
    return Path(root) / "extractions"


def _extractor_version() -> str:
    """EXTRACTOR_VERSION plus a hash of the extractor's code: a forgotten version bump must not
    leave stale text in the cache."""
    try:
        import extractors
        from extractors import EXTRACTOR_VERSION
    except ImportError:
        return "none"
    h = hashlib.sha256()
    for path in sorted(Path(extractors.__file__).parent.glob("*.py")):
        h.update(path.read_bytes())
    return f"{EXTRACTOR_VERSION}-{h.hexdigest()[:8]}"


def _extract_uncached(path: Path) -> ExtractedDocument:
    try:
        from extractors import extract
    except ImportError:  # extractor not available: plain text only
        if path.suffix.lower() != ".txt":
            raise
        text = path.read_text(encoding="utf-8")
        return ExtractedDocument("text/plain", (Page(1, text),), "txt-fallback")
    return extract(path)


def _extract_one(args: tuple[str, str]) -> tuple[str, dict | None, str | None]:
    """Worker: (file, dict of the document without word boxes, or error message)."""
    file, full = args
    path = Path(full)
    try:
        content = path.read_bytes()
    except OSError as exc:  # a labelled file missing from the corpus (copied in part)
        return file, None, f"{type(exc).__name__}: {exc}"
    key = hashlib.sha256(content).hexdigest() + "-" + _extractor_version()
    cached = cache_dir() / f"{key}.json.gz"
    if cached.exists():
        try:
            return file, json.loads(gzip.decompress(cached.read_bytes())), None
        except (OSError, ValueError):
            cached.unlink(missing_ok=True)
    try:
        doc = _extract_uncached(path)
    except Exception as exc:  # every extraction failure is reported per file, never fatal
        return file, None, f"{type(exc).__name__}: {getattr(exc, 'message', None) or exc}"
    slim = replace(doc, pages=tuple(replace(p, words=()) for p in doc.pages))
    data = slim.to_dict()
    cached.parent.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(f".tmp{os.getpid()}")
    tmp.write_bytes(gzip.compress(json.dumps(data, ensure_ascii=False).encode()))
    tmp.replace(cached)
    return file, data, None


def extract_all(corpus: Path, entries: list[CorpusEntry], jobs: int = 2, progress=None):
    """{file: ExtractedDocument | str error}, extracting ``jobs`` files at a time."""
    tasks = [(e.file, str(corpus / e.file)) for e in entries]
    results: dict[str, ExtractedDocument | str] = {}
    if jobs <= 1 or len(tasks) <= 1:
        iterator = map(_extract_one, tasks)
        pool = None
    else:
        pool = ProcessPoolExecutor(max_workers=jobs)
        iterator = pool.map(_extract_one, tasks, chunksize=1)
    try:
        for i, (file, data, error) in enumerate(iterator, 1):
            results[file] = ExtractedDocument.from_dict(data) if data is not None else error
            if progress:
                progress(i, len(tasks))
    finally:
        if pool is not None:
            pool.shutdown()
    return results
