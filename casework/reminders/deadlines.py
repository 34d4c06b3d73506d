"""When a pact's deadlines fall, from the rules of its current state, its pauses and moved anchors."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from sqlalchemy import (
    CompoundSelect,
    Date,
    bindparam,
    cast,
    func,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from casework.models import (
    DeadlineAnchorMove,
    DeadlinePause,
    FollowUpContact,
    Pact,
    TransitionRecord,
    UTCDateTime,
)
from casework.reminders.calendars import pact_calendar, pact_calendar_by_id
from casework.reminders.referral_deadlines import referral_steps
from casework.reminders.workdays import (
    NATIONAL,
    WorkingCalendar,
    add_working_days,
    working_days_between,
)
from casework.workflow import DeadlineRule, WorkflowDefinition, condition_holds


class Deadline(NamedTuple):
    rule: DeadlineRule
    due_on: date  # the local (Europe/Rome) day by which it must be done
    due_at: datetime  # end of that day, in UTC
    # What it counts from: the rule's own anchor, and the local day actually used.
    natural_anchor_at: datetime | None = None
    anchor_on: date | None = None
    # Stopped by an open pause: its due day is as of the pause and moves when it resumes.
    paused: bool = False
    # Days (working days for a working-days rule) added for pauses that ended.
    extension: int = 0
    # Its work is done (the rule's `met_when` holds): it no longer runs, and the local day it
    # was done when the records say (a signature's day), else None.
    met: bool = False
    met_on: date | None = None


def due_date(rule: DeadlineRule, anchor: datetime, zone: ZoneInfo, calendar: WorkingCalendar = NATIONAL) -> date:
    return _add(anchor.astimezone(zone).date(), rule.amount, rule.unit, calendar)


@lru_cache(maxsize=8192)
def _add(start: date, amount: int, unit: str, calendar: WorkingCalendar = NATIONAL) -> date:
    if unit == "working_days":
        return add_working_days(start, amount, calendar)
    if unit == "months":
        return start + relativedelta(months=amount)
    return start + timedelta(days=amount)


def extend(day: date, extension: int, unit: str, calendar: WorkingCalendar = NATIONAL) -> date:
    """`day` pushed later by paused time: working days for a working-days rule, else days."""
    if not extension:
        return day
    if unit == "working_days":
        return add_working_days(day, extension, calendar)
    return day + timedelta(days=extension)


def occurrence_due(
    rule: DeadlineRule, anchor_on: date, extension: int, index: int, calendar: WorkingCalendar = NATIONAL
) -> date:
    """The due day of the `index`-th occurrence (0: the first) of a rule counted from `anchor_on`."""
    return extend(_add(anchor_on, rule.amount + index * (rule.every or 0), rule.unit, calendar), extension,
                  rule.unit, calendar)


@lru_cache(maxsize=8192)
def end_of_local_day(day: date, zone: ZoneInfo) -> datetime:
    """The last instant of `day` in `zone`, as UTC: a deadline is met any time that day."""
    next_midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return next_midnight.astimezone(timezone.utc) - timedelta(microseconds=1)


def local_time(day: date, hour: int, zone: ZoneInfo) -> datetime:
    """`hour`:00 on the local `day`, as UTC (the zone's offset that day, summer or winter)."""
    return datetime.combine(day, time(hour), tzinfo=zone).astimezone(timezone.utc)


class StatePosition(NamedTuple):
    """Where a pact stands: its state and since when (given explicitly while it is moving)."""

    pact_id: int | None
    state: str
    entered_at: datetime
    opened_at: datetime

    @classmethod
    def of(cls, pact: Pact) -> StatePosition:
        return cls(pact.id, pact.state, pact.state_entered_at, pact.opened_at)


class Pause(NamedTuple):
    starts_on: date  # the local day it began
    ends_on: date | None  # the local day it was resumed (not counted); None while paused


class Adjustments(NamedTuple):
    """What people changed about a pact's deadlines, by rule id."""

    pauses: dict[str, list[Pause]]
    anchor_moves: dict[str, list[tuple[datetime, date]]]  # (the anchor replaced, the day used), oldest first


NO_ADJUSTMENTS = Adjustments({}, {})

def _adjustments_statement() -> CompoundSelect:
    pact_id = bindparam("pact_id")
    pauses = select(
        literal_column("'pause'"), DeadlinePause.rule_id, DeadlinePause.paused_at, DeadlinePause.resumed_at,
        cast(null(), Date), DeadlinePause.id,
    ).where(DeadlinePause.pact_id == pact_id)
    moves = select(
        literal_column("'anchor'"), DeadlineAnchorMove.rule_id, DeadlineAnchorMove.natural_anchor_at,
        cast(null(), UTCDateTime()), DeadlineAnchorMove.anchor_on, DeadlineAnchorMove.id,
    ).where(DeadlineAnchorMove.pact_id == pact_id)
    return union_all(pauses, moves)


# Read at every move of every pact: built once (its compiled form then comes from the
# engine's compiled cache), so a move pays for one small query.
_ADJUSTMENTS = _adjustments_statement()


def load_adjustments(session: Session, pact_id: int | None, zone: ZoneInfo) -> Adjustments:
    """The pauses and moved anchors of a pact's deadlines, in one query."""
    if pact_id is None:
        return NO_ADJUSTMENTS
    # The Core connection rather than Session.execute: the ORM's per-statement work is not
    # needed for plain rows, and the columns' types still convert the values.
    rows = session.connection().execute(_ADJUSTMENTS, {"pact_id": pact_id}).all()
    if not rows:
        return NO_ADJUSTMENTS
    result = Adjustments({}, {})
    for kind, rule_id, at, until, day, _ in sorted(rows, key=lambda row: (row[0], row[5])):
        if kind == "pause":
            ends_on = until.astimezone(zone).date() if until is not None else None
            result.pauses.setdefault(rule_id, []).append(Pause(at.astimezone(zone).date(), ends_on))
        else:
            result.anchor_moves.setdefault(rule_id, []).append((at, day))
    return result


def paused_extension(
    rule: DeadlineRule, anchor_on: date, pauses: list[Pause], calendar: WorkingCalendar = NATIONAL
) -> tuple[int, bool]:
    """(days not counted because of ended pauses, whether a pause is still open).

    A pause from day A to day B (resumed) stops the days A..B-1; only days after the anchor
    day count, so pauses of an earlier cycle change nothing.
    """
    extension, open_pause = 0, False
    first_counted = anchor_on + timedelta(days=1)
    for pause in pauses:
        if pause.ends_on is None:
            open_pause = True
            continue
        start = max(pause.starts_on, first_counted)
        if pause.ends_on <= start:
            continue
        if rule.unit == "working_days":
            extension += working_days_between(start - timedelta(days=1), pause.ends_on - timedelta(days=1), calendar)
        else:
            extension += (pause.ends_on - start).days
    return extension, open_pause


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


def rule_deadline(
    rule: DeadlineRule, natural_anchor: datetime, zone: ZoneInfo, adjustments: Adjustments = NO_ADJUSTMENTS,
    calendar: WorkingCalendar = NATIONAL, anchor_on: date | None = None,
) -> Deadline:
    """A rule's deadline from its anchor, with the anchor moves and pauses people recorded.

    `anchor_on`: the day counted from when it is not the anchor's own (a referral's agreed start).
    """
    anchor_on = anchor_on if anchor_on is not None else natural_anchor.astimezone(zone).date()
    for replaced, day in adjustments.anchor_moves.get(rule.id, ()):
        if replaced == natural_anchor:
            anchor_on = day  # the latest move of this anchor wins
    extension, paused = paused_extension(rule, anchor_on, adjustments.pauses.get(rule.id, []), calendar)
    day = occurrence_due(rule, anchor_on, extension, 0, calendar)
    return Deadline(
        rule=rule, due_on=day, due_at=end_of_local_day(day, zone), natural_anchor_at=natural_anchor,
        anchor_on=anchor_on, paused=paused, extension=extension,
    )


# "Due soon" on every page (Oggi, the pact header, the beneficiary list): by the end of the
# seventh local day from today.
DUE_SOON_DAYS = 7


def due_soon_end(now: datetime, zone: ZoneInfo) -> datetime:
    """The instant "due soon" ends: the end of the DUE_SOON_DAYS-th local day from today, in UTC."""
    return end_of_local_day(now.astimezone(zone).date() + timedelta(days=DUE_SOON_DAYS), zone)


def deadline_state(due_at: datetime | None, now: datetime, zone: ZoneInfo) -> str:
    """"late", "today", "due_soon" or "on_time" ("" without a deadline), by local calendar days,
    as every page says it."""
    if due_at is None:
        return ""
    days = days_until(due_at.astimezone(zone).date(), now, zone)
    if due_at < now or days < 0:
        return "late"
    if days == 0:
        return "today"
    return "due_soon" if days <= DUE_SOON_DAYS else "on_time"


def days_until(due_on: date, now: datetime, zone: ZoneInfo) -> int:
    """Calendar days from today (the local day of `now`) to `due_on`: 0 due today, negative when late.

    Counted between local days, not instants: a deadline missed yesterday is one day late all
    of today, whatever the hour or the change to summer time.
    """
    return (due_on - now.astimezone(zone).date()).days


def _met_on(name: str, pact: Pact, zone: ZoneInfo) -> date | None:
    """The local day a met condition was fulfilled, when the records keep it."""
    if name in ("pact_signed", "signed_goal", "signed_action"):
        revision = pact.latest_revision
        return revision.signed_on if revision is not None else None
    if name == "screening_completed" and pact.screenings:
        return min(s.completed_at for s in pact.screenings).astimezone(zone).date()
    return None


def _met(rule: DeadlineRule, deadline: Deadline, pact: Pact | None, zone: ZoneInfo,
         entered_at: datetime) -> Deadline:
    # The guards a deadline may name read the pact's records, not the clock: the entry time
    # stands in for `now`.
    if rule.met_when is None or pact is None or not condition_holds(rule.met_when, pact, entered_at):
        return deadline
    met_on = _met_on(rule.met_when, pact, zone)
    if met_on is not None and deadline.anchor_on is not None and met_on < deadline.anchor_on:
        return deadline  # done for an earlier round (a pact reopened after its signature): due again
    return deadline._replace(met=True, met_on=met_on)


def state_deadlines(
    session: Session,
    definition: WorkflowDefinition,
    position: StatePosition,
    zone: ZoneInfo,
    adjustments: Adjustments | None = None,
    calendar: WorkingCalendar | None = None,
    *,
    include_met: bool = False,
) -> list[Deadline]:
    """Deadlines of the given state and of the pact's service referrals, earliest first (none in a
    final state), paused ones included.

    A deadline whose work is done (its rule's `met_when` holds, the referral's step is over) is
    left out, unless `include_met` (the deadline rows record it as met). Working days are those
    of the pact's comune (`calendar`; read from the pact when not given).
    """
    deadlines = []
    rules = definition.states[position.state].deadlines
    referral_rules = () if position.state in definition.final_states else definition.referral_deadlines
    with session.no_autoflush:
        if adjustments is None:
            adjustments = load_adjustments(session, position.pact_id, zone) if rules or referral_rules \
                else NO_ADJUSTMENTS
        if calendar is None:
            calendar = pact_calendar_by_id(session, position.pact_id) if rules or referral_rules else NATIONAL
        pact = None
        if position.pact_id is not None and any(rule.met_when for rule in rules):
            pact = session.get(Pact, position.pact_id)
        for rule in rules:
            anchor = anchor_time(session, rule, position)
            if anchor is None:
                continue
            deadline = _met(rule, rule_deadline(rule, anchor, zone, adjustments, calendar), pact, zone,
                            position.entered_at)
            if include_met or not deadline.met:
                deadlines.append(deadline)
        for step in referral_steps(session, referral_rules, position.pact_id, zone):
            deadline = rule_deadline(step.rule, step.natural_anchor_at, zone, adjustments, calendar, step.anchor_on)
            if step.met:
                deadline = deadline._replace(met=True, met_on=step.met_on)
            if include_met or not deadline.met:
                deadlines.append(deadline)
    return sorted(deadlines, key=lambda d: d.due_at)


def next_deadline(
    session: Session, definition: WorkflowDefinition, position: StatePosition, zone: ZoneInfo,
    calendar: WorkingCalendar | None = None,
) -> tuple[datetime | None, str]:
    """(due time, rule id) of the earliest running deadline, stored on the pact for lists and sweeps.

    A paused deadline is not running: a pact whose only deadline is paused has none.
    """
    running = [d for d in state_deadlines(session, definition, position, zone, calendar=calendar) if not d.paused]
    return (running[0].due_at, running[0].rule.id) if running else (None, "")


def refresh_next_deadline(session: Session, definition: WorkflowDefinition, pact: Pact, zone: ZoneInfo) -> None:
    with session.no_autoflush:
        calendar = pact_calendar(session, pact)
    pact.next_deadline_at, pact.next_deadline_label = next_deadline(
        session, definition, StatePosition.of(pact), zone, calendar)
