"""The evidence matrix of a submission, built once: every surface reads this one value.

A ``SubmissionMatrix`` is a frozen picture of a submission: its documents with their progress
and, per commitment, each document's cell, the passages found (best first), the reviewer's
decision in force, the open review flags and the cell's :class:`CellStatus`. The API schema,
the applicant's and reviewers' pages, the CSV/XLSX exports, the PDF report and the batch summary
all read it; the reprocess flip report and ``evidencia analyze`` use its rules
(:func:`supported`, :func:`cell_status`).

The rules, each said once:

- a removed document counts nowhere;
- a document counts with its newest classification, once it is done
  (:func:`current_classification`); the same bytes sent again in a submission (directly or
  inside a ZIP) count once, the later copies listed apart as duplicates of the first;
- a commitment is supported in a submission when at least one document supports it; its
  confidence is the best supporting document's, else the weakest "no";
- a passage is evidence only in a cell that supports its commitment; in a cell that does not
  (the decision, since the eighth round the learned model's, said no)
  its passages are what was considered and found not enough (:attr:`Passage.supports`,
  :attr:`CommitmentRow.considered`), never shown as evidence;
- passages are ordered by score, then by their document's confidence; the same excerpt on
  the same page of a document (case, accents and spaces aside) is one passage, its best-scored
  copy with the rules of every copy (:func:`_distinct_passages`);
- the newest decision per commitment not undone is in force (:func:`in_force`): ``undo``
  takes back the newest one not yet undone, ``comment`` decides nothing; ``confirm`` and
  ``attach`` count as fulfilled; a decision about a document since removed or replaced is kept
  in the history and no longer in force (what it rested on counts nowhere): the cell shows
  the decision below it, or none, until a reviewer decides on what the submission holds now;
  so is a ``confirm`` naming no document once every document it rests on
  (:attr:`CommitmentRow.rests_on` when it was made, :attr:`DecisionEntry.endorsed_ids`) is
  removed or replaced; while one remains it holds. A confirmation stored before migration 0014
  has no such record and holds as before.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType
from typing import NamedTuple

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, aliased, joinedload, selectinload

from classifiers.result import COMMITMENT_IDS
from extractors.members import EMAIL_BODY_NAME
from service.domain import messages, workflow
from service.domain.codes import DECIDING_ACTIONS, POSITIVE_ACTIONS, DecisionAction, DocumentStatus
from service.domain.errors import NotFoundError
from service.domain.lifecycle import is_pending
from service.domain.models import (
    Classification,
    Decision,
    DecisionDocument,
    Document,
    ReviewFlag,
    Submission,
)
from service.domain.text import fold

__all__ = [
    "CellStatus",
    "Passage",
    "Cell",
    "DocumentEntry",
    "short_names",
    "first_copies",
    "DecisionEntry",
    "FlagEntry",
    "CommitmentRow",
    "SubmissionProgress",
    "SubmissionMatrix",
    "current_classification",
    "supported",
    "cell_status",
    "confidence_level",
    "build_matrix",
    "document_entry",
    "load_progress",
    "load_matrix",
    "load_matrices",
    "decisions_in_force",
    "decision_stacks",
    "in_force",
    "in_force_query",
]


class CellStatus(enum.StrEnum):
    """A commitment of a submission: what the reviewer decided last, or, while nobody has
    decided, what the classifier found."""

    confirmed = "confirmed"
    rejected = "rejected"
    detected = "detected"
    #: nothing found yet, but documents are still being read: not known to be missing
    pending = "pending"
    missing = "missing"

    @property
    def decided(self) -> bool:
        return self in (CellStatus.confirmed, CellStatus.rejected)

    @property
    def covered(self) -> bool:
        """Counts as fulfilled (what the matrix's ``missing`` list leaves out)."""
        return self in (CellStatus.confirmed, CellStatus.detected)

    @property
    def label(self) -> str:
        return messages.cell_status_label(self.value)


def cell_status(is_supported: bool, action: str | None, *, processing: bool = False
                ) -> CellStatus:
    """The reviewer's decision first; else found, else "still reading" while any document of
    the submission is queued or processing (``processing``), and only then missing."""
    if action is not None:
        return CellStatus.confirmed if action in POSITIVE_ACTIONS else CellStatus.rejected
    if is_supported:
        return CellStatus.detected
    return CellStatus.pending if processing else CellStatus.missing


#: Lower bounds of the confidence words ("alta", "media", "baja"). The confidence is calibrated
#: (the probability that the cell's yes or no is right): on the held-out corpus cells above 0.85
#: were right 97 % of the time, so "alta" means a reviewer may read quickly; under 0.6 the
#: classifier is close to a coin toss.
CONFIDENCE_LEVELS: tuple[tuple[float, str], ...] = ((0.85, "high"), (0.6, "medium"), (0.0, "low"))


def confidence_level(confidence: float) -> str:
    """``"high"``, ``"medium"`` or ``"low"``: what pages say instead of a percentage."""
    return next(level for bound, level in CONFIDENCE_LEVELS if confidence >= bound)


def supported(per_document: Iterable[bool]) -> bool:
    """A commitment is supported in a submission when one of its documents supports it."""
    return any(per_document)


def current_classification(document: Document) -> Classification | None:
    """The classification that counts for a document everywhere: the newest, once done."""
    if document.status != DocumentStatus.done or not document.classifications:
        return None
    return max(document.classifications, key=lambda c: c.id)


# --- the value ------------------------------------------------------------------------------------


def _fewest_parts(own: Sequence[str]) -> int:
    """An e-mail's text is a member the extractor names (``EMAIL_BODY_NAME``, "mensaje.txt"),
    not the applicant: it is shown with its e-mail's name ("correo.eml/mensaje.txt")."""
    return 2 if len(own) > 1 and own[-1] == EMAIL_BODY_NAME else 1


def _short(name: str) -> str:
    own = name.split("/")
    return "/".join(own[-_fewest_parts(own):])


def short_names(names: Sequence[str], *, whole: bool = False) -> list[str]:
    """How the pages show each name of a submission's documents, given in upload order: its
    last part where no other document of the submission has the same, else the shortest end of
    its path that no other name ends with ("2023/boletin.txt" beside "2024/boletin.txt"); an
    e-mail's text with its e-mail's name at least (:func:`_fewest_parts`). The same name
    again (two files both uploaded as «acta.txt»: no path tells them apart) is numbered by
    upload order from the second on, «acta.txt (2)». ``whole``: each name in full (the
    exports'), only the same names numbered."""
    parts = {name: tuple(name.split("/")) for name in names}
    ends = Counter(own[-k:] for own in parts.values() for k in range(1, len(own) + 1))
    shown = {name: name if whole else next(
        ("/".join(own[-k:]) for k in range(_fewest_parts(own), len(own)) if ends[own[-k:]] == 1),
        name) for name, own in parts.items()}
    seen: Counter[str] = Counter()
    out = []
    for name in names:
        seen[name] += 1
        out.append(shown[name] + (f" ({seen[name]})" if seen[name] > 1 else ""))
    return out


@dataclass(frozen=True, slots=True)
class Passage:
    """One excerpt with its page: the sentence or table row that proves the point when its
    document's cell supports the commitment (``supports``), else a passage the classifier
    considered and found not enough."""

    document_id: str
    document: str
    text: str
    page: int | None
    score: float
    pattern_ids: tuple[str, ...]
    confidence: float  # of its document's cell
    supports: bool = True  # its document's cell supports the commitment: evidence
    #: its document as the pages name it among the submission's (:func:`short_names`)
    document_short: str = ""

    @property
    def short_document(self) -> str:
        return self.document_short or _short(self.document)

    @property
    def role(self) -> str:
        """"evidencia" or "considerado, no suficiente", as every surface says it."""
        return messages.passage_role(self.supports)


@dataclass(frozen=True, slots=True)
class Cell:
    """One commitment × document: what the document's current classification says."""

    document_id: str
    document: str
    supported: bool
    confidence: float
    classifier_version: str
    passages: tuple[Passage, ...]  # best first
    #: what the rules alone decided, where the learned model took part; None when not known
    rules_supported: bool | None = None
    #: its document as the pages name it among the submission's (:func:`short_names`)
    document_short: str = ""

    @property
    def short_document(self) -> str:
        return self.document_short or _short(self.document)

    @property
    def best(self) -> Passage | None:
        return self.passages[0] if self.passages else None

    @property
    def overturned(self) -> bool:
        """The learned model took the decision the other way from the rules alone."""
        return self.rules_supported is not None and self.rules_supported != self.supported

    @property
    def overturned_note(self) -> str | None:
        """What a reviewer is told of it, in Spanish; None when not overturned."""
        return messages.overturned_note(self.supported) if self.overturned else None

    @property
    def confidence_level(self) -> str:
        return confidence_level(self.confidence)

    @property
    def pattern_ids(self) -> tuple[str, ...]:
        """The rules that matched its passages, best passage's first: the explanation."""
        return tuple(dict.fromkeys(pid for p in self.passages for pid in p.pattern_ids))

    @property
    def evidence(self) -> tuple[Passage, ...]:
        """Its passages when it supports the commitment, else none."""
        return self.passages if self.supported else ()

    @property
    def considered(self) -> tuple[Passage, ...]:
        """Its passages when it does not support the commitment: read, not enough."""
        return () if self.supported else self.passages


@dataclass(frozen=True, slots=True)
class DocumentEntry:
    id: str
    name: str
    status: str
    stage: str
    stage_detail: str | None
    error_code: str | None
    #: the words stored with the document (``Document.error``), written for a submission that
    #: takes uploads; shown through :attr:`error`
    stored_error: str | None
    mime: str | None
    size: int
    doc_type: str | None
    sha256: str | None
    pages: int
    ocr_pages: int
    created_at: datetime | None
    updated_at: datetime | None
    #: commitment id -> cell, for a document with a current classification
    cells: Mapping[str, Cell] = field(default_factory=lambda: MappingProxyType({}))
    #: the first document of the submission with the same bytes: this one is listed apart
    duplicate_of: str | None = None
    #: its submission takes no more uploads (``workflow.open_to_applicant``)
    uploads_closed: bool = False
    #: its name as the pages show it among the submission's (:func:`short_names`)
    short: str = ""
    #: its name in full as the exports show it, the same name again numbered (:func:`short_names`)
    full: str = ""

    @property
    def error(self) -> str | None:
        """Its error as every surface shows it, to the applicant and to reviewers alike:
        :func:`messages.document_error` of the stored words and the submission's state, so
        none tells to upload the file again once nothing can be uploaded."""
        return messages.document_error(self.error_code, self.stored_error,
                                       closed=self.uploads_closed)

    @property
    def pending(self) -> bool:
        return is_pending(self.status)

    @property
    def short_name(self) -> str:
        return self.short or _short(self.name)

    @property
    def full_name(self) -> str:
        return self.full or self.name

    @property
    def status_label(self) -> str:
        return messages.status_label(self.status)

    @property
    def stage_label(self) -> str:
        return messages.stage_label(self.stage, self.stage_detail)

    @property
    def doc_type_label(self) -> str | None:
        return messages.doc_type_name(self.doc_type) if self.doc_type else None


@dataclass(frozen=True, slots=True)
class DecisionEntry:
    id: int
    commitment: str
    action: str
    document_id: str | None
    excerpt: str | None
    page: int | None
    comment: str | None
    classifier_version: str | None
    reviewer: str | None
    created_at: datetime | None
    undoes_id: int | None = None
    #: a ``confirm`` naming no document: the documents it rests on, those the matrix showed as
    #: supporting the commitment when it was made (:attr:`CommitmentRow.rests_on`); it holds
    #: while one of them is in the submission. Empty for other entries and older confirmations
    endorsed_ids: tuple[str, ...] = ()

    @property
    def action_label(self) -> str:
        return messages.action_label(self.action)

    @property
    def decides(self) -> bool:
        return self.action in DECIDING_ACTIONS

    @classmethod
    def of(cls, decision: Decision) -> DecisionEntry:
        return cls(
            id=decision.id,
            commitment=decision.commitment,
            action=decision.action,
            document_id=decision.document_id,
            excerpt=decision.excerpt,
            page=decision.page,
            comment=decision.comment,
            classifier_version=decision.classifier_version,
            reviewer=decision.reviewer.username if decision.reviewer else None,
            created_at=decision.created_at,
            undoes_id=decision.undoes_id,
            endorsed_ids=tuple(e.document_id for e in decision.endorsements),
        )


@dataclass(frozen=True, slots=True)
class FlagEntry:
    """Reprocessing flipped the detection under a reviewer's decision: look again."""

    id: int
    commitment: str
    old_version: str
    new_version: str
    old_supported: bool
    new_supported: bool
    created_at: datetime | None


@dataclass(frozen=True, slots=True)
class CommitmentRow:
    id: str
    supported: bool
    confidence: float
    cells: tuple[Cell, ...]  # one per classified document, in upload order
    passages: tuple[Passage, ...]  # of the supporting documents, best first
    status: CellStatus
    decision: DecisionEntry | None
    flags: tuple[FlagEntry, ...]
    #: every entry of this commitment that carries a comment (saved alone or with a decision)
    comments: tuple[DecisionEntry, ...] = ()
    #: the newest excerpt a reviewer verified and no undo took back (attach, or confirm with
    #: an excerpt): evidence a confirmation may stand on
    attached: DecisionEntry | None = None
    #: passages of the documents that do not support it, best first: considered, not enough
    considered: tuple[Passage, ...] = ()

    @property
    def label(self) -> str:
        return messages.commitment_short(self.id)

    @property
    def comment_text(self) -> str:
        """All its comments, oldest first, as one line (exports)."""
        return " | ".join(c.comment for c in self.comments if c.comment)

    @property
    def name(self) -> str:
        return messages.commitment_name(self.id)

    @property
    def considered_note(self) -> str:
        """Its passages considered and not enough, in one line (exports); "" when none. Each
        document by its full name, as the exports' "Documento" column and quotes name it: two
        "boletin.txt" of an archive's folders are two places."""
        return messages.considered_note([(p.document, p.page) for p in self.considered])

    @property
    def best(self) -> Passage | None:
        return self.passages[0] if self.passages else None

    @property
    def confidence_level(self) -> str:
        return confidence_level(self.confidence)

    @property
    def rests_on(self) -> tuple[str, ...]:
        """The documents a confirmation naming none rests on, as the reviewer sees the cell:
        each document shown as supporting the commitment, and the document of the verified
        excerpt in force (:attr:`attached`) a confirmation may stand on. Recorded with the
        confirmation, so that it stops holding once the applicant has removed or replaced them
        all, and never extends to a document uploaded after it."""
        ids = [c.document_id for c in self.cells if c.supported]
        if self.attached is not None and self.attached.document_id:
            ids.append(self.attached.document_id)
        return tuple(dict.fromkeys(ids))

    @property
    def shown_passage(self) -> Passage | None:
        """The passage a one-line summary shows: while confirmed, the excerpt a reviewer
        verified (or the page of a document attached), else the best detected."""
        d = self.decision
        if self.status == CellStatus.confirmed:
            shown = self.attached or (d if d.action == DecisionAction.attach and d.page else None)
            if shown is not None:
                return Passage(shown.document_id or "", "", shown.excerpt or "", shown.page,
                               0.0, (), 0.0)
        return self.best


@dataclass(frozen=True, slots=True)
class SubmissionProgress:
    """A submission and its documents' progress (what clients poll: no classification)."""

    id: str
    organization: str
    rut: str | None
    source: str
    created_at: datetime | None
    documents: tuple[DocumentEntry, ...]

    @property
    def counted(self) -> tuple[DocumentEntry, ...]:
        """The documents that count: the same bytes sent again (directly or in a ZIP) are
        one document, the later copies listed apart (:attr:`duplicates`)."""
        return tuple(d for d in self.documents if d.duplicate_of is None)

    @property
    def duplicates(self) -> tuple[DocumentEntry, ...]:
        return tuple(d for d in self.documents if d.duplicate_of is not None)

    def counts(self) -> dict[str, int]:
        """Counted documents per status, every status present."""
        counts = {s.value: 0 for s in DocumentStatus}
        for d in self.counted:
            counts[d.status] = counts.get(d.status, 0) + 1
        return counts

    @property
    def n_pending(self) -> int:
        """Documents still being read, copies included (work is work)."""
        return sum(1 for d in self.documents if d.pending)

    @property
    def n_counted_pending(self) -> int:
        """Counted documents still being read (copies aside): with :attr:`n_done` and
        :attr:`n_errors` they add up to ``len(counted)``, as the batch summary's columns do."""
        return sum(1 for d in self.counted if d.pending)

    @property
    def n_errors(self) -> int:
        return sum(1 for d in self.counted if d.status == DocumentStatus.error)

    @property
    def n_done(self) -> int:
        return sum(1 for d in self.counted if d.status == DocumentStatus.done)

    @property
    def complete(self) -> bool:
        """No document queued or processing."""
        return self.n_pending == 0

    def document(self, document_id: str) -> DocumentEntry | None:
        return next((d for d in self.documents if d.id == document_id), None)

    def document_name(self, document_id: str | None) -> str:
        found = self.document(document_id) if document_id else None
        return found.full_name if found else ""

    def short_document_name(self, document_id: str | None) -> str:
        """A document's name as the pages show it (:func:`short_names`); the last part of
        :meth:`document_name` for one not among :attr:`documents`."""
        found = self.document(document_id) if document_id else None
        return found.short_name if found else _short(self.document_name(document_id))


@dataclass(frozen=True, slots=True)
class SubmissionMatrix(SubmissionProgress):
    """The evidence matrix: commitments × documents, decisions in force, history, flags."""

    commitments: tuple[CommitmentRow, ...] = ()
    history: tuple[DecisionEntry, ...] = ()  # every decision, oldest first
    #: id -> name of the documents removed or replaced, which count nowhere: only the history
    #: names them (a decision about one of them)
    removed: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def document_name(self, document_id: str | None) -> str:
        """A document's name; one since removed or replaced said so (the history's)."""
        name = SubmissionProgress.document_name(self, document_id)
        if name or not document_id or document_id not in self.removed:
            return name
        return messages.removed_document(self.removed[document_id])

    def decision_documents(self, entry: DecisionEntry) -> str:
        """What the history says an entry is about: the document it names, else the documents
        a confirmation naming none rests on, by name, each one since removed or replaced said
        so (a confirmation whose documents all read so is no longer in force: the reviewer sees
        why the cell no longer says «Confirmado»)."""
        if entry.document_id:
            return self.document_name(entry.document_id)
        return ", ".join(sorted(filter(None, map(self.document_name, entry.endorsed_ids))))

    @property
    def classifier_versions(self) -> list[str]:
        return sorted({cell.classifier_version for c in self.commitments for cell in c.cells})

    @property
    def missing(self) -> list[str]:
        """Commitments not covered, after the reviewer's decisions; those still waiting for a
        document being read are not listed (see :attr:`waiting`)."""
        return [c.id for c in self.commitments
                if not c.status.covered and c.status != CellStatus.pending]

    @property
    def waiting(self) -> list[str]:
        """Commitments with no evidence yet while documents are still being read."""
        return [c.id for c in self.commitments if c.status == CellStatus.pending]

    @property
    def n_detected(self) -> int:
        return sum(1 for c in self.commitments if c.supported)

    @property
    def n_covered(self) -> int:
        """Commitments counted as fulfilled after the reviewer's decisions (detected and not
        rejected, or confirmed): what the applicant's checklist ticks."""
        return sum(1 for c in self.commitments if c.status.covered)

    @property
    def n_confirmed(self) -> int:
        return sum(1 for c in self.commitments if c.status == CellStatus.confirmed)

    def commitment(self, cid: str) -> CommitmentRow:
        return next(c for c in self.commitments if c.id == cid)

    @property
    def last_decision(self) -> DecisionEntry | None:
        """The newest decision in force on any commitment: what "Deshacer" (Z) takes back."""
        decided = [c.decision for c in self.commitments if c.decision is not None]
        return max(decided, key=lambda d: d.id, default=None)


# --- building it ----------------------------------------------------------------------------------


def _document_entry(document: Document, submission: Submission, *,
                    with_results: bool) -> DocumentEntry:
    """``with_results``: classifications and extraction are loaded (else progress only)."""
    extraction = document.extraction if with_results else None
    classification = current_classification(document) if with_results else None
    cells = _cells_of(document, classification)
    return DocumentEntry(
        id=document.id,
        name=document.name,
        status=document.status,
        stage=document.stage,
        stage_detail=document.stage_detail,
        error_code=document.error_code,
        stored_error=document.error,
        mime=document.mime,
        size=document.size or 0,
        doc_type=document.doc_type or (classification.doc_type if classification else None),
        sha256=document.sha256,
        pages=extraction.page_count if extraction else 0,
        ocr_pages=extraction.ocr_pages if extraction else 0,
        created_at=document.created_at,
        updated_at=document.updated_at,
        cells=MappingProxyType(dict(cells)),
        uploads_closed=not workflow.open_to_applicant(submission.status),
    )


def first_copies(documents: Iterable) -> dict[str, str]:
    """sha256 -> the id of the first of a submission's live documents with those bytes (the
    earliest ``created_at``, then id; anything with ``id``, ``sha256`` and ``created_at``):
    every later one is its duplicate. ``listing.is_duplicate`` says the same in SQL."""
    first: dict[str, str] = {}
    for d in sorted((d for d in documents if d.sha256), key=lambda d: (d.created_at, d.id)):
        first.setdefault(d.sha256, d.id)
    return first


def _mark_duplicates(documents: Iterable[DocumentEntry]) -> tuple[DocumentEntry, ...]:
    """Each later document with the same bytes (sha256) as an earlier one of the submission
    points at the first (:func:`first_copies`)."""
    documents = tuple(documents)
    first = first_copies(documents)
    return tuple(
        replace(d, duplicate_of=first[d.sha256])
        if d.sha256 and first[d.sha256] != d.id else d
        for d in documents
    )


def _with_short_names(documents: tuple[DocumentEntry, ...]) -> tuple[DocumentEntry, ...]:
    """The documents, each (and its cells and passages) with its name as the pages show it
    among the others and in full as the exports do (:func:`short_names`, in upload order)."""
    ordered = sorted(documents, key=lambda d: (d.created_at is None, d.created_at or 0, d.id))
    names = [d.name for d in ordered]
    shown = dict(zip((d.id for d in ordered), zip(short_names(names),
                                                  short_names(names, whole=True),
                                                  strict=True), strict=True))

    def cell(c: Cell) -> Cell:
        short, full = shown.get(c.document_id, ("", c.document))
        return replace(c, document=full, document_short=short, passages=tuple(
            replace(p, document=full, document_short=short) for p in c.passages))

    return tuple(
        replace(d, short=shown[d.id][0], full=shown[d.id][1],
                cells=MappingProxyType({cid: cell(c) for cid, c in d.cells.items()}))
        for d in documents
    )


def document_entry(document: Document) -> DocumentEntry:
    """One document's progress, without reading its classifications."""
    return _document_entry(document, document.submission, with_results=False)


def _distinct_passages(passages: Iterable[Passage]) -> tuple[Passage, ...]:
    """Each excerpt of a document once: copies with the same page and text (case, accents and
    spaces aside; two rules matched the same sentence) are one passage, the best-scored copy
    with every copy's rules after its own. Best first."""
    kept: dict[tuple, Passage] = {}
    for p in passages:
        key = (p.document_id, p.page, " ".join(fold(p.text).split()))
        other = kept.get(key)
        if other is None:
            kept[key] = p
            continue
        best, rest = (p, other) if p.score > other.score else (other, p)
        kept[key] = replace(best, pattern_ids=tuple(dict.fromkeys(
            best.pattern_ids + rest.pattern_ids)))
    return tuple(sorted(kept.values(), key=lambda p: p.score, reverse=True))


def _cells_of(document: Document, classification: Classification | None) -> dict[str, Cell]:
    if classification is None:
        return {}
    cells = {}
    for result in classification.results:
        passages = _distinct_passages(
            Passage(
                document_id=document.id,
                document=document.name,
                text=ev.get("text", ""),
                page=ev.get("page"),
                score=float(ev.get("score") or 0.0),
                pattern_ids=tuple(ev.get("pattern_ids") or ()),
                confidence=float(result.confidence),
                supports=bool(result.supported),
            )
            for ev in (result.evidence or [])
        )
        cells[result.commitment] = Cell(
            document_id=document.id,
            document=document.name,
            supported=bool(result.supported),
            confidence=float(result.confidence),
            classifier_version=classification.classifier_version,
            passages=passages,
            rules_supported=result.rules_supported,
        )
    return cells


def _flag_entry(flag: ReviewFlag) -> FlagEntry:
    return FlagEntry(
        id=flag.id,
        commitment=flag.commitment,
        old_version=flag.old_version,
        new_version=flag.new_version,
        old_supported=flag.old_supported,
        new_supported=flag.new_supported,
        created_at=flag.created_at,
    )


def _commitment_row(
    cid: str,
    documents: Sequence[DocumentEntry],
    decision: DecisionEntry | None,
    flags: tuple[FlagEntry, ...],
    processing: bool = False,
    comments: tuple[DecisionEntry, ...] = (),
    attached: DecisionEntry | None = None,
) -> CommitmentRow:
    cells = tuple(d.cells[cid] for d in documents if cid in d.cells)
    supporting = [c for c in cells if c.supported]
    if supporting:
        confidence = max(c.confidence for c in supporting)
    else:  # not detected anywhere: how sure we are it is absent (the weakest "no")
        confidence = min((c.confidence for c in cells), default=0.0)
    passages = _best_first(p for c in supporting for p in c.passages)
    is_supported = supported(c.supported for c in cells)
    return CommitmentRow(
        id=cid,
        supported=is_supported,
        confidence=round(float(confidence), 4),
        cells=cells,
        passages=passages,
        considered=_best_first(p for c in cells for p in c.considered),
        status=cell_status(is_supported, decision.action if decision else None,
                           processing=processing),
        decision=decision,
        flags=flags,
        comments=comments,
        attached=attached,
    )


def _best_first(passages: Iterable[Passage]) -> tuple[Passage, ...]:
    return tuple(sorted(passages, key=lambda p: (p.score, p.confidence), reverse=True))


def build_matrix(
    submission: Submission, decisions: Iterable[Decision], open_flags: Iterable[ReviewFlag]
) -> SubmissionMatrix:
    """The matrix of a loaded submission (documents, classifications and results loaded)."""
    documents = _with_short_names(_mark_duplicates(
        _document_entry(d, submission, with_results=True) for d in submission.documents
        if d.removed_at is None
    ))
    counted = [d for d in documents if d.duplicate_of is None]
    history = tuple(DecisionEntry.of(d) for d in decisions)
    removed = {d.id: d.name for d in submission.documents if d.removed_at is not None}
    stacks = decision_stacks(history, removed)
    flags = tuple(_flag_entry(f) for f in open_flags)
    processing = any(d.pending for d in counted)
    commitments = tuple(
        _commitment_row(
            cid, counted, (stacks.get(cid) or [None])[-1],
            tuple(f for f in flags if f.commitment == cid), processing,
            tuple(h for h in history if h.commitment == cid and h.comment),
            _attached(stacks.get(cid, [])),
        )
        for cid in COMMITMENT_IDS
    )
    return SubmissionMatrix(
        **_header(submission), documents=documents, commitments=commitments, history=history,
        removed=MappingProxyType(removed),
    )


def _attached(stack: list[DecisionEntry]) -> DecisionEntry | None:
    return next((d for d in reversed(stack) if d.action in POSITIVE_ACTIONS and d.excerpt), None)


def _header(submission: Submission) -> dict:
    return {
        "id": submission.id,
        "organization": submission.organization.name,
        "rut": submission.organization.rut,
        "source": submission.source,
        "created_at": submission.created_at,
    }


# --- loading it -----------------------------------------------------------------------------------


def _submissions(session: Session, ids: list[str], *, with_results: bool) -> list[Submission]:
    documents = selectinload(Submission.documents)
    options = [selectinload(Submission.organization)]
    if with_results:
        options += [
            documents.selectinload(Document.classifications).selectinload(
                Classification.results
            ),
            selectinload(Submission.documents).selectinload(Document.extraction),
        ]
    else:
        options.append(documents)
    return list(session.scalars(select(Submission).where(Submission.id.in_(ids)).options(*options)))


def load_progress(session: Session, submission_id: str) -> SubmissionProgress:
    """A submission with its documents' progress; raises NotFoundError. Clients poll it, so
    it reads no classification, and the submission with its organisation usually comes from
    the session (the access check loaded it): one query for the documents."""
    submission = session.get(
        Submission, submission_id, options=[joinedload(Submission.organization)]
    )
    if submission is None:
        raise NotFoundError(code="submission_not_found")
    rows = session.scalars(
        select(Document)
        .where(Document.submission_id == submission_id, Document.removed_at.is_(None))
        .order_by(Document.created_at)
    )
    documents = _with_short_names(_mark_duplicates(
        _document_entry(d, submission, with_results=False) for d in rows))
    return SubmissionProgress(**_header(submission), documents=documents)


def load_matrix(session: Session, submission_id: str) -> SubmissionMatrix:
    """The matrix of one submission; raises NotFoundError."""
    matrices = load_matrices(session, [submission_id])
    if submission_id not in matrices:
        raise NotFoundError(code="submission_not_found")
    return matrices[submission_id]


def load_matrices(session: Session, submission_ids: Iterable[str]) -> dict[str, SubmissionMatrix]:
    """Matrices of many submissions in a few queries per chunk (batch summaries)."""
    ids = list(dict.fromkeys(submission_ids))
    out: dict[str, SubmissionMatrix] = {}
    for start in range(0, len(ids), 200):
        chunk = ids[start : start + 200]
        decisions: dict[str, list[Decision]] = {sid: [] for sid in chunk}
        for d in session.scalars(
            select(Decision)
            .where(Decision.submission_id.in_(chunk))
            .options(selectinload(Decision.reviewer))
            .order_by(Decision.id)
        ):
            decisions[d.submission_id].append(d)
        flags: dict[str, list[ReviewFlag]] = {sid: [] for sid in chunk}
        for f in session.scalars(
            select(ReviewFlag)
            .where(ReviewFlag.submission_id.in_(chunk), ReviewFlag.resolved_at.is_(None))
            .order_by(ReviewFlag.id)
        ):
            flags[f.submission_id].append(f)
        for submission in _submissions(session, chunk, with_results=True):
            out[submission.id] = build_matrix(
                submission, decisions[submission.id], flags[submission.id]
            )
    return out


def decision_stacks(entries: Iterable, removed: Collection[str] = ()) -> dict[str, list]:
    """commitment -> its decisions in force or below it, oldest first, from a submission's
    entries oldest first (anything with ``commitment`` and ``action``, and ``undoes_id``,
    ``document_id`` and ``endorsed_ids`` when known): each decision goes on its commitment's
    stack, ``undo`` takes off the one it names (the top, unless that one rested on a document
    since ``removed``), ``comment`` is not a decision. Decisions about a ``removed`` document,
    and those whose ``endorsed_ids`` are all ``removed``, are left out."""
    stacks: dict[str, list] = {}
    for entry in entries:
        stack = stacks.setdefault(entry.commitment, [])
        if entry.action in DECIDING_ACTIONS:
            stack.append(entry)
        elif entry.action == DecisionAction.undo and stack:
            undoes = getattr(entry, "undoes_id", None)
            named = [i for i, e in enumerate(stack) if undoes is not None and e.id == undoes]
            stack.pop(named[-1] if named else -1)
    if removed:
        for cid, stack in stacks.items():
            stacks[cid] = [e for e in stack if not _rests_on_removed(e, removed)]
    return stacks


def _rests_on_removed(entry, removed: Collection[str]) -> bool:
    """The document an entry names is ``removed``, or every document it rests on is."""
    endorsed = getattr(entry, "endorsed_ids", ())
    return (getattr(entry, "document_id", None) in removed
            or bool(endorsed) and all(d in removed for d in endorsed))


def in_force(entries: Iterable, removed: Collection[str] = ()) -> dict:
    """commitment -> the entry in force: the top of :func:`decision_stacks`. What
    :func:`in_force_query` says in SQL."""
    return {cid: stack[-1] for cid, stack in decision_stacks(entries, removed).items() if stack}


def in_force_query(submission_ids=None):
    """The decisions in force (one per decided commitment) as a SELECT of ``Decision`` rows,
    for aggregates in SQL (the reviewers' list and dashboard): a decision not undone, not
    about a removed document and, when it rests on documents (``decision_documents``), with
    one of them not removed, with no later such decision. An ``undo`` names the entry it takes
    back (``undoes_id``), so this is :func:`in_force`'s stack top. ``submission_ids`` limits it
    to those submissions inside (a filter outside does not reach the window below)."""
    deciding = [a.value for a in DECIDING_ACTIONS]

    # the decisions resting only on retired documents are few: said once (a CTE, which both
    # databases compute once however often it is read) instead of for every decision twice
    retired = _retired_decisions(submission_ids).cte("retired")

    def standing(row):
        undo = aliased(Decision)
        gone = aliased(Document)
        return and_(
            ~select(undo.id).where(undo.undoes_id == row.id).exists(),
            ~select(gone.id).where(gone.id == row.document_id,
                                   gone.removed_at.is_not(None)).exists(),
            ~select(retired.c.decision_id).where(retired.c.decision_id == row.id).exists(),
        )

    later = aliased(Decision)
    q = select(Decision).where(
        Decision.action.in_(deciding),
        standing(Decision),
        ~select(later.id)
        .where(
            later.submission_id == Decision.submission_id,
            later.commitment == Decision.commitment,
            later.id > Decision.id,
            later.action.in_(deciding),
            standing(later),
        )
        .exists(),
    )
    if submission_ids is not None:
        q = q.where(Decision.submission_id.in_(submission_ids))
    return q.add_cte(retired, nest_here=True)


class _Entry(NamedTuple):
    """A decision as :func:`decision_stacks` reads it, without loading the ORM row."""

    id: int
    submission_id: str
    commitment: str
    action: str
    undoes_id: int | None
    document_id: str | None
    endorsed_ids: tuple[str, ...]


def _retired_decisions(submission_ids=None):
    """The ids of the decisions (of ``submission_ids``, default all) that rest on documents
    (``decision_documents``) that have all since been removed or replaced: one of them is
    removed and none is not. Said as one NOT EXISTS per level, which PostgreSQL turns into
    anti-joins and SQLite answers by index probes (an OR of "no record" and "one remains" made
    PostgreSQL plan the dashboard's query at a cost that had it JIT-compiled, 2 s more)."""
    rests, gone = aliased(DecisionDocument), aliased(Document)
    other, live = aliased(DecisionDocument), aliased(Document)
    q = (
        select(rests.decision_id)
        .join(gone, gone.id == rests.document_id)
        .where(
            gone.removed_at.is_not(None),
            ~select(other.decision_id)
            .join(live, live.id == other.document_id)
            .where(other.decision_id == rests.decision_id, live.removed_at.is_(None))
            .exists(),
        )
    )
    if submission_ids is not None:
        q = q.where(rests.decision_id.in_(
            select(Decision.id).where(Decision.submission_id.in_(submission_ids))))
    return q


def decisions_in_force(session: Session, submission_ids: Iterable[str]) -> dict[tuple, str]:
    """(submission, commitment) -> action of the decision in force, for many submissions at
    once (the reprocess flip report; the matrix applies the same rule in :func:`build_matrix`)."""
    ids = list(dict.fromkeys(submission_ids))
    out: dict[tuple, str] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        endorsed: dict[int, list[str]] = {}
        for decision_id, document_id in session.execute(
            select(DecisionDocument.decision_id, DecisionDocument.document_id)
            .join(Decision, Decision.id == DecisionDocument.decision_id)
            .where(Decision.submission_id.in_(chunk))
        ):
            endorsed.setdefault(decision_id, []).append(document_id)
        rows: dict[str, list] = {}
        for row in session.execute(
            select(Decision.id, Decision.submission_id, Decision.commitment, Decision.action,
                   Decision.undoes_id, Decision.document_id)
            .where(Decision.submission_id.in_(chunk))
            .order_by(Decision.id)
        ):
            rows.setdefault(row.submission_id, []).append(
                _Entry(*row, tuple(endorsed.get(row.id, ()))))
        removed = set(session.scalars(
            select(Document.id).where(Document.submission_id.in_(chunk),
                                      Document.removed_at.is_not(None))
        ))
        for sub_id, entries in rows.items():
            for commitment, entry in in_force(entries, removed).items():
                out[(sub_id, commitment)] = entry.action
    return out
