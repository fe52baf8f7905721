"""documents: an index on extraction_id

Revision ID: 0012_documents_extraction_index
Revises: 0011_rules_supported
Create Date: 2026-12-07 18:00:00

Reprocess finds the documents that share an extracted text (the "twins" a classification is
copied to) and search joins pages to documents by this column; without an index each chunk of a
reprocess read every document row.
"""
from typing import Sequence, Union

from alembic import op


revision: str = '0012_documents_extraction_index'
down_revision: Union[str, Sequence[str], None] = '0011_rules_supported'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_index(op.f('ix_documents_extraction_id'), 'documents', ['extraction_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_documents_extraction_id'), table_name='documents')
