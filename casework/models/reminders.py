"""Deadlines as rows, their reminders and escalations, pauses and moved anchors, notifications.

A pact's deadlines live in `pact_deadline`, one row per active rule, with the time its next
reminder or escalation falls due (`next_fire_at`, indexed): the scheduler's sweep reads only
the rows that are due. Each reminder sent is a `reminder` row whose unique key (pact, rule,
due day, recipient, kind) makes it impossible to send the same one twice.

`deadline_refresh` is a queue the database fills by itself (triggers on `pact`,
`follow_up_contact` and `service_referral`): whatever changes a pact's state, contacts or
referrals' steps, through the ORM or not,
leaves the pact's id there in the same transaction, and the scheduler recomputes its rows.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    DDL,
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.models.base import Base, str_enum
from casework.models.mail import OutboundEmail
from casework.models.pact import Pact
from casework.models.user import User


class PactDeadline(Base):
    """One deadline of a pact's current state (or a past one, once `ended_at` is set).

    The row stays the same while its anchor does: a pause or a moved anchor updates it in
    place. A new anchor (the state entered again, a new contact) ends it and starts another,
    so ended rows are the history of deadlines met (`met`) or missed.
    """

    __tablename__ = "pact_deadline"
    __table_args__ = (
        # The sweep: due rows only; paused and ended rows have no next firing.
        Index(
            "ix_pact_deadline_next_fire_at", "next_fire_at",
            sqlite_where=text("next_fire_at IS NOT NULL"), postgresql_where=text("next_fire_at IS NOT NULL"),
        ),
        # One live row per pact and rule.
        Index(
            "ix_pact_deadline_live", "pact_id", "rule_id", unique=True,
            sqlite_where=text("ended_at IS NULL"), postgresql_where=text("ended_at IS NULL"),
        ),
        Index("ix_pact_deadline_pact_id", "pact_id"),
        CheckConstraint("ended_at IS NULL OR next_fire_at IS NULL", name="ended_fires_no_more"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pact_id: Mapped[int] = mapped_column(ForeignKey("pact.id", ondelete="CASCADE"))
    rule_id: Mapped[str] = mapped_column(String(80))
    state: Mapped[str] = mapped_column(String(40))
    # The pact's entry into `state` this row was computed for: a different value on the pact
    # means the pact moved and the row is stale.
    state_entered_at: Mapped[datetime]
    # The anchor the rule gives (state entry, last contact...) and the local day actually
    # counted from (the same day unless someone moved the anchor).
    natural_anchor_at: Mapped[datetime]
    anchor_on: Mapped[date]
    # Days (working days for a working-days rule) added for pauses that ended.
    extension: Mapped[int] = mapped_column(default=0)
    due_on: Mapped[date]
    due_at: Mapped[datetime]
    paused: Mapped[bool] = mapped_column(default=False)
    next_fire_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    met: Mapped[bool | None]

    pact: Mapped[Pact] = relationship()


class ReminderKind(enum.Enum):
    REMINDER = "reminder"  # to the case manager, before the due day
    ESCALATION = "escalation"  # to the supervisors of the pact's territory, once overdue
    ESCALATION_AGAIN = "escalation_again"  # to the territorial manager, overdue for longer


class Reminder(Base):
    """One reminder or escalation about one deadline, to one person: sent exactly once."""

    __tablename__ = "reminder"
    __table_args__ = (
        UniqueConstraint("pact_id", "rule_id", "due_on", "recipient_id", "kind"),
        Index("ix_reminder_deadline_id", "deadline_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pact_id: Mapped[int] = mapped_column(ForeignKey("pact.id", ondelete="CASCADE"))
    rule_id: Mapped[str] = mapped_column(String(80))
    due_on: Mapped[date]
    recipient_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ReminderKind] = mapped_column(str_enum(ReminderKind, "reminder_kind"))
    deadline_id: Mapped[int] = mapped_column(ForeignKey("pact_deadline.id", ondelete="CASCADE"))
    # When it was meant to go, and when it went: the difference is the catch-up after downtime.
    fire_at: Mapped[datetime]
    created_at: Mapped[datetime]
    email_id: Mapped[int | None] = mapped_column(ForeignKey("outbound_email.id", ondelete="SET NULL"), index=True)

    deadline: Mapped[PactDeadline] = relationship()
    recipient: Mapped[User] = relationship()
    email: Mapped[OutboundEmail | None] = relationship()


class DeadlinePause(Base):
    """A deadline stopped for a justified reason; the days paused do not count."""

    __tablename__ = "deadline_pause"
    __table_args__ = (
        Index("ix_deadline_pause_pact_rule", "pact_id", "rule_id"),
        Index(
            "ix_deadline_pause_open", "pact_id", "rule_id", unique=True,
            sqlite_where=text("resumed_at IS NULL"), postgresql_where=text("resumed_at IS NULL"),
        ),
        CheckConstraint("resumed_at IS NULL OR resumed_at >= paused_at", name="resumed_after_paused"),
        CheckConstraint("reason != ''", name="has_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pact_id: Mapped[int] = mapped_column(ForeignKey("pact.id", ondelete="CASCADE"))
    rule_id: Mapped[str] = mapped_column(String(80))
    paused_at: Mapped[datetime]
    resumed_at: Mapped[datetime | None]
    reason: Mapped[str] = mapped_column(Text)
    paused_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    resumed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    paused_by: Mapped[User | None] = relationship(foreign_keys=[paused_by_id])


class DeadlineAnchorMove(Base):
    """A deadline counted from another day than its rule's anchor (e.g. a referral received
    by post days before it was recorded). It holds while the rule's own anchor stays the one
    it replaced."""

    __tablename__ = "deadline_anchor_move"
    __table_args__ = (
        Index("ix_deadline_anchor_move_pact_rule", "pact_id", "rule_id"),
        CheckConstraint("reason != ''", name="has_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pact_id: Mapped[int] = mapped_column(ForeignKey("pact.id", ondelete="CASCADE"))
    rule_id: Mapped[str] = mapped_column(String(80))
    natural_anchor_at: Mapped[datetime]
    anchor_on: Mapped[date]
    reason: Mapped[str] = mapped_column(Text)
    moved_at: Mapped[datetime]
    moved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class DeadlineSnooze(Base):
    """A deadline's reminder put off until a day: it leaves the case manager's "Oggi" list
    until then, though the deadline itself does not move (late stays late). It holds for the
    deadline as it was due (`due_at`): a deadline that falls due again is listed again."""

    __tablename__ = "deadline_snooze"
    __table_args__ = (
        Index("ix_deadline_snooze_pact_rule", "pact_id", "rule_id", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pact_id: Mapped[int] = mapped_column(ForeignKey("pact.id", ondelete="CASCADE"))
    rule_id: Mapped[str] = mapped_column(String(80))
    due_at: Mapped[datetime]
    until_on: Mapped[date]  # the local day it shows again
    reason: Mapped[str] = mapped_column(Text, default="")
    snoozed_at: Mapped[datetime]
    snoozed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class DeadlineRefresh(Base):
    """A pact whose deadlines must be recomputed; filled by database triggers.

    No foreign key: a pact being deleted fires the contact trigger on its way out.
    """

    __tablename__ = "deadline_refresh"

    id: Mapped[int] = mapped_column(primary_key=True)
    pact_id: Mapped[int] = mapped_column(index=True)


class NotificationKind(enum.Enum):
    REMINDER = "reminder"
    ESCALATION = "escalation"
    ESCALATION_AGAIN = "escalation_again"
    MESSAGE = "message"  # any other notice, with its text in `message`


class Notification(Base):
    """What a person sees in Casework's notification list; texts are rendered in their language
    when shown. Done, snoozed until a time, or resolved by itself once the deadline it was
    about is met or left."""

    __tablename__ = "notification"
    __table_args__ = (
        Index("ix_notification_user_id_created_at", "user_id", "created_at"),
        # The unread count on every page.
        Index(
            "ix_notification_unread", "user_id", "snoozed_until",
            sqlite_where=text("done_at IS NULL AND resolved_at IS NULL"),
            postgresql_where=text("done_at IS NULL AND resolved_at IS NULL"),
        ),
        Index("ix_notification_deadline_id", "deadline_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    kind: Mapped[NotificationKind] = mapped_column(str_enum(NotificationKind, "notification_kind"))
    pact_id: Mapped[int | None] = mapped_column(ForeignKey("pact.id", ondelete="CASCADE"), index=True)
    deadline_id: Mapped[int | None] = mapped_column(ForeignKey("pact_deadline.id", ondelete="CASCADE"))
    rule_id: Mapped[str] = mapped_column(String(80), default="")
    due_on: Mapped[date | None]
    # For MESSAGE: locale -> the text of the notice (casework.i18n.in_every_locale).
    message: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    snoozed_until: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
    pact: Mapped[Pact | None] = relationship()


# Triggers that queue a pact for a deadline refresh whenever its state, its deadline or its
# contacts change. Copied into the migration that creates them.
DEADLINE_REFRESH_DDL = {
    "sqlite": [
        "CREATE TRIGGER pact_refresh_on_insert AFTER INSERT ON pact "
        "BEGIN INSERT INTO deadline_refresh (pact_id) VALUES (NEW.id); END",
        "CREATE TRIGGER pact_refresh_on_update AFTER UPDATE ON pact "
        "WHEN OLD.state IS NOT NEW.state OR OLD.state_entered_at IS NOT NEW.state_entered_at "
        "OR OLD.closed_at IS NOT NEW.closed_at OR OLD.next_deadline_at IS NOT NEW.next_deadline_at "
        "OR OLD.workflow_version IS NOT NEW.workflow_version "
        "BEGIN INSERT INTO deadline_refresh (pact_id) VALUES (NEW.id); END",
        "CREATE TRIGGER contact_refresh_on_insert AFTER INSERT ON follow_up_contact "
        "BEGIN INSERT INTO deadline_refresh (pact_id) VALUES (NEW.pact_id); END",
        "CREATE TRIGGER contact_refresh_on_update AFTER UPDATE ON follow_up_contact "
        "BEGIN INSERT INTO deadline_refresh (pact_id) VALUES (NEW.pact_id); END",
        "CREATE TRIGGER contact_refresh_on_delete AFTER DELETE ON follow_up_contact "
        "BEGIN INSERT INTO deadline_refresh (pact_id) VALUES (OLD.pact_id); END",
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION queue_deadline_refresh() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN "
        "IF TG_TABLE_NAME = 'pact' THEN INSERT INTO deadline_refresh (pact_id) VALUES (NEW.id); "
        "ELSIF TG_OP = 'DELETE' THEN INSERT INTO deadline_refresh (pact_id) VALUES (OLD.pact_id); "
        "ELSE INSERT INTO deadline_refresh (pact_id) VALUES (NEW.pact_id); END IF; "
        "RETURN NULL; END $$",
        "CREATE TRIGGER pact_refresh_on_insert AFTER INSERT ON pact "
        "FOR EACH ROW EXECUTE FUNCTION queue_deadline_refresh()",
        "CREATE TRIGGER pact_refresh_on_update AFTER UPDATE ON pact FOR EACH ROW "
        "WHEN (OLD.state IS DISTINCT FROM NEW.state OR OLD.state_entered_at IS DISTINCT FROM NEW.state_entered_at "
        "OR OLD.closed_at IS DISTINCT FROM NEW.closed_at OR OLD.next_deadline_at IS DISTINCT FROM NEW.next_deadline_at "
        "OR OLD.workflow_version IS DISTINCT FROM NEW.workflow_version) "
        "EXECUTE FUNCTION queue_deadline_refresh()",
        "CREATE TRIGGER contact_refresh AFTER INSERT OR UPDATE OR DELETE ON follow_up_contact "
        "FOR EACH ROW EXECUTE FUNCTION queue_deadline_refresh()",
    ],
}

# A service referral's steps are deadlines of its pact (casework.reminders.referral_deadlines):
# a new referral, or a change of its status or of one of its dates, queues the pact too.
# Copied into migration 0015, which creates them.
_REFERRAL_DATES = ("status", "requested_at", "answered_at", "agreed_start_on", "started_on", "ended_at")
REFERRAL_REFRESH_DDL = {
    "sqlite": [
        "CREATE TRIGGER referral_refresh_on_insert AFTER INSERT ON service_referral "
        "BEGIN INSERT INTO deadline_refresh (pact_id) VALUES (NEW.pact_id); END",
        "CREATE TRIGGER referral_refresh_on_update AFTER UPDATE ON service_referral WHEN "
        + " OR ".join(f"OLD.{column} IS NOT NEW.{column}" for column in ("pact_id", *_REFERRAL_DATES))
        + " BEGIN INSERT INTO deadline_refresh (pact_id) VALUES (NEW.pact_id); END",
        "CREATE TRIGGER referral_refresh_on_delete AFTER DELETE ON service_referral "
        "BEGIN INSERT INTO deadline_refresh (pact_id) VALUES (OLD.pact_id); END",
    ],
    "postgresql": [
        "CREATE TRIGGER referral_refresh AFTER INSERT OR DELETE ON service_referral "
        "FOR EACH ROW EXECUTE FUNCTION queue_deadline_refresh()",
        "CREATE TRIGGER referral_refresh_on_update AFTER UPDATE ON service_referral FOR EACH ROW WHEN ("
        + " OR ".join(f"OLD.{column} IS DISTINCT FROM NEW.{column}" for column in ("pact_id", *_REFERRAL_DATES))
        + ") EXECUTE FUNCTION queue_deadline_refresh()",
    ],
}

for _dialect, _statements in (*DEADLINE_REFRESH_DDL.items(), *REFERRAL_REFRESH_DDL.items()):
    for _statement in _statements:
        # On the metadata, not a table: every table the triggers name exists by then.
        event.listen(Base.metadata, "after_create", DDL(_statement.replace("%", "%%")).execute_if(dialect=_dialect))
