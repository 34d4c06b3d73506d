"""data version for cached figures; indexes for pages at 100,000 pacts

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 15:30:00
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'data_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token', sa.String(length=32), nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_data_version')),
    )
    # The row casework.models.data_version moves (it would create it at the first change).
    op.execute(sa.text("INSERT INTO data_version (id, token, version) VALUES (1, :token, 1)")
               .bindparams(token=secrets.token_hex(16)))
    op.create_index('ix_pact_open_case_manager', 'pact', ['case_manager_id', 'next_deadline_at'], unique=False,
                    sqlite_where=sa.text('closed_at IS NULL'), postgresql_where=sa.text('closed_at IS NULL'))
    op.create_index('ix_transition_record_at', 'transition_record', ['at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_transition_record_at', table_name='transition_record')
    op.drop_index('ix_pact_open_case_manager', table_name='pact')
    op.drop_table('data_version')
