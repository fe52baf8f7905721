"""Re-classifying stored text with the current classifier, and the cells it flips.

No file is read and no page is OCR'd again: the classifier's input is rebuilt from the stored
extraction rows. Each run appends results under the new classifier version (earlier versions are
kept). The change report lists every cell that flipped between a document's previous result and
the new one, and every submission-level cell (the matrix) that flipped. A reviewer's decision is
never touched: when the cell under a decision flips, a ReviewFlag asks the reviewer to look again.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

__all__ = [
    "Flip",
    "ReprocessResult",
    "select_documents",
    "reclassify_inline",
    "enqueue_reclassify",
    "job_size",
    "dry_run_results",
    "compute_flips",
    "flag_decided_flips",
]

#: Documents per transaction when reclassifying in this process (``--inline``), and at most
#: per reclassify job: each reads its chunk's text in two queries and writes its results in one
#: transaction, so this bounds what one holds.
INLINE_CHUNK = 200
#: Documents at least per reclassify job: a job's own cost (a fork, rq's bookkeeping, the
#: chunk's queries) is that of a few dozen documents whose readings are kept.
MIN_JOB_DOCUMENTS = 50

LEVEL_DOCUMENT = "documento"
LEVEL_SUBMISSION = "postulacion"


@dataclass(frozen=True, slots=True)
class Flip:
    """One cell whose ``supported`` changed between the previous and the new classifier."""

    level: str  # LEVEL_DOCUMENT or LEVEL_SUBMISSION
    submission_id: str
    organization: str
    rut: str | None
    document_id: str | None
    document: str | None
    commitment: str
    old_version: str
    new_version: str
    old_supported: bool
    new_supported: bool
    decision: str | None = None  # reviewer's decision in force on the submission cell
    flagged: bool = False


@dataclass
class ReprocessResult:
    version: str
    documents: int = 0  # in scope, with stored text
    reclassified: int = 0
    up_to_date: int = 0
    failed: int = 0
    #: sent to workers that run another classifier version (not restarted since it changed):
    #: these documents do not show ``version``; the versions they show instead
    other_version: int = 0
    worker_versions: frozenset[str] = frozenset()
    flips: list[Flip] | None = None
    flags_created: int = 0
    dry_run: bool = False


# --------------------------------------------------------------------------------------------
# Scope


def select_documents(
    session: Session,
    *,
    all_documents: bool = False,
    orgs: Iterable[str] | None = None,
    since: date | None = None,
) -> list[str]:
    """Ids of documents with stored extracted text in the scope, oldest first.

    ``orgs`` match an organisation's name (case-insensitive) or RUT, each at least one (else
    UsageError: a mistyped name is said, not taken for an empty scope); ``since`` takes whole
    submissions created on or after that day (Chile's, as every page shows times), or that
    received documents since then.
    """
    from service.domain.models import Document, Organization, Submission

    query = (
        select(Document.id)
        .join(Submission, Document.submission_id == Submission.id)
        .join(Organization, Submission.organization_id == Organization.id)
        .where(Document.extraction_id.is_not(None), Document.removed_at.is_(None))
        .order_by(Submission.created_at, Document.created_at, Document.id)
    )
    if orgs:
        wanted = {_org_key(o): o for o in orgs if o.strip()}
        org_ids, found = [], set()
        for org_id, name, rut in session.execute(
                select(Organization.id, Organization.name, Organization.rut)):
            keys = {_org_key(name), _org_key(rut) if rut else None} & wanted.keys()
            if keys:
                org_ids.append(org_id)
                found |= keys
        missing = [shown for key, shown in wanted.items() if key not in found]
        if missing:
            from service.domain.errors import UsageError
            from service.domain.messages import error_message

            raise UsageError(error_message("org_not_found",
                                           names=", ".join(f"«{m}»" for m in missing)))
        query = query.where(Organization.id.in_(org_ids))
    elif since is not None:
        from service.domain.clock import CHILE

        start = datetime(since.year, since.month, since.day, tzinfo=CHILE).astimezone(UTC)
        recent = select(Document.submission_id).where(Document.created_at >= start)
        query = query.where(or_(Submission.created_at >= start, Submission.id.in_(recent)))
    elif not all_documents:
        raise ValueError("choose all_documents, orgs or since")  # a caller's bug, not input
    return list(session.scalars(query))


def _org_key(text: str) -> str:
    """Case- and accent-insensitive key; RUTs lose dots, spaces and the dash."""
    from service.domain.text import fold

    folded = fold(text)
    compact = folded.replace(".", "").replace("-", "").replace(" ", "")
    return compact if compact[:-1].isdigit() else " ".join(folded.split())


# --------------------------------------------------------------------------------------------
# Running the classifier


def reclassify_inline(document_ids: list[str], progress=None) -> Counter:
    from service.domain.pipeline import reclassify_documents

    counts: Counter = Counter()
    for start in range(0, len(document_ids), INLINE_CHUNK):
        chunk = document_ids[start : start + INLINE_CHUNK]
        counts.update(reclassify_documents(chunk))
        if progress:
            progress(len(chunk))
    return counts


def enqueue_reclassify(document_ids: list[str], version: str) -> list:
    """One reclassify job per chunk of documents on the batch queue; returns their tickets."""
    from service.domain.dispatch import get_dispatcher

    dispatcher = get_dispatcher()
    size = job_size(len(document_ids), dispatcher.reclassify_workers())
    return [
        dispatcher.enqueue_reclassify(
            chunk, f"reclassify {len(chunk)} documents with {version}")
        for chunk in (document_ids[s : s + size] for s in range(0, len(document_ids), size))
    ]


def job_size(documents: int, workers: int) -> int:
    """Documents per reclassify job: the documents shared out among the workers, so each has
    work from the start and none pays for more jobs than that (a hundred documents and one
    worker: one job, not two), between ``MIN_JOB_DOCUMENTS`` and ``INLINE_CHUNK``."""
    share = -(-documents // max(1, workers))
    return max(MIN_JOB_DOCUMENTS, min(INLINE_CHUNK, share))


# --------------------------------------------------------------------------------------------
# Flips


def _chunks(items: list, size: int = 500):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _supported_by_classification(session: Session, ids: list[int]) -> dict[int, dict[str, bool]]:
    from service.domain.models import CommitmentResult

    out: dict[int, dict[str, bool]] = defaultdict(dict)
    for chunk in _chunks(ids):
        for cid, commitment, supported in session.execute(
            select(CommitmentResult.classification_id, CommitmentResult.commitment,
                   CommitmentResult.supported).where(CommitmentResult.classification_id.in_(chunk))
        ):
            out[cid][commitment] = bool(supported)
    return out


def _document_rows(session: Session, document_ids: list[str]) -> dict[str, tuple]:
    """document id -> (name, submission id, organisation, RUT)."""
    from service.domain.models import Document, Organization, Submission

    out = {}
    for chunk in _chunks(document_ids):
        for row in session.execute(
            select(Document.id, Document.name, Submission.id, Organization.name, Organization.rut)
            .join(Submission, Document.submission_id == Submission.id)
            .join(Organization, Submission.organization_id == Organization.id)
            .where(Document.id.in_(chunk))
        ):
            out[row[0]] = tuple(row[1:])
    return out


def _duplicates(session: Session, document_ids: list[str]) -> set[str]:
    """The documents that repeat the bytes of an earlier one of their submission: the matrix
    counts them nowhere (``listing.is_duplicate``), so no flip of theirs is a document's."""
    from service.domain.listing import is_duplicate
    from service.domain.models import Document

    return {d for chunk in _chunks(document_ids) for d in session.scalars(
        select(Document.id).where(Document.id.in_(chunk), is_duplicate()))}


def compute_flips(
    session: Session,
    document_ids: list[str],
    version: str,
    new_results: dict[str, dict[str, bool]] | None = None,
) -> list[Flip]:
    """Cells that changed from each document's previous classifier version to ``version``.

    A document's previous result is its newest classification under another version. The new
    result is the stored one under ``version``, or ``new_results`` (document id -> commitment ->
    supported) for a dry run. Submission cells compare the matrix before (each document's
    previous result, or its only one) with the matrix after, by the matrix's own rule; a copy
    of a document sent again in its submission has no cell of its own (``_duplicates``).
    """
    from service.domain.matrix import decisions_in_force

    pairs = _old_and_new(session, document_ids, version, new_results)
    rows = _document_rows(session, list(pairs))
    decisions = decisions_in_force(session, {rows[d][1] for d in pairs})
    copies = _duplicates(session, list(pairs))
    flips = _document_flips({d: p for d, p in pairs.items() if d not in copies}, rows, version,
                            decisions)
    flips += _submission_flips(pairs, rows, version, decisions)
    return sorted(flips, key=lambda f: (f.organization.casefold(), f.submission_id,
                                        f.level != LEVEL_SUBMISSION, f.document or "",
                                        f.commitment))


def _old_and_new(
    session: Session, document_ids: list[str], version: str,
    new_results: dict[str, dict[str, bool]] | None,
) -> dict[str, tuple[str | None, dict[str, bool], dict[str, bool]]]:
    """document -> (previous version or None, previous result, new result), in input order."""
    previous, current = _compared_rows(session, document_ids, version)
    results = _supported_by_classification(
        session, [c for c, _v in previous.values()] + list(current.values())
    )
    out = {}
    for doc_id in document_ids:
        if new_results is not None and doc_id in new_results:
            new = new_results[doc_id]
        else:
            new = results.get(current[doc_id]) if doc_id in current else None
        if new is None:
            continue
        if doc_id in previous:
            old_cid, old_version = previous[doc_id]
            out[doc_id] = (old_version, results.get(old_cid, {}), new)
        else:
            old = results.get(current[doc_id], new) if doc_id in current else new
            out[doc_id] = (None, old, new)
    return out


def _compared_rows(
    session: Session, document_ids: list[str], version: str
) -> tuple[dict[str, tuple[int, str]], dict[str, int]]:
    """The classifications a flip compares: document -> (id, version) of the newest under
    another version, and document -> id of the one under ``version``."""
    from sqlalchemy import func

    from service.domain.models import Classification

    previous: dict[str, tuple[int, str]] = {}
    current: dict[str, int] = {}
    for chunk in _chunks(document_ids):
        # the two rows compared, not every version's: the one under ``version`` and the newest
        # under another (the highest id), however many versions each document has
        newest_other = (select(func.max(Classification.id))
                        .where(Classification.document_id.in_(chunk),
                               Classification.classifier_version != version)
                        .group_by(Classification.document_id))
        for cid, doc_id, ver in session.execute(
            select(Classification.id, Classification.document_id,
                   Classification.classifier_version)
            .where(or_(Classification.id.in_(newest_other),
                       (Classification.document_id.in_(chunk))
                       & (Classification.classifier_version == version)))
        ):
            if ver == version:
                current[doc_id] = cid
            else:
                previous[doc_id] = (cid, ver)
    return previous, current


def _document_flips(pairs: dict, rows: dict, version: str, decisions: dict) -> list[Flip]:
    """A document flip under a decided cell also names the decision, for the reviewer's eye."""
    from classifiers.result import COMMITMENT_IDS

    flips = []
    for doc_id, (old_version, old, new) in pairs.items():
        if old_version is None:
            continue
        name, sub_id, org, rut = rows[doc_id]
        for c in COMMITMENT_IDS:
            before, after = bool(old.get(c, False)), bool(new.get(c, False))
            if before != after:
                flips.append(Flip(LEVEL_DOCUMENT, sub_id, org, rut, doc_id, name, c,
                                  old_version, version, before, after,
                                  decisions.get((sub_id, c))))
    return flips


def _submission_flips(pairs: dict, rows: dict, version: str, decisions: dict) -> list[Flip]:
    from classifiers.result import COMMITMENT_IDS
    from service.domain.matrix import supported

    by_submission: dict[str, list[tuple]] = defaultdict(list)
    for doc_id, pair in pairs.items():
        by_submission[rows[doc_id][1]].append(pair)
    org_of = {sub: (org, rut) for _n, sub, org, rut in rows.values()}
    flips = []
    for sub_id, documents in by_submission.items():
        old_versions = [v for v, _old, _new in documents if v is not None]
        if not old_versions:
            continue  # nothing in it had an earlier version: nothing can have flipped
        org, rut = org_of[sub_id]
        for c in COMMITMENT_IDS:
            before = supported(bool(old.get(c, False)) for _v, old, _new in documents)
            after = supported(bool(new.get(c, False)) for _v, _old, new in documents)
            if before != after:
                decision = decisions.get((sub_id, c))
                flips.append(Flip(LEVEL_SUBMISSION, sub_id, org, rut, None, None, c,
                                  old_versions[-1], version, before, after, decision,
                                  decision is not None))
    return flips


def flag_decided_flips(session: Session, flips: Iterable[Flip]) -> int:
    """A ReviewFlag for each flipped submission cell under a reviewer decision (once)."""
    from service.domain.models import ReviewFlag

    created = 0
    for f in flips:
        if f.level != LEVEL_SUBMISSION or not f.flagged:
            continue
        exists = session.scalar(
            select(ReviewFlag.id).where(
                ReviewFlag.submission_id == f.submission_id,
                ReviewFlag.commitment == f.commitment,
                ReviewFlag.old_version == f.old_version,
                ReviewFlag.new_version == f.new_version,
            )
        )
        if exists is None:
            session.add(ReviewFlag(
                submission_id=f.submission_id, commitment=f.commitment,
                old_version=f.old_version, new_version=f.new_version,
                old_supported=f.old_supported, new_supported=f.new_supported,
            ))
            created += 1
    session.commit()
    return created


def dry_run_results(session: Session, document_ids: list[str], version: str,
                     progress=None) -> tuple[dict[str, dict[str, bool]], Counter]:
    """What the current classifier says, computed in memory and never stored."""
    import classifiers
    from service.domain.models import Document
    from service.domain.results import classified_documents, load_extracted
    from service.settings import get_settings

    settings = get_settings()
    classifiers.load(annotation_cache=settings.annotations_dir, pipeline=False,
                     options=settings.classifier_options())
    results: dict[str, dict[str, bool]] = {}
    by_extraction: dict[int, dict[str, bool]] = {}  # the same bytes in two places: once
    counts: Counter = Counter()
    for doc_id in document_ids:
        document = session.get(Document, doc_id)
        if classified_documents(session, [doc_id], version):
            counts["skipped"] += 1
        else:
            try:
                if document.extraction_id not in by_extraction:
                    extracted = load_extracted(session, document.extraction_id)
                    result = classifiers.classify(extracted)
                    by_extraction[document.extraction_id] = {
                        c.id: bool(c.supported) for c in result.commitments
                    }
                results[doc_id] = by_extraction[document.extraction_id]
                counts["reclassified"] += 1
            except Exception:
                log.exception("dry-run classification of %s failed", doc_id)
                counts["failed"] += 1
        if progress:
            progress(1)
    return results, counts
