"""``evidencia batch``: load past archives as one submission per organisation, then report.

The loading itself is ``service.domain.batch`` (resumable: a rerun continues where a stopped
one left off); this command shows its progress, optionally waits for the workers, writes the
summary CSV (the matrix of each submission) and lists the failed files by reason. A file
re-exported since an earlier run replaces its document (counted, and named in the
organisation's ``avisos``); one whose new bytes could not replace it is listed with the failed
files and named there too. A document whose file is no longer in the folder is counted
(``ya_no_estan``) and named in ``avisos``, and keeps counting; ``--retire-missing`` retires it
(``retirados``), except under a final verdict (listed with the failed files). What it noticed
and loaded anyway is said too: a folder or archive
whose name holds a RUT with a wrong check digit (a line, and the organisation's ``avisos`` in
the summary), an organisation's folder or ZIP with no file to load, and with ``--org-from csv``
the rows no file went to (a line each, their count, and a row each in the summary). An
organisation whose submission could not be made (an unexpected error, its traceback in the
log) has its files listed with the failed files, a line, and a row in the summary.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from service.cli.grouped import print_by_reason
from service.cli.progress import Progress, bar, wait_for
from service.domain.batch import (
    BatchItem,
    BatchStats,
    CsvRow,
    empty_warning,
    errors_by_reason,
    estimate_total,
    iter_items,
    load_batch,
    org_csv_map,
    read_org_csv_rows,
    rut_warning,
    unmade_warning,
    unmatched_rows,
)
from service.domain.errors import UsageError
from service.domain.messages import error_message

__all__ = ["run", "wait_for_workers", "summarize"]


def _status_counts(session, submission_ids: list[str]) -> Counter:
    from sqlalchemy import func, select

    from service.domain.models import Document

    counts: Counter = Counter()
    for start in range(0, len(submission_ids), 500):
        rows = session.execute(
            select(Document.status, func.count())
            .where(Document.submission_id.in_(submission_ids[start : start + 500]),
                   Document.removed_at.is_(None))
            .group_by(Document.status)
        )
        for status, n in rows:
            counts[status] += n
    return counts


def wait_for_workers(session, submission_ids: list[str], *, show: bool = True,
                     interval: float = 1.0, timeout: float | None = None) -> Counter:
    """Poll the database until every document of the submissions is done or failed."""
    ids = list(submission_ids)
    counts: Counter = Counter()

    def poll() -> Progress:
        session.rollback()  # a fresh snapshot: see what the workers committed since
        counts.clear()
        counts.update(_status_counts(session, ids))
        return Progress(counts["done"] + counts["error"], sum(counts.values()), {
            "listos": counts["done"], "errores": counts["error"],
            "en_proceso": counts["processing"], "en_cola": counts["queued"]})

    wait_for(poll, desc="Procesando", show=show, interval=interval, timeout=timeout,
             no_workers="No hay workers activos: inicie uno o más con «evidencia worker».")
    return counts


def summarize(session, submission_ids) -> list:
    """The matrix of each submission, by organisation (the summary CSV reads them)."""
    from service.domain.matrix import load_matrices

    matrices = load_matrices(session, submission_ids).values()
    return sorted(matrices, key=lambda m: (m.organization.casefold(), m.id))


def _print_errors(grouped: dict[str, list[str]], out=None) -> None:
    out = out or sys.stdout
    if not grouped:
        out.write("Sin errores.\n")
        return
    print_by_reason(grouped, "Errores por motivo ({total} archivo(s)):", out)


@dataclass
class _Inputs:
    items: Iterator[BatchItem]  # lazy: the CSV paths matched are known once it is spent
    csv_rows: list[CsvRow] = field(default_factory=list)
    matched: set[str] = field(default_factory=set)  # CSV paths a file went to, once spent
    empty: list = field(default_factory=list)  # organisations with no file, once spent


def _inputs(args) -> _Inputs:
    """The items to load, after checking the arguments (UsageError, exit code 2)."""
    csv_map, rows, matched, empty = None, [], set(), []
    if args.csv_file and args.org_from != "csv":  # it would be loaded as a document instead
        raise UsageError(error_message("csv_without_csv_mode", org_from=args.org_from))
    if args.org_from == "csv":
        if not args.csv_file:
            raise UsageError(error_message("csv_needed"))
        rows = read_org_csv_rows(args.csv_file)
        csv_map = org_csv_map(rows)
    for raw in args.paths:
        if not Path(raw).exists():
            raise UsageError(error_message("no_such_path", path=raw))
    items = iter_items(args.paths, args.org_from, csv_map,
                       args.csv_file if args.org_from == "csv" else None, matched, empty)
    return _Inputs(items, rows, matched, empty)


def _print_notices(warnings: list[str], unmatched: list[str], out=None) -> None:
    """What the run noticed and loaded anyway, one Spanish line each, before the errors."""
    out = out or sys.stdout
    for line in warnings:
        out.write(line + "\n")
    if unmatched:
        out.write(error_message("batch_csv_rows_unmatched", n=len(unmatched)) + ":\n")
        for line in unmatched:
            out.write(f"  - {line}\n")


def _load(session, items, paths: list[str], retire_missing: bool = False) -> BatchStats:
    shown = bar(estimate_total(paths), "Cargando")

    def progress(_item: BatchItem, _outcome: str, stats: BatchStats) -> None:
        if shown.n + 1 > shown.total:
            shown.total = shown.n + 1
        shown.set_postfix(nuevos=stats.stored, reemplazados=stats.replaced,
                          ya_cargados=stats.skipped,
                          errores=stats.errors + stats.still_refused + stats.refused_copies,
                          refresh=False)
        shown.update()

    try:
        stats = load_batch(session, items, on_item=progress, retire_missing=retire_missing)
        shown.total = shown.n  # the estimate counted files that are no documents (the CSV)
        return stats
    finally:
        shown.close()


def _write_summary(session, target: Path | None, sub_ids: list[str],
                   notes: dict[str, list[str]] | None = None,
                   unloaded: Iterable[tuple[str, str | None, str]] = (),
                   stats: BatchStats | None = None) -> None:
    from service.outputs.exports import report_path, write_batch_summary
    from service.settings import get_settings

    matrices = summarize(session, sub_ids)
    target = report_path(target, get_settings().data_dir, "resumen-lote")
    write_batch_summary(target, matrices, notes, unloaded, stats and stats.replaced_in,
                        stats and {k: len(v) for k, v in stats.missing.items()},
                        stats and {k: len(v) for k, v in stats.retired.items()})
    pending = sum(m.n_counted_pending for m in matrices)  # as the summary's pendientes
    print(f"Resumen: {target}" + (
        f" ({pending} documento(s) aún en proceso; use --wait para esperarlos)"
        if pending else ""))


def run(args) -> int:
    from service.db import SessionLocal
    from service.outputs.exports import given_report_path

    inputs = _inputs(args)
    target = given_report_path(args.summary, "resumen-lote") if args.summary else None
    with SessionLocal() as session:
        stats = _load(session, inputs.items, args.paths, args.retire_missing)
        if not stats.seen:  # a wrong folder, most likely: not a successful load
            raise UsageError(error_message("batch_no_files", paths=", ".join(args.paths)))
        sub_ids = list(stats.submission_ids.values())
        unmatched = unmatched_rows(inputs.csv_rows, inputs.matched)
        empty = [(source, empty_warning(source)) for source in inputs.empty]
        # organisations no submission could be made for: their files are among the failed
        unmade = [(source, unmade_warning(source, reason, n))
                  for source, (reason, n) in stats.unmade.items()
                  if source.key not in stats.submission_ids]
        print(
            f"{len(sub_ids)} organización(es), {stats.seen} archivo(s): {stats.stored} nuevo(s), "
            f"{stats.replaced} reemplazado(s), {stats.skipped} ya cargado(s), "
            f"{stats.requeued} reencolado(s), "
            f"{stats.errors} con error al cargar"
            + (f"; {error_message('batch_still_refused', n=stats.still_refused)}"
               if stats.still_refused else "")
            + (f"; {error_message('batch_refused_copies', n=stats.refused_copies)}"
               if stats.refused_copies else "")
            + (f"; {error_message('batch_csv_rows_unmatched', n=len(unmatched))}"
               if unmatched else "")
            + (f"; {error_message('batch_empty_sources', n=len(empty))}" if empty else "")
            + (f"; {error_message('batch_missing_total', n=stats.n_missing)}"
               if stats.n_missing else "")
            + (f"; {error_message('batch_retired_total', n=stats.n_retired)}"
               if stats.n_retired else "")
            + ".",
            file=sys.stderr,
        )
        if stats.unqueued:
            print(error_message("batch_unqueued", n=stats.unqueued), file=sys.stderr)
        notes: dict[str, list[str]] = {}
        for key, source in stats.bad_ruts.items():
            if key in stats.submission_ids:
                notes.setdefault(stats.submission_ids[key], []).append(rut_warning(source))
        # files replaced, or changed and kept; documents whose file is gone, or retired
        for sub_id, lines in stats.row_notes.items():
            notes.setdefault(sub_id, []).extend(lines)
        _print_notices([line for lines in notes.values() for line in lines]
                       + [line for _source, line in empty + unmade],
                       [line for _row, line in unmatched])
        if args.wait and sub_ids:
            wait_for_workers(session, sub_ids)
        _write_summary(session, target, sub_ids, notes, [
            (row.source.organization, row.source.rut, line) for row, line in unmatched
        ] + [(source.organization, source.rut, line) for source, line in empty + unmade],
            stats)
        grouped = errors_by_reason(session, sub_ids, stats.unassigned, stats.kept,
                                   stats.refused_as)
        _print_errors(grouped)
        return 1 if grouped else 0
