"""commitment results: what the rules alone decided (the mean of the rules and the learned
model decides since the eighth round, and may overturn them)

Revision ID: 0011_rules_supported
Revises: 0010_org_names_undo
Create Date: 2026-12-06 23:40:00

Rows stored before keep NULL: not known.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0011_rules_supported'
down_revision: Union[str, Sequence[str], None] = '0010_org_names_undo'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('commitment_results') as batch:
        batch.add_column(sa.Column('rules_supported', sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('commitment_results') as batch:
        batch.drop_column('rules_supported')
