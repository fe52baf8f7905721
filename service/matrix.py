"""The evidence matrix of a submission: commitments × documents, with the reviewer's decisions.

Each document counts with its newest classification (the highest id: reprocessing appends a
newer version, never overwrites). A commitment is ``supported`` when the classifier found it in
at least one document; the latest reviewer decision, when there is one, sets its ``status``
("confirmed" or "rejected") and overrides the classifier in ``missing``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from classifiers.result import COMMITMENT_IDS
from service.errors import NotFoundError
from service.labels import stage_label, status_label
from service.models import (
    Classification,
    Decision,
    Document,
    DocumentStatus,
    ReviewFlag,
    Submission,
)
from service.vocabulary import COMMITMENT_NAMES, COMMITMENT_SHORT, doc_type_name

__all__ = [
    "current_classification",
    "submission_matrix",
    "submission_status",
    "decision_dict",
    "document_dict",
]

#: Evidence passages listed per commitment (best first) in the summary column.
MAX_EVIDENCE = 5


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def document_dict(document: Document) -> dict:
    return {
        "id": document.id,
        "name": document.name,
        "status": document.status,
        "stage": document.stage,
        "stage_detail": document.stage_detail,
        "stage_label": stage_label(document.stage, document.stage_detail),
        "status_label": status_label(document.status),
        "error_code": document.error_code,
        "error": document.error,
        "mime": document.mime,
        "size": document.size,
        "doc_type": document.doc_type,
        "doc_type_label": doc_type_name(document.doc_type) if document.doc_type else None,
        "sha256": document.sha256,
        "created_at": _iso(document.created_at),
        "updated_at": _iso(document.updated_at),
    }


def decision_dict(decision: Decision) -> dict:
    return {
        "id": decision.id,
        "commitment": decision.commitment,
        "action": decision.action,
        "document_id": decision.document_id,
        "excerpt": decision.excerpt,
        "page": decision.page,
        "comment": decision.comment,
        "classifier_version": decision.classifier_version,
        "reviewer": decision.reviewer.username if decision.reviewer else None,
        "created_at": _iso(decision.created_at),
    }


def current_classification(document: Document) -> Classification | None:
    """The classification that counts for a document everywhere (API, exports, pages, report):
    the newest one, once the document is done."""
    if document.status != DocumentStatus.done.value or not document.classifications:
        return None
    return max(document.classifications, key=lambda c: c.id)


def _load(session: Session, submission_id: str, *, with_results: bool = True) -> Submission:
    documents = selectinload(Submission.documents)
    if with_results:
        documents = documents.selectinload(Document.classifications).selectinload(
            Classification.results
        )
    submission = session.scalar(
        select(Submission)
        .where(Submission.id == submission_id)
        .options(selectinload(Submission.organization), documents)
    )
    if submission is None:
        raise NotFoundError(code="submission_not_found")
    return submission


def submission_status(session: Session, submission_id: str) -> dict:
    """Submission with per-document progress (``GET /api/submissions/{id}``): clients poll it,
    so it loads no classification."""
    submission = _load(session, submission_id, with_results=False)
    documents = [document_dict(d) for d in submission.documents]
    counts = {s.value: 0 for s in DocumentStatus}
    for d in submission.documents:
        counts[d.status] = counts.get(d.status, 0) + 1
    return {
        "id": submission.id,
        "organization": submission.organization.name,
        "rut": submission.organization.rut,
        "source": submission.source,
        "created_at": _iso(submission.created_at),
        "documents": documents,
        "counts": counts,
        "complete": counts["queued"] == 0 and counts["processing"] == 0,
    }


def submission_matrix(session: Session, submission_id: str) -> dict:
    """The matrix as the API returns it (``GET /api/submissions/{id}/matrix``)."""
    submission = _load(session, submission_id)
    decisions = list(
        session.scalars(
            select(Decision)
            .where(Decision.submission_id == submission.id)
            .options(selectinload(Decision.reviewer))
            .order_by(Decision.created_at, Decision.id)
        )
    )
    latest = {d.commitment: d for d in decisions}  # later rows overwrite earlier ones
    flags = list(
        session.scalars(
            select(ReviewFlag)
            .where(ReviewFlag.submission_id == submission.id, ReviewFlag.resolved_at.is_(None))
            .order_by(ReviewFlag.id)
        )
    )
    classified = [
        (doc, current) for doc in submission.documents
        if (current := current_classification(doc)) is not None
    ]
    versions = sorted({c.classifier_version for _, c in classified})

    commitments = []
    missing = []
    for cid in COMMITMENT_IDS:
        cells = []
        for doc, classification in classified:
            result = next((r for r in classification.results if r.commitment == cid), None)
            if result is None:
                continue
            cells.append(
                {
                    "document_id": doc.id,
                    "document": doc.name,
                    "supported": result.supported,
                    "confidence": result.confidence,
                    "classifier_version": classification.classifier_version,
                    "evidence": [
                        _evidence(doc, ev, result.confidence) for ev in (result.evidence or [])
                    ],
                }
            )
        supporting = [c for c in cells if c["supported"]]
        supported = bool(supporting)
        if supporting:
            confidence = max(c["confidence"] for c in supporting)
        elif cells:
            confidence = min(c["confidence"] for c in cells)
        else:
            confidence = 0.0
        evidence = sorted(
            (ev for c in supporting for ev in c["evidence"]),
            key=lambda ev: (ev["score"], ev["confidence"]),
            reverse=True,
        )[:MAX_EVIDENCE]
        decision = latest.get(cid)
        status = _status(supported, decision)
        if status in ("missing", "rejected"):
            missing.append(cid)
        commitments.append(
            {
                "id": cid,
                "label": COMMITMENT_SHORT[cid],
                "name": COMMITMENT_NAMES[cid],
                "supported": supported,
                "confidence": round(float(confidence), 4),
                "evidence": evidence,
                "documents": cells,
                "status": status,
                "decision": decision_dict(decision) if decision else None,
                "flags": [
                    {
                        "id": f.id,
                        "old_version": f.old_version,
                        "new_version": f.new_version,
                        "old_supported": f.old_supported,
                        "new_supported": f.new_supported,
                        "created_at": _iso(f.created_at),
                    }
                    for f in flags
                    if f.commitment == cid
                ],
            }
        )
    pending = sum(
        1
        for d in submission.documents
        if d.status in (DocumentStatus.queued.value, DocumentStatus.processing.value)
    )
    return {
        "id": submission.id,
        "organization": submission.organization.name,
        "rut": submission.organization.rut,
        "classifier_versions": versions,
        "documents": [document_dict(d) for d in submission.documents],
        "pending": pending,
        "complete": pending == 0,
        "commitments": commitments,
        "missing": missing,
    }


def _status(supported: bool, decision: Decision | None) -> str:
    """"confirmed" | "rejected" (a reviewer decided) or "detected" | "missing" (classifier)."""
    if decision is not None:
        return "rejected" if decision.action == "reject" else "confirmed"
    return "detected" if supported else "missing"


def _evidence(doc: Document, ev: dict, confidence: float) -> dict:
    return {
        "document_id": doc.id,
        "document": doc.name,
        "text": ev.get("text", ""),
        "page": ev.get("page"),
        "score": float(ev.get("score") or 0.0),
        "pattern_ids": list(ev.get("pattern_ids") or []),
        "confidence": float(confidence),
    }
