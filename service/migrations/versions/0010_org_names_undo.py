"""organisation name history; decisions that undo another

Revision ID: 0010_org_names_undo
Revises: 0009_search_vector
Create Date: 2026-12-05 07:30:00

Existing organisations get their current name as the registered one.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0010_org_names_undo'
down_revision: Union[str, Sequence[str], None] = '0009_search_vector'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'organization_names',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('organization_id', sa.String(length=32), nullable=False),
        sa.Column('name', sa.String(length=300), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('submission_id', sa.String(length=32), nullable=True),
        sa.Column('source', sa.String(length=20), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], ),
        sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_organization_names_organization_id'), 'organization_names',
                    ['organization_id'], unique=False)
    op.execute(
        "INSERT INTO organization_names (organization_id, name, kind, created_at) "
        "SELECT id, name, 'registered', created_at FROM organizations"
    )
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('undoes_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_decisions_undoes_id', 'decisions', ['undoes_id'],
                                    ['id'])
        # one undo per decision: two reviewers undoing at once cannot take back the same one
        batch_op.create_unique_constraint('uq_decisions_undoes_id', ['undoes_id'])


def downgrade() -> None:
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.drop_constraint('uq_decisions_undoes_id', type_='unique')
        batch_op.drop_constraint('fk_decisions_undoes_id', type_='foreignkey')
        batch_op.drop_column('undoes_id')
    op.drop_index(op.f('ix_organization_names_organization_id'), table_name='organization_names')
    op.drop_table('organization_names')
