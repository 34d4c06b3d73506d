"""deadline_snooze: a deadline's reminder put off from Oggi until a day

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 08:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import casework.models.base

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'deadline_snooze',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('pact_id', sa.Integer(), nullable=False),
        sa.Column('rule_id', sa.String(length=80), nullable=False),
        sa.Column('due_at', casework.models.base.UTCDateTime(), nullable=False),
        sa.Column('until_on', sa.Date(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('snoozed_at', casework.models.base.UTCDateTime(), nullable=False),
        sa.Column('snoozed_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['pact_id'], ['pact.id'], name=op.f('fk_deadline_snooze_pact_id_pact'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['snoozed_by_id'], ['user_account.id'],
                                name=op.f('fk_deadline_snooze_snoozed_by_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_deadline_snooze')),
    )
    op.create_index('ix_deadline_snooze_pact_rule', 'deadline_snooze', ['pact_id', 'rule_id', 'due_at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_deadline_snooze_pact_rule', table_name='deadline_snooze')
    op.drop_table('deadline_snooze')
