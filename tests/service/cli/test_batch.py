"""`evidencia batch` (``service.cli.batch`` over ``service.domain.batch``): folders and nested
ZIPs become one submission per organisation, stored, queued on the batch queue, processed by
real workers (in-process), resumable after a stop."""

from __future__ import annotations

from argparse import Namespace
from collections import Counter

import pytest
from sqlalchemy import func, select

from tests.documents import (
    ACTA,
    COMITE,
    FERIA,
    PLAN,
    POLITICA,
    RUT_SOL,
    one_page_pdf,
    write_tree,
)
from tests.service.cli.reports import report_rows


def _archive_tree() -> dict:
    """Three organisations: a folder (RUT in its name), a top-level ZIP, and loose files."""
    return {
        f"Fundación Sol {RUT_SOL}": {
            "acta.txt": ACTA,
            "2023": {"plan.pdf": one_page_pdf(PLAN)},
            "anexos.zip": {"politica.txt": POLITICA, "interno.zip": {"feria.txt": FERIA}},
        },
        "Cooperativa Andina.zip": {
            "docs/comite.pdf": one_page_pdf(COMITE),
            "anidado.zip": {"otro/acta.txt": ACTA.replace("Santiago", "Valparaíso")},
        },
        "carta.txt": PLAN.replace("2023", "2024"),
    }


def _load(paths, org_from="folder", csv_map=None, on_item=None):
    from service.db import SessionLocal
    from service.domain.batch import iter_items, load_batch

    s = SessionLocal()
    try:
        return load_batch(s, iter_items(paths, org_from, csv_map), on_item=on_item)
    finally:
        s.close()


def test_nested_archive_becomes_one_submission_per_organisation(
    service_env, session, tmp_path, run_worker_burst
):
    from evidencia_queue.dispatch import get_queue

    from service.domain.models import Document, Extraction, Submission

    root = write_tree(tmp_path / "archivo", _archive_tree())
    stats = _load([root])
    assert stats.stored == 7 and stats.errors == 0 and stats.skipped == 0
    assert get_queue("batch").count == 7 and get_queue("interactive").count == 0

    subs = {s.organization.name: s for s in session.scalars(select(Submission))}
    assert set(subs) == {"Fundación Sol", "Cooperativa Andina", "archivo"}
    assert subs["Fundación Sol"].organization.rut == "76543210-3"
    assert all(s.source == "batch" and s.source_key for s in subs.values())
    names = {org: sorted(d.name for d in s.documents) for org, s in subs.items()}
    assert names == {
        "Fundación Sol": [
            "2023/plan.pdf", "acta.txt", "anexos.zip/interno.zip/feria.txt",
            "anexos.zip/politica.txt",
        ],
        "Cooperativa Andina": [
            "Cooperativa Andina.zip/anidado.zip/otro/acta.txt",
            "Cooperativa Andina.zip/docs/comite.pdf",
        ],
        "archivo": ["carta.txt"],
    }
    assert {d.queue_name for d in session.scalars(select(Document))} == {"batch"}

    run_worker_burst()
    session.expire_all()
    statuses = Counter(session.scalars(select(Document.status)))
    assert statuses == {"done": 7}
    assert session.scalar(select(func.count(Extraction.id))) == 7


def test_zip_given_as_path_splits_by_top_folder(service_env, session, tmp_path):
    from service.domain.models import Submission

    root = write_tree(tmp_path, {"2019.zip": {
        "Fundación Sol/acta.txt": ACTA,
        "Fundación Sol/plan.txt": PLAN,
        "ONG Puentes.zip": {"politica.txt": POLITICA},
        "indice.txt": "Índice del archivo 2019.",
    }})
    _load([root / "2019.zip"])
    names = {s.organization.name: sorted(d.name for d in s.documents)
             for s in session.scalars(select(Submission))}
    assert names == {
        "Fundación Sol": ["acta.txt", "plan.txt"],
        "ONG Puentes": ["ONG Puentes.zip/politica.txt"],
        "2019": ["indice.txt"],
    }


def test_a_zip_members_unsafe_path_names_no_organisation(service_env, session, tmp_path):
    """QA 2026-12-08: a ZIP given as PATH whose members include "../informe.txt" or
    "/respaldo/acta.txt" (refused as unsafe, rightly) made organisations named ".." and "/",
    each with a submission holding that one failed file. The refused member is now a failed
    file of the ZIP's own organisation."""
    from service.domain.models import Document, Organization, Submission

    root = write_tree(tmp_path, {"2019.zip": {
        "Fundación Sol/acta.txt": ACTA,
        "../informe.txt": PLAN,
        "/respaldo/acta.txt": ACTA,
        "indice.txt": "Índice del archivo 2019.",
    }})
    stats = _load([root / "2019.zip"])
    assert sorted(session.scalars(select(Organization.name))) == ["2019", "Fundación Sol"]
    names = {s.organization.name: sorted((d.name, d.status) for d in s.documents)
             for s in session.scalars(select(Submission))}
    assert names["Fundación Sol"] == [("acta.txt", "queued")]
    # refused members under the name an upload stores them by (submissions.stored_name)
    assert names["2019"] == [("indice.txt", "queued"), ("informe.txt", "error"),
                             ("respaldo/acta.txt", "error")]
    assert stats.errors == 2
    codes = set(session.scalars(select(Document.error_code).where(Document.status == "error")))
    assert codes == {"unsafe_archive"}


def test_csv_maps_paths_to_organisation_and_rut(service_env, session, tmp_path):
    from service.domain.batch import read_org_csv
    from service.domain.models import Submission

    root = write_tree(tmp_path / "entrada", {
        "a": {"acta.txt": ACTA},
        "b.zip": {"plan.txt": PLAN, "x/politica.txt": POLITICA},
        "c": {"huerfano.txt": FERIA},
    })
    mapping = tmp_path / "orgs.csv"
    mapping.write_text(
        "ruta;organizacion;rut\n"
        f"entrada/a;Fundación Sol;{RUT_SOL}\n"
        f"entrada/b.zip;Fundación Sol;{RUT_SOL}\n"
        "entrada/b.zip/x;Otra Org;\n",
        encoding="utf-8",
    )
    stats = _load([root], "csv", read_org_csv(mapping))
    names = {s.organization.name: sorted(d.name for d in s.documents)
             for s in session.scalars(select(Submission))}
    assert names == {
        "Fundación Sol": ["a/acta.txt", "b.zip/plan.txt"],
        "Otra Org": ["b.zip/x/politica.txt"],
    }
    assert [i.name for i in stats.unassigned] == ["c/huerfano.txt"]


def test_corrupt_member_does_not_stop_the_archive(
    service_env, session, tmp_path, capsys, run_worker_burst
):
    from service.cli.batch import run
    from service.domain.models import Document

    good = one_page_pdf(ACTA)
    root = write_tree(tmp_path / "archivo", {"Org Rota.zip": {
        "1-bueno.txt": PLAN,
        "2-roto.pdf": good[: len(good) // 3],  # truncated PDF
        "3-vacio.pdf": b"",
        "4-interno.zip": b"PK\x03\x04 not really a zip",
        "5-bueno.pdf": good,
    }})
    summary = tmp_path / "resumen.csv"
    args = Namespace(paths=[str(root)], org_from="folder", csv_file=None, wait=False,
                     summary=str(summary), retire_missing=False)
    assert run(args) == 1  # some files failed
    run_worker_burst()
    session.expire_all()
    docs = {d.name: d for d in session.scalars(select(Document))}
    assert docs["Org Rota.zip/1-bueno.txt"].status == "done"
    assert docs["Org Rota.zip/5-bueno.pdf"].status == "done"
    failed = [d for d in docs.values() if d.status == "error"]
    assert {d.name for d in failed} >= {"Org Rota.zip/2-roto.pdf", "Org Rota.zip/3-vacio.pdf"}
    assert all(d.error and d.error_code for d in failed)

    # Rerun with --wait: nothing new, the summary and the errors grouped by reason (Spanish).
    capsys.readouterr()
    args.wait = True
    assert run(args) == 1
    out = capsys.readouterr().out
    assert "Errores por motivo" in out and "2-roto.pdf" in out and "3-vacio.pdf" in out
    rows = report_rows(summary)
    # the matrix CSV's dialect, what Excel in Spanish opens in columns, accents intact
    assert summary.read_bytes().startswith("\ufefforganizacion;rut;".encode())
    assert len(rows) == 1 and rows[0]["organizacion"] == "Org Rota"
    assert int(rows[0]["documentos"]) == len(docs) and int(rows[0]["errores"]) == len(failed)
    # each cell says what the stored classifications of the finished documents say
    supported = {r.commitment for d in docs.values() if d.status == "done"
                 for r in d.classifications[-1].results if r.supported}
    assert "c1" in supported  # the acta constituting the inclusion committee
    assert {c: rows[0][c] for c in ("c1", "c2", "c3", "c4", "c5")} == {
        c: "sí" if c in supported else "no" for c in ("c1", "c2", "c3", "c4", "c5")
    }


class _Stop(KeyboardInterrupt):
    """Ctrl-C after the n-th file, raised from the progress callback."""


def _stop_after(n: int):
    def on_item(_item, _outcome, stats):
        if stats.seen >= n:
            raise _Stop()

    return on_item


def test_interrupted_batch_resumed_equals_uninterrupted(
    service_env, session, tmp_path, run_worker_burst
):
    import redis

    from service.domain.models import Classification, Document, Extraction

    tree = _archive_tree()
    # the same file in two places (two organisations): extracted once
    tree["Cooperativa Andina.zip"]["copia-acta.txt"] = ACTA
    resumed_root = write_tree(tmp_path / "reanudado" / "archivo", tree)
    total = 8

    # 1st run: Ctrl-C after 3 files; the workers process what was queued.
    with pytest.raises(_Stop):
        _load([resumed_root], on_item=_stop_after(3))
    run_worker_burst()
    # 2nd run: stopped after 6 files; then Redis loses its queues (restart without persistence).
    with pytest.raises(_Stop):
        _load([resumed_root], on_item=_stop_after(6))
    redis.Redis.from_url(service_env.redis_url).flushdb()
    # 3rd run finishes: skips what is stored, re-enqueues the stored-but-lost jobs.
    stats = _load([resumed_root])
    assert stats.skipped == 6 and stats.stored == total - 6 and stats.requeued >= 1
    run_worker_burst()

    # The same archive loaded in one go (another copy of it, so other submissions).
    straight_root = write_tree(tmp_path / "seguido" / "archivo", tree)
    stats = _load([straight_root])
    assert stats.stored == total
    run_worker_burst()
    session.expire_all()
    resumed, straight = _by_name(session, "reanudado"), _by_name(session, "seguido")
    assert len(resumed) == total
    assert resumed == straight

    docs = session.scalars(select(Document)).all()
    assert len(docs) == 2 * total
    assert all(d.status == "done" for d in docs)
    assert all(d.attempts == 1 for d in docs)  # no document processed twice
    per_doc = Counter(session.scalars(select(Classification.document_id)))
    assert set(per_doc.values()) == {1}
    # one extraction per distinct content, however many places it appears in
    assert session.scalar(select(func.count(Extraction.id))) == len({d.sha256 for d in docs})
    assert len({d.sha256 for d in docs}) == total - 1


def _by_name(session, top: str) -> dict:
    """(organisation, document) -> (sha256, status, supported) for submissions under ``top``."""
    from service.domain.models import Classification, Document, Organization, Submission

    out = {}
    for org, key, doc in session.execute(
        select(Organization.name, Submission.source_key, Document)
        .join(Submission, Submission.organization_id == Organization.id)
        .join(Document, Document.submission_id == Submission.id)
    ):
        if f"/{top}/" not in key:
            continue
        latest = session.scalar(
            select(Classification).where(Classification.document_id == doc.id)
            .order_by(Classification.id.desc()).limit(1)
        )
        supported = tuple(r.commitment for r in latest.results if r.supported)
        out[(org, doc.name)] = (doc.sha256, doc.status, supported)
    return out



def test_archive_mode_one_organisation_per_zip(service_env, session, tmp_path):
    from service.domain.models import Submission

    root = write_tree(tmp_path / "historico", {
        "2019": {
            "Fundación Sol.zip": {"actas/acta.txt": ACTA, "plan.txt": PLAN},
            "ONG Puentes.zip": {"politica.txt": POLITICA, "anexos.zip": {"feria.txt": FERIA}},
        },
        "leeme.txt": "Archivo histórico 2019.",
    })
    _load([root], "archive")
    names = {s.organization.name: sorted(d.name for d in s.documents)
             for s in session.scalars(select(Submission))}
    assert names == {
        "Fundación Sol": ["actas/acta.txt", "plan.txt"],
        "ONG Puentes": ["anexos.zip/feria.txt", "politica.txt"],
        "historico": ["leeme.txt"],
    }


def test_csv_kept_beside_the_folders_it_maps_is_not_a_document(
    service_env, session, tmp_path, capsys
):
    """QA 2026-12-06: staff keep organizaciones.csv in the archive folder it maps; `batch
    --org-from csv --csv archivo/organizaciones.csv archivo` listed the CSV itself as "no
    figura en el CSV de organizaciones" and ended with exit 1, every document loaded."""
    from service.cli.batch import run
    from service.domain.models import Document

    root = write_tree(tmp_path / "archivo", {"sol": {"acta.txt": ACTA},
                                             "andina": {"plan.txt": PLAN}})
    mapping = root / "organizaciones.csv"
    mapping.write_text(f"ruta,organizacion,rut\nsol,Fundación Sol,{RUT_SOL}\n"
                       "andina,Cooperativa Andina,\n", encoding="utf-8")
    args = Namespace(paths=[str(root)], org_from="csv", csv_file=str(mapping), wait=False,
                     summary=str(tmp_path / "resumen.csv"), retire_missing=False)
    assert run(args) == 0
    captured = capsys.readouterr()
    assert "Sin errores." in captured.out
    assert "2 organización(es), 2 archivo(s): 2 nuevo(s)" in captured.err
    assert "2/2" in captured.err.replace("\r", "\n").splitlines()[-2]  # the bar ends full
    assert sorted(session.scalars(select(Document.name))) == ["andina/plan.txt", "sol/acta.txt"]


def test_summary_written_before_the_workers_say_pending_not_no(
    service_env, session, tmp_path, run_worker_burst
):
    """QA 2026-12-06: `batch` without --wait wrote the summary while every document was queued,
    and each commitment read "no" (not supported) though nothing had been read yet."""
    from service.cli.batch import run

    root = write_tree(tmp_path / "archivo", {"Org Comité": {"acta.txt": ACTA}})
    summary = tmp_path / "resumen.csv"
    args = Namespace(paths=[str(root)], org_from="folder", csv_file=None, wait=False,
                     summary=str(summary), retire_missing=False)

    def cells() -> dict:
        row = report_rows(summary)[0]
        return {c: row[c] for c in ("c1", "c2", "c3", "c4", "c5", "pendientes")}

    assert run(args) == 0
    assert cells() == {"c1": "pendiente", "c2": "pendiente", "c3": "pendiente",
                       "c4": "pendiente", "c5": "pendiente", "pendientes": "1"}
    run_worker_burst()
    assert run(args) == 0
    done = cells()
    assert done.pop("pendientes") == "0" and done["c1"] == "sí"  # the committee's minutes
    assert set(done.values()) <= {"sí", "no"}


def test_summary_counts_a_duplicate_copy_once_in_every_column(
    service_env, session, tmp_path, capsys, run_worker_burst
):
    """QA 2026-12-06: the summary's `documentos` left out a second copy of the same bytes (the
    matrix counts it once) while `pendientes` counted it: 2 documents, 3 pending."""
    from service.cli.batch import run

    root = write_tree(tmp_path / "archivo", {"Org Copias": {
        "acta.txt": ACTA, "acta-copia.txt": ACTA, "plan.txt": PLAN}})
    summary = tmp_path / "resumen.csv"
    args = Namespace(paths=[str(root)], org_from="folder", csv_file=None, wait=False,
                     summary=str(summary), retire_missing=False)

    def counts() -> tuple:
        row = report_rows(summary)[0]
        return tuple(int(row[c]) for c in ("documentos", "listos", "pendientes", "errores"))

    assert run(args) == 0
    assert counts() == (2, 0, 2, 0)
    assert "(2 documento(s) aún en proceso; use --wait" in capsys.readouterr().out
    run_worker_burst()
    assert run(args) == 0
    assert counts() == (2, 2, 0, 0)


def test_waiting_on_a_resumed_batch_does_not_count_finished_documents_as_speed(capsys):
    """QA 2026-12-06, 1,018 archive files: `batch --wait` run again after a stop found 280
    documents finished and its bar said "279.14doc/s", 2 s left, then 56 s left at 30 %: the
    remaining 737 documents took 6 minutes. The rate counted the documents finished before."""
    from service.cli.progress import Progress, wait_for

    finished = iter(range(990, 1001, 2))

    def poll() -> Progress:
        return Progress(min(next(finished, 1000), 1000), 1000)

    wait_for(poll, desc="Procesando", no_workers="", interval=0.05)
    lines = [line for line in capsys.readouterr().err.replace("\r", "\n").splitlines()
             if "doc/s" in line]
    assert lines and "990/1000" in lines[0]
    rates = [float(line.split("doc/s")[0].rsplit(" ", 1)[-1]) for line in lines
             if "?doc/s" not in line]
    assert rates and max(rates) < 200  # 2 documents every 0.05 s at most, not 990 at once


def test_no_worker_warning_goes_to_the_terminal_not_the_output(service_env, monkeypatch, capsys):
    """QA 2026-12-06: `batch --wait > lote.txt` with the only worker stopped: the bar (stderr)
    stood still and "No hay workers activos" went into lote.txt (stdout), unseen."""
    from service.cli import progress

    monkeypatch.setattr(progress, "_WORKER_GRACE", 0)  # no worker runs in this Redis database
    polls = iter([0, 0, 0, 1])
    progress.wait_for(lambda: progress.Progress(next(polls), 1), desc="Procesando",
                      no_workers="No hay workers activos.", interval=0.01)
    captured = capsys.readouterr()
    assert "No hay workers activos." in captured.err
    assert "No hay workers activos." not in captured.out


def test_file_refused_at_load_then_fixed_is_loaded_on_the_rerun(
    service_env, session, tmp_path, capsys, run_worker_burst
):
    """QA 2026-12-06: an empty acta.pdf was refused ("El archivo está vacío (0 bytes). Vuelva a
    exportarlo…"); re-exported and the batch run again, it counted as "ya cargado" and the
    error stayed: the file was never read. The same refusal again is still nothing new."""
    from service.cli.batch import run
    from service.domain.models import Document

    org = tmp_path / "archivo" / "Org Vacía"
    write_tree(org, {"acta.pdf": b"", "datos.jsonl": b'{"a": 1}\n', "plan.txt": PLAN})
    summary = tmp_path / "resumen.csv"
    args = Namespace(paths=[str(tmp_path / "archivo")], org_from="folder", csv_file=None,
                     wait=False, summary=str(summary), retire_missing=False)

    def live() -> dict:
        session.expire_all()
        return {d.name: (d.status, d.error_code) for d in session.scalars(select(Document))
                if d.removed_at is None}

    assert run(args) == 1
    first = live()
    assert first["acta.pdf"] == ("error", "empty_file")
    assert first["datos.jsonl"] == ("error", "unsupported_type")

    capsys.readouterr()
    assert run(args) == 1  # unchanged: the same refusals, nothing new, said as such
    assert ("0 nuevo(s), 0 reemplazado(s), 1 ya cargado(s), 0 reencolado(s), 0 con error al "
            "cargar; 2 siguen rechazado(s), sin cambios desde la carga anterior.") in (
        capsys.readouterr().err)
    assert session.scalar(select(func.count(Document.id))) == 3

    (org / "acta.pdf").write_bytes(one_page_pdf(ACTA))  # re-exported
    assert run(args) == 1  # datos.jsonl still refused
    captured = capsys.readouterr()
    assert ("1 nuevo(s), 0 reemplazado(s), 1 ya cargado(s), 0 reencolado(s), 0 con error al "
            "cargar; 1 siguen rechazado(s)") in captured.err
    assert "acta.pdf" not in captured.out and "datos.jsonl" in captured.out
    run_worker_burst()
    assert live() == {"acta.pdf": ("done", None), "datos.jsonl": ("error", "unsupported_type"),
                      "plan.txt": ("done", None)}
    assert run(args) == 1
    row = report_rows(summary)[0]
    assert (row["documentos"], row["listos"], row["errores"]) == ("3", "2", "1")


def test_damaged_file_re_exported_takes_the_failed_copys_place(
    service_env, session, tmp_path, capsys, run_worker_burst
):
    """QA 2026-12-06: a truncated reglamento.pdf failed ("no es un PDF válido o está dañado…
    Vuelva a exportarlo"); re-exported and the batch run again, the good copy was loaded beside
    the failed one, whose error stayed in the summary and the listing (exit 1) for good."""
    from service.cli.batch import run
    from service.domain.models import Document

    good = one_page_pdf(ACTA)
    org = tmp_path / "archivo" / "Org Dañada"
    write_tree(org, {"reglamento.pdf": good[: len(good) // 3], "plan.txt": PLAN})
    summary = tmp_path / "resumen.csv"
    args = Namespace(paths=[str(tmp_path / "archivo")], org_from="folder", csv_file=None,
                     wait=False, summary=str(summary), retire_missing=False)
    run(args)
    run_worker_burst()
    session.expire_all()
    damaged = session.scalar(select(Document).where(Document.name == "reglamento.pdf"))
    assert damaged.status == "error" and damaged.sha256 is not None

    (org / "reglamento.pdf").write_bytes(good)  # re-exported
    run(args)
    run_worker_burst()
    capsys.readouterr()
    assert run(args) == 0
    assert "Sin errores." in capsys.readouterr().out
    row = report_rows(summary)[0]
    assert (row["documentos"], row["listos"], row["errores"], row["c1"]) == ("2", "2", "0", "sí")
    session.expire_all()
    assert session.get(Document, damaged.id).removed_at is not None  # the row stays
    [fixed] = session.scalars(select(Document).where(Document.name == damaged.name,
                                                     Document.removed_at.is_(None)))
    assert fixed.replaces_id == damaged.id  # the reviewer is told it replaced the failed copy


def test_redis_unreachable_is_said_once_in_spanish(
    service_env, session, tmp_path, capsys, caplog, monkeypatch, run_worker_burst
):
    """QA 2026-12-06: `evidencia batch` with Redis down printed, for every file, an English
    warning with a whole traceback ("could not enqueue document …; `evidencia requeue`
    will"): 232 lines for 5 files. Run again, it stopped with "Ocurrió un error interno al
    procesar el documento… puede intentar subirlo de nuevo"."""
    from service.cli.main import main
    from service.domain.models import Document
    from service.settings import get_settings

    root = write_tree(tmp_path / "archivo", {"Org Cola": {
        "acta.txt": ACTA, "plan.txt": PLAN, "politica.txt": POLITICA}})
    command = ["batch", str(root), "--summary", str(tmp_path / "resumen.csv")]
    monkeypatch.setenv("EVIDENCIA_REDIS_URL", "redis://:secreto@127.0.0.1:1/0")  # nobody there
    get_settings.cache_clear()

    assert main(command) == 0
    err = capsys.readouterr().err
    assert "3 nuevo(s)" in err
    assert "Redis no respondió: 3 documento(s) quedaron guardados y en cola" in err
    assert "Traceback" not in err
    assert not [r for r in caplog.records if "could not enqueue" in r.getMessage()]

    assert main(command) == 1  # the rerun cannot ask Redis what is still waiting
    err = capsys.readouterr().err
    assert "La cola de trabajos (Redis, redis://:***@127.0.0.1:1/0) no responde" in err
    assert "vuelva a ejecutar el mismo comando" in err and "secreto" not in err

    monkeypatch.setenv("EVIDENCIA_REDIS_URL", service_env.redis_url)  # Redis is back
    get_settings.cache_clear()
    assert main(command) == 0
    assert "3 reencolado(s)" in capsys.readouterr().err
    run_worker_burst()
    session.expire_all()
    assert {d.status for d in session.scalars(select(Document))} == {"done"}


def test_organisations_csv_saved_by_excel_on_windows(service_env, session, tmp_path):
    """QA 2026-12-06: the mapping CSV saved by Excel on a Spanish Windows ("CSV (delimitado por
    comas)": Windows-1252, ";", CRLF) stopped `batch --org-from csv` with a UnicodeDecodeError
    traceback and "Ocurrió un error interno al procesar el documento"."""
    from service.domain.batch import read_org_csv
    from service.domain.models import Submission

    root = write_tree(tmp_path / "entrada", {"camara": {"acta.txt": ACTA}})
    mapping = tmp_path / "organizaciones.csv"
    mapping.write_bytes("Ruta;Organización;RUT\r\nentrada/camara;Cámara de Comercio Barrio "
                        f"Estación A.G.;{RUT_SOL}\r\n".encode("cp1252"))
    stats = _load([root], "csv", read_org_csv(mapping))
    assert stats.stored == 1 and not stats.unassigned
    submission = session.scalar(select(Submission))
    assert submission.organization.name == "Cámara de Comercio Barrio Estación A.G."


def test_summary_given_as_a_folder_or_where_it_cannot_be_written(
    service_env, session, tmp_path, capsys
):
    """QA 2026-12-06: `batch … --summary out` (a folder) loaded everything, waited, and only
    then stopped with IsADirectoryError and "Ocurrió un error interno al procesar el
    documento"; a summary path that cannot be written did the same."""
    from service.cli.main import main
    from service.domain.models import Document

    root = write_tree(tmp_path / "archivo", {"Org Uno": {"acta.txt": ACTA}})
    out = tmp_path / "salidas"
    out.mkdir()
    assert main(["batch", str(root), "--summary", str(out)]) == 0
    written = list(out.glob("resumen-lote-*.csv"))
    assert len(written) == 1 and f"Resumen: {written[0]}" in capsys.readouterr().out

    blocked = tmp_path / "bloqueado"
    blocked.write_text("un archivo, no una carpeta")
    assert main(["batch", str(root), "--summary", str(blocked / "resumen.csv")]) == 2
    err = capsys.readouterr().err
    assert f"No se puede escribir el informe en {blocked / 'resumen.csv'}" in err
    assert "(una parte de la ruta no es una carpeta)" in err
    assert "error interno" not in err
    # QA 2026-12-07: the system's reason came in English, "(No such file or directory)"
    assert main(["batch", str(root), "--summary", "/proc/resumen.csv"]) == 2
    err = capsys.readouterr().err
    assert "(no existe o no se puede crear ahí)" in err and "No such file" not in err, err
    assert main(["reprocess", "--all", "--dry-run", "--report", str(blocked / "c.csv")]) == 2
    assert "No se puede escribir el informe" in capsys.readouterr().err
    assert session.scalar(select(func.count(Document.id))) == 1  # nothing loaded twice


def test_help_says_the_csv_columns_and_that_a_folder_takes_the_summary(capsys):
    """QA 2026-12-06: `batch --help` said "CSV ruta→organización,RUT." (which columns?) and
    "--summary ARCHIVO" only, though a folder is taken too."""
    from service.cli.main import main

    with pytest.raises(SystemExit):
        main(["batch", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "CSV con las columnas ruta, organizacion y rut" in text
    assert "CSV de resumen, o una carpeta donde crearlo" in text


def test_system_clutter_beside_the_organisation_folders_is_not_loaded(
    service_env, session, tmp_path
):
    """QA 2026-12-06: a Thumbs.db or desktop.ini that Windows leaves at the top of the archive
    folder became a document in error of an organisation named after the folder, though the
    same files inside an organisation's folder were skipped."""
    from service.domain.models import Document

    root = write_tree(tmp_path / "archivo", {"Thumbs.db": b"\xd0\xcf\x11\xe0 miniaturas",
                                             "desktop.ini": b"[.ShellClassInfo]\r\n",
                                             "Org Uno": {"acta.txt": ACTA}})
    stats = _load([root])
    assert (stats.seen, stats.stored, stats.errors) == (1, 1, 0)
    assert list(session.scalars(select(Document.name))) == ["acta.txt"]


def test_a_folder_with_no_files_is_said(service_env, tmp_path, capsys):
    """QA 2026-12-06: `batch` on an empty folder (the wrong one) said "0 organización(es), 0
    archivo(s)", wrote an empty summary and "Sin errores.", exit 0: a load that loaded
    nothing looked like a success."""
    from service.cli.main import main

    empty = tmp_path / "archivo"
    (empty / ".oculta").mkdir(parents=True)  # only what the walk skips
    (empty / "Thumbs.db").write_bytes(b"x")
    assert main(["batch", str(empty), "--summary", str(tmp_path / "r.csv")]) == 2
    assert f"No se encontraron archivos que cargar en {empty}." in capsys.readouterr().err
    assert not (tmp_path / "r.csv").exists()


def test_an_organisation_folder_with_no_files_is_said(service_env, tmp_path, capsys):
    """QA 2026-12-07: in an archive of six organisation folders, one left empty (its documents
    never copied: only Thumbs.db) and one empty ZIP vanished from the run: "1 organización(es)",
    no submission, no line, no summary row; staff could not tell an organisation was missing.
    Each is now said (a line, the count, a summary row without a submission), as a CSV row no
    file went to is."""
    from service.cli.main import main
    from tests.conftest import SAMPLES

    policy = (SAMPLES / "demo" / "politica-inclusion.docx").read_bytes()
    root = write_tree(tmp_path / "archivo", {
        "Fundación Sol": {"politica-inclusion.docx": policy},
        "Org Vacía": {"Thumbs.db": b"\xd0\xcf\x11\xe0 miniaturas", ".oculto.txt": "x"},
        "Cooperativa Andina.zip": {},
    })
    summary = tmp_path / "resumen.csv"
    assert main(["batch", str(root), "--summary", str(summary)]) == 0
    captured = capsys.readouterr()
    assert "1 organización(es), 1 archivo(s)" in captured.err
    assert "2 carpeta(s) o ZIP de organización sin ningún archivo" in captured.err
    assert (f"Aviso: la carpeta «{root / 'Org Vacía'}» no tiene ningún documento que cargar"
            in captured.out)
    assert f"Aviso: el archivo «{root / 'Cooperativa Andina.zip'}» no tiene" in captured.out
    rows = {row["organizacion"]: row for row in report_rows(summary)}
    assert set(rows) == {"Fundación Sol", "Org Vacía", "Cooperativa Andina"}
    assert rows["Fundación Sol"]["postulacion"]
    for name in ("Org Vacía", "Cooperativa Andina"):
        assert rows[name]["postulacion"] == "" and rows[name]["documentos"] == "0"
        assert "no se creó postulación" in rows[name]["avisos"]


def test_retrying_a_file_refused_by_batch_tells_staff_to_load_it_again(
        service_env, tmp_path, capsys):
    """QA 2026-12-07, as programme staff: `evidencia retry --all` after a batch answered, for a
    file of the archive refused as it was loaded (an empty PDF), "Solo la organización puede
    subirlo de nuevo, corregido": no organisation uploads a past archive. It now says to
    correct it at its source and run the batch again, which loads it (and skips the rest)."""
    from service.cli.main import main
    from tests.conftest import SAMPLES

    plan = SAMPLES / "demo" / "plan-capacitacion-2025.pdf"
    report = (SAMPLES / "demo" / "informe-actividades-2025.pdf").read_bytes()
    root = write_tree(tmp_path / "archivo", {"Fundación Sol": {"plan.pdf": b"",
                                                               "informe.pdf": report}})
    summary = tmp_path / "resumen.csv"
    assert main(["batch", str(root), "--summary", str(summary)]) == 1
    capsys.readouterr()
    assert main(["retry", "--all"]) == 0
    err = capsys.readouterr().err
    assert "se rechazó al cargarlo en lote (El archivo está vacío (0 bytes)" in err
    assert "vuelva a ejecutar «evidencia batch»" in err and "Solo la organización" not in err

    (root / "Fundación Sol" / "plan.pdf").write_bytes(plan.read_bytes())
    assert main(["batch", str(root), "--summary", str(summary)]) == 0
    assert "1 nuevo(s), 0 reemplazado(s), 1 ya cargado(s)" in capsys.readouterr().err


def test_a_failed_or_interrupted_batch_leaves_no_empty_summary(
    service_env, tmp_path, capsys, monkeypatch
):
    """Hygiene 2026-12-06: checking that --summary could be written created it, empty, before
    the load: a batch that failed (nothing to load) or was interrupted (Ctrl-C) left an empty
    resumen.csv, or an empty resumen-lote-<stamp>.csv in the folder named, behind."""
    from service.cli import batch
    from service.cli.main import main

    work = tmp_path / "trabajo"  # tmp_path holds the service's data too
    out = work / "salidas"
    out.mkdir(parents=True)
    summaries = [work / "resumen.csv", work / "nuevas" / "resumen.csv", out]
    empty = work / "vacio"
    (empty / ".oculta").mkdir(parents=True)
    for summary in summaries:
        assert main(["batch", str(empty), "--summary", str(summary)]) == 2

    root = write_tree(work / "archivo", {"Org Uno": {"acta.txt": ACTA}})

    def ctrl_c(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(batch, "load_batch", ctrl_c)  # the key pressed while it loads
    for summary in summaries:
        assert main(["batch", str(root), "--summary", str(summary)]) == 130
    assert "Interrumpido" in capsys.readouterr().err
    assert sorted(p.name for p in work.iterdir()) == ["archivo", "salidas", "vacio"]
    assert list(out.iterdir()) == []


def _two_batches_at_once(root, cwd) -> list[tuple[int, str, str]]:
    """Two `evidencia batch ROOT` processes started together: (exit code, stdout, stderr)."""
    import os
    import subprocess
    import sys

    from tests.conftest import REPO

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    runs = [subprocess.Popen([sys.executable, "-m", "service.cli", "batch", str(root)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd,
                             text=True) for _ in range(2)]
    outcomes = [(run.wait(timeout=300), *run.communicate()) for run in runs]
    for code, out, err in outcomes:
        assert code == 0, err
        assert "Traceback" not in err and "error interno" not in err, err
        assert "Resumen:" in out
    return outcomes


def _stored(outcomes) -> int:
    """New documents both runs said they stored ("…: N nuevo(s)")."""
    return sum(int(err.split(" nuevo(s)")[0].rsplit(" ", 1)[1]) for _code, _out, err in outcomes)


def test_two_batches_started_together_over_one_archive(service_env, session, tmp_path):
    """Hygiene 2026-12-06: two `evidencia batch` runs over the same folder, started at once (two
    staff members, or a run started again in a second terminal), as real processes on the real
    database and Redis. The second stopped with an IntegrityError on the submission's source key
    and a traceback; over an archive loaded before, both stored every new file (duplicates).
    Now each organisation is one submission, each file one document, Spanish words only."""
    from service.domain.models import Document, Submission

    def tree(first: int, last: int) -> dict:
        return {f"Organización {o}": {f"acta-{n:02}.txt": f"{ACTA}\nActa número {o}-{n}."
                                      for n in range(first, last)} for o in "ABC"}

    root = write_tree(tmp_path / "archivo", tree(0, 12))
    assert _stored(_two_batches_at_once(root, tmp_path)) == 36
    write_tree(root, tree(12, 24))  # new files in the organisations loaded before
    assert _stored(_two_batches_at_once(root, tmp_path)) == 36

    assert session.scalar(select(func.count(Submission.id))) == 3
    assert session.scalar(select(func.count(Document.id))) == 72
    names = Counter(session.scalars(select(Document.name).where(Document.removed_at.is_(None))))
    assert len(names) == 24 and set(names.values()) == {3}  # each name in each organisation once


class _PausingDispatcher:
    """The real dispatcher (rq, the real Redis), pausing a run as it enqueues the document of a
    given name, after its row is committed and before its job is in Redis: where a run is when
    another over the same organisation looks at what is unfinished."""

    def __init__(self, real, pauses: dict):
        self.real, self.pauses = real, pauses  # name -> (reached, go) threading.Events

    def __getattr__(self, name):
        return getattr(self.real, name)

    def enqueue_document(self, document_id, lane):
        from service.db import SessionLocal
        from service.domain.models import Document

        with SessionLocal() as s:
            name = s.get(Document, document_id).name
        if name in self.pauses:
            reached, go = self.pauses[name]
            reached.set()
            assert go.wait(60), "never released"
        return self.real.enqueue_document(document_id, lane)


def test_two_batches_over_overlapping_paths_queue_each_document_once(
        service_env, session, tmp_path, capsys):
    """Hygiene: run B loaded organisation P, then Q; run A, over the same archive, stored a new
    file of P meanwhile. B looked for P's unfinished documents after its whole load, outside
    P's lock, found A's file committed but not yet enqueued, queued it itself and said it had
    requeued one ("1 reencolado(s)"), while A queued it too (a second job once a worker had
    finished the first). Now a run requeues an organisation's unfinished documents before it
    releases that organisation's lock: B never sees A's document half-queued."""
    import threading

    from evidencia_queue.dispatch import get_queue

    from service.cli import main
    from service.domain import dispatch

    root = write_tree(tmp_path / "archivo", {"Organización P": {"a.txt": ACTA},
                                             "Organización Q": {"q.txt": FERIA}})
    pauses = {name: (threading.Event(), threading.Event()) for name in ("q.txt", "b.txt")}
    previous = dispatch.install(_PausingDispatcher(dispatch.get_dispatcher(), pauses))
    codes = {}

    def run(who: str) -> None:
        codes[who] = main(["batch", str(root)])

    try:
        b = threading.Thread(target=run, args=("B",))
        b.start()
        assert pauses["q.txt"][0].wait(60)  # B is on Q: P's lock released
        (root / "Organización P" / "b.txt").write_text(PLAN, encoding="utf-8")
        a = threading.Thread(target=run, args=("A",))
        a.start()
        assert pauses["b.txt"][0].wait(60)  # A stored b.txt in P: committed, not enqueued
        pauses["q.txt"][1].set()
        b.join(60)
        pauses["b.txt"][1].set()
        a.join(60)
    finally:
        for _reached, go in pauses.values():
            go.set()
        dispatch.install(previous)
    assert codes == {"A": 0, "B": 0}
    lines = [line for line in capsys.readouterr().err.splitlines() if "organización(es)" in line]
    assert sorted(lines) == [
        "2 organización(es), 2 archivo(s): 2 nuevo(s), 0 reemplazado(s), 0 ya cargado(s), 0 "
        "reencolado(s), 0 con error al cargar.",
        "2 organización(es), 3 archivo(s): 1 nuevo(s), 0 reemplazado(s), 2 ya cargado(s), 0 "
        "reencolado(s), 0 con error al cargar.",
    ]
    assert get_queue("batch").count == 3  # a.txt, q.txt and b.txt: one job each


def test_the_systems_reasons_are_said_in_spanish():
    """QA 2026-12-07: `--summary` in a folder the user may not write said "(Permission
    denied)": strerror is English under the servers' C locale."""
    import errno

    from service.domain.messages import os_reason

    assert os_reason(PermissionError(errno.EACCES, "Permission denied")) == (
        "sin permiso para escribir ahí")
    assert os_reason(OSError(errno.ENOSPC, "No space left on device")) == (
        "no queda espacio en el disco")
    assert os_reason(OSError(errno.EIO, "Input/output error")) == "Input/output error"


def test_a_folder_rut_with_a_wrong_check_digit_is_said_and_loaded(
    service_env, session, tmp_path, capsys
):
    """QA 2026-12-07: a folder named "Fundación Sol 76.543.210-4" (check digit 3, not 4)
    became the organisation "Fundación Sol 76.543.210-4" without RUT, and nothing said so.
    The documents are still loaded (nothing is lost), and the run says which folder and
    which RUT, in its output and in the organisation's `avisos` in the summary; a date in a
    folder's name (digits that only look like a RUT) stays unsaid."""
    from service.cli.main import main
    from service.domain.models import Document, Submission

    root = write_tree(tmp_path / "archivo", {
        "Fundación Sol 76.543.210-4": {"acta.txt": ACTA},
        "Corporación Norte 12.345.678-9.zip": {"plan.txt": PLAN},
        "ONG Puentes 20190312": {"politica.txt": POLITICA},
    })
    summary = tmp_path / "resumen.csv"
    for run in ("first", "resumed"):
        assert main(["batch", str(root), "--summary", str(summary)]) == 0
        captured = capsys.readouterr()
        lines = [line for line in captured.out.splitlines() if line.startswith("Aviso:")]
        assert lines == [
            f"Aviso: el archivo «{root / 'Corporación Norte 12.345.678-9.zip'}» trae en su "
            "nombre el RUT 12.345.678-9, cuyo dígito verificador no corresponde: no se tomó "
            "como RUT y sus documentos se cargaron igual, sin RUT, como «Corporación Norte "
            "12.345.678-9». Revise el RUT de esa organización.",
            f"Aviso: la carpeta «{root / 'Fundación Sol 76.543.210-4'}» trae en su nombre el "
            "RUT 76.543.210-4, cuyo dígito verificador no corresponde: no se tomó como RUT y "
            "sus documentos se cargaron igual, sin RUT, como «Fundación Sol 76.543.210-4». "
            "Revise el RUT de esa organización.",
        ], (run, captured.out)  # in the order the folders are walked
        assert "Sin errores." in captured.out
        rows = {row["organizacion"]: row for row in report_rows(summary)}
        assert set(rows) == {"Fundación Sol 76.543.210-4", "Corporación Norte 12.345.678-9",
                             "ONG Puentes 20190312"}
        assert rows["Corporación Norte 12.345.678-9"]["avisos"] == lines[0]
        assert rows["Fundación Sol 76.543.210-4"]["avisos"] == lines[1]
        assert rows["ONG Puentes 20190312"]["avisos"] == ""
        assert {row["rut"] for row in rows.values()} == {""}
    assert {s.organization.name: s.organization.rut
            for s in session.scalars(select(Submission))} == {
        "Fundación Sol 76.543.210-4": None, "Corporación Norte 12.345.678-9": None,
        "ONG Puentes 20190312": None}
    assert session.scalar(select(func.count(Document.id))) == 3  # each loaded once


def test_a_csv_row_no_file_went_to_is_said(service_env, session, tmp_path, capsys):
    """QA 2026-12-07: `batch --org-from csv` ignored, unsaid, a row whose `ruta` held a typo
    ("andian" for "andina") or lay outside the folders given: an organisation missing from the
    load looked like a full load. Each such row is said (its line, path and organisation), and
    counted in the line of totals; the rows that took files are not."""
    from service.cli.main import main
    from service.domain.messages import error_message
    from service.domain.models import Document

    write_tree(tmp_path / "2020" / "norte", {"acta.txt": ACTA})  # not among the PATHs given
    root = write_tree(tmp_path / "archivo", {"sol": {"acta.txt": ACTA},
                                             "andina": {"plan.txt": PLAN}})
    mapping = root / "organizaciones.csv"
    mapping.write_text(f"ruta,organizacion,rut\nsol,Fundación Sol,{RUT_SOL}\n"
                       "andina,Cooperativa Andina,\n"
                       "andian,ONG Puentes,65.432.109-4\n"
                       "../2020/norte,Corporación Norte,\n", encoding="utf-8")
    assert main(["batch", "--org-from", "csv", "--csv", str(mapping), str(root),
                 "--summary", str(tmp_path / "resumen.csv")]) == 0
    captured = capsys.readouterr()
    assert ("2 organización(es), 2 archivo(s): 2 nuevo(s), 0 reemplazado(s), 0 ya cargado(s), "
            "0 reencolado(s), 0 con error al cargar; 2 fila(s) del CSV sin ningún archivo.") in (
        captured.err)
    assert ("2 fila(s) del CSV sin ningún archivo:\n"
            "  - Fila 4 del CSV (ruta «andian», ONG Puentes): esa ruta no existe; ningún "
            "archivo se cargó para ella. Corrija la ruta y vuelva a ejecutar.\n"
            "  - Fila 5 del CSV (ruta «../2020/norte», Corporación Norte): ningún archivo de "
            "las rutas cargadas le correspondió") in captured.out, captured.out
    assert "Fila 2 " not in captured.out and "Fila 3 " not in captured.out
    # the totals' count and the rows' heading are the catalogue's one wording
    phrase = error_message("batch_csv_rows_unmatched", n=2)
    assert f"; {phrase}." in captured.err and f"{phrase}:\n" in captured.out
    assert "Sin errores." in captured.out  # nothing lost: every file went to a row
    assert sorted(session.scalars(select(Document.name))) == ["andina/plan.txt", "sol/acta.txt"]
    # QA 2026-12-07: the summary CSV left them out. A row each, after the organisations, that
    # a reader filters by its empty postulacion: no commitment judged, no document, the line
    rows = report_rows(tmp_path / "resumen.csv")
    assert [(r["organizacion"], bool(r["postulacion"])) for r in rows] == [
        ("Cooperativa Andina", True), ("Fundación Sol", True),
        ("ONG Puentes", False), ("Corporación Norte", False)]
    puentes, norte = rows[2:]
    assert puentes["rut"] == "65432109-4" and norte["rut"] == ""
    for row, said in ((puentes, "Fila 4 del CSV (ruta «andian», ONG Puentes): esa ruta no "
                                "existe"),
                      (norte, "Fila 5 del CSV (ruta «../2020/norte», Corporación Norte): "
                              "ningún archivo")):
        assert row["avisos"].startswith(said) and row["avisos"] in captured.out
        assert [row[c] for c in ("c1", "c2", "c3", "c4", "c5")] == [""] * 5
        assert [row[c] for c in ("documentos", "listos", "pendientes", "errores")] == ["0"] * 4

    # every row took a file: nothing said
    mapping.write_text(f"ruta,organizacion,rut\nsol,Fundación Sol,{RUT_SOL}\n"
                       "andina,Cooperativa Andina,\n", encoding="utf-8")
    assert main(["batch", "--org-from", "csv", "--csv", str(mapping), str(root),
                 "--summary", str(tmp_path / "resumen.csv")]) == 0
    captured = capsys.readouterr()
    assert "fila(s) del CSV" not in captured.out + captured.err
    assert all(r["postulacion"] for r in report_rows(tmp_path / "resumen.csv"))


def test_a_dangling_link_in_an_organisation_folder_is_a_failed_file_not_a_crash(
        service_env, session, tmp_path, capsys):
    """QA 2026-12-08: a shortcut left in an organisation's folder whose target was moved (a
    dangling symbolic link, common on shared drives) stopped `evidencia batch` with a
    traceback and "Error interno del programa" halfway through the archive: the check for a
    container opened every file before the item reached the loader. It is now one failed file
    with its reason, and the rest of the archive is loaded."""
    from service.cli.main import main
    from service.domain.models import Document

    root = write_tree(tmp_path / "archivo", {"Fundación Sol": {"acta.txt": ACTA},
                                             "ONG Puentes": {"plan.txt": PLAN}})
    (root / "Fundación Sol" / "informe.pdf").symlink_to(tmp_path / "movido.pdf")
    summary = tmp_path / "resumen.csv"
    assert main(["batch", str(root), "--summary", str(summary)]) == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and "Error interno" not in captured.err
    assert "2 organización(es), 3 archivo(s): 2 nuevo(s)" in captured.err
    assert "No se pudo abrir el archivo (permisos o ruta inválida)." in captured.out
    assert "Fundación Sol: informe.pdf" in captured.out
    names = sorted(session.scalars(select(Document.name).where(Document.sha256.is_not(None))))
    assert names == ["acta.txt", "plan.txt"]
    rows = {row["organizacion"]: row for row in report_rows(summary)}
    assert rows["Fundación Sol"]["errores"] == "1" and rows["ONG Puentes"]["errores"] == "0"


@pytest.mark.parametrize("org_from", [[], ["--org-from", "folder"], ["--org-from", "archive"]])
def test_a_csv_given_without_csv_mode_is_refused_before_loading(
        service_env, session, tmp_path, capsys, org_from):
    """QA 2026-12-08: `evidencia batch archivo --csv orgs.csv` (without `--org-from csv`)
    ignored the CSV without a word: every folder became an organisation under its folder's
    name, without the RUTs, and the CSV itself was stored as a document. Staff who wrote the
    CSV learn it only from the summary, with the submissions already made. The CSV now needs
    `--org-from csv`: said before anything is loaded, exit 2."""
    from service.cli.main import main
    from service.domain.models import Submission

    root = write_tree(tmp_path / "archivo", {"carpeta1": {"acta.txt": ACTA}})
    orgs = root / "orgs.csv"
    orgs.write_text(f"ruta,organizacion,rut\ncarpeta1,Fundación Sol,{RUT_SOL}\n",
                    encoding="utf-8")
    assert main(["batch", str(root), "--csv", str(orgs), *org_from]) == 2
    err = capsys.readouterr().err
    assert err.startswith("evidencia batch: --csv solo se usa con --org-from csv")
    assert session.scalar(select(func.count(Submission.id))) == 0


def test_names_that_are_not_utf8_are_read_as_windows_latin1(service_env, session, tmp_path,
                                                            capsys):
    """QA 2026-12-08: an archive copied from an old Windows share, its folder and file names in
    Latin-1 ("Fundaci\\xf3n Sol/acta-comit\\xe9.txt", not UTF-8), stopped `evidencia batch` with
    a traceback and "Error interno del programa" at its first such file: the database takes
    no such name. The bytes are read as Windows-1252 (what such a name was written in), and a
    rerun finds what the first run loaded."""
    import os

    from service.cli.main import main
    from service.domain.models import Submission

    root = tmp_path / "archivo"
    folder = os.path.join(os.fsencode(root), "Fundaci\xf3n Sol".encode("cp1252"))
    os.makedirs(folder)
    with open(os.path.join(folder, "acta-comit\xe9.txt".encode("cp1252")), "wb") as fh:
        fh.write(ACTA.encode("utf-8"))
    summary = tmp_path / "resumen.csv"
    assert main(["batch", str(root), "--summary", str(summary)]) == 0
    assert "1 organización(es), 1 archivo(s): 1 nuevo(s)" in capsys.readouterr().err
    [submission] = session.scalars(select(Submission))
    assert submission.organization.name == "Fundación Sol"
    assert [d.name for d in submission.documents] == ["acta-comité.txt"]
    assert [row["organizacion"] for row in report_rows(summary)] == ["Fundación Sol"]
    assert main(["batch", str(root), "--summary", str(summary)]) == 0
    assert "0 nuevo(s), 0 reemplazado(s), 1 ya cargado(s)" in capsys.readouterr().err


def test_a_database_error_on_one_organisations_files_does_not_end_the_run(
        service_env, session, tmp_path, capsys, caplog):
    """QA 2026-12-08: a value the database refused for one file (undecodable names then) left
    the session broken and ended `evidencia batch` with a traceback, the files after it never
    loaded. Still reachable: an organisation folder whose absolute path is longer than the
    1000 characters a submission's source key holds, which PostgreSQL refuses (SQLite stores
    it). Each of its files is now that file's error (rolled back, said in Spanish, the
    traceback in the log in English), the run goes on with the next file and the next
    organisation, and the totals and the exit code say so."""
    import logging

    from service.cli.main import main
    from service.domain.models import Document

    deep = tmp_path / "respaldo"
    for level in range(6):
        deep = deep / f"{level}-{'carpeta de respaldo del programa ' * 6}".strip()
    deep = write_tree(deep, {"Fundación Sol": {"acta.txt": ACTA, "plan.txt": PLAN}})
    shallow = write_tree(tmp_path / "archivo", {"ONG Puentes": {"politica.txt": POLITICA}})
    assert len(str(deep / "Fundación Sol")) > 1000
    summary = tmp_path / "resumen.csv"
    postgres = service_env.kind == "postgresql"

    with caplog.at_level(logging.ERROR):
        code = main(["batch", str(deep), str(shallow), "--summary", str(summary)])
    captured = capsys.readouterr()
    names = sorted(session.scalars(select(Document.name).where(Document.sha256.is_not(None))))
    if not postgres:  # SQLite takes the long source key: nothing fails
        assert code == 0
        assert names == ["acta.txt", "plan.txt", "politica.txt"]
        return
    assert code == 1
    assert "Traceback" not in captured.err
    assert "1 organización(es), 3 archivo(s): 1 nuevo(s)" in captured.err
    assert "2 con error al cargar" in captured.err
    assert "Error interno al cargar el archivo" in captured.out
    assert "Fundación Sol: acta.txt" in captured.out and "Fundación Sol: plan.txt" in captured.out
    assert names == ["politica.txt"]
    logged = [r for r in caplog.records if r.exc_info and "acta.txt" in r.getMessage()]
    assert logged and "value too long" in str(logged[0].exc_info[1])
    # the organisation no submission could be made for has a row, that says why
    rows = {row["organizacion"]: row for row in report_rows(summary)}
    assert rows.keys() == {"ONG Puentes", "Fundación Sol"}
    assert rows["Fundación Sol"]["postulacion"] == ""
    line = rows["Fundación Sol"]["avisos"]
    assert line.startswith("Aviso: no se pudo crear la postulación de «Fundación Sol»")
    assert "sus 2 archivo(s) no se cargaron" in line and "Error interno al cargar" in line
    assert line in captured.out



def test_a_database_error_in_one_file_is_that_files_error_on_both_databases(
        service_env, session, tmp_path, caplog):
    """The per-file boundary, on SQLite and PostgreSQL alike: a file whose loading makes the
    database refuse a write (here a NOT NULL constraint, the session left broken: on
    PostgreSQL its transaction aborted) is rolled back and recorded as that file's error, in
    Spanish, with the traceback in the log, and the next file of the same organisation loads."""
    import dataclasses
    import logging

    from sqlalchemy import text

    from service.db import SessionLocal
    from service.domain.batch import BatchItem, iter_items, load_batch
    from service.domain.models import Document

    root = write_tree(tmp_path / "archivo", {"Fundación Sol": {"acta.txt": ACTA,
                                                               "plan.txt": PLAN}})
    loading = SessionLocal()

    class Refused(BatchItem):  # read, it writes what the database refuses
        __slots__ = ()

        def read(self) -> bytes:
            loading.execute(text("UPDATE submissions SET token_hash = NULL"))
            return super().read()

    first, second = iter_items([root])
    first = Refused(**{f.name: getattr(first, f.name) for f in dataclasses.fields(first)})
    try:
        with caplog.at_level(logging.ERROR):
            stats = load_batch(loading, [first, second])
    finally:
        loading.close()
    assert (stats.stored, stats.errors) == (1, 1)
    documents = {d.name: d for d in session.scalars(select(Document))}
    assert documents["plan.txt"].sha256 is not None
    assert documents["acta.txt"].status == "error"
    assert documents["acta.txt"].error.startswith("Error interno al cargar el archivo")
    [logged] = [r for r in caplog.records if r.exc_info and "acta.txt" in r.getMessage()]
    assert "token_hash" in str(logged.exc_info[1])


def test_the_same_folder_given_twice_counts_each_file_once(service_env, session, tmp_path,
                                                          capsys):
    """QA 2026-12-08: `evidencia batch A A` (the same folder given twice) counted each file
    twice in its totals ("2 archivo(s): 1 nuevo(s), 1 ya cargado(s)" for one file). A PATH
    given again (as written or by another spelling of it) is walked once."""
    from service.cli.main import main
    from service.domain.models import Document

    root = write_tree(tmp_path / "archivo", {"Fundación Sol": {"acta.txt": ACTA}})
    again = f"{tmp_path}/./archivo/"
    assert main(["batch", str(root), str(root), again]) == 0
    assert "1 organización(es), 1 archivo(s): 1 nuevo(s), 0 reemplazado(s), 0 ya cargado(s)" in (
        capsys.readouterr().err)
    assert session.scalar(select(func.count(Document.id))) == 1
