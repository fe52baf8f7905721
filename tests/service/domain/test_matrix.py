"""The one evidence matrix read model: newest classification, newest decision, open flags."""

from __future__ import annotations

import pytest

from service.domain.matrix import CellStatus, cell_status, load_matrix, load_progress


def test_matrix_follows_latest_decision_and_shows_open_flags(db_session, seeded):
    from service.domain.models import ReviewFlag

    db_session.add(ReviewFlag(submission_id=seeded["full"].id, commitment="c2", old_version="v1",
                              new_version="v2", old_supported=False, new_supported=True))
    db_session.commit()
    m = load_matrix(db_session, seeded["full"].id)
    assert [c.status for c in m.commitments] == [CellStatus.confirmed] * 5
    assert (m.n_detected, m.n_confirmed) == (5, 5)
    assert m.classifier_versions == ["v2"]  # the older classification no longer counts
    assert m.documents[0].doc_type == "acta"
    assert len(m.history) == 10  # every decision kept, oldest first
    assert (m.history[0].action, m.history[-1].action) == ("reject", "confirm")
    c2 = m.commitment("c2")
    assert [f.new_version for f in c2.flags] == ["v2"]
    assert not any(c.flags for c in m.commitments if c.id != "c2")
    assert m.missing == []

    pending = load_matrix(db_session, seeded["error"].id)
    assert not pending.complete and pending.n_errors == 1 and pending.n_pending == 1
    # a document still queued: nothing is "missing" yet, every commitment waits for it
    assert [c.status for c in pending.commitments] == [CellStatus.pending] * 5
    assert not any(c.status.decided or c.status.covered for c in pending.commitments)
    assert pending.missing == [] and pending.waiting == ["c1", "c2", "c3", "c4", "c5"]


def test_commitments_wait_while_documents_are_read_then_are_missing(db_session, seeded):
    """Issue 11: while files were still processing every commitment said "Falta evidencia"."""
    from service.domain.models import Document
    from service.outputs.exports import matrix_csv

    csv_text = matrix_csv(load_matrix(db_session, seeded["error"].id)).decode("utf-8-sig")
    assert csv_text.count("En proceso: aún se leen documentos") == 5
    queued = db_session.query(Document).filter_by(submission_id=seeded["error"].id,
                                                  status="queued").one()
    queued.status = "error"
    db_session.commit()
    done = load_matrix(db_session, seeded["error"].id)
    assert [c.status for c in done.commitments] == [CellStatus.missing] * 5
    assert done.missing == ["c1", "c2", "c3", "c4", "c5"] and done.waiting == []


def test_unknown_submission_is_not_found(db_session):
    from service.domain.errors import NotFoundError

    with pytest.raises(NotFoundError):
        load_matrix(db_session, "no-existe")
    with pytest.raises(NotFoundError):
        load_progress(db_session, "no-existe")


def test_progress_counts_every_status(db_session, seeded):
    p = load_progress(db_session, seeded["error"].id)
    assert p.counts() == {"queued": 1, "processing": 0, "done": 0, "error": 1}
    assert not p.complete


def test_one_wording_per_cell_status():
    """The CSV, the pages and the PDF report all say what the read model's status says."""
    assert cell_status(True, None) == CellStatus.detected
    assert cell_status(False, None) == CellStatus.missing
    assert cell_status(False, "confirm") == CellStatus.confirmed
    assert cell_status(False, "attach") == CellStatus.confirmed
    assert cell_status(True, "reject") == CellStatus.rejected
    assert cell_status(False, None, processing=True) == CellStatus.pending
    assert cell_status(True, None, processing=True) == CellStatus.detected
    assert cell_status(False, "reject", processing=True) == CellStatus.rejected
    labels = {s: s.label for s in CellStatus}
    assert len(set(labels.values())) == 5
    assert "pendiente de revisión" in labels[CellStatus.detected]
    assert "pendiente de revisión" in labels[CellStatus.missing]


def test_the_same_passage_on_the_same_page_is_shown_once(db_session, seeded):
    """QA 2026-12-06: one commitment showed the same excerpt of the same page of a document
    twice (two rules matched the sentence). The matrix, which every surface reads, keeps the
    best-scored copy with both rules; the same words on another page, or in another document,
    stay."""
    from sqlalchemy import select

    from service.domain.models import Classification, CommitmentResult, Document

    sid = seeded["full"].id
    doc = db_session.scalar(select(Document).where(Document.submission_id == sid))
    other = Document(submission_id=sid, name="b.pdf", status="done", stage="done")
    db_session.add(other)
    db_session.flush()
    sentence = "El comité de inclusión sesiona cada mes."
    classification = Classification(document_id=doc.id, classifier_version="v3",
                                    doc_type="acta")
    classification.results = [CommitmentResult(
        commitment="c1", supported=True, confidence=0.9, evidence=[
            {"text": sentence, "page": 2, "score": 0.6, "pattern_ids": ["c1.acta"]},
            {"text": " el Comite de INCLUSION  sesiona cada mes. ", "page": 2, "score": 0.8,
             "pattern_ids": ["c1.comite"]},
            {"text": sentence, "page": 3, "score": 0.5, "pattern_ids": ["c1.acta"]},
            {"text": sentence, "page": 2, "score": 0.7, "pattern_ids": ["c1.acta"]},
        ])]
    second = Classification(document_id=other.id, classifier_version="v3", doc_type="acta")
    second.results = [CommitmentResult(
        commitment="c1", supported=True, confidence=0.7, evidence=[
            {"text": sentence, "page": 2, "score": 0.4, "pattern_ids": ["c1.acta"]}])]
    db_session.add_all([classification, second])
    db_session.commit()

    c1 = load_matrix(db_session, sid).commitment("c1")
    cell = next(c for c in c1.cells if c.document_id == doc.id)
    assert [(p.page, p.score, p.pattern_ids) for p in cell.passages] == [
        (2, 0.8, ("c1.comite", "c1.acta")), (3, 0.5, ("c1.acta",))]
    assert [(p.document, p.page, p.score) for p in c1.passages] == [
        ("a.pdf", 2, 0.8), ("a.pdf", 3, 0.5), ("b.pdf", 2, 0.4)]


def test_short_names_keep_the_last_part_unless_another_document_shares_it():
    """QA 2026-12-07: the pages named "2023/boletin.txt" and "2024/boletin.txt" both
    "boletin.txt". Each shows the shortest end of its path no other name ends with."""
    from service.domain.matrix import short_names

    names = ["a.zip/2023/boletin.txt", "a.zip/2024/boletin.txt", "a.zip/2024/acta.pdf",
             "b.zip/x/2024/plan.pdf", "c.zip/y/2024/plan.pdf", "plan2.pdf",
             "boletin.txt/informe.pdf", "informe.pdf", "otra.pdf", "otra.pdf"]
    assert short_names(names) == [
        "2023/boletin.txt",
        "2024/boletin.txt",
        "acta.pdf",
        "x/2024/plan.pdf",
        "y/2024/plan.pdf",
        "plan2.pdf",
        "boletin.txt/informe.pdf",  # the other is all of itself
        "informe.pdf",
        "otra.pdf",
        "otra.pdf (2)",  # the same name again: numbered by upload order
    ]


def test_the_same_name_twice_is_numbered_by_upload_order():
    """QA sweep: two different files both uploaded as «acta.txt» read the same on the pages
    and in the exports. From the second on, each is numbered by upload order; the exports'
    full names too."""
    from service.domain.matrix import short_names

    names = ["acta.txt", "a.zip/2024/acta.txt", "acta.txt", "acta.txt", "a.zip/2024/acta.txt"]
    assert short_names(names) == ["acta.txt", "2024/acta.txt", "acta.txt (2)", "acta.txt (3)",
                                  "2024/acta.txt (2)"]
    assert short_names(names, whole=True) == [
        "acta.txt", "a.zip/2024/acta.txt", "acta.txt (2)", "acta.txt (3)",
        "a.zip/2024/acta.txt (2)"]


def test_an_emails_message_is_named_with_its_email():
    """QA 2026-12-08: the text of an e-mail, stored as «correo.eml/mensaje.txt», was quoted on
    the applicant's checklist as «mensaje.txt, página 1» and listed so to reviewers: a name
    nobody gave (the extractor's, ``email_message.BODY_NAME``). It keeps its e-mail's name;
    attachments keep their own."""
    from service.domain.matrix import Passage, short_names

    assert short_names(["correo.eml/mensaje.txt", "correo.eml/nomina.xlsx", "acta.pdf"]) == [
        "correo.eml/mensaje.txt", "nomina.xlsx", "acta.pdf"]
    assert short_names(["actas.zip/2024/aviso.eml/mensaje.txt", "respuesta.eml/mensaje.txt"]
                       ) == ["aviso.eml/mensaje.txt", "respuesta.eml/mensaje.txt"]
    assert short_names(["mensaje.txt"]) == ["mensaje.txt"]  # uploaded as such
    quoted = Passage("d", "correo.eml/mensaje.txt", "Adjunto la nómina.", 1, 0.9, (), 0.9)
    assert quoted.short_document == "correo.eml/mensaje.txt"
