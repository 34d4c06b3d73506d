"""an index of the open pacts by stage: the approvals queue reads those waiting for a decision
without reading every open pact

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-05 12:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_pact_open_state', 'pact', ['state', 'workflow_name', 'workflow_version'], unique=False,
                    sqlite_where=sa.text('closed_at IS NULL'), postgresql_where=sa.text('closed_at IS NULL'))


def downgrade() -> None:
    op.drop_index('ix_pact_open_state', table_name='pact', sqlite_where=sa.text('closed_at IS NULL'),
                  postgresql_where=sa.text('closed_at IS NULL'))
