"""model trainings: each `evidencia train` run with both models' scores

Revision ID: 0004
Revises: 0003_search
Create Date: 2026-12-05 07:20:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003_search'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('model_trainings',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('promoted', sa.Boolean(), nullable=False),
    sa.Column('version_before', sa.String(length=60), nullable=False),
    sa.Column('version_after', sa.String(length=60), nullable=False),
    sa.Column('candidate_checksum', sa.String(length=64), nullable=False),
    sa.Column('data_fingerprint', sa.String(length=64), nullable=False),
    sa.Column('candidate_scores', sa.JSON(), nullable=False),
    sa.Column('current_scores', sa.JSON(), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    op.drop_table('model_trainings')
