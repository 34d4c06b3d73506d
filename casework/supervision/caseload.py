"""Caseload review: each case manager's open pacts as a supervisor sees them, counted by the database.

Every figure comes from one grouped query over the open pacts the supervisor may see
(`access.pact_visibility`): the database counts, Python only adds up a few aggregate rows
(one per manager, workflow, stage and priority) and never loads a Pact.

- Overdue: the pact's next deadline has passed. Due this week: it falls between now and the
  end of the local week (Sunday 23:59:59, Europe/Rome).
- Last contact: the latest follow-up contact, or the opening of the pact when there is none
  (correlated to the pact through the index ix_follow_up_contact_pact_at). Days since last
  contact are local calendar days (a contact yesterday evening is 1 day ago this morning).
- Flagged: no contact for more than the programme's `no_contact_days` days.
- Weight: for each pact, the weight of its stage times its priority's multiplier (the
  `[caseload]` table of the configuration, `casework.config.CaseloadWeights`).

Stage columns are keyed by state name. Workflows that name a state alike (both shipped
workflows start in `referral`) share its column: a supervisor reads "how many pacts are
still at the referral" across programmes, which is what a shared name means. Where two
workflows label the same state differently the column shows both labels ("A / B"). The
columns are the open stages of the workflows of the programmes in view (the supervisor's,
or the one filtered), in workflow order, plus any stage where a counted pact actually is.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, case, false, func, literal, select, type_coerce
from sqlalchemy.orm import Session

from casework.config import NO_PRIORITY, CaseloadWeights
from casework.errors import UnknownWorkflow
from casework.figure_cache import FigureCache, viewer_key
from casework.models import (
    Beneficiary,
    FollowUpContact,
    Pact,
    Priority,
    Programme,
    Territory,
    TerritoryKind,
    User,
    UTCDateTime,
)
from casework.reminders import rule_label
from casework.security import (
    pact_visibility,
    territory_subtree,
    visible_case_managers,
    visible_programmes,
)
from casework.workflow import WorkflowRegistry

DEFAULT_PAGE_SIZE = 50
DEFAULT_WEIGHTS = CaseloadWeights()


class DeadlineFilter(enum.Enum):
    OVERDUE = "overdue"
    THIS_WEEK = "this_week"


@dataclass(frozen=True)
class CaseloadFilters:
    """What the supervisor narrowed the review to; None: no narrowing."""

    programme_id: int | None = None
    comune_id: int | None = None  # the beneficiary's comune
    stage: str | None = None  # a state name
    priority: str | None = None  # low, medium, high, or "none" (not yet screened)


@dataclass(frozen=True)
class StageColumn:
    state: str
    label: str


@dataclass(frozen=True)
class CaseloadCounts:
    by_stage: tuple[int, ...]  # in the order of CaseloadOverview.stages
    open_pacts: int
    overdue: int
    due_this_week: int
    flagged: int
    # Days since the last contact of the pact waiting longest; None without open pacts.
    longest_without_contact: int | None
    weight: float


@dataclass(frozen=True)
class ManagerCaseload:
    manager_id: int
    name: str
    active: bool
    # False for someone outside the supervisor's team (inactive, or of another territory)
    # who still holds pacts the supervisor sees: exactly the pacts to hand over.
    in_team: bool
    counts: CaseloadCounts


@dataclass(frozen=True)
class CaseloadOverview:
    stages: tuple[StageColumn, ...]
    managers: tuple[ManagerCaseload, ...]
    totals: CaseloadCounts
    week_ends_on: date  # the Sunday "due this week" runs to


@dataclass(frozen=True)
class CaseloadPact:
    """One row of the drill-down."""

    pact_id: int
    version: int
    beneficiary_name: str
    programme_code: str
    programme_name: str
    manager_id: int
    manager_name: str
    state: str
    stage_label: str
    priority: str | None
    next_deadline_at: datetime | None
    deadline_label: str
    overdue: bool
    due_this_week: bool
    last_contact_at: datetime
    days_since_contact: int
    no_contact_days: int
    flagged: bool


@dataclass(frozen=True)
class CaseloadPacts:
    rows: tuple[CaseloadPact, ...]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True)
class Option:
    value: str
    label: str


@dataclass(frozen=True)
class CaseloadChoices:
    """What the filters and the reassignment form offer a supervisor."""

    programmes: tuple[Option, ...]
    comuni: tuple[Option, ...]
    stages: tuple[StageColumn, ...]
    managers: tuple[Option, ...]  # the team: whose caseloads are reviewed, who may receive a pact
    # Anyone else holding open pacts the supervisor sees (inactive, or of another territory).
    other_holders: tuple[Option, ...]


# --- time ----------------------------------------------------------------------------------


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def week_end(now: datetime, zone: ZoneInfo) -> datetime:
    """The first instant after the current local week (Monday 00:00 local, as UTC)."""
    today = now.astimezone(zone).date()
    return _local_midnight(today + timedelta(days=7 - today.weekday()), zone)


def days_since(moment: datetime, now: datetime, zone: ZoneInfo) -> int:
    return max(0, (now.astimezone(zone).date() - moment.astimezone(zone).date()).days)


# --- the shared query -------------------------------------------------------------------------


def _open_pacts(supervisor: User, filters: CaseloadFilters) -> Select:
    """The open pacts the supervisor sees that match the filters, with their last contact."""
    latest_contact = (
        select(func.max(FollowUpContact.contact_at)).where(FollowUpContact.pact_id == Pact.id)
        .correlate(Pact).scalar_subquery()
    )
    last_contact = type_coerce(func.coalesce(latest_contact, Pact.opened_at), UTCDateTime())
    query = (
        select(
            Pact.id.label("pact_id"), Pact.version, Pact.case_manager_id, Pact.beneficiary_id, Pact.programme_id,
            Pact.workflow_name, Pact.workflow_version, Pact.state, Pact.priority, Pact.next_deadline_at,
            Pact.next_deadline_label, Programme.no_contact_days, last_contact.label("last_contact"),
        )
        .join(Programme, Programme.id == Pact.programme_id)
        .where(pact_visibility(supervisor), Pact.closed_at.is_(None))
    )
    if filters.programme_id is not None:
        query = query.where(Pact.programme_id == filters.programme_id)
    if filters.comune_id is not None:
        query = query.join(Beneficiary, Beneficiary.id == Pact.beneficiary_id).where(
            Beneficiary.comune_id == filters.comune_id)
    if filters.stage:
        query = query.where(Pact.state == filters.stage)
    if filters.priority == NO_PRIORITY:
        query = query.where(Pact.priority.is_(None))
    elif filters.priority:
        query = query.where(Pact.priority == Priority(filters.priority))
    return query


def _flagged(session: Session, last_contact, no_contact_days, now: datetime, zone: ZoneInfo):
    """The condition "no contact for more than the programme's no_contact_days days".

    More than N local days since the contact means its day is before today minus N: one
    threshold instant per distinct N, picked by a CASE (programmes share a handful of values).
    """
    today = now.astimezone(zone).date()
    thresholds = {
        days: literal(_local_midnight(today - timedelta(days=days), zone), UTCDateTime())
        for days in session.scalars(select(Programme.no_contact_days).distinct())
    }
    if not thresholds:
        return false()
    return last_contact < case(thresholds, value=no_contact_days)


# --- stage columns ---------------------------------------------------------------------------


def _stage_columns(
    registry: WorkflowRegistry, workflow_names: Iterable[str], found: Iterable[tuple[str, int, str]], locale: str
) -> tuple[StageColumn, ...]:
    labels: dict[str, list[str]] = {}

    def add(state: str, label: str) -> None:
        known = labels.setdefault(state, [])
        if label not in known:
            known.append(label)

    for name in sorted(set(workflow_names)):
        try:
            definition = registry.latest(name).definition
        except UnknownWorkflow:
            continue
        for state in definition.states.values():
            if not state.final:
                add(state.name, definition.label_of("state", state.name, locale))
    for workflow, version, state in sorted(found):
        label = _state_label(registry, workflow, version, state, locale)
        # A state no loaded file names shows its code, unless a column already labels it.
        if state not in labels or label != state:
            add(state, label)
    return tuple(StageColumn(state, " / ".join(names)) for state, names in labels.items())


def _workflows_in_view(session: Session, supervisor: User, filters: CaseloadFilters) -> list[str]:
    query = visible_programmes(supervisor).with_only_columns(Programme.workflow_name).distinct()
    if filters.programme_id is not None:
        query = select(Programme.workflow_name).where(Programme.id == filters.programme_id)
    return list(session.scalars(query))


# --- the overview ------------------------------------------------------------------------------


@dataclass
class _Tally:
    by_stage: dict[str, int]
    open_pacts: int = 0
    overdue: int = 0
    due_this_week: int = 0
    flagged: int = 0
    oldest_contact: datetime | None = None
    weight: float = 0.0

    def add(self, other: _Tally) -> None:
        for state, count in other.by_stage.items():
            self.by_stage[state] = self.by_stage.get(state, 0) + count
        self.open_pacts += other.open_pacts
        self.overdue += other.overdue
        self.due_this_week += other.due_this_week
        self.flagged += other.flagged
        self.weight += other.weight
        if other.oldest_contact is not None and (self.oldest_contact is None or other.oldest_contact < self.oldest_contact):
            self.oldest_contact = other.oldest_contact

    def counts(self, stages: tuple[StageColumn, ...], now: datetime, zone: ZoneInfo) -> CaseloadCounts:
        return CaseloadCounts(
            by_stage=tuple(self.by_stage.get(column.state, 0) for column in stages),
            open_pacts=self.open_pacts, overdue=self.overdue, due_this_week=self.due_this_week, flagged=self.flagged,
            longest_without_contact=days_since(self.oldest_contact, now, zone) if self.oldest_contact else None,
            weight=round(self.weight, 2),
        )


def caseload_overview(
    session: Session,
    registry: WorkflowRegistry,
    supervisor: User,
    filters: CaseloadFilters,
    *,
    now: datetime,
    zone: ZoneInfo,
    locale: str,
    weights: CaseloadWeights = DEFAULT_WEIGHTS,
) -> CaseloadOverview:
    """One row per case manager of the supervisor's team (those without pacts too), plus a row
    for anyone else holding open pacts the supervisor sees, and the totals.

    Counted over every open pact in view, so kept (`_OVERVIEWS`) until the case data changes,
    the next deadline of an open pact passes (overdue, due this week) or the local day ends
    (days without contact, flags, the week)."""

    def compute() -> tuple[CaseloadOverview, datetime]:
        overview = _count_overview(session, registry, supervisor, filters, now=now, zone=zone, locale=locale,
                                   weights=weights)
        next_deadline = session.scalar(
            select(func.min(Pact.next_deadline_at)).where(Pact.closed_at.is_(None), Pact.next_deadline_at >= now))
        midnight = _local_midnight(now.astimezone(zone).date() + timedelta(days=1), zone)
        return overview, min(midnight, next_deadline) if next_deadline is not None else midnight

    key = ("caseload_overview", viewer_key(supervisor), filters, zone.key, locale, weights)
    return _OVERVIEWS.get(session, key, compute, now=now)


_OVERVIEWS: FigureCache[CaseloadOverview] = FigureCache()


def _count_overview(
    session: Session, registry: WorkflowRegistry, supervisor: User, filters: CaseloadFilters, *, now: datetime,
    zone: ZoneInfo, locale: str, weights: CaseloadWeights,
) -> CaseloadOverview:
    pacts = _open_pacts(supervisor, filters).subquery("open_pacts")
    flagged = _flagged(session, pacts.c.last_contact, pacts.c.no_contact_days, now, zone)
    rows = session.execute(
        select(
            pacts.c.case_manager_id, pacts.c.workflow_name, pacts.c.workflow_version, pacts.c.state, pacts.c.priority,
            func.count(),
            func.sum(case((pacts.c.next_deadline_at < now, 1), else_=0)),
            func.sum(case((and_(pacts.c.next_deadline_at >= now, pacts.c.next_deadline_at < week_end(now, zone)), 1),
                          else_=0)),
            func.sum(case((flagged, 1), else_=0)),
            func.min(pacts.c.last_contact),
        )
        .group_by(pacts.c.case_manager_id, pacts.c.workflow_name, pacts.c.workflow_version, pacts.c.state,
                  pacts.c.priority)
    ).all()

    tallies: dict[int, _Tally] = defaultdict(lambda: _Tally(by_stage={}))
    for manager_id, _workflow, _version, state, priority, count, overdue, due_soon, flags, oldest in rows:
        tallies[manager_id].add(_Tally(
            by_stage={state: count}, open_pacts=count, overdue=overdue or 0, due_this_week=due_soon or 0,
            flagged=flags or 0, oldest_contact=oldest,
            weight=count * weights.stage_weight(state) * weights.priority_multiplier(priority.value if priority else None),
        ))
    stages = _stage_columns(registry, _workflows_in_view(session, supervisor, filters),
                            {(workflow, version, state) for _, workflow, version, state, *_ in rows}, locale)

    team = {user_id: (name, active) for user_id, name, active in session.execute(
        visible_case_managers(supervisor).with_only_columns(User.id, User.full_name, User.active))}
    others = set(tallies) - set(team)
    outsiders = {user_id: (name, active) for user_id, name, active in session.execute(
        select(User.id, User.full_name, User.active).where(User.id.in_(others)))} if others else {}
    managers = [
        ManagerCaseload(manager_id=user_id, name=name, active=active, in_team=user_id in team,
                        counts=tallies[user_id].counts(stages, now, zone) if user_id in tallies
                        else _Tally(by_stage={}).counts(stages, now, zone))
        for user_id, (name, active) in {**team, **outsiders}.items()
    ]
    managers.sort(key=lambda row: (not row.in_team, row.name.casefold(), row.manager_id))
    total = _Tally(by_stage={})
    for tally in tallies.values():
        total.add(tally)
    return CaseloadOverview(
        stages=stages, managers=tuple(managers), totals=total.counts(stages, now, zone),
        week_ends_on=week_end(now, zone).astimezone(zone).date() - timedelta(days=1),
    )


# --- the drill-down ----------------------------------------------------------------------------


def caseload_pacts(
    session: Session,
    registry: WorkflowRegistry,
    supervisor: User,
    filters: CaseloadFilters,
    *,
    case_manager_id: int | None = None,
    flagged_only: bool = False,
    deadline: DeadlineFilter | None = None,
    now: datetime,
    zone: ZoneInfo,
    locale: str,
    limit: int = DEFAULT_PAGE_SIZE,
    offset: int = 0,
) -> CaseloadPacts:
    """The open pacts behind a figure of the overview, most urgent deadline first; one query
    (the total rides along as a window count)."""
    pacts = _open_pacts(supervisor, filters).subquery("open_pacts")
    flagged = _flagged(session, pacts.c.last_contact, pacts.c.no_contact_days, now, zone)
    overdue = pacts.c.next_deadline_at < now
    this_week = and_(pacts.c.next_deadline_at >= now, pacts.c.next_deadline_at < week_end(now, zone))
    query = (
        select(
            pacts.c.pact_id, pacts.c.version, Beneficiary.first_name, Beneficiary.last_name, Programme.code,
            Programme.name, pacts.c.case_manager_id, User.full_name, pacts.c.workflow_name, pacts.c.workflow_version,
            pacts.c.state, pacts.c.priority, pacts.c.next_deadline_at, pacts.c.next_deadline_label,
            pacts.c.last_contact, pacts.c.no_contact_days, case((flagged, True), else_=False),
            func.count().over(),
        )
        .join(Beneficiary, Beneficiary.id == pacts.c.beneficiary_id)
        .join(Programme, Programme.id == pacts.c.programme_id)
        .join(User, User.id == pacts.c.case_manager_id)
    )
    if case_manager_id is not None:
        query = query.where(pacts.c.case_manager_id == case_manager_id)
    if flagged_only:
        query = query.where(flagged)
    if deadline == DeadlineFilter.OVERDUE:
        query = query.where(overdue)
    elif deadline == DeadlineFilter.THIS_WEEK:
        query = query.where(this_week)
    query = query.order_by(
        pacts.c.next_deadline_at.is_(None), pacts.c.next_deadline_at, pacts.c.last_contact, pacts.c.pact_id,
    ).limit(limit).offset(offset)
    end_of_week = week_end(now, zone)
    rows = []
    total = 0
    for (pact_id, version, first, last, code, programme, manager_id, manager, workflow, workflow_version, state,
         priority, deadline_at, rule_id, last_contact, no_contact_days, is_flagged, total) in session.execute(query):
        rows.append(CaseloadPact(
            pact_id=pact_id, version=version, beneficiary_name=f"{last} {first}", programme_code=code,
            programme_name=programme, manager_id=manager_id, manager_name=manager, state=state,
            stage_label=_state_label(registry, workflow, workflow_version, state, locale),
            priority=priority.value if priority else None, next_deadline_at=deadline_at,
            deadline_label=rule_label(registry, workflow, workflow_version, rule_id, locale) if rule_id else "",
            overdue=deadline_at is not None and deadline_at < now,
            due_this_week=deadline_at is not None and now <= deadline_at < end_of_week,
            last_contact_at=last_contact, days_since_contact=days_since(last_contact, now, zone),
            no_contact_days=no_contact_days, flagged=bool(is_flagged),
        ))
    return CaseloadPacts(rows=tuple(rows), total=total, limit=limit, offset=offset)


def _state_label(registry: WorkflowRegistry, workflow: str, version: int, state: str, locale: str) -> str:
    try:
        return registry.get(workflow, version).definition.label_of("state", state, locale)
    except UnknownWorkflow:
        return state


# --- what the filters offer --------------------------------------------------------------------


def caseload_choices(session: Session, registry: WorkflowRegistry, supervisor: User, *, locale: str) -> CaseloadChoices:
    """Programmes and comuni of the supervisor's territory, the stages of their workflows and
    the team's case managers, each in a stable order; kept until the case data changes (who
    holds open pacts is read from every open pact in view)."""
    return _CHOICES.get(session, ("caseload_choices", viewer_key(supervisor), locale),
                        lambda: (_read_choices(session, registry, supervisor, locale=locale), None),
                        now=datetime.now(UTC))


_CHOICES: FigureCache[CaseloadChoices] = FigureCache()


def _read_choices(session: Session, registry: WorkflowRegistry, supervisor: User, *, locale: str) -> CaseloadChoices:
    programmes = session.execute(
        visible_programmes(supervisor).with_only_columns(Programme.id, Programme.code, Programme.name, Programme.workflow_name)
        .order_by(Programme.code, Programme.id)
    ).all()
    comuni = session.execute(
        select(Territory.id, Territory.name)
        .where(Territory.kind == TerritoryKind.COMUNE, Territory.id.in_(territory_subtree(supervisor)))
        .order_by(Territory.name, Territory.id)
    ).all()
    managers = session.execute(
        visible_case_managers(supervisor).with_only_columns(User.id, User.full_name).order_by(User.full_name, User.id)
    ).all()
    # Two queries: the team's and the pacts' scoping each carry a territory subtree of one name.
    holders = set(session.scalars(
        select(Pact.case_manager_id).where(pact_visibility(supervisor), Pact.closed_at.is_(None)).distinct()))
    other_ids = holders - {user_id for user_id, _ in managers}
    others = session.execute(
        select(User.id, User.full_name).where(User.id.in_(other_ids)).order_by(User.full_name, User.id)
    ).all() if other_ids else []
    return CaseloadChoices(
        programmes=tuple(Option(str(pid), f"{code} · {name}") for pid, code, name, _ in programmes),
        comuni=tuple(Option(str(cid), name) for cid, name in comuni),
        stages=_stage_columns(registry, {workflow for *_, workflow in programmes}, (), locale),
        managers=tuple(Option(str(uid), name) for uid, name in managers),
        other_holders=tuple(Option(str(uid), name) for uid, name in others),
    )
