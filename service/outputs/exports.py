"""Spreadsheet outputs: the evidence matrix as CSV and XLSX, the batch summary, the flip report.

The matrix files have Spanish headers and one row per commitment; times are ISO 8601 with
Chile's offset (``service.domain.clock``). The XLSX adds a sheet with every evidence passage
and, for reviewers, one with the decision history. Every cell that starts
like a spreadsheet formula is prefixed with an apostrophe (CSV injection): organisation and file
names come from users.
"""

from __future__ import annotations

import csv
import errno
import io
import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from classifiers.result import COMMITMENT_IDS
from extractors.files import atomic_file
from service.domain import clock, messages
from service.domain.matrix import CommitmentRow, SubmissionMatrix
from service.domain.rut import format_rut
from service.domain.text import clean, fold

__all__ = [
    "MATRIX_HEADERS",
    "matrix_rows",
    "matrix_csv",
    "CsvDialect",
    "CSV_ENCODING",
    "matrix_xlsx",
    "write_batch_summary",
    "write_flip_report",
    "new_report_path",
    "given_report_path",
    "report_path",
    "download_name",
]

MATRIX_HEADERS = [
    "Compromiso",
    "Descripción",
    "Estado",
    "Detectado",
    "Confianza",
    "Documento",
    "Página",
    "Extracto",
    "Decisión",
    "Revisor",
    "Fecha decisión",
    "Comentario",
    "Considerados",  # passages of documents that do not support it (CommitmentRow.considered)
]
#: "Uso": evidence, or considered and not enough (a document that does not support the
#: commitment; ``matrix.Passage.role``)
EVIDENCE_HEADERS = ["Compromiso", "Documento", "Página", "Extracto", "Puntaje", "Patrones", "Uso"]
HISTORY_HEADERS = ["Fecha", "Revisor", "Compromiso", "Decisión", "Documento", "Página",
                   "Extracto", "Comentario", "Versión del clasificador"]
SUMMARY_HEADERS = ["organizacion", "rut", "postulacion", *COMMITMENT_IDS,
                   "documentos", "listos", "pendientes", "errores", "reemplazados",
                   "ya_no_estan", "retirados", "avisos"]
FLIP_HEADERS = ["nivel", "organizacion", "rut", "postulacion", "documento_id", "documento",
                "compromiso", "version_anterior", "version_nueva", "antes", "despues",
                "decision_revisor", "marcado_para_revision"]


def download_name(prefix: str, m: SubmissionMatrix, extension: str) -> str:
    """The file name a download is saved under: the organisation, then the submission, so a
    reviewer who exports several finds each by name ("matriz-fundacion-nandu-63fbe89c.csv"),
    in ASCII (accents folded), safe in any header and on any disk."""
    slug = re.sub(r"[^a-z0-9]+", "-", fold(m.organization or "")).strip("-")[:60].strip("-")
    return f"{prefix}-{slug + '-' if slug else ''}{m.id[:8]}.{extension}"


def _safe(value):
    """A cell no spreadsheet runs as a formula, and no stored text can break: control
    characters (kept in rows written before they were cleaned at the door) are dropped."""
    if not isinstance(value, str):
        return value
    value = clean(value)
    if value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _safe_row(values: Iterable) -> list:
    return [_safe(v) for v in values]


def _matrix_row(m: SubmissionMatrix, c: CommitmentRow, for_reviewer: bool = True) -> list:
    """For an applicant (``for_reviewer=False``) without the reviewer's name and with the
    comment of the decision in force only, as on their page."""
    decision = c.decision
    shown = c.shown_passage
    document = ""
    if shown is not None:
        document = shown.document or m.document_name(shown.document_id)
    return [
        c.id,
        c.label,
        c.status.label,
        messages.yes_no(c.supported),
        round(c.confidence, 3),
        document,
        (shown.page if shown else None) or "",
        shown.text if shown else "",
        decision.action_label if decision else "",
        (decision.reviewer if decision and for_reviewer else None) or "",
        (clock.iso(decision.created_at) if decision else None) or "",
        # every comment, saved alone or with a decision; an applicant the decision's
        c.comment_text if for_reviewer else ((decision.comment if decision else None) or ""),
        c.considered_note,
    ]


def matrix_rows(m: SubmissionMatrix, *, for_reviewer: bool = True) -> list[list]:
    return [_safe_row(_matrix_row(m, c, for_reviewer)) for c in m.commitments]


class CsvDialect(csv.excel):
    """The one dialect of every CSV the product writes for people (the matrix, the batch
    summary, the reprocess change report): ``;`` separators, and the files are UTF-8 with a BOM
    (:data:`CSV_ENCODING`), what Excel in a Spanish locale opens correctly (with ``,`` and no
    BOM it puts each row in one cell and garbles the accents)."""

    delimiter = ";"


#: The encoding of those files: UTF-8 with its BOM.
CSV_ENCODING = "utf-8-sig"


def _csv_value(value):
    """A cell as the CSV spells it: a fraction with a decimal comma ("0,853"), as Excel in a
    Spanish locale reads numbers (there "0.853" is 853, the dot a thousands separator)."""
    if isinstance(value, float):
        return repr(value).replace(".", ",")
    return value


def _csv_rows(fh, headers: Sequence[str], rows: Iterable[Iterable]) -> None:
    writer = csv.writer(fh, dialect=CsvDialect)
    writer.writerow(headers)
    writer.writerows([_csv_value(v) for v in _safe_row(row)] for row in rows)


def matrix_csv(m: SubmissionMatrix, *, for_reviewer: bool = True) -> bytes:
    buf = io.StringIO()
    _csv_rows(buf, MATRIX_HEADERS, matrix_rows(m, for_reviewer=for_reviewer))
    return buf.getvalue().encode(CSV_ENCODING)


def matrix_xlsx(m: SubmissionMatrix, *, with_history: bool = False) -> bytes:
    """``with_history``: a reviewer's copy, with the decision history, who decided and every
    comment (an applicant's has the comment of each decision in force only)."""
    from openpyxl import Workbook

    wb = Workbook()
    _matrix_sheet(wb.active, m, for_reviewer=with_history)
    _evidence_sheet(wb.create_sheet("Evidencias"), m)
    if with_history:
        _history_sheet(wb.create_sheet("Historial"), m)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _matrix_sheet(ws, m: SubmissionMatrix, *, for_reviewer: bool) -> None:
    from openpyxl.styles import Alignment, Font

    ws.title = "Matriz"
    ws.append(_safe_row([f"Organización: {m.organization}", f"RUT: {format_rut(m.rut)}"]))
    ws.append(MATRIX_HEADERS)
    for row in matrix_rows(m, for_reviewer=for_reviewer):
        ws.append(row)
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for col, width in zip("ABCDEFGHIJKLM", (11, 40, 24, 10, 10, 30, 8, 80, 22, 16, 22, 40, 50),
                          strict=True):
        ws.column_dimensions[col].width = width
    for row in ws.iter_rows(min_row=3):
        row[7].alignment = Alignment(wrap_text=True, vertical="top")


def _evidence_sheet(ws, m: SubmissionMatrix) -> None:
    ws.append(EVIDENCE_HEADERS)
    for c in m.commitments:
        for cell in c.cells:
            for p in cell.passages:
                ws.append(_safe_row((c.id, p.document, p.page, p.text, round(p.score, 3),
                                     ", ".join(p.pattern_ids), p.role)))


def _history_sheet(ws, m: SubmissionMatrix) -> None:
    ws.append(HISTORY_HEADERS)
    for d in m.history:
        ws.append(_safe_row((
            clock.iso(d.created_at), d.reviewer, d.commitment,
            d.action_label, m.decision_documents(d), d.page, d.excerpt, d.comment,
            d.classifier_version,
        )))


def new_report_path(folder: Path, prefix: str, now: datetime | None = None) -> Path:
    """``<folder>/<prefix>-<UTC stamp>.csv``, or ``…-2.csv``, ``…-3.csv`` when a report of the
    same second is there: two commands in one second (a dry run, then the run) must not write
    over each other's report. The name is reserved by creating the file: call it only when the
    report is about to be written (``report_path``)."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    folder.mkdir(parents=True, exist_ok=True)
    for n in itertools.count(1):
        path = folder / (f"{prefix}-{stamp}.csv" if n == 1 else f"{prefix}-{stamp}-{n}.csv")
        try:
            path.open("x").close()
        except FileExistsError:
            continue
        return path
    raise AssertionError("unreachable")


def given_report_path(given: str | Path, prefix: str) -> Path:
    """Where a report named on the command line (``--summary``, ``--report``) goes, checked
    before the work starts (a long batch must not end unable to write it) without leaving
    anything behind (an interrupted or failed run must not leave an empty CSV): a folder is
    probed with a temporary file removed at once, and its report named when it is written
    (``report_path``); a file is opened for appending if it exists, else the nearest folder
    that exists is probed (the missing ones are made when the report is written).
    UsageError, in Spanish, when it cannot be written."""
    from service.domain.errors import UsageError

    path = Path(given)
    try:
        if path.is_dir():
            _probe(path)
        elif path.exists():
            path.open("a").close()  # an existing file: nothing is created or changed
        else:
            _probe(next(p for p in path.parents if p.exists()))
    except OSError as exc:
        raise UsageError(messages.error_message(
            "report_not_writable", path=given, reason=messages.os_reason(exc))) from None
    return path


def _probe(folder: Path) -> None:
    """Raise OSError unless a file can be created in ``folder``: the file is made and removed,
    a real write rather than a permission bits check (ACLs, read-only mounts, NFS)."""
    if not folder.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "Not a directory", str(folder))
    with atomic_file(folder):
        pass  # never committed: removed on leaving


def report_path(given: Path | None, default_folder: Path, prefix: str) -> Path:
    """The file a report is written to, chosen when it is written: the file named on the
    command line, else a new ``<prefix>-<stamp>.csv`` in the folder named, or in
    ``default_folder``."""
    if given is not None and not given.is_dir():
        return given
    return new_report_path(given or default_folder, prefix)


def _write_csv(path: str | Path, headers: Sequence[str], rows: Iterable[Iterable]) -> Path:
    """Write the report; on any failure (a full disk, an interruption) the file is removed,
    never left empty or half written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("w", newline="", encoding=CSV_ENCODING) as fh:
            _csv_rows(fh, headers, rows)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def write_batch_summary(path: str | Path, matrices: Iterable[SubmissionMatrix],
                        notes: Mapping[str, Iterable[str]] | None = None,
                        unloaded: Iterable[tuple[str, str | None, str]] = (),
                        replaced: Mapping[str, int] | None = None,
                        missing: Mapping[str, int] | None = None,
                        retired: Mapping[str, int] | None = None) -> Path:
    """One row per submission: which commitments its documents support ("sí", "no", or
    "pendiente" while documents are still being read), documents, finished, pending and
    failed, by organisation. Every count is of the documents the matrix counts (the same
    bytes sent twice are one document), so listos + pendientes + errores = documentos.
    ``notes`` (submission id -> Spanish lines) fill ``avisos``: what the run noticed about
    the organisation (a RUT with a wrong check digit in a folder name, a file replaced by its
    re-exported version, one whose new version could not replace it). ``replaced``
    (submission id -> count) fills ``reemplazados``: the documents this run replaced;
    ``missing`` fills ``ya_no_estan``: its documents whose file is no longer in the folder,
    still counting (named in ``avisos``); ``retired`` fills ``retirados``: those this run
    retired (``evidencia batch --retire-missing``), no longer counted.

    ``unloaded`` (organisation, RUT, Spanish line): what a run named and loaded nothing for (a
    CSV row no file went to, a folder or ZIP with no file), after the organisations, one row
    each: no ``postulacion`` (what a reader filters them by), no commitment judged, no
    document, the line in ``avisos``."""
    ordered = sorted(matrices, key=lambda m: (m.organization.casefold(), m.id))
    notes, replaced, missing, retired = notes or {}, replaced or {}, missing or {}, retired or {}
    return _write_csv(path, SUMMARY_HEADERS, itertools.chain((
        [m.organization, m.rut or "", m.id,
         *(messages.found_word(c.supported, m.n_counted_pending > 0) for c in m.commitments),
         len(m.counted), m.n_done, m.n_counted_pending, m.n_errors, replaced.get(m.id, 0),
         missing.get(m.id, 0), retired.get(m.id, 0), " ".join(notes.get(m.id, ()))]
        for m in ordered
    ), (
        [organization, rut or "", "", *("" for _ in COMMITMENT_IDS), 0, 0, 0, 0, 0, 0, 0, line]
        for organization, rut, line in unloaded
    )))


def write_flip_report(path: str | Path, flips: Iterable) -> Path:
    """Every cell whose detection changed between two classifier versions (``Flip`` rows)."""
    return _write_csv(path, FLIP_HEADERS, (
        [f.level, f.organization, f.rut or "", f.submission_id, f.document_id or "",
         f.document or "", f.commitment, f.old_version, f.new_version,
         messages.yes_no(f.old_supported), messages.yes_no(f.new_supported),
         f.decision or "", messages.yes_no(f.flagged)]
        for f in flips
    ))
