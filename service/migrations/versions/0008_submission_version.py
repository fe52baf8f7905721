"""submissions.version: a stamp bumped with every change their status or matrix shows

Revision ID: 0008_submission_version
Revises: 0007_document_actions
Create Date: 2026-12-05 08:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = "0008_submission_version"
down_revision: Union[str, Sequence[str], None] = "0007_document_actions"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch_op:
        batch_op.add_column(
            sa.Column("version", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("submissions") as batch_op:
        batch_op.drop_column("version")
