"""What people do to a pact's deadlines: pause one, resume it, count it from another day, put off
its reminder (snooze).

Each takes its turn with the scheduler's sweep, records who did what and why, moves the
pact's version like any change of the pact, and recomputes the pact's deadline rows at once
(casework.reminders.deadline_rows), so the next reminder follows the change.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session

from casework.errors import InvalidInput
from casework.models import (
    DeadlineAnchorMove,
    DeadlinePause,
    DeadlineSnooze,
    Notification,
    NotificationKind,
    Pact,
    PactDeadline,
    User,
)
from casework.reminders.deadline_rows import ReminderPolicy, pact_definition, refresh_pact_deadlines
from casework.reminders.deadlines import local_time, refresh_next_deadline
from casework.reminders.scheduler_lock import take_turn
from casework.reminders.sweep import SWEEP_TURN
from casework.security import record_changes
from casework.versioning import check_version, touch
from casework.workflow import WorkflowRegistry


def _take_turn_with_the_scheduler(session: Session, actor: User | None, now: datetime) -> None:
    """Recompute a pact's rows only while no sweep batch does: both could add the same row."""
    take_turn(session, SWEEP_TURN, f"user:{actor.id}" if actor else "system", now)


def _live_row(session: Session, registry: WorkflowRegistry, pact: Pact, rule_id: str, now: datetime,
              policy: ReminderPolicy) -> PactDeadline:
    rows = {row.rule_id: row for row in refresh_pact_deadlines(session, registry, pact, now=now, policy=policy)}
    if rule_id not in rows:
        raise InvalidInput({"rule_id": "not_a_current_deadline"})
    return rows[rule_id]


def _changed(session: Session, registry: WorkflowRegistry, pact: Pact, now: datetime, policy: ReminderPolicy,
             expected_version: int | None) -> None:
    """The pact's deadline changed: its stored next deadline and version follow, like any change."""
    refresh_next_deadline(session, pact_definition(registry, pact), pact, policy.zone)
    touch(pact, expected_version, now)
    refresh_pact_deadlines(session, registry, pact, now=now, policy=policy)


def pause_deadline(
    session: Session, registry: WorkflowRegistry, pact: Pact, rule_id: str, *, reason: str,
    actor: User | None, now: datetime, policy: ReminderPolicy,
    expected_version: int | None = None,
) -> DeadlinePause:
    """Stop a current deadline for a justified reason (e.g. the person is in hospital).

    No reminder or escalation goes out while it is paused; on resuming, the days paused are
    added to it. InvalidInput: reason "required", rule_id "not_a_current_deadline" or
    "already_paused".
    """
    if not reason.strip():
        raise InvalidInput({"reason": "required"})
    check_version(pact, expected_version)
    _take_turn_with_the_scheduler(session, actor, now)
    row = _live_row(session, registry, pact, rule_id, now, policy)
    if row.paused:
        raise InvalidInput({"rule_id": "already_paused"})
    pause = DeadlinePause(pact_id=pact.id, rule_id=rule_id, paused_at=now, reason=reason.strip(),
                          paused_by_id=actor.id if actor else None)
    session.add(pause)
    session.flush()
    _changed(session, registry, pact, now, policy, expected_version)
    return pause


def resume_deadline(
    session: Session, registry: WorkflowRegistry, pact: Pact, rule_id: str, *,
    actor: User | None, now: datetime, policy: ReminderPolicy,
    expected_version: int | None = None,
) -> PactDeadline:
    """Restart a paused deadline, its due day pushed later by the days it was paused."""
    check_version(pact, expected_version)
    _take_turn_with_the_scheduler(session, actor, now)
    pause = session.scalars(select(DeadlinePause).where(
        DeadlinePause.pact_id == pact.id, DeadlinePause.rule_id == rule_id, DeadlinePause.resumed_at.is_(None)
    )).one_or_none()
    if pause is None:
        raise InvalidInput({"rule_id": "not_paused"})
    pause.resumed_at = max(now, pause.paused_at)
    pause.resumed_by_id = actor.id if actor else None
    session.flush()
    _changed(session, registry, pact, now, policy, expected_version)
    return _live_row(session, registry, pact, rule_id, now, policy)


def move_deadline_anchor(
    session: Session, registry: WorkflowRegistry, pact: Pact, rule_id: str, *, anchor_on: date, reason: str,
    actor: User | None, now: datetime, policy: ReminderPolicy,
    expected_version: int | None = None,
) -> PactDeadline:
    """Count a current deadline from another day (e.g. the day a referral really arrived).

    The deadline, its reminders and escalations are recomputed; reminders already sent for
    the old due day stay sent. The move lasts while the rule's own anchor stays the same.
    InvalidInput: reason "required", anchor_on "in_future", rule_id "not_a_current_deadline".
    """
    errors = {}
    if not reason.strip():
        errors["reason"] = "required"
    if anchor_on > now.astimezone(policy.zone).date():
        errors["anchor_on"] = "in_future"
    if errors:
        raise InvalidInput(errors)
    check_version(pact, expected_version)
    _take_turn_with_the_scheduler(session, actor, now)
    row = _live_row(session, registry, pact, rule_id, now, policy)
    session.add(DeadlineAnchorMove(
        pact_id=pact.id, rule_id=rule_id, natural_anchor_at=row.natural_anchor_at, anchor_on=anchor_on,
        reason=reason.strip(), moved_at=now, moved_by_id=actor.id if actor else None,
    ))
    session.flush()
    _changed(session, registry, pact, now, policy, expected_version)
    return _live_row(session, registry, pact, rule_id, now, policy)


SNOOZE_FIELD = "reminder_snoozed_until_date"
SNOOZE_REASON_FIELD = "reminder_snooze_reason"
MAX_SNOOZE_REASON = 500


def snooze_deadline(
    session: Session, pact: Pact, rule_id: str, *, until_on: date, reason: str = "", actor: User,
    now: datetime, zone: ZoneInfo, reminder_hour: int = 8,
) -> DeadlineSnooze:
    """Put off the reminder of the pact's next deadline until the local day `until_on`.

    The deadline itself stays where it is: a late deadline is still late on the pact page and
    for the supervisors' escalations; it leaves the actor's "Oggi" list, and their waiting
    reminder notifications about it sleep until that day. Kept in the pact's edit history.
    InvalidInput: until_on "not_in_future", reason "too_long", rule_id "not_a_current_deadline".
    """
    errors = {}
    if until_on <= now.astimezone(zone).date():
        errors["until_on"] = "not_in_future"
    if len(reason.strip()) > MAX_SNOOZE_REASON:
        errors["reason"] = "too_long"
    if pact.closed_at is not None or pact.next_deadline_at is None or pact.next_deadline_label != rule_id:
        errors["rule_id"] = "not_a_current_deadline"
    if errors:
        raise InvalidInput(errors)
    before = session.scalar(
        select(func.max(DeadlineSnooze.until_on)).where(
            DeadlineSnooze.pact_id == pact.id, DeadlineSnooze.rule_id == rule_id,
            DeadlineSnooze.due_at == pact.next_deadline_at)
    )
    snooze = DeadlineSnooze(pact_id=pact.id, rule_id=rule_id, due_at=pact.next_deadline_at, until_on=until_on,
                            reason=reason.strip(), snoozed_at=now, snoozed_by_id=actor.id)
    session.add(snooze)
    record_changes(session, "pact", pact.id,
                   {SNOOZE_FIELD: before.isoformat() if before else "", SNOOZE_REASON_FIELD: ""},
                   {SNOOZE_FIELD: until_on.isoformat(), SNOOZE_REASON_FIELD: reason.strip()},
                   actor=actor, now=now)
    session.execute(
        update(Notification).where(
            Notification.user_id == actor.id, Notification.pact_id == pact.id, Notification.rule_id == rule_id,
            Notification.kind == NotificationKind.REMINDER, Notification.done_at.is_(None),
            Notification.resolved_at.is_(None),
        ).values(snoozed_until=local_time(until_on, reminder_hour, zone)).execution_options(synchronize_session=False)
    )
    session.flush()
    return snooze


def snoozed_now(now: datetime, zone: ZoneInfo):
    """The condition on `Pact` rows: their next deadline's reminder is put off past today."""
    return exists().where(
        DeadlineSnooze.pact_id == Pact.id, DeadlineSnooze.rule_id == Pact.next_deadline_label,
        DeadlineSnooze.due_at == Pact.next_deadline_at,
        DeadlineSnooze.until_on > now.astimezone(zone).date(),
    ).correlate(Pact)
