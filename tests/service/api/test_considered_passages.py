"""QA 2026-12-06 (eighth round): a cell the decision (the mean of the rules and the learned model)
says is not supported may still carry passages. Every surface showed them as evidence (the
document page highlighted them under "Resaltada la evidencia de", the XLSX evidence sheet listed
them like any other) or hid them (the reviewer matrix said "Ningún documento analizado muestra
evidencia"). Now they are one thing everywhere: considered, not enough.

A real corpus file with such a cell, rendered from its source byte for byte as in /tmp/corpus:
org66's internal bulletin (dev organisation), c2 "no" with one passage kept (the one that
showed it, org61's induction plan, is labelled c2 "yes", and since the twelfth round the model
alone says so). Real HTTP API, the real Redis and both databases, the worker in-process.
"""

from __future__ import annotations

import io

from tests.rendered import rendered

#: c2 "no" (labelled "no": a seminar two workers attended on their own) with the rules' passage
#: kept, considered; nothing else supported or considered
BULLETIN = "org66-cooperativa-ahorro-horizonte/boletin-interno-agosto-2025.md"
#: c4: the rules alone "supported" (passage score 2.0), the mean "no" (0.526): overturned
FORWARDED_NEWS = ("org63-fundacion-educacional-altamar/"
                  "correo-reenvio-noticia-sello-migrante-comuna.md")


def _submitted(client, run_worker_burst, organization: str, name: str, content: bytes) -> dict:
    """A new submission with one file, read by the worker: its id and applicant token."""
    sub = client.post("/api/submissions", json={
        "organization": organization, "rut": "65.104.778-1"}).json()
    r = client.post(f"/api/submissions/{sub['id']}/documents",
                    headers={"Authorization": f"Bearer {sub['token']}"},
                    files=[("files", (name, content))])
    assert r.status_code == 202, r.text
    run_worker_burst()
    return sub


def test_a_passage_of_an_unsupported_cell_is_considered_not_evidence_on_every_surface(
        client, reviewer, run_worker_burst):
    from openpyxl import load_workbook

    sub = _submitted(client, run_worker_burst, "Cooperativa de Ahorro Horizonte",
                     "boletin.txt", rendered(BULLETIN, "txt"))
    applicant = {"Authorization": f"Bearer {sub['token']}"}
    matrix = f"/api/submissions/{sub['id']}/matrix"

    c2 = client.get(matrix, auth=reviewer).json()["commitments"][1]
    [cell] = c2["documents"]
    assert (c2["supported"], c2["status"], c2["evidence"]) == (False, "missing", [])
    assert cell["evidence"], "the classifier no longer keeps a passage for this cell"
    assert {e["supports"] for e in cell["evidence"]} == {False}
    assert [e["text"] for e in c2["considered"]] == [e["text"] for e in cell["evidence"]]
    page = cell["evidence"][0]["page"]

    # the reviewer's matrix: not "no evidence", not evidence either; the rules that proposed it
    html = client.get(f"/revision/s/{sub['id']}", auth=reviewer).text
    row = html[html.index('id="c2"'):html.index('id="c3"')]
    assert "basta como evidencia: 1 pasaje(s) considerado(s), no suficiente(s)" in row
    assert "en que falta" in row  # the confidence is the "no"'s
    assert "muestra evidencia" not in row and "data-considered" in row
    assert "Reglas que los propusieron:" in row and f"pág. {page}" in row
    assert cell["rules_supported"] is True  # the rules alone said yes: their passage is kept

    # the document page: highlighted as considered, never as evidence
    doc = client.get(f"/revision/d/{cell['document_id']}",
                     params={"pagina": page, "compromiso": "c2"}, auth=reviewer).text
    assert "Resaltado lo considerado, no suficiente" in doc
    assert "Resaltada la evidencia de" not in doc and "Páginas con evidencia" not in doc
    assert 'class="hl-c2 considered"' in doc

    # the exports: the matrix's one-line row shows no passage as its excerpt, and says in its
    # last column what was considered and where; the evidence sheet says what the passage is
    lines = client.get(matrix, params={"format": "csv"}, auth=reviewer).text.splitlines()
    assert lines[0].endswith(";Comentario;Considerados")
    csv_row = lines[2]
    assert csv_row.startswith("c2;") and cell["evidence"][0]["text"][:40] not in csv_row
    assert csv_row.endswith(
        f";1 pasaje(s) considerado(s), no suficiente(s): boletin.txt, pág. {page}")
    assert lines[1].startswith("c1;") and lines[1].endswith(";")  # nothing considered
    book = load_workbook(io.BytesIO(client.get(matrix, params={"format": "xlsx"},
                                               headers=applicant).content))
    rows = [r for r in book["Evidencias"].iter_rows(values_only=True) if r[0] == "c2"]
    assert rows and {r[-1] for r in rows} == {"considerado, no suficiente"}

    # the PDF report: not "no evidence found", not evidence either; the passage, considered
    import pypdfium2

    pdf = pypdfium2.PdfDocument(client.get(f"/revision/s/{sub['id']}/informe.pdf",
                                           auth=reviewer).content)
    text = " ".join(" ".join(page.get_textpage().get_text_range() for page in pdf).split())
    start = text.index("2. Plan de capacitación y sensibilización —")
    part = text[start:text.index("3. Políticas", start)]
    assert "Ningún documento analizado basta como evidencia." in part
    assert "No se encontró evidencia" not in part and "Evidencia detectada" not in part
    assert (f"1 pasaje(s) considerado(s), no suficiente(s): boletin.txt, pág. {page}."
            in part)
    assert f"boletin.txt, página {page} — considerado, no suficiente" in part
    assert " ".join(cell["evidence"][0]["text"].split())[:60] in part

    # the applicant: missing, with the passage that was read and why it does not count
    mine = client.get(f"/s/{sub['id']}", params={"t": sub["token"]}).text
    item = mine[mine.index('id="compromiso-c2"'):mine.index('id="compromiso-c3"')]
    assert "Falta evidencia" in item and "Qué lo cubriría" in item
    assert f"boletin.txt, página {page}, pero no basta para darlo por cubierto" in item


def test_a_cell_the_learned_model_overturned_says_so_with_the_rules_passage_considered(
        client, reviewer, run_worker_burst):
    """org63's forwarded news (dev): the rules alone found c4 (a passage scoring 2.0) and the
    mean says no. The reviewer sees the rules' passage, considered and not enough, and that the
    rules alone would have counted it: the rule families explain the passage, not the no."""
    sub = _submitted(client, run_worker_burst, "Fundación Educacional Altamar", "correo.txt",
                     rendered(FORWARDED_NEWS, "txt"))
    c4 = client.get(f"/api/submissions/{sub['id']}/matrix", auth=reviewer).json()["commitments"][3]
    [cell] = c4["documents"]
    assert (c4["status"], cell["supported"], cell["rules_supported"]) == ("missing", False, True)
    assert cell["overturned_note"] == ("Las reglas solas lo daban por cumplido; con el modelo "
                                       "aprendido no alcanza.")
    assert [e["supports"] for e in cell["evidence"]] == [False]
    html = client.get(f"/revision/s/{sub['id']}", auth=reviewer).text
    row = html[html.index('id="c4"'):html.index('id="c5"')]
    assert "1 pasaje(s) considerado(s), no suficiente(s)" in row
    assert cell["overturned_note"] in row and "Reglas que los propusieron:" in row


def test_considered_passages_name_their_documents_in_full_in_the_exports(
        client, reviewer, run_worker_burst):
    """QA 2026-12-07: an archive kept by year ("2023/boletin.txt", "2024/boletin.txt", the
    second re-exported with a line more). The exports' "Considerados" column named each
    document by its last part only, beside a "Documento" column of full names, and two
    documents so named on the same page became one: "2 pasaje(s) considerado(s), no
    suficiente(s): boletin.txt, pág. 1", one place for two passages. The PDF report said the
    same above its quotes, which named them in full."""
    from tests.documents import make_zip

    bulletin = rendered(BULLETIN, "txt")
    archive = make_zip({"2023/boletin.txt": bulletin,
                        "2024/boletin.txt": bulletin + "\nFin del boletín.\n".encode()})
    sub = _submitted(client, run_worker_burst, "Cooperativa de Ahorro Horizonte",
                     "archivo.zip", archive)
    matrix = f"/api/submissions/{sub['id']}/matrix"
    c2 = client.get(matrix, auth=reviewer).json()["commitments"][1]
    assert c2["status"] == "missing" and not c2["evidence"]
    places = sorted({(e["document"], e["page"]) for e in c2["considered"]})
    assert [d for d, _ in places] == ["archivo.zip/2023/boletin.txt",
                                      "archivo.zip/2024/boletin.txt"], places
    note = (f"{len(c2['considered'])} pasaje(s) considerado(s), no suficiente(s): "
            + "; ".join(f"{d}, pág. {p}" for d, p in places))

    import csv

    rows = list(csv.reader(io.StringIO(client.get(matrix, params={"format": "csv"},
                                                  auth=reviewer).text), delimiter=";"))
    assert rows[2][0] == "c2" and rows[2][-1] == note, rows[2]

    import pypdfium2

    pdf = pypdfium2.PdfDocument(client.get(f"/revision/s/{sub['id']}/informe.pdf",
                                           auth=reviewer).content)
    text = " ".join(" ".join(page.get_textpage().get_text_range() for page in pdf).split())
    assert f"{note}." in text


def test_documents_of_the_same_name_in_different_folders_show_apart_on_the_pages(
        client, reviewer, run_worker_burst):
    """QA 2026-12-07: the pages named a document by the last part of its name, so in an
    archive kept by year "2023/boletin.txt" and "2024/boletin.txt" both read "boletin.txt":
    the applicant's «También en:» dropped the second as the first again, and the reviewer's
    matrix, its list of documents and the document page read as one document twice. Now a
    name shared within the submission shows the end of its path that tells it apart; a name
    of its own stays short."""
    from tests.documents import make_zip

    report = rendered("org01-minera-cerro-blanco/informe-trimestral-encargada-diversidad.md",
                      "txt")
    bulletin = rendered(BULLETIN, "txt")
    archive = make_zip({"2023/boletin.txt": bulletin,
                        "2024/boletin.txt": bulletin + "\nFin del boletín.\n".encode(),
                        "2023/informe.txt": report,
                        "2024/informe.txt": report + b"\nFin del informe.\n",
                        "2024/otro/acta.txt": report + b"\nOtra copia.\n"})
    sub = _submitted(client, run_worker_burst, "Cooperativa de Ahorro Horizonte",
                     "archivo.zip", archive)
    data = client.get(f"/api/submissions/{sub['id']}/matrix", auth=reviewer).json()
    both = {"archivo.zip/2023/informe.txt", "archivo.zip/2024/informe.txt"}
    shared = [c for c in data["commitments"]
              if both <= {e["document"] for e in c["evidence"]}]
    assert shared, "the report no longer supports a commitment"
    cid = shared[0]["id"]
    considered = {e["document"] for e in data["commitments"][1]["considered"]}
    assert considered >= {"archivo.zip/2023/boletin.txt", "archivo.zip/2024/boletin.txt"}

    # the reviewer's matrix: each cell, each considered block and the list of documents
    html = client.get(f"/revision/s/{sub['id']}", auth=reviewer).text
    row = html[html.index(f'id="{cid}"'):]
    row = row[:row.index("</tr>")]
    for name in ("2023/informe.txt", "2024/informe.txt"):
        assert f'title="archivo.zip/{name}">{name}</a>' in row, name
    c2 = html[html.index('id="c2"'):html.index('id="c3"')]
    for name in ("2023/boletin.txt", "2024/boletin.txt"):
        assert f'title="archivo.zip/{name}">{name}:' in c2, name
    documents = html[html.index('id="documentos-titulo"'):]
    for name in ("2023/boletin.txt", "2024/boletin.txt", "2023/informe.txt",
                 "2024/informe.txt"):
        assert f'class="doc-link">{name}</a>' in documents, name
    assert 'class="doc-link">acta.txt</a>' in documents  # a name of its own stays short
    assert 'class="doc-link">boletin.txt</a>' not in documents

    # the document page names its document apart too
    doc_id = next(e["document_id"] for e in data["commitments"][1]["considered"]
                  if e["document"] == "archivo.zip/2024/boletin.txt")
    page = client.get(f"/revision/d/{doc_id}", auth=reviewer).text
    assert "<title>2024/boletin.txt" in page, page[:400]

    # the applicant: the passage shown and «También en:» name two documents, not one twice
    mine = client.get(f"/s/{sub['id']}", params={"t": sub["token"]}).text
    item = mine[mine.index(f'id="compromiso-{cid}"'):].split('<li class="check-item')[0]
    assert "También en:" in item, item[:2000]
    assert "2023/informe.txt" in item and "2024/informe.txt" in item
