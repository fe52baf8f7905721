"""search: accent- and case-insensitive full text over the documents' pages

PostgreSQL: the ``unaccent`` extension, a text search configuration ``evidencia_es`` (Spanish
stemming after ``unaccent``), a GIN index on the pages' text under it, and ``evidencia_fold``
(lower case without accents) for names. SQLite: an FTS5 table ``page_search`` over
``extraction_pages`` (``unicode61 remove_diacritics 2``), kept in step by triggers on every write
of a page (``service.db`` registers ``evidencia_fold`` on each connection). A later migration
that rebuilds ``extraction_pages`` in SQLite batch mode drops the triggers: it must recreate them
(:func:`sqlite_triggers`).

Revision ID: 0003_search
Revises: 0002
Create Date: 2026-12-05 07:30:00
"""
from typing import Sequence, Union

from alembic import op

revision: str = "0003_search"
down_revision: Union[str, Sequence[str], None] = "0002"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_SQLITE_TRIGGERS = [
    """CREATE TRIGGER page_search_insert AFTER INSERT ON extraction_pages BEGIN
         INSERT INTO page_search(rowid, text) VALUES (new.id, new.text);
       END""",
    """CREATE TRIGGER page_search_delete AFTER DELETE ON extraction_pages BEGIN
         INSERT INTO page_search(page_search, rowid, text) VALUES ('delete', old.id, old.text);
       END""",
    """CREATE TRIGGER page_search_update AFTER UPDATE OF text ON extraction_pages BEGIN
         INSERT INTO page_search(page_search, rowid, text) VALUES ('delete', old.id, old.text);
         INSERT INTO page_search(rowid, text) VALUES (new.id, new.text);
       END""",
]


def sqlite_triggers() -> list[str]:
    return list(_SQLITE_TRIGGERS)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE page_search USING fts5(text, content='extraction_pages', "
            "content_rowid='id', tokenize='unicode61 remove_diacritics 2')"
        )
        for trigger in _SQLITE_TRIGGERS:
            op.execute(trigger)
        op.execute("INSERT INTO page_search(page_search) VALUES ('rebuild')")
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    schema = op.get_bind().exec_driver_sql(
        "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'unaccent'"
    ).scalar_one()
    op.execute("CREATE TEXT SEARCH CONFIGURATION evidencia_es (COPY = pg_catalog.spanish)")
    op.execute(
        "ALTER TEXT SEARCH CONFIGURATION evidencia_es ALTER MAPPING FOR hword, hword_part, word "
        f"WITH {schema}.unaccent, spanish_stem"
    )
    op.execute(
        "CREATE FUNCTION evidencia_fold(text) RETURNS text LANGUAGE sql IMMUTABLE STRICT "
        f"PARALLEL SAFE AS $$ SELECT lower({schema}.unaccent('{schema}.unaccent', $1)) $$"
    )
    op.execute(
        "CREATE INDEX ix_extraction_pages_search ON extraction_pages "
        "USING gin (to_tsvector('evidencia_es'::regconfig, text))"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("page_search_insert", "page_search_delete", "page_search_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS page_search")
        return
    op.execute("DROP INDEX IF EXISTS ix_extraction_pages_search")
    op.execute("DROP FUNCTION IF EXISTS evidencia_fold(text)")
    op.execute("DROP TEXT SEARCH CONFIGURATION IF EXISTS evidencia_es")
