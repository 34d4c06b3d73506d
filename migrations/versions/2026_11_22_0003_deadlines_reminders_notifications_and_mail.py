"""deadlines reminders notifications and mail

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 12:06:31.325272
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import casework.models.base


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

# Copied, not imported: a revision must not change when the models module does.
# The database queues a pact for a deadline refresh whenever its state or contacts change.
DEADLINE_REFRESH_DDL = {
    'sqlite': [
        'CREATE TRIGGER pact_refresh_on_insert AFTER INSERT ON pact BEGIN INSERT INTO deadline_refresh (pact_id) VALUES (NEW.id); END',
        'CREATE TRIGGER pact_refresh_on_update AFTER UPDATE ON pact WHEN OLD.state IS NOT NEW.state OR OLD.state_entered_at IS NOT NEW.state_entered_at OR OLD.closed_at IS NOT NEW.closed_at OR OLD.next_deadline_at IS NOT NEW.next_deadline_at OR OLD.workflow_version IS NOT NEW.workflow_version BEGIN INSERT INTO deadline_refresh (pact_id) VALUES (NEW.id); END',
        'CREATE TRIGGER contact_refresh_on_insert AFTER INSERT ON follow_up_contact BEGIN INSERT INTO deadline_refresh (pact_id) VALUES (NEW.pact_id); END',
        'CREATE TRIGGER contact_refresh_on_update AFTER UPDATE ON follow_up_contact BEGIN INSERT INTO deadline_refresh (pact_id) VALUES (NEW.pact_id); END',
        'CREATE TRIGGER contact_refresh_on_delete AFTER DELETE ON follow_up_contact BEGIN INSERT INTO deadline_refresh (pact_id) VALUES (OLD.pact_id); END',
    ],
    'postgresql': [
        "CREATE OR REPLACE FUNCTION queue_deadline_refresh() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF TG_TABLE_NAME = 'pact' THEN INSERT INTO deadline_refresh (pact_id) VALUES (NEW.id); ELSIF TG_OP = 'DELETE' THEN INSERT INTO deadline_refresh (pact_id) VALUES (OLD.pact_id); ELSE INSERT INTO deadline_refresh (pact_id) VALUES (NEW.pact_id); END IF; RETURN NULL; END $$",
        'CREATE TRIGGER pact_refresh_on_insert AFTER INSERT ON pact FOR EACH ROW EXECUTE FUNCTION queue_deadline_refresh()',
        'CREATE TRIGGER pact_refresh_on_update AFTER UPDATE ON pact FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state OR OLD.state_entered_at IS DISTINCT FROM NEW.state_entered_at OR OLD.closed_at IS DISTINCT FROM NEW.closed_at OR OLD.next_deadline_at IS DISTINCT FROM NEW.next_deadline_at OR OLD.workflow_version IS DISTINCT FROM NEW.workflow_version) EXECUTE FUNCTION queue_deadline_refresh()',
        'CREATE TRIGGER contact_refresh AFTER INSERT OR UPDATE OR DELETE ON follow_up_contact FOR EACH ROW EXECUTE FUNCTION queue_deadline_refresh()',
    ],
}
DROP_TRIGGERS = {
    'sqlite': [
        'DROP TRIGGER IF EXISTS pact_refresh_on_insert',
        'DROP TRIGGER IF EXISTS pact_refresh_on_update',
        'DROP TRIGGER IF EXISTS contact_refresh_on_insert',
        'DROP TRIGGER IF EXISTS contact_refresh_on_update',
        'DROP TRIGGER IF EXISTS contact_refresh_on_delete',
    ],
    'postgresql': [
        'DROP TRIGGER IF EXISTS pact_refresh_on_insert ON pact',
        'DROP TRIGGER IF EXISTS pact_refresh_on_update ON pact',
        'DROP TRIGGER IF EXISTS contact_refresh ON follow_up_contact',
        'DROP FUNCTION IF EXISTS queue_deadline_refresh()',
    ],
}


def upgrade() -> None:
    op.create_table('deadline_refresh',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pact_id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deadline_refresh'))
    )
    with op.batch_alter_table('deadline_refresh', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deadline_refresh_pact_id'), ['pact_id'], unique=False)

    op.create_table('scheduler_lock',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('holder', sa.String(length=64), nullable=False),
    sa.Column('run_at', casework.models.base.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_scheduler_lock'))
    )
    op.create_table('calendar_feed_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', casework.models.base.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', casework.models.base.UTCDateTime(), nullable=True),
    sa.Column('last_used_at', casework.models.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_calendar_feed_token_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_feed_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_calendar_feed_token_token_hash'))
    )
    with op.batch_alter_table('calendar_feed_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calendar_feed_token_user_id'), ['user_id'], unique=False)

    op.create_table('outbound_email',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=160), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=True),
    sa.Column('to_address', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', casework.models.base.UTCDateTime(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'sending', 'sent', 'failed', 'cancelled', name='email_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', casework.models.base.UTCDateTime(), nullable=False),
    sa.Column('claimed_by', sa.String(length=64), nullable=False),
    sa.Column('sent_at', casework.models.base.UTCDateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_outbound_email_attempts_not_negative')),
    sa.ForeignKeyConstraint(['recipient_id'], ['user_account.id'], name=op.f('fk_outbound_email_recipient_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbound_email')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_outbound_email_dedupe_key'))
    )
    with op.batch_alter_table('outbound_email', schema=None) as batch_op:
        batch_op.create_index('ix_outbound_email_failed', ['created_at'], unique=False, sqlite_where=sa.text("status = 'failed'"), postgresql_where=sa.text("status = 'failed'"))
        batch_op.create_index('ix_outbound_email_next_attempt_at', ['next_attempt_at'], unique=False, sqlite_where=sa.text("status IN ('pending', 'sending')"), postgresql_where=sa.text("status IN ('pending', 'sending')"))
        batch_op.create_index(batch_op.f('ix_outbound_email_recipient_id'), ['recipient_id'], unique=False)

    op.create_table('deadline_anchor_move',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pact_id', sa.Integer(), nullable=False),
    sa.Column('rule_id', sa.String(length=80), nullable=False),
    sa.Column('natural_anchor_at', casework.models.base.UTCDateTime(), nullable=False),
    sa.Column('anchor_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('moved_at', casework.models.base.UTCDateTime(), nullable=False),
    sa.Column('moved_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("reason != ''", name=op.f('ck_deadline_anchor_move_has_reason')),
    sa.ForeignKeyConstraint(['moved_by_id'], ['user_account.id'], name=op.f('fk_deadline_anchor_move_moved_by_id_user_account')),
    sa.ForeignKeyConstraint(['pact_id'], ['pact.id'], name=op.f('fk_deadline_anchor_move_pact_id_pact'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deadline_anchor_move'))
    )
    with op.batch_alter_table('deadline_anchor_move', schema=None) as batch_op:
        batch_op.create_index('ix_deadline_anchor_move_pact_rule', ['pact_id', 'rule_id'], unique=False)

    op.create_table('deadline_pause',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pact_id', sa.Integer(), nullable=False),
    sa.Column('rule_id', sa.String(length=80), nullable=False),
    sa.Column('paused_at', casework.models.base.UTCDateTime(), nullable=False),
    sa.Column('resumed_at', casework.models.base.UTCDateTime(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('paused_by_id', sa.Integer(), nullable=True),
    sa.Column('resumed_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("reason != ''", name=op.f('ck_deadline_pause_has_reason')),
    sa.CheckConstraint('resumed_at IS NULL OR resumed_at >= paused_at', name=op.f('ck_deadline_pause_resumed_after_paused')),
    sa.ForeignKeyConstraint(['pact_id'], ['pact.id'], name=op.f('fk_deadline_pause_pact_id_pact'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['paused_by_id'], ['user_account.id'], name=op.f('fk_deadline_pause_paused_by_id_user_account')),
    sa.ForeignKeyConstraint(['resumed_by_id'], ['user_account.id'], name=op.f('fk_deadline_pause_resumed_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deadline_pause'))
    )
    with op.batch_alter_table('deadline_pause', schema=None) as batch_op:
        batch_op.create_index('ix_deadline_pause_open', ['pact_id', 'rule_id'], unique=True, sqlite_where=sa.text('resumed_at IS NULL'), postgresql_where=sa.text('resumed_at IS NULL'))
        batch_op.create_index('ix_deadline_pause_pact_rule', ['pact_id', 'rule_id'], unique=False)

    op.create_table('pact_deadline',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pact_id', sa.Integer(), nullable=False),
    sa.Column('rule_id', sa.String(length=80), nullable=False),
    sa.Column('state', sa.String(length=40), nullable=False),
    sa.Column('state_entered_at', casework.models.base.UTCDateTime(), nullable=False),
    sa.Column('natural_anchor_at', casework.models.base.UTCDateTime(), nullable=False),
    sa.Column('anchor_on', sa.Date(), nullable=False),
    sa.Column('extension', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('due_at', casework.models.base.UTCDateTime(), nullable=False),
    sa.Column('paused', sa.Boolean(), nullable=False),
    sa.Column('next_fire_at', casework.models.base.UTCDateTime(), nullable=True),
    sa.Column('created_at', casework.models.base.UTCDateTime(), nullable=False),
    sa.Column('ended_at', casework.models.base.UTCDateTime(), nullable=True),
    sa.Column('met', sa.Boolean(), nullable=True),
    sa.CheckConstraint('ended_at IS NULL OR next_fire_at IS NULL', name=op.f('ck_pact_deadline_ended_fires_no_more')),
    sa.ForeignKeyConstraint(['pact_id'], ['pact.id'], name=op.f('fk_pact_deadline_pact_id_pact'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pact_deadline'))
    )
    with op.batch_alter_table('pact_deadline', schema=None) as batch_op:
        batch_op.create_index('ix_pact_deadline_live', ['pact_id', 'rule_id'], unique=True, sqlite_where=sa.text('ended_at IS NULL'), postgresql_where=sa.text('ended_at IS NULL'))
        batch_op.create_index('ix_pact_deadline_next_fire_at', ['next_fire_at'], unique=False, sqlite_where=sa.text('next_fire_at IS NOT NULL'), postgresql_where=sa.text('next_fire_at IS NOT NULL'))
        batch_op.create_index('ix_pact_deadline_pact_id', ['pact_id'], unique=False)

    op.create_table('notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('reminder', 'escalation', 'escalation_again', 'message', name='notification_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('pact_id', sa.Integer(), nullable=True),
    sa.Column('deadline_id', sa.Integer(), nullable=True),
    sa.Column('rule_id', sa.String(length=80), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('message', sa.JSON(), nullable=True),
    sa.Column('created_at', casework.models.base.UTCDateTime(), nullable=False),
    sa.Column('done_at', casework.models.base.UTCDateTime(), nullable=True),
    sa.Column('snoozed_until', casework.models.base.UTCDateTime(), nullable=True),
    sa.Column('resolved_at', casework.models.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['deadline_id'], ['pact_deadline.id'], name=op.f('fk_notification_deadline_id_pact_deadline'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['pact_id'], ['pact.id'], name=op.f('fk_notification_pact_id_pact'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_notification_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification'))
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index('ix_notification_deadline_id', ['deadline_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notification_pact_id'), ['pact_id'], unique=False)
        batch_op.create_index('ix_notification_unread', ['user_id', 'snoozed_until'], unique=False, sqlite_where=sa.text('done_at IS NULL AND resolved_at IS NULL'), postgresql_where=sa.text('done_at IS NULL AND resolved_at IS NULL'))
        batch_op.create_index('ix_notification_user_id_created_at', ['user_id', 'created_at'], unique=False)

    op.create_table('reminder',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pact_id', sa.Integer(), nullable=False),
    sa.Column('rule_id', sa.String(length=80), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('reminder', 'escalation', 'escalation_again', name='reminder_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('deadline_id', sa.Integer(), nullable=False),
    sa.Column('fire_at', casework.models.base.UTCDateTime(), nullable=False),
    sa.Column('created_at', casework.models.base.UTCDateTime(), nullable=False),
    sa.Column('email_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['deadline_id'], ['pact_deadline.id'], name=op.f('fk_reminder_deadline_id_pact_deadline'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['email_id'], ['outbound_email.id'], name=op.f('fk_reminder_email_id_outbound_email'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['pact_id'], ['pact.id'], name=op.f('fk_reminder_pact_id_pact'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recipient_id'], ['user_account.id'], name=op.f('fk_reminder_recipient_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder')),
    sa.UniqueConstraint('pact_id', 'rule_id', 'due_on', 'recipient_id', 'kind', name=op.f('uq_reminder_pact_id_rule_id_due_on_recipient_id_kind'))
    )
    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.create_index('ix_reminder_deadline_id', ['deadline_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reminder_email_id'), ['email_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reminder_recipient_id'), ['recipient_id'], unique=False)

    dialect = op.get_bind().dialect.name
    for statement in DEADLINE_REFRESH_DDL.get(dialect, []):
        op.execute(statement)
    # The pacts already open get their deadline rows at the scheduler's next sweep.
    op.execute("INSERT INTO deadline_refresh (pact_id) SELECT id FROM pact WHERE closed_at IS NULL")


def downgrade() -> None:
    for statement in DROP_TRIGGERS.get(op.get_bind().dialect.name, []):
        op.execute(statement)
    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reminder_recipient_id'))
        batch_op.drop_index(batch_op.f('ix_reminder_email_id'))
        batch_op.drop_index('ix_reminder_deadline_id')

    op.drop_table('reminder')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_user_id_created_at')
        batch_op.drop_index('ix_notification_unread', sqlite_where=sa.text('done_at IS NULL AND resolved_at IS NULL'), postgresql_where=sa.text('done_at IS NULL AND resolved_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_notification_pact_id'))
        batch_op.drop_index('ix_notification_deadline_id')

    op.drop_table('notification')
    with op.batch_alter_table('pact_deadline', schema=None) as batch_op:
        batch_op.drop_index('ix_pact_deadline_pact_id')
        batch_op.drop_index('ix_pact_deadline_next_fire_at', sqlite_where=sa.text('next_fire_at IS NOT NULL'), postgresql_where=sa.text('next_fire_at IS NOT NULL'))
        batch_op.drop_index('ix_pact_deadline_live', sqlite_where=sa.text('ended_at IS NULL'), postgresql_where=sa.text('ended_at IS NULL'))

    op.drop_table('pact_deadline')
    with op.batch_alter_table('deadline_pause', schema=None) as batch_op:
        batch_op.drop_index('ix_deadline_pause_pact_rule')
        batch_op.drop_index('ix_deadline_pause_open', sqlite_where=sa.text('resumed_at IS NULL'), postgresql_where=sa.text('resumed_at IS NULL'))

    op.drop_table('deadline_pause')
    with op.batch_alter_table('deadline_anchor_move', schema=None) as batch_op:
        batch_op.drop_index('ix_deadline_anchor_move_pact_rule')

    op.drop_table('deadline_anchor_move')
    with op.batch_alter_table('outbound_email', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbound_email_recipient_id'))
        batch_op.drop_index('ix_outbound_email_next_attempt_at', sqlite_where=sa.text("status IN ('pending', 'sending')"), postgresql_where=sa.text("status IN ('pending', 'sending')"))
        batch_op.drop_index('ix_outbound_email_failed', sqlite_where=sa.text("status = 'failed'"), postgresql_where=sa.text("status = 'failed'"))

    op.drop_table('outbound_email')
    with op.batch_alter_table('calendar_feed_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calendar_feed_token_user_id'))

    op.drop_table('calendar_feed_token')
    op.drop_table('scheduler_lock')
    with op.batch_alter_table('deadline_refresh', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deadline_refresh_pact_id'))

    op.drop_table('deadline_refresh')
