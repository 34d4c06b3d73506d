"""a person's erasure: each programme's retention period, the person's erasure mark, and the
audit tables' free text that an erasure may empty

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04 22:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from casework.models.base import UTCDateTime

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

TABLES = ("change_record", "transition_record", "service_referral_event", "pact_approval", "pact_reassignment")

# Copied, not imported: a revision must not change when the models module does.
ERASABLE_DDL = {'postgresql': ['CREATE OR REPLACE FUNCTION refuse_audit_change_but_erase() RETURNS trigger LANGUAGE plpgsql AS $$ '
                "BEGIN IF TG_OP = 'UPDATE' AND (to_jsonb(NEW) - TG_ARGV) = (to_jsonb(OLD) - TG_ARGV) AND NOT EXISTS "
                "(SELECT 1 FROM unnest(TG_ARGV) AS erased(name) WHERE to_jsonb(NEW) ->> erased.name <> '—') THEN "
                "RETURN NEW; END IF; RAISE EXCEPTION '% rows are append-only', TG_TABLE_NAME USING ERRCODE = "
                "'integrity_constraint_violation'; END $$",
                'CREATE TRIGGER change_record_append_only BEFORE UPDATE OR DELETE ON change_record FOR EACH ROW '
                "EXECUTE FUNCTION refuse_audit_change_but_erase('old_value', 'new_value')",
                'CREATE TRIGGER transition_record_append_only BEFORE UPDATE OR DELETE ON transition_record FOR EACH '
                "ROW EXECUTE FUNCTION refuse_audit_change_but_erase('comment')",
                'CREATE TRIGGER service_referral_event_append_only BEFORE UPDATE OR DELETE ON service_referral_event '
                "FOR EACH ROW EXECUTE FUNCTION refuse_audit_change_but_erase('note')",
                'CREATE TRIGGER pact_approval_append_only BEFORE UPDATE OR DELETE ON pact_approval FOR EACH ROW '
                "EXECUTE FUNCTION refuse_audit_change_but_erase('comment')",
                'CREATE TRIGGER pact_reassignment_append_only BEFORE UPDATE OR DELETE ON pact_reassignment FOR EACH '
                "ROW EXECUTE FUNCTION refuse_audit_change_but_erase('reason')"],
 'sqlite': ["CREATE TRIGGER change_record_no_update BEFORE UPDATE ON change_record WHEN NOT (NEW.old_value = '—' AND "
            "NEW.new_value = '—' AND NEW.id IS OLD.id AND NEW.entity IS OLD.entity AND NEW.entity_id IS OLD.entity_id "
            'AND NEW.field IS OLD.field AND NEW.at IS OLD.at AND NEW.actor_id IS OLD.actor_id) BEGIN SELECT '
            "RAISE(ABORT, 'change_record rows are append-only'); END",
            'CREATE TRIGGER change_record_no_delete BEFORE DELETE ON change_record BEGIN SELECT RAISE(ABORT, '
            "'change_record rows are append-only'); END",
            "CREATE TRIGGER transition_record_no_update BEFORE UPDATE ON transition_record WHEN NOT (NEW.comment = '—' "
            'AND NEW.id IS OLD.id AND NEW.pact_id IS OLD.pact_id AND NEW.event IS OLD.event AND NEW.from_state IS '
            'OLD.from_state AND NEW.to_state IS OLD.to_state AND NEW.actor_id IS OLD.actor_id AND NEW.at IS OLD.at AND '
            'NEW.reason IS OLD.reason AND NEW.pact_version IS OLD.pact_version) BEGIN SELECT RAISE(ABORT, '
            "'transition_record rows are append-only'); END",
            'CREATE TRIGGER transition_record_no_delete BEFORE DELETE ON transition_record BEGIN SELECT RAISE(ABORT, '
            "'transition_record rows are append-only'); END",
            'CREATE TRIGGER service_referral_event_no_update BEFORE UPDATE ON service_referral_event WHEN NOT '
            "(NEW.note = '—' AND NEW.id IS OLD.id AND NEW.referral_id IS OLD.referral_id AND NEW.pact_id IS "
            'OLD.pact_id AND NEW.at IS OLD.at AND NEW.actor_id IS OLD.actor_id AND NEW.from_status IS OLD.from_status '
            'AND NEW.to_status IS OLD.to_status AND NEW.reason IS OLD.reason) BEGIN SELECT RAISE(ABORT, '
            "'service_referral_event rows are append-only'); END",
            'CREATE TRIGGER service_referral_event_no_delete BEFORE DELETE ON service_referral_event BEGIN SELECT '
            "RAISE(ABORT, 'service_referral_event rows are append-only'); END",
            "CREATE TRIGGER pact_approval_no_update BEFORE UPDATE ON pact_approval WHEN NOT (NEW.comment = '—' AND "
            'NEW.id IS OLD.id AND NEW.pact_id IS OLD.pact_id AND NEW.revision_id IS OLD.revision_id AND NEW.decision '
            'IS OLD.decision AND NEW.decided_by_id IS OLD.decided_by_id AND NEW.decided_at IS OLD.decided_at AND '
            "NEW.pact_version IS OLD.pact_version) BEGIN SELECT RAISE(ABORT, 'pact_approval rows are append-only'); "
            'END',
            'CREATE TRIGGER pact_approval_no_delete BEFORE DELETE ON pact_approval BEGIN SELECT RAISE(ABORT, '
            "'pact_approval rows are append-only'); END",
            "CREATE TRIGGER pact_reassignment_no_update BEFORE UPDATE ON pact_reassignment WHEN NOT (NEW.reason = '—' "
            'AND NEW.id IS OLD.id AND NEW.pact_id IS OLD.pact_id AND NEW.from_manager_id IS OLD.from_manager_id AND '
            'NEW.to_manager_id IS OLD.to_manager_id AND NEW.actor_id IS OLD.actor_id AND NEW.at IS OLD.at AND '
            "NEW.pact_version IS OLD.pact_version) BEGIN SELECT RAISE(ABORT, 'pact_reassignment rows are "
            "append-only'); END",
            'CREATE TRIGGER pact_reassignment_no_delete BEFORE DELETE ON pact_reassignment BEGIN SELECT RAISE(ABORT, '
            "'pact_reassignment rows are append-only'); END"]}
# As they were at 0019 (the transition records' own since 0001).
APPEND_ONLY_DDL = {'postgresql': ['CREATE OR REPLACE FUNCTION refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE '
                "EXCEPTION '% rows are append-only', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation'; "
                'END $$',
                'CREATE TRIGGER change_record_append_only BEFORE UPDATE OR DELETE ON change_record FOR EACH ROW '
                'EXECUTE FUNCTION refuse_audit_change()',
                'CREATE TRIGGER service_referral_event_append_only BEFORE UPDATE OR DELETE ON service_referral_event '
                'FOR EACH ROW EXECUTE FUNCTION refuse_audit_change()',
                'CREATE TRIGGER pact_approval_append_only BEFORE UPDATE OR DELETE ON pact_approval FOR EACH ROW '
                'EXECUTE FUNCTION refuse_audit_change()',
                'CREATE TRIGGER pact_reassignment_append_only BEFORE UPDATE OR DELETE ON pact_reassignment FOR EACH '
                'ROW EXECUTE FUNCTION refuse_audit_change()',
                'CREATE OR REPLACE FUNCTION refuse_transition_record_change() RETURNS trigger LANGUAGE plpgsql AS $$ '
                "BEGIN RAISE EXCEPTION 'transition records are append-only' USING ERRCODE = "
                "'integrity_constraint_violation'; END $$",
                'CREATE TRIGGER transition_record_append_only BEFORE UPDATE OR DELETE ON transition_record FOR EACH '
                'ROW EXECUTE FUNCTION refuse_transition_record_change()'],
 'sqlite': ['CREATE TRIGGER change_record_no_update BEFORE UPDATE ON change_record BEGIN SELECT RAISE(ABORT, '
            "'change_record rows are append-only'); END",
            'CREATE TRIGGER change_record_no_delete BEFORE DELETE ON change_record BEGIN SELECT RAISE(ABORT, '
            "'change_record rows are append-only'); END",
            'CREATE TRIGGER service_referral_event_no_update BEFORE UPDATE ON service_referral_event BEGIN SELECT '
            "RAISE(ABORT, 'service_referral_event rows are append-only'); END",
            'CREATE TRIGGER service_referral_event_no_delete BEFORE DELETE ON service_referral_event BEGIN SELECT '
            "RAISE(ABORT, 'service_referral_event rows are append-only'); END",
            'CREATE TRIGGER pact_approval_no_update BEFORE UPDATE ON pact_approval BEGIN SELECT RAISE(ABORT, '
            "'pact_approval rows are append-only'); END",
            'CREATE TRIGGER pact_approval_no_delete BEFORE DELETE ON pact_approval BEGIN SELECT RAISE(ABORT, '
            "'pact_approval rows are append-only'); END",
            'CREATE TRIGGER pact_reassignment_no_update BEFORE UPDATE ON pact_reassignment BEGIN SELECT RAISE(ABORT, '
            "'pact_reassignment rows are append-only'); END",
            'CREATE TRIGGER pact_reassignment_no_delete BEFORE DELETE ON pact_reassignment BEGIN SELECT RAISE(ABORT, '
            "'pact_reassignment rows are append-only'); END",
            'CREATE TRIGGER transition_record_no_update BEFORE UPDATE ON transition_record BEGIN SELECT RAISE(ABORT, '
            "'transition records are append-only'); END",
            'CREATE TRIGGER transition_record_no_delete BEFORE DELETE ON transition_record BEGIN SELECT RAISE(ABORT, '
            "'transition records are append-only'); END"]}

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
    # Plain ADD COLUMN on both databases: no table is rebuilt (the pact tables carry triggers).
    op.add_column('beneficiary', sa.Column('erased_at', UTCDateTime(), nullable=True))
    op.add_column('programme', sa.Column('retention_months', sa.Integer(), nullable=True))
    _drop_triggers()
    _create(ERASABLE_DDL)


def downgrade() -> None:
    _drop_triggers()
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP FUNCTION IF EXISTS refuse_audit_change_but_erase()')
    _create(APPEND_ONLY_DDL)
    with op.batch_alter_table('programme') as batch:
        batch.drop_column('retention_months')
    with op.batch_alter_table('beneficiary') as batch:
        batch.drop_column('erased_at')
