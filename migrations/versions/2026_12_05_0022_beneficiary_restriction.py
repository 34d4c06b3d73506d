"""a restriction of processing on a person's record (GDPR art. 18): at most one open per person

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from casework.models.base import UTCDateTime

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'beneficiary_restriction',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('beneficiary_id', sa.Integer(), nullable=False),
        sa.Column('restricted_at', UTCDateTime(), nullable=False),
        sa.Column('restricted_by_id', sa.Integer(), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=False),
        sa.Column('lifted_at', UTCDateTime(), nullable=True),
        sa.Column('lifted_by_id', sa.Integer(), nullable=True),
        sa.Column('lift_reason', sa.String(length=500), server_default='', nullable=False),
        sa.CheckConstraint('(lifted_at IS NULL) = (lifted_by_id IS NULL)',
                           name=op.f('ck_beneficiary_restriction_lifted_by_someone')),
        sa.ForeignKeyConstraint(['beneficiary_id'], ['beneficiary.id'],
                                name=op.f('fk_beneficiary_restriction_beneficiary_id_beneficiary')),
        sa.ForeignKeyConstraint(['lifted_by_id'], ['user_account.id'],
                                name=op.f('fk_beneficiary_restriction_lifted_by_id_user_account')),
        sa.ForeignKeyConstraint(['restricted_by_id'], ['user_account.id'],
                                name=op.f('fk_beneficiary_restriction_restricted_by_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_beneficiary_restriction')),
    )
    op.create_index(op.f('ix_beneficiary_restriction_beneficiary_id'), 'beneficiary_restriction',
                    ['beneficiary_id'], unique=False)
    op.create_index('ix_beneficiary_restriction_open', 'beneficiary_restriction', ['beneficiary_id'], unique=True,
                    sqlite_where=sa.text('lifted_at IS NULL'), postgresql_where=sa.text('lifted_at IS NULL'))


def downgrade() -> None:
    op.drop_index('ix_beneficiary_restriction_open', table_name='beneficiary_restriction')
    op.drop_index(op.f('ix_beneficiary_restriction_beneficiary_id'), table_name='beneficiary_restriction')
    op.drop_table('beneficiary_restriction')
