"""A decision sent in the same instant as the final verdict (issue: the lock check read the
status, then wrote without a row lock): the two serialize on the submission's row lock
(``workflow.lock``), so the decision waits for the verdict's commit and gets the 409."""

from __future__ import annotations

import threading
import time

from sqlalchemy import event, select, text
from sqlalchemy.orm import sessionmaker

WAIT = 20  # seconds: the most any step of the test waits (nothing here hangs past it)


def _waiting_on_a_lock(engine, pid: int) -> bool:
    """Whether PostgreSQL backend ``pid`` waits for a lock (a new transaction per look:
    pg_stat_activity is a snapshot per transaction)."""
    with engine.connect() as conn:
        return conn.execute(text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :p"),
                            {"p": pid}).scalar() == "Lock"


def test_a_decision_waits_for_the_verdict_then_is_refused(db_session, seeded):
    from service.domain import decisions, workflow
    from service.domain.errors import ServiceError
    from service.domain.models import Decision, Submission, User

    sub = seeded["full"]
    reviewer = db_session.scalar(select(User).where(User.username == "r"))
    sub.status, sub.assigned_to_id = "en_revision", reviewer.id
    db_session.commit()
    sid, rid = sub.id, reviewer.id
    engine = db_session.get_bind()
    postgres = engine.dialect.name == "postgresql"
    make = sessionmaker(bind=engine)
    holding, release = threading.Event(), threading.Event()
    outcome: dict = {}

    def verdict() -> None:  # session A: the verdict's transaction, held open before its commit
        with make() as a:
            def hold(_session) -> None:
                holding.set()
                release.wait(WAIT)

            event.listen(a, "before_commit", hold)
            if postgres:
                a.execute(text(f"SET lock_timeout = '{WAIT}s'"))
            try:
                workflow.review(a, a.get(Submission, sid), a.get(User, rid), "aprobada")
                outcome["verdict"] = "committed"
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                outcome["verdict"] = exc

    def decision() -> None:  # session B: a decision sent meanwhile
        with make() as b:
            if postgres:
                b.execute(text(f"SET lock_timeout = '{WAIT}s'"))
                outcome["pid"] = b.execute(text("SELECT pg_backend_pid()")).scalar()
            try:
                decisions.record_decision(b, sid, "c1", "comment", b.get(User, rid),
                                          comment="Al mismo tiempo.")
                outcome["decision"] = "recorded"
            except ServiceError as exc:
                outcome["decision"] = exc.code

    a_thread = threading.Thread(target=verdict, daemon=True)
    b_thread = threading.Thread(target=decision, daemon=True)
    try:
        a_thread.start()
        assert holding.wait(WAIT), "the verdict's transaction never reached its commit"
        b_thread.start()
        deadline = time.monotonic() + WAIT
        if postgres:  # B is seen waiting for A's row lock
            while "pid" not in outcome or not _waiting_on_a_lock(engine, outcome["pid"]):
                assert b_thread.is_alive(), f"the decision did not wait: {outcome}"
                assert time.monotonic() < deadline, "the decision never waited for the lock"
                time.sleep(0.02)
        else:  # SQLite: no view of waiters; B has had time to get through if it could
            b_thread.join(1.0)
        assert b_thread.is_alive() and "decision" not in outcome, outcome
    finally:
        release.set()
        a_thread.join(WAIT)
        b_thread.join(WAIT)
    assert not a_thread.is_alive() and not b_thread.is_alive()
    assert outcome["verdict"] == "committed" and outcome["decision"] == "decisions_locked"
    db_session.rollback()
    assert db_session.get(Submission, sid).status == "aprobada"
    assert db_session.scalar(select(Decision.id).where(Decision.comment == "Al mismo tiempo.")
                             ) is None
