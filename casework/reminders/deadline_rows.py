"""Deadlines as rows: when each one's reminders and escalations fall due, kept in step with the pact.

How it fits together:

- Each open pact has one `PactDeadline` row per deadline rule of its current state, and one per
  running step of each of its service referrals (casework.reminders.referral_deadlines), computed
  by `refresh_pact_deadlines` from the workflow file, the pact's history and referrals, and the pauses and
  moved anchors people recorded (casework.reminders.deadlines,
  casework.reminders.deadline_operations). A row knows when its next reminder or escalation
  falls due (`next_fire_at`, in a partial index).
- Whatever changes a pact's state, contacts or service referrals queues the pact in `deadline_refresh` (database
  triggers, in the same transaction), so the rows follow moves made by any code path;
  `refresh_queued` takes the queue, first thing in every sweep (casework.reminders.sweep).

Firing times, for a deadline due on day D (local time, `reminder_hour`, Europe/Rome):

- reminder to the case manager: D minus `remind_before_days`, moved back to a working day;
- escalation to the supervisors of the pact's territory (the nearest territory above the
  person's comune, or the programme's territory, that has supervisors): D plus
  `escalate_after_days` plus one (overdue by that many whole days), moved on to a working day;
- second escalation, to the territorial manager (the supervisors of the next territory up
  that has any): likewise after `escalate_again_after_days`;
- a recurring rule (`every`) repeats all three for each later occurrence. Once the next
  occurrence is itself past due, the firings of the earlier one that have not gone out are
  dropped: it is the newer one that matters.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from casework.config import Settings
from casework.errors import UnknownWorkflow
from casework.models import (
    DeadlinePause,
    DeadlineRefresh,
    EmailStatus,
    Notification,
    OutboundEmail,
    Pact,
    PactDeadline,
    Reminder,
    ReminderKind,
)
from casework.reminders.calendars import pact_calendar
from casework.reminders.deadlines import (
    Deadline,
    StatePosition,
    end_of_local_day,
    local_time,
    occurrence_due,
    state_deadlines,
)
from casework.reminders.workdays import (
    NATIONAL,
    WorkingCalendar,
    working_day_on_or_after,
    working_day_on_or_before,
)
from casework.workflow import (
    DeadlineRule,
    WorkflowDefinition,
    WorkflowRegistry,
    split_referral_rule_id,
)

log = logging.getLogger(__name__)

# A recurring rule never needs more occurrences than this looked at in one go.
_MAX_OCCURRENCES = 1000


@dataclass(frozen=True)
class ReminderPolicy:
    """When firings go out and where e-mails link to."""

    zone: ZoneInfo  # Settings.zone: from_settings, or given explicitly
    reminder_hour: int = 8
    batch_size: int = 200
    base_url: str = "http://127.0.0.1:5000"

    @classmethod
    def from_settings(cls, settings: Settings) -> ReminderPolicy:
        return cls(zone=settings.zone, reminder_hour=settings.reminder_hour,
                   batch_size=settings.scheduler_batch_size, base_url=settings.base_url)


# --- firing times ------------------------------------------------------------------------

class Firing(NamedTuple):
    fire_at: datetime
    kind: ReminderKind
    due_on: date


def occurrence_firings(
    rule: DeadlineRule, due_on: date, policy: ReminderPolicy, calendar: WorkingCalendar = NATIONAL
) -> list[Firing]:
    """The reminder and escalations of one occurrence of a deadline due on `due_on`."""
    return list(_firings(rule.remind_before_days, rule.escalate_after_days, rule.escalate_again_after_days,
                         due_on, policy.reminder_hour, policy.zone, calendar))


@lru_cache(maxsize=16384)
def _firings(remind_before: int, escalate_after: int | None, escalate_again_after: int | None, due_on: date,
             hour: int, zone: ZoneInfo, calendar: WorkingCalendar = NATIONAL) -> tuple[Firing, ...]:
    firings = [Firing(
        local_time(working_day_on_or_before(due_on - timedelta(days=remind_before), calendar), hour, zone),
        ReminderKind.REMINDER, due_on,
    )]
    for days, kind in ((escalate_after, ReminderKind.ESCALATION), (escalate_again_after, ReminderKind.ESCALATION_AGAIN)):
        if days is not None:
            day = working_day_on_or_after(due_on + timedelta(days=days + 1), calendar)
            firings.append(Firing(local_time(day, hour, zone), kind, due_on))
    return tuple(firings)


def open_firings(
    rule: DeadlineRule,
    anchor_on: date,
    extension: int,
    policy: ReminderPolicy,
    now: datetime,
    sent: set[tuple[date, ReminderKind]],
    calendar: WorkingCalendar = NATIONAL,
) -> tuple[list[Firing], datetime | None]:
    """(firings not yet sent whose time has come, the time of the next one after `now`).

    `sent` holds (due day, kind) of the firings already written for this pact and rule;
    `calendar` is the working calendar of the pact's comune.
    """
    due: list[Firing] = []
    upcoming: datetime | None = None
    for index in range(_MAX_OCCURRENCES):
        due_on = occurrence_due(rule, anchor_on, extension, index, calendar)
        firings = occurrence_firings(rule, due_on, policy, calendar)
        if min(f.fire_at for f in firings) > now:
            for firing in firings:
                if (firing.due_on, firing.kind) not in sent:
                    upcoming = firing.fire_at if upcoming is None else min(upcoming, firing.fire_at)
            break
        superseded = rule.every is not None and end_of_local_day(
            occurrence_due(rule, anchor_on, extension, index + 1, calendar), policy.zone) <= now
        if not superseded:
            for firing in firings:
                if (firing.due_on, firing.kind) in sent:
                    continue
                if firing.fire_at <= now:
                    due.append(firing)
                else:
                    upcoming = firing.fire_at if upcoming is None else min(upcoming, firing.fire_at)
        if rule.every is None:
            break
    return sorted(due), upcoming


# --- keeping the rows in step with the pact ---------------------------------------------

def pact_definition(registry: WorkflowRegistry, pact: Pact) -> WorkflowDefinition:
    return registry.get(pact.workflow_name, pact.workflow_version).definition


def find_rule(definition: WorkflowDefinition, state: str, rule_id: str) -> DeadlineRule | None:
    """The rule of a deadline row: its state's, or the service referrals' ("referral_answer@17")."""
    referral_rule = definition.referral_rule(rule_id)
    if referral_rule is not None:
        return referral_rule
    if state not in definition.states:
        return None
    return next((rule for rule in definition.states[state].deadlines if rule.id == rule_id), None)


def _sent_keys(session: Session, pact_id: int) -> dict[str, set[tuple[date, ReminderKind]]]:
    sent: dict[str, set[tuple[date, ReminderKind]]] = defaultdict(set)
    for rule_id, due_on, kind in session.execute(
        select(Reminder.rule_id, Reminder.due_on, Reminder.kind).where(Reminder.pact_id == pact_id).distinct()
    ):
        sent[rule_id].add((due_on, kind))
    return sent


def _schedule(row: PactDeadline, rule: DeadlineRule, policy: ReminderPolicy, now: datetime,
              sent: set[tuple[date, ReminderKind]], calendar: WorkingCalendar = NATIONAL) -> None:
    if row.paused:
        row.next_fire_at = None
        return
    due, upcoming = open_firings(rule, row.anchor_on, row.extension, policy, now, sent, calendar)
    row.next_fire_at = due[0].fire_at if due else upcoming


def refresh_pact_deadlines(
    session: Session, registry: WorkflowRegistry, pact: Pact, *, now: datetime, policy: ReminderPolicy
) -> list[PactDeadline]:
    """Bring the pact's deadline rows in line with its state, contacts, pauses and anchors.

    A row whose rule no longer applies, or whose anchor moved on (the state entered again, a
    new contact), ends: `met` says whether that happened by its due time; its waiting
    notifications are resolved and its unsent e-mails cancelled. Returns the live rows.
    """
    live = {row.rule_id: row for row in session.scalars(
        select(PactDeadline).where(PactDeadline.pact_id == pact.id, PactDeadline.ended_at.is_(None))
    )}
    try:
        definition = pact_definition(registry, pact)
    except UnknownWorkflow:
        log.error("pact %s: workflow %s v%s is not loaded; its deadlines are left as they are",
                  pact.id, pact.workflow_name, pact.workflow_version)
        return list(live.values())
    current: dict[str, Deadline] = {}
    calendar = NATIONAL
    if pact.closed_at is None and pact.state in definition.states:
        calendar = pact_calendar(session, pact)
        current = {d.rule.id: d for d in state_deadlines(
            session, definition, StatePosition.of(pact), policy.zone, calendar=calendar, include_met=True)}
    sent = _sent_keys(session, pact.id) if (current or live) else {}

    ended = False
    for rule_id, row in list(live.items()):
        deadline = current.get(rule_id)
        if deadline is not None and row.natural_anchor_at == deadline.natural_anchor_at and not deadline.met:
            continue
        if deadline is not None and deadline.met:
            # Done in the state: when the records say (the day signed), else now that it is seen.
            end_at = min(now, end_of_local_day(deadline.met_on, policy.zone)) if deadline.met_on else now
        elif deadline is not None:
            end_at = deadline.natural_anchor_at
        elif pact.closed_at is None and split_referral_rule_id(rule_id)[1] is not None:
            end_at = now  # a referral's step no longer has a deadline (its agreed date was cleared)
        else:
            end_at = pact.closed_at or pact.state_entered_at
        _end(session, row, end_at, now)
        del live[rule_id]
        ended = True
    if ended:
        session.flush()  # before a new row takes the ended one's place in the unique index

    applies = bool(current)
    current = {rule_id: deadline for rule_id, deadline in current.items() if not deadline.met}
    for rule_id, deadline in current.items():
        row = live.get(rule_id)
        if row is None:
            row = live[rule_id] = PactDeadline(pact_id=pact.id, rule_id=rule_id, created_at=now,
                                               natural_anchor_at=deadline.natural_anchor_at)
            session.add(row)
        row.state = pact.state
        row.state_entered_at = pact.state_entered_at
        row.anchor_on = deadline.anchor_on
        row.extension = deadline.extension
        row.due_on = deadline.due_on
        row.due_at = deadline.due_at
        row.paused = deadline.paused
        _schedule(row, deadline.rule, policy, now, sent.get(rule_id, set()), calendar)
    if applies:
        _keep_next_deadline(session, pact, current)
    session.flush()
    return sorted(live.values(), key=lambda r: r.due_at)


def _keep_next_deadline(session: Session, pact: Pact, current: dict[str, Deadline]) -> None:
    """The pact's stored next deadline, when it no longer matches its rows (its comune's holidays
    changed): rewritten without a new version, as it is derived, never typed by anyone."""
    running = sorted((d for d in current.values() if not d.paused), key=lambda d: d.due_at)
    wanted = (running[0].due_at, running[0].rule.id) if running else (None, "")
    if (pact.next_deadline_at, pact.next_deadline_label) == wanted:
        return
    session.execute(update(Pact.__table__).where(Pact.__table__.c.id == pact.id).values(
        next_deadline_at=wanted[0], next_deadline_label=wanted[1]))
    set_committed_value(pact, "next_deadline_at", wanted[0])
    set_committed_value(pact, "next_deadline_label", wanted[1])


def _end(session: Session, row: PactDeadline, end_at: datetime, now: datetime) -> None:
    row.ended_at = end_at
    row.met = end_at <= row.due_at
    row.next_fire_at = None
    # A pause of a deadline that is over has nothing left to stop.
    for pause in session.scalars(select(DeadlinePause).where(
        DeadlinePause.pact_id == row.pact_id, DeadlinePause.rule_id == row.rule_id, DeadlinePause.resumed_at.is_(None)
    )):
        pause.resumed_at = max(end_at, pause.paused_at)
    if row.id is None:
        return
    session.execute(
        update(Notification).where(
            Notification.deadline_id == row.id, Notification.resolved_at.is_(None), Notification.done_at.is_(None)
        ).values(resolved_at=now).execution_options(synchronize_session=False)
    )
    _cancel_unsent_emails(session, row.id)


def _cancel_unsent_emails(session: Session, deadline_id: int) -> None:
    """Cancel the waiting e-mails that were only about deadlines now over."""
    email_ids = set(session.scalars(select(Reminder.email_id).where(
        Reminder.deadline_id == deadline_id, Reminder.email_id.is_not(None))))
    if not email_ids:
        return
    session.flush()
    still_relevant = set(session.scalars(
        select(Reminder.email_id).join(PactDeadline, PactDeadline.id == Reminder.deadline_id)
        .where(Reminder.email_id.in_(email_ids), PactDeadline.ended_at.is_(None))
    ))
    cancel = email_ids - still_relevant
    if cancel:
        session.execute(
            update(OutboundEmail).where(OutboundEmail.id.in_(cancel), OutboundEmail.status == EmailStatus.PENDING)
            .values(status=EmailStatus.CANCELLED).execution_options(synchronize_session=False)
        )


def refresh_queued(
    session: Session, registry: WorkflowRegistry, *, now: datetime, policy: ReminderPolicy, limit: int
) -> int:
    """Refresh up to `limit` pacts queued by the triggers; returns how many queue entries it took."""
    entries = session.execute(
        select(DeadlineRefresh.id, DeadlineRefresh.pact_id).order_by(DeadlineRefresh.id).limit(limit)
    ).all()
    if not entries:
        return 0
    pact_ids = sorted({pact_id for _, pact_id in entries})
    for pact in session.scalars(select(Pact).where(Pact.id.in_(pact_ids)).order_by(Pact.id)):
        refresh_pact_deadlines(session, registry, pact, now=now, policy=policy)
    # Taken by id, not by pact: an entry queued meanwhile by a newer change stays for next time.
    session.execute(delete(DeadlineRefresh).where(DeadlineRefresh.id.in_([entry_id for entry_id, _ in entries])))
    return len(entries)


def live_deadlines(session: Session, pact: Pact) -> list[PactDeadline]:
    """The pact's current deadlines (paused ones included), earliest first."""
    return list(session.scalars(
        select(PactDeadline).where(PactDeadline.pact_id == pact.id, PactDeadline.ended_at.is_(None))
        .order_by(PactDeadline.due_at, PactDeadline.id)
    ))
