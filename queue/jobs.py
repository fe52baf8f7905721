"""The rq jobs: ids in, the service's pipeline does the work (``service.domain.pipeline``).

rq imports these by name (``evidencia_queue.jobs.process_document``) in the work horse. What
rq alone knows about a run (retries left, its timeout exception) goes to the pipeline as an
:class:`RqAttempt`; everything else, failures included, is the pipeline's.
"""

from __future__ import annotations

from collections.abc import Iterable

from rq import get_current_job
from rq.timeouts import JobTimeoutException

from extractors.options import ExtractOptions
from service.domain import mail, pipeline

__all__ = ["process_document", "reclassify_documents", "send_email", "use_options",
           "RqAttempt"]

#: The extraction options of this worker process, set once by ``run_worker`` before it serves
#: (work horses fork from it and inherit them).
_options = ExtractOptions()


def use_options(options: ExtractOptions) -> None:
    """The worker's start-up sets the options every job of this process extracts with."""
    global _options
    _options = options


class RqAttempt:
    """This run of the current rq job, as ``service.domain.pipeline.Attempt``."""

    timeout_errors = (JobTimeoutException,)

    def __init__(self):
        self.job = get_current_job()

    @property
    def last(self) -> bool:
        return self.job is None or not self.job.retries_left

    def stop_retries(self) -> None:
        if self.job is not None:
            self.job.retries_left = 0


def process_document(document_id: str) -> dict:
    """Extract (or reuse), classify and store one document."""
    return pipeline.process_document(document_id, options=_options, attempt=RqAttempt())


def reclassify_documents(document_ids: Iterable[str]) -> dict:
    """Reclassify a chunk of documents from their stored text (``evidencia reprocess``)."""
    return pipeline.reclassify_documents(document_ids)


def send_email(outbox_id: int) -> str:
    """Send one outbox e-mail; a failure raises (rq retries) until the last attempt."""
    return mail.send_outbox(outbox_id, last_attempt=RqAttempt().last)
