"""The PDF review report, read back page by page from a real submission (dev organisation
org01's documents rendered from samples/corpus, the real API, Redis and both databases, the
worker in-process)."""

from __future__ import annotations

import re

from tests.rendered import rendered

ORG = "org01-minera-cerro-blanco"
SOURCES = ["informe-trimestral-encargada-diversidad", "reglamento-interno-orden-higiene-seguridad",
           "acta-comite-paritario-faena", "registro-asistencia-charla-sesgos",
           "resolucion-designacion-encargada-diversidad", "global-dei-policy-en",
           "reporte-sostenibilidad-2025-personas-comunidad"]
#: the line under a quoted passage that says where it is: "acta.txt, página 2"
CITATION = re.compile(r"^\S+\.(txt|docx), página \d+")
#: each page's footer, drawn before its text: "Evidencia · Minera Cerro Blanco SpA  Página 2"
FOOTER = re.compile(r"^Evidencia · .*Página \d+$")


def test_a_quoted_passage_and_where_it_is_stay_on_one_page(client, reviewer, run_worker_burst):
    """QA 2026-12-07: in a submission's report the quote of a passage ended page 1 and the line
    saying which document and page it is from began page 2, under the page's footer."""
    import pypdfium2

    sub = client.post("/api/submissions", json={
        "organization": "Minera Cerro Blanco SpA", "rut": "76.083.921-3"}).json()
    files = [("files", (f"{name}.{kind}", rendered(f"{ORG}/{name}.md", kind)))
             for name in SOURCES for kind in ("txt", "docx")]
    r = client.post(f"/api/submissions/{sub['id']}/documents",
                    headers={"Authorization": f"Bearer {sub['token']}"}, files=files)
    assert r.status_code == 202, r.text
    run_worker_burst()
    for words in range(0, 120, 6):  # each further comment moves every page break on
        if words:
            r = client.post(f"/api/submissions/{sub['id']}/decisions", auth=reviewer, json={
                "commitment": "c1", "action": "comment", "comment": "Revisado. " * words})
            assert r.status_code == 201, r.text
        pdf = pypdfium2.PdfDocument(client.get(f"/revision/s/{sub['id']}/informe.pdf",
                                               auth=reviewer).content)
        pages = [page.get_textpage().get_text_range() for page in pdf]
        assert len(pages) >= 3
        cited = 0
        for number, text in enumerate(pages, 1):
            lines = [line.strip() for line in text.splitlines()
                     if line.strip() and not FOOTER.match(line.strip())]
            cited += sum(bool(CITATION.match(line)) for line in lines)
            if number > 1:
                assert not CITATION.match(lines[0]), (words, number, lines[:3])
        assert cited >= 10
