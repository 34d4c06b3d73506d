"""case file and security tables

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 11:44:07.629767
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import casework.models.base


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

# Copied, not imported: a revision must not change when the models module does.
APPEND_ONLY_DDL = {
    'sqlite': [
        "CREATE TRIGGER access_log_entry_no_update BEFORE UPDATE ON access_log_entry BEGIN SELECT RAISE(ABORT, 'access_log_entry rows are append-only'); END",
        "CREATE TRIGGER access_log_entry_no_delete BEFORE DELETE ON access_log_entry BEGIN SELECT RAISE(ABORT, 'access_log_entry rows are append-only'); END",
        "CREATE TRIGGER change_record_no_update BEFORE UPDATE ON change_record BEGIN SELECT RAISE(ABORT, 'change_record rows are append-only'); END",
        "CREATE TRIGGER change_record_no_delete BEFORE DELETE ON change_record BEGIN SELECT RAISE(ABORT, 'change_record rows are append-only'); END",
    ],
    'postgresql': [
        "CREATE OR REPLACE FUNCTION refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '% rows are append-only', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation'; END $$",
        'CREATE TRIGGER access_log_entry_append_only BEFORE UPDATE OR DELETE ON access_log_entry FOR EACH ROW EXECUTE FUNCTION refuse_audit_change()',
        'CREATE TRIGGER change_record_append_only BEFORE UPDATE OR DELETE ON change_record FOR EACH ROW EXECUTE FUNCTION refuse_audit_change()',
    ],
}


def upgrade() -> None:
    op.create_table('login_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('ip_address', sa.String(length=45), nullable=False),
    sa.Column('at', casework.models.base.UTCDateTime(), nullable=False),
    sa.Column('succeeded', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_attempt'))
    )
    with op.batch_alter_table('login_attempt', schema=None) as batch_op:
        batch_op.create_index('ix_login_attempt_ip_address_at', ['ip_address', 'at'], unique=False)
        batch_op.create_index('ix_login_attempt_username_at', ['username', 'at'], unique=False)

    op.create_table('access_log_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', casework.models.base.UTCDateTime(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('subject_type', sa.String(length=40), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.String(length=300), nullable=False),
    sa.Column('ip_address', sa.String(length=45), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_access_log_entry_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_log_entry'))
    )
    with op.batch_alter_table('access_log_entry', schema=None) as batch_op:
        batch_op.create_index('ix_access_log_entry_subject', ['subject_type', 'subject_id', 'at'], unique=False)
        batch_op.create_index('ix_access_log_entry_user_id_at', ['user_id', 'at'], unique=False)

    op.create_table('change_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entity', sa.String(length=40), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=60), nullable=False),
    sa.Column('old_value', sa.Text(), nullable=False),
    sa.Column('new_value', sa.Text(), nullable=False),
    sa.Column('at', casework.models.base.UTCDateTime(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_change_record_actor_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_change_record'))
    )
    with op.batch_alter_table('change_record', schema=None) as batch_op:
        batch_op.create_index('ix_change_record_entity', ['entity', 'entity_id', 'at'], unique=False)

    op.create_table('user_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', casework.models.base.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', casework.models.base.UTCDateTime(), nullable=False),
    sa.Column('ended_at', casework.models.base.UTCDateTime(), nullable=True),
    sa.Column('user_agent', sa.String(length=300), nullable=False),
    sa.Column('ip_address', sa.String(length=45), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_user_session_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_session')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_user_session_token_hash'))
    )
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_session_user_id'), ['user_id'], unique=False)

    op.create_table('document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('beneficiary_id', sa.Integer(), nullable=True),
    sa.Column('pact_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('signed_pact', 'id_document', 'residence_permit', 'certificate', 'other', name='document_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('original_name', sa.String(length=255), nullable=False),
    sa.Column('stored_name', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploaded_at', casework.models.base.UTCDateTime(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('beneficiary_id IS NOT NULL OR pact_id IS NOT NULL', name=op.f('ck_document_has_owner')),
    sa.CheckConstraint('size_bytes > 0', name=op.f('ck_document_not_empty')),
    sa.ForeignKeyConstraint(['beneficiary_id'], ['beneficiary.id'], name=op.f('fk_document_beneficiary_id_beneficiary'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['pact_id'], ['pact.id'], name=op.f('fk_document_pact_id_pact'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['user_account.id'], name=op.f('fk_document_uploaded_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_document_stored_name'))
    )
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_beneficiary_id'), ['beneficiary_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_document_pact_id'), ['pact_id'], unique=False)

    op.create_table('journal_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pact_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('note', 'phone_call', 'meeting', 'home_visit', 'equipe_meeting', 'message', name='journal_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('at', casework.models.base.UTCDateTime(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', casework.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_journal_entry_author_id_user_account')),
    sa.ForeignKeyConstraint(['pact_id'], ['pact.id'], name=op.f('fk_journal_entry_pact_id_pact'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journal_entry'))
    )
    with op.batch_alter_table('journal_entry', schema=None) as batch_op:
        batch_op.create_index('ix_journal_entry_pact_id_at', ['pact_id', 'at'], unique=False)

    with op.batch_alter_table('beneficiary', schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))
        batch_op.create_index(batch_op.f('ix_beneficiary_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_beneficiary_created_by_id_user_account'), 'user_account', ['created_by_id'], ['id'])

    for statement in APPEND_ONLY_DDL.get(op.get_bind().dialect.name, []):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS access_log_entry_append_only ON access_log_entry")
        op.execute("DROP TRIGGER IF EXISTS change_record_append_only ON change_record")
        op.execute("DROP FUNCTION IF EXISTS refuse_audit_change()")
    with op.batch_alter_table('beneficiary', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_beneficiary_created_by_id_user_account'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_beneficiary_created_by_id'))
        batch_op.drop_column('version')
        batch_op.drop_column('created_by_id')

    with op.batch_alter_table('journal_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_journal_entry_pact_id_at')

    op.drop_table('journal_entry')
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_pact_id'))
        batch_op.drop_index(batch_op.f('ix_document_beneficiary_id'))

    op.drop_table('document')
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_session_user_id'))

    op.drop_table('user_session')
    with op.batch_alter_table('change_record', schema=None) as batch_op:
        batch_op.drop_index('ix_change_record_entity')

    op.drop_table('change_record')
    with op.batch_alter_table('access_log_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_access_log_entry_user_id_at')
        batch_op.drop_index('ix_access_log_entry_subject')

    op.drop_table('access_log_entry')
    with op.batch_alter_table('login_attempt', schema=None) as batch_op:
        batch_op.drop_index('ix_login_attempt_username_at')
        batch_op.drop_index('ix_login_attempt_ip_address_at')

    op.drop_table('login_attempt')
