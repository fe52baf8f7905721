"""documents: replaces_id, the document a replacement took the place of

Revision ID: 0013_document_replaces
Revises: 0012_documents_extraction_index
Create Date: 2026-12-07 23:00:00

A replacement (``documents.replace_document``: the applicant's ``PUT …/documents/{doc}`` or
``evidencia batch``'s re-exported file) removed the old document and added the new one with
nothing linking them, so the reviewer could not be told "acta.pdf → acta-firmada.pdf". Rows
stored before keep NULL: their replacements read as a removal and an addition.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0013_document_replaces'
down_revision: Union[str, Sequence[str], None] = '0012_documents_extraction_index'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('documents') as batch:
        batch.add_column(sa.Column('replaces_id', sa.String(length=32), nullable=True))
        batch.create_foreign_key('fk_documents_replaces_id', 'documents',
                                 ['replaces_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('documents') as batch:
        batch.drop_constraint('fk_documents_replaces_id', type_='foreignkey')
        batch.drop_column('replaces_id')
