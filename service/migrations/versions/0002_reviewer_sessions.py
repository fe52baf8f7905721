"""reviewer sessions kept server-side; users can be deactivated

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05 07:30:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0002'
down_revision: Union[str, Sequence[str], None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'reviewer_sessions',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_reviewer_sessions_user_id', 'reviewer_sessions', ['user_id'])
    op.create_index('ix_reviewer_sessions_expires_at', 'reviewer_sessions', ['expires_at'])
    with op.batch_alter_table('users') as batch_op:
        batch_op.add_column(
            sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table('users') as batch_op:
        batch_op.drop_column('active')
    op.drop_index('ix_reviewer_sessions_expires_at', table_name='reviewer_sessions')
    op.drop_index('ix_reviewer_sessions_user_id', table_name='reviewer_sessions')
    op.drop_table('reviewer_sessions')
