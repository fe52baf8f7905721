"""`evidencia batch` mirrors an organisation's folder: a file re-exported under the same name
(same path, other bytes) replaces the document loaded from that path, as a replacement through
the API does (``service.domain.documents.replace_document``); under a final verdict neither a
re-exported file nor a new one changes the submission (``workflow.VerdictLock``). Real demo
files, the real Redis and both databases, the worker in-process.

QA 2026-12-07, as programme staff reprocessing past archives: a folder loaded again after one
of its files was re-exported got the new file as a new document beside the old one: the
organisation showed two documents of that name (11 against 10 files on disk), the matrix kept
evidence from a version no longer on disk, and the run said only "1 nuevo(s)"."""

from __future__ import annotations

import random

from sqlalchemy import select

from tests.conftest import PEERS, SAMPLES
from tests.documents import write_tree
from tests.service.cli.reports import report_rows

DEMO = SAMPLES / "demo"
#: bytes that are no format at all under a name that says PDF: refused as damaged at the door
RANDOM_BYTES = random.Random(11).randbytes(6000)


#: the matrix of :func:`_folder` once read: c2 from the plan, c3 from the policy
FOLDER_CELLS = {"c1": "no", "c2": "sí", "c3": "sí", "c4": "no", "c5": "no"}


def _folder(tmp_path):
    """An organisation's folder: minutes (no commitment), a policy (c3), a training plan (c2)."""
    root = write_tree(tmp_path / "archivo", {"Transportes Cordillera": {
        "acta.txt": (DEMO / "acta-comite-paritario.txt").read_bytes(),
        "politica.docx": (DEMO / "politica-inclusion.docx").read_bytes(),
        "plan.pdf": (DEMO / "plan-capacitacion-2025.pdf").read_bytes(),
    }})
    return root, root / "Transportes Cordillera"


def _batch(root, summary, capsys) -> tuple[int, str, str]:
    from service.cli.main import main

    code = main(["batch", str(root), "--summary", str(summary)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _totals(err: str) -> str:
    return next(line for line in err.splitlines() if "organización(es)" in line)


def _live(session) -> dict[str, list[tuple[str, str]]]:
    from service.domain.models import Document

    session.expire_all()
    found: dict[str, list[tuple[str, str]]] = {}
    for d in session.scalars(select(Document).where(Document.removed_at.is_(None))
                             .order_by(Document.created_at)):
        found.setdefault(d.name, []).append((d.id, d.status))
    return found


def _cells(row: dict) -> dict:
    return {c: row[c] for c in ("c1", "c2", "c3", "c4", "c5")}


def test_a_re_exported_file_replaces_the_document_loaded_from_its_path(
        service_env, session, tmp_path, capsys, run_worker_burst):
    from service.domain.models import Document

    root, org = _folder(tmp_path)
    summary = tmp_path / "resumen.csv"
    assert _batch(root, summary, capsys)[0] == 0
    run_worker_burst()
    before = _live(session)
    [(old_plan, _status)] = before["plan.pdf"]
    assert _batch(root, summary, capsys)[0] == 0
    row = report_rows(summary)[0]
    assert (row["c2"], row["c4"], row["reemplazados"]) == ("sí", "no", "0")

    # plan.pdf re-exported: now the activities report (c1, c4), no longer the training plan
    (org / "plan.pdf").write_bytes((DEMO / "informe-actividades-2025.pdf").read_bytes())
    code, out, err = _batch(root, summary, capsys)
    assert code == 0, out
    assert _totals(err) == ("1 organización(es), 3 archivo(s): 0 nuevo(s), 1 reemplazado(s), "
                            "2 ya cargado(s), 0 reencolado(s), 0 con error al cargar.")
    row = report_rows(summary)[0]
    assert row["reemplazados"] == "1"
    assert row["avisos"] == ("Se reemplazó «plan.pdf»: el archivo cambió desde la carga "
                             "anterior; el documento anterior dejó de contar.")
    assert row["avisos"] in out
    live = _live(session)
    assert set(live) == {"acta.txt", "politica.docx", "plan.pdf"}
    [(new_plan, status)] = live["plan.pdf"]  # one document per file on disk, not two
    assert new_plan != old_plan and status == "queued"
    session.expire_all()
    old = session.get(Document, old_plan)
    assert old.removed_at is not None and old.queue_name == "batch"  # its row stays
    assert session.get(Document, new_plan).queue_name == "batch"

    run_worker_burst()
    code, _out, err = _batch(root, summary, capsys)
    assert code == 0
    assert "0 nuevo(s), 0 reemplazado(s), 3 ya cargado(s)" in _totals(err)  # unchanged now
    row = report_rows(summary)[0]
    assert (row["documentos"], row["listos"], row["errores"], row["reemplazados"]) == (
        "3", "3", "0", "0")
    assert _cells(row) == {"c1": "sí", "c2": "no", "c3": "sí", "c4": "sí", "c5": "no"}
    assert row["avisos"] == ""


def test_a_re_exported_file_refused_at_the_door_keeps_the_good_document(
        service_env, session, tmp_path, capsys, run_worker_burst):
    """The API's rule (422 ``replacement_refused``): new bytes refused as they arrive (empty,
    nothing a PDF reader can open) never cost the good document; the row says why."""
    root, org = _folder(tmp_path)
    summary = tmp_path / "resumen.csv"
    assert _batch(root, summary, capsys)[0] == 0
    run_worker_burst()
    before = _live(session)

    (org / "plan.pdf").write_bytes(b"")  # an export that failed
    (org / "politica.docx").write_bytes(RANDOM_BYTES)  # a copy that came out as garbage
    for _run in ("first", "again"):  # said on every run while the folder holds them
        code, out, err = _batch(root, summary, capsys)
        assert code == 1
        assert _totals(err) == ("1 organización(es), 3 archivo(s): 0 nuevo(s), "
                                "0 reemplazado(s), 1 ya cargado(s), 0 reencolado(s), "
                                "2 con error al cargar.")
        assert _live(session) == before  # nothing removed, nothing added
        row = report_rows(summary)[0]
        assert (row["documentos"], row["listos"], row["errores"], row["reemplazados"]) == (
            "3", "3", "0", "0")
        assert (row["c2"], row["c3"]) == ("sí", "sí")
        notes = row["avisos"]
        assert notes.startswith("No se reemplazó «plan.pdf»: el archivo está vacío (0 bytes).")
        assert "No se reemplazó «politica.docx»: el archivo DOCX está dañado" in notes, notes
        assert notes.count("Se mantiene el documento cargado antes; corrija el archivo y "
                           "vuelva a ejecutar el lote.") == 2
        assert "Transportes Cordillera: plan.pdf" in out  # listed with the failed files
        assert "Transportes Cordillera: politica.docx" in out


def test_a_re_exported_file_under_a_final_verdict_is_not_replaced(
        service_env, session, tmp_path, capsys, run_worker_burst):
    """A final verdict locks what its decisions rest on, as a replacement through the API is
    refused then (409): the document stays and the row says why and what to do."""
    root, org = _folder(tmp_path)
    summary = tmp_path / "resumen.csv"
    assert _batch(root, summary, capsys)[0] == 0
    run_worker_burst()
    _verdict(session)
    before = _live(session)

    (org / "plan.pdf").write_bytes((DEMO / "informe-actividades-2025.pdf").read_bytes())
    code, out, err = _batch(root, summary, capsys)
    assert code == 1
    assert "0 nuevo(s), 0 reemplazado(s), 2 ya cargado(s), 0 reencolado(s), 1 con error" in (
        _totals(err))
    assert _live(session) == before
    row = report_rows(summary)[0]
    assert (row["c2"], row["c4"], row["reemplazados"]) == ("sí", "no", "0")
    assert row["avisos"] == (
        "No se reemplazó «plan.pdf», que cambió desde la carga anterior: la postulación ya "
        "tiene su resultado final («Aprobada»), y sus documentos no cambian salvo que un "
        "administrador la reabra; después, vuelva a ejecutar el lote. Se mantiene el "
        "documento cargado antes.")
    assert "Transportes Cordillera: plan.pdf" in out


def _verdict(session, status: str = "aprobada", message: str = ""):
    """The submission taken to ``status`` through the workflow (claimed, then decided) by an
    admin, who may reopen it afterwards (:func:`_reopen`)."""
    from service.domain import workflow
    from service.domain.models import Submission, User

    admin = User(username="jefa", password_hash="x", role="admin")
    session.add(admin)
    session.commit()
    submission = session.scalar(select(Submission))
    workflow.review(session, submission, admin, "en_revision")
    workflow.review(session, submission, admin, status, message)
    return submission, admin


def _reopen(session, submission, admin) -> None:
    from service.domain import workflow

    workflow.review(session, submission, admin, "en_revision", "Falta el informe de actividades.")


def test_a_new_file_under_a_final_verdict_is_not_added(
        service_env, session, tmp_path, capsys, run_worker_burst):
    """A new file in the folder of an approved organisation was added to its submission on the
    next run: the matrix the verdict was given on changed silently. Refused as a re-exported
    file is (the same lock, ``workflow.check_unlocked``): not stored, said on the row and on
    the terminal, counted as failed, exit 1, on every run; after an admin reopens the
    submission, the next run adds it."""
    root, org = _folder(tmp_path)
    summary = tmp_path / "resumen.csv"
    assert _batch(root, summary, capsys)[0] == 0
    run_worker_burst()
    submission, admin = _verdict(session)
    before = _live(session)

    # the activities report (c1, c4) found in the folder after the verdict
    (org / "informe.pdf").write_bytes((DEMO / "informe-actividades-2025.pdf").read_bytes())
    line = ("No se agregó «informe.pdf»: la postulación tiene veredicto final («Aprobada»); un "
            "administrador debe reabrirla antes de volver a ejecutar el lote.")
    for _run in ("first", "again"):  # said on every run while the folder holds it
        code, out, err = _batch(root, summary, capsys)
        assert code == 1
        assert _totals(err) == ("1 organización(es), 4 archivo(s): 0 nuevo(s), "
                                "0 reemplazado(s), 3 ya cargado(s), 0 reencolado(s), "
                                "1 con error al cargar.")
        assert _live(session) == before  # nothing stored, not even a document in error
        run_worker_burst()
        row = report_rows(summary)[0]
        assert (row["documentos"], row["listos"], row["errores"], row["reemplazados"]) == (
            "3", "3", "0", "0")
        assert _cells(row) == FOLDER_CELLS
        assert row["avisos"] == line
        assert line in out  # on the terminal
        assert "Transportes Cordillera: informe.pdf" in out  # listed with the failed files

    _reopen(session, submission, admin)
    code, out, err = _batch(root, summary, capsys)
    assert code == 0, out
    assert "1 nuevo(s), 0 reemplazado(s), 3 ya cargado(s)" in _totals(err)
    run_worker_burst()
    live = _live(session)
    assert set(live) == {"acta.txt", "politica.docx", "plan.pdf", "informe.pdf"}
    assert {k: v for k, v in live.items() if k != "informe.pdf"} == before
    code, out, _err = _batch(root, summary, capsys)
    assert code == 0, out
    row = report_rows(summary)[0]
    assert (row["documentos"], row["listos"], row["avisos"]) == ("4", "4", "")
    assert (row["c1"], row["c4"]) == ("sí", "sí")


def test_a_failed_file_fixed_under_a_final_verdict_does_not_take_its_place(
        service_env, session, tmp_path, capsys, run_worker_burst):
    """A file that failed at loading (empty) and is re-exported whole would take the failed
    copy's place and bring its passages into the matrix: under a final verdict it is refused
    like a new file. Left as it was (still empty), it is nothing new: no line, no refusal."""
    root, org = _folder(tmp_path)
    (org / "informe.pdf").write_bytes(b"")  # an export that failed
    summary = tmp_path / "resumen.csv"
    assert _batch(root, summary, capsys)[0] == 1
    run_worker_burst()
    _verdict(session, "no_aprobada", "No acredita actividades.")
    before = _live(session)

    code, out, err = _batch(root, summary, capsys)  # nothing changed since the verdict
    assert _totals(err).endswith(
        "0 nuevo(s), 0 reemplazado(s), 3 ya cargado(s), 0 reencolado(s), 0 con error al cargar; "
        "1 siguen rechazado(s), sin cambios desde la carga anterior.")
    assert report_rows(summary)[0]["avisos"] == ""
    assert code == 1  # the empty file is still listed with the failed files, as before

    (org / "informe.pdf").write_bytes((DEMO / "informe-actividades-2025.pdf").read_bytes())
    code, out, err = _batch(root, summary, capsys)
    assert code == 1
    assert "0 nuevo(s), 0 reemplazado(s), 3 ya cargado(s), 0 reencolado(s), 1 con error" in (
        _totals(err))
    assert _live(session) == before
    row = report_rows(summary)[0]
    assert (_cells(row), row["documentos"], row["errores"]) == (FOLDER_CELLS, "4", "1")
    assert row["avisos"] == (
        "No se agregó «informe.pdf»: la postulación tiene veredicto final («No aprobada»); un "
        "administrador debe reabrirla antes de volver a ejecutar el lote.")


def test_a_verdict_given_while_a_new_file_is_stored_keeps_it_out(
        service_env, session, tmp_path, capsys, run_worker_burst, monkeypatch):
    """The verdict committed after the run checked the submission and before it committed the
    new document (here, while its bytes go into the store): the check under the submission's
    row lock, before the commit, sees it; nothing is added."""
    from service.db import SessionLocal
    from service.domain import submissions, workflow
    from service.domain.models import Submission, User

    root, org = _folder(tmp_path)
    summary = tmp_path / "resumen.csv"
    assert _batch(root, summary, capsys)[0] == 0
    run_worker_burst()
    admin = User(username="jefa", password_hash="x", role="admin")
    session.add(admin)
    session.commit()
    workflow.review(session, session.scalar(select(Submission)), admin, "en_revision")
    before = _live(session)

    real = submissions.store_bytes

    def store_then_approve(data: bytes) -> str:
        sha = real(data)
        with SessionLocal() as other:  # a reviewer's verdict, in the meantime
            workflow.review(other, other.scalar(select(Submission)),
                            other.get(User, admin.id), "aprobada")
        monkeypatch.setattr(submissions, "store_bytes", real)
        return sha

    monkeypatch.setattr(submissions, "store_bytes", store_then_approve)
    (org / "informe.pdf").write_bytes((DEMO / "informe-actividades-2025.pdf").read_bytes())
    code, out, err = _batch(root, summary, capsys)
    assert code == 1
    assert "0 nuevo(s), 0 reemplazado(s), 3 ya cargado(s), 0 reencolado(s), 1 con error" in (
        _totals(err))
    assert _live(session) == before
    assert report_rows(summary)[0]["avisos"].startswith(
        "No se agregó «informe.pdf»: la postulación tiene veredicto final («Aprobada»)")


def _damaged_zip(members: dict[str, bytes], damaged: str) -> bytes:
    """A ZIP (members stored, not compressed) with one byte of ``damaged``'s data flipped: its
    CRC no longer matches, as in a copy cut or altered on its way."""
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    raw = buf.getvalue()
    at = raw.index(members[damaged][:64]) + len(members[damaged]) // 2
    return raw[:at] + bytes([raw[at] ^ 0xFF]) + raw[at + 1:]


def test_a_re_exported_zip_replaces_what_it_brought_member_by_member(
        service_env, session, tmp_path, capsys, run_worker_burst):
    """A ZIP in an organisation's folder is expanded as an upload's is (``add_files``: one
    document per member, named «anexos.zip/member»), so a re-exported ZIP is mirrored member
    by member: a changed member replaces its document, a new one is added, an unchanged one is
    skipped. QA 2026-12-07: a re-export whose member came out damaged (or the whole ZIP
    unreadable) was counted «ya cargado», «Sin errores»: the run said nothing of a file it
    could not read. The document loaded before stays, as for a loose file refused at the
    door, and the row says why."""
    from tests.documents import make_zip

    plan = (DEMO / "plan-capacitacion-2025.pdf").read_bytes()
    report = (DEMO / "informe-actividades-2025.pdf").read_bytes()
    acta = (DEMO / "acta-comite-paritario.txt").read_bytes()
    root = write_tree(tmp_path / "archivo", {"Transportes Cordillera": {
        "anexos.zip": {"plan.pdf": plan, "acta.txt": acta}}})
    archive = root / "Transportes Cordillera" / "anexos.zip"
    summary = tmp_path / "resumen.csv"
    assert _batch(root, summary, capsys)[0] == 0
    run_worker_burst()
    before = _live(session)
    assert set(before) == {"anexos.zip/plan.pdf", "anexos.zip/acta.txt"}

    # re-exported: the plan's member damaged
    archive.write_bytes(_damaged_zip({"plan.pdf": report, "acta.txt": acta}, "plan.pdf"))
    code, out, err = _batch(root, summary, capsys)
    assert code == 1, out
    assert _totals(err) == ("1 organización(es), 2 archivo(s): 0 nuevo(s), 0 reemplazado(s), "
                            "1 ya cargado(s), 0 reencolado(s), 1 con error al cargar.")
    assert _live(session) == before
    row = report_rows(summary)[0]
    assert row["avisos"].startswith("No se reemplazó «anexos.zip/plan.pdf»: ")
    assert "Se mantiene el documento cargado antes" in row["avisos"]
    assert "Transportes Cordillera: anexos.zip/plan.pdf" in out

    # the whole ZIP unreadable: what it brought stays, said once for the ZIP
    archive.write_bytes(b"PK\x03\x04" + random.Random(5).randbytes(3000))
    code, out, err = _batch(root, summary, capsys)
    assert code == 1, out
    assert "0 nuevo(s), 0 reemplazado(s), 0 ya cargado(s), 0 reencolado(s), 1 con error" in (
        _totals(err))
    assert _live(session) == before
    assert report_rows(summary)[0]["avisos"].startswith(
        "No se reemplazó «anexos.zip»: el archivo ZIP está dañado")

    # re-exported well: the changed member replaces its document, a new one is added
    policy = (DEMO / "politica-inclusion.docx").read_bytes()
    archive.write_bytes(make_zip({"plan.pdf": report, "acta.txt": acta, "politica.docx": policy}))
    code, out, err = _batch(root, summary, capsys)
    assert code == 0, out
    assert _totals(err) == ("1 organización(es), 3 archivo(s): 1 nuevo(s), 1 reemplazado(s), "
                            "1 ya cargado(s), 0 reencolado(s), 0 con error al cargar.")
    live = _live(session)
    assert set(live) == {"anexos.zip/plan.pdf", "anexos.zip/acta.txt", "anexos.zip/politica.docx"}
    assert live["anexos.zip/acta.txt"] == before["anexos.zip/acta.txt"]
    assert live["anexos.zip/plan.pdf"] != before["anexos.zip/plan.pdf"]
    run_worker_burst()
    assert _batch(root, summary, capsys)[0] == 0
    row = report_rows(summary)[0]
    assert (row["c1"], row["c3"], row["c4"], row["documentos"]) == ("sí", "sí", "sí", "3")


def _batch_args(args: list[str], capsys) -> tuple[int, str, str]:
    from service.cli.main import main

    code = main(["batch", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_file_gone_from_the_folder_is_said_and_retired_only_when_asked(
        service_env, session, tmp_path, capsys, run_worker_burst):
    """QA 2026-12-07: a file deleted from the organisation's folder (or a member left out of a
    re-exported ZIP) kept counting in its submission, its passages in the matrix, and no run
    said so. Now every run says it («N ya no están en la carpeta», the row's ``ya_no_estan``
    and ``avisos``) and it keeps counting; ``--retire-missing`` retires it through the one
    removal path (``documents.remove_document``), never under a final verdict."""
    from service.domain.models import Document
    from tests.documents import make_zip

    root, org = _folder(tmp_path)
    acta = (DEMO / "acta-comite-paritario.txt").read_bytes()
    report = (DEMO / "informe-actividades-2025.pdf").read_bytes()
    (org / "anexos.zip").write_bytes(make_zip({"acta-2.txt": acta + b"\n2", "informe.pdf": report}))
    summary = tmp_path / "resumen.csv"
    args = [str(root), "--summary", str(summary)]
    assert _batch_args(args, capsys)[0] == 0
    run_worker_burst()
    before = _live(session)
    [(plan_id, _status)] = before["plan.pdf"]

    (org / "plan.pdf").unlink()  # the training plan (c2) deleted from the folder
    (org / "anexos.zip").write_bytes(make_zip({"acta-2.txt": acta + b"\n2"}))  # report left out
    line = ("2 documento(s) ya no están en la carpeta: «anexos.zip/informe.pdf», «plan.pdf». "
            "Siguen contando en la postulación; para retirarlos, vuelva a ejecutar el lote con "
            "--retire-missing.")
    for _run in ("first", "again"):  # said on every run, nothing retired
        code, out, err = _batch_args(args, capsys)
        assert code == 0, out
        assert _totals(err) == ("1 organización(es), 3 archivo(s): 0 nuevo(s), "
                                "0 reemplazado(s), 3 ya cargado(s), 0 reencolado(s), 0 con "
                                "error al cargar; 2 ya no están en la carpeta.")
        assert line in out
        assert _live(session) == before
        row = report_rows(summary)[0]
        assert (row["documentos"], row["ya_no_estan"], row["retirados"], row["avisos"]) == (
            "5", "2", "0", line)
        assert (row["c2"], row["c4"]) == ("sí", "sí")  # still counting

    submission, admin = _verdict(session)
    code, out, err = _batch_args([*args, "--retire-missing"], capsys)
    assert code == 1, out  # listed with the failed files, as a new file refused is
    assert _live(session) == before
    row = report_rows(summary)[0]
    assert row["avisos"] == (
        "No se retiraron 2 documento(s) que ya no están en la carpeta: "
        "«anexos.zip/informe.pdf», «plan.pdf». La postulación tiene veredicto final "
        "(«Aprobada»); un administrador debe reabrirla antes de volver a ejecutar el lote. "
        "Siguen contando.")
    assert "Transportes Cordillera: plan.pdf" in out
    assert (row["retirados"], row["c2"]) == ("0", "sí")

    _reopen(session, submission, admin)
    code, out, err = _batch_args([*args, "--retire-missing"], capsys)
    assert code == 0, out
    assert _totals(err).endswith(
        "0 con error al cargar; 2 retirado(s) por no estar ya en la carpeta.")
    live = _live(session)
    assert set(live) == {"acta.txt", "politica.docx", "anexos.zip/acta-2.txt"}
    session.expire_all()
    assert session.get(Document, plan_id).removed_at is not None  # its row stays
    row = report_rows(summary)[0]
    assert (row["documentos"], row["ya_no_estan"], row["retirados"]) == ("3", "0", "2")
    assert row["avisos"] == ("Se retiraron 2 documento(s) que ya no están en la carpeta: "
                             "«anexos.zip/informe.pdf», «plan.pdf»; dejaron de contar.")
    assert (row["c2"], row["c4"]) == ("no", "no")

    code, out, err = _batch_args([*args, "--retire-missing"], capsys)
    assert code == 0 and "ya no están" not in err + out
    assert report_rows(summary)[0]["avisos"] == ""


def test_a_run_over_one_organisations_folder_does_not_take_its_subfolders_for_gone(
        service_env, session, tmp_path, capsys, run_worker_burst):
    """The same folder given as PATH (``evidencia batch archivo/Org``) makes its loose files
    the same organisation (the same source key) and its subfolders organisations of their
    own: a document loaded from a subfolder by the run over ``archivo`` is not gone, its file
    is still there. A loose file deleted is."""
    acta = (DEMO / "acta-comite-paritario.txt").read_bytes()
    root = write_tree(tmp_path / "archivo", {"Transportes Cordillera": {
        "acta.txt": acta, "politica.docx": (DEMO / "politica-inclusion.docx").read_bytes(),
        "2025": {"plan.pdf": (DEMO / "plan-capacitacion-2025.pdf").read_bytes()}}})
    org = root / "Transportes Cordillera"
    summary = tmp_path / "resumen.csv"
    assert _batch_args([str(root), "--summary", str(summary)], capsys)[0] == 0
    before = _live(session)

    (org / "politica.docx").unlink()
    code, out, err = _batch_args([str(org), "--summary", str(summary), "--retire-missing"],
                                 capsys)
    assert code == 0, out
    assert "1 retirado(s) por no estar ya en la carpeta" in _totals(err)
    live = _live(session)
    assert "2025/plan.pdf" in live and live["2025/plan.pdf"] == before["2025/plan.pdf"]
    assert "politica.docx" not in live


def test_a_refused_file_is_reported_once_per_run_and_still_refused_on_a_rerun(
        service_env, session, tmp_path, capsys, run_worker_burst):
    """QA 2026-12-07 on a real archive: a corrupt PDF kept deep in an organisation's folders
    (its path longer than a stored name, so refused at the door and stored under a shortened
    name) was recorded again on every run, a new error row each time (the rerun looked for
    it under its full name); the same refused bytes at two paths were two errors; and a rerun
    said the refused files were «ya cargado». Now a refused file is reported once per run with
    its paths, and a rerun says it is still refused and records nothing."""
    from sqlalchemy import func

    from service.domain.models import Document

    garbage = RANDOM_BYTES  # bytes no reader opens, under a name that says PDF
    deep = "/".join(f"Carpeta de documentos del año {year}" for year in range(2017, 2026))
    assert len(deep) > 255
    root = write_tree(tmp_path / "archivo", {"Transportes Cordillera": {
        "acta.txt": (DEMO / "acta-comite-paritario.txt").read_bytes(),
        "informe.pdf": garbage, "copia del informe.pdf": garbage,
        "vacio.pdf": (PEERS / "pdfplumber-empty-zero-bytes.pdf").read_bytes(),
        "vacio-2.pdf": b""}})
    org = root / "Transportes Cordillera"
    (org / deep).mkdir(parents=True)
    (org / deep / "invalido.pdf").write_bytes(
        (PEERS / "ocrmypdf-header-only-invalid.pdf").read_bytes())
    summary = tmp_path / "resumen.csv"

    code, out, err = _batch(root, summary, capsys)
    assert code == 1
    assert _totals(err) == ("1 organización(es), 6 archivo(s): 1 nuevo(s), 0 reemplazado(s), "
                            "0 ya cargado(s), 0 reencolado(s), 3 con error al cargar; 2 copia(s) "
                            "de un archivo ya rechazado en esta carga.")
    assert "Errores por motivo (3 archivo(s))" in out
    assert "Transportes Cordillera: copia del informe.pdf, informe.pdf" in out, out
    assert "Transportes Cordillera: vacio-2.pdf, vacio.pdf" in out  # no bytes: the same too
    rows = session.scalar(select(func.count(Document.id)))
    assert rows == 6

    run_worker_burst()
    for _run in ("again", "and again"):
        code, out, err = _batch(root, summary, capsys)
        assert code == 1
        assert _totals(err) == ("1 organización(es), 6 archivo(s): 0 nuevo(s), "
                                "0 reemplazado(s), 1 ya cargado(s), 0 reencolado(s), 0 con "
                                "error al cargar; 3 siguen rechazado(s), sin cambios desde la "
                                "carga anterior; 2 copia(s) de un archivo ya rechazado en esta "
                                "carga.")
        assert "Errores por motivo (3 archivo(s))" in out
        assert "Transportes Cordillera: copia del informe.pdf, informe.pdf" in out
        session.expire_all()
        assert session.scalar(select(func.count(Document.id))) == rows  # nothing recorded
        assert "ya no están" not in err  # the shortened name is the file's


def test_an_organisations_zip_re_exported_unreadable_keeps_what_it_brought(
        service_env, session, tmp_path, capsys, run_worker_burst):
    """With ``--org-from archive`` an organisation is one ZIP, its documents named by member
    alone: the ZIP re-exported unreadable whole is not every member gone (nothing retired,
    even with ``--retire-missing``) but a re-export refused, said on the row."""
    from tests.documents import make_zip

    acta = (DEMO / "acta-comite-paritario.txt").read_bytes()
    root = write_tree(tmp_path / "archivo", {"Transportes Cordillera.zip": {
        "acta.txt": acta, "plan.pdf": (DEMO / "plan-capacitacion-2025.pdf").read_bytes()}})
    archive = root / "Transportes Cordillera.zip"
    summary = tmp_path / "resumen.csv"
    args = [str(root), "--org-from", "archive", "--summary", str(summary), "--retire-missing"]
    assert _batch_args(args, capsys)[0] == 0
    before = _live(session)
    assert set(before) == {"acta.txt", "plan.pdf"}

    archive.write_bytes(b"PK\x03\x04" + random.Random(5).randbytes(3000))
    code, out, err = _batch_args(args, capsys)
    assert code == 1, out
    assert "retirado" not in err and "ya no están" not in err
    assert _live(session) == before
    assert report_rows(summary)[0]["avisos"].startswith(
        "No se reemplazó «Transportes Cordillera.zip»: el archivo ZIP está dañado")

    archive.write_bytes(make_zip({"acta.txt": acta}))  # re-exported without the plan
    code, out, err = _batch_args(args, capsys)
    assert code == 0, out
    assert "1 retirado(s) por no estar ya en la carpeta" in _totals(err)
    assert set(_live(session)) == {"acta.txt"}


def test_a_zip_that_brought_only_failures_re_exported_unreadable_is_a_failure_not_kept(
        service_env, session, tmp_path, capsys):
    """A ZIP whose members all failed brought nothing to keep: re-exported unreadable whole, it
    is a failed file of its own, not «No se reemplazó…: se mantiene el documento cargado
    antes» (there is none)."""
    from tests.documents import make_zip

    root = write_tree(tmp_path / "archivo", {"Transportes Cordillera": {
        "acta.txt": (DEMO / "acta-comite-paritario.txt").read_bytes(),
        "anexos.zip": make_zip({"vacio.pdf": b""})}})
    summary = tmp_path / "resumen.csv"
    assert _batch(root, summary, capsys)[0] == 1
    (root / "Transportes Cordillera" / "anexos.zip").write_bytes(
        b"PK\x03\x04" + random.Random(5).randbytes(3000))
    code, out, err = _batch(root, summary, capsys)
    assert code == 1
    assert "1 con error al cargar" in _totals(err)
    assert report_rows(summary)[0]["avisos"] == ""
    assert "Transportes Cordillera: anexos.zip\n" in out
    assert set(_live(session)) == {"acta.txt", "anexos.zip/vacio.pdf", "anexos.zip"}
