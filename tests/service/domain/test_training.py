"""`evidencia train`: reviewers' decisions (made through the API) and a labelled corpus become a
candidate model, scored against the model in force, promoted only when better, recorded either
way; the promoted model changes the classifier version that `evidencia reprocess` applies."""

from __future__ import annotations

import json
from argparse import Namespace

import pytest
from sqlalchemy import select

from service.domain.rut import check_digit

_ACTA = ("Acta de constitución\n\nEn {city}, a 3 de marzo de 2025, se constituye el Comité de "
         "Interculturalidad de {org}, encargado de promover la inclusión de los trabajadores "
         "migrantes.\nAsisten seis integrantes.\n")
_PARITARIO = ("Acta del comité paritario\n\nEn {city}, a 3 de marzo de 2025, sesionó el Comité "
              "Paritario de Higiene y Seguridad de {org} para revisar los elementos de "
              "protección personal.\n")
_FERIA = ("Informe de actividades\n\nEn {city} se organizó una feria intercultural abierta a la "
          "comunidad junto a organizaciones de personas migrantes, con música y comida de "
          "cinco países.\n")
_CITIES = ["Talca", "Arica", "Osorno", "Calama", "Curicó", "Ovalle", "Angol", "Linares"]


def _rut(n: int) -> str:
    body = str(76_100_000 + n * 1_013)
    return f"{body}-{check_digit(body)}"


def _texts(n: int) -> dict[str, tuple[str, dict, dict]]:
    """name -> (text, labels, evidence) for organisation ``n``."""
    city, org = _CITIES[n % len(_CITIES)], f"Empresa Número {n}"
    acta, feria = _ACTA.format(city=city, org=org), _FERIA.format(city=city, org=org)
    no = dict.fromkeys(("c1", "c2", "c3", "c4", "c5"), False)
    return {
        "acta": (acta, {**no, "c1": True}, {"c1": [acta.splitlines()[2]]}),
        "paritario": (_PARITARIO.format(city=city, org=org), no, {}),
        "feria": (feria, {**no, "c4": True}, {"c4": [feria.splitlines()[2]]}),
    }


@pytest.fixture
def corpus(tmp_path):
    """A rendered corpus (text renderings): six dev organisations and three held out."""
    root = tmp_path / "corpus"
    lines = []
    for n in range(9):
        split = "heldout" if n >= 6 else "dev"
        folder = root / f"org{60 + n}-empresa"
        folder.mkdir(parents=True)
        for name, (text, labels, evidence) in _texts(n).items():
            (folder / f"{name}.txt").write_text(text, encoding="utf-8")
            lines.append(json.dumps({
                "file": f"{folder.name}/{name}.txt", "id": f"{folder.name}/{name}",
                "split": split, "render": "txt", "ocr": False, "register": "interno",
                "doc_type": "otro", "labels": labels, "evidence": evidence}))
    (root / "labels.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


@pytest.fixture
def decided(client, reviewer, run_worker_burst):
    """Six organisations upload their documents through the API; a reviewer confirms the
    committee (c1) and attaches the fair's passage (c4) by its text, no document named."""
    subs = []
    for n in range(10, 16):
        r = client.post("/api/submissions", json={"organization": f"Org {n}", "rut": _rut(n)})
        assert r.status_code == 201, r.text
        sub = r.json()
        texts = _texts(n)
        files = [("files", (f"{name}.txt", text.encode(), "text/plain"))
                 for name, (text, _l, _e) in texts.items()]
        r = client.post(f"/api/submissions/{sub['id']}/documents", files=files,
                        headers={"Authorization": f"Bearer {sub['token']}"})
        assert r.status_code == 202, r.text
        subs.append((sub, texts))
    run_worker_burst()
    for sub, texts in subs:
        url = f"/api/submissions/{sub['id']}/decisions"
        for body in ({"commitment": "c1", "action": "confirm"},
                     {"commitment": "c4", "action": "attach",
                      "excerpt": texts["feria"][2]["c4"][0]}):
            r = client.post(url, json=body, auth=reviewer)
            assert r.status_code == 201, r.text
    return subs


@pytest.fixture
def restore_packaged_model():
    """The promoted model lives in the test's data folder: put the packaged one back after."""
    yield
    import classifiers
    from classifiers.options import ClassifierOptions

    classifiers.use_options(ClassifierOptions())


def _bad_model_in_force(settings):
    """A valid artefact that says no to everything, installed as the promoted model."""
    from classifiers.result import COMMITMENT_IDS
    from classifiers.second_stage import Linear, artefact, model_fingerprint, save_model

    never = {cid: Linear(-10.0, {}) for cid in COMMITMENT_IDS}
    save_model(artefact(never, never, {"source": "test"}, model_fingerprint()),
               settings.classifier_options().second_stage_file)


def test_decisions_through_the_api_become_labels(decided, session):
    from service.domain.training import decision_examples

    train, held_out = decision_examples(session)
    examples = train + held_out
    assert len(examples) == 12  # per organisation: the acta (c1) and the fair's report (c4)
    by_kind = {}
    for ex in examples:
        by_kind.setdefault(tuple(sorted(ex.labels.items())), []).append(ex)
    assert set(by_kind) == {(("c1", True),), (("c4", True),)}
    attached = by_kind[(("c4", True),)][0]
    assert "feria intercultural" in attached.evidence["c4"][0]
    assert {ex.group for ex in examples} == {ex.group for ex in train} | {
        ex.group for ex in held_out}
    assert not {ex.group for ex in train} & {ex.group for ex in held_out}  # whole organisations
    # a real decision counts as DECISION_WEIGHT corpus documents in the fits
    from classifiers.learn import DECISION_WEIGHT

    assert DECISION_WEIGHT > 1 and {ex.weight for ex in examples} == {DECISION_WEIGHT}


def test_train_promotes_a_better_candidate_records_both_scores_and_reprocess_applies_it(
    decided, corpus, session, restore_packaged_model
):
    import classifiers
    from service.cli.reprocess import reprocess
    from service.cli.train import run
    from service.domain.models import Classification, ModelTraining
    from service.domain.pipeline import current_version
    from service.domain.reprocess import select_documents
    from service.settings import get_settings

    settings = get_settings()
    _bad_model_in_force(settings)
    bad_version = current_version()

    assert run(Namespace(corpus=str(corpus), jobs=1, json=False)) == 0
    session.expire_all()
    first = session.scalars(select(ModelTraining)).one()
    assert first.promoted and first.version_before == bad_version
    assert first.version_after != bad_version == first.version_before
    for scores in (first.candidate_scores, first.current_scores):
        assert {"decisions", "corpus"} == set(scores)
    assert first.current_scores["corpus"]["macro_f1"] == 0.0  # the model that says no
    assert first.candidate_scores["corpus"]["macro_f1"] > 0.5
    assert first.counts["corpus_files"] == 18 and first.counts["corpus_held_out_files"] == 9
    assert first.counts["decided_documents"] + first.counts["held_out_decided_documents"] == 12
    promoted = settings.classifier_options().second_stage_file
    body = json.loads(promoted.read_text())
    assert body["checksum"] == first.candidate_checksum
    assert body["meta"]["decision_weight"] == 3.0  # how much each decided document counted
    assert current_version() == first.version_after == classifiers.CLASSIFIER_VERSION

    # reprocess applies the promoted model to what was processed before
    ids = select_documents(session, all_documents=True)
    result = reprocess(session, ids, inline=True)
    assert result.version == first.version_after and result.reclassified == len(ids)
    assert session.scalar(select(Classification).where(
        Classification.classifier_version == first.version_after)) is not None

    # the same data again: the candidate is the model in force, not better: not promoted
    from service.domain.training import train

    again = train(session, corpus, jobs=1)
    assert not again.promoted and again.version_after == again.version_before
    assert again.rule == "every set"  # 12 decided documents: too few to decide alone
    assert again.candidate == again.current
    rows = session.scalars(select(ModelTraining).order_by(ModelTraining.id)).all()
    assert [r.promoted for r in rows] == [True, False]
    assert not (settings.model_dir / "candidate.json").exists()


#: org66's internal bulletin (dev organisation): c2 "no" with one passage considered, not
#: enough (tests/service/api/test_considered_passages.py)
_INDUCTION_PLAN = "org66-cooperativa-ahorro-horizonte/boletin-interno-agosto-2025.md"
#: a sentence of that bulletin a reviewer may verify, other than the considered passage
_INDUCTION_EXCERPT = ("Dos trabajadoras de la sucursal Temuco Centro asistieron por su cuenta y "
                      "comentaron que se habló mucho del trabajo agrícola de temporada")


def test_a_confirmation_of_a_cell_whose_passages_were_only_considered_labels_the_document_not_them(
        client, reviewer, run_worker_burst, session):
    """Bug: ``evidencia train`` turned the passages of the cell a reviewer confirmed into positive
    passage labels even when they had been shown as "considerado, no suficiente". Now a passage
    is a positive only when it was shown as evidence or a reviewer verified it; a document whose
    passages were only considered is a positive with its proving passages unknown."""
    from service.domain.training import decision_examples
    from tests.documents import TRAINING_PLAN_TEXT
    from tests.rendered import rendered

    induction = rendered(_INDUCTION_PLAN, "txt")
    cases = {}  # organisation number -> decision body (the induction plan's id filled in)
    for n, extra in ((20, True), (21, False), (22, False)):
        sub = client.post("/api/submissions", json={"organization": f"Org {n}",
                                                    "rut": _rut(n)}).json()
        files = [("files", ("boletin.txt", induction))]
        if extra:  # a training plan the classifier shows as c2's evidence
            files.append(("files", ("plan-capacitacion.txt", TRAINING_PLAN_TEXT.encode(),
                                    "text/plain")))
        r = client.post(f"/api/submissions/{sub['id']}/documents", files=files,
                        headers={"Authorization": f"Bearer {sub['token']}"})
        assert r.status_code == 202, r.text
        cases[n] = sub
    run_worker_burst()

    considered, plan_evidence, plan_ids = set(), set(), {}
    for n, sub in cases.items():
        c2 = client.get(f"/api/submissions/{sub['id']}/matrix",
                        auth=reviewer).json()["commitments"][1]
        cells = {c["document"]: c for c in c2["documents"]}
        plan = cells["boletin.txt"]
        assert not plan["supported"] and plan["evidence"], "no longer a considered passage"
        considered |= {e["text"] for e in plan["evidence"]}
        plan_ids[n] = plan["document_id"]
        if n == 20:
            assert cells["plan-capacitacion.txt"]["supported"]
            plan_evidence = {e["text"] for e in cells["plan-capacitacion.txt"]["evidence"]}
            assert plan_evidence
    bodies = {
        # the reviewer confirms c2 naming the induction plan (its passage only considered)
        20: {"commitment": "c2", "action": "confirm", "document_id": plan_ids[20]},
        # ... with a sentence of it the reviewer verified
        21: {"commitment": "c2", "action": "confirm", "excerpt": _INDUCTION_EXCERPT},
        # attaches the document itself, no excerpt
        22: {"commitment": "c2", "action": "attach", "document_id": plan_ids[22]},
    }
    for n, body in bodies.items():
        r = client.post(f"/api/submissions/{cases[n]['id']}/decisions", json=body,
                        auth=reviewer)
        assert r.status_code == 201, r.text

    train, held_out = decision_examples(session)
    by_key = {ex.key: ex for ex in train + held_out}
    assert set(by_key) == {f"decision:{plan_ids[n]}" for n in bodies}  # the plan: not named
    for n in bodies:
        ex = by_key[f"decision:{plan_ids[n]}"]
        assert ex.labels == {"c2": True}
        assert not considered & set(ex.evidence.get("c2", [])), n
        assert not any(c.positive for c in ex.candidates["c2"] if c.text in considered), n
    # a document positive whose proof nobody saw: the document model learns it, the passage
    # model does not (its candidates are neither positives nor negatives)
    for n in (20, 22):
        ex = by_key[f"decision:{plan_ids[n]}"]
        assert "c2" not in ex.evidence and not ex.passages_known("c2")
    verified = by_key[f"decision:{plan_ids[21]}"]
    assert verified.evidence == {"c2": [_INDUCTION_EXCERPT]} and verified.passages_known("c2")


def test_a_plain_confirmation_labels_the_documents_it_rested_on_not_those_uploaded_after(
        client, reviewer, run_worker_burst, session):
    """Bug: a confirmation naming no document labelled the documents the matrix shows *now* as
    supporting the commitment, so minutes uploaded after it, which the reviewer never saw, were
    learned as reviewed positives. It labels the documents it rested on when it was made."""
    from service.domain.training import decision_examples

    sub = client.post("/api/submissions", json={"organization": "Org 30",
                                                "rut": _rut(30)}).json()
    applicant = {"Authorization": f"Bearer {sub['token']}"}
    base = f"/api/submissions/{sub['id']}"

    def upload(name: str, city: str) -> str:
        text = _ACTA.format(city=city, org="Empresa Número 30")
        r = client.post(f"{base}/documents", headers=applicant,
                        files=[("files", (name, text.encode(), "text/plain"))])
        assert r.status_code == 202, r.text
        run_worker_burst()
        return r.json()["documents"][0]["id"]

    seen = upload("acta.txt", "Talca")
    r = client.post(f"{base}/decisions", auth=reviewer,
                    json={"commitment": "c1", "action": "confirm"})
    assert r.status_code == 201, r.text
    unseen = upload("acta-abril.txt", "Arica")
    c1 = client.get(f"{base}/matrix", auth=reviewer).json()["commitments"][0]
    assert {e["document_id"] for e in c1["evidence"]} == {seen, unseen}

    train, held_out = decision_examples(session)
    assert [(ex.key, ex.labels) for ex in train + held_out] == [(f"decision:{seen}",
                                                                  {"c1": True})]


def test_enough_held_out_decisions_decide_a_promotion_and_the_corpus_only_guards_it():
    """A deployment's own decided documents outweigh the project's corpus once there are enough
    of them; the corpus may then lose at most CORPUS_TOLERANCE (the twentieth round's model:
    real pages 0.25 -> 0.39, corpus 0.934 -> 0.928, refused by the old rule)."""
    from service.domain.training import (
        CORPUS_TOLERANCE,
        DECISIONS_DECIDE_FROM,
        promotes,
        promotion_rule,
    )

    def scores(decisions: float, corpus: float) -> dict:
        return {"decisions": {"macro_f1": decisions, "evidence_precision_at_3": 0.5},
                "corpus": {"macro_f1": corpus, "evidence_precision_at_3": 0.9}}

    current, taught = scores(0.25, 0.934), scores(0.39, 0.928)
    assert promotion_rule(DECISIONS_DECIDE_FROM) == "decisions"
    assert promotion_rule(DECISIONS_DECIDE_FROM - 1) == "every set"
    assert promotes(taught, current, "decisions")
    assert not promotes(taught, current, "every set")
    collapsed = scores(0.39, 0.934 - CORPUS_TOLERANCE - 0.005)
    assert not promotes(collapsed, current, "decisions")
    corpus_only = scores(0.25, 0.95)  # better on the corpus alone
    assert not promotes(corpus_only, current, "decisions")
    assert promotes(corpus_only, current, "every set")
    no_corpus = {"decisions": taught["decisions"], "corpus": {"macro_f1": None}}
    assert promotes(no_corpus, {**current, "corpus": {"macro_f1": None}}, "decisions")


def test_with_nothing_held_out_the_run_says_nothing_was_compared(
    service_env, corpus, capsys, restore_packaged_model
):
    """QA sweep 3: a corpus rendered for a few dev organisations (``--orgs 1-3``) and no
    held-out decisions yet: both scores were "—" and the run said "El candidato no supera al
    modelo vigente", as if it had been measured and found worse."""
    from service.cli.train import run

    labels = corpus / "labels.jsonl"
    labels.write_text(labels.read_text(encoding="utf-8").replace('"heldout"', '"dev"'),
                      encoding="utf-8")
    assert run(Namespace(corpus=str(corpus), jobs=1, json=False)) == 0
    out = capsys.readouterr().out
    assert "no supera" not in out
    assert ("No hay con qué comparar: ni el corpus ni las decisiones tienen datos reservados; "
            "no se adoptó.") in out
