"""Past archives (folders and ZIPs) loaded as one submission per organisation (``evidencia batch``).

Programme staff hold years of submissions as folders and ZIP archives. This walks them, groups
the files into one submission per organisation (by top folder, by archive, or by a CSV that maps
paths to organisation and RUT), stores each file content-addressed and enqueues one job per
document on the ``batch`` queue, so any number of workers share the work.

Resumable by construction: a submission is found again by its ``source_key`` and a document by
its (submission, name) and sha256, so a rerun after Ctrl-C or a crash skips what is stored,
re-enqueues what was stored but never finished, and loads the rest; two runs over the same
archive at once load each organisation in turn (a lock per source key). A rerun mirrors the
folder: a file whose bytes changed at the same path (re-exported) replaces the document loaded
from it, through the one replacement (``documents.replace_document``); an archive is expanded
into its members as an upload is (``add_files``'s names, «anexos.zip/plan.pdf»), so a
re-exported archive is mirrored member by member, and one re-exported damaged keeps what it
brought (said). A submission with a final
verdict takes nothing new (``workflow.VerdictLock``: neither a replacement nor a new file) until
an admin reopens it. Files are read one at a time (archives member by member), so an archive of
thousands never sits in memory at once.
"""

from __future__ import annotations

import contextlib
import csv
import io
import logging
import os
import re
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from service.domain.codes import DocumentStatus, Lane
from service.domain.errors import UsageError, ValidationError
from service.domain.messages import error_message
from service.domain.text import from_file_system

log = logging.getLogger(__name__)

__all__ = [
    "BatchSource",
    "BatchItem",
    "BatchStats",
    "iter_items",
    "rut_warning",
    "empty_warning",
    "unmade_warning",
    "estimate_total",
    "CsvRow",
    "read_org_csv",
    "read_org_csv_rows",
    "org_csv_map",
    "unmatched_rows",
    "load_batch",
    "requeue_unfinished",
    "errors_by_reason",
]

_RUT_RE = re.compile(r"(?<![\dA-Za-z])(\d{1,2}\.?\d{3}\.?\d{3}-?[\dkK])(?![\dA-Za-z])")


@dataclass(frozen=True, slots=True)
class BatchSource:
    """One organisation's material: becomes one submission, found again by ``key``."""

    key: str  # e.g. "folder:/abs/archivo/Fundación Sol" or "archive:/abs/2019/org.zip"
    organization: str
    rut: str | None = None
    #: a RUT written in the folder or archive name whose check digit does not match, as
    #: written: not the organisation's RUT, left in its name, and said (:func:`rut_warning`)
    bad_rut: str | None = None
    #: how a run tells a document whose file is gone (:meth:`_Loader.find_missing`): ``all``,
    #: the run walked the whole folder or archive, so a document it did not find is gone;
    #: ``top``, it walked only the files directly in the folder (loose files beside the
    #: organisations' folders), so one is gone only when its file (or the file or folder it
    #: came from) is no longer on disk; ``none``, never (a CSV row's organisation may gather
    #: files from paths this run was not given)
    removals: str = "all"


@dataclass(frozen=True, slots=True)
class BatchItem:
    """One document to load: a file on disk, an archive member's bytes, or an error."""

    source: BatchSource | None  # None: could not be assigned to an organisation
    name: str  # document name inside the submission: "actas/2019.pdf", "org.zip/a/b.pdf"
    path: Path | None = None
    data: bytes | None = None
    error_code: str | None = None
    error: str | None = None  # Spanish
    shown: str = ""  # where it came from, for messages
    #: the error is the whole archive's (unreadable): what it holds is unknown, not gone
    whole: bool = False

    def read(self) -> bytes:
        if self.data is not None:
            return self.data
        assert self.path is not None
        return self.path.read_bytes()


@dataclass
class BatchStats:
    """Counts of one ``load_batch`` run."""

    seen: int = 0
    stored: int = 0  # new documents stored and enqueued
    replaced: int = 0  # files re-exported (same path, other bytes) that replaced their document
    skipped: int = 0  # already stored by an earlier run
    requeued: int = 0  # stored earlier, never finished: enqueued again
    errors: int = 0  # could not be stored (error documents recorded, or not assigned)
    #: refused (or failed) before, unchanged since: nothing recorded again
    still_refused: int = 0
    #: the same bytes as a file refused earlier in this run, in the same organisation:
    #: reported once, with its paths (``refused_as``)
    refused_copies: int = 0
    unqueued: int = 0  # stored and queued in the database, but Redis refused the job
    stored_ids: set[str] = field(default_factory=set)  # documents enqueued by this run
    submission_ids: dict[str, str] = field(default_factory=dict)  # source key -> submission id
    unassigned: list[BatchItem] = field(default_factory=list)
    #: source key -> the source, for each organisation whose name held a RUT with a wrong
    #: check digit (first seen first)
    bad_ruts: dict[str, BatchSource] = field(default_factory=dict)
    #: submission id -> documents this run replaced in it (the summary's ``reemplazados``)
    replaced_in: dict[str, int] = field(default_factory=dict)
    #: submission id -> Spanish lines for its row (``avisos``): each file that replaced its
    #: document, each changed file that could not (refused at the door, final verdict), and
    #: each new file not added (final verdict)
    row_notes: dict[str, list[str]] = field(default_factory=dict)
    #: (Spanish reason, "Organisation: name") of each changed file that could not replace its
    #: document and each new file not added: listed with the failed files
    #: (:func:`errors_by_reason`)
    kept: list[tuple[str, str]] = field(default_factory=list)
    #: each organisation whose submission could not be made (an unexpected error:
    #: :meth:`_Loader._failed`) -> [the Spanish reason, how many of its files were not loaded]:
    #: a row each in the summary (:func:`unmade_warning`)
    unmade: dict[BatchSource, list] = field(default_factory=dict)
    #: (submission id, document name) -> what it was refused as in this run (the sha256 of
    #: its bytes, or its name when none could be read): the failed files listed once per
    #: content, with their paths (:func:`errors_by_reason`)
    refused_as: dict[tuple[str, str], str] = field(default_factory=dict)
    #: submission id -> names of its documents whose file is no longer in the folder or
    #: archive (:meth:`_Loader.find_missing`), still counting: said, not retired
    missing: dict[str, list[str]] = field(default_factory=dict)
    #: submission id -> names of the documents this run retired (``retire_missing``)
    retired: dict[str, list[str]] = field(default_factory=dict)

    @property
    def n_missing(self) -> int:
        return sum(len(names) for names in self.missing.values())

    @property
    def n_retired(self) -> int:
        return sum(len(names) for names in self.retired.values())


# --------------------------------------------------------------------------------------------
# Walking the inputs


def _split_rut(label: str) -> tuple[str, str | None, str | None]:
    """'Fundación Sol 76.123.456-7' -> ('Fundación Sol', '76123456-7', None). A RUT written as
    one (with its dots, hyphen or a final K) whose check digit does not match stays in the
    name and comes back third, to be said: 'Sol 76.123.456-0' -> ('Sol 76.123.456-0', None,
    '76.123.456-0'). Bare digits that only look like a RUT (a date such as 20190312) stay in
    the name, unsaid."""
    from service.domain import rut as rut_module

    match = _RUT_RE.search(label)
    if not match:
        return label.strip(), None, None
    written = match.group(1)
    try:
        rut = rut_module.normalize_rut(written)
    except rut_module.RutError as exc:
        looks_like_rut = "-" in written or "." in written or written[-1] in "kK"
        bad = written if exc.reason == "check_digit" and looks_like_rut else None
        return label.strip(), None, bad
    name = (label[: match.start()] + label[match.end() :]).strip(" -_,()[]")
    return (name or label.strip()), rut, None


def _doc_name(name: str) -> str:
    """The name as ``add_files`` stores it (``submissions.stored_name``), so a rerun finds the
    document again: one refused for a path too long was stored shortened, and looked for
    under its full path it was recorded again, a new error, on every run."""
    from service.domain.submissions import stored_name

    return stored_name(from_file_system(name or ""))


def _source(kind: str, key_path: str, label: str, removals: str = "all") -> BatchSource:
    name, rut, bad_rut = _split_rut(from_file_system(label))
    return BatchSource(key=f"{kind}:{from_file_system(key_path)}", organization=name, rut=rut,
                       bad_rut=bad_rut, removals=removals)


def _where(source: BatchSource) -> str:
    """Where an organisation's material is, as a line names it: "la carpeta «…»"."""
    kind, _, path = source.key.partition(":")
    if kind == "folder":
        return error_message("batch_where_folder", path=path)
    if "#" in path:  # a top folder (or ZIP) inside a ZIP given as PATH
        path, _, top = path.rpartition("#")
        return error_message("batch_where_in_archive", top=top, path=path)
    return error_message("batch_where_archive", path=path)


def rut_warning(source: BatchSource) -> str:
    """The Spanish line for a folder or archive whose name held a RUT with a wrong check
    digit: which one, which RUT, and that its documents were loaded all the same."""
    return error_message("batch_bad_rut", where=_where(source), rut=source.bad_rut,
                         organization=source.organization)


def empty_warning(source: BatchSource) -> str:
    """The Spanish line for an organisation's folder or archive with no file to load: no
    submission was made for it (a folder left empty, or the wrong one copied)."""
    return error_message("batch_empty_source", where=_where(source),
                         organization=source.organization)


def unmade_warning(source: BatchSource, reason: str, n: int) -> str:
    """The Spanish line for an organisation whose submission could not be made (an
    unexpected error, in the log): none of its files was loaded."""
    return error_message("batch_unmade_source", where=_where(source), n=n,
                         organization=source.organization, reason=reason.rstrip("."))


def _is_zip(path: Path) -> bool:
    """A ZIP by its bytes, or by its name: an organisation's ZIP re-exported damaged is still
    that organisation's archive (unreadable, said), not a loose file of another one."""
    if path.suffix.lower() == ".zip":
        return True
    try:
        from extractors import detect_mime

        return detect_mime(path) == "application/zip"
    except ImportError:  # pragma: no cover - extractors always ships with the project
        return path.suffix.lower() == ".zip" and zipfile.is_zipfile(path)
    except OSError:
        return False


def _walk(root: Path) -> Iterator[Path]:
    """Files under ``root`` in a stable order, hidden files and OS clutter skipped, lazily."""
    from extractors.archive import is_hidden_or_clutter

    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))  # pruned, not walked
        for name in sorted(filenames):
            if not is_hidden_or_clutter(name):
                yield Path(dirpath) / name


def _archive_members(zip_path: Path) -> Iterator[tuple[str, bytes | None, object | None]]:
    """(member name, bytes, error) for each member, read one at a time (each within the file
    size limit); nested ZIPs expanded as 'inner.zip/x'."""
    from extractors.archive import iter_archive
    from extractors.errors import EvidenciaError

    try:
        for member in iter_archive(zip_path):
            if member.error is not None:
                # the archive itself unreadable is reported under its own name: "" here, as
                # add_files names it after the upload (not "anexos.zip/anexos.zip")
                whole = member.name == zip_path.name
                yield ("" if whole else member.name), None, member.error
                continue
            try:
                data = member.read()
            except EvidenciaError as exc:  # damaged member data
                yield member.name, None, exc
                continue
            yield member.name, data, None
    except Exception as exc:  # the whole archive is unreadable: one error item
        log.warning("cannot open archive %s: %r", zip_path, exc)
        yield "", None, exc


def _error_fields(exc: object) -> tuple[str, str]:
    code = getattr(exc, "code", None) or "extraction_failed"
    message = getattr(exc, "message", None) or "No se pudo leer el archivo."
    return code, message


def _is_container(path: Path) -> bool:
    """Whether ``path`` is a container (ZIP, e-mail); a file that cannot be opened (a dangling
    link, no permission) is not: it goes to the loader as a file, whose read fails and is
    recorded as that file's error (``unreadable``) instead of stopping the walk."""
    from extractors.archive import is_container

    try:
        return is_container(path)
    except OSError:
        return False


def _file_items(source: BatchSource | None, path: Path, name: str, *,
                archive: bool = False) -> Iterator[BatchItem]:
    """One file on disk: itself, or its members when it is a container (ZIP, e-mail); with
    ``archive`` (an organisation's ZIP) its members, or one error when it is unreadable."""
    if not archive and not _is_container(path):
        yield BatchItem(source, name, path=path, shown=str(path))
        return
    for member, data, error in _archive_members(path):
        full = f"{name}/{member}" if name and member else (member or name or path.name)
        if error is not None:
            code, message = _error_fields(error)
            yield BatchItem(source, full, error_code=code, error=message, shown=f"{path}/{member}",
                            whole=not member)
        else:
            yield BatchItem(source, full, data=data, shown=f"{path}/{member}")


def _zip_by_top_entry(zip_path: Path, default: BatchSource) -> Iterator[BatchItem]:
    """Members of a ZIP given as input: its top folders (or top-level archives) are orgs; a
    member whose path climbs out or starts at the root (refused as unsafe) names none: it is
    a failed file of the ZIP's own organisation."""
    resolved = zip_path.resolve()
    for member, data, error in _archive_members(zip_path):
        parts = PurePosixPath(member).parts if member else ()
        if len(parts) > 1 and parts[0] not in ("/", ".."):
            top = parts[0]
            label = top[:-4] if top.lower().endswith(".zip") else top
            source = _source("archive", f"{resolved}#{top}", label)
            name = "/".join(parts[1:]) if not top.lower().endswith(".zip") else member
        else:
            source, name = default, member or zip_path.name
        if error is not None:
            code, message = _error_fields(error)
            yield BatchItem(source, name, error_code=code, error=message,
                            shown=f"{zip_path}/{member}", whole=not member)
        else:
            yield BatchItem(source, name, data=data, shown=f"{zip_path}/{member}")


def iter_items(
    paths: Iterable[str | Path], org_from: str = "folder", csv_map: dict | None = None,
    csv_path: str | Path | None = None, matched: set[str] | None = None,
    empty: list[BatchSource] | None = None,
) -> Iterator[BatchItem]:
    """Expand the inputs into documents, each assigned to its organisation.

    ``folder``: each folder directly inside a PATH is one organisation (loose files at a PATH's
    top belong to the PATH folder itself); an archive directly inside a PATH is one too, and a
    ZIP given as PATH splits by its top folders (and top-level ZIPs). ``archive``: each ZIP
    found is one organisation, the ZIPs nested in it included; loose files go by their folder.
    ``csv``: organisation and RUT come from the CSV row whose path is the longest prefix of the
    file's path; the CSV itself (``csv_path``), often kept beside the folders it maps, is not
    a document; ``matched`` collects the CSV paths (``csv_map``'s keys) some file went to, so
    the rows no file went to are said once the items are spent (:func:`unmatched_rows`).
    ``empty`` collects, as they are walked, the organisations (a folder or ZIP inside a PATH,
    a ZIP of ``archive``) that held no file to load, so they are said (:func:`empty_warning`)
    instead of vanishing from the run without a submission or a line.
    A RUT written in a folder or archive name ("Fundación Sol 76.123.456-7") is picked up.
    A PATH given twice (however written: ``A A``, ``A ./A/``) is walked once.
    """
    empty = [] if empty is None else empty
    for raw in _distinct(paths):
        root = Path(raw)
        if not root.exists():
            raise UsageError(error_message("no_such_path", path=raw))
        if org_from == "csv":
            yield from _csv_items(root, csv_map or {}, csv_path, matched)
        elif org_from == "archive":
            yield from _archive_mode_items(root, empty)
        else:
            yield from _folder_mode_items(root, empty)


def _distinct(paths: Iterable[str | Path]) -> list[str | Path]:
    """``paths`` without a repeat (the same file or folder given twice, however written): each
    walked once, so each file is counted once."""
    seen: set[str] = set()
    found = []
    for raw in paths:
        key = os.path.normpath(Path(raw).resolve())
        if key not in seen:
            seen.add(key)
            found.append(raw)
    return found


def _or_empty(items: Iterable[BatchItem], source: BatchSource,
              empty: list[BatchSource]) -> Iterator[BatchItem]:
    """``items`` of one organisation; ``source`` is added to ``empty`` when there were none."""
    seen = False
    for item in items:
        seen = True
        yield item
    if not seen:
        empty.append(source)


def _folder_mode_items(root: Path, empty: list[BatchSource]) -> Iterator[BatchItem]:
    from extractors.archive import is_hidden_or_clutter

    if root.is_file():
        if _is_zip(root):
            default = _source("archive", str(root.resolve()), root.stem)
            yield from _zip_by_top_entry(root, default)
        else:
            parent = root.resolve().parent
            yield from _file_items(_source("folder", str(parent), parent.name, "top"), root,
                                   root.name)
        return
    loose = _source("folder", str(root.resolve()), root.resolve().name, "top")
    for entry in sorted(root.iterdir()):
        if is_hidden_or_clutter(entry.name):
            continue
        if entry.is_dir():
            source = _source("folder", str(entry.resolve()), entry.name)
            yield from _or_empty((item for f in _walk(entry) for item in _file_items(
                source, f, f.relative_to(entry).as_posix())), source, empty)
        elif _is_zip(entry):
            source = _source("archive", str(entry.resolve()), entry.stem)
            yield from _or_empty(_file_items(source, entry, entry.name, archive=True), source,
                                 empty)
        else:
            yield from _file_items(loose, entry, entry.name)


def _archive_mode_items(root: Path, empty: list[BatchSource]) -> Iterator[BatchItem]:
    files = [root] if root.is_file() else _walk(root)
    for f in files:
        if _is_zip(f):  # the whole archive, nested ZIPs included, is one organisation
            source = _source("archive", str(f.resolve()), f.stem)
            yield from _or_empty(_file_items(source, f, "", archive=True), source, empty)
        else:
            parent = f.resolve().parent
            yield from _file_items(_source("folder", str(parent), parent.name, "top"), f,
                                   f.name)


@dataclass(frozen=True, slots=True)
class CsvRow:
    """One row of the organisations' CSV: where it is, its ``ruta`` as written, that path
    resolved (the prefix files are matched against) and the organisation it names."""

    line: int  # the row's line in the CSV (the header is line 1)
    path: str
    prefix: str
    source: BatchSource


def read_org_csv(csv_path: str | Path) -> dict[str, BatchSource]:
    """Read the CSV ``ruta,organizacion,rut`` (English headers accepted) into prefix -> source
    (:func:`read_org_csv_rows`, :func:`org_csv_map`)."""
    return org_csv_map(read_org_csv_rows(csv_path))


def org_csv_map(rows: Iterable[CsvRow]) -> dict[str, BatchSource]:
    """Prefix -> source, what :func:`iter_items` matches files against; of two rows with the
    same path, the last."""
    return {row.prefix: row.source for row in rows}


def read_org_csv_rows(csv_path: str | Path) -> list[CsvRow]:
    """Read the CSV ``ruta,organizacion,rut`` (English headers accepted), row by row; rows
    without a path or an organisation are skipped.

    Relative paths are taken from the CSV's own folder. Rows with the same RUT (or, without a
    RUT, the same organisation name) share one submission. UTF-8 (with or without BOM), else
    Windows-1252: what Excel saves as "CSV (delimitado por comas)" on a Spanish Windows.
    """
    csv_path = Path(csv_path)
    if not csv_path.is_file():
        raise UsageError(error_message("no_csv", path=csv_path))
    aliases = {
        "ruta": "path", "path": "path", "archivo": "path", "carpeta": "path",
        "organizacion": "organization", "organización": "organization",
        "organization": "organization", "nombre": "organization",
        "rut": "rut",
    }
    with io.StringIO(_csv_text(csv_path.read_bytes()), newline="") as fh:
        sample = fh.read(4096)
        fh.seek(0)
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        reader = csv.DictReader(fh, dialect=dialect)
        headers = {h: aliases.get((h or "").strip().lower()) for h in reader.fieldnames or []}
        if "path" not in headers.values() or "organization" not in headers.values():
            raise UsageError(error_message("csv_columns"))
        rows: list[CsvRow] = []
        for row in reader:
            values = {headers[k]: (v or "").strip() for k, v in row.items() if headers.get(k)}
            if not values.get("path") or not values.get("organization"):
                continue
            prefix = Path(values["path"])
            if not prefix.is_absolute():
                prefix = csv_path.parent / prefix
            rut = _valid_rut(values.get("rut") or "", csv_path)
            ident = rut or values["organization"].casefold()
            rows.append(CsvRow(
                line=reader.line_num, path=values["path"],
                prefix=os.path.normpath(prefix.resolve()),
                source=BatchSource(key=f"csv:{ident}", organization=values["organization"],
                                   rut=rut, removals="none"),
            ))
    return rows


def unmatched_rows(rows: Iterable[CsvRow], matched: set[str]) -> list[tuple[CsvRow, str]]:
    """The CSV rows no file went to in a run (``matched``: the prefixes that took a file, from
    :func:`iter_items`), each with the Spanish line that says so: its path does not exist,
    or holds no file of the paths loaded (or only files that a longer row's path took)."""
    found = []
    for row in rows:
        if row.prefix in matched:
            continue
        code = "csv_row_no_path" if not os.path.exists(row.prefix) else "csv_row_no_files"
        found.append((row, error_message(code, line=row.line, path=row.path,
                                         organization=row.source.organization)))
    return found


def _csv_text(data: bytes) -> str:
    """The CSV's text: UTF-8, else Windows-1252 (Excel's), else Latin-1 (never fails)."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _valid_rut(raw: str, where: Path) -> str | None:
    from service.domain.submissions import normalize_rut

    if not raw.strip():
        return None
    try:
        return normalize_rut(raw)
    except ValidationError:
        raise UsageError(error_message("bad_rut_in_csv", path=where, rut=raw)) from None


def _match_csv(shown: str, csv_map: dict[str, BatchSource],
               matched: set[str] | None = None) -> BatchSource | None:
    best, best_prefix = None, None
    for prefix, source in csv_map.items():
        inside = shown == prefix or shown.startswith(prefix.rstrip("/") + "/")
        if inside and (best_prefix is None or len(prefix) > len(best_prefix)):
            best, best_prefix = source, prefix
    if matched is not None and best_prefix is not None:
        matched.add(best_prefix)
    return best


def _not_in_csv(name: str, shown: str) -> BatchItem:
    return BatchItem(None, name, error_code="not_in_csv", error=error_message("not_in_csv"),
                     shown=shown)


def _csv_items(root: Path, csv_map: dict[str, BatchSource], csv_path: str | Path | None = None,
               matched: set[str] | None = None) -> Iterator[BatchItem]:
    files = [root] if root.is_file() else _walk(root)
    base = root.resolve() if root.is_dir() else root.resolve().parent
    mapping = os.path.normpath(Path(csv_path).resolve()) if csv_path else None
    for f in files:
        resolved = os.path.normpath(f.resolve())
        if resolved == mapping:
            continue
        rel = Path(resolved).relative_to(base).as_posix()
        if _is_container(f):
            for member, data, error in _archive_members(f):
                shown = f"{resolved}/{member}" if member else resolved
                source = _match_csv(shown, csv_map, matched)
                name = f"{rel}/{member}" if member else rel
                if source is None:
                    yield _not_in_csv(name, shown)
                elif error is not None:
                    code, message = _error_fields(error)
                    yield BatchItem(source, name, error_code=code, error=message, shown=shown,
                                    whole=not member)
                else:
                    yield BatchItem(source, name, data=data, shown=shown)
        else:
            source = _match_csv(resolved, csv_map, matched)
            if source is None:
                yield _not_in_csv(rel, resolved)
            else:
                yield BatchItem(source, rel, path=f, shown=resolved)


def estimate_total(paths: Iterable[str | Path]) -> int:
    """Quick count for the progress bar: files on disk, members of the ZIPs found on disk.

    Nested archives count as one until opened; the bar's total grows when they do.
    """
    total = 0
    for raw in _distinct(paths):
        root = Path(raw)
        files = [root] if root.is_file() else _walk(root)
        for f in files:
            if f.suffix.lower() == ".zip" and zipfile.is_zipfile(f):
                try:
                    with zipfile.ZipFile(f) as zf:
                        total += sum(1 for i in zf.infolist() if not i.is_dir())
                except (zipfile.BadZipFile, OSError):
                    total += 1
            else:
                total += 1
    return total


# --------------------------------------------------------------------------------------------
# Loading: store + enqueue, resumably


def _submission_for(session, source: BatchSource):
    """The submission of ``source``: found by its key (resume) or created."""

    from service.domain.submissions import create_submission, find_submission

    existing = find_submission(session, source.key)
    if existing is not None:
        return existing
    submission, _token = create_submission(
        session, source.organization, source.rut, source="batch", source_key=source.key
    )
    session.commit()
    return submission


def _existing_documents(session, submission_id: str) -> tuple[dict[str, list[tuple]], set[str]]:
    """Documents already stored in the submission: name -> [(id, sha256, status)], and the
    names they were expanded from (``add_files`` stores an archive as "x.zip/member" rows)."""
    from sqlalchemy import select

    from service.domain.models import Document

    rows = session.execute(
        select(Document.id, Document.name, Document.sha256, Document.status).where(
            Document.submission_id == submission_id, Document.removed_at.is_(None)
        )
    )
    found: dict[str, list[tuple[str, str | None, str]]] = defaultdict(list)
    expanded: set[str] = set()
    for doc_id, name, sha, status in rows:
        found[name].append((doc_id, sha, status))
        parts = name.split("/")
        expanded.update("/".join(parts[:k]) for k in range(1, len(parts)))
    return found, expanded


def _record_error_document(session, submission, name: str, code: str, message: str) -> None:
    """A member that could not even be stored still shows up, with its reason, in the results."""
    from service.domain import lifecycle
    from service.domain.models import Document

    document = Document(submission_id=submission.id, name=name[:1000], queue_name=Lane.batch)
    lifecycle.fail(document, code, message, finished=False)
    session.add(document)
    session.commit()


#: :attr:`BatchSource.removals`, from the least cautious to the most
_CAUTION = ("all", "top", "none")


def _quoted(names: Iterable[str]) -> str:
    return ", ".join(f"«{name}»" for name in names)


def _stops_the_run(exc: BaseException) -> bool:
    """Whether ``exc`` is the run's and not one file's: the database or Redis unreachable or
    gone mid-run (a lost connection), or the database not migrated. Anything else an item
    raises (a value the database refuses, a bug) fails only that item."""
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError
    from sqlalchemy.exc import DBAPIError, ProgrammingError

    from service.domain.errors import ErrorCode, fault_of

    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, ProgrammingError | RedisConnectionError | RedisTimeoutError):
        return True
    return fault_of(exc) in (ErrorCode.transient, ErrorCode.unavailable,
                             ErrorCode.database_unavailable)


class _RefusedAgain(Exception):
    """A file refused before its bytes could be kept is refused again for the same reason:
    nothing new to record."""


class _Loader:
    """One run's view of the submissions it writes to, each found again by its source key:
    which names they hold (with sha256 and status) and which archives were expanded in them.

    An organisation is loaded holding its lock (``locks.held``, per source key): a second run
    over the same archive at the same time (another staff member, a second terminal) waits,
    then reads what the first stored and skips it, instead of creating the submission twice
    (an IntegrityError on its source key) or storing every file twice. One lock at a time: a
    run moving to the next organisation releases the previous one, so two runs never wait on
    each other in a circle. Before it releases one, it enqueues again that organisation's
    documents stored by an earlier run and never finished (``requeue_unfinished``): under the
    lock, so never a document another run over the same organisation has just stored and is
    about to enqueue itself (its row committed, its job not yet in Redis), which it would
    otherwise queue a second time and count as its own."""

    def __init__(self, session, stats: BatchStats):
        self.session = session
        self.stats = stats
        self.submissions: dict[str, object] = {}
        self.known: dict[str, dict] = {}
        self.expanded: dict[str, set[str]] = {}
        self._lock = contextlib.ExitStack()
        self._locked: str | None = None  # the source key whose lock is held
        #: submission id -> the names this run found in its folder or archive (as stored)
        self.walked: dict[str, set[str]] = defaultdict(set)
        #: submission id -> its source, the most cautious of its ``removals`` if two differ
        self.sources: dict[str, BatchSource] = {}
        #: submissions whose whole material is an archive this run could not read: what they
        #: hold is unknown, so no document of theirs is taken for gone
        self.unread: set[str] = set()
        #: submission id -> the contents refused in this run (:meth:`_refused`)
        self._refused_contents: dict[str, set[str]] = defaultdict(set)

    def close(self, *, requeue: bool = False) -> None:
        """Release the lock held; with ``requeue``, first enqueue again the unfinished documents
        of its organisation that this run did not store."""
        if requeue and self._locked is not None and self._locked in self.submissions:
            self.stats.requeued += requeue_unfinished(
                self.session, [self.submissions[self._locked].id], self.stats.stored_ids)
        self._lock.close()
        self._locked = None

    def _hold(self, source: BatchSource) -> None:
        """Hold ``source``'s lock (waiting for another run loading it), releasing the one held;
        what this run knew of the submission is read again: another run may have added to it."""
        from service.domain import locks

        if source.key == self._locked:
            return
        self.close(requeue=True)
        self.session.rollback()  # no transaction (no snapshot) kept open while waiting
        self._lock.enter_context(locks.held(f"batch-source:{source.key}"))
        self._locked = source.key
        self.submissions.pop(source.key, None)

    def submission(self, source: BatchSource):
        self._hold(source)
        submission = self.submissions.get(source.key)
        if submission is None:
            submission = _submission_for(self.session, source)
            self.submissions[source.key] = submission
            self.stats.submission_ids[source.key] = submission.id
            self.known[submission.id], self.expanded[submission.id] = _existing_documents(
                self.session, submission.id)
        return submission

    def load(self, item: BatchItem) -> str:
        """Store one item (or record why it cannot be); the outcome, for the counts. One bad
        file never sinks the batch: its unexpected error (a value the database refuses, a bug)
        is that file's (:meth:`_failed`); only the run's own (:func:`_stops_the_run`) stops it."""
        try:
            return self._load(item)
        except Exception as exc:
            if _stops_the_run(exc):
                raise  # the database or Redis is gone: stop, a rerun resumes
            return self._failed(item, exc)

    def _load(self, item: BatchItem) -> str:
        from extractors.errors import EvidenciaError

        submission = self.submission(item.source)
        name = _doc_name(item.name)
        self.walked[submission.id].add(name)
        known_source = self.sources.get(submission.id)
        if known_source is None or _CAUTION.index(item.source.removals) > _CAUTION.index(
                known_source.removals):
            self.sources[submission.id] = item.source
        if self._new(submission, name):  # nothing read or stored under a final verdict
            refusal = self._closed(submission)
            if refusal is not None:
                return self._kept(submission, name, refusal)
        try:
            if item.error is not None:
                return self._failed_before(submission, name, item)
            return self._store(submission, name, item)
        except OSError as exc:
            log.warning("cannot read %s: %s", item.shown, exc)
            known = self.known[submission.id].get(name)
            if known and all(status == DocumentStatus.error for _id, _s, status in known):
                return self._refused(submission, name, None, again=True)
            if known:  # stored by an earlier run
                return "skipped"
            self._error(submission, name, "unreadable", error_message("unreadable"))
            return self._refused(submission, name, None, again=False)
        except EvidenciaError as exc:  # refused with its reason
            self._error(submission, name, exc.code, exc.message)
            return self._refused(submission, name, None, again=False)

    def _failed(self, item: BatchItem, exc: Exception) -> str:
        """An item whose loading failed unexpectedly: its transaction rolled back, the
        traceback logged (English), and the file recorded as failed with a Spanish reason (the
        error's own when it has one): a document in error when its submission exists, else
        (the submission itself could not be made) listed with the failed files
        (``stats.kept``). Recording it failing too, it is listed the same way."""
        from extractors.errors import EvidenciaError

        log.error("could not load %s", item.shown or item.name, exc_info=exc)
        self.session.rollback()
        name = _doc_name(item.name)
        code, message = ((exc.code, exc.message) if isinstance(exc, EvidenciaError)
                         else ("internal", error_message("internal_load")))
        submission = self.submissions.get(item.source.key)
        if submission is not None and self._locked == item.source.key:
            try:
                return self._error(submission, name, code, message)
            except Exception as again:
                if _stops_the_run(again):
                    raise
                log.error("could not record the failure of %s", item.shown or item.name,
                          exc_info=again)
                self.session.rollback()
        self.stats.kept.append((message, f"{item.source.organization}: {name}"))
        if item.source.key not in self.stats.submission_ids:
            self.stats.unmade.setdefault(item.source, [message, 0])[1] += 1
        return "error"

    def _new(self, submission, name: str) -> bool:
        """Nothing of the submission was loaded from ``name`` (as a file, or as the archive
        its members came from)."""
        return not (self.known[submission.id].get(name) or name in self.expanded[submission.id])

    def _closed(self, submission, *, row_lock: bool = False):
        """The refusal (ServiceError ``add_locked``) when the submission has a final verdict
        and so takes no new document (``workflow.VerdictLock.add``), else None; with
        ``row_lock``, checked under the submission's row lock (``workflow.lock``), so a verdict
        committed meanwhile is seen."""
        from service.domain import workflow
        from service.domain.errors import ServiceError

        if row_lock:
            workflow.lock(self.session, submission)
        try:
            workflow.check_unlocked(submission, workflow.VerdictLock.add)
        except ServiceError as exc:
            return exc
        return None

    def _failed_before(self, submission, name: str, item: BatchItem) -> str:
        """An item that could not even be read: recorded once, with its reason. At the name of
        a document read before (an archive's member re-exported damaged), or as an archive
        whose members were loaded before (re-exported unreadable whole), it is a re-export
        refused at the door: what was loaded stays, and the row says why (:meth:`_kept`)."""
        known = self.known[submission.id].get(name)
        whole_source = item.whole and item.source.key.startswith("archive:") and (
            Path(item.source.key.partition(":")[2]).name == name)  # the organisation's ZIP
        if whole_source:
            self.unread.add(submission.id)
        if any(status != DocumentStatus.error for _id, _s, status in known or ()) or (
                not known and self._read_from(submission, "" if whole_source else name)):
            reason = item.error or error_message(item.error_code or "internal")
            return self._kept(submission, name, ValidationError(
                code="replacement_refused", name=name, reason=reason[:1].lower() + reason[1:]))
        if known:
            return self._refused(submission, name, None, again=True)
        _record_error_document(self.session, submission, name, item.error_code or "error",
                               item.error)
        self.known[submission.id][name].append(("", None, "error"))
        return self._refused(submission, name, None, again=False)

    def _store(self, submission, name: str, item: BatchItem) -> str:
        from service.domain.errors import ServiceError
        from service.domain.storage import sha256_bytes
        from service.domain.submissions import add_files

        existing = self.known[submission.id].get(name, [])
        data = item.read()
        digest = sha256_bytes(data)  # what a refusal is told apart by: empty files are one
        sha = digest if data else None
        # same bytes stored before (that failed: still refused); or expanded by add_files
        same = [status for _id, s, status in existing if s is not None and s == sha]
        if same and all(status == DocumentStatus.error for status in same):
            return self._refused(submission, name, digest, again=True)
        if same or (not existing and name in self.expanded[submission.id]):
            return "skipped"
        # other bytes at the path of a document that was read or is being read: re-exported,
        # it replaces that document (the newest, if an earlier run left two)
        loaded = [doc_id for doc_id, _s, status in existing
                  if doc_id and status != DocumentStatus.error]
        if loaded:
            return self._replace(submission, name, loaded[-1], data)
        # new bytes under the name of copies that failed (refused before their bytes could be
        # kept, e.g. empty; or unreadable by the workers, e.g. damaged): the re-exported file
        # takes their place; refused again for the same reason, it is nothing new. A final
        # verdict takes no new document (:meth:`load` checked a new name before reading it):
        # checked again under the row lock before the commit, after the test for a file
        # refused again (nothing new, nothing refused: an unchanged file whose copy failed
        # before the verdict stays "ya cargado")
        failed = [doc_id for doc_id, _s, status in existing if status == DocumentStatus.error]

        def before_commit(new) -> None:
            self._supersede(failed, new)
            refusal = self._closed(submission, row_lock=True)
            if refusal is not None:
                raise refusal

        try:
            # sent under its path as found, not as stored: one too long is refused for it
            sent = from_file_system(item.name).replace("\\", "/").strip().lstrip("/")
            docs = add_files(self.session, submission, [(sent, data)], queue_name=Lane.batch,
                             before_commit=before_commit, on_unqueued=self._unqueued)
        except _RefusedAgain:
            self.session.rollback()
            return self._refused(submission, name, digest, again=True)
        except ServiceError as exc:
            if exc.code != "add_locked":
                raise
            self.session.rollback()
            return self._kept(submission, name, exc)
        if failed:
            self.known[submission.id][name] = [e for e in existing if e[0] not in failed]
        for doc in docs:
            self.known[submission.id][doc.name].append((doc.id, doc.sha256, doc.status))
            self.stats.stored_ids.add(doc.id)
            if doc.name != name:  # add_files expanded it (an archive)
                self.expanded[submission.id].add(name)
        if any(doc.status == "error" for doc in docs):
            return self._refused(submission, name, digest, again=False)
        return "stored"

    def _replace(self, submission, name: str, document_id: str, data: bytes) -> str:
        """The file at ``name`` changed: it replaces the document loaded from it, as a
        replacement through the API does (``documents.replace_document``: the old document
        stops counting, its row and decisions stay for the history). Refused at the door
        (``replacement_refused``) or under a final verdict (``replace_locked``), the document
        stays and the organisation's row says why; counted as an error."""
        from service.domain.documents import replace_document
        from service.domain.errors import ServiceError

        try:
            docs = replace_document(self.session, submission, document_id, name, data,
                                    queue_name=Lane.batch, on_unqueued=self._unqueued,
                                    from_archive=True)
        except ServiceError as exc:
            self.session.rollback()
            if exc.code not in ("replacement_refused", "replace_locked"):
                raise
            return self._kept(submission, name, exc)
        known = self.known[submission.id]
        known[name] = [e for e in known[name] if e[0] != document_id]
        for doc in docs:
            known[doc.name].append((doc.id, doc.sha256, doc.status))
            self.stats.stored_ids.add(doc.id)
        self.stats.replaced_in[submission.id] = self.stats.replaced_in.get(submission.id, 0) + 1
        self._note(submission, error_message("batch_replaced", name=name))
        return "replaced"

    def _kept(self, submission, name: str, exc) -> str:
        """A changed file that did not replace its document, or a new one not added under a
        final verdict: the row's line and the reason it is listed under with the failed
        files."""
        if exc.code == "add_locked":
            current = exc.params.get("current", "")
            line = error_message("batch_add_locked", name=name, current=current)
            reason = error_message("batch_add_locked_reason", current=current)
        elif exc.code == "replace_locked":
            current = exc.params.get("current", "")
            line = error_message("batch_replace_locked", name=name, current=current)
            reason = error_message("batch_replace_locked_reason", current=current)
        else:
            why = str(exc.params.get("reason", ""))
            line = error_message("batch_replacement_refused", name=name, reason=why)
            reason = error_message("batch_replacement_refused_reason", reason=why)
        self._note(submission, line)
        self.stats.kept.append((reason, f"{submission.organization.name}: {name}"))
        return "error"

    def _read_from(self, submission, archive: str) -> bool:
        """Whether a document of the submission, read or being read, came from ``archive``
        (its name; "" for the organisation's own archive, whose members' names it is not
        part of); a failed one does not count: an archive always unreadable brought nothing."""
        prefix = f"{archive}/" if archive else ""
        return any(status != DocumentStatus.error
                   for name, entries in self.known[submission.id].items()
                   if name.startswith(prefix) for _id, _sha, status in entries)

    def _refused(self, submission, name: str, sha: str | None, *, again: bool) -> str:
        """A file refused (or failed) at ``name``: ``error`` the first time its content is
        refused in this run, ``refused_copy`` for the same bytes at another path of the
        organisation, and with ``again`` (refused before, unchanged since) ``still_refused``."""
        content = sha or f"name:{name}"
        first = content not in self._refused_contents[submission.id]
        self._refused_contents[submission.id].add(content)
        self.stats.refused_as[(submission.id, name)] = content
        if not first:
            return "refused_copy"
        return "still_refused" if again else "error"

    def _note(self, submission, line: str) -> None:
        self.stats.row_notes.setdefault(submission.id, []).append(line)

    def _unqueued(self, document, exc: Exception) -> None:
        """Redis refused the document's job: it stays queued in the database, for the sweep."""
        log.debug("could not enqueue document %s: %r", document.id, exc)
        self.stats.unqueued += 1

    def _supersede(self, failed_ids: list[str], new_docs: list) -> None:
        """Before the new documents commit: raise _RefusedAgain when they are refused (no
        bytes kept) for a reason already recorded, else take the failed copies out
        (``removed_at``; the rows stay), in the same transaction."""
        from datetime import UTC, datetime

        from service.domain.models import Document

        old = [d for d in (self.session.get(Document, i) for i in failed_ids if i) if d]
        if not old:
            return
        codes = {d.error_code for d in old if d.sha256 is None}
        if all(d.sha256 is None and d.status == DocumentStatus.error and d.error_code in codes
               for d in new_docs):
            raise _RefusedAgain
        now = datetime.now(UTC)
        for d in old:
            d.removed_at = now
        for d in new_docs:  # what the reviewer is told replaced what (workflow.document_changes)
            d.replaces_id = old[-1].id

    def _error(self, submission, name: str, code: str, message: str) -> str:
        self.session.rollback()
        _record_error_document(self.session, submission, name, code, message)
        return "error"

    def mirror_removals(self, *, retire: bool) -> None:
        """After the whole run: each organisation's documents whose file is gone from its
        folder or archive (:meth:`find_missing`), under the organisation's lock. Said
        (``stats.missing``), or with ``retire`` retired through the one removal path
        (``documents.remove_document``, ``from_archive``): not under a final verdict
        (``workflow.VerdictLock.remove``), said on the row and listed with the failed files."""
        from service.domain.documents import remove_document
        from service.domain.errors import ServiceError

        for submission_id, source in list(self.sources.items()):
            if not self.find_missing(submission_id, source):
                continue
            submission = self.submission(source)  # its lock held, what it holds read again
            gone = self.find_missing(submission_id, source)
            if not gone:
                continue
            if not retire:
                self.stats.missing[submission_id] = [name for _id, name in gone]
                self._note(submission, error_message(
                    "batch_missing", n=len(gone), names=_quoted(name for _id, name in gone)))
                continue
            retired: list[str] = []
            for doc_id, name in gone:
                try:
                    remove_document(self.session, submission, doc_id, from_archive=True)
                except ServiceError as exc:
                    self.session.rollback()
                    if exc.code == "document_not_found":  # another run retired it meanwhile
                        continue
                    if exc.code != "remove_locked":
                        raise
                    self._retire_refused(submission, [g for g in gone if g[1] not in retired],
                                         exc)
                    break
                retired.append(name)
            if retired:
                self.stats.retired[submission_id] = retired
                self._note(submission, error_message("batch_retired", n=len(retired),
                                                     names=_quoted(retired)))
        self.close(requeue=True)

    def find_missing(self, submission_id: str, source: BatchSource) -> list[tuple[str, str]]:
        """(id, name) of the submission's documents, in force, whose file this run did not find
        (nor the archive it came from, e.g. an archive unreadable now), by ``source.removals``
        (:class:`BatchSource`)."""
        if source.removals == "none" or submission_id in self.unread:
            return []
        walked = self.walked[submission_id]
        folder = Path(source.key.partition(":")[2])
        gone = []
        for name, entries in sorted(self.known[submission_id].items()):
            parts = name.split("/")
            if any("/".join(parts[:k]) in walked for k in range(1, len(parts) + 1)):
                continue
            if source.removals == "top" and (folder / parts[0]).exists():
                continue
            gone.extend((doc_id, name) for doc_id, _sha, _status in entries if doc_id)
        return gone

    def _retire_refused(self, submission, gone: list[tuple[str, str]], exc) -> None:
        """Documents whose file is gone, not retired under a final verdict: the row's line and
        the reason they are listed under with the failed files."""
        current = exc.params.get("current", "")
        names = [name for _id, name in gone]
        self._note(submission, error_message("batch_retire_locked", n=len(names),
                                             names=_quoted(names), current=current))
        reason = error_message("batch_retire_locked_reason", current=current)
        self.stats.kept.extend((reason, f"{submission.organization.name}: {name}")
                               for name in names)


def load_batch(
    session,
    items: Iterable[BatchItem],
    *,
    on_item: Callable[[BatchItem, str, BatchStats], None] | None = None,
    retire_missing: bool = False,
) -> BatchStats:
    """Store and enqueue ``items``; skip what an earlier run stored; never stop on a bad file.

    A document already stored under the same name with the same sha256 is skipped; a file whose
    bytes changed since replaces the document loaded from that name
    (``documents.replace_document``; ``stats.replaced``), unless its new bytes are refused at
    the door or the submission has a final verdict: then the document stays, the reason is in
    ``stats.row_notes`` and ``stats.kept``, and the file counts as an error. One that failed
    (refused before its bytes could be kept, e.g. empty; or unreadable by the workers, e.g.
    damaged) and is then fixed (re-exported) takes the failed copy's place (that row marked
    removed, so it counts nowhere), and refused again for the same reason it is skipped; a file
    that cannot be read (permissions) is recorded once. A submission with a final verdict takes
    no new document (``workflow.VerdictLock.add``): neither a new file nor a failed one fixed
    (one refused again is still skipped); it is said like a replacement refused, and counts as
    an error, until an admin reopens the submission. The documents of each organisation
    stored by an earlier run and never finished are enqueued again (``stats.requeued``) while
    its lock is held, before the run moves on. ``on_item(item, outcome, stats)`` is called
    after each item with outcome ``stored``, ``replaced``, ``skipped``, ``error``,
    ``still_refused``, ``refused_copy`` or ``unassigned`` (the progress bar; tests inject
    interruptions here). A file refused (at the door, or by the workers) is reported once
    per run: unchanged since an earlier run refused it, it is ``still_refused`` (nothing
    recorded again); the same bytes at another path of the organisation in the same run are
    a ``refused_copy``, listed with the first (``stats.refused_as``).

    Once every item is loaded (not after an interruption), each organisation's documents in
    force whose file is no longer in its folder or archive are said (``stats.missing``, the
    row's ``avisos``) and keep counting; with ``retire_missing`` they are retired
    (``stats.retired``) through the one removal path (``documents.remove_document``), except
    under a final verdict (said, and listed with the failed files, until an admin reopens
    the submission). How a run tells a file gone: :attr:`BatchSource.removals`.
    """
    stats = BatchStats()
    loader = _Loader(session, stats)
    finished = False
    try:
        for item in items:
            stats.seen += 1
            if item.source is not None and item.source.bad_rut:
                stats.bad_ruts.setdefault(item.source.key, item.source)
            if item.source is None:
                stats.unassigned.append(item)
                outcome = "unassigned"
            else:
                outcome = loader.load(item)
            if outcome == "stored":
                stats.stored += 1
            elif outcome == "replaced":
                stats.replaced += 1
            elif outcome == "skipped":
                stats.skipped += 1
            elif outcome == "still_refused":
                stats.still_refused += 1
            elif outcome == "refused_copy":
                stats.refused_copies += 1
            else:
                stats.errors += 1
            if on_item is not None:
                on_item(item, outcome, stats)
        loader.mirror_removals(retire=retire_missing)
        finished = True
    finally:
        loader.close(requeue=finished)  # interrupted: the rerun (or the sweep) requeues
    return stats


def requeue_unfinished(session, submission_ids: Iterable[str], skip: set[str] = frozenset()
                       ) -> int:
    """Enqueue again the documents stored earlier whose job is no longer anywhere in rq.

    The database says what is unfinished (queued or processing); rq says whether a job for it
    is still waiting or running on a living worker, so nothing is enqueued twice.
    """
    from service.domain.dispatch import requeue_lost

    ids = list(submission_ids)
    if not ids:
        return 0
    return len(requeue_lost(session, submission_ids=ids, skip=skip))


def errors_by_reason(session, submission_ids: Iterable[str],
                     unassigned: Iterable[BatchItem] = (),
                     kept: Iterable[tuple[str, str]] = (),
                     refused_as: dict[tuple[str, str], str] | None = None,
                     ) -> dict[str, list[str]]:
    """Spanish reason -> ["Organisation: document name", ...] for every failed document, the
    files no organisation took (``unassigned``) and the changed files that did not replace
    their document (``kept``: ``BatchStats.kept``). The failed documents of one organisation
    with the same content (the same stored bytes, or the same bytes refused in this run:
    ``refused_as``, ``BatchStats.refused_as``) are one entry naming each path
    ("Organisation: copia.pdf, informe.pdf")."""
    from sqlalchemy import select

    from service.domain.models import Document, Organization, Submission

    refused_as = refused_as or {}
    ids = list(dict.fromkeys(submission_ids))
    grouped: dict[str, list[str]] = defaultdict(list)
    failed: dict[str, list[tuple[str, list[str]]]] = defaultdict(list)  # reason -> (org, names)
    same: dict[tuple, list[str]] = {}  # (reason, submission, content) -> its names
    for start in range(0, len(ids), 500):
        rows = session.execute(
            select(Document.error, Document.error_code, Document.name, Organization.name,
                   Document.submission_id, Document.sha256, Document.id)
            .join(Submission, Document.submission_id == Submission.id)
            .join(Organization, Submission.organization_id == Organization.id)
            .where(Document.submission_id.in_(ids[start : start + 500]),
                   Document.status == "error", Document.removed_at.is_(None))
            .order_by(Organization.name, Document.name)
        )
        for message, code, name, org, sub_id, sha, doc_id in rows:
            reason = message or error_message(code or "internal")
            content = sha or refused_as.get((sub_id, name)) or doc_id
            names = same.get((reason, sub_id, content))
            if names is None:
                names = same[(reason, sub_id, content)] = [name]
                failed[reason].append((org, names))
            else:
                names.append(name)
    for reason, entries in failed.items():
        grouped[reason] = [f"{org}: {', '.join(names)}" for org, names in entries]
    for item in unassigned:
        grouped[item.error or error_message("not_in_csv")].append(item.shown or item.name)
    for reason, where in kept:
        grouped[reason].append(where)
    return dict(sorted(grouped.items(), key=lambda kv: -len(kv[1])))
