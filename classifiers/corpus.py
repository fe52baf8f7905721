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
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from extractors.document import ExtractedDocument, Page

__all__ = ["CorpusEntry", "load_labels", "extract_all", "cache_dir"]


@dataclass(frozen=True, slots=True)
class CorpusEntry:
    file: str
    id: str
    split: str
    render: str
    doc_type: str
    labels: dict
    evidence: dict
    tags: tuple[str, ...] = ()
    ocr_render: bool = False


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
                    file=d["file"], id=d.get("id", d["file"]), split=d.get("split", "dev"),
                    render=d.get("render", ""), doc_type=d.get("doc_type", "otro"),
                    labels={k: bool(v) for k, v in d["labels"].items()},
                    evidence={k: list(v) for k, v in (d.get("evidence") or {}).items()},
                    tags=tuple(d.get("tags", ())),
                    ocr_render=bool(d.get("ocr", d.get("render") in ("scan", "photo"))),
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
    key = hashlib.sha256(path.read_bytes()).hexdigest() + "-" + _extractor_version()
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
