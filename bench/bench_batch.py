"""Benchmark of ``evidencia batch`` and ``evidencia reprocess`` on a synthetic archive.

Builds an archive of past submissions (one folder or ZIP per organisation, nested ZIPs, text and
scanned PDFs, DOCX, photos of pages, plain text; a few files repeated across organisations) and
measures, with real ``evidencia worker`` processes (started and warmed up before each timed
command, as in a deployment) on a real Redis and database:

* documents per minute of the first pass (``evidencia batch ARCHIVE --wait``) with 1 and with
  2 workers (fresh database each);
* documents per minute of ``reprocess`` (inline, and queued with 2 workers) over the same
  stored text, under a new classifier version: first as after a change of the rules' code (the
  reading cache emptied: every text's rules run again, from its cached annotations), then as
  after a change of the decision alone (a promoted model or calibration: the readings the
  first pass kept are re-scored);
* then ``reprocess --inline`` after edits of the patterns alone (the code unchanged): the
  last ``--pattern-commits`` commits that touched ``classifiers/patterns`` replayed in order
  (the first pass ran with the patterns before the oldest of them), then two small edits of
  the last set (an external name added; one rule's exclusions widened). The reading cache
  keeps the readings an edit cannot touch (``classifiers/pattern_sets.py``): each step reports
  the share of texts analysed again, the share checked by matching the edited rules' old and
  new versions again on the cached tokens (only texts where an edited line's words stand as its
  steps allow; reused when they match alike, else analysed), and CPU and wall time a document
  against the first pass (2026-12-07, 4,000 documents at load 5–13: 0.88–1.24 ms CPU, 40–56×
  the PDFs' first pass; on this archive, ``--docs 100 --workers 1``, 12:34–12:50 at load
  0.7–2.5, paired runs of the command at e82e82c, quietest round: 0.58–0.60 s CPU a step that
  reads no cached token, 0.62 s where 34 texts are matched again (their tokens read without
  numpy or srsly), 0.75 s where 3 are analysed, against a first pass of 0.348 s a document:
  46–60×, 50× not met where a text is analysed; bench/HISTORY.md, the 100-document archive);
* peak memory (RSS) of a worker: of one process, and of a worker with its work horse and
  Tesseract children together.

    .venv/bin/python bench/bench_batch.py --docs 200            # ~10 minutes on 2 cores
    .venv/bin/python bench/bench_batch.py --docs 60 --db postgresql --json out.json
    .venv/bin/python bench/bench_batch.py --synthetic 10000     # generated text, no files

``--synthetic N`` skips the archive: N one-page documents of generated text are written
straight into the database as stored extractions (as if extracted), the first pass classifies
them (the pipeline's ``process_document``, reusing the stored text: spaCy's whole pipeline,
results stored) in two processes, then ``reprocess --all --inline`` runs over all N in one,
twice (rules changed, then the decision alone, as above), then after each edit of the patterns
(as above); each is reported per document for one process (wall and CPU seconds).

That first pass is classification alone, the strictest yardstick. The first pass a document
really gets after an upload (the issue's measurement: upload → extract → classify) is also
measured, on a sample (``--files K``, default 300: enough for a stable figure per document, where
all N would cost the run ten minutes more): the first K texts made into one-page PDF files
(reportlab), stored as an upload stores them (``add_files``), then ``process_document``
(text-layer extraction, pages stored, classification), two processes, a database of their own.
Both ratios are printed; the target (≥ 50×) is the issue's, against the latter.

The new classifier version for ``reprocess`` is the current one with a suffix, set in each
process this script starts (the same classifier code runs: the cost is the real one).
Redis database 11 is flushed before each phase; nothing else is touched.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# the code of this tree, not whichever the virtual environment's editable install points at
sys.path.insert(0, str(REPO))
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
#: the patterns folder every process this script starts uses (None: the tree's own); set once
#: the pattern history is read (``pattern_steps``), changed per edit
PATTERNS: Path | None = None
#: run first in every Python process this script starts: the patterns in force are
#: BENCH_PATTERNS_DIR's (after the classifier's import, so the calibration and the model stay
#: in force as after a retrain: the decision's cost is the real one)
_PATTERNS_HOOK = """
import os
if os.environ.get("BENCH_PATTERNS_DIR"):
    from pathlib import Path
    from classifiers import defaults, pattern_sets
    defaults.PATTERNS_DIR = Path(os.environ["BENCH_PATTERNS_DIR"])
    pattern_sets.forget()  # the reading cache's stamp: these patterns' fingerprint
"""

# --------------------------------------------------------------------------------------------
# Synthetic archive

_EVIDENCE = [
    "El directorio acordó constituir el Comité de Inclusión e Interculturalidad, encargado de "
    "coordinar las acciones de inclusión y no discriminación de la institución.",
    "Durante el año se realizaron talleres de sensibilización sobre migración e "
    "interculturalidad dirigidos a todo el personal, con registro de asistencia.",
    "La política de buenas prácticas laborales garantiza igualdad de trato sin discriminación "
    "por nacionalidad en el reclutamiento, las remuneraciones y los ascensos.",
    "Se organizó una feria intercultural abierta a la comunidad junto con organizaciones de "
    "personas migrantes y se celebró el Día Internacional del Migrante.",
    "En la elección del comité paritario resultaron electos dos trabajadores de nacionalidad "
    "venezolana y una trabajadora haitiana.",
    "El protocolo de acogida establece la traducción de documentos al creole y al inglés para "
    "los trabajadores extranjeros recién contratados.",
]
_FILLER = [
    "La sesión comenzó a las diez horas con la asistencia de los miembros del directorio.",
    "Se revisó el estado de avance del presupuesto anual y se aprobaron las cuentas del período.",
    "El gerente de operaciones presentó el informe de producción del trimestre anterior.",
    "Se acordó renovar el contrato de mantención de los equipos de la planta.",
    "La tesorera informó sobre los pagos pendientes a proveedores y el flujo de caja.",
    "Sin otros temas que tratar, se levantó la sesión a las doce horas.",
    "El área de personas informó la contratación de cuatro nuevos operarios.",
    "Se recordó la obligación de usar los elementos de protección personal en la bodega.",
    "La próxima reunión se fijó para el primer lunes del mes siguiente.",
    "Se aprobó por unanimidad el plan de mantenimiento de la flota de vehículos.",
]
_TITLES = ["Acta de sesión", "Informe de actividades", "Política interna", "Plan anual",
           "Protocolo", "Registro de asistencia", "Memoria institucional", "Reglamento interno"]


def _text(rng: random.Random, org: str, n: int, pages: int) -> list[str]:
    """Page texts of one document: filler with one or two evidence sentences somewhere."""
    out = []
    for p in range(pages):
        sentences = [f"{rng.choice(_TITLES)} N° {n}-{p + 1} — {org}."]
        body = [rng.choice(_FILLER) for _ in range(rng.randint(14, 22))]
        if p == 0 or rng.random() < 0.3:
            for ev in rng.sample(_EVIDENCE, rng.randint(1, 2)):
                body.insert(rng.randrange(len(body) + 1), ev)
        sentences += body
        out.append(" ".join(sentences))
    return out


def _wrap(text: str, width: int = 92) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width)


def _pdf(pages: list[str]) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    for page in pages:
        y = 790
        c.setFont("Helvetica", 10)
        for line in _wrap(page):
            c.drawString(50, y, line)
            y -= 14
        c.showPage()
    c.save()
    return buf.getvalue()


def _page_images(pages: list[str], dpi: int = 150, rng: random.Random | None = None):
    import pypdfium2
    from PIL import ImageFilter

    pdf = pypdfium2.PdfDocument(_pdf(pages))
    images = []
    for i in range(len(pdf)):
        img = pdf[i].render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
        if rng is not None:  # a scanner's slight skew and blur
            img = img.rotate(rng.uniform(-1.2, 1.2), fillcolor=255, expand=False)
            img = img.filter(ImageFilter.GaussianBlur(0.6))
        images.append(img)
    pdf.close()
    return images


def _scanned_pdf(pages: list[str], rng: random.Random) -> bytes:
    images = _page_images(pages, rng=rng)
    buf = io.BytesIO()
    images[0].save(buf, "PDF", resolution=150, save_all=True, append_images=images[1:])
    return buf.getvalue()


def _photo(pages: list[str], rng: random.Random) -> bytes:
    img = _page_images(pages[:1], rng=rng)[0]
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=80)
    return buf.getvalue()


def _docx(pages: list[str]) -> bytes:
    import docx

    d = docx.Document()
    for page in pages:
        d.add_paragraph(page)
    table = d.add_table(rows=3, cols=3)
    for r, row in enumerate(table.rows):
        for c, cell in enumerate(row.cells):
            cell.text = ["Nombre", "Nacionalidad", "Cargo"][c] if r == 0 else f"Persona {r}{c}"
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _document(rng: random.Random, org: str, n: int, scan_share: float) -> tuple[str, bytes, str]:
    roll = rng.random()
    if roll < scan_share * 0.7:
        pages = _text(rng, org, n, rng.choice([1, 1, 2]))
        return f"escaneo-{n}.pdf", _scanned_pdf(pages, rng), "scan"
    if roll < scan_share:
        return f"foto-{n}.jpg", _photo(_text(rng, org, n, 1), rng), "image"
    rest = (roll - scan_share) / (1 - scan_share)
    pages = _text(rng, org, n, rng.choice([1, 1, 2, 3]))
    if rest < 0.55:
        return f"documento-{n}.pdf", _pdf(pages), "pdf"
    if rest < 0.85:
        return f"documento-{n}.docx", _docx(pages), "docx"
    return f"nota-{n}.txt", "\n\n".join(pages).encode("utf-8"), "txt"


def _zip(members: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, value in members.items():
            zf.writestr(name, _zip(value) if isinstance(value, dict) else value)
    return buf.getvalue()


def build_archive(root: Path, docs: int, scan_share: float, seed: int = 7) -> dict:
    """One folder or ZIP per organisation, nested ZIPs inside; returns what it built."""
    rng = random.Random(seed)
    orgs = max(4, docs // 20)
    kinds: dict[str, int] = {}
    made = 0
    duplicates = 0
    previous: tuple[str, bytes] | None = None
    root.mkdir(parents=True, exist_ok=True)
    for o in range(orgs):
        org = f"Organización {o + 1:02d}"
        count = docs // orgs + (1 if o < docs % orgs else 0)
        files: dict[str, bytes] = {}
        for _i in range(count):
            if previous is not None and rng.random() < 0.03:  # the same file in two places
                name, data = f"copia-{previous[0]}", previous[1]
                duplicates += 1
                kinds["duplicate"] = kinds.get("duplicate", 0) + 1
            else:
                name, data, kind = _document(rng, org, made, scan_share)
                kinds[kind] = kinds.get(kind, 0) + 1
                previous = (name, data)
            files[name] = data
            made += 1
        names = sorted(files)
        third = max(1, len(names) // 3)
        nested = {n: files[n] for n in names[:third]}
        loose = {f"{2015 + o % 8}/{n}": files[n] for n in names[third:]}
        if o % 2 == 0:  # a folder with a subfolder per year and a nested ZIP of annexes
            folder = root / org
            for rel, data in loose.items():
                (folder / rel).parent.mkdir(parents=True, exist_ok=True)
                (folder / rel).write_bytes(data)
            (folder / "anexos.zip").write_bytes(_zip({"anexos": {"interno.zip": nested}}))
        else:  # an archive per organisation with a ZIP inside
            (root / f"{org}.zip").write_bytes(_zip({**loose, "respaldo.zip": nested}))
    return {"documents": made, "organizations": orgs, "kinds": kinds, "duplicates": duplicates}


# --------------------------------------------------------------------------------------------
# Processes and memory


def _rss_kb(pid: int) -> tuple[int, int]:
    """(current PSS, peak RSS) in kB of one process, (0, 0) if it is gone.

    PSS shares copy-on-write pages between the worker and its forked work horse, so the sum
    over a worker's processes is what the worker really costs; RSS would count them twice.
    """
    cur = peak = 0
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    peak = int(line.split()[1])
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    cur = int(line.split()[1])
                    break
    except OSError:
        pass
    return cur, peak


def _children(pid: int) -> list[int]:
    out = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                out += [int(c) for c in fh.read().split()]
    except OSError:
        pass
    return out


class MemoryWatch(threading.Thread):
    """Samples worker process trees: peak RSS of one process, peak PSS of a whole worker
    (the rq worker, its work horse and Tesseract together)."""

    def __init__(self, pids: list[int], interval: float = 0.1):
        super().__init__(daemon=True)
        self.pids, self.interval = pids, interval
        self.peak_process_kb = 0
        self.peak_tree_kb = 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            for pid in self.pids:
                tree, stack = 0, [pid]
                while stack:
                    p = stack.pop()
                    cur, peak = _rss_kb(p)
                    tree += cur
                    self.peak_process_kb = max(self.peak_process_kb, peak)
                    stack += _children(p)
                self.peak_tree_kb = max(self.peak_tree_kb, tree)
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join()


def _env(data_dir: Path, db_url: str, redis_url: str, version_suffix: str = "") -> dict:
    env = {**os.environ, "EVIDENCIA_DATA_DIR": str(data_dir), "EVIDENCIA_DATABASE_URL": db_url,
           "EVIDENCIA_REDIS_URL": redis_url, "OMP_THREAD_LIMIT": "1",
           "EVIDENCIA_LOG_LEVEL": "WARNING", "BENCH_VERSION_SUFFIX": version_suffix}
    if PATTERNS is not None:
        env["BENCH_PATTERNS_DIR"] = str(PATTERNS)
    return env


def _evidencia(args: list[str], env: dict, **kw) -> subprocess.Popen:
    """``evidencia ARGS`` with the bench's classifier version in force."""
    return subprocess.Popen([sys.executable, __file__, "_cli", *args], env=env, cwd=REPO, **kw)


def _start_warm_workers(n: int, env: dict, redis_url: str) -> tuple[list, float]:
    """Start ``n`` long-running workers and wait until each is registered (model loaded)."""
    import redis
    from rq import Worker

    conn = redis.Redis.from_url(redis_url)
    t0 = time.perf_counter()
    # one worker may OCR a document's pages on every core; several share the cores instead
    args = ["worker"] if n == 1 else ["worker", "--ocr-threads", "1"]
    procs = [_evidencia(args, env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for _ in range(n)]
    while len(Worker.all(connection=conn)) < n:
        if any(p.poll() is not None for p in procs):
            _stop_workers(procs)
            raise RuntimeError("a worker exited during start-up")
        if time.perf_counter() - t0 > 300:
            _stop_workers(procs)
            raise RuntimeError("workers did not start within 300 s")
        time.sleep(0.2)
    return procs, time.perf_counter() - t0


def _stop_workers(procs: list) -> None:
    """Warm shutdown (SIGTERM) of the workers this bench started; kill if they hang."""
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def _fresh_db(kind: str, work: Path, tag: str) -> tuple[str, str | None]:
    if kind == "sqlite":
        return f"sqlite:///{work / f'{tag}.db'}", None
    from sqlalchemy import create_engine, text

    name = f"evidencia_bench_{tag}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", name


def _drop_db(name: str | None) -> None:
    if not name:
        return
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _flush(redis_url: str) -> None:
    import redis

    redis.Redis.from_url(redis_url).flushdb()


def _db_counts(db_url: str) -> dict:
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    with engine.connect() as conn:
        status = dict(conn.execute(text("select status, count(*) from documents group by status")
                                   ).all())
        extractions = conn.execute(text("select count(*) from extractions")).scalar()
        ocr_pages = conn.execute(text("select coalesce(sum(ocr_pages),0) from extractions")
                                 ).scalar()
        pages = conn.execute(text("select coalesce(sum(page_count),0) from extractions")).scalar()
        versions = dict(conn.execute(text(
            "select classifier_version, count(*) from classifications group by 1")).all())
        # what the jobs themselves recorded: seconds spent extracting and classifying
        stages = conn.execute(text(
            "select coalesce(sum(extract_seconds),0), coalesce(sum(classify_seconds),0), "
            "count(*) from documents where status = 'done'")).one()
    engine.dispose()
    done = max(int(stages[2]), 1)
    return {"status": status, "extractions": extractions, "pages": int(pages),
            "ocr_pages": int(ocr_pages), "classifications": versions,
            "mean_extract_seconds": round(float(stages[0]) / done, 3),
            "mean_classify_seconds": round(float(stages[1]) / done, 3)}


def _steady_seconds(db_url: str, version_suffix: str | None = None) -> tuple[float, int]:
    """(seconds, documents) of the busy span, start-up excluded, from the rows' timestamps.

    First pass: first job start to last job end. Reprocess: first to last new classification
    (covers one document fewer than it counted).
    """
    from datetime import datetime

    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    with engine.connect() as conn:
        if version_suffix is None:
            lo, hi, n = conn.execute(text(
                "select min(started_at), max(finished_at), count(*) from documents "
                "where status = 'done'")).one()
        else:
            lo, hi, n = conn.execute(text(
                "select min(created_at), max(created_at), count(*) - 1 from classifications "
                "where classifier_version like :v"), {"v": f"%{version_suffix}"}).one()
    engine.dispose()

    def _dt(v):
        return datetime.fromisoformat(v) if isinstance(v, str) else v

    if lo is None or hi is None or not n:
        return 0.0, 0
    return (_dt(hi) - _dt(lo)).total_seconds(), int(n)


def _jobs_busy_seconds(redis_url: str) -> float:
    """First start to last end of the batch queue's finished jobs (a reprocess's reclassify
    jobs: since a job writes its results in one transaction, the rows' timestamps no longer
    tell its span), 0.0 when none."""
    import redis
    from rq import Queue
    from rq.job import Job
    from rq.registry import FinishedJobRegistry

    conn = redis.Redis.from_url(redis_url)
    registry = FinishedJobRegistry(queue=Queue("batch", connection=conn))
    jobs = [j for j in Job.fetch_many(registry.get_job_ids(), connection=conn) if j]
    spans = [(j.started_at, j.ended_at) for j in jobs if j.started_at and j.ended_at]
    if not spans:
        return 0.0
    return (max(e for _s, e in spans) - min(s for s, _e in spans)).total_seconds()


# --------------------------------------------------------------------------------------------
# Phases


def first_pass(archive: Path, workers: int, db_kind: str, work: Path, redis_url: str) -> dict:
    """``evidencia batch ARCHIVE --wait`` with ``workers`` warm workers already running."""
    tag = f"w{workers}"
    data_dir = work / f"data-{tag}"
    db_url, pg_name = _fresh_db(db_kind, work, tag)
    env = _env(data_dir, db_url, redis_url)
    _flush(redis_url)
    subprocess.run([sys.executable, "-m", "service.cli", "db", "upgrade"], env=env, cwd=REPO,
                   check=True, capture_output=True)
    procs, warmup = _start_warm_workers(workers, env, redis_url)
    watch = MemoryWatch([p.pid for p in procs])
    watch.start()
    try:
        t0 = time.perf_counter()
        load = _evidencia(["batch", str(archive), "--wait", "--summary",
                           str(work / f"resumen-{tag}.csv")],
                          env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        load.communicate()
        seconds = time.perf_counter() - t0
    finally:
        _stop_workers(procs)
        watch.stop()
    counts = _db_counts(db_url)
    docs = sum(counts["status"].values())
    busy, busy_docs = _steady_seconds(db_url)
    return {
        "workers": workers, "db_url": db_url, "pg_name": pg_name, "data_dir": str(data_dir),
        "documents": docs, "counts": counts, "worker_warmup_seconds": round(warmup, 1),
        "process_seconds": round(seconds, 1),
        "docs_per_minute": round(docs / seconds * 60, 1),
        "seconds_per_doc": round(seconds / docs, 3),
        "steady_docs_per_minute": round(busy_docs / busy * 60, 1) if busy else None,
        "steady_seconds_per_doc": round(busy / busy_docs, 4) if busy_docs else None,
        "peak_process_mb": round(watch.peak_process_kb / 1024),
        "peak_worker_tree_mb": round(watch.peak_tree_kb / 1024),
    }


def _forget_readings(data_dir: Path) -> None:
    """As after a change of the rules or features: every reading's key is new (the annotation
    cache, keyed by the text and spaCy's pipeline, stays). The folder is moved aside, not
    deleted: deleting thousands of files just before a timed run slows the file system under
    it."""
    folder = data_dir / "nlp" / "readings"
    if folder.exists():
        folder.rename(folder.with_name(f"readings-{uuid.uuid4().hex[:8]}"))


def _case(rules_changed: bool) -> tuple[str, str]:
    """(version suffix, words) of a reprocess after a change of the rules, or of the decision
    alone (a promoted model or calibration: the readings the first pass kept still hold)."""
    return (("-rules", "rules changed") if rules_changed else ("", "decision changed"))


def _timed_inline_reprocess(env: dict, report: Path) -> tuple[str, float, float]:
    """``evidencia reprocess --all --inline`` in a process of its own: (its output, wall
    seconds, CPU seconds of the process and its children)."""
    t0 = time.perf_counter()
    before = os.times()
    proc = _evidencia(["reprocess", "--all", "--inline", "--report", str(report)], env,
                      stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out, _ = proc.communicate()
    return out, time.perf_counter() - t0, _children_cpu(before)


def reprocess_inline(phase: dict, redis_url: str, work: Path, rules_changed: bool = False
                     ) -> dict:
    tag, words = _case(rules_changed)
    suffix = f"+bench-inline{tag}"
    env = _env(Path(phase["data_dir"]), phase["db_url"], redis_url, suffix)
    if rules_changed:
        _forget_readings(Path(phase["data_dir"]))
    out, seconds, cpu = _timed_inline_reprocess(env, work / f"cambios-inline{tag}.csv")
    docs = phase["documents"] - phase["counts"]["status"].get("error", 0)
    busy, busy_docs = _steady_seconds(phase["db_url"], suffix)
    return {"mode": f"inline (1 process), {words}", "documents": docs,
            "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2),
            "docs_per_minute": round(docs / seconds * 60, 1),
            "seconds_per_doc": round(seconds / docs, 4),
            "steady_docs_per_minute": round(busy_docs / busy * 60, 1) if busy else None,
            "steady_seconds_per_doc": round(busy / busy_docs, 4) if busy_docs else None,
            "output": out.strip()}


def _children_cpu(before) -> float:
    after = os.times()
    return (after.children_user - before.children_user
            + after.children_system - before.children_system)


def reprocess_queued(phase: dict, workers: int, redis_url: str, work: Path,
                     rules_changed: bool = False) -> dict:
    """``evidencia reprocess --all`` (queued) with ``workers`` warm workers already running."""
    tag, words = _case(rules_changed)
    suffix = f"+bench-queued{tag}"
    env = _env(Path(phase["data_dir"]), phase["db_url"], redis_url, suffix)
    _flush(redis_url)
    procs, _warmup = _start_warm_workers(workers, env, redis_url)
    if rules_changed:
        _forget_readings(Path(phase["data_dir"]))
    watch = MemoryWatch([p.pid for p in procs])
    watch.start()
    try:
        t0 = time.perf_counter()
        proc = _evidencia(["reprocess", "--all", "--report",
                           str(work / f"cambios-cola{tag}.csv")],
                          env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        out, _ = proc.communicate()
        seconds = time.perf_counter() - t0
        busy = _jobs_busy_seconds(redis_url)
    finally:
        _stop_workers(procs)
        watch.stop()
    docs = phase["documents"] - phase["counts"]["status"].get("error", 0)
    busy_docs = docs if busy else 0
    return {"mode": f"queued ({workers} workers), {words}", "documents": docs,
            "steady_docs_per_minute": round(busy_docs / busy * 60, 1) if busy else None,
            "steady_seconds_per_doc": round(busy / busy_docs, 4) if busy_docs else None,
            "seconds": round(seconds, 2), "docs_per_minute": round(docs / seconds * 60, 1),
            "seconds_per_doc": round(seconds / docs, 4), "output": out.strip(),
            "peak_process_mb": round(watch.peak_process_kb / 1024),
            "peak_worker_tree_mb": round(watch.peak_tree_kb / 1024)}


# --------------------------------------------------------------------------------------------
# Edits of the patterns alone


def _git(*args: str, binary: bool = False):
    out = subprocess.run(["git", *args], cwd=REPO, capture_output=True, check=True).stdout
    return out if binary else out.decode()


def _patterns_at(commit: str, folder: Path) -> Path:
    folder.mkdir(parents=True)
    for name in _git("ls-tree", "--name-only", commit, "classifiers/patterns/").split():
        (folder / name.rsplit("/", 1)[1]).write_bytes(_git("show", f"{commit}:{name}",
                                                           binary=True))
    return folder


def _edit_line(folder: Path, name: str, which, change) -> None:
    """``change`` the first record of pattern file ``name`` that ``which`` accepts."""
    path = folder / name
    lines = path.read_text(encoding="utf-8").splitlines()
    for k, line in enumerate(lines):
        if line.strip() and not line.lstrip().startswith("//") and which(json.loads(line)):
            lines[k] = json.dumps(change(json.loads(line)), ensure_ascii=False)
            break
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _add_external_name(folder: Path) -> None:
    path = folder / "external_names.jsonl"
    record = {"id": "ext.bench_programme", "label": "EXTERNAL",
              "pattern": "programa nacional de integración laboral"}
    path.write_text(path.read_text(encoding="utf-8") + json.dumps(record, ensure_ascii=False)
                    + "\n", encoding="utf-8")


def _widen_exclusions(folder: Path) -> None:
    def change(record):
        record["excludes"] = [*record.get("excludes", []), "doctype:reglamento"]
        return record
    _edit_line(folder, "c2.jsonl", lambda r: bool(r.get("excludes")), change)


#: small edits of the last pattern set, applied one after the other: (what, edit)
SMALL_EDITS = (("an external name added", _add_external_name),
               ("a c2 rule's exclusions widened", _widen_exclusions))


def pattern_steps(work: Path, commits: int) -> list[tuple[str, Path]]:
    """The pattern sets the run goes through: the one before the oldest of the last
    ``commits`` commits that touched ``classifiers/patterns`` (the first pass's), after each of
    them, then after each of ``SMALL_EDITS``. Empty without the repository's history."""
    if not commits:
        return []
    try:
        log = _git("log", f"-{commits}", "--format=%h %s", "--", "classifiers/patterns")
    except (OSError, subprocess.CalledProcessError):
        return []
    history = [line.split(" ", 1) for line in reversed(log.splitlines())]
    root = work / "patterns"
    steps = [(f"before {history[0][0]}", _patterns_at(f"{history[0][0]}^", root / "p0"))]
    for k, (commit, subject) in enumerate(history, 1):
        steps.append((f"commit {commit}: {subject[:60]}", _patterns_at(commit, root / f"p{k}")))
    for k, (what, edit) in enumerate(SMALL_EDITS, len(steps)):
        folder = root / f"p{k}"
        shutil.copytree(steps[-1][1], folder)
        edit(folder)
        steps.append((what, folder))
    return steps


def reprocess_pattern_edits(steps: list, data_dir: Path, db_url: str, redis_url: str,
                            work: Path, docs: int, first: dict) -> list[dict]:
    """``reprocess --all --inline`` under each pattern set of ``steps`` after the first (the
    code unchanged), with the share of texts analysed again; ``first``: the first pass's
    ``seconds_per_doc`` and ``cpu_seconds_per_doc``."""
    global PATTERNS
    out = []
    for k, (what, folder) in enumerate(steps[1:], 1):
        PATTERNS = folder
        counted = work / f"analysed-{k}.txt"
        env = {**_env(data_dir, db_url, redis_url, f"+bench-patterns{k}"),
               "BENCH_COUNT_FILE": str(counted)}
        text, seconds, cpu = _timed_inline_reprocess(env, work / f"cambios-patrones-{k}.csv")
        analysed = rematched = None
        if counted.exists():
            analysed, rematched, *_ = [int(n) for n in counted.read_text().split()] + [None]
        step = {"edit": what, "documents": docs, "analysed_again": analysed,
                "share_analysed": round(analysed / docs, 3) if analysed is not None else None,
                "rematched": rematched,
                "share_rematched": round(rematched / docs, 3) if rematched is not None else None,
                "seconds": round(seconds, 2), "seconds_per_doc": round(seconds / docs, 5),
                "cpu_seconds_per_doc": round(cpu / docs, 5),
                "speedup_wall": round(first["seconds_per_doc"] / (seconds / docs), 1),
                "speedup_cpu": round(first["cpu_seconds_per_doc"] / (cpu / docs), 1)
                if first.get("cpu_seconds_per_doc") else None,
                "output": text.strip()[-200:]}
        print(f"reprocess inline, patterns edited ({what}): {analysed}/{docs} analysed again, "
              f"{rematched}/{docs} checked by matching the edited rules again, "
              f"{step['seconds_per_doc'] * 1000:.2f} ms wall, "
              f"{step['cpu_seconds_per_doc'] * 1000:.2f} ms CPU a document: "
              f"{step['speedup_wall']}× wall, "
              + (f"{step['speedup_cpu']}× CPU" if step["speedup_cpu"] is not None else
                 "CPU not compared (the first pass ran on workers, whose CPU is not read)")
              + f" against the first pass; load {os.getloadavg()[0]:.1f}", flush=True)
        out.append(step)
    PATTERNS = steps[0][1] if steps else None
    return out


# --------------------------------------------------------------------------------------------
# Synthetic: generated text in the database


def synthetic_texts(docs: int, seed: int = 11):
    """The one-page texts of the synthetic documents, in order (20 per organisation)."""
    rng = random.Random(seed)
    for n in range(docs):
        yield _text(rng, f"Organización {n // 20:05d}", n, 1)[0]


def populate_synthetic(db_url: str, docs: int, seed: int = 11) -> list[str]:
    """``docs`` one-page documents (20 per submission) with their text stored as extractions
    of distinct bytes, queued as after an upload; returns the document ids."""
    import hashlib
    from datetime import UTC, datetime

    from sqlalchemy import create_engine, insert

    import extractors
    from service.domain.models import (
        Document,
        Extraction,
        ExtractionPage,
        Organization,
        StoredFile,
        Submission,
    )

    now = datetime.now(UTC)
    engine = create_engine(db_url)
    ids = []
    texts = synthetic_texts(docs, seed)
    with engine.begin() as conn:
        for start in range(0, docs, 1000):
            orgs, subs, files, exts, pages, documents = [], [], [], [], [], []
            for n in range(start, min(docs, start + 1000)):
                if n % 20 == 0:
                    org_id, sub_id = uuid.uuid4().hex, uuid.uuid4().hex
                    orgs.append({"id": org_id, "name": f"Organización {n // 20:05d}",
                                 "created_at": now})
                    subs.append({"id": sub_id, "organization_id": org_id, "created_at": now,
                                 "token_hash": "0" * 64, "source": "batch"})
                text = next(texts)
                sha = hashlib.sha256(f"{seed}-{n}".encode()).hexdigest()
                files.append({"sha256": sha, "size": len(text), "mime": "application/pdf",
                              "created_at": now})
                exts.append({"id": n + 1, "sha256": sha,
                             "extractor_version": extractors.EXTRACTOR_VERSION,
                             "extractor": "pdf:bench", "mime": "application/pdf",
                             "page_count": 1, "ocr_pages": 0, "warnings": [], "seconds": 0.0,
                             "created_at": now})
                pages.append({"extraction_id": n + 1, "number": 1, "text": text, "words": []})
                doc_id = uuid.uuid4().hex
                ids.append(doc_id)
                documents.append({"id": doc_id, "submission_id": sub_id, "name": f"doc-{n}.pdf",
                                  "sha256": sha, "size": len(text), "mime": "application/pdf",
                                  "status": "queued", "stage": "queued", "queue_name": "batch",
                                  "created_at": now, "updated_at": now})
            for model, rows in ((Organization, orgs), (Submission, subs), (StoredFile, files),
                                (Extraction, exts), (ExtractionPage, pages),
                                (Document, documents)):
                if rows:
                    conn.execute(insert(model.__table__), rows)
    engine.dispose()
    return ids


_FIRST_PASS = _PATTERNS_HOOK + """
import json, sys, time
from service.domain import pipeline
from evidencia_queue.worker import warm_up
warm_up()
ids = json.load(open(sys.argv[1]))
cpu, t0 = time.process_time(), time.perf_counter()
done = sum(pipeline.process_document(i)["status"] == "done" for i in ids)
print(json.dumps({"done": done, "seconds": time.perf_counter() - t0,
                  "cpu": time.process_time() - cpu}))
"""


_FIRST_PASS_FILES = _PATTERNS_HOOK + """
import json, sys, time, uuid
from service.db import SessionLocal
from service.domain import pipeline
from service.domain.models import Organization, Submission
from service.domain.submissions import add_files
from evidencia_queue.worker import warm_up
warm_up()
groups = json.load(open(sys.argv[1]))
cpu, t0 = time.process_time(), time.perf_counter()
done = 0
for group in groups:
    with SessionLocal() as session:
        org = Organization(name="Organización " + uuid.uuid4().hex[:8])
        sub = Submission(organization=org, token_hash="0" * 64, source="batch")
        session.add(sub)
        files = [(path.rsplit("/", 1)[-1], open(path, "rb").read()) for path in group]
        ids = [d.id for d in add_files(session, sub, files, queue_name="batch")]
    done += sum(pipeline.process_document(i)["status"] == "done" for i in ids)
print(json.dumps({"done": done, "seconds": time.perf_counter() - t0,
                  "cpu": time.process_time() - cpu}))
"""


def first_pass_files(count: int, db_kind: str, work: Path, redis_url: str) -> dict:
    """The first pass as an upload gets it, on ``count`` of the synthetic texts made into
    one-page PDF files: stored as uploaded (``add_files``: type detection, the file store, a
    queued document, the job put in Redis), then ``process_document`` (extraction of the text
    layer, pages stored, classification, results), in two processes, in a database of its own.
    Only the queue's hand-over is left out (a worker's fork per job: it would make the first
    pass dearer)."""
    folder = work / "files"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n, text in enumerate(synthetic_texts(count)):
        path = folder / f"documento-{n}.pdf"
        path.write_bytes(_pdf([text]))
        paths.append(str(path))
    db_url, pg_name = _fresh_db(db_kind, work, "files")
    env = _env(work / "data-files", db_url, redis_url)
    try:
        subprocess.run([sys.executable, "-m", "service.cli", "db", "upgrade"], env=env,
                       cwd=REPO, check=True, capture_output=True)
        groups = [paths[s : s + 20] for s in range(0, len(paths), 20)]
        procs = []
        t0 = time.perf_counter()
        for k in range(2):
            (work / f"files-{k}.json").write_text(json.dumps(groups[k::2]))
            procs.append(subprocess.Popen([sys.executable, "-c", _FIRST_PASS_FILES,
                                           str(work / f"files-{k}.json")], env=env, cwd=REPO,
                                          stdout=subprocess.PIPE, text=True))
        outs = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
        wall = time.perf_counter() - t0
    finally:
        _flush(redis_url)  # the jobs add_files queued: this pass ran them itself
        _drop_db(pg_name)
    done = sum(o["done"] for o in outs)
    return {"documents": done, "wall_seconds": round(wall, 1),
            "seconds_per_doc_one_process": round(sum(o["seconds"] for o in outs) / done, 4),
            "cpu_seconds_per_doc": round(sum(o["cpu"] for o in outs) / done, 4)}


def synthetic(docs: int, db_kind: str, work: Path, redis_url: str, files: int = 300,
              steps: list | None = None) -> dict:
    """First pass (2 processes) and inline reprocess (1 process) of generated text; then the
    pattern edits of ``steps`` (``pattern_steps``)."""
    data_dir = work / "data-synthetic"
    db_url, pg_name = _fresh_db(db_kind, work, "synthetic")
    env = _env(data_dir, db_url, redis_url)
    try:
        subprocess.run([sys.executable, "-m", "service.cli", "db", "upgrade"], env=env, cwd=REPO,
                       check=True, capture_output=True)
        t0 = time.perf_counter()
        ids = populate_synthetic(db_url, docs)
        populated = time.perf_counter() - t0
        halves = [ids[0::2], ids[1::2]]
        procs = []
        t0 = time.perf_counter()
        for k, half in enumerate(halves):
            (work / f"ids-{k}.json").write_text(json.dumps(half))
            procs.append(subprocess.Popen([sys.executable, "-c", _FIRST_PASS,
                                           str(work / f"ids-{k}.json")], env=env, cwd=REPO,
                                          stdout=subprocess.PIPE, text=True))
        outs = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
        first_wall = time.perf_counter() - t0
        done = sum(o["done"] for o in outs)
        first = {"documents": done, "wall_seconds": round(first_wall, 1),
                 "seconds_per_doc_one_process": round(sum(o["seconds"] for o in outs) / done, 4),
                 "cpu_seconds_per_doc": round(sum(o["cpu"] for o in outs) / done, 4)}
        print(f"synthetic first pass: {first}", flush=True)
        out = {"documents": docs, "populate_seconds": round(populated, 1), "first_pass": first}
        # a change of the rules (readings dropped), then of the decision alone (readings kept)
        for rules_changed in (True, False):
            tag, words = _case(rules_changed)
            if rules_changed:
                _forget_readings(data_dir)
            renv = _env(data_dir, db_url, redis_url, f"+bench-synthetic{tag}")
            text, seconds, cpu = _timed_inline_reprocess(
                renv, work / f"cambios-sintetico{tag}.csv")
            counts = _db_counts(db_url)
            again = {"case": words, "documents": docs, "seconds": round(seconds, 1),
                     "seconds_per_doc": round(seconds / docs, 5),
                     "cpu_seconds_per_doc": round(cpu / docs, 5),
                     "classifications": counts["classifications"],
                     "output": text.strip()[-300:]}
            print(f"synthetic reprocess inline, {words}: {again}", flush=True)
            key = "rules_changed" if rules_changed else "decision_changed"
            out[f"reprocess_inline_{key}"] = again
            out[f"speedup_per_document_{key}"] = round(
                first["seconds_per_doc_one_process"] / again["seconds_per_doc"], 1)
            out[f"speedup_per_document_cpu_{key}"] = round(
                first["cpu_seconds_per_doc"] / again["cpu_seconds_per_doc"], 1)
        if steps:
            out["reprocess_inline_patterns_edited"] = reprocess_pattern_edits(
                steps, data_dir, db_url, redis_url, work, docs,
                {"seconds_per_doc": first["seconds_per_doc_one_process"],
                 "cpu_seconds_per_doc": first["cpu_seconds_per_doc"]})
    finally:
        _drop_db(pg_name)
    if files:
        real = first_pass_files(min(files, docs), db_kind, work, redis_url)
        print(f"synthetic first pass of files (upload, extraction, classification): {real}",
              flush=True)
        out["first_pass_files"] = real
        for key in ("rules_changed", "decision_changed"):
            again = out[f"reprocess_inline_{key}"]
            out[f"speedup_per_document_files_{key}"] = round(
                real["seconds_per_doc_one_process"] / again["seconds_per_doc"], 1)
            out[f"speedup_per_document_files_cpu_{key}"] = round(
                real["cpu_seconds_per_doc"] / again["cpu_seconds_per_doc"], 1)
        for step in out.get("reprocess_inline_patterns_edited", ()):
            step["speedup_wall_files"] = round(
                real["seconds_per_doc_one_process"] / step["seconds_per_doc"], 1)
            step["speedup_cpu_files"] = round(
                real["cpu_seconds_per_doc"] / step["cpu_seconds_per_doc"], 1)
            print(f"  patterns edited ({step['edit']}): against the first pass of the same "
                  f"texts as uploaded files {step['speedup_wall_files']}× wall, "
                  f"{step['speedup_cpu_files']}× CPU", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--docs", type=int, default=200)
    p.add_argument("--scan-share", type=float, default=0.2,
                   help="share of documents that need OCR (scanned PDFs and photos)")
    p.add_argument("--workers", default="1,2", help="worker counts of the first pass")
    p.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    p.add_argument("--redis-db", type=int, default=11)
    p.add_argument("--work", help="folder for the archive and databases (default: temporary)")
    p.add_argument("--json", help="write the figures here too")
    p.add_argument("--keep", action="store_true", help="keep the work folder and databases")
    p.add_argument("--synthetic", type=int, default=0,
                   help="instead of an archive: this many documents of generated text")
    p.add_argument("--files", type=int, default=300,
                   help="with --synthetic: how many of them also go through the first pass as "
                        "real PDF files (upload, extraction, classification); 0 for none")
    p.add_argument("--pattern-commits", type=int, default=3,
                   help="replay this many of the last commits of classifiers/patterns after "
                        "the first pass (which runs with the patterns before them); 0: none")
    args = p.parse_args(argv)
    global PATTERNS
    if args.redis_db == 0:
        p.error("Redis database 0 is the application's: choose another")
    redis_url = f"redis://127.0.0.1:6379/{args.redis_db}"
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="bench-batch-"))
    work.mkdir(parents=True, exist_ok=True)
    results: dict = {"machine": {"cpus": os.cpu_count()}, "db": args.db}
    phases = []
    steps = pattern_steps(work, args.pattern_commits)
    PATTERNS = steps[0][1] if steps else None
    results["pattern_steps"] = [what for what, _folder in steps]
    if args.synthetic:
        try:
            results["synthetic"] = found = synthetic(args.synthetic, args.db, work, redis_url,
                                                     args.files, steps)
            for key in ("rules_changed", "decision_changed"):
                print(f"synthetic reprocess speed-up per document, {key.replace('_', ' ')} "
                      f"(target ≥ 50×): against the first pass of stored text "
                      f"{found[f'speedup_per_document_{key}']}× wall, "
                      f"{found[f'speedup_per_document_cpu_{key}']}× CPU", flush=True)
                if "first_pass_files" in found:
                    print(f"  against the first pass of the same texts as uploaded files "
                          f"{found[f'speedup_per_document_files_{key}']}× wall, "
                          f"{found[f'speedup_per_document_files_cpu_{key}']}× CPU", flush=True)
            results["load_average"] = os.getloadavg()
            if args.json:
                Path(args.json).write_text(json.dumps(results, indent=2, ensure_ascii=False))
        finally:
            if not args.work:
                shutil.rmtree(work, ignore_errors=True)
        return 0
    try:
        t0 = time.perf_counter()
        built = build_archive(work / "archivo", args.docs, args.scan_share)
        built["seconds"] = round(time.perf_counter() - t0, 1)
        results["archive"] = built
        print(f"archive: {built}", flush=True)
        for n in [int(x) for x in args.workers.split(",")]:
            phase = first_pass(work / "archivo", n, args.db, work, redis_url)
            phases.append(phase)
            print(f"first pass, {n} worker(s): {phase['docs_per_minute']} docs/min "
                  f"(steady {phase['steady_docs_per_minute']}) "
                  f"({phase['process_seconds']} s for {phase['documents']} docs, "
                  f"workers warmed in {phase['worker_warmup_seconds']} s); "
                  f"peak RSS {phase['peak_process_mb']} MB/process, "
                  f"peak PSS {phase['peak_worker_tree_mb']} MB/worker with its children; "
                  f"{phase['counts']}", flush=True)
        results["first_pass"] = [{k: v for k, v in ph.items() if k not in ("db_url", "pg_name")}
                                 for ph in phases]
        last = phases[-1]
        by_workers = {ph["workers"]: ph for ph in phases}
        results["reprocess"], ratios = [], {}
        # a change of the rules first (the readings dropped, then written again), then of the
        # decision alone (the readings kept): the bench's version suffix changes neither
        for rules_changed in (True, False):
            key = "rules_changed" if rules_changed else "decision_changed"
            inline = reprocess_inline(last, redis_url, work, rules_changed)
            print(f"reprocess {inline['mode']}: {inline['docs_per_minute']} docs/min "
                  f"(steady {inline['steady_docs_per_minute']}) "
                  f"({inline['seconds']} s, {inline['cpu_seconds']} CPU s)", flush=True)
            queued = reprocess_queued(last, last["workers"], redis_url, work, rules_changed)
            print(f"reprocess {queued['mode']}: {queued['docs_per_minute']} docs/min "
                  f"(steady {queued['steady_docs_per_minute']}) "
                  f"({queued['seconds']} s); peak RSS {queued['peak_process_mb']} MB/process",
                  flush=True)
            results["reprocess"] += [inline, queued]
            if 1 in by_workers:
                ratios[f"{key}_inline_vs_first_pass_1_worker"] = round(
                    by_workers[1]["seconds_per_doc"] / inline["seconds_per_doc"], 1)
            ratios[f"{key}_queued_vs_first_pass_{last['workers']}_workers"] = round(
                last["seconds_per_doc"] / queued["seconds_per_doc"], 1)
            if 1 in by_workers and inline.get("steady_seconds_per_doc"):
                ratios[f"{key}_steady_inline_vs_first_pass_1_worker"] = round(
                    by_workers[1]["steady_seconds_per_doc"] / inline["steady_seconds_per_doc"],
                    1)
            if queued.get("steady_seconds_per_doc"):
                ratios[f"{key}_steady_queued_vs_first_pass_{last['workers']}_workers"] = round(
                    last["steady_seconds_per_doc"] / queued["steady_seconds_per_doc"], 1)
        results["speedup_per_document"] = ratios
        print(f"reprocess speed-up per document (target ≥ 50×): {ratios}", flush=True)
        if steps and 1 in by_workers:
            one = by_workers[1]
            docs = one["documents"] - one["counts"]["status"].get("error", 0)
            results["reprocess_inline_patterns_edited"] = reprocess_pattern_edits(
                steps, Path(last["data_dir"]), last["db_url"], redis_url, work, docs,
                {"seconds_per_doc": one["seconds_per_doc"]})
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=2, ensure_ascii=False))
    finally:
        _flush(redis_url)
        if not args.keep:
            for ph in phases:
                _drop_db(ph.get("pg_name"))
            if not args.work:
                shutil.rmtree(work, ignore_errors=True)
    return 0


def _cli(argv: list[str]) -> int:
    """``evidencia`` with BENCH_VERSION_SUFFIX appended to the classifier version, the patterns
    of BENCH_PATTERNS_DIR, and with BENCH_COUNT_FILE the number of texts analysed (rather
    than read from the reading cache) written there at exit."""
    exec(_PATTERNS_HOOK, {})
    count_file = os.environ.get("BENCH_COUNT_FILE")
    if count_file:
        import atexit

        from classifiers import engine, pattern_sets

        analyse, same_matches, counted = engine.analyse, pattern_sets.Change.same_matches, [0, 0]

        def counting(doc):
            counted[0] += 1
            return analyse(doc)

        def rematching(self, doc, rule_ids):
            counted[1] += 1
            return same_matches(self, doc, rule_ids)

        engine.analyse = counting
        pattern_sets.Change.same_matches = rematching
        atexit.register(lambda: Path(count_file).write_text(f"{counted[0]} {counted[1]}"))
    suffix = os.environ.get("BENCH_VERSION_SUFFIX", "")
    if suffix:
        import classifiers

        classifiers.CLASSIFIER_VERSION = classifiers.CLASSIFIER_VERSION + suffix
    from service.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_cli":
        sys.exit(_cli(sys.argv[2:]))
    sys.exit(main())
