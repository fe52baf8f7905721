"""Migrations form one chain: two migrations landed from the same parent give alembic two heads,
and `upgrade head` then refuses to run on every deployment."""

from __future__ import annotations

from service.migrate import current_heads


def test_migrations_have_one_head():
    assert len(current_heads()) == 1, current_heads()
