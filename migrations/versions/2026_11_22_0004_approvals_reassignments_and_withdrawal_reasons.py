"""approvals reassignments and withdrawal reasons

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 13:44:30.590577
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import casework.models.base


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# Copied, not imported: a revision must not change when the models module does.
APPEND_ONLY_DDL = {
    'sqlite': [
        "CREATE TRIGGER pact_approval_no_update BEFORE UPDATE ON pact_approval BEGIN SELECT RAISE(ABORT, 'pact_approval rows are append-only'); END",
        "CREATE TRIGGER pact_approval_no_delete BEFORE DELETE ON pact_approval BEGIN SELECT RAISE(ABORT, 'pact_approval rows are append-only'); END",
        "CREATE TRIGGER pact_reassignment_no_update BEFORE UPDATE ON pact_reassignment BEGIN SELECT RAISE(ABORT, 'pact_reassignment rows are append-only'); END",
        "CREATE TRIGGER pact_reassignment_no_delete BEFORE DELETE ON pact_reassignment BEGIN SELECT RAISE(ABORT, 'pact_reassignment rows are append-only'); END",
    ],
    'postgresql': [
        "CREATE OR REPLACE FUNCTION refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '% rows are append-only', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation'; END $$",
        'CREATE TRIGGER pact_approval_append_only BEFORE UPDATE OR DELETE ON pact_approval FOR EACH ROW EXECUTE FUNCTION refuse_audit_change()',
        'CREATE TRIGGER pact_reassignment_append_only BEFORE UPDATE OR DELETE ON pact_reassignment FOR EACH ROW EXECUTE FUNCTION refuse_audit_change()',
    ],
}
# SQLite drops a column by copying the table, which loses its triggers: 0001's are put back.
TRANSITION_RECORD_SQLITE_DDL = [
    "CREATE TRIGGER transition_record_no_update BEFORE UPDATE ON transition_record BEGIN SELECT RAISE(ABORT, 'transition records are append-only'); END",
    "CREATE TRIGGER transition_record_no_delete BEFORE DELETE ON transition_record BEGIN SELECT RAISE(ABORT, 'transition records are append-only'); END",
]


def upgrade() -> None:
    op.create_table('pact_reassignment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pact_id', sa.Integer(), nullable=False),
    sa.Column('from_manager_id', sa.Integer(), nullable=False),
    sa.Column('to_manager_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('at', casework.models.base.UTCDateTime(), nullable=False),
    sa.Column('pact_version', sa.Integer(), nullable=False),
    sa.CheckConstraint("reason != ''", name=op.f('ck_pact_reassignment_has_reason')),
    sa.CheckConstraint('from_manager_id != to_manager_id', name=op.f('ck_pact_reassignment_to_another_manager')),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_pact_reassignment_actor_id_user_account')),
    sa.ForeignKeyConstraint(['from_manager_id'], ['user_account.id'], name=op.f('fk_pact_reassignment_from_manager_id_user_account')),
    sa.ForeignKeyConstraint(['pact_id'], ['pact.id'], name=op.f('fk_pact_reassignment_pact_id_pact'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['to_manager_id'], ['user_account.id'], name=op.f('fk_pact_reassignment_to_manager_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pact_reassignment'))
    )
    with op.batch_alter_table('pact_reassignment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pact_reassignment_from_manager_id'), ['from_manager_id'], unique=False)
        batch_op.create_index('ix_pact_reassignment_pact_at', ['pact_id', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_pact_reassignment_to_manager_id'), ['to_manager_id'], unique=False)

    op.create_table('pact_approval',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pact_id', sa.Integer(), nullable=False),
    sa.Column('revision_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.Enum('approved', 'sent_back', name='approval_decision', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=False),
    sa.Column('decided_at', casework.models.base.UTCDateTime(), nullable=False),
    sa.Column('pact_version', sa.Integer(), nullable=False),
    sa.CheckConstraint("decision = 'approved' OR comment != ''", name=op.f('ck_pact_approval_sent_back_with_comment')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], name=op.f('fk_pact_approval_decided_by_id_user_account')),
    sa.ForeignKeyConstraint(['pact_id'], ['pact.id'], name=op.f('fk_pact_approval_pact_id_pact'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['revision_id'], ['pact_revision.id'], name=op.f('fk_pact_approval_revision_id_pact_revision'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pact_approval'))
    )
    with op.batch_alter_table('pact_approval', schema=None) as batch_op:
        batch_op.create_index('ix_pact_approval_pact_decided', ['pact_id', 'decided_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_pact_approval_revision_id'), ['revision_id'], unique=False)

    with op.batch_alter_table('transition_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason', sa.String(length=60), nullable=True))
        batch_op.create_index('ix_transition_record_to_state_at', ['to_state', 'at'], unique=False)

    for statement in APPEND_ONLY_DDL.get(op.get_bind().dialect.name, []):
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table('transition_record', schema=None) as batch_op:
        batch_op.drop_index('ix_transition_record_to_state_at')
        batch_op.drop_column('reason')
    if dialect == 'sqlite':
        for statement in TRANSITION_RECORD_SQLITE_DDL:
            op.execute(statement)

    with op.batch_alter_table('pact_approval', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pact_approval_revision_id'))
        batch_op.drop_index('ix_pact_approval_pact_decided')

    op.drop_table('pact_approval')
    with op.batch_alter_table('pact_reassignment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pact_reassignment_to_manager_id'))
        batch_op.drop_index('ix_pact_reassignment_pact_at')
        batch_op.drop_index(batch_op.f('ix_pact_reassignment_from_manager_id'))

    op.drop_table('pact_reassignment')
