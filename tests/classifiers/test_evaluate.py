"""`evidencia eval` on a tiny corpus of plain-text files written for the test."""

from __future__ import annotations

import argparse
import json

import pytest

from classifiers.evaluate import run, token_overlap

_DOCS = {
    "a/acta.txt": (
        "ACTA DE CONSTITUCIÓN\n\nEn Talca, a 2 de junio de 2025, se constituye el Comité de "
        "Interculturalidad de Agrícola Sur, encargado de promover la inclusión de los "
        "trabajadores migrantes.\n",
        {"c1": True},
        {"c1": ["En Talca, a 2 de junio de 2025, se constituye el Comité de Interculturalidad de "
                "Agrícola Sur, encargado de promover la inclusión de los trabajadores migrantes."]},
        "dev",
    ),
    "a/factura.txt": ("FACTURA N° 123\n\nArriendo de andamios, 3 meses.\n", {}, {}, "dev"),
    "b/politica.txt": (
        "Política de Inclusión\n\nSe prohíbe toda discriminación por nacionalidad u origen en "
        "la contratación y en las remuneraciones.\n",
        {"c3": True},
        {"c3": ["Se prohíbe toda discriminación por nacionalidad u origen en la contratación y en "
                "las remuneraciones."]},
        "heldout",
    ),
}


@pytest.fixture
def corpus(tmp_path, classify):
    lines = []
    for name, (text, labels, evidence, split) in _DOCS.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        full = {c: labels.get(c, False) for c in ("c1", "c2", "c3", "c4", "c5")}
        lines.append(json.dumps({"file": name, "id": name, "doc_type": "otro", "render": "txt",
                                 "split": split, "labels": full, "evidence": evidence}))
    (tmp_path / "labels.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp_path


def test_eval_json_report(corpus, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("EVIDENCIA_CACHE_DIR", str(tmp_path / "cache"))
    code = run(argparse.Namespace(corpus=str(corpus), json=True, split="all"))
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert set(report["splits"]) == {"dev", "heldout"}
    dev = report["splits"]["dev"]["all"]
    assert dev["files"] == 2
    assert dev["commitments"]["c1"]["tp"] == 1 and dev["commitments"]["c1"]["fp"] == 0
    assert dev["evidence_precision_at_3"] == 1.0
    assert report["splits"]["heldout"]["all"]["commitments"]["c3"]["tp"] == 1
    assert report["splits"]["dev"]["ocr"]["files"] == 0
    assert report["confusions"]["dev"] == []


def test_eval_human_output_is_spanish(corpus, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("EVIDENCIA_CACHE_DIR", str(tmp_path / "cache"))
    run(argparse.Namespace(corpus=str(corpus), json=False, split="dev"))
    out = capsys.readouterr().out
    assert "macro-F1" in out and "precisión de evidencia @3" in out
    assert "reservado" not in out  # --split dev reports dev only


def test_eval_without_labels_is_a_usage_error(tmp_path, capsys):
    assert run(argparse.Namespace(corpus=str(tmp_path), json=False, split="all")) == 2
    assert "labels.jsonl" in capsys.readouterr().err


def test_token_overlap_tolerates_ocr_noise_and_table_pipes():
    gold = "Wilner Joseph | Haitiana | Operario de fileteo | Titular, elegido por los trabajadores"
    ocr = "Wilner Joseph Haitiana Operario de fileteo, planta Titular, elegido por los"
    assert token_overlap(gold, ocr) >= 0.6
    assert token_overlap(gold, "Acta de constitución del comité") < 0.6
