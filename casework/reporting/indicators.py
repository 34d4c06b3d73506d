"""Impact indicators for funders: who was reached, how far pacts went, how fast, with what outcome.

Every figure is an aggregate computed by the database (GROUP BY, COUNT, window functions)
over the pacts the reader may count (`casework.security.access.pact_counting`: a supervisor's include the
restricted cases of the territory, as anonymous counts with small cells withheld), in one programme or
all of them, optionally one territory, over a period of local days (casework.reporting.period).
Pacts are never loaded. The result is a list of `casework.reporting.report_tables.Table`: the
page, the charts and the CSV and XLSX exports all read the same rows, whose cells are raw
numbers (shares between 0 and 1, days as numbers, None where a figure cannot be computed).
Their words are in casework.reporting.indicator_texts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    CTE,
    ColumnElement,
    Float,
    and_,
    case,
    cast,
    distinct,
    false,
    func,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from casework.errors import InvalidInput
from casework.figure_cache import FigureCache, viewer_key
from casework.i18n import gettext
from casework.models import (
    Beneficiary,
    Gender,
    GoalsAchieved,
    Pact,
    PactDeadline,
    PactOutcome,
    PactRevision,
    Programme,
    Referral,
    Screening,
    Territory,
    TransitionRecord,
    User,
)
from casework.models.pact import FollowUpContact
from casework.reporting.indicator_texts import MONTH_NAMES, TEXTS
from casework.reporting.period import (
    IndicatorScope,
    LocalCalendar,
    months_between,
    period_problems,
    years_before,
)
from casework.reporting.report_tables import (
    Cell,
    Column,
    Table,
    is_small,
    with_small_counts_withheld,
)
from casework.security import (
    counts_unassigned_restricted,
    pact_counting,
    pact_visibility,
    territory_and_below,
    territory_subtree,
    visible_programmes,
)
from casework.supervision import TARGET_INDICATORS
from casework.workflow import WorkflowDefinition, WorkflowRegistry

TABLE_KEYS = (
    "targets", "reached", "gender", "age_band", "migrant_background", "comune", "funnel", "durations",
    "deadlines", "outcomes", "goals_achieved", "withdrawals", "trend",
)

# (code, youngest age in the band): each band runs up to the next band's youngest age.
AGE_BANDS: tuple[tuple[str, int], ...] = (
    ("under_18", 0), ("18_24", 18), ("25_34", 25), ("35_49", 35), ("50_64", 50), ("65_over", 65),
)
MILESTONE_CODES = ("screening", "signature", "activation")
ACTIVATION = "activation"

_GENDERS = (Gender.FEMALE, Gender.MALE, Gender.OTHER)
_GOALS = (GoalsAchieved.FULLY, GoalsAchieved.PARTLY, GoalsAchieved.NOT)


@dataclass(frozen=True)
class KeyFigures:
    """The few figures the indicators page opens with, read from the same aggregates as its tables."""

    people_reached: int
    # The programme's target of people reached; None with no programme chosen or no such target.
    people_target: int | None
    share_women: float | None  # None when nobody was reached
    women: int
    pacts_open: int  # open at the end of the period's last day
    share_deadlines_met: float | None  # met ÷ (met + missed); None when none was decided
    deadlines_met: int
    deadlines_decided: int
    median_days_to_signature: float | None  # from referral to first signature; None when none signed
    pacts_signed: int
    # The figures written "<5" (`with_small_counts_withheld`): a reader counting restricted cases
    # they are not assigned to sees no small count, nor a share or a median that gives one back.
    withheld: frozenset[str] = frozenset()

    def with_small_counts_withheld(self) -> KeyFigures:
        small = {name for name in ("people_reached", "women", "pacts_open", "deadlines_met", "deadlines_decided",
                                   "pacts_signed") if is_small(getattr(self, name))}
        if small & {"people_reached", "women"}:
            small.add("share_women")
        if small & {"deadlines_met", "deadlines_decided"}:
            small.add("share_deadlines_met")
        if "pacts_signed" in small:
            small.add("median_days_to_signature")
        return replace(self, withheld=frozenset(small))


@dataclass(frozen=True)
class IndicatorReport:
    scope: IndicatorScope
    programme: Programme | None  # None: every programme whose pacts the reader may see
    territory: Territory | None
    tables: list[Table]
    key_figures: KeyFigures

    def table(self, key: str) -> Table:
        for table in self.tables:
            if table.key == key:
                return table
        raise KeyError(key)


def selectable_territories(session: Session, user: User) -> list[Territory]:
    """The territories a reader may restrict indicators to: theirs and every one below it."""
    return list(session.scalars(
        select(Territory).where(Territory.id.in_(territory_subtree(user))).order_by(Territory.name, Territory.id)
    ))


def milestone_reached(
    definitions: Iterable[WorkflowDefinition], milestone: str,
    workflow_name: ColumnElement[str], workflow_version: ColumnElement[int],
) -> list[ColumnElement[bool]]:
    """Per workflow that names `milestone`: "this transition record entered it", for a pact
    whose workflow columns are given (an empty list when no workflow names it)."""
    return [
        and_(workflow_name == definition.name, workflow_version == definition.version,
             TransitionRecord.to_state == definition.milestones[milestone])
        for definition in definitions if milestone in definition.milestones
    ]


def compute(
    session: Session, registry: WorkflowRegistry, user: User, scope: IndicatorScope, *,
    now: datetime, locale: str, zone: ZoneInfo,
) -> IndicatorReport:
    """Every indicator table for `scope`, as `user` may see it, labelled in `locale`.

    Raises InvalidInput for a period that ends before it starts, a programme the user does
    not oversee or a territory outside theirs.
    """
    errors = period_problems(scope)
    programme = None
    if scope.programme_id is not None:
        programme = session.scalars(
            visible_programmes(user).where(Programme.id == scope.programme_id)
        ).one_or_none()
        if programme is None:
            errors["programme"] = "not_an_option"
    territory = None
    if scope.territory_id is not None:
        territory = session.scalars(
            select(Territory).where(Territory.id == scope.territory_id, Territory.id.in_(territory_subtree(user)))
        ).one_or_none()
        if territory is None:
            errors["territory"] = "not_an_option"
    if errors:
        raise InvalidInput(errors)

    def count() -> tuple[tuple[list[Table], KeyFigures], datetime]:
        counter = _Counter(session, registry, user, scope, programme, now=now, locale=locale, zone=zone)
        tables = counter.tables()
        figures = counter.key_figures(tables)
        if counter.counts_restricted and counts_unassigned_restricted(session, user, scope.programme_id):
            tables, figures = [with_small_counts_withheld(table) for table in tables], figures.with_small_counts_withheld()
        # "Pending" and "missed" deadlines are told apart by today's date.
        midnight = datetime.combine(now.astimezone(zone).date() + timedelta(days=1), time.min, zone).astimezone(UTC)
        return (tables, figures), midnight

    # Every table scans the pacts of the scope: kept until the case data changes or the day ends.
    tables, key_figures = _REPORTS.get(session, ("indicators", viewer_key(user), scope, locale, zone.key), count, now=now)
    return IndicatorReport(scope=scope, programme=programme, territory=territory, tables=list(tables),
                           key_figures=key_figures)


_REPORTS: FigureCache[tuple[list[Table], KeyFigures]] = FigureCache()


def _share(part: int | None, whole: int | None) -> float | None:
    return None if not whole else (part or 0) / whole


def _share_of(table: Table, code: str) -> float | None:
    """The share on the row of `code` (its first cell), in a table with one share column."""
    share = [column.kind for column in table.columns].index("share")
    return next(row[share] for row in table.rows if row[0] == code)


def _row_of(table: Table, code: str) -> dict[str, Cell]:
    """The row of `code` (its first cell) as {column key: cell}."""
    row = next(row for row in table.rows if row[0] == code)
    return {column.key: cell for column, cell in zip(table.columns, row, strict=True)}


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


class _Counter:
    """The queries of one report: the scope's bounds and labels, shared by every table."""

    def __init__(
        self, session: Session, registry: WorkflowRegistry, user: User, scope: IndicatorScope,
        programme: Programme | None, *, now: datetime, locale: str, zone: ZoneInfo,
    ):
        self.session, self.registry, self.user, self.scope, self.programme = session, registry, user, scope, programme
        self.counts_restricted = programme is not None and bool(programme.restricted)
        self.locale = locale
        self.start_at = datetime.combine(scope.start, time.min, zone).astimezone(UTC)
        self.end_at = datetime.combine(scope.end + timedelta(days=1), time.min, zone).astimezone(UTC)
        self.today = now.astimezone(zone).date()
        self.calendar = LocalCalendar(session, zone, span=(self.start_at, self.end_at))
        self.pacts_open = 0  # counted with the people reached, for the key figures

    # -- shared pieces ------------------------------------------------------------------

    def text(self, key: str) -> str:
        return gettext(self.locale, TEXTS[key])

    def column(self, key: str, kind: str = "text", label: str | None = None) -> Column:
        return Column(key, self.text(label or f"col.{key}"), kind)

    def scoped(self, *, materialized: bool = False) -> CTE:
        """The pacts of the scope the user may see. A new CTE per statement: the visibility
        condition holds a CTE of its own, which may appear only once in a statement.

        `materialized`: on SQLite, tested once per pact before joining many rows of each (its
        planner may start from those rows and test the pact's visibility once per row); PostgreSQL
        plans the inlined query better (a hash join)."""
        # Counted, not seen: a restricted programme's figures, for its funder, count every case of
        # the supervisor's territory. Everywhere else only the cases the reader may see count: a
        # total over all programmes, less the others', would give a restricted programme's small
        # counts back.
        visibility = pact_counting(self.user) if self.counts_restricted else pact_visibility(self.user)
        conditions: list[ColumnElement[bool]] = [visibility]
        if self.scope.programme_id is not None:
            conditions.append(Pact.programme_id == self.scope.programme_id)
        if self.scope.territory_id is not None:
            in_scope = territory_and_below(self.scope.territory_id, name="scope_territory")
            conditions.append(Pact.beneficiary_id.in_(
                select(Beneficiary.id).where(Beneficiary.comune_id.in_(in_scope))
            ))
        pacts = select(
            Pact.id.label("pact_id"), Pact.beneficiary_id, Pact.workflow_name, Pact.workflow_version,
            Pact.opened_at, Pact.closed_at,
        ).where(*conditions).cte("scoped_pact")
        sqlite = self.session.get_bind().dialect.name == "sqlite"
        return pacts.prefix_with("MATERIALIZED") if materialized and sqlite else pacts

    def active(self, pacts: CTE) -> ColumnElement[bool]:
        return and_(pacts.c.opened_at < self.end_at, or_(pacts.c.closed_at.is_(None), pacts.c.closed_at >= self.start_at))

    def in_period(self, moment: Any) -> ColumnElement[bool]:
        return and_(moment >= self.start_at, moment < self.end_at)

    def workflows(self, names: Iterable[str]) -> list[WorkflowDefinition]:
        """The latest definition of each named workflow the registry knows, by name."""
        known = set(self.registry.names())
        return [self.registry.latest(name).definition for name in sorted(set(names)) if name in known]

    def definitions(self) -> list[WorkflowDefinition]:
        """Every loaded version of every workflow, latest first within a name."""
        return [engine.definition for engine in sorted(
            self.registry.engines(), key=lambda engine: (engine.name, -engine.version))]

    def breakdown_table(self, key: str, code_column: Column, rows: Sequence[tuple[Any, str, int]], total: int,
                        note: str) -> Table:
        return Table(
            key=key, title=self.text(f"{key}.title"),
            columns=(code_column, self.column("label"), self.column("count", "count"), self.column("share", "share")),
            rows=tuple((code, label, count, _share(count, total)) for code, label, count in rows),
            note=note, chart="bars",
        )

    # -- the tables -------------------------------------------------------------------

    def tables(self) -> list[Table]:
        reached, total = self.reached()
        profile = self.reached_profile()
        gender = self.gender(total, profile)
        age = self.age_band(total, profile)
        migrant = self.migrant_background(total, profile)
        comune = self.comune(total)
        deadlines = self.deadlines()
        outcomes, goals = self.outcomes()
        actuals: dict[str, int | float | None] = {
            "beneficiaries": total,
            "share_women": _share_of(gender, Gender.FEMALE.value),
            "share_migrant_background": _share_of(migrant, "yes"),
            "share_goals_achieved": _share_of(goals, GoalsAchieved.FULLY.value),
            "share_deadlines_met": _share_of(deadlines, "met"),
        }
        tables = [
            self.targets(actuals), reached, gender, age, migrant, comune, self.funnel(), self.durations(),
            deadlines, outcomes, goals, self.withdrawals(), self.trend(),
        ]
        return [replace(table, sheet=self.text(f"{table.key}.sheet")) for table in tables]

    def key_figures(self, tables: list[Table]) -> KeyFigures:
        """The page's opening figures, taken from the tables just computed (no query of their own)."""
        by_key = {table.key: table for table in tables}
        people = _row_of(by_key["reached"], "beneficiaries")["count"]
        women = _row_of(by_key["gender"], Gender.FEMALE.value)
        met, missed = _row_of(by_key["deadlines"], "met"), _row_of(by_key["deadlines"], "missed")
        signature = _row_of(by_key["durations"], "signature")
        target = None
        if self.programme is not None:
            target = next((int(t.value) for t in self.programme.targets if t.indicator == "beneficiaries"), None)
        return KeyFigures(
            people_reached=people, people_target=target, share_women=women["share"], women=women["count"],
            pacts_open=self.pacts_open, share_deadlines_met=met["share_of_due"], deadlines_met=met["count"],
            deadlines_decided=met["count"] + missed["count"],
            median_days_to_signature=signature["median_days"], pacts_signed=signature["n"],
        )

    def targets(self, actuals: dict[str, int | float | None]) -> Table:
        columns = (
            self.column("indicator"), self.column("label"), self.column("measure"),
            self.column("target_count", "count"), self.column("actual_count", "count"),
            self.column("target_share", "share"), self.column("actual_share", "share"), self.column("met"),
        )
        if self.programme is None:
            return Table("targets", self.text("targets.title"), columns, (), note=self.text("targets.note_no_programme"))
        rows: list[tuple[Cell, ...]] = []
        for target in self.programme.targets:
            indicator = TARGET_INDICATORS.get(target.indicator)
            if indicator is None:
                rows.append((target.indicator, target.description or target.indicator, "not_measured",
                             _number(target.value), None, None, None, None))
                continue
            actual = actuals[target.indicator]
            # As floats: a share of 7/10 must meet a target of 0.70, which as a Decimal it would not.
            met = None if actual is None else ("yes" if actual >= float(target.value) else "no")
            label = gettext(self.locale, indicator.label)
            if indicator.kind == "share":
                rows.append((target.indicator, label, "share", None, None, float(target.value), actual, met))
            else:
                rows.append((target.indicator, label, "count", _number(target.value), actual, None, None, met))
        return Table("targets", self.text("targets.title"), columns, tuple(rows), note=self.text("targets.note"))

    def reached(self) -> tuple[Table, int]:
        pacts = self.scoped()
        active = self.active(pacts)
        open_at_end = and_(pacts.c.opened_at < self.end_at,
                           or_(pacts.c.closed_at.is_(None), pacts.c.closed_at >= self.end_at))
        people, active_pacts, opened, closed, self.pacts_open = self.session.execute(select(
            func.count(distinct(case((active, pacts.c.beneficiary_id)))),
            func.count(case((active, pacts.c.pact_id))),
            func.count(case((self.in_period(pacts.c.opened_at), pacts.c.pact_id))),
            func.count(case((self.in_period(pacts.c.closed_at), pacts.c.pact_id))),
            func.count(case((open_at_end, pacts.c.pact_id))),
        )).one()
        rows = tuple(
            (code, self.text(f"reached.{code}"), count)
            for code, count in (("beneficiaries", people), ("pacts_active", active_pacts),
                                ("pacts_opened", opened), ("pacts_closed", closed))
        )
        columns = (self.column("indicator"), self.column("label"), self.column("count", "count"))
        return Table("reached", self.text("reached.title"), columns, rows, note=self.text("reached.note")), people

    def reached_people(self) -> Any:
        """Ids of the distinct beneficiaries reached, as a subquery to join people to."""
        pacts = self.scoped()
        return select(pacts.c.beneficiary_id).where(self.active(pacts)).distinct().subquery("reached_person")

    def count_reached_by(self, *groupings: ColumnElement[Any]) -> dict[tuple[Any, ...], int]:
        people = self.reached_people()
        # Grouped outside a subquery: PostgreSQL does not see an expression holding parameters
        # (the age thresholds) in GROUP BY as the same one in SELECT.
        grouped = (
            select(*(grouping.label(f"grp{index}") for index, grouping in enumerate(groupings))).select_from(people)
            .join(Beneficiary, Beneficiary.id == people.c.beneficiary_id).subquery("reached_group")
        )
        columns = list(grouped.c)
        return {tuple(row[:-1]): row[-1] for row in self.session.execute(
            select(*columns, func.count()).group_by(*columns)
        ).tuples()}

    def reached_profile(self) -> dict[tuple[Any, ...], int]:
        """People reached by (gender, age band, migrant background): one scan of the scope's pacts
        for the three tables, each summing what it shows."""
        return self.count_reached_by(Beneficiary.gender, self.age_band_of_person(), Beneficiary.migrant_background)

    @staticmethod
    def summed(profile: dict[tuple[Any, ...], int], position: int) -> dict[Any, int]:
        counts: dict[Any, int] = {}
        for key, count in profile.items():
            counts[key[position]] = counts.get(key[position], 0) + count
        return counts

    def gender(self, total: int, profile: dict[tuple[Any, ...], int]) -> Table:
        counts = self.summed(profile, 0)
        rows = [(gender.value, self.text(f"gender.{gender.value}"), counts.get(gender, 0)) for gender in _GENDERS]
        return self.breakdown_table("gender", self.column("gender", label="col.code"), rows, total,
                                    self.text("breakdown.note"))

    def age_band_of_person(self) -> ColumnElement[str]:
        # Born after the day someone turned N years old on the period's last day: younger than N.
        return case(
            (Beneficiary.birth_date.is_(None), "unknown"),
            *[
                (Beneficiary.birth_date > years_before(self.scope.end, AGE_BANDS[index + 1][1]), code)
                for index, (code, _) in enumerate(AGE_BANDS[:-1])
            ],
            else_=AGE_BANDS[-1][0],
        )

    def age_band(self, total: int, profile: dict[tuple[Any, ...], int]) -> Table:
        counts = self.summed(profile, 1)
        codes = [code for code, _ in AGE_BANDS] + ["unknown"]
        rows = [(code, self.text(f"age.{code}"), counts.get(code, 0)) for code in codes]
        return self.breakdown_table("age_band", self.column("age_band", label="col.code"), rows, total,
                                    self.text("age_band.note"))

    def migrant_background(self, total: int, profile: dict[tuple[Any, ...], int]) -> Table:
        counts = self.summed(profile, 2)
        rows = [(code, self.text(f"migrant.{code}"), counts.get(value, 0)) for code, value in (("yes", True), ("no", False))]
        return self.breakdown_table("migrant_background", self.column("migrant_background", label="col.code"), rows,
                                    total, self.text("breakdown.note"))

    def comune(self, total: int) -> Table:
        people = self.reached_people()
        query = (
            select(Territory.istat_code, Territory.name, func.count())
            .select_from(people).join(Beneficiary, Beneficiary.id == people.c.beneficiary_id)
            .outerjoin(Territory, Territory.id == Beneficiary.comune_id)
            .group_by(Territory.id, Territory.istat_code, Territory.name)
            # Largest first; the people with no comune recorded last.
            .order_by(Territory.id.is_(None), func.count().desc(), Territory.name)
        )
        rows = [
            (istat_code, name if name is not None else self.text("comune.not_recorded"), count)
            for istat_code, name, count in self.session.execute(query)
        ]
        return self.breakdown_table("comune", self.column("istat_code"), rows, total, self.text("breakdown.note"))

    def funnel(self) -> Table:
        pacts = self.scoped()
        opened_in_period = self.in_period(pacts.c.opened_at)
        opened = dict(self.session.execute(
            select(pacts.c.workflow_name, func.count()).where(opened_in_period).group_by(pacts.c.workflow_name)
        ).tuples().all())
        pacts = self.scoped()
        reached = {
            (workflow, state): count
            for workflow, state, count in self.session.execute(
                select(pacts.c.workflow_name, TransitionRecord.to_state, func.count(distinct(pacts.c.pact_id)))
                .join(TransitionRecord, TransitionRecord.pact_id == pacts.c.pact_id)
                .where(self.in_period(pacts.c.opened_at), TransitionRecord.at < self.end_at)
                .group_by(pacts.c.workflow_name, TransitionRecord.to_state)
            )
        }
        names = set(opened) | ({self.programme.workflow_name} if self.programme is not None else set())
        definitions = self.workflows(names)
        several = len(definitions) > 1
        rows: list[tuple[Cell, ...]] = []
        for definition in definitions:
            total = opened.get(definition.name, 0)
            workflow_label = definition.label_of("workflow", None, self.locale)
            for state in self._stages(definition):
                count = total if state == definition.initial else reached.get((definition.name, state), 0)
                label = self._state_label(definition.name, state)
                rows.append((definition.name, state, f"{workflow_label}: {label}" if several else label,
                             count, _share(count, total)))
        columns = (self.column("workflow"), self.column("state"), self.column("label"), self.column("count", "count"),
                   self.column("share", "share"))
        return Table("funnel", self.text("funnel.title"), columns, tuple(rows), note=self.text("funnel.note"),
                     chart="funnel")

    def _stages(self, latest: WorkflowDefinition) -> list[str]:
        """The workflow's stages in file order, final ones last; stages only older versions had, after."""
        states: dict[str, bool] = {}
        for definition in self.definitions():
            if definition.name == latest.name:
                for name, state in definition.states.items():
                    states.setdefault(name, state.final)
        order = list(states)
        return sorted(order, key=lambda name: (states[name], order.index(name)))

    def _state_label(self, workflow: str, state: str) -> str:
        for definition in self.definitions():
            if definition.name == workflow and state in definition.states:
                return definition.label_of("state", state, self.locale)
        return state

    def durations(self) -> Table:
        pacts = self.scoped()
        calendar = self.calendar
        # Each pact's first time at each milestone, by the end of the period: indexed lookups per pact.
        activation_states = milestone_reached(
            self.definitions(), ACTIVATION, pacts.c.workflow_name, pacts.c.workflow_version)
        first_screening = select(func.min(Screening.completed_at)).where(
            Screening.pact_id == pacts.c.pact_id, Screening.completed_at < self.end_at).scalar_subquery()
        first_signature = select(func.min(PactRevision.signed_on)).where(
            PactRevision.pact_id == pacts.c.pact_id, PactRevision.signed_on <= self.scope.end).scalar_subquery()
        # The milestone test sits in the aggregate, not the WHERE: filtering on to_state would
        # lead SQLite to scan the (to_state, at) index once per pact instead of the pact's own rows.
        into_activation = or_(*activation_states) if activation_states else false()
        first_activation = select(func.min(case((into_activation, TransitionRecord.at)))).where(
            TransitionRecord.pact_id == pacts.c.pact_id, TransitionRecord.at < self.end_at,
        ).scalar_subquery()
        opened = (
            select(func.coalesce(Referral.referred_on, calendar.day(pacts.c.opened_at)).label("referral_day"),
                   first_screening.label("screening_at"), first_signature.label("signature_day"),
                   first_activation.label("activation_at"))
            .select_from(pacts).outerjoin(Referral, Referral.pact_id == pacts.c.pact_id)
            .where(self.in_period(pacts.c.opened_at))
            .cte("opened_pact")
        )
        durations = union_all(
            select(literal_column("'screening'").label("milestone"),
                   calendar.days_between(calendar.day(opened.c.screening_at), opened.c.referral_day).label("days"))
            .where(opened.c.screening_at.is_not(None)),
            select(literal_column("'signature'"), calendar.days_between(opened.c.signature_day, opened.c.referral_day))
            .where(opened.c.signature_day.is_not(None)),
            select(literal_column("'activation'"),
                   calendar.days_between(calendar.day(opened.c.activation_at), opened.c.referral_day))
            .where(opened.c.activation_at.is_not(None)),
        ).subquery("duration")
        found = {milestone: (n, median, p90) for milestone, n, median, p90 in self.session.execute(
            grouped_percentiles(durations.c.milestone, durations.c.days)
        )}
        rows = tuple(
            (code, self.text(f"milestone.{code}"), *found.get(code, (0, None, None))) for code in MILESTONE_CODES
        )
        columns = (self.column("milestone"), self.column("label"), self.column("n", "count"),
                   self.column("median_days", "days"), self.column("p90_days", "days"))
        return Table("durations", self.text("durations.title"), columns, rows, note=self.text("durations.note"))

    def deadlines(self) -> Table:
        pacts = self.scoped()
        ended = PactDeadline.ended_at.is_not(None)
        met, missed, pending = self.session.execute(
            select(
                func.count(case((and_(ended, PactDeadline.met.is_(True)), PactDeadline.id))),
                func.count(case((or_(and_(ended, PactDeadline.met.is_(False)),
                                     and_(~ended, PactDeadline.due_on < self.today)), PactDeadline.id))),
                func.count(case((and_(~ended, PactDeadline.due_on >= self.today), PactDeadline.id))),
            )
            .select_from(PactDeadline).join(pacts, pacts.c.pact_id == PactDeadline.pact_id)
            .where(PactDeadline.due_on >= self.scope.start, PactDeadline.due_on <= self.scope.end)
        ).one()
        decided = met + missed
        rows = (
            ("met", self.text("deadline.met"), met, _share(met, decided)),
            ("missed", self.text("deadline.missed"), missed, _share(missed, decided)),
            ("pending", self.text("deadline.pending"), pending, None),
        )
        columns = (self.column("status"), self.column("label"), self.column("count", "count"),
                   self.column("share_of_due", "share"))
        return Table("deadlines", self.text("deadlines.title"), columns, rows, note=self.text("deadlines.note"),
                     chart="bars")

    def outcomes(self) -> tuple[Table, Table]:
        pacts = self.scoped()
        closed = (
            select(PactOutcome.outcome, PactOutcome.goals_achieved)
            .join(pacts, pacts.c.pact_id == PactOutcome.pact_id)
            .where(self.in_period(pacts.c.closed_at)).subquery("closed_outcome")
        )
        # Both tables from one scan, each summing what it shows.
        by_outcome: dict[str, int] = {}
        by_goals: dict[GoalsAchieved, int] = {}
        for outcome, goals_achieved, count in self.session.execute(
            select(closed.c.outcome, closed.c.goals_achieved, func.count())
            .group_by(closed.c.outcome, closed.c.goals_achieved)
        ).tuples():
            by_outcome[outcome] = by_outcome.get(outcome, 0) + count
            by_goals[goals_achieved] = by_goals.get(goals_achieved, 0) + count
        total = sum(by_outcome.values())
        labels: dict[str, str] = {}
        for definition in self.definitions():
            for code in definition.outcomes:
                labels.setdefault(code, definition.label_of("outcome", code, self.locale))
        if self.programme is not None and self.programme.workflow_name in self.registry.names():
            listed = list(self.registry.latest(self.programme.workflow_name).definition.outcomes)
        else:
            listed = []
        codes = listed + sorted((code for code in by_outcome if code not in listed),
                                key=lambda code: (-by_outcome[code], code))
        outcome_rows = [(code, labels.get(code, code), by_outcome.get(code, 0)) for code in codes]
        goal_rows = [(goals.value, self.text(f"goals.{goals.value}"), by_goals.get(goals, 0)) for goals in _GOALS]
        return (
            self.breakdown_table("outcomes", self.column("outcome"), outcome_rows, total, self.text("outcomes.note")),
            self.breakdown_table("goals_achieved", self.column("goals_achieved"), goal_rows, total,
                                 self.text("goals_achieved.note")),
        )

    def withdrawals(self) -> Table:
        # Else SQLite reads every transition of the period (by the `at` index) and tests its pact.
        pacts = self.scoped(materialized=True)
        with_reasons = [
            and_(pacts.c.workflow_name == definition.name, pacts.c.workflow_version == definition.version,
                 TransitionRecord.event.in_([event.name for event in definition.events.values() if event.reasons]))
            for definition in self.definitions() if any(event.reasons for event in definition.events.values())
        ]
        found = self.session.execute(
            select(pacts.c.workflow_name, TransitionRecord.event, TransitionRecord.reason, func.count())
            .join(TransitionRecord, TransitionRecord.pact_id == pacts.c.pact_id)
            .where(or_(*with_reasons) if with_reasons else false(), self.in_period(TransitionRecord.at))
            .group_by(pacts.c.workflow_name, TransitionRecord.event, TransitionRecord.reason)
            # Reasons not recorded last on both databases (they sort NULLs on opposite ends).
            .order_by(func.count().desc(), pacts.c.workflow_name, TransitionRecord.event,
                      TransitionRecord.reason.is_(None), TransitionRecord.reason)
        ).tuples().all()
        several = len({(workflow, event) for workflow, event, _, _ in found}) > 1
        total = sum(count for *_, count in found)
        rows = []
        for workflow, event, reason, count in found:
            event_label, reason_label = self._reason_labels(workflow, event, reason)
            label = f"{event_label}: {reason_label}" if several else reason_label
            rows.append((workflow, event, reason, label, count, _share(count, total)))
        columns = (self.column("workflow"), self.column("event"), self.column("reason"), self.column("label"),
                   self.column("count", "count"), self.column("share", "share"))
        return Table("withdrawals", self.text("withdrawals.title"), columns, tuple(rows),
                     note=self.text("withdrawals.note"), chart="bars")

    def _reason_labels(self, workflow: str, event: str, reason: str | None) -> tuple[str, str]:
        event_label, reason_label = event, reason or self.text("reason.not_recorded")
        for definition in reversed(self.definitions()):  # the latest version's words win
            if definition.name == workflow and event in definition.events:
                event_label = definition.label_of("event", event, self.locale)
                if reason in definition.events[event].reasons:
                    reason_label = definition.label_of("reason", reason, self.locale, event=event)
        return event_label, reason_label

    def trend(self) -> Table:
        pacts = self.scoped()
        calendar = self.calendar
        # What each month counts: pacts opened, pacts closed, people contacted (grouped outside,
        # as the month expression holds parameters).
        happenings = union_all(
            select(literal_column("'opened'").label("series"), calendar.month(pacts.c.opened_at).label("month"),
                   pacts.c.pact_id.label("item"))
            .where(self.in_period(pacts.c.opened_at)),
            select(literal_column("'closed'"), calendar.month(pacts.c.closed_at), pacts.c.pact_id)
            .where(self.in_period(pacts.c.closed_at)),
            select(literal_column("'contacted'"), calendar.month(FollowUpContact.contact_at), pacts.c.beneficiary_id)
            .select_from(pacts).join(FollowUpContact, FollowUpContact.pact_id == pacts.c.pact_id)
            .where(self.in_period(FollowUpContact.contact_at)),
        ).subquery("happening")
        counts = {(name, month): count for name, month, count in self.session.execute(
            select(happenings.c.series, happenings.c.month, func.count(distinct(happenings.c.item)))
            .group_by(happenings.c.series, happenings.c.month)
        )}
        month_names = gettext(self.locale, MONTH_NAMES).split()
        rows = []
        for month in months_between(self.scope.start, self.scope.end):
            key = f"{month.year:04d}-{month.month:02d}"
            rows.append((key, f"{month_names[month.month - 1]} {month.year}",
                         *(counts.get((name, key), 0) for name in ("opened", "closed", "contacted"))))
        columns = (self.column("month"), self.column("label", label="col.month_label"),
                   self.column("opened", "count"), self.column("closed", "count"), self.column("contacted", "count"))
        return Table("trend", self.text("trend.title"), columns, tuple(rows), note=self.text("trend.note"), chart="trend")


def grouped_percentiles(group: ColumnElement[str], days: ColumnElement[int]) -> Any:
    """(group, n, median, p90) per group: PostgreSQL's percentile_cont, written so SQLite runs it too.

    The p-th percentile of n sorted values sits at zero-based position p·(n−1): the value of the
    row below that position plus the fraction of the way to the next row. With p = a/b in
    integers, row numbers and fractions come out of integer arithmetic on both databases.
    """
    ranked = select(
        group.label("grp"), days.label("days"),
        func.row_number().over(partition_by=group, order_by=days).label("rn"),
        func.count().over(partition_by=group).label("n"),
    ).subquery("ranked")

    def neighbours(numerator: int, denominator: int) -> list[Any]:
        below = (ranked.c.n - 1) * numerator // denominator + 1
        return [func.max(case((ranked.c.rn == below, ranked.c.days))),
                func.max(case((ranked.c.rn == below + 1, ranked.c.days)))]

    median_low, median_high = neighbours(1, 2)
    p90_low, p90_high = neighbours(9, 10)
    picked = select(
        ranked.c.grp, func.max(ranked.c.n).label("n"), median_low.label("median_low"),
        median_high.label("median_high"), p90_low.label("p90_low"), p90_high.label("p90_high"),
    ).group_by(ranked.c.grp).subquery("picked")

    def interpolate(low: Any, high: Any, numerator: int, denominator: int) -> Any:
        step = ((picked.c.n - 1) * numerator) % denominator
        return cast(low, Float) + cast(step * (func.coalesce(high, low) - low), Float) / denominator

    return select(
        picked.c.grp, picked.c.n,
        interpolate(picked.c.median_low, picked.c.median_high, 1, 2),
        interpolate(picked.c.p90_low, picked.c.p90_high, 9, 10),
    )
