"""Request and response bodies of the HTTP API, by role: ``XCreate`` in, ``XPublic`` out, and
the functions that turn the domain's read model (``service.domain.matrix``) into those bodies.

These are the contract clients integrate against (issue 4): fields may be added, never renamed
or removed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from service.domain import clock
from service.domain.matrix import (
    CommitmentRow,
    DecisionEntry,
    DocumentEntry,
    SubmissionMatrix,
    SubmissionProgress,
)

__all__ = [
    "ErrorDetail",
    "ErrorBody",
    "SubmissionCreate",
    "SubmissionCreated",
    "DocumentPublic",
    "SubmissionPublic",
    "SubmissionSummary",
    "SubmissionList",
    "UploadedDocument",
    "UploadAccepted",
    "EvidencePublic",
    "CellPublic",
    "DecisionCreate",
    "DecisionPublic",
    "FlagPublic",
    "CommitmentPublic",
    "MatrixPublic",
    "PagePublic",
    "DocumentEvidence",
    "DocumentDetail",
    "LoginRequest",
    "SessionPublic",
    "Health",
    "document_public",
    "decision_public",
    "progress_public",
    "matrix_public",
]


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable error code, e.g. invalid_rut, forbidden, too_many_files")
    message: str = Field(description="Spanish message for the user")
    errors: list[dict] | None = Field(default=None, description="Per-field problems (422)")


class ErrorBody(BaseModel):
    detail: ErrorDetail


class SubmissionCreate(BaseModel):
    organization: str = Field(min_length=1, max_length=300, examples=["Fundación Acoge"])
    rut: str | None = Field(default=None, max_length=20, examples=["76.543.210-3"])


class SubmissionCreated(BaseModel):
    id: str
    token: str = Field(description="Secret applicant token; shown only once")
    organization: str
    rut: str | None
    created_at: str | None
    applicant_url: str = Field(description="Secret link to the applicant's page")


class DocumentPublic(BaseModel):
    id: str
    name: str
    status: Literal["queued", "processing", "done", "error"]
    stage: str = Field(description="queued, extracting, ocr, classifying, done, error")
    stage_detail: str | None = Field(default=None, description='"n/m" pages during OCR')
    stage_label: str = Field(description="Spanish wording, e.g. «OCR página 3/8»")
    status_label: str
    error_code: str | None = None
    error: str | None = Field(default=None, description="Spanish reason when status is error")
    mime: str | None = None
    size: int = 0
    doc_type: str | None = None
    doc_type_label: str | None = None
    sha256: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


class SubmissionPublic(BaseModel):
    id: str
    organization: str
    rut: str | None
    source: str
    created_at: str | None
    documents: list[DocumentPublic]
    counts: dict[str, int] = Field(description="documents per status")
    complete: bool = Field(description="no document queued or processing")


class SubmissionSummary(BaseModel):
    id: str
    organization: str
    rut: str | None
    source: str
    created_at: str | None
    documents: int
    errors: int
    pending: int


class SubmissionList(BaseModel):
    items: list[SubmissionSummary]
    total: int
    offset: int
    limit: int


class UploadedDocument(BaseModel):
    id: str
    name: str
    status: Literal["queued", "processing", "done", "error"]
    error_code: str | None = None
    error: str | None = None


class UploadAccepted(BaseModel):
    documents: list[UploadedDocument]


class EvidencePublic(BaseModel):
    document_id: str
    document: str
    text: str
    page: int | None
    score: float = 0.0
    pattern_ids: list[str] = []
    confidence: float = 0.0


class CellPublic(BaseModel):
    """One commitment × document cell."""

    document_id: str
    document: str
    supported: bool
    confidence: float
    classifier_version: str
    evidence: list[EvidencePublic]


class DecisionCreate(BaseModel):
    commitment: Literal["c1", "c2", "c3", "c4", "c5"]
    action: Literal["confirm", "reject", "attach"]
    document_id: str | None = None
    excerpt: str | None = Field(default=None, max_length=20000)
    page: int | None = Field(default=None, ge=1)
    comment: str | None = Field(default=None, max_length=5000)


class DecisionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    commitment: str
    action: str
    document_id: str | None
    excerpt: str | None
    page: int | None
    comment: str | None
    classifier_version: str | None
    reviewer: str | None
    created_at: str | None


class FlagPublic(BaseModel):
    id: int
    old_version: str
    new_version: str
    old_supported: bool
    new_supported: bool
    created_at: str | None


class CommitmentPublic(BaseModel):
    id: str = Field(examples=["c1"])
    label: str
    name: str
    supported: bool = Field(description="the classifier found it in at least one document")
    confidence: float
    evidence: list[EvidencePublic] = Field(description="best passages of supporting documents")
    documents: list[CellPublic]
    status: Literal["confirmed", "rejected", "detected", "missing"]
    decision: DecisionPublic | None
    flags: list[FlagPublic] = Field(description="reprocessing flipped a decided cell")


class MatrixPublic(BaseModel):
    id: str
    organization: str
    rut: str | None
    classifier_versions: list[str]
    documents: list[DocumentPublic]
    pending: int
    complete: bool
    commitments: list[CommitmentPublic]
    missing: list[str] = Field(description="commitments not covered (after reviewer decisions)")


class PagePublic(BaseModel):
    number: int
    text: str
    ocr: bool
    ocr_confidence: float | None
    method: str
    width: float
    height: float
    rotation: int = 0
    error: str | None = None
    words: list[list] | None = Field(
        default=None, description="[[text, x0, top, x1, bottom], ...] in points (?words=true)"
    )


class DocumentEvidence(BaseModel):
    commitment: str
    supported: bool
    confidence: float
    text: str
    page: int | None
    score: float = 0.0
    pattern_ids: list[str] = []


class DocumentDetail(DocumentPublic):
    submission_id: str
    extractor: str | None = None
    extractor_version: str | None = None
    page_count: int = 0
    ocr_pages: int = 0
    warnings: list[str] = []
    classifier_version: str | None = None
    text: str = ""
    pages: list[PagePublic] = []
    evidence: list[DocumentEvidence] = []


class LoginRequest(BaseModel):
    username: str
    password: str


class SessionPublic(BaseModel):
    token: str = Field(description="Bearer session token (also the evidencia_session cookie)")
    username: str
    role: str
    expires_in: int


class Health(BaseModel):
    status: str
    checks: dict[str, str] = {}


# --- the read model as response bodies -------------------------------------------------------
# Each body takes the fields its schema declares from the read model's value of the same name;
# dates go out as ISO 8601 strings with Chile's offset (``service.domain.clock.iso``; the contract
# predates pydantic's own format).

#: Passages listed per commitment in the matrix's summary column (every one is in ``documents``).
SUMMARY_PASSAGES = 5


def _plain(value):
    if isinstance(value, datetime):
        return clock.iso(value, timespec="auto")
    if isinstance(value, tuple):
        return list(value)
    return value


def _body(schema: type[BaseModel], value, **computed) -> dict:
    """``schema``'s fields read from ``value``; ``computed`` gives those named otherwise."""
    return {
        name: computed[name] if name in computed else _plain(getattr(value, name))
        for name in schema.model_fields
    }


def document_public(d: DocumentEntry) -> dict:
    return _body(DocumentPublic, d)


def decision_public(d: DecisionEntry) -> dict:
    return _body(DecisionPublic, d)


def progress_public(p: SubmissionProgress) -> dict:
    return _body(SubmissionPublic, p, counts=p.counts(),
                 documents=[document_public(d) for d in p.documents])


def _commitment_public(c: CommitmentRow) -> dict:
    return _body(
        CommitmentPublic, c,
        status=c.status.value,
        evidence=[_body(EvidencePublic, p) for p in c.passages[:SUMMARY_PASSAGES]],
        documents=[
            _body(CellPublic, cell, evidence=[_body(EvidencePublic, p) for p in cell.passages])
            for cell in c.cells
        ],
        decision=decision_public(c.decision) if c.decision else None,
        flags=[_body(FlagPublic, f) for f in c.flags],
    )


def matrix_public(m: SubmissionMatrix) -> dict:
    return _body(
        MatrixPublic, m,
        documents=[document_public(d) for d in m.documents],
        pending=m.n_pending,
        commitments=[_commitment_public(c) for c in m.commitments],
    )
