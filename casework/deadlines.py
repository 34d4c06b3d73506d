"""When a pact's next deadline falls, from the rules of its current state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casework.models import FollowUpContact, Pact, TransitionRecord
from casework.workdays import add_working_days
from casework.workflow.definition import DeadlineRule, WorkflowDefinition


@dataclass(frozen=True)
class Deadline:
    rule: DeadlineRule
    due_on: date  # the local (Europe/Rome) day by which it must be done
    due_at: datetime  # end of that day, in UTC


def due_date(rule: DeadlineRule, anchor: datetime, zone: ZoneInfo) -> date:
    start = anchor.astimezone(zone).date()
    if rule.unit == "working_days":
        return add_working_days(start, rule.amount)
    if rule.unit == "months":
        return start + relativedelta(months=rule.amount)
    return start + timedelta(days=rule.amount)


def end_of_local_day(day: date, zone: ZoneInfo) -> datetime:
    """The last instant of `day` in `zone`, as UTC: a deadline is met any time that day."""
    next_midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return next_midnight.astimezone(timezone.utc) - timedelta(microseconds=1)


def anchor_time(session: Session, rule: DeadlineRule, pact: Pact) -> datetime | None:
    if rule.anchor == "entered":
        return pact.state_entered_at
    if rule.anchor == "opened":
        return pact.opened_at
    if rule.anchor == "last_contact":
        last = session.scalar(select(func.max(FollowUpContact.contact_at)).where(FollowUpContact.pact_id == pact.id))
        return max(pact.state_entered_at, last) if last is not None else pact.state_entered_at
    state = rule.anchor.split(":", 1)[1]
    first = session.scalar(
        select(func.min(TransitionRecord.at)).where(
            TransitionRecord.pact_id == pact.id, TransitionRecord.to_state == state
        )
    )
    if first is None and pact.state == state:
        return pact.state_entered_at
    return first


def pact_deadlines(session: Session, definition: WorkflowDefinition, pact: Pact, zone: ZoneInfo) -> list[Deadline]:
    """Deadlines of the pact's current state, earliest first."""
    if pact.closed_at is not None:
        return []
    deadlines = []
    for rule in definition.states[pact.state].deadlines:
        anchor = anchor_time(session, rule, pact)
        if anchor is None:
            continue
        day = due_date(rule, anchor, zone)
        deadlines.append(Deadline(rule=rule, due_on=day, due_at=end_of_local_day(day, zone)))
    return sorted(deadlines, key=lambda d: d.due_at)


def refresh_next_deadline(session: Session, definition: WorkflowDefinition, pact: Pact, zone: ZoneInfo) -> None:
    """Store the earliest deadline of the pact's state, so lists and sweeps read one column."""
    with session.no_autoflush:
        deadlines = pact_deadlines(session, definition, pact, zone)
    pact.next_deadline_at = deadlines[0].due_at if deadlines else None
    pact.next_deadline_label = deadlines[0].rule.id if deadlines else ""
