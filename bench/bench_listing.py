"""Reviewers' list and dashboard at scale: each list filter (first page, default order, and a
few orders) and the dashboard, on a synthetic database of 5,000 submissions / 25,000 documents
with realistic decisions, on SQLite and PostgreSQL.

The data is generated from a seed, so two checkouts get the same rows: ``--checkout DIR`` (more
than once) builds one database per checkout with that checkout's migrations and measures it with
that checkout's code (a subprocess with ``PYTHONPATH=DIR``), alternating checkouts round by
round. Rows are inserted through the reflected tables, so a checkout without
``decision_documents`` (before migration 0014) simply gets none. Usage::

    .venv/bin/python bench/bench_listing.py [--checkout /work/wt/main-copy ...]
        [--database sqlite|postgresql|both] [--rounds 3] [--repeat 3]
        [--pg-admin postgresql+psycopg://postgres@127.0.0.1:5432/test]

Per round and checkout: the median of ``--repeat`` runs of each query, in milliseconds of wall
time and of this process's CPU time (``[cpu]``: on SQLite all the query's work, steadier than
wall time on a shared machine; on PostgreSQL the client's share only); the report gives each
query's median over rounds (min-max) and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
COMMITMENTS = ("c1", "c2", "c3", "c4", "c5")
STATUSES = (("borrador", 0.15), ("enviada", 0.3), ("en_revision", 0.2), ("observada", 0.1),
            ("aprobada", 0.15), ("no_aprobada", 0.1))


def _rows(seed: int, submissions: int, docs_each: int) -> dict[str, list[dict]]:
    """Every table's rows, deterministic in ``seed``: ~7 decision entries a submission (35,000
    at 5,000), a tenth of the documents removed or replaced, half the confirmations resting on
    the documents that supported the commitment (``decision_documents``)."""
    rng = random.Random(seed)
    t0 = datetime(2026, 6, 1, tzinfo=UTC)
    out: dict[str, list[dict]] = {k: [] for k in (
        "users", "organizations", "submissions", "stored_files", "documents", "classifications",
        "commitment_results", "decisions", "decision_documents")}
    for u in range(1, 6):
        out["users"].append({"id": u, "username": f"revisora{u}", "password_hash": "x",
                             "role": "reviewer", "created_at": t0, "active": True})
    cls_id = res_id = dec_id = 0
    statuses, weights = zip(*STATUSES, strict=True)
    for s in range(submissions):
        org = f"org{s:028d}"
        sid = f"sub{s:029d}"
        created = t0 + timedelta(minutes=37 * s)
        status = rng.choices(statuses, weights)[0]
        out["organizations"].append({"id": org, "name": f"Organización {rng.randrange(10**6)}",
                                     "rut": f"{70000000 + s}-{s % 10}", "created_at": created})
        out["submissions"].append({
            "id": sid, "organization_id": org, "token_hash": f"{s:064d}", "source": "upload",
            "created_at": created, "status": status,
            "assigned_to_id": rng.randint(1, 5) if status != "borrador" and rng.random() < 0.6
            else None,
            "submitted_at": created + timedelta(hours=1) if status != "borrador" else None,
            "version": 0})
        supporting: dict[str, list[str]] = {c: [] for c in COMMITMENTS}
        live_docs, removed_docs, shas = [], set(), set()
        for d in range(docs_each):
            did = f"doc{s:023d}{d:06d}"
            sha = f"{s:058d}{d if rng.random() > 0.05 else 0:06d}"  # ~5 % duplicates
            if sha not in shas:
                shas.add(sha)
                out["stored_files"].append({"sha256": sha, "size": 1000, "mime": "application/pdf",
                                            "created_at": created})
            r = rng.random()
            doc_status = "done" if r < 0.9 else "error" if r < 0.96 else "queued"
            removed = created + timedelta(days=2) if rng.random() < 0.1 else None
            out["documents"].append({
                "id": did, "submission_id": sid, "name": f"doc-{d}.pdf", "sha256": sha,
                "size": 1000, "mime": "application/pdf", "status": doc_status, "stage": "done",
                "queue_name": "interactive", "attempts": 1, "removed_at": removed,
                "force_ocr": False, "created_at": created + timedelta(seconds=d),
                "updated_at": created})
            (removed_docs.add(did) if removed else live_docs.append(did))
            if doc_status != "done":
                continue
            for version in range(1 + (rng.random() < 0.2)):  # a fifth reclassified
                cls_id += 1
                out["classifications"].append({
                    "id": cls_id, "document_id": did, "classifier_version": f"v{version}",
                    "doc_type": "acta", "created_at": created})
                for c in COMMITMENTS:
                    res_id += 1
                    supported = rng.random() < 0.3
                    out["commitment_results"].append({
                        "id": res_id, "classification_id": cls_id, "commitment": c,
                        "supported": supported, "confidence": 0.5, "evidence": []})
                    if supported:
                        supporting[c].append(did)
        # ~7 entries: decisions, a few undone, comments; a confirmation naming no document
        # rests on the documents supporting the commitment (some since removed)
        entries = 7 if status != "borrador" else rng.randint(0, 3)
        stacks: dict[str, list[int]] = {c: [] for c in COMMITMENTS}
        for _ in range(entries):
            c = rng.choice(COMMITMENTS)
            dec_id += 1
            row = {"id": dec_id, "submission_id": sid, "commitment": c, "action": None,
                   "document_id": None, "undoes_id": None, "reviewer_id": rng.randint(1, 5),
                   "created_at": created + timedelta(hours=2, minutes=dec_id % 600)}
            r = rng.random()
            if r < 0.45:
                row["action"] = "confirm"
                docs = sorted(set(supporting[c]) or set(rng.sample(
                    live_docs + sorted(removed_docs), k=min(1, docs_each))))
                if rng.random() < 0.7:
                    for doc in docs[:3]:
                        out["decision_documents"].append({"decision_id": dec_id,
                                                          "document_id": doc})
            elif r < 0.65:
                row["action"] = "reject"
            elif r < 0.8:
                row["action"] = "attach"
                row["document_id"] = rng.choice(live_docs + sorted(removed_docs))
            elif r < 0.9 and stacks[c]:
                row["action"] = "undo"
                row["undoes_id"] = stacks[c].pop()
            else:
                row["action"] = "comment"
            if row["action"] in ("confirm", "reject", "attach"):
                stacks[c].append(dec_id)
            out["decisions"].append(row)
    return out


def populate(url: str, seed: int, submissions: int, docs_each: int) -> dict[str, int]:
    from sqlalchemy import MetaData, text

    from service.db import engine_for
    from service.migrate import upgrade

    upgrade(url)
    engine = engine_for(url)
    meta = MetaData()
    meta.reflect(engine)
    rows = _rows(seed, submissions, docs_each)
    counts = {}
    with engine.begin() as conn:
        for name, table_rows in rows.items():
            if name not in meta.tables:
                continue
            table = meta.tables[name]
            for start in range(0, len(table_rows), 5000):
                conn.execute(table.insert(), table_rows[start:start + 5000])
            counts[name] = len(table_rows)
        if engine.dialect.name == "postgresql":
            for seq_table in ("users", "classifications", "commitment_results", "decisions"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{seq_table}', 'id'), "
                                  f"(SELECT max(id) FROM {seq_table}))"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))
    return counts


def _cases():
    from service.domain.listing import ListFilter, ListOrder, ListQuery

    cases = {f"list {f.value}": ListQuery(filter=f, reviewer_id=2) for f in ListFilter}
    cases["list all by confirmed"] = ListQuery(order=ListOrder.confirmed)
    cases["list all by detected"] = ListQuery(order=ListOrder.detected)
    cases["list missing, page 20"] = ListQuery(filter=ListFilter.missing, offset=950)
    return cases


def measure(url: str, repeat: int) -> dict[str, float]:
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from service.db import engine_for
    from service.domain.dashboard import load_dashboard
    from service.domain.listing import list_submissions
    from service.domain.matrix import in_force_query

    engine = engine_for(url)
    out: dict[str, float] = {}

    def timed(name, fn):
        times, cpu = [], []
        for _ in range(repeat + 1):  # the first run warms caches and is not counted
            with Session(engine) as session:
                t, c = time.perf_counter(), time.process_time()
                fn(session)
                times.append(time.perf_counter() - t)
                cpu.append(time.process_time() - c)
        out[name] = 1000 * statistics.median(times[1:])
        # this process's CPU: all of SQLite's work, only the client's on PostgreSQL
        out[f"{name} [cpu]"] = 1000 * statistics.median(cpu[1:])

    for name, q in _cases().items():
        timed(name, lambda s, q=q: list_submissions(s, q))
    timed("dashboard", load_dashboard)
    timed("in-force query (count)", lambda s: s.scalar(
        select(func.count()).select_from(in_force_query().subquery())))
    return out


def _child(args) -> int:
    if args.populate:
        print(json.dumps(populate(args.url, args.seed, args.submissions, args.docs)))
    else:
        print(json.dumps(measure(args.url, args.repeat)))
    return 0


def _run(checkout: str, *extra: str) -> dict:
    env = {**os.environ, "PYTHONPATH": checkout, "OMP_THREAD_LIMIT": "1"}
    env.setdefault("EVIDENCIA_SECRET_KEY", "clave-de-medicion-" + os.urandom(8).hex())
    done = subprocess.run([sys.executable, __file__, "--child", *extra], env=env, cwd=checkout,
                          check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _pg_database(admin_url: str, name: str) -> str:
    from sqlalchemy import create_engine, text

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--checkout", action="append", default=None,
                   help="a checkout to measure (repeatable; default: this one)")
    p.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    p.add_argument("--pg-admin", default=os.environ.get("EVIDENCIA_BENCH_PG", PG_ADMIN))
    p.add_argument("--submissions", type=int, default=5000)
    p.add_argument("--docs", type=int, default=5, help="documents a submission")
    p.add_argument("--seed", type=int, default=20261208)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--keep", action="store_true", help="keep the PostgreSQL databases")
    p.add_argument("--json", action="store_true")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--populate", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--url", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        return _child(args)

    checkouts = [str(Path(c).resolve()) for c in (args.checkout or [str(REPO)])]
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    tmp = Path(tempfile.mkdtemp(prefix="evidencia-bench-listing-"))
    urls: dict[tuple[str, str], str] = {}
    pg_names = []
    for kind in kinds:
        for i, checkout in enumerate(checkouts):
            if kind == "sqlite":
                url = f"sqlite:///{tmp / f'checkout{i}.db'}"
            else:
                name = f"evidencia_bench_listing_{os.getpid()}_{i}"
                url = _pg_database(args.pg_admin, name)
                pg_names.append(name)
            t = time.perf_counter()
            counts = _run(checkout, "--populate", "--url", url, "--seed", str(args.seed),
                          "--submissions", str(args.submissions), "--docs", str(args.docs))
            print(f"{kind} {checkout}: populated in {time.perf_counter() - t:.0f} s: {counts}",
                  file=sys.stderr)
            urls[(kind, checkout)] = url
    results: dict = {}
    loads = []
    for r in range(args.rounds):
        order = checkouts if r % 2 == 0 else checkouts[::-1]  # alternate who goes first
        for kind in kinds:
            for checkout in order:
                loads.append(os.getloadavg()[0])
                ms = _run(checkout, "--url", urls[(kind, checkout)], "--repeat",
                          str(args.repeat))
                for name, v in ms.items():
                    results.setdefault(kind, {}).setdefault(name, {}).setdefault(
                        checkout, []).append(v)
                print(f"round {r + 1} {kind} {checkout} done (load {loads[-1]:.1f})",
                      file=sys.stderr)
    if not args.keep:
        from sqlalchemy import create_engine, text

        admin = create_engine(args.pg_admin, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in pg_names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    results["load_average_1min"] = [min(loads), max(loads)]
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    for kind in kinds:
        print(f"\n{kind} (ms; median over {args.rounds} rounds of the median of {args.repeat}, "
              "min-max)")
        print(f"{'':34}" + "".join(f"{Path(c).name:>24}" for c in checkouts))
        for name, per in results[kind].items():
            cells = []
            for c in checkouts:
                v = per[c]
                cells.append(f"{statistics.median(v):8.0f} ({min(v):.0f}-{max(v):.0f})")
            print(f"{name:34}" + "".join(f"{cell:>24}" for cell in cells))
    print(f"\nload average (1 min) during the runs: {min(loads):.1f}-{max(loads):.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
