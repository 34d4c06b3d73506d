"""one-time submission keys on journal entries and follow-up contacts (a form sent twice saves once)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 08:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


# Unique indexes, not unique constraints: on SQLite a constraint means rebuilding the table
# (batch mode), which drops the deadline-refresh triggers that follow_up_contact carries.
def upgrade() -> None:
    for table in ('journal_entry', 'follow_up_contact'):
        op.add_column(table, sa.Column('submission_key', sa.String(length=64), nullable=True))
        op.create_index(op.f(f'ix_{table}_submission_key'), table, ['submission_key'], unique=True)


# Rebuilding follow_up_contact on SQLite drops its triggers: the downgrade puts back 0003's.
SQLITE_CONTACT_TRIGGERS = (
    'CREATE TRIGGER contact_refresh_on_insert AFTER INSERT ON follow_up_contact BEGIN INSERT INTO deadline_refresh (pact_id) VALUES (NEW.pact_id); END',
    'CREATE TRIGGER contact_refresh_on_update AFTER UPDATE ON follow_up_contact BEGIN INSERT INTO deadline_refresh (pact_id) VALUES (NEW.pact_id); END',
    'CREATE TRIGGER contact_refresh_on_delete AFTER DELETE ON follow_up_contact BEGIN INSERT INTO deadline_refresh (pact_id) VALUES (OLD.pact_id); END',
)


def downgrade() -> None:
    for table in ('follow_up_contact', 'journal_entry'):
        op.drop_index(op.f(f'ix_{table}_submission_key'), table_name=table)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('submission_key')
    if op.get_bind().dialect.name == 'sqlite':
        for statement in SQLITE_CONTACT_TRIGGERS:
            op.execute(f'{statement.replace("CREATE TRIGGER", "CREATE TRIGGER IF NOT EXISTS", 1)}')
