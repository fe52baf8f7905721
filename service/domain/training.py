"""Learning from reviewers: ``evidencia train`` builds a candidate model, scores it against the
model in force and promotes it only when it is better.

Every decision in force (the newest per commitment of a submission, as in the matrix) is a label
on the documents it covers, read from the submission's matrix (the one rule of what was shown as
evidence and what only as considered, ``matrix.Cell.evidence``):

- ``confirm``: the documents the matrix showed as supporting the commitment when the reviewer
  confirmed (recorded with the decision, ``matrix.DecisionEntry.endorsed_ids``: a document
  uploaded after it was never reviewed; a confirmation stored before that record, the documents
  shown now), and the document of the excerpt a reviewer verified (given with the
  confirmation, or attached earlier and in force), support it; or the one document the
  decision names;
- ``reject``: the documents shown as supporting it (or the one named) do not support it;
- ``attach``: the named document (or the submission's documents whose text holds the attached
  excerpt) supports it.

A passage is a positive only when a reviewer saw it as evidence: shown as evidence in a
supporting cell, or an excerpt a reviewer verified. The passages of a cell that did not support
the commitment were shown as "considerado, no suficiente": a confirmation of that document says
the document supports the commitment, not that those passages prove it, so such a document is a
positive with its proving passages unknown (``classifiers.learn.Example.passages_known``): it
teaches the document model, not the passage model.

Organisations are split once, by a hash of their id, into training and held-out decisions, so no
organisation's wording is both learned and scored. The candidate learns from the corpus' dev
split plus the training decisions, each decided document counting as ``learn.DECISION_WEIGHT``
corpus documents (real documents are what the corpus cannot teach; the weight is recorded in the
artefact); the candidate and the model in force (or the rules alone when
none is) are scored on the held-out decisions and on the corpus' held-out organisations.

Which set decides (``promotion_rule``): once there are ``DECISIONS_DECIDE_FROM`` held-out decided
documents, the deployment's own documents do: the candidate is promoted when it is better on
them and loses at most ``CORPUS_TOLERANCE`` macro-F1 on the corpus, which then only guards
against a collapse (the corpus is text the project wrote; on real pages a model taught by a few
hundred decisions gained 0.14 macro-F1 while the corpus's held-out organisations lost one cell,
0.006: classifiers/QUALITY.md, twentieth round). With fewer, the candidate must be at least as
good on every held-out set and better on one. Every run is recorded (``ModelTraining``) with
both scores, promoted or not. The promoted artefact is written
to the data folder, where ``Settings.classifier_options`` finds it; its new classifier version
is what ``evidencia reprocess`` applies.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from service.domain.codes import DecisionAction, DocumentStatus
from service.domain.models import Decision, Document, ModelTraining, Submission

__all__ = ["TrainingOutcome", "decision_examples", "held_out_organisation", "promotes",
           "promotion_rule", "train"]

log = logging.getLogger(__name__)

#: one organisation in this many is held out to score the models on (decided by its id's hash)
HELD_OUT_EVERY = 3
#: held-out decided documents from which they, not the corpus, decide a promotion (below it one
#: document is a few points of macro-F1: too few to outweigh the corpus)
DECISIONS_DECIDE_FROM = 30
#: macro-F1 the corpus's held-out split may lose when the decisions decide: about two cells of
#: its held-out organisations, the margin the twentieth round declared before measuring
CORPUS_TOLERANCE = 0.01


@dataclass(frozen=True, slots=True)
class TrainingOutcome:
    run_id: int
    promoted: bool
    version_before: str
    version_after: str
    candidate: dict  # {"decisions": scores, "corpus": scores}
    current: dict
    counts: dict
    model_path: Path | None  # where the promoted model was written
    rule: str = "every set"  # which sets decided (``promotion_rule``)


def held_out_organisation(organization_id: str) -> bool:
    """Stable across runs: the same organisations are always held out."""
    digest = hashlib.sha256(organization_id.encode("utf-8")).digest()
    return digest[0] % HELD_OUT_EVERY == 0


def _decisions_in_force(session: Session) -> list[Decision]:
    """The decision in force per (submission, commitment): undone ones and comments left out
    (the matrix's rule, ``matrix.in_force_query``)."""
    from service.domain.matrix import in_force_query

    return list(session.scalars(in_force_query().order_by(Decision.id)))


def _current(document: Document):
    """The newest classification of a finished document, or None."""
    if document.status != DocumentStatus.done or not document.classifications:
        return None
    return max(document.classifications, key=lambda c: c.id)


def _holds(document_text: str, excerpt: str) -> bool:
    from classifiers.nlp import fold

    return " ".join(fold(excerpt).split()) in " ".join(fold(document_text).split())


def _labels_of(row, texts: dict) -> dict:
    """{document id: (supported, proving passages)} for the documents the decision in force on
    ``row`` (a ``matrix.CommitmentRow``) covers, among the documents read (``texts``). An empty
    list of a supported document: its proving passages are not known (see the module)."""
    decision = row.decision
    cells = {c.document_id: c for c in row.cells if c.document_id in texts}
    if decision.document_id is not None and decision.document_id not in cells:
        return {}  # removed, a duplicate, or not read: counts nowhere
    shown = [d for d, c in cells.items() if c.supported]
    if decision.action == DecisionAction.reject:
        return {d: (False, []) for d in ([decision.document_id] if decision.document_id
                                         else shown)}
    # the excerpt a reviewer verified that the decision stands on, and its document
    verified = decision.excerpt or (
        row.attached.excerpt if decision.action == DecisionAction.confirm and row.attached
        else None)
    verified_in = (row.attached.document_id if verified and not decision.excerpt
                   else decision.document_id)

    def holds_verified(document_id: str) -> bool:
        if not verified:
            return False
        return (document_id == verified_in if verified_in is not None
                else _holds(texts[document_id], verified))

    def proof(document_id: str) -> list[str]:
        """What was shown as evidence (a confirmation endorses it; an attached excerpt is the
        proof alone), and the verified excerpt where it is."""
        shown_as_evidence = [p.text for p in cells[document_id].evidence]
        if not holds_verified(document_id):
            return shown_as_evidence
        if decision.action == DecisionAction.attach:
            return [verified]
        return list(dict.fromkeys([*shown_as_evidence, verified]))

    if decision.document_id is not None:
        covered = [decision.document_id]
    elif decision.action == DecisionAction.attach:
        covered = [d for d in cells if holds_verified(d)]
    elif decision.endorsed_ids:  # what the reviewer saw: none uploaded after the confirmation
        covered = [d for d in decision.endorsed_ids if d in cells]
    else:
        covered = shown + [d for d in cells if d not in shown and holds_verified(d)]
    return {d: (True, proof(d)) for d in covered}


def decision_examples(session: Session) -> tuple[list, list]:
    """(training examples, held-out examples) from the decisions in force, one example per
    decided document with the commitments decided on it."""
    from classifiers.learn import DECISION_WEIGHT, prepare
    from service.domain.matrix import load_matrix
    from service.domain.results import load_extracted

    per_document: dict[str, dict] = {}
    documents: dict[str, Document] = {}
    by_submission: dict[str, list[Decision]] = {}
    for decision in _decisions_in_force(session):
        by_submission.setdefault(decision.submission_id, []).append(decision)
    for submission_id, decisions in by_submission.items():
        submission = session.get(Submission, submission_id)
        matrix = load_matrix(session, submission_id)
        docs = [d for d in session.scalars(
            select(Document).where(Document.submission_id == submission_id)
            .options(selectinload(Document.classifications))
        ) if d.extraction_id is not None and _current(d) is not None]
        extracted = {d.id: load_extracted(session, d.extraction_id) for d in docs}
        texts = {k: "\n".join(p.text for p in v.pages) for k, v in extracted.items()}
        for decision in decisions:
            row = matrix.commitment(decision.commitment)
            for doc_id, (supported, evidence) in _labels_of(row, texts).items():
                entry = per_document.setdefault(doc_id, {"labels": {}, "evidence": {}})
                entry["labels"][decision.commitment] = supported
                if supported and evidence:
                    entry["evidence"][decision.commitment] = evidence
        for d in docs:
            documents[d.id] = d
            if d.id in per_document:
                per_document[d.id]["doc"] = extracted[d.id]
                per_document[d.id]["org"] = submission.organization_id
    train, held_out = [], []
    for doc_id in sorted(per_document):
        entry = per_document[doc_id]
        example = prepare(entry["doc"], key=f"decision:{doc_id}", group=entry["org"],
                          source=documents[doc_id].sha256 or doc_id, labels=entry["labels"],
                          evidence=entry["evidence"])
        example.weight = DECISION_WEIGHT  # a real decision counts more than a corpus document
        (held_out if held_out_organisation(entry["org"]) else train).append(example)
    return train, held_out


def _corpus_examples(corpus: Path, split: str, jobs: int) -> list:
    from classifiers.corpus import extract_all, load_labels
    from classifiers.learn import prepare

    entries = [e for e in load_labels(corpus) if e.eval_split == split]
    docs = extract_all(corpus, entries, jobs=jobs)
    return [prepare(docs[e.file], key=e.file, group=e.org, source=e.id, labels=e.labels,
                    evidence=e.evidence)
            for e in entries if hasattr(docs[e.file], "pages")]


def _at_least_as_good(candidate: dict, current: dict) -> bool:
    from classifiers.train import better

    return not better(current, candidate)


def promotion_rule(held_out_decided: int) -> str:
    """``"decisions"`` when there are enough held-out decided documents for them to decide,
    else ``"every set"``."""
    return "decisions" if held_out_decided >= DECISIONS_DECIDE_FROM else "every set"


def promotes(candidate: dict, current: dict, rule: str) -> bool:
    """By ``rule``: better on the held-out decisions and within ``CORPUS_TOLERANCE`` on the
    corpus; or at least as good on every held-out set that has labels, and better on one."""
    from classifiers.train import better

    if rule == "decisions":
        cand, cur = candidate["corpus"].get("macro_f1"), current["corpus"].get("macro_f1")
        guarded = cand is None or cur is None or cand >= cur - CORPUS_TOLERANCE
        return guarded and better(candidate["decisions"], current["decisions"])
    sets = [k for k in candidate if candidate[k].get("macro_f1") is not None]
    return bool(sets) and all(_at_least_as_good(candidate[k], current[k]) for k in sets) and any(
        better(candidate[k], current[k]) for k in sets)


def train(session: Session, corpus: Path, *, jobs: int = 2) -> TrainingOutcome:
    """Build a candidate from the corpus and the reviewers' decisions, score it against the
    model in force, promote it when better, and record the run."""
    import classifiers
    from classifiers.learn import DECISION_WEIGHT, Params, score_model, train_artefact
    from classifiers.second_stage import model_fingerprint, read_model, save_model
    from service.settings import get_settings

    settings = get_settings()
    options = settings.classifier_options()
    classifiers.load(annotation_cache=settings.annotations_dir, options=options)
    version_before = classifiers.CLASSIFIER_VERSION
    current_model = classifiers.second_stage_model

    corpus_train = _corpus_examples(corpus, "dev", jobs)
    corpus_held_out = _corpus_examples(corpus, "heldout", jobs)
    decided_train, decided_held_out = decision_examples(session)
    body = train_artefact(corpus_train + decided_train, Params(), model_fingerprint(),
                          {"source": "corpus dev split + reviewers' decisions",
                           "decision_weight": DECISION_WEIGHT})
    candidate_model = read_model(body["fingerprint"], _write_tmp(body, settings.model_dir))
    held_out = {"decisions": decided_held_out, "corpus": corpus_held_out}
    candidate = {k: score_model(v, candidate_model) for k, v in held_out.items()}
    current = {k: score_model(v, current_model) for k, v in held_out.items()}
    rule = promotion_rule(len(decided_held_out))
    promoted = promotes(candidate, current, rule)
    path = None
    if promoted:
        path = save_model(body, options.second_stage_file)
        classifiers.use_options(options)
    (settings.model_dir / "candidate.json").unlink(missing_ok=True)
    counts = {
        "corpus_files": len(corpus_train),
        "corpus_held_out_files": len(corpus_held_out),
        "decided_documents": len(decided_train),
        "held_out_decided_documents": len(decided_held_out),
        "organisations": len({ex.group for ex in corpus_train + decided_train}),
        "held_out_organisations": len({ex.group for ex in decided_held_out}),
    }
    run = ModelTraining(
        promoted=promoted, version_before=version_before,
        version_after=classifiers.CLASSIFIER_VERSION, candidate_checksum=body["checksum"],
        data_fingerprint=body["meta"]["training_data"]["fingerprint"],
        candidate_scores=candidate, current_scores=current, counts=counts,
    )
    session.add(run)
    session.commit()
    log.info("model training %s: promoted=%s (decided by %s)", run.id, promoted, rule)
    return TrainingOutcome(run.id, promoted, version_before, run.version_after, candidate,
                           current, counts, path, rule)


def _write_tmp(body: dict, folder: Path) -> Path:
    """The candidate read back through the same checks as any artefact before it is scored."""
    from classifiers.second_stage import save_model

    return save_model(body, folder / "candidate.json")
