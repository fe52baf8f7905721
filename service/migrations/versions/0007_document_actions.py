"""document actions: an applicant removes or replaces a document; a reviewer forces OCR

``removed_at``: the document no longer counts (its row, results and decisions stay: the history
keeps them). ``force_ocr``: its next extraction reads every page with OCR.

Revision ID: 0007_document_actions
Revises: 0006_idempotency_keys
Create Date: 2026-12-05 07:40:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0007_document_actions"
down_revision: Union[str, Sequence[str], None] = "0006_idempotency_keys"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch_op:
        batch_op.add_column(sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("force_ocr", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch_op:
        batch_op.drop_column("force_ocr")
        batch_op.drop_column("removed_at")
