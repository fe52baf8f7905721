"""The rq job against the real Redis and databases: stages, reuse, failures, requeue."""

from __future__ import annotations

import subprocess
import sys
import sysconfig

import pytest
from sqlalchemy import func, select

from tests.conftest import REPO
from tests.queue import faults

CORRUPT_PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\ngarbage\x00\xff"
NOTE = "Acta de reunión del comité. Se acordó revisar el calendario de turnos.".encode()


def _submit(files, *, queue_name="interactive", rut="76.543.210-3"):
    from service.db import SessionLocal
    from service.domain.submissions import add_files, create_submission

    with SessionLocal() as session:
        submission, token = create_submission(session, "Fundación Puentes del Sur", rut)
        documents = add_files(session, submission, files, queue_name=queue_name)
        return submission.id, [d.id for d in documents]


@pytest.fixture
def registered():
    """``registered(name, "tests.queue.faults:fn", mime)``: a parser ahead of the real one."""
    from extractors.registry import Parser, register

    faults.calls.clear()
    removers = []

    def plug(name: str, target: str, mime: str):
        remove = register(Parser(name, target, (mime,)))
        removers.append(remove)
        return remove

    yield plug
    for remove in removers:
        try:
            remove()
        except ValueError:  # the test removed it already
            pass


def _documents(ids):
    from service.db import SessionLocal
    from service.domain.models import Document

    with SessionLocal() as session:
        return {d.id: d for d in session.scalars(select(Document).where(Document.id.in_(ids)))}


def test_upload_is_queued_then_worker_fills_the_matrix(
    service_env, run_worker_burst, training_plan_pdf
):
    from evidencia_queue.dispatch import queue_depths

    from service.api.schemas import matrix_public
    from service.db import SessionLocal
    from service.domain.matrix import load_matrix

    sub_id, ids = _submit([("plan.pdf", training_plan_pdf), ("nota.txt", NOTE)])
    docs = _documents(ids)
    assert {d.status for d in docs.values()} == {"queued"}
    assert queue_depths()["interactive"] == 2

    run_worker_burst()

    docs = _documents(ids)
    assert {d.status for d in docs.values()} == {"done"}, [d.error for d in docs.values()]
    assert all(d.stage == "done" and d.extraction_id for d in docs.values())
    assert queue_depths()["interactive"] == 0
    with SessionLocal() as session:
        matrix = matrix_public(load_matrix(session, sub_id))
    assert [c["id"] for c in matrix["commitments"]] == ["c1", "c2", "c3", "c4", "c5"]
    c2 = matrix["commitments"][1]
    assert c2["supported"], c2
    assert c2["evidence"][0]["document"] == "plan.pdf"
    assert c2["evidence"][0]["page"] == 1
    assert "c2" not in matrix["missing"]
    assert matrix["complete"]


def test_duplicate_upload_reuses_the_extraction(
    service_env, run_worker_burst, training_plan_pdf, registered
):
    from service.db import SessionLocal
    from service.domain.models import Extraction, StoredFile

    registered("counting-pdf", "tests.queue.faults:counting_pdf", "application/pdf")
    _, first = _submit([("plan.pdf", training_plan_pdf)])
    run_worker_burst()
    _, second = _submit([("copia del plan.pdf", training_plan_pdf)], rut=None)
    run_worker_burst()

    docs = _documents(first + second)
    assert {d.status for d in docs.values()} == {"done"}
    assert len(faults.calls) == 1
    with SessionLocal() as session:
        assert session.scalar(select(func.count()).select_from(Extraction)) == 1
        assert session.scalar(select(func.count()).select_from(StoredFile)) == 1
    assert docs[first[0]].extraction_id == docs[second[0]].extraction_id
    assert docs[second[0]].extract_seconds == 0.0


def test_a_corrupt_file_fails_alone_with_a_spanish_reason(
    service_env, run_worker_burst, training_plan_pdf
):
    from evidencia_queue.dispatch import get_queue
    from rq.registry import FailedJobRegistry

    _, ids = _submit([("roto.pdf", CORRUPT_PDF), ("plan.pdf", training_plan_pdf)])
    run_worker_burst()
    docs = _documents(ids)
    broken, good = docs[ids[0]], docs[ids[1]]
    assert good.status == "done"
    assert broken.status == "error"
    assert broken.stage == "error"
    assert broken.error_code
    assert broken.error and " " in broken.error  # a sentence for people, not a code
    assert broken.attempts == 1  # a bad file is not retried
    assert FailedJobRegistry(queue=get_queue("interactive")).count == 0


def test_rejected_at_upload_never_reach_the_queue(service_env):
    from evidencia_queue.dispatch import queue_depths

    _, ids = _submit([("vacío.pdf", b""), ("programa.exe", b"MZ\x90\x00" + bytes(200))])
    docs = _documents(ids)
    assert docs[ids[0]].error_code == "empty_file"
    assert docs[ids[1]].error_code == "unsupported_type"
    assert all(d.status == "error" and d.error for d in docs.values())
    assert queue_depths()["interactive"] == 0


def test_zip_members_become_documents(service_env, training_plan_pdf):
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("actas/plan.pdf", training_plan_pdf)
        zf.writestr("actas/nota.txt", NOTE)
    _, ids = _submit([("evidencias.zip", buf.getvalue())])
    names = sorted(d.name for d in _documents(ids).values())
    assert names == ["evidencias.zip/actas/nota.txt", "evidencias.zip/actas/plan.pdf"]

    _, ids = _submit([("roto.zip", b"PK\x03\x04" + bytes(100)), ("nota.txt", NOTE)], rut=None)
    docs = _documents(ids)
    assert [(docs[i].name, docs[i].status) for i in ids] == [
        ("roto.zip", "error"), ("nota.txt", "queued")
    ]
    assert docs[ids[0]].error_code == "corrupt"


def test_redis_flushed_midway_then_requeue_finishes_everything(
    service_env, run_worker_burst, text_pdf
):
    import redis

    from service.db import SessionLocal
    from service.domain.dispatch import requeue_lost as requeue
    from service.domain.models import Document

    files = [(f"doc{i}.pdf", text_pdf([f"Informe número {i} de actividades."])) for i in range(3)]
    _, ids = _submit(files)
    run_worker_burst(max_jobs=1)
    # a worker died while processing another document, then Redis lost everything
    with SessionLocal() as session:
        stuck = session.get(Document, ids[1])
        stuck.status, stuck.stage, stuck.stage_detail = "processing", "ocr", "1/3"
        session.commit()
    redis.Redis.from_url(service_env.redis_url).flushdb()

    run_worker_burst()  # nothing to do: Redis forgot the jobs
    assert sum(d.status == "done" for d in _documents(ids).values()) == 1

    requeued = requeue()
    assert sorted(requeued) == sorted(ids[1:])
    assert requeue() == []  # already queued: not twice
    run_worker_burst()
    assert {d.status for d in _documents(ids).values()} == {"done"}


def test_worker_start_up_requeues(service_env, run_worker_burst, training_plan_pdf):
    import redis

    _, ids = _submit([("plan.pdf", training_plan_pdf)])
    redis.Redis.from_url(service_env.redis_url).flushdb()
    run_worker_burst(requeue=True)
    assert _documents(ids)[ids[0]].status == "done"


def test_transient_failure_is_retried(service_env, run_worker_burst, monkeypatch):
    """The database drops the connection while the job stores its results: rq runs it again."""
    import evidencia_queue.dispatch as dispatch_module

    monkeypatch.setattr(dispatch_module, "RETRY_INTERVALS", (0,))  # retry at once, no scheduler
    _, ids = _submit([("nota.txt", NOTE)])
    with faults.database_drops("INSERT INTO classifications") as failures:
        run_worker_burst()
    doc = _documents(ids)[ids[0]]
    assert len(failures) == 1
    assert doc.status == "done"
    assert doc.attempts == 2


@pytest.mark.parametrize("service_env", ["sqlite"], indirect=True)
def test_database_lost_during_ocr_is_retried_not_a_corrupt_file(
    service_env, run_worker_burst, monkeypatch
):
    """Issue 12: the database goes away mid-OCR (the progress update fails), and is still away
    when the extraction is stored. Neither is the file's fault: the job fails (no "Job OK")
    and its retry finishes it."""
    import evidencia_queue.dispatch as dispatch_module

    from tests.queue.outages import scanned_pdf

    monkeypatch.setattr(dispatch_module, "RETRY_INTERVALS", (0,))  # retry at once, no scheduler
    _, ids = _submit([("acta.pdf", scanned_pdf("Acta del comité de inclusión.", 1))])
    # down from the progress update to the next statement: storing the OCR'd extraction
    with faults.database_outage("UPDATE documents", with_value="ocr") as lost:
        run_worker_burst()
    doc = _documents(ids)[ids[0]]
    assert len(lost) == 2, lost
    assert (doc.status, doc.error_code, doc.attempts) == ("done", None, 2)


def test_interactive_is_served_before_batch(service_env, run_worker_burst, text_pdf):
    _, batch_ids = _submit([("b.pdf", text_pdf(["Lote histórico."]))], queue_name="batch")
    _, inter_ids = _submit([("i.pdf", text_pdf(["Carga de postulante."]))], rut=None)
    run_worker_burst(max_jobs=1)
    docs = _documents(batch_ids + inter_ids)
    assert docs[inter_ids[0]].status == "done"
    assert docs[batch_ids[0]].status == "queued"


@pytest.mark.parametrize("module", ["queue"])
def test_import_queue_is_the_standard_library(module):
    out = subprocess.run(
        [sys.executable, "-c", f"import {module}, evidencia_queue.jobs; print({module}.__file__)"],
        cwd=REPO, capture_output=True, text=True, check=True,
    ).stdout.strip()
    assert out.startswith(sysconfig.get_paths()["stdlib"]), out


def test_out_of_retries_goes_back_to_queued_and_requeue_finishes_it(
    service_env, run_worker_burst, monkeypatch
):
    from evidencia_queue.dispatch import get_queue
    from rq.registry import FailedJobRegistry

    from service.domain.dispatch import requeue_lost
    from service.settings import get_settings

    monkeypatch.setenv("EVIDENCIA_JOB_RETRIES", "0")
    get_settings.cache_clear()
    _, ids = _submit([("nota.txt", NOTE)])
    with faults.database_drops("INSERT INTO extractions", times=None):
        run_worker_burst()
    doc = _documents(ids)[ids[0]]
    assert (doc.status, doc.error_code) == ("queued", "transient")
    assert FailedJobRegistry(queue=get_queue("interactive")).count == 1

    # the database is back
    assert requeue_lost() == ids
    run_worker_burst()
    doc = _documents(ids)[ids[0]]
    assert (doc.status, doc.error_code, doc.error) == ("done", None, None)


def test_doc_or_rtf_without_libreoffice_ends_in_error_at_once(
    service_env, run_worker_burst, tmp_path, monkeypatch
):
    """The lean image has no LibreOffice on purpose: the document fails with the Spanish reason
    on its first attempt instead of being retried and left queued (its submission completes)."""
    monkeypatch.setenv("PATH", str(tmp_path))  # no soffice anywhere
    rtf = b"{\\rtf1\\ansi Acta del comit\\u233? de inclusi\\u243?n laboral.\\par}\n"
    _, ids = _submit([("minuta.rtf", rtf), ("nota.txt", NOTE)])
    run_worker_burst()
    docs = _documents(ids)
    rtf_doc, note = docs[ids[0]], docs[ids[1]]
    assert (rtf_doc.status, rtf_doc.error_code, rtf_doc.attempts) == (
        "error", "converter_unavailable", 1)
    assert "LibreOffice" in rtf_doc.error and "DOCX o PDF" in rtf_doc.error
    assert note.status == "done"


def test_missing_ocr_is_the_servers_fault_not_the_files(
    service_env, run_worker_burst, registered, monkeypatch
):
    """Without Tesseract the document waits, with the reason, instead of failing for good."""
    from service.domain.dispatch import requeue_lost
    from service.settings import get_settings

    monkeypatch.setenv("EVIDENCIA_JOB_RETRIES", "0")
    get_settings.cache_clear()
    tesseract_installed = registered("no-ocr", "tests.queue.faults:ocr_missing", "text/plain")
    _, ids = _submit([("nota.txt", NOTE)])
    run_worker_burst()
    doc = _documents(ids)[ids[0]]
    assert (doc.status, doc.error_code) == ("queued", "ocr_unavailable")
    assert "tesseract-ocr" in doc.error

    tesseract_installed()
    assert requeue_lost() == ids
    run_worker_burst()
    assert _documents(ids)[ids[0]].status == "done"


@pytest.mark.parametrize("service_env", ["sqlite"], indirect=True)
def test_a_scan_reports_each_stage_including_ocr_pages(
    service_env, run_worker_burst, training_plan_pdf
):
    import io

    import pypdfium2 as pdfium
    from sqlalchemy import event

    from service.db import SessionLocal
    from service.domain.models import Document, Extraction

    image = pdfium.PdfDocument(training_plan_pdf)[0].render(scale=200 / 72).to_pil().convert("L")
    buf = io.BytesIO()
    image.save(buf, format="PDF", resolution=200)  # image only: no text layer

    seen = []

    def record(mapper, connection, target):
        seen.append((target.stage, target.stage_detail))

    event.listen(Document, "after_update", record)
    try:
        _, ids = _submit([("acta escaneada.pdf", buf.getvalue())])
        run_worker_burst()
    finally:
        event.remove(Document, "after_update", record)
    stages = [s for i, s in enumerate(seen) if i == 0 or seen[i - 1] != s]
    assert stages == [
        ("queued", None), ("extracting", None), ("ocr", "1/1"), ("classifying", None),
        ("done", None),
    ], _documents(ids)[ids[0]].error
    with SessionLocal() as session:
        extraction = session.get(Extraction, _documents(ids)[ids[0]].extraction_id)
        assert extraction.ocr_pages == 1 and extraction.pages[0].ocr
        assert "capacitación" in extraction.pages[0].text.lower()
