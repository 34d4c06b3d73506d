"""office settings: the ente's name, logo and letterhead

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import casework.models.base

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'office_settings',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('ente_name', sa.String(length=200), nullable=False),
        sa.Column('letterhead', sa.Text(), nullable=False),
        sa.Column('logo', sa.LargeBinary(), nullable=True),
        sa.Column('logo_type', sa.String(length=40), nullable=False),
        sa.Column('updated_at', casework.models.base.UTCDateTime(), nullable=True),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.Column('version', sa.Integer(), server_default='1', nullable=False),
        sa.CheckConstraint('id = 1', name=op.f('ck_office_settings_single_row')),
        sa.ForeignKeyConstraint(['updated_by_id'], ['user_account.id'],
                                name=op.f('fk_office_settings_updated_by_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_office_settings')),
    )


def downgrade() -> None:
    op.drop_table('office_settings')
