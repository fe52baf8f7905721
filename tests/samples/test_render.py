"""The corpus renderer: sources validate, and each rendering opens and carries its labels."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.rendered import renderer

REPO = Path(__file__).resolve().parents[2]
DEMO_SOURCES = REPO / "samples" / "demo-sources"
CORPUS = REPO / "samples" / "corpus"


render_corpus = renderer()

SOURCE = """+++
org = "Constructora Andes Sur SpA"
rut = "76.543.210-3"
doc_type = "acta"
render = ["pdf", "docx", "txt"]
split = "dev"
lang = "es"
[labels]
c1 = true
c2 = false
c3 = false
c4 = false
c5 = true
[evidence]
c1 = ["En Santiago, a 3 de marzo de 2025, se constituye el Comité de Inclusión."]
c5 = ["María Pérez | Venezolana | Secretaria del comité"]
+++
# Acta de constitución

En Santiago, a 3 de marzo de 2025, se constituye el Comité de Inclusión. Asisten seis.

- Se fija la periodicidad de las reuniones.

| Nombre | Nacionalidad | Cargo |
| --- | --- | --- |
| María Pérez | Venezolana | Secretaria del comité |

<!-- página -->
## Acuerdos

Segunda página con los acuerdos y las firmas.
"""


def _write(folder: Path, rel: str, text: str) -> Path:
    path = folder / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _records(out: Path) -> dict[str, dict]:
    lines = (out / "labels.jsonl").read_text(encoding="utf-8").splitlines()
    return {r["file"]: r for r in map(json.loads, lines)}


def test_pdf_docx_txt_open_and_carry_labels(tmp_path):
    import docx
    import pdfplumber

    src, out = tmp_path / "src", tmp_path / "out"
    _write(src, "org01-andes-sur/acta.md", SOURCE)
    assert render_corpus.main([str(src), str(out)]) == 0

    records = _records(out)
    assert set(records) == {"org01-andes-sur/acta.pdf", "org01-andes-sur/acta.docx",
                            "org01-andes-sur/acta.txt"}
    pdf = records["org01-andes-sur/acta.pdf"]
    assert pdf["id"] == "org01-andes-sur/acta" and pdf["render"] == "pdf" and not pdf["ocr"]
    assert pdf["labels"] == {"c1": True, "c2": False, "c3": False, "c4": False, "c5": True}
    assert set(pdf["evidence"]) == {"c1", "c5"} and pdf["split"] == "dev"
    assert pdf["evidence_pages"] == {"c1": [1], "c5": [1]}

    with pdfplumber.open(out / "org01-andes-sur/acta.pdf") as document:
        assert len(document.pages) == 2  # the page break is honoured
        first = document.pages[0]
        text = " ".join(first.extract_text().split())
        assert "se constituye el Comité de Inclusión" in text  # accents survive
        assert "Constructora Andes Sur SpA" in text and "Página 1" in text  # header, footer
        assert ["María Pérez", "Venezolana", "Secretaria del comité"] in first.extract_tables()[0]

    document = docx.Document(out / "org01-andes-sur/acta.docx")
    assert any(p.style.name.startswith("Heading") for p in document.paragraphs)
    assert document.tables[0].cell(1, 1).text == "Venezolana"

    txt = (out / "org01-andes-sur/acta.txt").read_text(encoding="utf-8")
    assert "María Pérez | Venezolana | Secretaria del comité" in txt


def test_renderings_are_deterministic(tmp_path):
    src = tmp_path / "src"
    _write(src, "org01-andes-sur/acta.md", SOURCE)
    render_corpus.main([str(src), str(tmp_path / "a")])
    render_corpus.main([str(src), str(tmp_path / "b")])
    first, second = _records(tmp_path / "a"), _records(tmp_path / "b")
    assert {f: r["sha256"] for f, r in first.items()} == {f: r["sha256"] for f, r in second.items()}


def test_scan_is_an_image_only_pdf(tmp_path):
    import pdfplumber

    src, out = tmp_path / "src", tmp_path / "out"
    shutil.copy(DEMO_SOURCES / "acta-constitucion-comite.md", _write(src, "x.md", "").parent)
    (src / "x.md").unlink()
    assert render_corpus.main([str(src), str(out)]) == 0
    record = _records(out)["acta-constitucion-comite.scan.pdf"]
    assert record["ocr"] and record["render"] == "scan"
    assert record["bytes"] < 400_000
    with pdfplumber.open(out / record["file"]) as document:
        assert len(document.pages) == 1
        page = document.pages[0]
        assert not page.chars  # no text layer: OCR is the only way in
        assert len(page.images) == 1


def test_bad_sources_are_refused_with_the_reason(tmp_path):
    src = tmp_path / "src"
    wrong_rut = SOURCE.replace("76.543.210-3", "76.543.210-4")
    _write(src, "org01-a/rut.md", wrong_rut)
    with pytest.raises(render_corpus.SourceError, match="check digit"):
        render_corpus.read_source(src / "org01-a/rut.md", src)
    missing = SOURCE.replace("María Pérez | Venezolana", "María Pérez | Peruana", 1)
    _write(src, "org01-a/evidence.md", missing)
    with pytest.raises(render_corpus.SourceError, match="evidence not found"):
        render_corpus.read_source(src / "org01-a/evidence.md", src)
    heldout = SOURCE.replace('split = "dev"', 'split = "heldout"')
    _write(src, "org02-b/split.md", heldout)
    with pytest.raises(render_corpus.SourceError, match="split must be 'dev'"):
        render_corpus.read_source(src / "org02-b/split.md", src)
    photo = SOURCE.replace('render = ["pdf", "docx", "txt"]', 'render = ["photo"]')
    _write(src, "org01-a/photo.md", photo)
    with pytest.raises(render_corpus.SourceError, match="one page"):
        render_corpus.read_source(src / "org01-a/photo.md", src)


@pytest.mark.parametrize("rut, valid", [("76.543.210-3", True), ("77.214.538-1", True),
                                         ("81.201.000-K", True), ("76.543.210-K", False),
                                         ("76543210-3", False), ("76.543.210", False)])
def test_rut_check_digit(rut, valid):
    assert render_corpus.rut_is_valid(rut) is valid


def test_every_corpus_and_demo_source_is_valid():
    for root in (CORPUS, DEMO_SOURCES):
        for path in render_corpus.find_sources(root, None):
            render_corpus.read_source(path, root)  # raises SourceError with the reason


def test_demo_expected_labels_match_their_sources():
    expected = json.loads((REPO / "samples" / "demo-expected.json").read_text("utf-8"))
    sources = {p.stem: render_corpus.read_source(p, DEMO_SOURCES)
               for p in render_corpus.find_sources(DEMO_SOURCES, None)}
    assert len(expected) == len(sources) >= 5
    for name, entry in expected.items():
        assert (REPO / "samples" / "demo" / name).is_file(), name
        source = sources[name.split(".")[0]]
        assert entry["doc_type"] == source.meta["doc_type"]
        assert entry["labels"] == source.meta["labels"]
    covered = {c for e in expected.values() for c, v in e["labels"].items() if v}
    assert covered == {"c1", "c2", "c3", "c4", "c5"}


def test_register_defaults_to_interno_and_unknown_registers_are_refused(tmp_path):
    src, out = tmp_path / "src", tmp_path / "out"
    _write(src, "org01-andes-sur/acta.md", SOURCE)
    press = SOURCE.replace('lang = "es"', 'lang = "es"\nregister = "prensa"\n'
                           'tags = ["external_names", "latam", "hard_negative"]')
    _write(src, "org02-b/nota.md", press)
    assert render_corpus.main([str(src), str(out)]) == 0
    records = _records(out)
    assert records["org01-andes-sur/acta.pdf"]["register"] == "interno"
    assert records["org02-b/nota.pdf"]["register"] == "prensa"
    _write(src, "org03-c/x.md", SOURCE.replace('lang = "es"', 'lang = "es"\nregister = "blog"'))
    with pytest.raises(render_corpus.SourceError, match="register 'blog'"):
        render_corpus.read_source(src / "org03-c/x.md", src)


def test_new_heldout_organisations_must_be_heldout(tmp_path):
    src = tmp_path / "src"
    _write(src, "org30-x/a.md", SOURCE)
    with pytest.raises(render_corpus.SourceError, match="split must be 'heldout' for org30"):
        render_corpus.read_source(src / "org30-x/a.md", src)


def test_unchanged_sources_are_not_rendered_again(tmp_path):
    src, out = tmp_path / "src", tmp_path / "out"
    _write(src, "org01-andes-sur/acta.md", SOURCE)
    other = _write(src, "org02-b/acta.md", SOURCE)
    assert render_corpus.main([str(src), str(out)]) == 0
    kept = out / "org01-andes-sur/acta.pdf"
    kept.touch()
    stamp = kept.stat().st_mtime_ns
    other.write_text(SOURCE.replace("Asisten seis.", "Asisten siete."), encoding="utf-8")
    assert render_corpus.main([str(src), str(out)]) == 0
    assert kept.stat().st_mtime_ns == stamp  # reused
    assert "siete" in (out / "org02-b/acta.txt").read_text(encoding="utf-8")  # re-rendered
    assert len(_records(out)) == 6
    (out / "org01-andes-sur/acta.docx").write_bytes(b"damaged")
    assert render_corpus.main([str(src), str(out)]) == 0
    assert (out / "org01-andes-sur/acta.docx").read_bytes()[:2] == b"PK"  # rendered again


def test_stats_count_registers_splits_and_c5_in_prose(tmp_path, capsys):
    src = tmp_path / "src"
    _write(src, "org01-a/acta.md", SOURCE)  # c5 only in a table row
    prose = SOURCE.replace('c5 = ["María Pérez | Venezolana | Secretaria del comité"]',
                           'c5 = ["En Santiago, a 3 de marzo de 2025, se constituye el Comité de '
                           'Inclusión."]')
    _write(src, "org02-b/nota.md", prose.replace('lang = "es"', 'lang = "es"\nregister = "web"\n'
                                                 'tags = ["c5_prose", "hard_negative"]'))
    _write(src, "org07-c/acta.md", SOURCE.replace('split = "dev"', 'split = "heldout"'))
    assert render_corpus.main([str(src), "--stats"]) == 0
    out = capsys.readouterr().out
    assert "documents: 3 from 3 organisations" in out
    assert "documents by register: interno=2, web=1" in out
    assert "evaluation splits: dev=1, heldout=1, register=1" in out
    assert "hard negatives (tag hard_negative): 1/3 = 33%" in out
    assert "c5 in prose (c5 evidence outside a table): 1 documents; tag c5_prose: 1" in out
    assert render_corpus.main([str(src), "--stats", "--orgs", "1-2"]) == 0
    assert "documents: 2 from 2 organisations" in capsys.readouterr().out
