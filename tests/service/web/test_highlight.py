"""Highlighting evidence on a page, without a browser."""

from __future__ import annotations

import io
import re

from PIL import Image

from service.web import highlight as views
from tests.conftest import SAMPLES


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


# --- QA 2026-12-07: a scan OCR found upside down or on its side --------------------------------
#
# The demo's signed minutes, scanned upright, turned upside down (a PDF) and on its side (a PNG),
# as a scanner fed the wrong way or a phone held sideways leaves them. OCR reads each turned
# page upright (``Page.rotation``) and the document view shows its image turned upright, yet the
# highlights were drawn with the word boxes of the page as given: on the upside-down page they
# lit the empty lower half, on the sideways one vertical stripes across the table. Real files,
# the HTTP API and the page view, the worker in-process, the real Redis and both databases.

_BOX = re.compile(r'<span class="hl hl-(c\d)[^"]*" style="left:([\d.]+)%;top:([\d.]+)%;'
                  r'width:([\d.]+)%;height:([\d.]+)%"')


def _turned_scans() -> dict[str, bytes]:
    import pypdfium2

    pdf = pypdfium2.PdfDocument(str(SAMPLES / "demo" / "acta-constitucion-comite.scan.pdf"))
    upright = pdf[0].render(scale=150 / 72).to_pil().convert("L")
    pdf.close()
    upside_down, sideways = io.BytesIO(), io.BytesIO()
    upright.rotate(180, expand=True).save(upside_down, format="PDF", resolution=150)
    upright.rotate(90, expand=True).save(sideways, format="PNG", dpi=(150, 150))
    return {"acta-invertida.pdf": upside_down.getvalue(), "acta-de-lado.png": sideways.getvalue()}


def _boxes(html: str) -> list[tuple[str, float, float, float, float]]:
    return [(m[0], *(float(v) for v in m[1:])) for m in _BOX.findall(html)]


def _overlap(a, b) -> float:
    """Intersection over the smaller of two (left, top, width, height) boxes."""
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    return w * h / min(a[2] * a[3], b[2] * b[3])


def test_highlights_of_a_scan_read_upside_down_or_sideways_land_on_its_upright_image(
        client, run_worker_burst):
    from service.db import SessionLocal
    from service.domain.access import create_user

    with SessionLocal() as session:  # (this folder's ``reviewer`` is the browser tests')
        create_user(session, "ana.revisora", "clave-segura-1", "reviewer")
    reviewer = ("ana.revisora", "clave-segura-1")
    sub = client.post("/api/submissions", json={"organization": "Transportes Cordillera",
                                                 "rut": "77.214.538-1"}).json()
    files = {"acta.pdf": (SAMPLES / "demo" / "acta-constitucion-comite.scan.pdf").read_bytes(),
             **_turned_scans()}
    r = client.post(f"/api/submissions/{sub['id']}/documents",
                    headers={"Authorization": f"Bearer {sub['token']}"},
                    files=[("files", (name, data)) for name, data in files.items()])
    assert r.status_code == 202, r.text
    ids = {d["name"]: d["id"] for d in r.json()["documents"]}
    run_worker_burst()

    # where each word of the upright scan is, in % of its page image
    api = f"/api/submissions/{sub['id']}/documents"
    [page] = client.get(f"{api}/{ids['acta.pdf']}", params={"words": "true"},
                        auth=reviewer).json()["pages"]
    words = [(100 * x0 / page["width"], 100 * top / page["height"],
              100 * (x1 - x0) / page["width"], 100 * (bottom - top) / page["height"])
             for _, x0, top, x1, bottom in page["words"]]
    upright_png = client.get(f"/revision/d/{ids['acta.pdf']}/pagina/1.png", auth=reviewer)
    upright_size = Image.open(io.BytesIO(upright_png.content)).size

    for name, turned in (("acta-invertida.pdf", 180), ("acta-de-lado.png", 90)):
        detail = client.get(f"{api}/{ids[name]}", auth=reviewer).json()
        assert detail["status"] == "done" and detail["pages"][0]["rotation"] == turned, detail
        # the page image is shown upright, the way the upright scan is
        png = client.get(f"/revision/d/{ids[name]}/pagina/1.png", auth=reviewer)
        width, height = Image.open(io.BytesIO(png.content)).size
        assert abs(width / height - upright_size[0] / upright_size[1]) < 0.02, (name, width,
                                                                               height)
        # and every highlight sits on a word of that upright page
        boxes = _boxes(client.get(f"/revision/d/{ids[name]}", auth=reviewer).text)
        assert {b[0] for b in boxes} >= {"c1", "c5"}, name
        astray = [b for b in boxes if not any(_overlap(b[1:], w) > 0.5 for w in words)]
        assert len(astray) <= len(boxes) // 10, (name, len(astray), len(boxes), astray[:5])
