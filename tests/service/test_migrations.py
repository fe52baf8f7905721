"""Migrations form one chain: two migrations landed from the same parent give alembic two heads,
and `upgrade head` then refuses to run on every deployment. A migration that changes a table
holding rows is run over rows stored before it, on SQLite and PostgreSQL, up and down."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, inspect, text

from service.migrate import current_heads


def test_migrations_have_one_head():
    assert len(current_heads()) == 1, current_heads()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path):
    """A database of its own with nothing in it: a SQLite file or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'evidencia.db'}"
        return
    from service.db import engine_for
    from tests.conftest import PG_ADMIN_URL, drop_database

    name = f"evidencia_mig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    engine_for(url).dispose()
    drop_database(name)


def test_0013_links_a_replacement_to_what_it_replaced_and_keeps_older_rows(empty_database):
    """``documents.replaces_id`` (what tells the reviewer «acta.pdf → acta-firmada.pdf"):
    added over rows stored before (they keep NULL), a foreign key to ``documents``, and taken
    away again by the downgrade with the rows intact."""
    from alembic import command

    from service.migrate import alembic_config, upgrade

    url = empty_database
    upgrade(url, "0012_documents_extraction_index")
    engine = create_engine(url)
    with engine.begin() as conn:
        _one_document(conn, "queued")
    engine.dispose()

    upgrade(url)
    engine = create_engine(url)
    assert "replaces_id" in {c["name"] for c in inspect(engine).get_columns("documents")}
    assert any(fk["constrained_columns"] == ["replaces_id"] and fk["referred_table"] == "documents"
               for fk in inspect(engine).get_foreign_keys("documents"))
    with engine.begin() as conn:
        assert conn.execute(text("SELECT replaces_id FROM documents")).scalar_one() is None
        conn.execute(text(
            "INSERT INTO documents (id, submission_id, name, size, status, stage, queue_name, "
            "attempts, force_ocr, replaces_id, created_at, updated_at) VALUES ('d2', 's1', "
            "'acta-firmada.pdf', 0, 'queued', 'queued', 'interactive', 0, false, 'd1', "
            "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
    engine.dispose()

    command.downgrade(alembic_config(url), "0012_documents_extraction_index")
    engine = create_engine(url)
    assert "replaces_id" not in {c["name"] for c in inspect(engine).get_columns("documents")}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM documents")).scalar_one() == 2
    engine.dispose()


def test_0014_records_what_a_decision_rests_on_and_keeps_older_decisions(empty_database):
    """``decision_documents`` (the documents a confirmation naming none rests on): created over
    decisions stored before (they have no record, so they keep holding as they did), each row
    a decision and a document by foreign key, one row per pair; dropped by the downgrade with
    the decisions intact."""
    from alembic import command
    from sqlalchemy.exc import IntegrityError

    from service.migrate import alembic_config, upgrade

    url = empty_database
    upgrade(url, "0013_document_replaces")
    engine = create_engine(url)
    with engine.begin() as conn:
        _one_document(conn, "done")
        conn.execute(text("INSERT INTO users (id, username, password_hash, role, created_at) "
                          "VALUES (1, 'ana', 'x', 'reviewer', CURRENT_TIMESTAMP)"))
        conn.execute(text(
            "INSERT INTO decisions (id, submission_id, commitment, action, reviewer_id, "
            "created_at) VALUES (1, 's1', 'c1', 'confirm', 1, CURRENT_TIMESTAMP)"))
    engine.dispose()

    upgrade(url)
    engine = create_engine(url)
    assert {c["name"] for c in inspect(engine).get_columns("decision_documents")} == {
        "decision_id", "document_id"}
    assert sorted(inspect(engine).get_pk_constraint("decision_documents")[
        "constrained_columns"]) == ["decision_id", "document_id"]
    assert {(tuple(fk["constrained_columns"]), fk["referred_table"])
            for fk in inspect(engine).get_foreign_keys("decision_documents")} == {
        (("decision_id",), "decisions"), (("document_id",), "documents")}
    with engine.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM decision_documents")).scalar_one() == 0
        conn.execute(text("INSERT INTO decisions (id, submission_id, commitment, action, "
                          "reviewer_id, created_at) VALUES (2, 's1', 'c1', 'confirm', 1, "
                          "CURRENT_TIMESTAMP)"))
        conn.execute(text("INSERT INTO decision_documents (decision_id, document_id) "
                          "VALUES (2, 'd1')"))
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text("INSERT INTO decision_documents (decision_id, document_id) "
                          "VALUES (2, 'd1')"))
    engine.dispose()

    command.downgrade(alembic_config(url), "0013_document_replaces")
    engine = create_engine(url)
    assert "decision_documents" not in inspect(engine).get_table_names()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM decisions")).scalar_one() == 2
    engine.dispose()


def _one_document(conn, status: str) -> None:
    """An organisation, its submission and one document ``d1`` («acta.pdf») in ``status``,
    written as rows the migration under test finds already stored."""
    conn.execute(text("INSERT INTO organizations (id, name, rut, created_at) "
                      "VALUES ('o1', 'ONG', '76543210-3', CURRENT_TIMESTAMP)"))
    conn.execute(text(
        "INSERT INTO submissions (id, organization_id, token_hash, source, status, "
        "version, created_at) VALUES ('s1', 'o1', 'h', 'upload', 'borrador', 1, "
        "CURRENT_TIMESTAMP)"))
    conn.execute(text(
        "INSERT INTO documents (id, submission_id, name, size, status, stage, queue_name, "
        "attempts, force_ocr, created_at, updated_at) VALUES ('d1', 's1', 'acta.pdf', 0, "
        ":status, :status, 'interactive', 0, false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
        {"status": status})
