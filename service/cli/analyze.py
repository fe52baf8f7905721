"""``evidencia analyze``: files, folders and ZIPs in, the evidence matrix out.

Runs the same two public verbs the worker runs (``extractors.extract`` and
``classifiers.classify``) in this process, with no database or queue. Each input is expanded
into documents (folders recursively, ZIP archives member by member); a document that fails is
reported with its Spanish reason and the others go on.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from service.domain.messages import error_message

log = logging.getLogger(__name__)

_spooled = itertools.count(1)

__all__ = ["run", "iter_inputs", "DocumentReport"]


@dataclass(frozen=True, slots=True)
class InputDocument:
    """One document to analyse: a file on disk (an archive member is spooled to one first)."""

    path: str  # as shown to the user: "archive.zip/folder/file.pdf" for members
    file: Path | None = None
    error: object | None = None  # an ExtractionError found while expanding an archive


@dataclass(frozen=True, slots=True)
class DocumentReport:
    path: str
    sha256: str
    status: str  # "ok" | "error"
    error: str | None
    mime: str
    doc_type: str
    pages: int
    ocr_pages: int
    commitments: tuple[dict, ...]

    def to_dict(self) -> dict:
        return {
            "path": self.path,
            "sha256": self.sha256,
            "status": self.status,
            "error": self.error,
            "mime": self.mime,
            "doc_type": self.doc_type,
            "pages": self.pages,
            "ocr_pages": self.ocr_pages,
            "commitments": list(self.commitments),
        }


def iter_inputs(paths: list[str], spool_dir: Path) -> Iterator[InputDocument]:
    """Expand files, folders (recursively, sorted) and containers (ZIP archives, e-mails) into
    documents; members are streamed to files under ``spool_dir`` (disk, never whole in memory)."""
    from extractors.archive import is_container, iter_archive
    from extractors.errors import EvidenciaError
    from service.domain.errors import UsageError

    for raw in paths:
        root = Path(raw)
        if not root.exists():
            raise UsageError(error_message("no_such_path", path=raw))
        # a dangling link is a file gone missing, said as one that cannot be opened
        files = sorted(p for p in root.rglob("*") if p.is_file() or _dangling(p)) if (
            root.is_dir()) else [root]
        for f in files:
            shown = str(f)
            if root.is_dir() and _left_out(f.relative_to(root).as_posix()):
                continue
            try:
                container = is_container(f)
            except OSError:  # its read fails again, said as unreadable (``_analyze_input``)
                yield InputDocument(path=shown, file=f)
                continue
            if container:
                for member in iter_archive(f):
                    item = InputDocument(path=f"{shown}/{member.name}", error=member.error)
                    if member.error is None:
                        spooled = spool_dir / f"member-{next(_spooled):06d}"
                        try:
                            with member.open() as stream, open(spooled, "wb") as out:
                                shutil.copyfileobj(stream, out, 1024 * 1024)
                            item = InputDocument(path=item.path, file=spooled)
                        except EvidenciaError as exc:
                            item = InputDocument(path=item.path, error=exc)
                    yield item
            else:
                yield InputDocument(path=shown, file=f)


def _dangling(path: Path) -> bool:
    """A symbolic link whose target is gone."""
    return path.is_symlink() and not path.exists()


def _left_out(relative: str) -> bool:
    """A file in a folder that is no document: hidden (itself or a folder above it, such as
    ``.git/``) or what an operating system leaves there (Thumbs.db, desktop.ini), skipped as
    ``evidencia batch`` and the ZIPs skip them."""
    from extractors.archive import is_hidden_or_clutter

    return is_hidden_or_clutter(relative)


def _empty_commitments() -> tuple[dict, ...]:
    from classifiers.result import COMMITMENT_IDS

    return tuple(
        {"id": cid, "supported": False, "confidence": 0.0, "evidence": []}
        for cid in COMMITMENT_IDS
    )


def _error_report(path: str, sha: str, mime: str, message: str) -> DocumentReport:
    return DocumentReport(path, sha, "error", message, mime, "otro", 0, 0, _empty_commitments())


def _read_text(file: Path, password: str | None, options):
    """The document with its pages' text only: pages are read one at a time and their word boxes
    (for highlighting on page images, which analyze never shows) dropped as they come, so a long
    scan costs its text, not its boxes."""
    from dataclasses import replace

    from extractors import ExtractedDocument, iter_pages

    with iter_pages(file, password=password, options=options) as stream:
        pages = tuple(replace(page, words=()) for page in stream)
    return ExtractedDocument(stream.mime, pages, stream.extractor, stream.warnings)


#: A PDF's password refused or missing: the extractor's advice suits an upload page; this
#: command takes the password with --password.
_PDF_PASSWORD_WORDS = {
    "encrypted": error_message("encrypted_analyze"),
    "wrong_password": error_message("wrong_password_analyze"),
}


def _analyze(path: str, sha: str, password: str | None, *, file: Path, options
             ) -> DocumentReport:
    """Extract and classify one document; a bad file becomes an error report, never an
    exception."""
    from classifiers import classify
    from extractors import detect_mime
    from extractors.errors import EvidenciaError

    try:
        doc = _read_text(file, password, options)
        result = classify(doc)
    except Exception as exc:  # this file fails alone, with its reason
        mime = "application/octet-stream"
        try:
            mime = detect_mime(file)
        except OSError:
            pass
        if isinstance(exc, EvidenciaError):
            log.info("%s: %s (%s)", path, exc.code, exc.detail or exc.message)
            message = exc.message
            if mime == "application/pdf":
                message = _PDF_PASSWORD_WORDS.get(exc.code, message)
        else:  # a bug or an unforeseen library failure
            log.exception("unexpected failure analysing %s", path)
            message = error_message("internal")
        return _error_report(path, sha, mime, message)
    commitments = tuple(
        {
            "id": c.id,
            "supported": c.supported,
            "confidence": round(c.confidence, 3),
            "rules_supported": c.rules_supported,  # the rules alone, where the model took part
            "evidence": [
                {"text": e.text, "page": e.page, "pattern_ids": list(e.pattern_ids),
                 "supports": c.supported}  # else considered, not enough (as the API says)
                for e in c.evidence
            ],
        }
        for c in result.commitments
    )
    return DocumentReport(
        path, sha, "ok", None, doc.mime, result.doc_type, len(doc.pages), doc.ocr_pages,
        commitments,
    )


def _analyze_input(item: InputDocument, password: str | None, options) -> DocumentReport:
    if item.error is not None:
        message = getattr(item.error, "message", None) or error_message("extraction_failed")
        return _error_report(item.path, "", "application/octet-stream", message)
    try:
        with open(item.file, "rb") as fh:
            sha = hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError as exc:
        log.info("%s: cannot read (%s)", item.path, exc)
        return _error_report(item.path, "", "application/octet-stream",
                             error_message("unreadable"))
    return _analyze(item.path, sha, password, file=item.file, options=options)


def _warm_worker() -> None:
    import classifiers
    from service.settings import get_settings

    classifiers.load(options=get_settings().classifier_options())


def _summary(reports: list[DocumentReport]) -> dict:
    """The matrix's rule: a commitment is supported when one document supports it."""
    from classifiers.result import COMMITMENT_IDS
    from service.domain.matrix import supported

    found = [
        cid for cid in COMMITMENT_IDS
        if supported(c["supported"] for r in reports for c in r.commitments if c["id"] == cid)
    ]
    return {"supported": found, "missing": [c for c in COMMITMENT_IDS if c not in found]}


def _considered(reports: list[DocumentReport], cid: str) -> str:
    """Where a passage was read for a commitment no document supports ("plan.docx, pág. 2"):
    shown apart, never as evidence."""
    from pathlib import PurePath

    return "; ".join(
        f"{PurePath(r.path).name}, pág. {c['evidence'][0]['page']}"
        for r in reports for c in r.commitments
        if c["id"] == cid and not c["supported"] and c["evidence"]
    )


def _print_matrix(reports: list[DocumentReport], summary: dict, out=sys.stdout) -> None:
    from service.domain.messages import commitment_name, doc_type_name, passage_role

    cids = ["c1", "c2", "c3", "c4", "c5"]
    width = min(max([len("Documento")] + [len(r.path) for r in reports]), 60)
    out.write(f"{'Documento':<{width}}  {'Tipo':<24} {'  '.join(cids)}  Págs  OCR\n")
    for r in reports:
        name = r.path if len(r.path) <= width else "…" + r.path[-(width - 1):]
        if r.status == "error":
            out.write(f"{name:<{width}}  ERROR: {r.error}\n")
            continue
        marks = "  ".join(
            " ✓" if c["supported"] else " ·" for c in sorted(r.commitments, key=lambda c: c["id"])
        )
        kind = doc_type_name(r.doc_type)
        out.write(f"{name:<{width}}  {kind:<24}{marks}  {r.pages:>4}  {r.ocr_pages:>3}\n")
    out.write("\n")
    if summary["supported"]:
        out.write("Compromisos con evidencia: " + ", ".join(summary["supported"]) + "\n")
    if summary["missing"]:
        out.write("Compromisos sin evidencia en ningún documento:\n")
        for cid in summary["missing"]:
            out.write(f"  {cid}: {commitment_name(cid)}\n")
            near = _considered(reports, cid)
            if near:
                out.write(f"      pasaje {passage_role(False)}: {near}\n")
    else:
        out.write("Los cinco compromisos tienen evidencia.\n")
    errors = sum(r.status == "error" for r in reports)
    if errors:
        out.write(f"{errors} archivo(s) con error (ver arriba).\n")


#: What a file name that is not UTF-8 brings into a ``str`` (Python's surrogate escapes).
_SURROGATE = re.compile("[\ud800-\udfff]")


def _json_text(payload: dict) -> str:
    """``payload`` as JSON that stays UTF-8: a file name that is not (its raw bytes carried as
    surrogate escapes) is written as ``\\udcXX`` escapes, which a reader's ``os.fsencode``
    turns back into the name on disk, instead of raw bytes no strict reader accepts."""
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}",
                          json.dumps(payload, ensure_ascii=False))


def run(args) -> int:
    with tempfile.TemporaryDirectory(prefix="evidencia-analyze-") as spool_dir:
        return _run(args, Path(spool_dir))


def _run(args, spool_dir: Path) -> int:
    from service.domain.errors import UsageError

    items = list(iter_inputs(args.paths, spool_dir))
    if not items:
        raise UsageError(error_message("no_files_found"))

    from tqdm import tqdm

    import classifiers
    from service.settings import get_settings

    options = get_settings().extract_options()
    classifiers.use_options(get_settings().classifier_options())  # the version it reports

    jobs = args.jobs or (min(os.cpu_count() or 1, 2) if len(items) >= 6 else 1)
    bar = tqdm(total=len(items), unit="doc", file=sys.stderr, disable=len(items) < 2,
               desc="Analizando")
    reports: list[DocumentReport] = []
    if jobs > 1:
        with ProcessPoolExecutor(max_workers=jobs, initializer=_warm_worker) as pool:
            futures = [pool.submit(_analyze_input, it, args.password, options) for it in items]
            for fut in futures:
                reports.append(fut.result())
                bar.update()
    else:
        for it in items:
            reports.append(_analyze_input(it, args.password, options))
            bar.update()
    bar.close()

    summary = _summary(reports)
    if args.json:
        payload = {
            "classifier_version": classifiers.CLASSIFIER_VERSION,
            "documents": [r.to_dict() for r in reports],
            "summary": summary,
        }
        sys.stdout.write(_json_text(payload) + "\n")
    else:
        _print_matrix(reports, summary)
    return 1 if any(r.status == "error" for r in reports) else 0
