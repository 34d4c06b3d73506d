"""integrity chain of the access log and the administrative log

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 20:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

TABLES = ('access_log_entry', 'administrative_log_entry')

# Copied, not imported: a revision must not change when the models module does.
# The one update allowed: chain_position and chain_hash set once, from NULL, nothing else changed.
SEALABLE_DDL = {
    'sqlite': [
        "CREATE TRIGGER access_log_entry_no_update BEFORE UPDATE ON access_log_entry WHEN NOT (OLD.chain_position IS NULL AND NEW.chain_position IS NOT NULL AND OLD.chain_hash IS NULL AND NEW.chain_hash IS NOT NULL AND NEW.id IS OLD.id AND NEW.at IS OLD.at AND NEW.user_id IS OLD.user_id AND NEW.action IS OLD.action AND NEW.subject_type IS OLD.subject_type AND NEW.subject_id IS OLD.subject_id AND NEW.detail IS OLD.detail AND NEW.ip_address IS OLD.ip_address) BEGIN SELECT RAISE(ABORT, 'access_log_entry rows are append-only'); END",
        "CREATE TRIGGER access_log_entry_no_delete BEFORE DELETE ON access_log_entry BEGIN SELECT RAISE(ABORT, 'access_log_entry rows are append-only'); END",
        "CREATE TRIGGER administrative_log_entry_no_update BEFORE UPDATE ON administrative_log_entry WHEN NOT (OLD.chain_position IS NULL AND NEW.chain_position IS NOT NULL AND OLD.chain_hash IS NULL AND NEW.chain_hash IS NOT NULL AND NEW.id IS OLD.id AND NEW.at IS OLD.at AND NEW.actor_id IS OLD.actor_id AND NEW.ip_address IS OLD.ip_address AND NEW.action IS OLD.action AND NEW.subject_type IS OLD.subject_type AND NEW.subject_id IS OLD.subject_id AND NEW.subject_label IS OLD.subject_label AND NEW.changes IS OLD.changes) BEGIN SELECT RAISE(ABORT, 'administrative_log_entry rows are append-only'); END",
        "CREATE TRIGGER administrative_log_entry_no_delete BEFORE DELETE ON administrative_log_entry BEGIN SELECT RAISE(ABORT, 'administrative_log_entry rows are append-only'); END",
    ],
    'postgresql': [
        "CREATE OR REPLACE FUNCTION refuse_audit_change_but_seal() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF TG_OP = 'UPDATE' AND OLD.chain_position IS NULL AND NEW.chain_position IS NOT NULL AND OLD.chain_hash IS NULL AND NEW.chain_hash IS NOT NULL AND (to_jsonb(NEW) - 'chain_position' - 'chain_hash') = (to_jsonb(OLD) - 'chain_position' - 'chain_hash') THEN RETURN NEW; END IF; RAISE EXCEPTION '% rows are append-only', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation'; END $$",
        'CREATE TRIGGER access_log_entry_append_only BEFORE UPDATE OR DELETE ON access_log_entry FOR EACH ROW EXECUTE FUNCTION refuse_audit_change_but_seal()',
        'CREATE TRIGGER administrative_log_entry_append_only BEFORE UPDATE OR DELETE ON administrative_log_entry FOR EACH ROW EXECUTE FUNCTION refuse_audit_change_but_seal()',
    ],
}

# What 0002 and 0005 created, for the downgrade.
APPEND_ONLY_DDL = {
    'sqlite': [
        "CREATE TRIGGER access_log_entry_no_update BEFORE UPDATE ON access_log_entry BEGIN SELECT RAISE(ABORT, 'access_log_entry rows are append-only'); END",
        "CREATE TRIGGER access_log_entry_no_delete BEFORE DELETE ON access_log_entry BEGIN SELECT RAISE(ABORT, 'access_log_entry rows are append-only'); END",
        "CREATE TRIGGER administrative_log_entry_no_update BEFORE UPDATE ON administrative_log_entry BEGIN SELECT RAISE(ABORT, 'administrative_log_entry rows are append-only'); END",
        "CREATE TRIGGER administrative_log_entry_no_delete BEFORE DELETE ON administrative_log_entry BEGIN SELECT RAISE(ABORT, 'administrative_log_entry rows are append-only'); END",
    ],
    'postgresql': [
        "CREATE OR REPLACE FUNCTION refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '% rows are append-only', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation'; END $$",
        'CREATE TRIGGER access_log_entry_append_only BEFORE UPDATE OR DELETE ON access_log_entry FOR EACH ROW EXECUTE FUNCTION refuse_audit_change()',
        'CREATE TRIGGER administrative_log_entry_append_only BEFORE UPDATE OR DELETE ON administrative_log_entry FOR EACH ROW EXECUTE FUNCTION refuse_audit_change()',
    ],
}


def _drop_triggers() -> None:
    for table in TABLES:
        if op.get_bind().dialect.name == 'postgresql':
            op.execute(f'DROP TRIGGER IF EXISTS {table}_append_only ON {table}')
        else:
            op.execute(f'DROP TRIGGER IF EXISTS {table}_no_update')
            op.execute(f'DROP TRIGGER IF EXISTS {table}_no_delete')


def _create(ddl: dict[str, list[str]]) -> None:
    for statement in ddl.get(op.get_bind().dialect.name, []):
        op.execute(statement)


def upgrade() -> None:
    _drop_triggers()
    for table in TABLES:
        # Plain ADD COLUMN, no batch rebuild: the tables keep their rows and ids.
        op.add_column(table, sa.Column('chain_position', sa.Integer(), nullable=True))
        op.add_column(table, sa.Column('chain_hash', sa.String(length=64), nullable=True))
        op.create_index(f'ix_{table}_chain_position', table, ['chain_position'], unique=True)
    _create(SEALABLE_DDL)


def downgrade() -> None:
    _drop_triggers()
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP FUNCTION IF EXISTS refuse_audit_change_but_seal()')
    for table in TABLES:
        op.drop_index(f'ix_{table}_chain_position', table_name=table)
        op.drop_column(table, 'chain_hash')
        op.drop_column(table, 'chain_position')
    _create(APPEND_ONLY_DDL)
