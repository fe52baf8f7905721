"""Benchmark of the pipeline's speed targets (run by hand; prints a table, asserts nothing).

    .venv/bin/python bench/bench_pipeline.py [--rounds 2] [--keep DIR]

Measures in one warm process, side by side:

1. a generated 10-page Spanish text PDF (~460 words/page): extraction, classification (when
   ``classifiers.classify`` is importable and works) and their total. Target: total <= 0.5 s.
2. its scanned version (pages rendered at 200 dpi, light noise, image-only PDF): the pipeline's
   total vs. the bare ``tesseract`` command on the same page images (made by poppler's
   ``pdftoppm -r 200 -gray``), run two at a time, one single-threaded process per core
   (``OMP_THREAD_LIMIT=1``), with the pipeline's Tesseract options. Target: <= 1.1x.
3. the CLI's start-up time (``evidencia --help``).

The machine is shared: absolute figures drift, so rounds alternate pipeline and baseline and the
ratio is taken between the best round of each.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

WORDS_PER_PAGE = 460
PAGES = 10

_VOCAB = (
    "la organización promueve inclusión personas migrantes refugiadas trabajo comunidad "
    "capacitación derechos humanos protocolo atención discriminación política igualdad "
    "oportunidades comité equipo registro asistencia actividades informe plan anual objetivo "
    "colaboradores trabajadores extranjeros idioma español apoyo orientación trámites "
    "regularización migratoria documentos salud educación vivienda acceso servicios públicos "
    "difusión interculturalidad diversidad respeto convivencia denuncia procedimiento canal "
    "confidencial seguimiento evaluación indicadores resultados metas responsables recursos "
    "municipalidad región empresa gerencia dirección sindicato acuerdo acta sesión reunión "
    "jornada taller charla curso módulo horas participantes contratación selección reclutamiento "
    "remuneraciones beneficios permanencia desarrollo carrera liderazgo mentoría acompañamiento"
).split()
_GLUE = (
    "de en con para por sobre entre desde hacia según durante mediante y que se a los las del al"
).split()


def spanish_pages(seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    pages = []
    for _ in range(PAGES):
        words: list[str] = []
        sentences: list[str] = []
        while len(words) < WORDS_PER_PAGE:
            n = rng.randint(9, 22)
            sentence = [rng.choice(_VOCAB if i % 3 else _GLUE + _VOCAB) for i in range(n)]
            sentence[0] = sentence[0].capitalize()
            words.extend(sentence)
            sentences.append(" ".join(sentence) + ".")
        pages.append(" ".join(sentences))
    return pages


def make_text_pdf(path: Path) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import cm
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate

    style = getSampleStyleSheet()["BodyText"]
    style.fontSize, style.leading = 10, 13
    story = []
    for i, text in enumerate(spanish_pages()):
        story.append(Paragraph(f"<b>Sección {i + 1}: política de inclusión</b>", style))
        story.append(Paragraph(text, style))
        story.append(PageBreak())
    SimpleDocTemplate(str(path), pagesize=A4, leftMargin=2 * cm, rightMargin=2 * cm,
                      topMargin=2 * cm, bottomMargin=2 * cm).build(story)  # fmt: skip


def make_scanned_pdf(text_pdf: Path, path: Path) -> None:
    """Render at 200 dpi gray, add light noise and a slight blur, save as an image-only PDF."""
    import numpy as np
    import pypdfium2 as pdfium
    from PIL import Image, ImageFilter

    rng = np.random.default_rng(3)
    images = []
    pdf = pdfium.PdfDocument(str(text_pdf))
    for page in pdf:
        image = page.render(scale=200 / 72, grayscale=True).to_pil().convert("L")
        image = image.filter(ImageFilter.GaussianBlur(0.6))
        pixels = np.asarray(image, dtype=np.int16)
        pixels = pixels + rng.normal(0, 12, pixels.shape).astype(np.int16)
        images.append(Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "L"))
    pdf.close()
    images[0].save(path, save_all=True, append_images=images[1:], resolution=200.0)


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def cpu_seconds() -> float:
    """CPU of this process (all threads) and of its finished children (Tesseract)."""
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + kids.ru_utime + kids.ru_stime


def bare_tesseract(images: list[Path], out: Path, psm: int) -> float:
    """All page images, two tesseract processes at a time (the next page starts as soon as
    either finishes), each single-threaded."""
    from concurrent.futures import ThreadPoolExecutor

    from extractors import defaults

    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}

    def one(image: Path) -> None:
        cmd = ["tesseract", str(image), str(out / image.stem), "-l", defaults.OCR_LANG,
               "--psm", str(psm), "tsv"]  # fmt: skip
        subprocess.run(cmd, env=env, stderr=subprocess.DEVNULL, check=False)

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(one, images))
    return time.perf_counter() - start


def load_classifier():
    try:
        import classifiers

        if hasattr(classifiers, "load"):
            classifiers.load()
        return classifiers.classify
    except Exception as exc:  # noqa: BLE001 - the classifier may not exist yet
        print(f"(classifier unavailable: {exc!r})", file=sys.stderr)
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2, help="scanned-PDF rounds (alternating)")
    parser.add_argument("--text-runs", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="keep generated files in this folder")
    parser.add_argument("--baseline-psm", type=int, default=1,
                        help="page segmentation of the bare tesseract run: 1, Tesseract's own "
                             "layout with orientation, as the pipeline read pages until "
                             "2026-12-05 (the pipeline now reads --psm 11 and levels, cleans "
                             "and lays out pages itself)")
    args = parser.parse_args()

    import extractors

    work = Path(tempfile.mkdtemp(prefix="bench-pipeline-")) if not args.keep else args.keep
    work.mkdir(parents=True, exist_ok=True)
    text_pdf, scan_pdf = work / "texto-10p.pdf", work / "escaneado-10p.pdf"
    make_text_pdf(text_pdf)
    make_scanned_pdf(text_pdf, scan_pdf)
    images_dir = work / "pages"
    images_dir.mkdir(exist_ok=True)
    subprocess.run(["pdftoppm", "-r", "200", "-gray", str(scan_pdf), str(images_dir / "p")],
                   check=True)  # fmt: skip
    page_images = sorted(images_dir.glob("p*.pgm"))

    classify = load_classifier()
    # Warm-up: imports, pdfium, tesseract checks, spaCy model.
    warm = extractors.extract(text_pdf)
    if classify is not None:
        try:
            classify(warm)
        except Exception as exc:  # noqa: BLE001
            print(f"(classify failed, reported without it: {exc!r})", file=sys.stderr)
            classify = None
    words = sum(len(p.text.split()) for p in warm.pages)

    rows: list[tuple[str, str, str]] = []
    extract_times, classify_times, total_times, extract_cpu, classify_cpu = [], [], [], [], []
    for _ in range(args.text_runs):
        cpu_start = time.process_time()
        t_extract, doc = timed(extractors.extract, text_pdf)
        extract_cpu.append(time.process_time() - cpu_start)
        cpu_start = time.process_time()
        t_classify = timed(classify, doc)[0] if classify else 0.0
        classify_cpu.append(time.process_time() - cpu_start)
        extract_times.append(t_extract)
        classify_times.append(t_classify)
        total_times.append(t_extract + t_classify)
    med = statistics.median
    rows.append((f"text PDF, {len(warm.pages)} pages, {words} words: extract",
                 f"{med(extract_times) * 1000:.0f} ms",
                 f"CPU {min(extract_cpu) * 1000:.0f} ms (unaffected by other load)"))  # fmt: skip
    if classify:
        rows.append(("text PDF: classify", f"{med(classify_times) * 1000:.0f} ms",
                     f"CPU {min(classify_cpu) * 1000:.0f} ms"))  # fmt: skip
    target = "<= 500 ms" + ("" if classify else " (classifier not measured)")
    total_cpu = min(extract_cpu) + min(classify_cpu)
    rows.append(("text PDF: extract + classify", f"{med(total_times) * 1000:.0f} ms",
                 f"{target}; CPU {total_cpu * 1000:.0f} ms"))  # fmt: skip

    pipeline_runs, bare_runs, ocr_pages = [], [], 0
    bare_cpu, pipeline_cpu = [], []
    for _ in range(args.rounds):
        out = work / "bare"
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir()
        cpu_start = cpu_seconds()
        bare_runs.append(bare_tesseract(page_images, out, args.baseline_psm))
        bare_cpu.append(cpu_seconds() - cpu_start)
        cpu_start = cpu_seconds()
        t_extract, doc = timed(extractors.extract, scan_pdf)
        ocr_pages = doc.ocr_pages
        t_classify = timed(classify, doc)[0] if classify else 0.0
        pipeline_cpu.append(cpu_seconds() - cpu_start)
        pipeline_runs.append((t_extract + t_classify, t_extract, t_classify))
    best_pipeline = min(pipeline_runs)
    best_bare = min(bare_runs)
    bare_list = ", ".join(f"{t:.2f}" for t in bare_runs)
    rows.append((f"scanned PDF ({ocr_pages} OCR pages): bare tesseract --psm "
                 f"{args.baseline_psm} x2 procs",
                 f"{best_bare:.2f} s",
                 f"runs: {bare_list}; CPU {min(bare_cpu):.1f} s"))  # fmt: skip
    rows.append(("scanned PDF: pipeline extract (+ classify)",
                 f"{best_pipeline[0]:.2f} s",
                 f"extract {best_pipeline[1]:.2f} + classify {best_pipeline[2]:.2f}; runs: "
                 + ", ".join(f"{t[0]:.2f}" for t in pipeline_runs)))  # fmt: skip
    rows.append(("scanned PDF: pipeline / bare tesseract",
                 f"{best_pipeline[0] / best_bare:.2f}x",
                 f"<= 1.10x; CPU {min(pipeline_cpu):.1f} s / {min(bare_cpu):.1f} s = "
                 f"{min(pipeline_cpu) / min(bare_cpu):.2f}x"))  # fmt: skip

    evidencia = REPO / ".venv" / "bin" / "evidencia"
    if evidencia.exists():
        starts = []
        for _ in range(5):
            starts.append(timed(subprocess.run, [str(evidencia), "--help"],
                                capture_output=True, check=False)[0])  # fmt: skip
        rows.append(("CLI start-up: evidencia --help", f"{med(starts) * 1000:.0f} ms",
                     f"min {min(starts) * 1000:.0f} ms"))  # fmt: skip

    load = os.getloadavg()[0]
    width = max(len(r[0]) for r in rows)
    print(f"\nbench_pipeline  (load average {load:.1f} on {os.cpu_count()} CPUs; files in {work})")
    print(f"{'measure'.ljust(width)} | {'value':>9} | notes")
    print(f"{'-' * width}-+-{'-' * 9}-+------")
    for name, value, note in rows:
        print(f"{name.ljust(width)} | {value:>9} | {note}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
