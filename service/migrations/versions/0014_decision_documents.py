"""decision_documents: the documents a confirmation naming none rests on

Revision ID: 0014_decision_documents
Revises: 0013_document_replaces
Create Date: 2026-12-08 00:30:00

A reviewer's ``confirm`` with no document named rested on whatever documents the matrix showed
as supporting the commitment at that moment, and recorded none: once the applicant removed or
replaced them all, the cell still said «Confirmado». Each such confirmation now writes one row
per document it rests on, with the decision (append-only, as decisions are). Decisions stored
before have no rows: they keep holding as they did.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0014_decision_documents'
down_revision: Union[str, Sequence[str], None] = '0013_document_replaces'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'decision_documents',
        sa.Column('decision_id', sa.Integer(), nullable=False),
        sa.Column('document_id', sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(['decision_id'], ['decisions.id'],
                                name='fk_decision_documents_decision_id'),
        sa.ForeignKeyConstraint(['document_id'], ['documents.id'],
                                name='fk_decision_documents_document_id'),
        sa.PrimaryKeyConstraint('decision_id', 'document_id', name='pk_decision_documents'),
    )


def downgrade() -> None:
    op.drop_table('decision_documents')
