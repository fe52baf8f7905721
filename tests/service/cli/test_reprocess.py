"""`evidencia reprocess`: a new classifier version over stored text, no file read, no OCR.

The classifier change is a small test double that plugs in where the real classifier does
(``classifiers.classify`` and ``classifiers.CLASSIFIER_VERSION``): it runs the real classifier
and then applies one extra rule, as a changed pattern set would, so the flips are known whatever
the real classifier says about the documents.
"""

from __future__ import annotations

from argparse import Namespace
from collections import Counter

import pytest
from sqlalchemy import func, select

from tests.conftest import SAMPLES
from tests.documents import ACTA, FERIA, PLAN, write_tree
from tests.service.cli.reports import report_rows

MARKER = "feria intercultural"


class ChangedClassifier:
    """The real classifier plus one changed rule: c4 is inverted where ``marker`` appears."""

    def __init__(self, real_classify, version: str, marker: str = MARKER):
        self.real_classify = real_classify
        self.version = version
        self.marker = marker
        self.calls = 0

    def __call__(self, doc):
        from dataclasses import replace

        self.calls += 1
        result = self.real_classify(doc)
        hit = self.marker in doc.text.lower()
        commitments = tuple(
            replace(c, supported=not c.supported) if hit and c.id == "c4" else c
            for c in result.commitments
        )
        return replace(result, classifier_version=self.version, commitments=commitments)


@pytest.fixture
def processed(service_env, session, tmp_path, run_worker_burst):
    """Two organisations loaded with `batch` and processed by a worker, a reviewer decision."""
    from service.domain.access import create_user
    from service.domain.batch import iter_items, load_batch
    from service.domain.decisions import record_decision
    from service.domain.models import Submission

    root = write_tree(tmp_path / "archivo", {
        "Org Feria": {"feria.txt": FERIA},
        "Org Mixta": {"acta.txt": ACTA, "informe.txt": FERIA.replace("Informe", "Memoria"),
                      "plan.txt": PLAN, "copia-feria.txt": FERIA},  # same bytes as Org Feria's
    })
    load_batch(session, iter_items([root]))
    run_worker_burst()
    session.expire_all()
    subs = {s.organization.name: s for s in session.scalars(select(Submission))}
    reviewer = create_user(session, "revisora", "clave-secreta-123")
    record_decision(session, subs["Org Feria"].id, "c4", "confirm", reviewer,
                    comment="Feria intercultural acreditada.")
    return subs


@pytest.fixture
def changed_classifier(monkeypatch):
    """Swap in the changed classifier; extraction must not run at all while reprocessing."""
    import classifiers
    import extractors

    double = ChangedClassifier(classifiers.classify, classifiers.CLASSIFIER_VERSION + "+prueba")

    def no_extraction(*_a, **_k):
        raise AssertionError("reprocess must not read files or OCR")

    monkeypatch.setattr(classifiers, "classify", double)
    monkeypatch.setattr(classifiers, "CLASSIFIER_VERSION", double.version)
    monkeypatch.setattr(extractors, "extract", no_extraction)
    return double


def _counts(session):
    from service.domain.models import Classification, Decision, Extraction, ReviewFlag

    return {
        "extractions": session.scalar(select(func.count(Extraction.id))),
        "classifications": session.scalar(select(func.count(Classification.id))),
        "decisions": session.scalar(select(func.count(Decision.id))),
        "flags": session.scalar(select(func.count(ReviewFlag.id))),
    }


def test_reprocess_records_new_version_reports_flips_and_flags_decided_cells(
    processed, session, tmp_path
):
    import classifiers
    from service.cli.reprocess import reprocess, write_report
    from service.domain.models import Classification, Decision, Document, ReviewFlag
    from service.domain.reprocess import select_documents

    old_version = classifiers.CLASSIFIER_VERSION
    before = _counts(session)
    assert before["classifications"] == 5 and before["extractions"] == 4

    ids = select_documents(session, all_documents=True)
    assert len(ids) == 5
    feria_docs = {d.id for d in session.scalars(select(Document))
                  if d.name in ("feria.txt", "informe.txt", "copia-feria.txt")}

    # swap the classifier only now: the first pass ran with the real one
    mp = pytest.MonkeyPatch()
    try:
        import extractors

        double = ChangedClassifier(classifiers.classify, old_version + "+prueba")
        mp.setattr(classifiers, "classify", double)
        mp.setattr(classifiers, "CLASSIFIER_VERSION", double.version)
        mp.setattr(extractors, "extract", lambda *a, **k: pytest.fail("no extraction"))

        # --dry-run: the flips, nothing stored
        dry = reprocess(session, ids, dry_run=True)
        assert _counts(session) == before
        doc_flips = {(f.document_id, f.commitment) for f in dry.flips if f.level == "documento"}
        assert doc_flips == {(d, "c4") for d in feria_docs}
        sub_flips = [f for f in dry.flips if f.level == "postulacion"]
        feria_sub = processed["Org Feria"].id
        assert any(f.submission_id == feria_sub and f.commitment == "c4" and f.flagged
                   for f in sub_flips)

        # the real run, inline
        result = reprocess(session, ids, inline=True)
        assert result.version == double.version and result.reclassified == 5
        # dry run + real run, one call per extracted text (the copied file is classified once)
        assert double.calls == 8
        after = _counts(session)
        assert after["extractions"] == before["extractions"]
        assert after["classifications"] == 10  # the earlier version's rows are kept
        assert after["decisions"] == before["decisions"]
        versions = Counter(session.scalars(select(Classification.classifier_version)))
        assert versions == {old_version: 5, double.version: 5}
        assert [(f.document_id, f.commitment, f.old_supported, f.new_supported)
                for f in result.flips] == [
            (f.document_id, f.commitment, f.old_supported, f.new_supported) for f in dry.flips
        ]
        assert all(f.old_version == old_version and f.new_version == double.version
                   for f in result.flips)

        # the reviewer's decision is untouched; the flipped cell under it is flagged
        decision = session.scalar(select(Decision))
        assert decision.action == "confirm" and decision.commitment == "c4"
        flags = session.scalars(select(ReviewFlag)).all()
        assert [(f.submission_id, f.commitment) for f in flags] == [(feria_sub, "c4")]
        flag = flags[0]
        assert (flag.old_version, flag.new_version) == (old_version, double.version)
        assert flag.new_supported is (not flag.old_supported)
        assert not any(f.flagged for f in result.flips
                       if f.submission_id == processed["Org Mixta"].id)

        # the change report lists every flipped cell
        report = write_report(tmp_path / "cambios.csv", result.flips)
        rows = report_rows(report)
        # the matrix CSV's dialect, what Excel in Spanish opens in columns, accents intact
        assert report.read_bytes().startswith("\ufeffnivel;organizacion;".encode())
        assert len(rows) == len(result.flips)
        assert {r["documento"] for r in rows if r["nivel"] == "documento"} == {
            "feria.txt", "informe.txt", "copia-feria.txt"}
        assert any(r["marcado_para_revision"] == "sí" and r["decision_revisor"] == "confirm"
                   for r in rows)

        # running it again does nothing twice
        again = reprocess(session, ids, inline=True)
        assert again.reclassified == 0 and again.up_to_date == 5
        assert _counts(session) == after
    finally:
        mp.undo()


def test_reprocess_as_queued_jobs_and_from_the_command_line(
    processed, session, tmp_path, changed_classifier, capsys, run_worker_burst):
    from service.cli.reprocess import reprocess, run
    from service.domain.models import Classification
    from service.domain.reprocess import select_documents

    ids = select_documents(session, orgs=["org feria"])
    assert len(ids) == 1
    result = reprocess(session, ids, inline=False, on_enqueued=lambda jobs: run_worker_burst())
    assert result.reclassified == 1
    assert {f.level for f in result.flips} == {"documento", "postulacion"}
    assert session.scalar(select(func.count(Classification.id)).where(
        Classification.classifier_version == changed_classifier.version)) == 1

    report = tmp_path / "informe.csv"
    args = Namespace(all=True, org=None, since=None, dry_run=False, inline=True,
                     report=str(report))
    assert run(args) == 0
    out = capsys.readouterr().out
    assert changed_classifier.version in out
    assert "4 reclasificados, 1 ya estaban en esta versión" in out
    assert "marcadas para revisión" in out
    documents = {r["documento"] for r in report_rows(report)}
    assert documents >= {"feria.txt", "informe.txt"}
    assert session.scalar(select(func.count(Classification.id)).where(
        Classification.classifier_version == changed_classifier.version)) == 5


def test_the_command_waits_on_the_queue_and_wakes_when_a_job_ends(
        processed, session, changed_classifier, run_worker_burst):
    """Between polls, a queued reprocess waits on the jobs' results in Redis, not on a clock:
    it wakes when a job ends (a small reprocess was seen to end up to a poll late, ~0.1 s of
    a 100-document archive's 1.3 s), and at once for a job that ended before it waited."""
    import threading

    from service.domain.dispatch import get_dispatcher
    from service.domain.reprocess import enqueue_reclassify, select_documents

    dispatcher = get_dispatcher()
    tickets = enqueue_reclassify(select_documents(session, all_documents=True),
                                 changed_classifier.version)

    def waiting(seconds: float) -> threading.Thread:
        waiter = threading.Thread(target=dispatcher.wait, args=(tickets, seconds), daemon=True)
        waiter.start()
        return waiter

    waiter = waiting(600)
    waiter.join(0.5)
    assert waiter.is_alive()  # nothing ended yet: it waits
    run_worker_burst()
    waiter.join(60)
    assert not waiter.is_alive()  # woken by the end, not by its ten minutes
    assert set(dispatcher.finished(tickets)) == {t.id for t in tickets}
    again = waiting(600)
    again.join(60)
    assert not again.is_alive()


def test_reclassify_jobs_share_the_documents_among_the_workers(service_env):
    """One job per worker serving the batch queue (a job's own cost, a fork and rq's
    bookkeeping, paid no more often than that), at least 50 documents and at most 200 (what a
    job holds) each; with no worker counted, as with one."""
    from evidencia_queue.dispatch import get_queue, redis_connection
    from rq import Worker

    from service.domain.dispatch import get_dispatcher
    from service.domain.reprocess import job_size

    assert [job_size(100, w) for w in (0, 1, 2, 3)] == [100, 100, 50, 50]
    assert job_size(30, 2) == 50 and job_size(10_000, 2) == 200 and job_size(1, 1) == 50
    dispatcher = get_dispatcher()
    assert dispatcher.reclassify_workers() == 0
    connection = redis_connection()
    workers = [Worker([get_queue(lane, connection)], connection=connection)
               for lane in ("batch", "batch", "interactive")]
    for worker in workers:
        worker.register_birth()
    try:
        assert dispatcher.reclassify_workers() == 2  # the interactive-only one serves none
    finally:
        for worker in workers:
            worker.register_death()


def test_reports_of_the_same_second_do_not_overwrite_each_other(processed, tmp_path):
    """QA 2026-12-06: `reprocess --all` then `reprocess --org … --dry-run` in the same second
    wrote the same cambios-reproceso-<stamp>.csv: the run's report of flipped cells was lost.
    The batch summary's default name had the same fault."""
    from datetime import UTC, datetime

    from service.cli.reprocess import run
    from service.outputs.exports import new_report_path
    from service.settings import get_settings

    now = datetime(2026, 12, 6, 19, 45, 58, tzinfo=UTC)
    names = [new_report_path(tmp_path, "cambios-reproceso", now).name for _ in range(3)]
    assert names == ["cambios-reproceso-20261206-194558.csv",
                     "cambios-reproceso-20261206-194558-2.csv",
                     "cambios-reproceso-20261206-194558-3.csv"]

    args = Namespace(all=True, org=None, since=None, dry_run=True, inline=True, report=None)
    assert run(args) == 0 and run(args) == 0
    assert len(list(get_settings().data_dir.glob("cambios-reproceso-*.csv"))) == 2


def test_a_dry_run_says_truthfully_what_it_wrote(processed, session, capsys):
    """QA 2026-12-06: `reprocess --dry-run` ended "Simulación (--dry-run): no se guardó nada."
    right under the change report it had just written."""
    from service.cli.main import main
    from service.domain.models import Classification
    from service.settings import get_settings

    rows = session.scalar(select(func.count(Classification.id)))
    assert main(["reprocess", "--all", "--dry-run", "--inline"]) == 0
    out = capsys.readouterr().out
    (report,) = get_settings().data_dir.glob("cambios-reproceso-*.csv")
    assert "no se guardó nada" not in out
    assert ("Simulación (--dry-run): no se reclasificó ni se marcó nada en la base de datos; "
            f"el informe de cambios se escribió en {report}.") in out
    session.expire_all()
    assert session.scalar(select(func.count(Classification.id))) == rows


def test_reprocess_back_to_an_earlier_version_shows_it_again(processed, session):
    """QA 2026-12-06, 1,245 archive documents: after a classifier change was taken back (a
    pattern change reverted), `reprocess --all` said "0 reclasificados, 1245 ya estaban en esta
    versión" and reported 55 flipped cells and a flagged decision, yet every matrix kept showing
    the reverted version's results: the earlier version's rows existed, so nothing was stored,
    and the matrix counts the newest row."""
    import classifiers
    from service.cli.reprocess import reprocess
    from service.domain.matrix import current_classification
    from service.domain.models import Document
    from service.domain.reprocess import select_documents

    old_version = classifiers.CLASSIFIER_VERSION
    ids = select_documents(session, all_documents=True)
    mp = pytest.MonkeyPatch()
    try:
        double = ChangedClassifier(classifiers.classify, old_version + "+prueba")
        mp.setattr(classifiers, "classify", double)
        mp.setattr(classifiers, "CLASSIFIER_VERSION", double.version)
        changed = reprocess(session, ids, inline=True)
    finally:
        mp.undo()
    assert changed.reclassified == 5
    changed_flips = {(f.level, f.document_id, f.commitment) for f in changed.flips}
    assert changed_flips

    dry = reprocess(session, ids, dry_run=True)
    assert (dry.reclassified, dry.up_to_date) == (5, 0)
    back = reprocess(session, ids, inline=True)
    assert (back.reclassified, back.up_to_date) == (5, 0)
    assert {(f.level, f.document_id, f.commitment) for f in back.flips} == changed_flips
    assert all(f.old_version == double.version and f.new_version == old_version
               and f.new_supported is not f.old_supported for f in back.flips)
    assert [(f.document_id, f.commitment) for f in back.flips] == [
        (f.document_id, f.commitment) for f in dry.flips]

    session.expire_all()
    shown = {current_classification(d).classifier_version for d in session.scalars(
        select(Document))}
    assert shown == {old_version}
    assert _counts(session)["classifications"] == 10  # one row per version and document

    again = reprocess(session, ids, inline=True)
    assert (again.reclassified, again.up_to_date) == (0, 5)
    assert _counts(session)["classifications"] == 10


def test_a_file_sent_twice_in_a_submission_is_one_document_in_the_change_report(
        service_env, session, tmp_path, run_worker_burst, capsys):
    """QA 2026-12-07: an organisation's folder held the demo's activity report twice (the
    browser's "informe (1).pdf"); the matrix counts it once ("Duplicado de …"), but a reprocess
    whose new classifier changed it reported two flipped documents, "c4: … documentos +2", and
    a row for each copy in the change report."""
    import classifiers
    from service.cli.main import main
    from service.domain.batch import iter_items, load_batch
    from service.domain.matrix import load_matrix
    from service.domain.models import Submission
    from service.settings import get_settings

    report = (SAMPLES / "demo" / "informe-actividades-2025.pdf").read_bytes()
    root = write_tree(tmp_path / "archivo", {
        "Transportes Cordillera": {"informe.pdf": report, "informe (1).pdf": report}})
    load_batch(session, iter_items([root]))
    run_worker_burst()
    submission = session.scalar(select(Submission))
    view = load_matrix(session, submission.id)
    [first] = view.counted
    assert [d.duplicate_of for d in view.duplicates] == [first.id]

    mp = pytest.MonkeyPatch()
    try:
        double = ChangedClassifier(classifiers.classify,
                                   classifiers.CLASSIFIER_VERSION + "+prueba",
                                   marker="clases de español")
        mp.setattr(classifiers, "classify", double)
        mp.setattr(classifiers, "CLASSIFIER_VERSION", double.version)
        for dry in (["--dry-run"], []):
            assert main(["reprocess", "--all", "--inline", *dry]) == 0
            out = capsys.readouterr().out
            assert "2 documento(s) con texto guardado" in out  # both read by the new version
            assert "Celdas que cambiaron desde la versión anterior" in out
            assert "1 de documento, 1 de postulación" in out, out
            assert "c4: postulaciones +0 −1; documentos +0 −1" in out, out
            newest = max(get_settings().data_dir.glob("cambios-reproceso-*.csv"),
                         key=lambda p: p.stat().st_mtime_ns)
            rows = [r for r in report_rows(newest) if r["nivel"] == "documento"]
            assert [(r["documento_id"], r["documento"], r["compromiso"]) for r in rows] == [
                (first.id, first.name, "c4")]
    finally:
        mp.undo()


def test_a_mistyped_organisation_is_said(processed, capsys):
    """QA 2026-12-06: `reprocess --org "Minera Cerro Blanco"` (the organisation is "Minera
    Cerro Blanco SpA") answered "No hay documentos con texto extraído en ese alcance." with
    exit 0, as if the organisation had nothing to reprocess."""
    from service.cli.main import main

    assert main(["reprocess", "--org", "org feria", "Org Ferias", "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "No se encontró la organización «Org Ferias»" in err and "RUT" in err
    assert main(["reprocess", "--org", "ORG FERIA", "org mixta", "--dry-run"]) == 0
    assert "5 documento(s) con texto guardado" in capsys.readouterr().out


def test_since_is_a_day_in_chile(processed, session):
    """QA 2026-12-06: `reprocess --since 2026-12-06` started at midnight UTC, 21:00 of the 5th
    in Chile, so it took in what the pages show as uploaded on the 5th."""
    from datetime import UTC, date, datetime

    from service.domain.reprocess import select_documents

    times = {"Org Feria": datetime(2026, 12, 6, 1, 30, tzinfo=UTC),  # 22:30 of the 5th in Chile
             "Org Mixta": datetime(2026, 12, 6, 3, 30, tzinfo=UTC)}  # 00:30 of the 6th
    for name, submission in processed.items():
        submission.created_at = times[name]
        for document in submission.documents:
            document.created_at = times[name]
    session.commit()
    mixta = {d.id for d in processed["Org Mixta"].documents}
    assert set(select_documents(session, since=date(2026, 12, 6))) == mixta
    assert len(select_documents(session, since=date(2026, 12, 5))) == 5


def test_a_rerun_says_its_changes_were_made_before(processed, changed_classifier, capsys):
    """QA 2026-12-06: `reprocess --all` run again said "0 reclasificados" and then "Celdas que
    cambiaron: 47 de documento, 8 de postulación" and "marcadas para revisión" once more, as if
    the classifier had changed them again; they were the first run's changes."""
    from service.cli.main import main

    old_version = changed_classifier.version.removesuffix("+prueba")
    assert main(["reprocess", "--all", "--inline"]) == 0
    first = capsys.readouterr().out
    assert f"Celdas que cambiaron desde la versión anterior ({old_version}):" in first
    assert "Esta ejecución no reclasificó" not in first
    assert main(["reprocess", "--all", "--inline"]) == 0
    again = capsys.readouterr().out
    assert "0 reclasificados" in again
    assert "Esta ejecución no reclasificó ningún documento: son los cambios que ya aplicó una " \
           "anterior." in again


def test_ctrl_c_while_the_workers_reclassify_says_what_happens_next(
    processed, changed_classifier, capsys, monkeypatch, run_worker_burst
):
    """QA 2026-12-06: Ctrl-C while `reprocess --all` waited for the workers said only
    "Interrumpido.": nothing about the jobs left queued, nor how to get the change report."""
    from evidencia_queue.dispatch import RqDispatcher

    from service.cli.main import main

    def ctrl_c(_dispatcher, _tickets, _seconds):
        raise KeyboardInterrupt

    with monkeypatch.context() as mp:
        mp.setattr(RqDispatcher, "wait", ctrl_c)  # the key pressed while it waits
        assert main(["reprocess", "--all"]) == 130
    assert ("Interrumpido. Lo reclasificado quedó guardado y los trabajos ya encolados siguen "
            "en los workers: vuelva a ejecutar el mismo comando") in capsys.readouterr().err
    run_worker_burst()  # the queued jobs run
    assert main(["reprocess", "--all", "--inline"]) == 0
    out = capsys.readouterr().out
    assert "0 reclasificados" in out and "Celdas que cambiaron" in out


def test_an_interrupted_reprocess_leaves_no_empty_report(
    processed, changed_classifier, capsys, monkeypatch, tmp_path
):
    """Hygiene 2026-12-06: checking that --report could be written created it, empty, before
    the work: Ctrl-C (or no document in scope) left an empty CSV, or an empty
    cambios-reproceso-<stamp>.csv in the folder named, behind."""
    from evidencia_queue.dispatch import RqDispatcher

    from service.cli.main import main

    folder = tmp_path / "informes"
    folder.mkdir()
    reports = [tmp_path / "cambios.csv", folder]

    def ctrl_c(_dispatcher, _tickets, _seconds):
        raise KeyboardInterrupt

    with monkeypatch.context() as mp:
        mp.setattr(RqDispatcher, "wait", ctrl_c)
        for report in reports:
            assert main(["reprocess", "--all", "--report", str(report)]) == 130
    for report in reports:  # nothing in scope: no report
        assert main(["reprocess", "--since", "2999-01-01", "--report", str(report)]) == 0
    capsys.readouterr()
    assert not (tmp_path / "cambios.csv").exists() and list(folder.iterdir()) == []


def test_workers_not_restarted_after_a_classifier_change_are_said(
    processed, session, tmp_path, capsys, run_worker_burst
):
    """QA 2026-12-06: with the classifier changed and the workers not restarted, `reprocess
    --all` said "0 reclasificados, 1017 ya estaban en esta versión" and reported 47 changed
    cells: the workers had reclassified nothing (they run the old version) and the matrices
    showed none of those changes. Stamped, the jobs wait for restarted workers (the test
    below); here the stamps' record was deleted (``redis-cli DEL evidencia:stamps``, after a
    version was taken back), so the old workers run them, as before stamps."""
    from evidencia_queue.defaults import STAMPS_KEY
    from evidencia_queue.dispatch import redis_connection

    import classifiers
    from service.cli.reprocess import _print_summary, reprocess
    from service.domain.models import ReviewFlag
    from service.domain.reprocess import select_documents

    old_version, real_classify = classifiers.CLASSIFIER_VERSION, classifiers.classify
    ids = select_documents(session, all_documents=True)

    def workers_on_the_old_version(_tickets):
        redis_connection().delete(STAMPS_KEY)
        with pytest.MonkeyPatch.context() as old:  # the worker processes were not restarted
            old.setattr(classifiers, "classify", real_classify)
            old.setattr(classifiers, "CLASSIFIER_VERSION", old_version)
            run_worker_burst()

    with pytest.MonkeyPatch.context() as mp:
        double = ChangedClassifier(real_classify, old_version + "+prueba")
        mp.setattr(classifiers, "classify", double)
        mp.setattr(classifiers, "CLASSIFIER_VERSION", double.version)
        result = reprocess(session, ids, inline=False, on_enqueued=workers_on_the_old_version)
        _print_summary(result, None)
    assert (result.reclassified, result.up_to_date, result.other_version) == (0, 0, 5)
    assert result.worker_versions == {old_version}
    assert result.flips == [] and session.scalar(select(func.count(ReviewFlag.id))) == 0
    out = capsys.readouterr().out
    assert (f"5 documento(s) no se reclasificaron: los workers usan otra versión del "
            f"clasificador ({old_version}). Reinícielos") in out


def test_old_workers_leave_a_reprocess_to_restarted_ones(
    processed, session, capsys, monkeypatch, run_worker_burst
):
    """Reclassify jobs carried no stamp while document jobs did: a worker not restarted since
    the classifier changed ran them with the old classifier (and reclassified nothing). They
    are stamped now, as document jobs are (``evidencia_queue.stamps``): the old workers leave
    them, storing nothing; the command, still waiting, says why once, with the workers'
    version; restarted, the workers run them and the flips are flagged as usual."""
    from evidencia_queue.dispatch import RqDispatcher, get_queue, redis_connection
    from evidencia_queue.stamps import LEFT_META, STAMP_META

    import classifiers
    from service.cli.reprocess import reprocess
    from service.domain.models import ReviewFlag
    from service.domain.reprocess import select_documents
    from service.domain.results import classified_documents

    old_version, real_classify = classifiers.CLASSIFIER_VERSION, classifiers.classify
    ids = select_documents(session, all_documents=True)
    real_wait, restarted = RqDispatcher.wait, []

    def restart_the_workers_once(dispatcher, tickets, seconds):  # while the command waits
        if restarted:
            return real_wait(dispatcher, tickets, seconds)
        restarted.append(True)
        run_worker_burst()

    def workers_not_restarted(tickets):
        with pytest.MonkeyPatch.context() as old:
            old.setattr(classifiers, "classify", real_classify)
            old.setattr(classifiers, "CLASSIFIER_VERSION", old_version)
            mine = f"classifier={old_version};"
            run_worker_burst()
        jobs = [get_queue("batch", redis_connection()).fetch_job(t.id) for t in tickets]
        assert all(f"classifier={new_version};" in job.meta[STAMP_META]
                   and job.meta[LEFT_META].startswith(mine) for job in jobs)
        assert classified_documents(session, ids, new_version) == set()  # nothing stored
        monkeypatch.setattr(RqDispatcher, "wait", restart_the_workers_once)

    with pytest.MonkeyPatch.context() as mp:
        double = ChangedClassifier(real_classify, old_version + "+prueba")
        new_version = double.version
        mp.setattr(classifiers, "classify", double)
        mp.setattr(classifiers, "CLASSIFIER_VERSION", new_version)
        result = reprocess(session, ids, inline=False, on_enqueued=workers_not_restarted)
    assert restarted
    err = capsys.readouterr().err
    assert err.count("Los workers en marcha ejecutan una versión anterior") == 1
    assert (f"(clasificador {old_version}, lector " in err
            and "dejan la reclasificación en la cola para uno que ejecute la actual" in err)
    assert (result.reclassified, result.up_to_date, result.other_version) == (5, 0, 0)
    assert result.flips and session.scalar(select(func.count(ReviewFlag.id))) == 1


def test_a_stale_model_is_said_in_spanish_at_the_terminal(service_env, session, tmp_path,
                                                           run_worker_burst):
    """QA 2026-12-06: `evidencia reprocess` printed the classifier's English log record
    ("… WARNING classifiers.second_stage: second-stage model refused, classifying with rules
    alone: model artefact … is stale …") on the staff member's terminal. A real process with a
    promoted model trained for other rules in the data folder."""
    import json
    import os
    import subprocess
    import sys

    from classifiers import defaults
    from classifiers.second_stage import _checksum
    from service.domain.batch import iter_items, load_batch
    from tests.conftest import REPO

    load_batch(session, iter_items([write_tree(tmp_path / "archivo", {"Org": {"a.txt": ACTA}})]))
    run_worker_burst()
    body = json.loads(defaults.SECOND_STAGE_FILE.read_text(encoding="utf-8"))
    body["fingerprint"] = "otras-reglas"
    body["checksum"] = _checksum(body)
    promoted = service_env.data_dir / "model" / "second_stage.json"
    promoted.parent.mkdir(parents=True, exist_ok=True)
    promoted.write_text(json.dumps(body), encoding="utf-8")

    proc = subprocess.run(
        [sys.executable, "-m", "service.cli", "reprocess", "--all", "--dry-run", "--inline",
         "--report", str(tmp_path)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 0, proc.stderr
    assert "second-stage model refused" not in proc.stderr and "WARNING" not in proc.stderr
    notice = f"evidencia reprocess: Aviso: el modelo aprendido ({promoted}) está desactualizado"
    assert proc.stderr.count(notice) == 1, proc.stderr
    # the promoted model gives way to the packaged one, not to the rules alone
    assert "se clasifica con el modelo incluido en el programa" in proc.stderr
    assert ".nomodel" not in proc.stdout


#: what only other commands use (the web surface, the reports, the queue, the readers, the
#: archive and e-mail readers, mail), and what a reprocess needs only to tag a text (spaCy, and
#: srsly and numpy to keep its tokens)
_NOT_FOR_A_NEW_DECISION = ("fastapi", "starlette", "jinja2", "uvicorn", "openpyxl",
                           "reportlab", "rq", "redis", "argon2", "PIL", "pypdfium2", "pdfminer",
                           "docx", "smtplib", "numpy", "spacy", "thinc", "srsly",
                           "extractors.archive", "extractors.email_message")


@pytest.mark.parametrize("readings_kept", [True, False])
def test_an_inline_reprocess_of_cached_text_loads_only_what_it_uses(service_env, session,
                                                                     tmp_path, run_worker_burst,
                                                                     readings_kept):
    """Issue 12 (reprocess at archive speed): the process's start-up is most of an archive's
    reprocess, so `evidencia reprocess --inline` over text the workers already read imports
    neither the web surface, the reports' libraries, the queue nor the readers; after a change
    of the decision alone (a promoted model: the kept readings re-scored) neither numpy nor
    spaCy, and where the texts are analysed again (the readings gone, as after a change of the
    rules) from their cached tokens, neither spaCy, numpy nor srsly. A real process, the
    classifier's version changed in it as a new model does."""
    import json
    import os
    import subprocess
    import sys

    from service.domain.batch import iter_items, load_batch
    from service.settings import get_settings
    from tests.conftest import REPO

    load_batch(session, iter_items([write_tree(tmp_path / "archivo", {
        "Org": {"acta.txt": ACTA, "feria.txt": FERIA}})]))
    run_worker_burst()
    readings = get_settings().annotations_dir / "readings"
    assert readings.is_dir()
    if not readings_kept:
        from classifiers import engine

        readings.rename(readings.with_name("readings-aside"))
        # the patterns' validation remembered, as a worker that loaded them with this cache
        # leaves it (this test process loaded them before)
        marks = get_settings().annotations_dir / "patterns-validated"
        marks.mkdir(exist_ok=True)
        (marks / engine.get_ruleset().fingerprint()).touch()
    code = (
        "import json, sys, classifiers\n"
        "classifiers.CLASSIFIER_VERSION += '+otro-modelo'\n"
        "from service.cli import main\n"
        f"code = main(['reprocess', '--all', '--inline', '--report', {str(tmp_path)!r}])\n"
        f"print(json.dumps([code, sorted({{n for m in sys.modules for n in (m, m.split('.')[0])}} "
        f"& set({list(_NOT_FOR_A_NEW_DECISION)!r}))]))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 0, proc.stderr
    assert "2 reclasificados" in proc.stdout, proc.stdout
    code, loaded = json.loads(proc.stdout.strip().splitlines()[-1])
    assert (code, loaded) == (0, [])
