"""service referrals' steps queue their pact's deadline refresh: triggers on service_referral

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 12:00:00
"""

from __future__ import annotations

from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


# As casework.models.reminders.REFERRAL_REFRESH_DDL; PostgreSQL's reuse 0003's queue_deadline_refresh().
SQLITE = (
    'CREATE TRIGGER referral_refresh_on_insert AFTER INSERT ON service_referral BEGIN INSERT INTO deadline_refresh (pact_id) VALUES (NEW.pact_id); END',
    'CREATE TRIGGER referral_refresh_on_update AFTER UPDATE ON service_referral WHEN OLD.pact_id IS NOT NEW.pact_id OR OLD.status IS NOT NEW.status OR OLD.requested_at IS NOT NEW.requested_at OR OLD.answered_at IS NOT NEW.answered_at OR OLD.agreed_start_on IS NOT NEW.agreed_start_on OR OLD.started_on IS NOT NEW.started_on OR OLD.ended_at IS NOT NEW.ended_at BEGIN INSERT INTO deadline_refresh (pact_id) VALUES (NEW.pact_id); END',
    'CREATE TRIGGER referral_refresh_on_delete AFTER DELETE ON service_referral BEGIN INSERT INTO deadline_refresh (pact_id) VALUES (OLD.pact_id); END',
)
POSTGRESQL = (
    'CREATE TRIGGER referral_refresh AFTER INSERT OR DELETE ON service_referral FOR EACH ROW EXECUTE FUNCTION queue_deadline_refresh()',
    'CREATE TRIGGER referral_refresh_on_update AFTER UPDATE ON service_referral FOR EACH ROW WHEN (OLD.pact_id IS DISTINCT FROM NEW.pact_id OR OLD.status IS DISTINCT FROM NEW.status OR OLD.requested_at IS DISTINCT FROM NEW.requested_at OR OLD.answered_at IS DISTINCT FROM NEW.answered_at OR OLD.agreed_start_on IS DISTINCT FROM NEW.agreed_start_on OR OLD.started_on IS DISTINCT FROM NEW.started_on OR OLD.ended_at IS DISTINCT FROM NEW.ended_at) EXECUTE FUNCTION queue_deadline_refresh()',
)
TRIGGERS = {
    'sqlite': ('referral_refresh_on_insert', 'referral_refresh_on_update', 'referral_refresh_on_delete'),
    'postgresql': ('referral_refresh', 'referral_refresh_on_update'),
}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in SQLITE if dialect == 'sqlite' else POSTGRESQL:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for name in TRIGGERS[dialect]:
        op.execute(f'DROP TRIGGER IF EXISTS {name}' if dialect == 'sqlite'
                   else f'DROP TRIGGER IF EXISTS {name} ON service_referral')
