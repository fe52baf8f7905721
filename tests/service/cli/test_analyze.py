"""`evidencia analyze` end to end: real extractor, real Tesseract, real spaCy, in a subprocess."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.bombs import docx_bomb, png_bomb, run_measured, zip_of_zeros
from tests.conftest import PEERS, REPO, SAMPLES

DEMO = SAMPLES / "demo"


def _evidencia(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    return subprocess.run(
        [sys.executable, "-m", "service.cli", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=600,
    )


@pytest.fixture(scope="module")
def demo_json() -> dict:
    proc = _evidencia("analyze", str(DEMO), "--json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)


def test_json_output_follows_the_contract(demo_json):
    assert isinstance(demo_json["classifier_version"], str) and demo_json["classifier_version"]
    assert set(demo_json) == {"classifier_version", "documents", "summary"}
    for doc in demo_json["documents"]:
        assert {"path", "sha256", "status", "error", "mime", "doc_type", "pages", "ocr_pages",
                "commitments"} <= set(doc)
        assert doc["status"] == "ok" and doc["error"] is None
        assert len(doc["sha256"]) == 64
        assert [c["id"] for c in doc["commitments"]] == ["c1", "c2", "c3", "c4", "c5"]
        for c in doc["commitments"]:
            assert 0.0 <= c["confidence"] <= 1.0
            for ev in c["evidence"]:
                assert ev["text"].strip() and ev["page"] >= 1
    summary = demo_json["summary"]
    assert sorted(summary["supported"] + summary["missing"]) == ["c1", "c2", "c3", "c4", "c5"]


def test_demo_submission_matches_its_expected_labels(demo_json):
    expected = json.loads((SAMPLES / "demo-expected.json").read_text(encoding="utf-8"))
    by_name = {Path(d["path"]).name: d for d in demo_json["documents"]}
    assert set(expected) <= set(by_name), "every labelled sample is analysed"
    for name, exp in expected.items():
        got = by_name[name]
        labels = {c["id"]: c["supported"] for c in got["commitments"]}
        assert labels == exp["labels"], name
        assert got["doc_type"] == exp["doc_type"], name
        supported = [c for c in got["commitments"] if c["supported"]]
        assert all(c["evidence"] for c in supported), f"{name}: a ✓ without an excerpt"


def test_scanned_and_photographed_samples_are_ocrd(demo_json):
    kinds = {Path(d["path"]).suffix.lower(): d for d in demo_json["documents"]}
    assert kinds[".jpg"]["ocr_pages"] == kinds[".jpg"]["pages"] >= 1
    scanned = [d for d in demo_json["documents"] if d["path"].endswith(".pdf") and d["ocr_pages"]]
    assert scanned, "the image-only PDF sample is read by OCR"


def test_a_bad_file_fails_alone_with_a_spanish_reason(tmp_path):
    (tmp_path / "bien.txt").write_text(
        "Política de inclusión. La empresa prohíbe toda discriminación por nacionalidad u origen "
        "en la selección, la remuneración y el ascenso de sus trabajadores.", encoding="utf-8")
    (tmp_path / "roto.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\n%%EOF")
    (tmp_path / "vacio.docx").write_bytes(b"")
    proc = _evidencia("analyze", str(tmp_path), "--json")
    assert proc.returncode == 1, proc.stderr[-2000:]
    docs = {Path(d["path"]).name: d for d in json.loads(proc.stdout)["documents"]}
    assert docs["bien.txt"]["status"] == "ok"
    for bad in ("roto.pdf", "vacio.docx"):
        assert docs[bad]["status"] == "error"
        message = docs[bad]["error"]
        assert message and any(w in message.lower() for w in ("archivo", "pdf", "vacío"))
        assert "Traceback" not in message


def test_a_dangling_link_in_a_folder_is_said_not_skipped(tmp_path):
    """QA 2026-12-08: a shortcut in the folder whose target was moved (a dangling symbolic
    link) was left out of `analyze` without a word, exit 0, while `evidencia batch` records it
    as a failed file: the matrix looked complete with a document missing. It is now a document
    in error with its reason, exit 1."""
    (tmp_path / "bien.txt").write_text(
        "Política de inclusión. La empresa prohíbe toda discriminación por nacionalidad u origen "
        "en la selección, la remuneración y el ascenso de sus trabajadores.", encoding="utf-8")
    (tmp_path / "informe.pdf").symlink_to(tmp_path / "movido" / "informe.pdf")
    proc = _evidencia("analyze", str(tmp_path), "--json")
    assert proc.returncode == 1, proc.stderr[-2000:]
    docs = {Path(d["path"]).name: d for d in json.loads(proc.stdout)["documents"]}
    assert docs["bien.txt"]["status"] == "ok"
    assert docs["informe.pdf"]["status"] == "error"
    assert docs["informe.pdf"]["error"] == "No se pudo abrir el archivo (permisos o ruta inválida)."


def test_json_output_is_utf8_with_a_file_name_that_is_not(tmp_path):
    """QA 2026-12-08: a file whose name is not UTF-8 (copied from an old Windows share or a
    USB stick mounted as Latin-1: "acta-comit\xe9.txt") put that raw byte into `analyze
    --json`'s output, which is then no UTF-8 and no JSON a strict reader accepts (Python's
    ``json.loads`` of the bytes, ``subprocess.run(text=True)``). The name is now escaped
    within the JSON, and read back it names the file on disk."""
    folder = os.fsencode(tmp_path)
    name = b"acta-comit\xe9.txt"
    with open(os.path.join(folder, name), "wb") as fh:
        fh.write("Acta de constitución del Comité de Inclusión e Interculturalidad.".encode())
    proc = subprocess.run([sys.executable, "-m", "service.cli", "analyze", str(tmp_path),
                           "--json"], cwd=REPO, capture_output=True, timeout=600,
                          env={**os.environ, "OMP_THREAD_LIMIT": "1"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout.decode("utf-8"))  # strict: the output is UTF-8
    [doc] = report["documents"]
    assert doc["status"] == "ok"
    assert os.fsencode(doc["path"]) == os.path.join(folder, name)


def test_zip_members_are_documents_named_inside_the_archive(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("actas/acta.txt", "Acta de reunión del comité de inclusión e interculturalidad")
        zf.writestr("../fuera.txt", "intento de salir de la carpeta")
    archive = tmp_path / "entrega.zip"
    archive.write_bytes(buf.getvalue())
    proc = _evidencia("analyze", str(archive), "--json")
    docs = {d["path"]: d for d in json.loads(proc.stdout)["documents"]}
    assert docs[f"{archive}/actas/acta.txt"]["status"] == "ok"
    assert any(d["status"] == "error" for d in docs.values()), "the traversal member is refused"
    assert proc.returncode == 1


def test_human_output_names_missing_commitments(tmp_path):
    (tmp_path / "factura.txt").write_text("Factura N° 123. Servicio de aseo. Total $120.000.",
                                          encoding="utf-8")
    proc = _evidencia("analyze", str(tmp_path / "factura.txt"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Compromisos sin evidencia" in proc.stdout
    assert "c5" in proc.stdout


def test_a_passage_of_an_unsupported_cell_is_said_considered_not_evidence(tmp_path):
    """QA 2026-12-06: a dev document whose c2 is "no" with a passage kept (then org61's
    induction plan, supported since the thirteenth round; now org66's August bulletin, as in
    test_considered_passages): the JSON listed it as any evidence, the text said only "sin
    evidencia"."""
    from tests.rendered import rendered

    bulletin = tmp_path / "boletin-agosto.docx"
    bulletin.write_bytes(rendered("org66-cooperativa-ahorro-horizonte/"
                                  "boletin-interno-agosto-2025.md", "docx"))
    proc = _evidencia("analyze", "--json", str(bulletin))
    assert proc.returncode == 0, proc.stderr[-2000:]
    c2 = json.loads(proc.stdout)["documents"][0]["commitments"][1]
    assert c2["supported"] is False and c2["evidence"]
    assert {e["supports"] for e in c2["evidence"]} == {False}
    proc = _evidencia("analyze", str(bulletin))
    said = proc.stdout[proc.stdout.index("  c2:"):proc.stdout.index("  c3:")]
    assert (f"pasaje considerado, no suficiente: boletin-agosto.docx, pág. "
            f"{c2['evidence'][0]['page']}") in said


def test_usage_errors_exit_2(tmp_path):
    assert _evidencia("analyze", str(tmp_path / "no-existe.pdf")).returncode == 2
    assert _evidencia("analyze").returncode == 2


def test_bombs_get_spanish_errors_and_the_rest_is_analysed_in_bounded_memory(tmp_path):
    """The issue's bombs side by side with a real document, through the whole CLI."""
    png_bomb(tmp_path / "plano.png")
    docx_bomb(tmp_path / "informe.docx")
    zip_of_zeros(tmp_path / "lote.zip", 450, 1_000_000)
    (tmp_path / "bien.txt").write_text(
        "Política de inclusión. La empresa prohíbe toda discriminación por nacionalidad u origen "
        "en la selección, la remuneración y el ascenso de sus trabajadores.", encoding="utf-8")
    out, peak = run_measured(f"""
from service.cli import main
main(["analyze", {str(tmp_path)!r}, "--json", "--jobs", "1"])
""")
    docs = {Path(d["path"]).name: d for d in json.loads(out)["documents"]}
    assert docs["bien.txt"]["status"] == "ok"
    assert "375 megapíxeles" in docs["plano.png"]["error"]
    assert "demasiado grande" in docs["informe.docx"]["error"]
    zipped = [d for d in docs.values() if "lote.zip/" in d["path"]]
    assert len(zipped) == 450 and all("bomba ZIP" in d["error"] for d in zipped)
    assert peak < 700, f"peak RSS {peak:.0f} MB"  # spaCy included; 3.5 GB before


def test_the_clutter_of_a_windows_folder_is_no_failed_document(tmp_path):
    """QA 2026-12-07: `analyze` on a folder copied from Windows listed its Thumbs.db and a
    subfolder's desktop.ini as "ERROR: Tipo de archivo no soportado" and exited 1, while
    `batch` and the ZIPs skip them (and a .git folder's files were analysed one by one). They
    are skipped here too, by the same rule (``extractors.archive.is_clutter``)."""
    folder = tmp_path / "carpeta"
    (folder / "actas").mkdir(parents=True)
    (folder / ".git").mkdir()
    policy = DEMO / "politica-inclusion.docx"
    (folder / policy.name).write_bytes(policy.read_bytes())
    (folder / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    (folder / "actas" / "desktop.ini").write_text("[.ShellClassInfo]\r\nIconResource=x\r\n")
    (folder / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    proc = _evidencia("analyze", str(folder), "--json")
    assert proc.returncode == 0, proc.stdout[-2000:]
    paths = [Path(d["path"]).name for d in json.loads(proc.stdout)["documents"]]
    assert paths == ["politica-inclusion.docx"]


def test_a_pdf_with_a_password_says_to_give_it_with_password(tmp_path):
    """QA 2026-12-07: `evidencia analyze` of pdfplumber's encrypted test PDF (user password
    "test") said "Súbalo sin contraseña (por ejemplo, imprimiéndolo a un PDF nuevo)", the
    upload page's advice, never that this command reads it given --password; a wrong one said
    "suba el PDF sin contraseña"."""
    locked = PEERS / "pdfplumber-encrypted-password-test.pdf"
    proc = _evidencia("analyze", str(locked), "--json")
    assert proc.returncode == 1, proc.stderr[-2000:]
    [doc] = json.loads(proc.stdout)["documents"]
    assert doc["status"] == "error" and "--password" in doc["error"], doc["error"]
    assert "Súbalo" not in doc["error"]

    proc = _evidencia("analyze", str(locked), "--password", "no-es-esta")
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "La contraseña dada con --password no abre este PDF" in proc.stdout
    assert "suba" not in proc.stdout.lower()

    proc = _evidencia("analyze", str(locked), "--password", "test", "--json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    [doc] = json.loads(proc.stdout)["documents"]
    assert doc["status"] == "ok" and doc["pages"] == 4
