"""own account e-mail preferences and cover for an absence

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import casework.models.base

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_digest', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('email_reminders', sa.Boolean(), server_default=sa.true(), nullable=False))
    op.create_table(
        'absence_cover',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('absent_user_id', sa.Integer(), nullable=False),
        sa.Column('covering_user_id', sa.Integer(), nullable=False),
        sa.Column('starts_on', sa.Date(), nullable=False),
        sa.Column('ends_on', sa.Date(), nullable=False),
        sa.Column('starts_at', casework.models.base.UTCDateTime(), nullable=False),
        sa.Column('ends_at', casework.models.base.UTCDateTime(), nullable=False),
        sa.Column('reason', sa.String(length=300), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=False),
        sa.Column('created_at', casework.models.base.UTCDateTime(), nullable=False),
        sa.Column('ended_at', casework.models.base.UTCDateTime(), nullable=True),
        sa.CheckConstraint('ends_on >= starts_on', name=op.f('ck_absence_cover_ends_after_starts')),
        sa.CheckConstraint('absent_user_id != covering_user_id', name=op.f('ck_absence_cover_not_self')),
        sa.ForeignKeyConstraint(['absent_user_id'], ['user_account.id'],
                                name=op.f('fk_absence_cover_absent_user_id_user_account')),
        sa.ForeignKeyConstraint(['covering_user_id'], ['user_account.id'],
                                name=op.f('fk_absence_cover_covering_user_id_user_account')),
        sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'],
                                name=op.f('fk_absence_cover_created_by_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_absence_cover')),
    )
    op.create_index('ix_absence_cover_absent_user_id_ends_at', 'absence_cover', ['absent_user_id', 'ends_at'])
    op.create_index('ix_absence_cover_covering_user_id_ends_at', 'absence_cover', ['covering_user_id', 'ends_at'])


def downgrade() -> None:
    op.drop_index('ix_absence_cover_covering_user_id_ends_at', table_name='absence_cover')
    op.drop_index('ix_absence_cover_absent_user_id_ends_at', table_name='absence_cover')
    op.drop_table('absence_cover')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('email_reminders')
        batch_op.drop_column('email_digest')
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite drops a column by copying the table, which loses 0006's indexes on expressions.
        op.create_index('ix_user_account_lower_username', 'user_account', [sa.text('lower(username)')], unique=True)
        op.create_index('ix_user_account_lower_email', 'user_account', [sa.text('lower(email)')], unique=True,
                        sqlite_where=sa.text("email != ''"))
