"""Classification speed: a warm process, 10-page Spanish documents of about 4,600 words.

Run: ``.venv/bin/python bench/bench_classify.py [--docs N]``. Loads the spaCy model once, then
classifies generated documents (policy prose, a roster table, list items; evidence buried on a
late page) and reports ms per 10-page document (wall and CPU time: the machine is shared, and
CPU time drifts less with other people's load) and words per second, next to the bare spaCy
pipeline on the same text, the matcher alone, and classification from cached annotations (what
``evidencia reprocess`` pays per document). A benchmark, not a test: figures drift with machine
load (compare within one run).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from extractors.document import ExtractedDocument, Page  # noqa: E402

_SENTENCES = [
    "El presente reglamento regula las condiciones de orden, higiene y seguridad de la empresa.",
    "Todo trabajador deberá respetar las normas de prevención de riesgos en su puesto de trabajo.",
    "La jornada ordinaria de trabajo será de cuarenta y dos horas semanales, de lunes a viernes.",
    "Las remuneraciones se pagarán el último día hábil de cada mes mediante transferencia.",
    "El Comité de Inclusión sesionó en marzo y revisó la situación de los trabajadores migrantes.",
    "Se prohíbe toda discriminación por nacionalidad, origen, raza, sexo o religión.",
    "Durante octubre se realizó un taller de interculturalidad para cuarenta supervisores.",
    "Los elementos de protección personal serán entregados gratuitamente por la empresa.",
    "Las consultas sobre permisos deberán presentarse con al menos dos días de anticipación.",
    "La empresa celebró el Día del Migrante con una feria gastronómica abierta a las familias.",
]
_ROWS = [
    "Juan Pérez Soto | Chilena | Operario | Titular",
    "Wisly Pierre | Haitiana | Bodeguero | Suplente",
    "María Quispe | Peruana | Administrativa | Secretaria",
]


def make_document(pages: int = 10, words_per_page: int = 460, seed: int = 0):
    rng = random.Random(seed)
    out = []
    for n in range(1, pages + 1):
        lines = [f"Sección {n}"]
        words = 0
        while words < words_per_page:
            if rng.random() < 0.08:
                lines.append("Nombre | Nacionalidad | Cargo | Calidad")
                lines.extend(_ROWS)
                words += sum(len(r.split()) for r in _ROWS)
            elif rng.random() < 0.1:
                s = rng.choice(_SENTENCES)
                lines.append("- " + s)
                words += len(s.split())
            else:
                s = " ".join(rng.choice(_SENTENCES) for _ in range(3))
                lines.append(s)
                words += len(s.split())
        out.append(Page(number=n, text="\n".join(lines)))
    doc = ExtractedDocument(mime="application/pdf", pages=tuple(out), extractor="bench")
    return doc, sum(len(p.text.split()) for p in out)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--docs", type=int, default=15, help="documents to time (after one warm-up)")
    args = p.parse_args()

    t0 = time.perf_counter()
    import classifiers

    t_import = time.perf_counter() - t0
    t0 = time.perf_counter()
    classifiers.load()
    t_load = time.perf_counter() - t0

    docs = [make_document(seed=i) for i in range(args.docs + 1)]
    classifiers.classify(docs[0][0])  # warm-up
    times, cpu, words = [], [], []
    for doc, n_words in docs[1:]:
        t0, c0 = time.perf_counter(), time.process_time()
        classifiers.classify(doc)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        words.append(n_words)

    from classifiers.annotation_cache import tag_texts, use_annotation_cache
    from classifiers.engine import get_ruleset
    from classifiers.nlp import get_nlp
    from classifiers.units import split_blocks

    nlp = get_nlp()
    spacy_times = []
    for doc, _ in docs[1:]:
        t0 = time.process_time()
        list(nlp.pipe((pg.text for pg in doc.pages), batch_size=128))
        spacy_times.append(time.process_time() - t0)
    ruleset = get_ruleset()
    match_times = []
    for doc, _ in docs[1:]:
        tagged = tag_texts([b.text for b in split_blocks(doc.pages)])
        t0 = time.process_time()
        for d in tagged:
            ruleset.match(d)
        match_times.append(time.process_time() - t0)
    with tempfile.TemporaryDirectory() as cache:
        use_annotation_cache(Path(cache))
        try:
            for doc, _ in docs[1:]:
                classifiers.classify(doc)  # fills the cache
            cached = []
            for doc, _ in docs[1:]:
                t0 = time.process_time()
                classifiers.classify(doc)
                cached.append(time.process_time() - t0)
        finally:
            use_annotation_cache(None)

    med = statistics.median(times)
    mean_words = statistics.mean(words)
    print(f"classifier {classifiers.CLASSIFIER_VERSION}")
    print(f"import classifiers: {t_import * 1000:.0f} ms; load() (spaCy + matcher): "
          f"{t_load * 1000:.0f} ms")
    print(f"10-page document, {mean_words:.0f} words: median {med * 1000:.0f} ms "
          f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}) over {len(times)} docs; "
          f"CPU median {statistics.median(cpu) * 1000:.0f} ms")
    print(f"throughput: {mean_words / med:,.0f} words/s classified; bare spaCy pipeline "
          f"{mean_words / statistics.median(spacy_times):,.0f} words/s "
          f"({statistics.median(spacy_times) * 1000:.0f} ms CPU per document)")
    print(f"matcher alone: {statistics.median(match_times) * 1000:.1f} ms CPU per document; "
          f"classification from cached annotations: {statistics.median(cached) * 1000:.1f} ms "
          f"CPU per document")
    return 0


if __name__ == "__main__":
    sys.exit(main())
