"""When a pact's next deadline falls, from the rules of its current state."""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casework.models import FollowUpContact, Pact, TransitionRecord
from casework.workdays import add_working_days
from casework.workflow.definition import DeadlineRule, WorkflowDefinition


class Deadline(NamedTuple):
    rule: DeadlineRule
    due_on: date  # the local (Europe/Rome) day by which it must be done
    due_at: datetime  # end of that day, in UTC


def due_date(rule: DeadlineRule, anchor: datetime, zone: ZoneInfo) -> date:
    return _add(anchor.astimezone(zone).date(), rule.amount, rule.unit)


@lru_cache(maxsize=8192)
def _add(start: date, amount: int, unit: str) -> date:
    if unit == "working_days":
        return add_working_days(start, amount)
    if unit == "months":
        return start + relativedelta(months=amount)
    return start + timedelta(days=amount)


@lru_cache(maxsize=8192)
def end_of_local_day(day: date, zone: ZoneInfo) -> datetime:
    """The last instant of `day` in `zone`, as UTC: a deadline is met any time that day."""
    next_midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return next_midnight.astimezone(timezone.utc) - timedelta(microseconds=1)


class StatePosition(NamedTuple):
    """Where a pact stands: its state and since when (given explicitly while it is moving)."""

    pact_id: int | None
    state: str
    entered_at: datetime
    opened_at: datetime

    @classmethod
    def of(cls, pact: Pact) -> StatePosition:
        return cls(pact.id, pact.state, pact.state_entered_at, pact.opened_at)


def anchor_time(session: Session, rule: DeadlineRule, position: StatePosition) -> datetime | None:
    if rule.anchor == "entered":
        return position.entered_at
    if rule.anchor == "opened":
        return position.opened_at
    if rule.anchor == "last_contact":
        last = session.scalar(
            select(func.max(FollowUpContact.contact_at)).where(FollowUpContact.pact_id == position.pact_id)
        )
        return max(position.entered_at, last) if last is not None else position.entered_at
    state = rule.anchor.split(":", 1)[1]
    first = session.scalar(
        select(func.min(TransitionRecord.at)).where(
            TransitionRecord.pact_id == position.pact_id, TransitionRecord.to_state == state
        )
    )
    if first is None and position.state == state:
        return position.entered_at
    return first


def state_deadlines(
    session: Session, definition: WorkflowDefinition, position: StatePosition, zone: ZoneInfo
) -> list[Deadline]:
    """Deadlines of the given state, earliest first (none in a final state)."""
    deadlines = []
    with session.no_autoflush:
        for rule in definition.states[position.state].deadlines:
            anchor = anchor_time(session, rule, position)
            if anchor is None:
                continue
            day = due_date(rule, anchor, zone)
            deadlines.append(Deadline(rule=rule, due_on=day, due_at=end_of_local_day(day, zone)))
    return sorted(deadlines, key=lambda d: d.due_at)


def next_deadline(
    session: Session, definition: WorkflowDefinition, position: StatePosition, zone: ZoneInfo
) -> tuple[datetime | None, str]:
    """(due time, rule id) of the earliest deadline, stored on the pact for lists and sweeps."""
    deadlines = state_deadlines(session, definition, position, zone)
    return (deadlines[0].due_at, deadlines[0].rule.id) if deadlines else (None, "")


def refresh_next_deadline(session: Session, definition: WorkflowDefinition, pact: Pact, zone: ZoneInfo) -> None:
    pact.next_deadline_at, pact.next_deadline_label = next_deadline(session, definition, StatePosition.of(pact), zone)
