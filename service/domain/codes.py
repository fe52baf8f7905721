"""The stable codes the rows hold: a document's status, stage and lane, a reviewer's action.

Below the tables that store them (``models.py``) and the transitions that assign them
(``lifecycle.py``): both import these, and neither the other the wrong way. This module is their
one owner: every reader imports them from here (``lifecycle.py`` does not export them again).
Stored as strings (``StrEnum`` compares equal to them); their Spanish wording lives in
``service.domain.messages``.
"""

from __future__ import annotations

import enum

__all__ = [
    "DocumentStatus",
    "Stage",
    "Lane",
    "DecisionAction",
    "PENDING_STATUSES",
    "POSITIVE_ACTIONS",
    "DECIDING_ACTIONS",
]


class DocumentStatus(enum.StrEnum):
    """Coarse status in the API contract."""

    queued = "queued"
    processing = "processing"
    done = "done"
    error = "error"


class Stage(enum.StrEnum):
    """Fine-grained progress; ``ocr`` comes with ``Document.stage_detail`` "n/m"."""

    queued = "queued"
    extracting = "extracting"
    ocr = "ocr"
    classifying = "classifying"
    done = "done"
    error = "error"


class Lane(enum.StrEnum):
    """Which queue a document waits in: workers serve ``interactive`` before ``batch``."""

    interactive = "interactive"  # an applicant is watching the page
    batch = "batch"  # archives of past submissions: thousands of jobs that may wait


class DecisionAction(enum.StrEnum):
    """What a reviewer recorded on one commitment of a submission (every entry is appended).

    ``confirm``, ``reject`` and ``attach`` decide; ``undo`` takes back the newest decision not
    yet undone (the commitment shows what it showed before); ``comment`` only adds words.
    """

    confirm = "confirm"
    reject = "reject"
    attach = "attach"  # supported by a document or excerpt the reviewer names
    undo = "undo"  # undoes the newest decision of the commitment not yet undone
    comment = "comment"  # a comment saved on its own: decides nothing


#: Statuses whose document still has work ahead of it.
PENDING_STATUSES = frozenset({DocumentStatus.queued, DocumentStatus.processing})
#: Decisions that make a commitment count as fulfilled.
POSITIVE_ACTIONS = frozenset({DecisionAction.confirm, DecisionAction.attach})
#: Entries that decide a commitment (what ``undo`` can take back).
DECIDING_ACTIONS = frozenset({DecisionAction.confirm, DecisionAction.reject,
                              DecisionAction.attach})
