"""A rolling upgrade: a document job stamped by one code, a worker running another (the real
Redis and both databases, rq's worker in-process, its own code stood in for by the classifier
version it stamps and stores: ``classifiers.CLASSIFIER_VERSION``, as the reprocess tests do).

Bug: a worker ran any job and stored its results stamped with its own version, so an old worker
that took a job new code had enqueued stored stale results. Now an older worker leaves the job
for a worker that runs the newer code (nothing stored, a log line), and a newer worker runs a
job older code enqueued (its results supersede it)."""

from __future__ import annotations

import logging

from sqlalchemy import select

NOTE = "Acta de reunión del comité. Se acordó revisar el calendario de turnos.".encode()


def _submit(name: str) -> str:
    from service.db import SessionLocal
    from service.domain.submissions import add_files, create_submission

    with SessionLocal() as session:
        submission, _token = create_submission(session, "Fundación Puentes del Sur", None)
        [document] = add_files(session, submission, [(name, NOTE)])
        return document.id


def _state(document_id: str) -> tuple[str, list[str]]:
    """The document's status and the classifier versions of what is stored for it."""
    from service.db import SessionLocal
    from service.domain.models import Classification, Document

    with SessionLocal() as session:
        status = session.get(Document, document_id).status
        versions = list(session.scalars(select(Classification.classifier_version).where(
            Classification.document_id == document_id).order_by(Classification.id)))
    return status, versions


def _work(queues=("interactive", "batch")) -> None:
    from evidencia_queue.worker import run_worker

    run_worker(list(queues), simple=True, burst=True, with_scheduler=False, do_requeue=False)


def test_an_old_worker_leaves_a_job_new_code_stamped_and_a_new_worker_runs_an_old_one(
        service_env, monkeypatch, caplog):
    from evidencia_queue.dispatch import get_queue, job_id_for, redis_connection
    from evidencia_queue.stamps import STAMP_META
    from rq.job import Job

    import classifiers

    def code(version: str) -> None:
        monkeypatch.setattr(classifiers, "CLASSIFIER_VERSION", version)

    caplog.set_level(logging.INFO, logger="evidencia_queue")
    connection = redis_connection()
    interactive = get_queue("interactive", connection)

    code("2026.old")  # the code in force: enqueues and runs its own jobs
    first = _submit("primera.txt")
    _work()
    assert _state(first) == ("done", ["2026.old"])

    code("2026.new")  # the new API is up: its jobs carry its stamp
    second = _submit("segunda.txt")
    job = Job.fetch(job_id_for(second), connection=connection)
    assert "classifier=2026.new;" in job.meta[STAMP_META]

    code("2026.old")  # an old worker takes it: leaves it, stores nothing
    caplog.clear()
    _work()
    assert _state(second) == ("queued", [])
    assert interactive.job_ids == [job_id_for(second)]
    [left] = [r for r in caplog.records if "left in queue interactive" in r.getMessage()]
    assert left.levelno == logging.WARNING and "2026.new" in left.getMessage()
    # one queue: rq moves the job to its intermediate list first; it is taken back from there
    _work(("interactive",))
    assert _state(second) == ("queued", [])
    assert interactive.job_ids == [job_id_for(second)]
    assert connection.llen(interactive.intermediate_queue_key) == 0

    code("2026.new")  # a worker of the new code runs it
    _work()
    assert _state(second) == ("done", ["2026.new"])
    assert interactive.job_ids == []

    code("2026.old")  # vice versa: a job the old API stamped ...
    third = _submit("tercera.txt")
    code("2026.new")  # ... run by a new worker: its results are the newer code's
    caplog.clear()
    _work()
    assert _state(third) == ("done", ["2026.new"])
    assert any("stamped by older code" in r.getMessage() for r in caplog.records)


def test_a_job_without_a_stamp_or_with_one_this_redis_never_saw_runs(service_env):
    """Jobs enqueued before stamps existed, and stamps whose record was flushed, run anywhere
    rather than wait for an order nobody can tell."""
    from evidencia_queue.defaults import STAMPS_KEY
    from evidencia_queue.dispatch import job_id_for, redis_connection
    from evidencia_queue.stamps import STAMP_META
    from rq.job import Job

    connection = redis_connection()
    ids = [_submit("sin-sello.txt"), _submit("sello-olvidado.txt")]
    unstamped = Job.fetch(job_id_for(ids[0]), connection=connection)
    unstamped.meta.pop(STAMP_META)
    unstamped.save_meta()
    forgotten = Job.fetch(job_id_for(ids[1]), connection=connection)
    forgotten.meta[STAMP_META] = "classifier=2027.future;extractor=x"
    forgotten.save_meta()
    connection.delete(STAMPS_KEY)
    _work()
    assert [_state(i)[0] for i in ids] == ["done", "done"]
