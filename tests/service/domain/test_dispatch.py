"""The service reaches the queue through one dispatcher; a failing one loses no upload."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO

NOTE = "Acta de reunión del comité de inclusión. Se acordó el plan de trabajo.".encode()


class FailingDispatcher:
    """The queue is down: nothing can be queued, nothing is known to run."""

    def __init__(self):
        self.attempts: list[str] = []

    def job_id(self, document_id):
        return f"job-{document_id}"

    def enqueue_document(self, document_id, lane):
        self.attempts.append(document_id)
        raise ConnectionError("queue unreachable")

    def is_live(self, document_id):
        return False


def test_uploads_are_kept_when_the_queue_fails_and_requeue_hands_them_over(
    service_env, run_worker_burst
):
    from service.db import SessionLocal
    from service.domain import dispatch
    from service.domain.models import Document
    from service.domain.submissions import add_files, create_submission

    failing = FailingDispatcher()
    previous = dispatch.install(failing)
    try:
        with SessionLocal() as session:
            submission, _ = create_submission(session, "Fundación Puentes del Sur", None)
            documents = add_files(session, submission, [("acta.txt", NOTE)])
            ids = [d.id for d in documents]
    finally:
        dispatch.install(previous)
    assert failing.attempts == ids
    with SessionLocal() as session:
        assert session.get(Document, ids[0]).status == "queued"  # the database is the truth

    assert dispatch.requeue_lost() == ids  # the configured dispatcher, once the queue is back
    run_worker_burst()
    with SessionLocal() as session:
        assert session.get(Document, ids[0]).status == "done"


def test_no_module_of_the_service_imports_the_queue_package():
    """Imports run queue -> service only: the service knows the queue by its settings' name."""
    found = subprocess.run(
        ["grep", "-rlE", r"^\s*(from|import) (evidencia_queue|rq)\b", "service"],
        cwd=REPO, capture_output=True, text=True,
    ).stdout.split()
    assert found == []
    # and importing the whole app does not load it either
    code = ("import sys, service.app, service.domain.pipeline; "
            "print([m for m in sys.modules if m.startswith(('evidencia_queue', 'rq'))])")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"
