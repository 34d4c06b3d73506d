"""accounts: single-use password links, forgotten-password requests, last sign-in, case-insensitive unique names

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 06:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import casework.models.base

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('user_account', sa.Column('last_sign_in_at', casework.models.base.UTCDateTime(), nullable=True))
    # Fails if two accounts already differ only by case: rename one before upgrading.
    op.create_index('ix_user_account_lower_username', 'user_account', [sa.text('lower(username)')], unique=True)
    op.create_index('ix_user_account_lower_email', 'user_account', [sa.text('lower(email)')], unique=True,
                    sqlite_where=sa.text("email != ''"), postgresql_where=sa.text("email != ''"))

    op.create_table(
        'account_token',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('purpose', sa.Enum('invitation', 'reset', name='token_purpose', native_enum=False,
                                     create_constraint=True), nullable=False),
        sa.Column('created_at', casework.models.base.UTCDateTime(), nullable=False),
        sa.Column('expires_at', casework.models.base.UTCDateTime(), nullable=False),
        sa.Column('used_at', casework.models.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_account_token_user_id_user_account'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_account_token')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_account_token_token_hash')),
    )
    op.create_index('ix_account_token_user_id_created_at', 'account_token', ['user_id', 'created_at'])

    op.create_table(
        'password_reset_request',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', casework.models.base.UTCDateTime(), nullable=False),
        sa.Column('ip_address', sa.String(length=45), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'],
                                name=op.f('fk_password_reset_request_user_id_user_account'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_password_reset_request')),
    )
    op.create_index('ix_password_reset_request_ip_address_at', 'password_reset_request', ['ip_address', 'at'])
    op.create_index('ix_password_reset_request_user_id_at', 'password_reset_request', ['user_id', 'at'])


def downgrade() -> None:
    op.drop_index('ix_password_reset_request_user_id_at', table_name='password_reset_request')
    op.drop_index('ix_password_reset_request_ip_address_at', table_name='password_reset_request')
    op.drop_table('password_reset_request')
    op.drop_index('ix_account_token_user_id_created_at', table_name='account_token')
    op.drop_table('account_token')
    op.drop_index('ix_user_account_lower_email', table_name='user_account')
    op.drop_index('ix_user_account_lower_username', table_name='user_account')
    with op.batch_alter_table('user_account') as batch_op:
        batch_op.drop_column('last_sign_in_at')
