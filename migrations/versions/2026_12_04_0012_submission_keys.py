"""one-time submission keys on journal entries and follow-up contacts (a form sent twice saves once)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 08:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('journal_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('submission_key', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_journal_entry_submission_key'), ['submission_key'])
    with op.batch_alter_table('follow_up_contact', schema=None) as batch_op:
        batch_op.add_column(sa.Column('submission_key', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_follow_up_contact_submission_key'), ['submission_key'])


def downgrade() -> None:
    with op.batch_alter_table('follow_up_contact', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_follow_up_contact_submission_key'), type_='unique')
        batch_op.drop_column('submission_key')
    with op.batch_alter_table('journal_entry', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_journal_entry_submission_key'), type_='unique')
        batch_op.drop_column('submission_key')
