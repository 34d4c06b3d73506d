"""administrative log

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 06:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import casework.models.base

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# Copied, not imported: a revision must not change when the models module does.
APPEND_ONLY_DDL = {
    'sqlite': [
        "CREATE TRIGGER administrative_log_entry_no_update BEFORE UPDATE ON administrative_log_entry BEGIN SELECT RAISE(ABORT, 'administrative_log_entry rows are append-only'); END",
        "CREATE TRIGGER administrative_log_entry_no_delete BEFORE DELETE ON administrative_log_entry BEGIN SELECT RAISE(ABORT, 'administrative_log_entry rows are append-only'); END",
    ],
    'postgresql': [
        "CREATE OR REPLACE FUNCTION refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '% rows are append-only', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation'; END $$",
        'CREATE TRIGGER administrative_log_entry_append_only BEFORE UPDATE OR DELETE ON administrative_log_entry FOR EACH ROW EXECUTE FUNCTION refuse_audit_change()',
    ],
}


def upgrade() -> None:
    op.create_table(
        'administrative_log_entry',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', casework.models.base.UTCDateTime(), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('ip_address', sa.String(length=45), nullable=False),
        sa.Column('action', sa.String(length=40), nullable=False),
        sa.Column('subject_type', sa.String(length=40), nullable=False),
        sa.Column('subject_id', sa.Integer(), nullable=True),
        sa.Column('subject_label', sa.String(length=200), nullable=False),
        sa.Column('changes', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'],
                                name=op.f('fk_administrative_log_entry_actor_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_administrative_log_entry')),
    )
    op.create_index('ix_administrative_log_entry_actor_id_at', 'administrative_log_entry', ['actor_id', 'at'])
    op.create_index('ix_administrative_log_entry_at', 'administrative_log_entry', ['at'])
    op.create_index('ix_administrative_log_entry_subject', 'administrative_log_entry',
                    ['subject_type', 'subject_id', 'at'])
    for statement in APPEND_ONLY_DDL.get(op.get_bind().dialect.name, []):
        op.execute(statement)


def downgrade() -> None:
    # Dropping the table drops its triggers; the shared PostgreSQL function stays for the other tables.
    op.drop_index('ix_administrative_log_entry_subject', table_name='administrative_log_entry')
    op.drop_index('ix_administrative_log_entry_at', table_name='administrative_log_entry')
    op.drop_index('ix_administrative_log_entry_actor_id_at', table_name='administrative_log_entry')
    op.drop_table('administrative_log_entry')
