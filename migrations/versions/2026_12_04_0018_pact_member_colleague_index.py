"""the équipe's index by user holds colleagues only

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_pact_member_user_id', table_name='pact_member')
    op.create_index('ix_pact_member_user_id', 'pact_member', ['user_id'], unique=False,
                    sqlite_where=sa.text('user_id IS NOT NULL'), postgresql_where=sa.text('user_id IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('ix_pact_member_user_id', table_name='pact_member',
                  sqlite_where=sa.text('user_id IS NOT NULL'), postgresql_where=sa.text('user_id IS NOT NULL'))
    op.create_index('ix_pact_member_user_id', 'pact_member', ['user_id'], unique=False)
