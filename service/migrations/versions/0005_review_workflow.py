"""review workflow: submission status, assignment, contact e-mail, history, e-mail outbox

Existing submissions with documents become ``enviada``: before this workflow every uploaded
submission was already in front of reviewers, so they stay in the queue, aged from their
creation. Those without documents become ``borrador`` (nothing to review yet).

Revision ID: 0005_review_workflow
Revises: 0004
Create Date: 2026-12-05 07:30:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0005_review_workflow'
down_revision: Union[str, Sequence[str], None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=20), nullable=False,
                                      server_default='borrador'))
        batch_op.add_column(sa.Column('assigned_to_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('contact_email', sa.String(length=254), nullable=True))
        batch_op.create_foreign_key('fk_submissions_assigned_to_id_users', 'users',
                                    ['assigned_to_id'], ['id'])
        batch_op.create_index('ix_submissions_status', ['status'], unique=False)
        batch_op.create_index('ix_submissions_assigned_to_id', ['assigned_to_id'], unique=False)
    op.execute(
        "UPDATE submissions SET status = 'enviada', submitted_at = created_at "
        "WHERE id IN (SELECT DISTINCT submission_id FROM documents)"
    )
    op.create_table('review_events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('submission_id', sa.String(length=32), nullable=False),
    sa.Column('from_status', sa.String(length=20), nullable=True),
    sa.Column('to_status', sa.String(length=20), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('assigned_to_id', sa.Integer(), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('commitments', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['assigned_to_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_review_events_submission', 'review_events', ['submission_id', 'id'],
                    unique=False)
    op.create_table('outbox_emails',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('submission_id', sa.String(length=32), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('to_address', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('secret', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_outbox_emails_status', 'outbox_emails', ['status'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_outbox_emails_status', table_name='outbox_emails')
    op.drop_table('outbox_emails')
    op.drop_index('ix_review_events_submission', table_name='review_events')
    op.drop_table('review_events')
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_index('ix_submissions_assigned_to_id')
        batch_op.drop_index('ix_submissions_status')
        batch_op.drop_constraint('fk_submissions_assigned_to_id_users', type_='foreignkey')
        batch_op.drop_column('contact_email')
        batch_op.drop_column('submitted_at')
        batch_op.drop_column('assigned_to_id')
        batch_op.drop_column('status')
