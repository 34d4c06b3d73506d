"""index of each pact's moves by state: when a pact first reached a stage

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 16:30:00
"""

from __future__ import annotations

from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_transition_record_pact_state_at', 'transition_record', ['pact_id', 'to_state', 'at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_transition_record_pact_state_at', table_name='transition_record')
