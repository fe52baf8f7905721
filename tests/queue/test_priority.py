"""Interactive work is not starved: a worker serving both queues takes applicants' uploads
(`interactive`) before archive jobs (`batch`), whatever order they were queued in."""

from __future__ import annotations

from sqlalchemy import select

from tests.documents import ACTA, FERIA, PLAN, POLITICA


def test_worker_takes_interactive_jobs_before_batch_jobs(service_env, session):
    from evidencia_queue.worker import run_worker

    from service.domain.models import Document
    from service.domain.submissions import add_files, create_submission

    archive, _ = create_submission(session, "Archivo histórico", None, source="batch",
                                   source_key="test:archivo")
    add_files(session, archive, [(f"{i}-{name}", text.encode())
                                 for i, (name, text) in enumerate(
                                     [("acta.txt", ACTA), ("plan.txt", PLAN),
                                      ("politica.txt", POLITICA)])],
              queue_name="batch")
    applicant, _ = create_submission(session, "Postulante", None)
    add_files(session, applicant, [("feria.txt", FERIA.encode())], queue_name="interactive")

    # queues named batch-first on purpose: the worker still serves interactive first
    run_worker(["batch", "interactive"], burst=True, simple=True, with_scheduler=False,
               do_requeue=False)

    session.expire_all()
    docs = session.scalars(select(Document).order_by(Document.started_at)).all()
    assert [d.status for d in docs] == ["done"] * 4
    assert docs[0].queue_name == "interactive" and docs[0].name == "feria.txt"
    assert [d.queue_name for d in docs[1:]] == ["batch"] * 3
