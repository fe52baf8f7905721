#!/usr/bin/env python3
"""Render the labelled corpus sources (samples/corpus/README.md) into PDF, scan, photo, DOCX, TXT.

The corpus is kept as small Markdown sources so that the binaries can be regenerated at will:

    python scripts/render_corpus.py samples/corpus OUT [--only GLOB] [--jobs N] [--check]

writes ``OUT/<org-dir>/<doc>.<ext>`` for every requested rendering and ``OUT/labels.jsonl``
(one JSON object per rendered file). Every random choice is seeded by the document id, so the
same source always gives the same files.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import io
import json
import math
import random
import re
import sys
import tomllib
import zipfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from classifiers.corpus import (
    DEFAULT_REGISTER,
    HELDOUT_ORGS,
    HELDOUT_REGISTERS,
    REGISTERS,
    eval_split,
)
from classifiers.result import COMMITMENT_IDS, DOC_TYPES
from service.domain.rut import RutError, normalize_rut

RENDERS = ("pdf", "scan", "photo", "docx", "txt")
OCR_RENDERS = ("scan", "photo")
EXTENSIONS = {"pdf": ".pdf", "scan": ".scan.pdf", "photo": ".jpg", "docx": ".docx", "txt": ".txt"}
#: the failure classes of issue 10 a document is built around (one tag per class)
CLASS_TAGS = {
    "external_names": "1 names that are not the organisation's own",
    "polysemy": "2 words with two meanings",
    "real_prose": "3 real prose",
    "quoted_cues": "4 intention/negation cues misfiring",
    "context_not_rules": "5 context taken for the organisation's own rules",
    "c5_prose": "6 c5 in prose",
}
TAGS = {
    "hard_negative",
    "negation",
    "intention",
    "buried",
    "multi",
    "typos",
    "informal",
    "english",
    "long",
    "latam",
    *CLASS_TAGS,
}
PAGE_BREAK = "<!-- página -->"
SCAN_DPI = 200
PHOTO_DPI = 150


class SourceError(ValueError):
    """A corpus source breaks the format in samples/corpus/README.md."""


# --------------------------------------------------------------------------- parsing


@dataclass(frozen=True)
class Block:
    kind: str  # "heading" | "paragraph" | "item" | "table" | "pagebreak"
    text: str = ""
    level: int = 0  # heading level; for items: 0 bullet, 1 numbered
    rows: tuple[tuple[str, ...], ...] = ()


@dataclass
class Source:
    path: Path
    id: str
    meta: dict
    blocks: list[Block] = field(default_factory=list)

    @property
    def title(self) -> str:
        for block in self.blocks:
            if block.kind == "heading":
                return block.text
        return self.id.rsplit("/", 1)[-1]


_ROW_SEPARATOR = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?$")
_NUMBERED = re.compile(r"^(\d+)[.)]\s+(.*)$")


def split_row(line: str) -> tuple[str, ...]:
    inner = line.strip()
    if inner.startswith("|"):
        inner = inner[1:]
    if inner.endswith("|"):
        inner = inner[:-1]
    return tuple(cell.strip() for cell in inner.split("|"))


def parse_body(text: str) -> list[Block]:
    blocks: list[Block] = []
    paragraph: list[str] = []
    table: list[tuple[str, ...]] = []

    def flush() -> None:
        if paragraph:
            blocks.append(Block("paragraph", " ".join(paragraph)))
            paragraph.clear()
        if table:
            blocks.append(Block("table", rows=tuple(table)))
            table.clear()

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            flush()
            continue
        if line == PAGE_BREAK:
            flush()
            blocks.append(Block("pagebreak"))
            continue
        if line.startswith("|"):
            if paragraph:
                flush()
            if not _ROW_SEPARATOR.match(line):
                table.append(split_row(line))
            continue
        if table:
            flush()
        heading = re.match(r"^(#{1,3})\s+(.*)$", line)
        if heading:
            flush()
            blocks.append(Block("heading", heading.group(2).strip(), level=len(heading.group(1))))
            continue
        if line.startswith(("- ", "* ")):
            flush()
            blocks.append(Block("item", line[2:].strip(), level=0))
            continue
        numbered = _NUMBERED.match(line)
        if numbered:
            flush()
            blocks.append(Block("item", numbered.group(2).strip(), level=int(numbered.group(1))))
            continue
        paragraph.append(line)
    flush()
    return blocks


def read_source(path: Path, root: Path) -> Source:
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    if not lines or lines[0].strip() != "+++":
        raise SourceError(f"{path}: must start with a '+++' line")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "+++")
    except StopIteration:
        raise SourceError(f"{path}: front matter has no closing '+++' line") from None
    try:
        meta = tomllib.loads("\n".join(lines[1:end]))
    except tomllib.TOMLDecodeError as exc:
        raise SourceError(f"{path}: bad TOML front matter: {exc}") from None
    doc_id = path.relative_to(root).with_suffix("").as_posix()
    source = Source(path=path, id=doc_id, meta=meta, blocks=parse_body("\n".join(lines[end + 1 :])))
    validate(source)
    return source


def rut_is_valid(rut: str) -> bool:
    """Written with dots and hyphen, as organisations write it, and with a right check digit."""
    if not re.fullmatch(r"\d{1,3}(?:\.\d{3})*-[\dkK]", rut):
        return False
    try:
        normalize_rut(rut)
    except RutError:
        return False
    return True


def normalise(text: str) -> str:
    return " ".join(text.split())


def body_units(blocks: list[Block]) -> list[str]:
    """The passages evidence may quote: paragraphs, items, headings and table rows."""
    units: list[str] = []
    for block in blocks:
        if block.kind == "table":
            units.extend(" | ".join(row) for row in block.rows)
        elif block.text:
            units.append(block.text)
    return [normalise(u) for u in units]


def validate(source: Source) -> None:
    meta, where = source.meta, source.path
    problems: list[str] = []
    for key in ("org", "rut", "doc_type", "render", "split", "lang", "labels"):
        if key not in meta:
            problems.append(f"missing field {key!r}")
    if problems:
        raise SourceError(f"{where}: " + "; ".join(problems))
    if not rut_is_valid(meta["rut"]):
        problems.append(f"RUT {meta['rut']!r} is malformed or has a wrong check digit")
    if meta["doc_type"] not in DOC_TYPES:
        problems.append(f"doc_type {meta['doc_type']!r} not in {DOC_TYPES}")
    renders = meta["render"]
    if not isinstance(renders, list) or not renders or any(r not in RENDERS for r in renders):
        problems.append(f"render must be a non-empty list of {RENDERS}")
    if meta["split"] not in ("dev", "heldout"):
        problems.append("split must be 'dev' or 'heldout'")
    if meta.get("register", DEFAULT_REGISTER) not in REGISTERS:
        problems.append(f"register {meta.get('register')!r} not in {REGISTERS}")
    org_dir = source.id.split("/")[0] if "/" in source.id else ""
    org_match = re.match(r"^(org\d{2,})-[a-z0-9-]+$", org_dir)
    if org_match:
        wanted = "heldout" if org_match.group(1) in HELDOUT_ORGS else "dev"
        if meta["split"] != wanted:
            problems.append(f"split must be {wanted!r} for {org_match.group(1)}")
    bad_tags = set(meta.get("tags", [])) - TAGS
    if bad_tags:
        problems.append(f"unknown tags {sorted(bad_tags)}")
    labels = meta["labels"]
    if set(labels) != set(COMMITMENT_IDS) or not all(isinstance(v, bool) for v in labels.values()):
        problems.append("labels must hold c1..c5 as booleans")
    evidence = meta.get("evidence", {})
    units = body_units(source.blocks)
    for cid in COMMITMENT_IDS:
        passages = evidence.get(cid)
        if labels.get(cid) and not passages:
            problems.append(f"{cid} is true but has no evidence")
        if not labels.get(cid) and passages:
            problems.append(f"{cid} is false but has evidence")
        for passage in passages or []:
            wanted = normalise(passage)
            if not any(wanted == u or wanted in u for u in units):
                problems.append(f"{cid} evidence not found in body: {passage!r}")
    for block in source.blocks:
        if block.kind == "table" and len({len(r) for r in block.rows}) > 1:
            problems.append(f"table rows with different cell counts near {block.rows[0]!r}")
    if "photo" in renders and any(b.kind == "pagebreak" for b in source.blocks):
        problems.append("a 'photo' rendering must be one page: remove the page breaks")
    if problems:
        raise SourceError(f"{where}: " + "; ".join(problems))


# --------------------------------------------------------------------------- PDF (reportlab)

_FONT_CHOICES = [
    ("Helvetica", "Helvetica-Bold"),
    ("Times-Roman", "Times-Bold"),
    ("DejaVuSans", "DejaVuSans-Bold"),
    ("DejaVuSerif", "DejaVuSerif-Bold"),
]
_TTF_DIR = Path("/usr/share/fonts/truetype/dejavu")


def _fonts_for(rng: random.Random) -> tuple[str, str]:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    regular, bold = rng.choice(_FONT_CHOICES)
    if regular.startswith("DejaVu"):
        try:
            for name in (regular, bold):
                if name not in pdfmetrics.getRegisteredFontNames():
                    pdfmetrics.registerFont(TTFont(name, str(_TTF_DIR / f"{name}.ttf")))
        except Exception:  # font not installed on this machine: a standard font will do
            return "Helvetica", "Helvetica-Bold"
    return regular, bold


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _column_widths(rows, width: float, regular: str, bold: str, size: float) -> list[float]:
    """Every column wide enough for its longest word; the rest shared by how much text it holds."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    padding = 14
    minimum, natural = [], []
    for j in range(len(rows[0])):
        words = [(w, bold if i == 0 else regular) for i, r in enumerate(rows) for w in r[j].split()]
        minimum.append(max([stringWidth(w, f, size) for w, f in words] or [10]) + padding)
        natural.append(max(stringWidth(r[j], bold if i == 0 else regular, size)
                           for i, r in enumerate(rows)) + padding)
    spare = width - sum(minimum)
    if spare <= 0:
        return [width * m / sum(minimum) for m in minimum]
    if sum(natural) <= width:
        return [n + (width - sum(natural)) / len(natural) for n in natural]
    wants = [max(0.0, n - m) for n, m in zip(natural, minimum, strict=True)]
    return [m + spare * w / (sum(wants) or 1) for m, w in zip(minimum, wants, strict=True)]


def render_pdf(source: Source) -> bytes:
    from reportlab import rl_config
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, LETTER
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import cm
    from reportlab.platypus import (
        ListFlowable,
        ListItem,
        PageBreak,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    rl_config.invariant = 1  # fixed dates and ids: same source, same bytes
    rng = random.Random(f"pdf:{source.id}")
    regular, bold = _fonts_for(rng)
    size = rng.choice([9.5, 10, 10.5, 11])
    pagesize = rng.choice([A4, LETTER])
    org = source.meta["org"]

    body = ParagraphStyle("body", fontName=regular, fontSize=size, leading=size * 1.35,
                          spaceAfter=size * 0.6, alignment=rng.choice([0, 4]))
    cell = ParagraphStyle("cell", parent=body, fontSize=size - 1, leading=(size - 1) * 1.2,
                          spaceAfter=0, alignment=0)
    head_cell = ParagraphStyle("head_cell", parent=cell, fontName=bold)
    headings = {
        1: ParagraphStyle("h1", parent=body, fontName=bold, fontSize=size + 5,
                          leading=(size + 5) * 1.25, spaceBefore=4, spaceAfter=10,
                          alignment=rng.choice([0, 1])),
        2: ParagraphStyle("h2", parent=body, fontName=bold, fontSize=size + 2,
                          leading=(size + 2) * 1.3, spaceBefore=8, spaceAfter=5, alignment=0),
        3: ParagraphStyle("h3", parent=body, fontName=bold, fontSize=size + 0.5,
                          leading=(size + 0.5) * 1.3, spaceBefore=6, spaceAfter=3, alignment=0),
    }
    flow: list = []
    items: list = []
    numbered = False

    def flush_items() -> None:
        nonlocal numbered
        if items:
            kind = {"bulletType": "1"} if numbered else {"bulletType": "bullet", "start": "•"}
            flow.append(ListFlowable(
                [ListItem(Paragraph(_escape(t), body), leftIndent=14) for t in items],
                bulletFontName=regular, bulletFontSize=size, leftIndent=14, **kind))
            items.clear()

    for block in source.blocks:
        if block.kind != "item":
            flush_items()
        if block.kind == "heading":
            flow.append(Paragraph(_escape(block.text), headings[block.level]))
        elif block.kind == "paragraph":
            flow.append(Paragraph(_escape(block.text), body))
        elif block.kind == "item":
            numbered = block.level > 0
            items.append(block.text)
        elif block.kind == "pagebreak":
            flow.append(PageBreak())
        elif block.kind == "table":
            data = [[Paragraph(_escape(c), head_cell if i == 0 else cell) for c in row]
                    for i, row in enumerate(block.rows)]
            col_widths = _column_widths(block.rows, pagesize[0] - 4.4 * cm, regular, bold,
                                        size - 1)
            table = Table(data, colWidths=col_widths, repeatRows=1)
            table.setStyle(TableStyle([
                ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor(rng.choice(
                    ["#d9d9d9", "#dde7f0", "#e8e8e8", "#f0e6d2"]))),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]))
            flow.extend([table, Spacer(1, size * 0.8)])
    flush_items()

    title = source.title

    def decorate(canvas, doc) -> None:
        canvas.saveState()
        width, height = pagesize
        canvas.setFont(regular, 8)
        canvas.setStrokeColor(colors.grey)
        canvas.drawString(2.2 * cm, height - 1.3 * cm, org)
        canvas.drawRightString(width - 2.2 * cm, height - 1.3 * cm, f"RUT {source.meta['rut']}")
        canvas.line(2.2 * cm, height - 1.45 * cm, width - 2.2 * cm, height - 1.45 * cm)
        canvas.line(2.2 * cm, 1.55 * cm, width - 2.2 * cm, 1.55 * cm)
        canvas.drawString(2.2 * cm, 1.15 * cm, title[:90])
        canvas.drawRightString(width - 2.2 * cm, 1.15 * cm, f"Página {doc.page}")
        canvas.restoreState()

    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=pagesize, leftMargin=2.2 * cm, rightMargin=2.2 * cm,
                            topMargin=2.2 * cm, bottomMargin=2.2 * cm, title=title, author=org,
                            creator="evidencia render_corpus")
    doc.build(flow, onFirstPage=decorate, onLaterPages=decorate)
    return out.getvalue()


# --------------------------------------------------------------------------- raster renderings


def _rasterise(pdf: bytes, dpi: int, grayscale: bool, first_only: bool = False):
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        pages = []
        for index in range(1 if first_only else len(document)):
            bitmap = document[index].render(scale=dpi / 72, grayscale=grayscale)
            pages.append(bitmap.to_pil().convert("L" if grayscale else "RGB"))
        return pages, len(document)
    finally:
        document.close()


def _scan_page(image, rng: random.Random):
    """A page that went through an office scanner: skew, blur, speckle, uneven toner, JPEG."""
    import numpy as np
    from PIL import Image, ImageFilter

    nprng = np.random.default_rng(rng.randrange(2**32))
    angle = rng.choice([-1, 1]) * rng.uniform(0.3, 1.5)
    image = image.rotate(angle, resample=Image.BICUBIC, expand=False, fillcolor=255)
    image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.35, 0.85)))
    pixels = np.asarray(image, dtype=np.float32)
    h, w = pixels.shape
    # Uneven contrast: a soft illumination field and a slightly lifted black level.
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    gx, gy = rng.uniform(-0.12, 0.12), rng.uniform(-0.12, 0.12)
    light = 1.0 + gx * (xs / w - 0.5) + gy * (ys / h - 0.5)
    paper = rng.uniform(228, 248)
    ink = rng.uniform(15, 55)
    pixels = ink + (pixels / 255.0) * (paper - ink)
    pixels = pixels * light
    pixels += nprng.normal(0, rng.uniform(1.5, 3.5), size=pixels.shape)
    # Speckle: dust specks and a few dropped-out pixels.
    specks = nprng.random(size=pixels.shape)
    pixels[specks < rng.uniform(0.0002, 0.0008)] = rng.uniform(30, 90)
    pixels[specks > 1 - rng.uniform(0.0003, 0.001)] = paper
    # A faint dark band at one edge, as from the lid of the scanner.
    edge = int(w * rng.uniform(0.005, 0.02))
    if edge:
        pixels[:, :edge] *= rng.uniform(0.55, 0.8)
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "L")
    # A first low-quality JPEG pass leaves block artefacts, as cheap scanners do.
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=rng.randint(35, 55))
    return Image.open(io.BytesIO(buffer.getvalue())).convert("L")


def render_scan(source: Source, pdf: bytes) -> bytes:
    rng = random.Random(f"scan:{source.id}")
    pages, _ = _rasterise(pdf, SCAN_DPI, grayscale=True)
    scanned = [_scan_page(page, rng) for page in pages]
    out = io.BytesIO()
    scanned[0].save(out, "PDF", save_all=True, append_images=scanned[1:], resolution=SCAN_DPI,
                    quality=40, title=source.title, author=source.meta["org"],
                    creationDate=None, modDate=None)
    return out.getvalue()


def _perspective_coefficients(src, dst):
    """Coefficients for Image.transform(PERSPECTIVE) mapping output points dst to input src."""
    import numpy as np

    matrix, vector = [], []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        matrix.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        matrix.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        vector.extend([u, v])
    return np.linalg.solve(np.array(matrix, dtype=float), np.array(vector, dtype=float)).tolist()


def render_photo(source: Source, pdf: bytes) -> bytes:
    """The first page photographed on a desk with a phone: tilted, rotated, unevenly lit."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFilter

    rng = random.Random(f"photo:{source.id}")
    nprng = np.random.default_rng(rng.randrange(2**32))
    pages, count = _rasterise(pdf, PHOTO_DPI, grayscale=False, first_only=True)
    if count > 1:
        raise SourceError(f"{source.path}: 'photo' needs a one-page document, got {count} pages")
    page = pages[0]
    pw, ph = page.size
    out_w = int(pw * rng.uniform(1.12, 1.22))
    out_h = int(out_w * 4 / 3)
    # Background: a desk or table, with grain.
    base = np.array(rng.choice([(120, 92, 64), (88, 88, 92), (150, 140, 125), (60, 70, 80)]),
                    dtype=np.float32)
    desk = base + nprng.normal(0, 9, size=(out_h, out_w, 1))
    background = Image.fromarray(np.clip(desk, 0, 255).astype(np.uint8), "RGB")
    # Where the page corners land: a trapezoid, the far edge narrower (phone held at an angle).
    scale = out_w * rng.uniform(0.80, 0.88) / pw
    cw, ch = pw * scale, ph * scale
    ox, oy = (out_w - cw) / 2, (out_h - ch) / 2
    squeeze = cw * rng.uniform(0.02, 0.07)
    jitter = lambda: rng.uniform(-0.012, 0.012) * cw  # noqa: E731
    corners = [
        (ox + squeeze + jitter(), oy + jitter()),
        (ox + cw - squeeze + jitter(), oy + jitter()),
        (ox + cw + jitter(), oy + ch + jitter()),
        (ox + jitter(), oy + ch + jitter()),
    ]
    angle = math.radians(rng.choice([-1, 1]) * rng.uniform(1.5, 4.0))
    cx, cy = out_w / 2, out_h / 2
    corners = [(cx + (x - cx) * math.cos(angle) - (y - cy) * math.sin(angle),
                cy + (x - cx) * math.sin(angle) + (y - cy) * math.cos(angle)) for x, y in corners]
    coefficients = _perspective_coefficients([(0, 0), (pw, 0), (pw, ph), (0, ph)], corners)
    warped = page.transform((out_w, out_h), Image.PERSPECTIVE, coefficients, Image.BICUBIC)
    mask = Image.new("L", (out_w, out_h), 0)
    ImageDraw.Draw(mask).polygon(corners, fill=255)
    # A soft drop shadow under the sheet.
    shadow = mask.filter(ImageFilter.GaussianBlur(12))
    background.paste((25, 25, 25), (6, 9), shadow.point(lambda v: v * 0.5))
    background.paste(warped, (0, 0), mask.filter(ImageFilter.GaussianBlur(0.8)))
    # Uneven light: a bright spot and a shadow gradient from the phone or the hand.
    pixels = np.asarray(background, dtype=np.float32)
    ys, xs = np.mgrid[0:out_h, 0:out_w].astype(np.float32)
    lx, ly = rng.uniform(0.2, 0.8) * out_w, rng.uniform(0.1, 0.5) * out_h
    spot = np.exp(-(((xs - lx) ** 2 + (ys - ly) ** 2) / (2 * (0.6 * out_w) ** 2)))
    direction = rng.uniform(0, 2 * math.pi)
    ramp = ((xs / out_w - 0.5) * math.cos(direction) + (ys / out_h - 0.5) * math.sin(direction))
    light = 0.78 + 0.22 * spot - rng.uniform(0.15, 0.3) * np.clip(ramp + 0.2, 0, None)
    warm = np.array(rng.choice([(1.0, 0.98, 0.92), (1.0, 1.0, 1.0), (0.96, 0.98, 1.0)]))
    pixels = pixels * light[..., None] * warm
    pixels += nprng.normal(0, 4, size=pixels.shape)
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 0.9)))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80, optimize=True)
    return out.getvalue()


# --------------------------------------------------------------------------- DOCX and TXT


def _fixed_zip(data: bytes) -> bytes:
    """Rewrite a zip with fixed timestamps so the same source gives the same bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(2025, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


def render_docx(source: Source) -> bytes:
    import datetime as dt

    from docx import Document
    from docx.shared import Pt

    rng = random.Random(f"docx:{source.id}")
    document = Document()
    style = document.styles["Normal"]
    style.font.name = rng.choice(["Calibri", "Arial", "Times New Roman", "Cambria"])
    style.font.size = Pt(rng.choice([10, 11, 12]))
    properties = document.core_properties
    properties.author = source.meta["org"]
    properties.title = source.title
    properties.created = properties.modified = dt.datetime(2025, 1, 1)
    properties.last_modified_by = source.meta["org"]
    properties.revision = 1
    section = document.sections[0]
    section.header.paragraphs[0].text = source.meta["org"]
    section.footer.paragraphs[0].text = f"RUT {source.meta['rut']}"
    for block in source.blocks:
        if block.kind == "heading":
            document.add_heading(block.text, level=block.level)
        elif block.kind == "paragraph":
            document.add_paragraph(block.text)
        elif block.kind == "item":
            document.add_paragraph(block.text,
                                   style="List Number" if block.level else "List Bullet")
        elif block.kind == "pagebreak":
            document.add_page_break()
        elif block.kind == "table":
            table = document.add_table(rows=len(block.rows), cols=len(block.rows[0]))
            table.style = "Table Grid"
            for i, row in enumerate(block.rows):
                for j, text in enumerate(row):
                    cell = table.cell(i, j)
                    cell.text = text
                    if i == 0:
                        for run in cell.paragraphs[0].runs:
                            run.bold = True
            document.add_paragraph()
    out = io.BytesIO()
    document.save(out)
    return _fixed_zip(out.getvalue())


def render_txt(source: Source) -> bytes:
    lines: list[str] = []
    for block in source.blocks:
        if block.kind == "heading":
            lines.extend([block.text.upper() if block.level == 1 else block.text, ""])
        elif block.kind == "paragraph":
            lines.extend([block.text, ""])
        elif block.kind == "item":
            lines.append(f"{block.level}. {block.text}" if block.level else f"- {block.text}")
        elif block.kind == "pagebreak":
            lines.extend(["", ""])
        elif block.kind == "table":
            lines.extend(" | ".join(row) for row in block.rows)
            lines.append("")
    text = "\n".join(lines)
    return (re.sub(r"\n{3,}", "\n\n", text).strip() + "\n").encode("utf-8")


# --------------------------------------------------------------------------- orchestration


def register_of(source: Source) -> str:
    return source.meta.get("register", DEFAULT_REGISTER)


def output_name(source: Source, render: str) -> str:
    return source.id + EXTENSIONS[render]


def label_record(source: Source, render: str) -> dict:
    meta = source.meta
    return {
        "file": output_name(source, render),
        "id": source.id,
        "org": meta["org"],
        "rut": meta["rut"],
        "doc_type": meta["doc_type"],
        "render": render,
        "ocr": render in OCR_RENDERS,
        "split": meta["split"],
        "register": register_of(source),
        "lang": meta["lang"],
        "tags": list(meta.get("tags", [])),
        "labels": {cid: bool(meta["labels"][cid]) for cid in COMMITMENT_IDS},
        "evidence": {cid: list(meta.get("evidence", {}).get(cid, []))
                     for cid in COMMITMENT_IDS if meta["labels"][cid]},
    }


def source_key(path: Path) -> str:
    """What a source's renderings depend on: its text and this renderer's code."""
    h = hashlib.sha256(Path(__file__).read_bytes())
    h.update(path.read_bytes())
    return h.hexdigest()


def reusable(source: Source, out: Path, previous: dict[str, dict], key: str) -> list[dict] | None:
    """The records of an earlier run when every rendering of the source is still on disk, made
    from the same source text by the same renderer code; None when it must be rendered."""
    records = []
    for render in source.meta["render"]:
        record = previous.get(output_name(source, render))
        target = out / output_name(source, render)
        if record is None or record.get("source_key") != key or not target.is_file():
            return None
        if hashlib.sha256(target.read_bytes()).hexdigest() != record.get("sha256"):
            return None
        records.append(record)
    return records


def render_source(path: Path, root: Path, out: Path,
                  previous: dict[str, dict] | None = None) -> list[dict]:
    source = read_source(path, root)
    key = source_key(path)
    if previous:
        kept = reusable(source, out, previous, key)
        if kept is not None:
            return kept
    renders = source.meta["render"]
    pdf = render_pdf(source) if {"pdf", "scan", "photo"} & set(renders) else b""
    records = []
    for render in renders:
        if render == "pdf":
            data = pdf
        elif render == "scan":
            data = render_scan(source, pdf)
        elif render == "photo":
            data = render_photo(source, pdf)
        elif render == "docx":
            data = render_docx(source)
        else:
            data = render_txt(source)
        target = out / output_name(source, render)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        record = label_record(source, render)
        record["source_key"] = key
        record["sha256"] = hashlib.sha256(data).hexdigest()
        record["bytes"] = len(data)
        if render in ("pdf", "scan", "photo"):
            record["evidence_pages"] = evidence_pages(source, pdf)
        records.append(record)
    return records


def _letters(text: str) -> str:
    return re.sub(r"\W+", "", text).lower()


def evidence_pages(source: Source, pdf: bytes) -> dict[str, list[int | None]]:
    """The 1-based page of the PDF layout on which each evidence passage starts (None: not found).

    Scan and photo share the born-digital layout, so the page is the same for all three.
    """
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        pages = [_letters(document[i].get_textpage().get_text_range())
                 for i in range(len(document))]
    finally:
        document.close()
    found: dict[str, list[int | None]] = {}
    for cid, passages in source.meta.get("evidence", {}).items():
        found[cid] = []
        for passage in passages:
            whole = _letters(passage)
            start = _letters(passage.split(" | ")[0])[:40]  # a row's cells may wrap apart
            page = next((i + 1 for i, text in enumerate(pages) if whole in text), None)
            if page is None and start:
                page = next((i + 1 for i, text in enumerate(pages) if start in text), None)
            found[cid].append(page)
    return found


def find_sources(root: Path, only: str | None, orgs: set[int] | None = None) -> list[Path]:
    paths = sorted(p for p in root.rglob("*.md") if p.name.lower() != "readme.md")
    if only:
        paths = [p for p in paths if fnmatch.fnmatch(p.relative_to(root).with_suffix("").as_posix(),
                                                     only)]
    if orgs is not None:
        paths = [p for p in paths if _org_number(p.relative_to(root).as_posix()) in orgs]
    return paths


def _org_number(rel: str) -> int | None:
    found = re.match(r"^org(\d{2,})-", rel)
    return int(found.group(1)) if found else None


def parse_orgs(text: str) -> set[int]:
    """``"1-5,17-25"`` -> {1, 2, 3, 4, 5, 17, ..., 25}."""
    numbers: set[int] = set()
    for part in text.split(","):
        low, _, high = part.strip().partition("-")
        if not low.isdigit() or (high and not high.isdigit()):
            raise argparse.ArgumentTypeError(f"bad organisation range {part!r} (e.g. 1-5,17-25)")
        numbers.update(range(int(low), int(high or low) + 1))
    return numbers


def _previous_records(out: Path) -> dict[str, dict]:
    try:
        lines = (out / "labels.jsonl").read_text(encoding="utf-8").splitlines()
        return {r["file"]: r for r in map(json.loads, filter(None, lines))}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _render_one(args: tuple) -> tuple[str, list[dict], str | None]:
    path, root, out, previous = args
    try:
        return str(path), render_source(path, root, out, previous), None
    except SourceError as exc:
        return str(path), [], str(exc)


def _table_rows(source: Source) -> set[str]:
    tables = [b for b in source.blocks if b.kind == "table"]
    return {normalise(" | ".join(row)) for b in tables for row in b.rows}


def c5_in_prose(source: Source) -> bool:
    """c5 proved by a sentence or list item, not (only) by a roster row."""
    rows = _table_rows(source)
    return any(normalise(p) not in rows for p in source.meta.get("evidence", {}).get("c5", []))


def print_stats(sources: list[Source]) -> None:
    """Counts the corpus writers check their targets with (CORPUS-PLAN.md): registers, splits,
    labels, hard negatives, the failure classes, c5 in prose, OCR share."""
    from collections import Counter

    def show(title: str, counter: Counter, order=None) -> None:
        keys = order if order is not None else sorted(counter)
        print(f"{title}: " + ", ".join(f"{k}={counter[k]}" for k in keys if counter[k]))

    def share(part: int, whole: int) -> str:
        return f"{part}/{whole} = {part / max(1, whole):.0%}"

    n = len(sources)
    orgs = Counter(s.id.split("/")[0].split("-", 1)[0] for s in sources)
    print(f"documents: {n} from {len(orgs)} organisations")
    show("documents by org", orgs)
    show("documents by register", Counter(register_of(s) for s in sources), REGISTERS)
    show("documents by doc_type", Counter(s.meta["doc_type"] for s in sources))
    split_of = {s.id: eval_split(s.meta["split"], register_of(s)) for s in sources}
    names = {"dev": "dev", "heldout": "held-out organisations",
             "register": f"held-out register ({'+'.join(sorted(HELDOUT_REGISTERS))})"}
    show("evaluation splits", Counter(split_of.values()), list(names))
    renders = Counter(r for s in sources for r in s.meta["render"])
    show("renderings by render", renders, RENDERS)
    ocr, total = sum(renders[r] for r in OCR_RENDERS), sum(renders.values())
    print(f"OCR'd renderings: {share(ocr, total)}")
    for split, label in names.items():
        subset = [s for s in sources if split_of[s.id] == split]
        show(f"positive documents per commitment, {label} (n={len(subset)})",
             Counter(c for s in subset for c in COMMITMENT_IDS if s.meta["labels"][c]),
             COMMITMENT_IDS)
    for register in REGISTERS:
        subset = [s for s in sources if register_of(s) == register]
        if subset:
            show(f"  {register} (n={len(subset)}) positives",
                 Counter(c for s in subset for c in COMMITMENT_IDS if s.meta["labels"][c]),
                 COMMITMENT_IDS)
    tags = Counter(t for s in sources for t in s.meta.get("tags", []))
    empty = sum(not any(s.meta["labels"].values()) for s in sources)
    print(f"hard negatives (tag hard_negative): {share(tags['hard_negative'], n)}; "
          f"documents with no commitment: {share(empty, n)}")
    print(f"multi-label documents: {sum(sum(s.meta['labels'].values()) > 1 for s in sources)}")
    prose = sum(c5_in_prose(s) for s in sources)
    print(f"c5 in prose (c5 evidence outside a table): {prose} documents; "
          f"tag c5_prose: {tags['c5_prose']}")
    show("failure classes (tags)", tags, list(CLASS_TAGS))
    show("tags", tags)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", type=Path, help="folder of sources (samples/corpus)")
    parser.add_argument("out", type=Path, nargs="?", help="output folder")
    parser.add_argument("--only", help="glob on document ids, e.g. 'org03-*' or '*/acta*'")
    parser.add_argument("--orgs", type=parse_orgs,
                        help="organisation numbers, e.g. 1-5,17-25 (with --stats: your share)")
    parser.add_argument("--force", action="store_true",
                        help="render every source again (default: reuse renderings in OUT whose "
                             "source and renderer code are unchanged)")
    parser.add_argument("--jobs", type=int, default=1, help="parallel processes")
    parser.add_argument("--check", action="store_true", help="only validate the sources")
    parser.add_argument("--stats", action="store_true",
                        help="validate and print counts by org, register, type, render, label, "
                             "evaluation split, hard negatives, failure class, c5 in prose")
    parser.add_argument("--expected-json", type=Path,
                        help="also write {file name: {doc_type, labels}} here (the demo)")
    parser.add_argument("--no-labels", action="store_true", help="do not write OUT/labels.jsonl")
    args = parser.parse_intermixed_args(argv)
    root = args.src.resolve()
    sources = find_sources(root, args.only, args.orgs)
    if not sources:
        print(f"no sources under {root}", file=sys.stderr)
        return 2
    if args.check or args.stats:
        errors, parsed = 0, []
        for path in sources:
            try:
                parsed.append(read_source(path, root))
            except SourceError as exc:
                errors += 1
                print(exc, file=sys.stderr)
        print(f"{len(sources)} sources, {errors} with errors", file=sys.stderr)
        if args.stats:
            print_stats(parsed)
        return 1 if errors else 0
    if args.out is None:
        parser.error("OUT is required unless --check")
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    by_id: dict[str, dict[str, dict]] = {}
    for file, record in ({} if args.force else _previous_records(out)).items():
        by_id.setdefault(record.get("id", ""), {})[file] = record
    jobs = [(path, root, out, by_id.get(path.relative_to(root).with_suffix("").as_posix()))
            for path in sources]
    records: list[dict] = []
    errors: list[str] = []
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as pool:
            results = list(pool.map(_render_one, jobs))
    else:
        results = [_render_one(job) for job in jobs]
    for _path, recs, error in results:
        records.extend(recs)
        if error:
            errors.append(error)
            print(error, file=sys.stderr)
    records.sort(key=lambda r: r["file"])
    if not args.no_labels:
        with open(out / "labels.jsonl", "w", encoding="utf-8") as handle:
            for record in records:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    if args.expected_json:
        expected = {Path(r["file"]).name: {"doc_type": r["doc_type"], "labels": r["labels"],
                                         "evidence": r["evidence"]}
                    for r in records}
        args.expected_json.write_text(json.dumps(expected, ensure_ascii=False, indent=2) + "\n",
                                      encoding="utf-8")
    ocr = sum(r["ocr"] for r in records)
    print(f"{len(sources) - len(errors)} documents, {len(records)} files "
          f"({ocr} OCR'd), {len(errors)} errors -> {out}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
