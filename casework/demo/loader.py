"""Demo data drawn from the project sheets in the product brief's sources.

Territories (Unione NET, Ambito di Lodi, CIdiS), the organisations the sheets name, five
programmes (TILDE, CHANCE, Femminili Plurali, Sis.Ac.T, Ricomincio da me), ten staff accounts
and about 200 beneficiaries, each with a pact driven through the real operations of
`casework.pacts.operations` with a clock that walks through the past. Histories, screenings, signed
revisions, contacts, outcomes and next deadlines are therefore what the engine itself
produces, and every state of every workflow is represented, with some pacts overdue and
some due soon relative to `now`.

The content is in the tables of casework/demo/data/ (read by casework.demo.tables); the
people are drawn in casework.demo.people, each pact's history planned in casework.demo.plans
from the steps of casework.demo.steps, the directory of about 90 services and the pacts'
referrals to them made in casework.demo.services; this module puts them together.

`load_demo` only flushes: the caller's unit of work commits. It is deterministic for a
given `now` and `seed`, and idempotent: once the programme TILDE exists it creates nothing,
but the directory when the database has no service yet (a demo loaded before it existed).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casework.clock import Clock
from casework.demo.drawing import ascii_letters, weighted
from casework.demo.people import People
from casework.demo.plans import Plan, Plans
from casework.demo.services import DemoServices
from casework.demo.steps import Case, Op
from casework.demo.tables import (
    CHANCE_COVERAGE,
    CHANCE_POOL,
    DEADLINE_BUCKETS,
    ORGANISATIONS,
    PATTO_COVERAGE,
    PATTO_POOL,
    PROGRAMMES,
    STAFF,
    STREETS,
    TERRITORIES,
)
from casework.models import (
    Beneficiary,
    HouseholdMember,
    Organisation,
    Pact,
    Programme,
    ProgrammeTarget,
    Service,
    Territory,
    TerritoryKind,
    User,
)
from casework.reminders import (
    add_working_days,
    due_date,
    subtract_working_days,
    working_day_on_or_before,
    working_days_between,
)
from casework.security import hash_password
from casework.workflow import WorkflowRegistry

MARKER_PROGRAMME = "TILDE"
PASSWORD_PREFIX = "casework-demo-"
MAX_HISTORY_DAYS = 330  # no demo pact is opened longer ago than this


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: str
    full_name: str
    territory: str


@dataclass(frozen=True)
class DemoSummary:
    created: bool  # False when the demo data was already there (idempotent re-run)
    accounts: list[DemoAccount]
    beneficiaries: int
    pacts: int
    services: int = 0  # in the directory


def demo_accounts() -> list[DemoAccount]:
    """The demo staff with their (deterministic, printable) passwords."""
    return [
        DemoAccount(username=u, password=PASSWORD_PREFIX + u, role=role.value, full_name=name, territory=territory)
        for u, name, role, territory, _ in STAFF
    ]


def _scale(gaps: list[int], limit: int) -> list[int]:
    total = sum(gaps)
    if total <= limit:
        return gaps
    factor = max(limit, 0) / total
    return [int(g * factor) for g in gaps]


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=candidate)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def load_demo(
    session: Session, registry: WorkflowRegistry, *, now: datetime, zone: ZoneInfo, seed: int = 2026
) -> DemoSummary:
    """Load the demo data unless it is already there; flushes, never commits.

    `zone` is Settings.zone: the demo's local days and office hours are counted in it.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    accounts = demo_accounts()
    loader = _Loader(session, registry, now.astimezone(UTC), zone, random.Random(seed))
    if session.scalar(select(Programme.id).where(Programme.code == MARKER_PROGRAMME)) is not None:
        loader.run_directory()  # a demo loaded before the directory existed gets one
        return DemoSummary(
            created=False,
            accounts=accounts,
            beneficiaries=session.scalar(select(func.count()).select_from(Beneficiary)) or 0,
            pacts=session.scalar(select(func.count()).select_from(Pact)) or 0,
            services=session.scalar(select(func.count()).select_from(Service)) or 0,
        )
    beneficiaries, pacts = loader.run()
    return DemoSummary(
        created=True, accounts=accounts, beneficiaries=beneficiaries, pacts=pacts,
        services=session.scalar(select(func.count()).select_from(Service)) or 0,
    )


class _Loader(People, Plans, DemoServices):
    """One load: the reference data, then the people and their pacts' histories, replayed in order."""

    def __init__(
        self, session: Session, registry: WorkflowRegistry, now: datetime, zone: ZoneInfo, rng: random.Random
    ):
        self.session = session
        self.registry = registry
        self.now = now
        self.rng = rng
        self.zone = zone
        self.today = now.astimezone(zone).date()
        self.territories: dict[str, Territory] = {}
        self.comuni: dict[str, list[tuple[Territory, int]]] = {}
        self.organisations: dict[str, Organisation] = {}
        self.users: dict[str, User] = {}
        self.programmes: dict[str, Programme] = {}
        self.used_cf: set[str] = set()

    # ---- reference data -------------------------------------------------------------------

    def run(self) -> tuple[int, int]:
        self._territories()
        self._organisations()
        self._users()
        self._programmes()
        self._directory()
        self.session.flush()
        cases = self._cases()
        timed = self._schedule_all(cases)
        self._beneficiaries(cases, timed)
        for _, _, _, op, when in sorted(timed, key=lambda item: item[:3]):
            op(Clock(now=when, zone=self.zone))
        self.session.flush()
        self._service_referrals(cases)
        return len(cases), sum(1 for case in cases if case.pact is not None)

    def _territories(self) -> None:
        for name, kind, comuni in TERRITORIES:
            parent = self.session.scalar(select(Territory).where(Territory.name == name, Territory.kind == kind))
            if parent is None:
                parent = Territory(name=name, kind=kind)
                self.session.add(parent)
            self.territories[name] = parent
            self.comuni[name] = []
            for comune_name, istat, weight in comuni:
                comune = self.session.scalar(select(Territory).where(Territory.istat_code == istat))
                if comune is None:
                    comune = Territory(name=comune_name, kind=TerritoryKind.COMUNE, istat_code=istat, parent=parent)
                    self.session.add(comune)
                self.territories[comune_name] = comune
                self.comuni[name].append((comune, weight))

    def _organisations(self) -> None:
        existing = {o.name: o for o in self.session.scalars(select(Organisation))}
        for name, kind, territory in ORGANISATIONS:
            organisation = existing.get(name)
            if organisation is None:
                organisation = Organisation(name=name, kind=kind, territory=self.territories[territory] if territory else None)
                self.session.add(organisation)
            self.organisations[name] = organisation

    def _users(self) -> None:
        created_at = datetime.combine(_add_months(self.today, -18), time(9, 0), tzinfo=self.zone).astimezone(UTC)
        existing = {u.username: u for u in self.session.scalars(select(User).where(User.username.in_([s[0] for s in STAFF])))}
        for username, full_name, role, territory, organisation in STAFF:
            user = existing.get(username)
            if user is None:
                user = User(
                    username=username, full_name=full_name, email=f"{username}@example.org",
                    password_hash=hash_password(PASSWORD_PREFIX + username), role=role,
                    territory=self.territories[territory],
                    organisation=self.organisations[organisation] if organisation else None,
                    locale="it", active=True, created_at=created_at,
                )
                self.session.add(user)
            self.users[username] = user

    def _programmes(self) -> None:
        starts_on = _add_months(self.today, -18)
        ends_on = _add_months(self.today, 18)
        for spec in PROGRAMMES:
            programme = self.session.scalar(select(Programme).where(Programme.code == spec.code))
            if programme is None:
                self.registry.latest(spec.workflow)  # refuse early if the workflow is not loaded
                programme = Programme(
                    code=spec.code, name=spec.name, funder=spec.funder, description=spec.description,
                    territory=self.territories[spec.territory], starts_on=starts_on, ends_on=ends_on,
                    workflow_name=spec.workflow, restricted=spec.restricted, no_contact_days=spec.no_contact_days,
                    targets=[
                        ProgrammeTarget(indicator=indicator, value=Decimal(value), description=description)
                        for indicator, value, description in spec.targets
                    ],
                )
                self.session.add(programme)
            elif programme.workflow_name != spec.workflow:
                raise ValueError(f"programme {spec.code} exists with workflow {programme.workflow_name!r}, not {spec.workflow!r}")
            self.programmes[spec.code] = programme

    def run_directory(self) -> None:
        """Only the directory (its organisations, services), when the rest is there but no service is."""
        if self.session.scalar(select(Service.id).limit(1)) is not None:
            return  # loaded before, maybe edited since: left as it is
        self._territories()
        self._organisations()
        self._directory()

    # ---- cases and their plans ------------------------------------------------------------

    def _cases(self) -> list[Case]:
        self.used_cf = set(self.session.scalars(select(Beneficiary.codice_fiscale).where(Beneficiary.codice_fiscale.is_not(None))))
        cases: list[Case] = []
        for spec in PROGRAMMES:
            engine = self.registry.latest(spec.workflow)
            coverage = CHANCE_COVERAGE if spec.workflow == "chance_dispersione" else PATTO_COVERAGE
            pool = CHANCE_POOL if spec.workflow == "chance_dispersione" else PATTO_POOL
            scenarios = list(coverage[: spec.size])
            while len(scenarios) < spec.size:
                scenarios.append(weighted(self.rng, pool))  # type: ignore[arg-type]
            self.rng.shuffle(scenarios)
            for index, (final, variant) in enumerate(scenarios):
                manager = self.users[spec.managers[index % len(spec.managers)]]
                if final == "not_eligible":
                    severity = self.rng.uniform(0.0, 0.2)
                else:
                    severity = self.rng.uniform(0.2, 0.75)
                cases.append(Case(
                    spec=spec, programme=self.programmes[spec.code], engine=engine, manager=manager,
                    person=self._person(spec), final=final, variant=variant, severity=severity,
                ))
        return cases

    def _schedule_all(self, cases: list[Case]) -> list[tuple[datetime, int, int, Op, datetime]]:
        """Every operation of every case with its moment; sorted, they replay history in order."""
        timed: list[tuple[datetime, int, int, Op, datetime]] = []
        for number, case in enumerate(cases):
            plan = self._chance_plan(case) if case.is_chance else self._patto_plan(case)
            dates = self._dates(case, plan)
            moment: datetime | None = None
            sequence = 0
            for session_, day in zip(plan.sessions, dates, strict=True):
                start = datetime.combine(day, time(8, 45), tzinfo=self.zone) + timedelta(minutes=self.rng.randint(0, 420))
                start = start.astimezone(UTC)
                if moment is not None and start <= moment:
                    start = moment + timedelta(minutes=self.rng.randint(5, 20))
                for step in session_.ops:
                    moment = start if moment is None or start > moment else moment + timedelta(minutes=self.rng.randint(1, 4))
                    start = moment
                    if moment > self.now:
                        raise RuntimeError("demo schedule went past now")  # a bug in the scheduler
                    timed.append((moment, number, sequence, step, moment))
                    sequence += 1
        return timed

    def _dates(self, case: Case, plan: Plan) -> list[date]:
        rng = self.rng
        sessions = plan.sessions
        anchor = plan.anchor if plan.anchor is not None else len(sessions) - 1
        state = case.engine.definition.states[case.final]
        if state.final or not state.deadlines:
            age = rng.randint(1, 120)
        else:
            rule = state.deadlines[0]
            length = (due_date(rule, self.now, self.zone) - self.today).days
            bucket = weighted(rng, DEADLINE_BUCKETS)
            if bucket == "overdue":
                age = length + rng.randint(2, 25)
            elif bucket == "soon":
                age = length - rng.randint(0, 4)
            else:
                age = rng.randint(1, max(1, length - 7))
            age = max(1, age)
        latest = working_day_on_or_before(self.today - timedelta(days=1))
        anchor_day = min(working_day_on_or_before(self.today - timedelta(days=age)), latest)
        after = _scale([s.gap for s in sessions[anchor + 1:]], working_days_between(anchor_day, latest))
        earliest = self.today - timedelta(days=MAX_HISTORY_DAYS)
        before = _scale([s.gap for s in sessions[1: anchor + 1]], max(0, working_days_between(earliest, anchor_day)))
        day = subtract_working_days(anchor_day, sum(before))
        dates = [day]
        for gap in before + after:
            day = add_working_days(day, gap)
            dates.append(day)
        return dates

    # ---- beneficiaries --------------------------------------------------------------------

    def _beneficiaries(self, cases: list[Case], timed: list[tuple[datetime, int, int, Op, datetime]]) -> None:
        opened: dict[int, datetime] = {}
        for moment, number, _, _, _ in timed:
            if number not in opened or moment < opened[number]:
                opened[number] = moment
        rng = self.rng
        for number, case in enumerate(cases):
            person = case.person
            person.codice_fiscale = self._codice_fiscale(person)
            created = opened[number] - timedelta(minutes=rng.randint(5, 60))
            email = ""
            if rng.random() < (0.4 if case.is_chance else 0.7):
                email = f"{ascii_letters(person.first)}.{ascii_letters(person.last)}{rng.randint(1, 99)}@example.org"
            case.beneficiary = Beneficiary(
                first_name=person.first, last_name=person.last, codice_fiscale=person.codice_fiscale,
                birth_date=person.birth, birth_place=person.birth_place, gender=person.gender,
                migrant_background=person.migrant, citizenship=person.citizenship, comune=person.comune,
                address=f"{rng.choice(STREETS)} {rng.randint(1, 140)}",
                phone=f"+39 3{rng.randint(20, 49)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
                email=email, created_at=created, updated_at=created,
                household=[
                    HouseholdMember(first_name=first, last_name=last, relation=relation, birth_date=birth)
                    for first, last, relation, birth in person.household
                ],
            )
        self.session.add_all([case.beneficiary for case in cases if case.beneficiary is not None])
        self.session.flush()
