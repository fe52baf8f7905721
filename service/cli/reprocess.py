"""``evidencia reprocess``: the current classifier over stored text, and the change report.

No file is read and no page is OCR'd again (``service.domain.reprocess``). The command runs the
classifier in this process (``--inline``) or through the batch queue, shows the progress, writes
the CSV of flipped cells and says what changed; a reviewer's decision is never touched, its
cell is flagged instead.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from service.cli.progress import Progress, bar, wait_for
from service.domain.errors import UsageError
from service.domain.messages import error_message
from service.domain.reprocess import (
    LEVEL_DOCUMENT,
    LEVEL_SUBMISSION,
    Flip,
    ReprocessResult,
    compute_flips,
    dry_run_results,
    enqueue_reclassify,
    flag_decided_flips,
    reclassify_inline,
    select_documents,
)

__all__ = ["run", "reprocess", "wait_reclassify", "write_report"]

#: Seconds between polls while the workers reclassify, once the first polls (every
#: FIRST_POLL_SECONDS, then half as long again each time) found them still at work. Between
#: polls the command waits on the queue (``Dispatcher.wait``), which wakes it when a job ends:
#: the end of a small reprocess is seen as it happens, not at the next poll.
POLL_SECONDS = 0.5
FIRST_POLL_SECONDS = 0.02


def wait_reclassify(tickets: list, show: bool = True) -> Counter:
    """Poll the queue until every reclassify job ended; add up what they report."""
    from service.domain.dispatch import get_dispatcher

    dispatcher = get_dispatcher()
    pending = {t.id: t for t in tickets}
    total = sum(t.size for t in tickets)
    counts: Counter = Counter()

    def poll() -> Progress:
        for ticket_id, value in dispatcher.finished(list(pending.values())).items():
            ticket = pending.pop(ticket_id)
            if isinstance(value, dict):
                counts.update(value)
            else:
                counts["failed"] += ticket.size
        return Progress(total - sum(t.size for t in pending.values()), total)

    def stalled() -> str | None:
        """Workers of older code leave the jobs for one of this code: said, with theirs."""
        left = dispatcher.left_for_newer(list(pending.values()))
        if not left:
            return None
        return error_message("reclassify_left_for_newer", versions=", ".join(
            f"clasificador {classifier}, lector {extractor}"
            for classifier, extractor in sorted(left)))

    wait_for(poll, desc="Reclasificando", show=show, interval=POLL_SECONDS,
             first_interval=FIRST_POLL_SECONDS,
             no_workers="No hay workers activos: inicie uno con «evidencia worker» o use "
                        "--inline.", stalled=stalled,
             pause=lambda seconds: dispatcher.wait(list(pending.values()), seconds))
    return counts


def reprocess(
    session: Session,
    document_ids: list[str],
    *,
    dry_run: bool = False,
    inline: bool = True,
    show: bool = False,
    on_enqueued=None,
) -> ReprocessResult:
    """Reclassify ``document_ids`` (inline or through the batch queue) and find the flips.

    ``on_enqueued(jobs)`` runs after the jobs are queued and before waiting for them (tests run
    an in-process worker there).
    """
    from service.domain.pipeline import current_version

    version = current_version()
    result = ReprocessResult(version=version, documents=len(document_ids), dry_run=dry_run)
    if dry_run or inline:
        shown = bar(len(document_ids), "Simulando" if dry_run else "Reclasificando", show=show)
        try:
            if dry_run:
                new_results, counts = dry_run_results(session, document_ids, version,
                                                      shown.update)
            else:
                counts, new_results = reclassify_inline(document_ids, shown.update), None
        finally:
            shown.close()
    else:
        before = _showing(session, document_ids, version)
        tickets = enqueue_reclassify(document_ids, version)
        if on_enqueued is not None:
            on_enqueued(tickets)
        counts, new_results = wait_reclassify(tickets, show), None
        session.commit()  # end the read snapshot: see what the workers stored
        counts = _as_stored(session, document_ids, version, before, counts, result)
    result.reclassified = counts["reclassified"]
    result.up_to_date = counts["skipped"]
    result.failed = counts["failed"]
    session.commit()  # end the read snapshot: see what the workers stored
    if result.other_version:  # only what the matrices show under this version changed
        document_ids = sorted(_showing(session, document_ids, version))
    result.flips = compute_flips(session, document_ids, version, new_results)
    if not dry_run:
        result.flags_created = flag_decided_flips(session, result.flips)
    return result


def _showing(session: Session, document_ids: list[str], version: str) -> set[str]:
    """The documents whose matrix shows ``version`` (their newest classification)."""
    from service.domain.results import classified_documents

    return {d for start in range(0, len(document_ids), 500)
            for d in classified_documents(session, document_ids[start : start + 500], version)}


def _as_stored(session: Session, document_ids: list[str], version: str, before: set[str],
               reported: Counter, result: ReprocessResult) -> Counter:
    """The counts of a queued run read from what is stored, not from what the workers said:
    a worker not restarted since the classifier changed runs the old version, finds the
    documents "up to date" with it and reclassifies none (``result.other_version``, and the
    versions they show instead in ``result.worker_versions``)."""
    from service.domain.matrix import current_classification
    from service.domain.models import Document

    after = _showing(session, document_ids, version)
    counts = Counter(reclassified=len(after - before), skipped=len(before),
                     failed=reported["failed"])
    behind = [d for d in document_ids if d not in after]
    result.other_version = max(0, len(behind) - reported["failed"])
    if result.other_version:
        shown = (current_classification(session.get(Document, d)) for d in behind[:50])
        result.worker_versions = frozenset(c.classifier_version for c in shown if c)
    return counts


def write_report(path: str | Path, flips: Iterable[Flip]) -> Path:
    from service.outputs.exports import write_flip_report

    return write_flip_report(path, flips)


def _print_summary(result: ReprocessResult, report: Path | None, out=None) -> None:
    out = out or sys.stdout
    flips = result.flips or []
    verb = "se reclasificarían" if result.dry_run else "reclasificados"
    out.write(
        f"Versión del clasificador: {result.version}. {result.documents} documento(s) con texto "
        f"guardado: {result.reclassified} {verb}, {result.up_to_date} ya estaban en esta versión"
        + (f", {result.failed} con error" if result.failed else "") + ".\n"
    )
    if result.other_version:
        out.write(error_message("workers_other_version", n=result.other_version,
                                versions=", ".join(sorted(result.worker_versions))) + "\n")
    docs = [f for f in flips if f.level == LEVEL_DOCUMENT]
    subs = [f for f in flips if f.level == LEVEL_SUBMISSION]
    if not flips:
        out.write("Ninguna celda cambió.\n")
    else:
        before = ", ".join(sorted({f.old_version for f in flips}))
        out.write(f"Celdas que cambiaron desde la versión anterior ({before}): {len(docs)} de "
                  f"documento, {len(subs)} de postulación.\n")
        if not result.reclassified:
            out.write("Esta ejecución no reclasificó ningún documento: son los cambios que ya "
                      "aplicó una anterior.\n")
        for c in sorted({f.commitment for f in flips}):
            gained = sum(1 for f in subs if f.commitment == c and f.new_supported)
            lost = sum(1 for f in subs if f.commitment == c and not f.new_supported)
            dg = sum(1 for f in docs if f.commitment == c and f.new_supported)
            dl = sum(1 for f in docs if f.commitment == c and not f.new_supported)
            out.write(f"  {c}: postulaciones +{gained} −{lost}; documentos +{dg} −{dl}\n")
        flagged = [f for f in subs if f.flagged]
        if flagged:
            what = "se marcarían" if result.dry_run else "marcadas"
            out.write(
                f"{len(flagged)} celda(s) con decisión de un revisor cambiaron: {what} para "
                "revisión; las decisiones no se modifican.\n"
            )
            for f in flagged[:10]:
                arrow = "sí → no" if f.old_supported else "no → sí"
                out.write(f"  - {f.organization} {f.commitment} ({f.decision}): {arrow}\n")
    if result.dry_run:  # the report is written all the same: say so, not "nothing saved"
        out.write("Simulación (--dry-run): no se reclasificó ni se marcó nada en la base de "
                  "datos" + (f"; el informe de cambios se escribió en {report}" if report
                             else "") + ".\n")
    elif report is not None:
        out.write(f"Informe de cambios: {report}\n")


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(error_message("bad_date", text=text)) from None


def run(args) -> int:
    from service.db import SessionLocal
    from service.outputs.exports import given_report_path, report_path
    from service.settings import get_settings

    since = _parse_date(args.since) if args.since else None
    given = given_report_path(args.report, "cambios-reproceso") if args.report else None
    with SessionLocal() as session:
        ids = select_documents(session, all_documents=args.all, orgs=args.org, since=since)
        if not ids:
            print(error_message("no_documents_in_scope"), file=sys.stderr)
            return 0
        result = reprocess(session, ids, dry_run=args.dry_run, inline=args.inline, show=True)
    report = report_path(given, get_settings().data_dir, "cambios-reproceso")
    write_report(report, result.flips or [])
    _print_summary(result, report)
    return 1 if result.failed or result.other_version else 0
