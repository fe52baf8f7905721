"""Search benchmark: ``service.domain.search.search`` over many pages, on SQLite and PostgreSQL.

Builds a migrated database with ``--orgs`` organisations, each with one submission of
``--docs`` documents of ``--pages`` pages (about 3,000 characters of Spanish each, rows written
directly: no extraction, no queue), then times queries of each kind (a name without accents, a
RUT as the list prints it, a common word, a rare word, two words) as the reviewers' list and the
API run them (50 a page, with their passages): the median of ``--runs`` after one warm-up, with
the tables analysed as autovacuum keeps them (a fresh, unanalysed PostgreSQL table can make the
planner probe the index once per document). Usage::

    .venv/bin/python bench/bench_search.py [--orgs 500] [--docs 4] [--pages 5] [--runs 5]
        [--pg postgresql+psycopg://postgres@127.0.0.1:5432/test]   # an admin URL; '' skips PG
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

_SENTENCES = [
    "La organización aprobó un plan de capacitación en interculturalidad para todo su personal.",
    "El comité de inclusión sesionó y registró sus acuerdos en acta firmada por sus integrantes.",
    "Se realizó una feria intercultural con comunidades migrantes de la comuna.",
    "La política interna prohíbe toda discriminación por nacionalidad u origen en la selección.",
    "Los turnos de la planta se revisaron con la jefatura de operaciones y mantención.",
    "Se informó el presupuesto del semestre y el avance de las obras de la bodega.",
]
_NAMES = ["Ñandú", "Araucaria", "Copihue", "Pehuén", "Quillay", "Maitén", "Boldo", "Lenga"]


def _rut(n: int) -> str:
    from service.domain.rut import check_digit

    body = str(76_000_000 + n)
    return f"{body}-{check_digit(body)}"


def build(url: str, orgs: int, docs: int, pages: int) -> None:
    from service.db import SessionLocal, engine_for
    from service.domain.models import (
        Document,
        Extraction,
        ExtractionPage,
        Organization,
        StoredFile,
        Submission,
    )
    from service.migrate import upgrade

    upgrade(url)
    rng = random.Random(7)
    with SessionLocal() as session:
        for o in range(orgs):
            org = Organization(name=f"Fundación {_NAMES[o % len(_NAMES)]} {o}", rut=_rut(o))
            sub = Submission(organization=org, token_hash="x" * 64)
            session.add_all([org, sub])
            for d in range(docs):
                sha = uuid.uuid4().hex * 2
                text = [" ".join(rng.choice(_SENTENCES) for _ in range(34)) for _ in range(pages)]
                if o % 97 == 0 and d == 0:
                    text[-1] += " Registro de la brigada de emergencias de Ñuñoa."
                session.add(StoredFile(sha256=sha, size=1, mime="text/plain"))
                session.flush()
                extraction = Extraction(
                    sha256=sha, extractor_version="bench", extractor="bench", mime="text/plain",
                    page_count=pages,
                    pages=[ExtractionPage(number=i + 1, text=t) for i, t in enumerate(text)],
                )
                session.add(extraction)
                session.flush()
                session.add(Document(submission=sub, name=f"doc-{d}.txt", sha256=sha,
                                     status="done", stage="done", extraction_id=extraction.id))
            if o % 50 == 49:
                session.commit()
        session.commit()
    with engine_for(url).connect() as conn:  # statistics, as autovacuum keeps them in service
        conn.exec_driver_sql("ANALYZE")
        conn.commit()


def measure(runs: int) -> dict[str, float]:
    from service.db import SessionLocal
    from service.domain.search import search

    queries = {
        "name without accents": "fundacion nandu 8",
        "RUT as printed": "76.000.097-" + _rut(97)[-1],
        "common word": "capacitacion",
        "rare word": "nunoa",
        "two words": "brigada emergencias",
    }
    out = {}
    with SessionLocal() as session:
        for label, q in queries.items():
            search(session, q, limit=50)  # warm-up
            times = []
            for _ in range(runs):
                t0 = time.perf_counter()
                found = search(session, q, limit=50)
                times.append(time.perf_counter() - t0)
            out[label] = (statistics.median(times) * 1000, found.total)
    return out


def run(kind: str, url: str, args) -> None:
    from service.db import engine_for
    from service.settings import get_settings

    os.environ["EVIDENCIA_DATABASE_URL"] = url
    get_settings.cache_clear()
    t0 = time.perf_counter()
    build(url, args.orgs, args.docs, args.pages)
    built = time.perf_counter() - t0
    n_pages = args.orgs * args.docs * args.pages
    print(f"{kind}: {n_pages} pages in {args.orgs} submissions, built in {built:.1f} s")
    for label, (ms, total) in measure(args.runs).items():
        print(f"  {label:22s} {ms:8.1f} ms  ({total} submissions)")
    engine_for(url).dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orgs", type=int, default=500)
    parser.add_argument("--docs", type=int, default=4)
    parser.add_argument("--pages", type=int, default=5)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["EVIDENCIA_DATA_DIR"] = tmp
        run("SQLite", f"sqlite:///{tmp}/bench.db", args)
    if not args.pg:
        return
    from sqlalchemy import create_engine, text

    name = f"evidencia_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["EVIDENCIA_DATA_DIR"] = tmp
            run("PostgreSQL", args.pg.rsplit("/", 1)[0] + f"/{name}", args)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
