"""The reviewers' list (API and page) counts in SQL what the matrix says in Python."""

from __future__ import annotations

from service.domain.listing import ListFilter, ListOrder, ListQuery, list_submissions
from service.domain.matrix import load_matrix


def test_list_counts_filters_sorts_and_pages_in_sql(db_session, seeded):
    session = db_session
    rows, total = list_submissions(session, ListQuery())
    assert total >= 3
    by_name = {r.organization: r for r in rows}
    alfa, beta, gamma = by_name["Alfa"], by_name["Beta"], by_name["Gamma"]
    # newest classification only; latest decision per commitment only
    assert (alfa.n_documents, alfa.n_detected, alfa.n_confirmed, alfa.n_decided) == (1, 5, 5, 5)
    assert (beta.n_documents, beta.n_errors, beta.n_pending, beta.n_detected) == (2, 1, 1, 0)
    assert (gamma.n_documents, gamma.n_detected) == (0, 0)

    def names(**kw):
        found, _ = list_submissions(session, ListQuery(**kw))
        return [r.organization for r in found if r.organization in by_name]

    assert names(filter=ListFilter.errors) == ["Beta"]
    assert names(filter=ListFilter.pending_review) == []  # three drafts nobody sent
    assert set(names(filter=ListFilter.missing)) >= {"Beta", "Gamma"}
    assert "Alfa" not in names(filter=ListFilter.missing)
    assert names(order=ListOrder.organization, desc=False)[:3] == ["Alfa", "Beta", "Gamma"]
    assert names(order=ListOrder.detected, desc=True)[0] == "Alfa"
    assert names(search="gam") == ["Gamma"]
    page1, total = list_submissions(session, ListQuery(limit=2))
    page2, _ = list_submissions(session, ListQuery(limit=2, offset=2))
    assert len(page1) == 2 and {r.id for r in page1}.isdisjoint({r.id for r in page2})


def test_list_and_matrix_agree(db_session, seeded):
    rows, _ = list_submissions(db_session, ListQuery())
    for row in rows:
        m = load_matrix(db_session, row.id)
        assert row.n_detected == m.n_detected, row.organization
        assert row.n_confirmed == m.n_confirmed, row.organization
        assert row.n_decided == sum(1 for c in m.commitments if c.decision), row.organization
        assert (row.n_documents, row.n_errors, row.n_pending) == (
            len(m.counted), m.n_errors, m.n_pending), row.organization


def test_undo_and_comments_count_as_the_matrix_says(db_session, seeded):
    """An undo takes back the decision in force (the one before counts again); a comment
    decides nothing: the list's SQL and the matrix agree."""
    from sqlalchemy import select

    from service.domain.models import Decision

    session, sid = db_session, seeded["full"].id
    reviewer_id = session.scalar(select(Decision.reviewer_id).limit(1))

    def entry(cid, action, undoes=None, comment=None):
        d = Decision(submission_id=sid, commitment=cid, action=action, reviewer_id=reviewer_id,
                     undoes_id=undoes, comment=comment)
        session.add(d)
        session.flush()
        return d

    def in_force(cid):
        return session.scalars(select(Decision).where(
            Decision.submission_id == sid, Decision.commitment == cid,
            Decision.action.in_(["confirm", "reject"])).order_by(Decision.id)).all()

    c1 = in_force("c1")
    entry("c1", "undo", undoes=c1[-1].id)  # confirm undone: reject again
    entry("c2", "comment", comment="Revisar la firma.")
    c3 = in_force("c3")
    entry("c3", "undo", undoes=c3[-1].id)
    entry("c3", "undo", undoes=c3[0].id)  # both undone: undecided
    session.commit()

    row = next(r for r in list_submissions(session, ListQuery())[0] if r.id == sid)
    m = load_matrix(session, sid)
    assert [c.status.value for c in m.commitments] == [
        "rejected", "confirmed", "detected", "confirmed", "confirmed"]
    assert (row.n_confirmed, row.n_decided) == (m.n_confirmed, 4) == (3, 4)
    assert [e.comment for e in m.commitment("c2").comments] == ["Revisar la firma."]


def test_a_confirm_resting_on_removed_documents_counts_as_the_matrix_says(db_session, seeded):
    """A confirmation naming no document rests on the documents recorded with it: it holds
    while one of them remains and, once all are removed or replaced, the decision below it is
    in force. One with no record (made before migration 0014) holds as before. The matrix and
    ``decisions_in_force`` (Python) agree with the list and the dashboard (SQL)."""
    from datetime import UTC, datetime

    from sqlalchemy import select

    from service.domain.dashboard import _in_force
    from service.domain.matrix import decisions_in_force
    from service.domain.models import Decision, DecisionDocument, Document

    session, sid = db_session, seeded["full"].id
    reviewer_id = session.scalar(select(Decision.reviewer_id).limit(1))
    a = session.scalar(select(Document).where(Document.submission_id == sid))
    b = Document(submission_id=sid, name="b.pdf", status="done", stage="done")
    session.add(b)
    session.flush()

    def entry(cid, action, *rests_on, undoes=None):
        d = Decision(submission_id=sid, commitment=cid, action=action, reviewer_id=reviewer_id,
                     undoes_id=undoes)
        d.endorsements = [DecisionDocument(document_id=doc.id) for doc in rests_on]
        session.add(d)
        session.flush()
        return d

    def top(cid):
        return session.scalars(select(Decision).where(
            Decision.submission_id == sid, Decision.commitment == cid).order_by(Decision.id)
        ).all()[-1]

    entry("c1", "undo", undoes=top("c1").id)  # the seed's confirm undone: its reject below
    entry("c1", "confirm", a)                 # a alone: falls back to the reject
    entry("c2", "undo", undoes=top("c2").id)
    entry("c2", "confirm", a, b)              # holds while b remains
    # c3: the seed's confirm, no record: holds as before
    entry("c4", "reject")
    entry("c4", "confirm", a)                 # falls back to the reject
    entry("c5", "confirm", a)
    entry("c5", "undo", undoes=top("c5").id)  # undone: the seed's confirm holds
    session.commit()

    def agree():
        m = load_matrix(session, sid)
        row = next(r for r in list_submissions(session, ListQuery())[0] if r.id == sid)
        assert (row.n_confirmed, row.n_decided) == (
            m.n_confirmed, sum(1 for c in m.commitments if c.decision))
        python = decisions_in_force(session, [sid])
        assert python == {k: v for k, v in _in_force(session).items() if k[0] == sid}
        assert python == {(sid, c.id): c.decision.action for c in m.commitments if c.decision}
        return [c.status.value for c in m.commitments]

    assert agree() == ["confirmed"] * 5
    a.removed_at = datetime.now(UTC)
    session.commit()
    assert agree() == ["rejected", "confirmed", "confirmed", "rejected", "confirmed"]
    b.removed_at = datetime.now(UTC)
    session.commit()
    assert agree() == ["rejected", "rejected", "confirmed", "rejected", "confirmed"]


def test_pending_review_is_the_workflows_queue_and_the_dashboard_agrees(db_session, seeded):
    """QA 2026-12-06: "Pendientes de revisión" listed drafts nobody had sent (it counted
    undecided commitments); it lists what was sent for review and awaits a verdict, decided
    commitments or not, and the dashboard's "Esperan a un revisor" is the same number."""
    from service.domain.dashboard import load_dashboard

    session = db_session
    gamma = seeded["empty"]
    session.add(type(gamma)(organization=type(gamma.organization)(name="Delta"),
                            token_hash="0" * 64, status="observada"))
    for key, status in (("full", "en_revision"), ("error", "enviada"), ("empty", "borrador")):
        seeded[key].status = status  # Alfa: every commitment decided, still in review
    session.commit()

    def pending():
        rows, total = list_submissions(session, ListQuery(filter=ListFilter.pending_review))
        assert total == len(rows) == load_dashboard(session).waiting
        return sorted(r.organization for r in rows)

    assert pending() == ["Alfa", "Beta"]
    seeded["full"].status = "aprobada"  # a verdict: no longer pending
    session.commit()
    assert pending() == ["Beta"]


def test_a_page_past_the_last_shows_the_last(client, reviewer):
    """QA 2026-12-08: «/revision?pagina=5» with one page of submissions said «2 postulación(es)
    · página 5 de 1» above «No hay postulaciones con este filtro.», with no link back: what a
    reviewer reads after the list shrank under the page they were on (decisions, a verdict)."""
    import re

    for name, rut in (("Fundación Acoge", "76.543.210-3"), ("Panadería El Trigal", None)):
        assert client.post("/api/submissions",
                           json={"organization": name, "rut": rut}).status_code == 201
    page = client.get("/revision", params={"pagina": 5}, auth=reviewer).text
    assert re.search(r"2 postulación\(es\) · página 1 de 1", page)
    assert "No hay postulaciones con este filtro" not in page
    assert "Fundación Acoge" in page and "Panadería El Trigal" in page


def test_missing_a_commitment_is_the_matrixs_and_the_dashboard_agrees(db_session, seeded):
    """QA 2026-12-08: «Falta un compromiso» counted only what the documents support: a
    submission whose commitment a reviewer rejected («No acreditado» on the applicant's page,
    counted missing on the dashboard) was not listed, and one whose undetected commitment a
    reviewer confirmed was. It follows the matrix's rule (``matrix.cell_status``)."""
    from sqlalchemy import select

    from service.domain.dashboard import load_dashboard
    from service.domain.models import Decision

    session = db_session
    alfa = seeded["full"]  # five detected, five confirmed
    reviewer_id = session.scalar(select(Decision.reviewer_id).limit(1))

    def lacking():
        rows, total = list_submissions(session, ListQuery(filter=ListFilter.missing))
        assert total == len(rows)
        return {r.organization for r in rows}

    def matrix_lacks(sid):
        return load_matrix(session, sid).n_covered < 5

    assert "Alfa" not in lacking() and not matrix_lacks(alfa.id)
    session.add(Decision(submission_id=alfa.id, commitment="c3", action="reject",
                         reviewer_id=reviewer_id))
    session.commit()
    assert matrix_lacks(alfa.id)
    assert dict(load_dashboard(session).missing).get("c3") == 1
    assert "Alfa" in lacking()

    gamma = seeded["empty"]  # no document: nothing detected, every commitment attached
    for cid in ("c1", "c2", "c3", "c4", "c5"):
        session.add(Decision(submission_id=gamma.id, commitment=cid, action="attach",
                             excerpt="Acta del comité.", reviewer_id=reviewer_id))
    session.commit()
    assert not matrix_lacks(gamma.id)
    assert "Gamma" not in lacking()
    assert "Beta" in lacking()
