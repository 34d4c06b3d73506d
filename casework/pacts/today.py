""""Oggi": what a case manager must do next, read from indexed columns, never row by row.

Every due deadline is counted and reachable, a page at a time: nothing is cut silently. A
page costs the same few queries whatever the caseload: the counts, one page of items, the
stages, the recent moves and the next overdue pact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import case, exists, func, select, tuple_
from sqlalchemy.orm import Session, joinedload

from casework.models import Pact, Programme, TransitionRecord, User
from casework.reminders import (
    days_until,
    deadline_label,
    due_soon_end,
    end_of_local_day,
    service_names,
    snoozed_now,
)
from casework.security import pact_visibility
from casework.workflow import WorkflowDefinition, WorkflowRegistry

PAGE_SIZE = 50
RECENT_DAYS = 90  # how far back "recent activity" looks

OVERDUE, TODAY, WEEK = "overdue", "today", "week"
SECTIONS = (OVERDUE, TODAY, WEEK)


@dataclass(frozen=True)
class DueItem:
    pact: Pact
    state_label: str
    deadline_label: str
    rule_id: str
    due_on: date  # the local day it is due
    section: str  # OVERDUE, TODAY or WEEK
    days: int  # Rome calendar days late (OVERDUE) or left (WEEK); 0 for TODAY


@dataclass(frozen=True)
class Section:
    key: str  # OVERDUE, TODAY or WEEK
    count: int  # in the whole list, not only on this page
    items: list[DueItem]  # those on this page


@dataclass(frozen=True)
class StageCount:
    workflow: str
    state: str
    label: str
    count: int


@dataclass(frozen=True)
class ProgrammeStages:
    """The open pacts of one programme by stage: two workflows may both call a stage "Segnalazione"."""

    programme: str
    stages: list[StageCount]
    total: int


@dataclass(frozen=True)
class RecentMove:
    record: TransitionRecord
    event_label: str
    state_label: str


@dataclass(frozen=True)
class Today:
    sections: list[Section]
    total: int  # every due item, on every page
    snoozed: int  # due, but left off the list until the day their reminder was put off to
    page: int  # 1-based
    pages: int
    first_overdue_id: int | None  # the first overdue pact on the list, for "next overdue"
    stage_groups: list[ProgrammeStages]
    recent: list[RecentMove]
    # Until when all of the above holds if no data changes: deadlines fall due at the end of a
    # local day, and the oldest recent move leaves the window RECENT_DAYS after it was made.
    holds_until: datetime

    @property
    def overdue(self) -> list[DueItem]:
        return self.sections[0].items

    @property
    def due_today(self) -> list[DueItem]:
        return self.sections[1].items

    @property
    def due_soon(self) -> list[DueItem]:
        return self.sections[2].items


def _bounds(now: datetime, zone: ZoneInfo) -> tuple[date, datetime, datetime]:
    """(today, end of today, end of the 7th day from today), the last two in UTC."""
    today = now.astimezone(zone).date()
    return today, end_of_local_day(today, zone), due_soon_end(now, zone)


def _falling_due(user: User, now: datetime, week_end: datetime):
    """Open pacts the user may see whose next deadline falls by the end of the week."""
    return (
        pact_visibility(user, now), Pact.closed_at.is_(None), Pact.next_deadline_at.is_not(None),
        Pact.next_deadline_at <= week_end,
    )


def _due_filter(user: User, now: datetime, zone: ZoneInfo, week_end: datetime):
    """Those on the list: falling due, and not put off past today."""
    return (*_falling_due(user, now, week_end), ~snoozed_now(now, zone))


def todays_work(
    session: Session, user: User, registry: WorkflowRegistry, *, now: datetime, locale: str,
    zone: ZoneInfo, page: int = 1, page_size: int = PAGE_SIZE,
) -> Today:
    _today, today_end, week_end = _bounds(now, zone)
    due = _due_filter(user, now, zone, week_end)
    # A deadline is due by the end of its local day: before `now` it is late (due yesterday or
    # earlier), by the end of today it is today's. Those put off are counted apart, in the
    # same query: the list says they exist.
    listed = ~snoozed_now(now, zone)
    overdue_count, today_count, total, snoozed = session.execute(
        select(func.count(case((listed & (Pact.next_deadline_at < now), 1))),
               func.count(case((listed & (Pact.next_deadline_at >= now) & (Pact.next_deadline_at <= today_end), 1))),
               func.count(case((listed, 1))), func.count(case((~listed, 1))))
        .select_from(Pact).where(*_falling_due(user, now, week_end))
    ).one()
    pages = max(1, -(-total // page_size))
    page = min(max(page, 1), pages)
    rows = session.scalars(
        select(Pact).where(*due).order_by(Pact.next_deadline_at, Pact.id)
        .offset((page - 1) * page_size).limit(page_size)
        .options(joinedload(Pact.beneficiary), joinedload(Pact.programme))
    ).all()
    grouped: dict[str, list[DueItem]] = {key: [] for key in SECTIONS}
    services = service_names(session, {pact.next_deadline_label for pact in rows})
    for pact in rows:
        due_on = pact.next_deadline_at.astimezone(zone).date()
        left = days_until(due_on, now, zone)
        section = OVERDUE if left < 0 else TODAY if left == 0 else WEEK
        definition = _definition(registry, pact)
        grouped[section].append(DueItem(
            pact=pact, state_label=definition.label_of("state", pact.state, locale),
            deadline_label=deadline_label(definition, pact.next_deadline_label, locale, services),
            rule_id=pact.next_deadline_label, due_on=due_on, section=section, days=abs(left),
        ))
    counts = {OVERDUE: overdue_count, TODAY: today_count, WEEK: total - overdue_count - today_count}
    # The list runs longest late first, so the first page already names the first overdue pact.
    if page == 1 or not overdue_count:
        first_overdue_id = grouped[OVERDUE][0].pact.id if grouped[OVERDUE] else None
    else:
        first_overdue_id = next_overdue_pact_id(session, user, now=now, zone=zone)
    recent = _recent(session, user, registry, now=now, locale=locale)
    return Today(
        sections=[Section(key, counts[key], grouped[key]) for key in SECTIONS],
        total=total, snoozed=snoozed, page=page, pages=pages,
        first_overdue_id=first_overdue_id,
        stage_groups=_stage_groups(session, user, registry, now=now, locale=locale),
        recent=recent,
        holds_until=min([today_end, *(move.record.at + timedelta(days=RECENT_DAYS) for move in recent[-1:])]),
    )


def next_overdue_pact_id(
    session: Session, user: User, *, now: datetime, zone: ZoneInfo, after: int | None = None
) -> int | None:
    """The overdue pact that comes after pact `after` in Oggi's order (longest late first),
    starting again from the first at the end; the first one when `after` is None or not on the list."""
    overdue = select(Pact.id).where(*_due_filter(user, now, zone, now), Pact.next_deadline_at < now)
    if after is not None:
        current = select(Pact.next_deadline_at).where(Pact.id == after).scalar_subquery()
        following = session.scalar(
            overdue.where(tuple_(Pact.next_deadline_at, Pact.id) > tuple_(current, after))
            .order_by(Pact.next_deadline_at, Pact.id).limit(1)
        )
        if following is not None:
            return following
    first = session.scalar(overdue.order_by(Pact.next_deadline_at, Pact.id).limit(1))
    return first if first != after else None


def _stage_groups(
    session: Session, user: User, registry: WorkflowRegistry, *, now: datetime, locale: str
) -> list[ProgrammeStages]:
    counts = session.execute(
        select(Programme.id, Programme.name, Pact.workflow_name, Pact.workflow_version, Pact.state, func.count())
        .join(Programme, Programme.id == Pact.programme_id)
        .where(pact_visibility(user, now), Pact.closed_at.is_(None))
        .group_by(Programme.id, Programme.name, Pact.workflow_name, Pact.workflow_version, Pact.state)
    ).all()
    groups: dict[int, tuple[str, dict[tuple[str, str], StageCount]]] = {}
    for programme_id, name, workflow, version, state, count in counts:
        definition = registry.get(workflow, version).definition
        stages = groups.setdefault(programme_id, (name, {}))[1]
        # Two versions of a workflow share their stages: counted once by stage.
        known = stages.get((workflow, state))
        label = definition.label_of("state", state, locale)
        stages[(workflow, state)] = StageCount(workflow, state, label, count + (known.count if known else 0))
    result = []
    for name, stages in sorted(groups.values(), key=lambda group: group[0].lower()):
        ordered = sorted(stages.values(), key=lambda s: _stage_order(registry, s))
        result.append(ProgrammeStages(programme=name, stages=ordered, total=sum(s.count for s in ordered)))
    return result


def _stage_order(registry: WorkflowRegistry, stage: StageCount) -> tuple[int, str]:
    """Stages in the order the workflow file lists them (referral first), not alphabetically."""
    states = list(registry.latest(stage.workflow).definition.states)
    return (states.index(stage.state) if stage.state in states else len(states), stage.label)


def _recent(session: Session, user: User, registry: WorkflowRegistry, *, now: datetime, locale: str) -> list[RecentMove]:
    # Read from the latest move backwards (ix_transition_record_at) until ten are the user's,
    # within RECENT_DAYS: starting from the user's pacts would read every move of every pact
    # they ever had, a history that only grows.
    visible = exists().where(Pact.id == TransitionRecord.pact_id, pact_visibility(user, now))
    recent = session.scalars(
        select(TransitionRecord).where(TransitionRecord.at >= now - timedelta(days=RECENT_DAYS), visible)
        .order_by(TransitionRecord.at.desc(), TransitionRecord.id.desc()).limit(10)
        .options(joinedload(TransitionRecord.pact).joinedload(Pact.beneficiary), joinedload(TransitionRecord.actor))
    ).all()
    return [
        RecentMove(
            record=record,
            event_label=_definition(registry, record.pact).label_of("event", record.event, locale),
            state_label=_definition(registry, record.pact).label_of("state", record.to_state, locale),
        )
        for record in recent
    ]


def _definition(registry: WorkflowRegistry, pact: Pact) -> WorkflowDefinition:
    return registry.get(pact.workflow_name, pact.workflow_version).definition
