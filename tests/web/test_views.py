"""The pages' read side without a browser: highlighting, RUT messages, the reviewers' list SQL."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import sessionmaker

from service.web import views
from service.web.routes import _rut_problem


def test_highlight_text_ignores_case_accents_and_line_breaks():
    text = "Resumen\nEl Comité de Inclusión\nsesionó cinco veces.\nOtra línea."
    segments = views.highlight_text(text, ["el comite de inclusion sesiono cinco veces."])
    marked = [seg for seg, n in segments if n is not None]
    assert marked == ["El Comité de Inclusión\nsesionó cinco veces."]
    assert "".join(seg for seg, _ in segments) == text  # nothing lost or added


def test_highlight_text_without_a_match_returns_the_text_unmarked():
    assert views.highlight_text("hola", ["adiós"]) == [("hola", None)]
    assert views.highlight_text("", ["x"]) == []


def test_highlight_boxes_tolerate_an_ocr_slip_and_scale_to_percent():
    words = [
        ["Acta", 10, 10, 40, 20],
        ["Comité", 50, 10, 90, 20],
        ["de", 95, 10, 105, 20],
        ["lnclusión", 110, 10, 160, 20],  # OCR read "I" as "l"
        ["constituido", 10, 30, 70, 40],
        ["hoy", 75, 30, 95, 40],
    ]
    boxes = views.highlight_boxes(words, ["Comité de Inclusión constituido hoy"], 200, 100)
    lit = {(round(b["left"]), round(b["top"])) for b in boxes}
    assert (25, 10) in lit and (5, 30) in lit and (38, 30) in lit  # Comité, constituido, hoy
    assert (5, 10) not in lit  # "Acta" is not part of the passage
    assert all(0 <= b["left"] <= 100 and 0 <= b["top"] <= 100 for b in boxes)


def test_highlight_boxes_without_word_boxes_is_empty():
    assert views.highlight_boxes([], ["x"], 100, 100) == []
    assert views.highlight_boxes([["x", 0, 0, 1, 1]], ["x"], 0, 0) == []


@pytest.mark.parametrize(
    ("rut", "fragment"),
    [
        ("", "Ingrese"),
        ("hola", "forma"),
        ("76.543.210-9", "dígito verificador"),
        ("76.543.210-3", None),
        ("765432103", None),
        ("65.432.109-4", None),
    ],
)
def test_rut_messages(rut, fragment):
    problem = _rut_problem(rut)
    if fragment is None:
        assert problem is None
    else:
        assert fragment in problem


def _seed(session):
    """Three submissions: one complete and confirmed, one with an error, one still empty."""
    from service.models import (
        Classification,
        CommitmentResult,
        Decision,
        Document,
        Organization,
        Submission,
        User,
    )

    reviewer = User(username="r", password_hash="x")
    session.add(reviewer)
    subs = {}
    for key, name in (("full", "Alfa"), ("error", "Beta"), ("empty", "Gamma")):
        sub = Submission(organization=Organization(name=name), token_hash="0" * 64)
        session.add(sub)
        subs[key] = sub
    session.flush()

    doc = Document(submission_id=subs["full"].id, name="a.pdf", status="done", stage="done")
    session.add(doc)
    session.flush()
    old = Classification(document_id=doc.id, classifier_version="v1", doc_type="otro")
    old.results = [CommitmentResult(commitment="c1", supported=False, confidence=0.9)]
    session.add(old)
    session.flush()
    new = Classification(document_id=doc.id, classifier_version="v2", doc_type="acta")
    new.results = [
        CommitmentResult(commitment=c, supported=True, confidence=0.9)
        for c in ("c1", "c2", "c3", "c4", "c5")
    ]
    session.add(new)
    for cid in ("c1", "c2", "c3", "c4", "c5"):
        session.add(Decision(submission_id=subs["full"].id, commitment=cid, action="reject",
                             reviewer_id=reviewer.id))
        session.flush()
        session.add(Decision(submission_id=subs["full"].id, commitment=cid, action="confirm",
                             reviewer_id=reviewer.id))
    session.add(Document(submission_id=subs["error"].id, name="b.pdf", status="error",
                         stage="error", error="dañado"))
    session.add(Document(submission_id=subs["error"].id, name="c.pdf", status="queued"))
    session.commit()
    return subs


def test_reviewer_list_counts_filters_sorts_and_pages_in_sql(database_url):
    from service.db import engine_for
    from service.migrate import upgrade

    upgrade(database_url)
    session = sessionmaker(bind=engine_for(database_url))()
    try:
        _seed(session)
        rows, total = views.list_submissions(session, views.ListQuery())
        assert total >= 3
        by_name = {r.organization: r for r in rows}
        alfa, beta, gamma = by_name["Alfa"], by_name["Beta"], by_name["Gamma"]
        # newest classification only; latest decision per commitment only
        assert (alfa.n_documents, alfa.n_detected, alfa.n_confirmed, alfa.n_decided) == (
            1, 5, 5, 5)
        assert (beta.n_documents, beta.n_errors, beta.n_pending, beta.n_detected) == (2, 1, 1, 0)
        assert (gamma.n_documents, gamma.n_detected) == (0, 0)

        def names(**kw):
            found, _ = views.list_submissions(session, views.ListQuery(**kw))
            return [r.organization for r in found if r.organization in by_name]

        assert names(filtro="errores") == ["Beta"]
        assert "Alfa" not in names(filtro="pendientes") and "Beta" in names(filtro="pendientes")
        assert set(names(filtro="falta")) >= {"Beta", "Gamma"} and "Alfa" not in names(
            filtro="falta")
        assert names(orden="organizacion", desc=False)[:3] == ["Alfa", "Beta", "Gamma"]
        assert names(orden="detectados", desc=True)[0] == "Alfa"
        assert names(buscar="gam") == ["Gamma"]
        page1, total = views.list_submissions(session, views.ListQuery(page_size=2))
        page2, _ = views.list_submissions(session, views.ListQuery(page_size=2, pagina=2))
        assert len(page1) == 2 and {r.id for r in page1}.isdisjoint({r.id for r in page2})
    finally:
        session.close()


def test_submission_view_follows_latest_decision_and_shows_open_flags(tmp_path):
    from service.db import engine_for
    from service.migrate import upgrade
    from service.models import ReviewFlag

    url = f"sqlite:///{tmp_path / 'v.db'}"
    upgrade(url)
    session = sessionmaker(bind=engine_for(url))()
    try:
        subs = _seed(session)
        session.add(ReviewFlag(submission_id=subs["full"].id, commitment="c2", old_version="v1",
                               new_version="v2", old_supported=False, new_supported=True))
        session.commit()
        view = views.load_submission_view(session, subs["full"].id)
        assert [c.status for c in view.commitments] == ["confirmed"] * 5
        assert (view.n_detected, view.n_confirmed) == (5, 5)
        assert len(view.history) == 10  # every decision kept, newest first
        assert view.history[0].action == "confirm"
        c2 = next(c for c in view.commitments if c.id == "c2")
        assert [f.new_version for f in c2.flags] == ["v2"]
        assert not any(c.flags for c in view.commitments if c.id != "c2")
        pending = views.load_submission_view(session, subs["error"].id)
        assert pending.pending and pending.n_errors == 1
        assert [c.status for c in pending.commitments] == ["pending"] * 5
        assert views.load_submission_view(session, "no-existe") is None
    finally:
        session.close()
        engine_for(url).dispose()
