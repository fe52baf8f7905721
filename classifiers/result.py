"""What classification produces: frozen value objects, one result per commitment c1..c5."""

from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = ["COMMITMENT_IDS", "DOC_TYPES", "Evidence", "CommitmentResult", "Classification"]

COMMITMENT_IDS: tuple[str, ...] = ("c1", "c2", "c3", "c4", "c5")

#: Stable document-type codes; the Spanish wording lives in ``classifiers/labels.py``.
DOC_TYPES: tuple[str, ...] = (
    "politica",
    "protocolo",
    "plan_capacitacion",
    "acta",
    "registro_asistencia",
    "informe_actividades",
    "reglamento",
    "otro",
)


@dataclass(frozen=True, slots=True)
class Evidence:
    text: str  # the sentence or table row that proves the point, as extracted
    page: int  # 1-based
    pattern_ids: tuple[str, ...] = ()  # ids of the patterns that matched: the explanation
    score: float = 0.0


@dataclass(frozen=True, slots=True)
class CommitmentResult:
    id: str  # "c1".."c5"
    supported: bool
    confidence: float  # 0..1, calibrated: probability that `supported` is right
    evidence: tuple[Evidence, ...] = ()  # best first
    #: what the rules alone decide (with the learned model in force its decision rule decides,
    #: and may overturn them: reviewers are told); None where the rules alone decided
    rules_supported: bool | None = None


@dataclass(frozen=True, slots=True)
class Classification:
    classifier_version: str
    doc_type: str
    commitments: tuple[CommitmentResult, ...]  # always c1..c5, in order

    def commitment(self, cid: str) -> CommitmentResult:
        return next(c for c in self.commitments if c.id == cid)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Classification:
        return cls(
            classifier_version=data["classifier_version"],
            doc_type=data["doc_type"],
            commitments=tuple(
                CommitmentResult(
                    id=c["id"],
                    supported=c["supported"],
                    confidence=c["confidence"],
                    rules_supported=c.get("rules_supported"),
                    evidence=tuple(
                        Evidence(**{**e, "pattern_ids": tuple(e.get("pattern_ids", ()))})
                        for e in c.get("evidence", ())
                    ),
                )
                for c in data["commitments"]
            ),
        )
