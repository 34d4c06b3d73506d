"""`casework demo --scale N`: N beneficiaries with realistic pacts and histories, loaded in bulk.

The demo's reference data (territories, organisations, programmes, the service directory, the
demo accounts) is loaded as `casework demo` loads it, plus more case managers to make 20 in the
three territories. Then N people, each with one pact on either workflow, opened over the last
three years: most closed (an office's history), and about as many open as 20 case managers
carry, one of them (`busy_manager`) about 150. Each pact's history is planned along its
workflow's events (casework.demo.scale_history) and written as rows (casework.demo.scale_rows)
in chunks: the driver's executemany on SQLite, COPY on PostgreSQL, the values converted by the
columns' own types. ANALYZE then gives the planners statistics, as an office's database has.

Deadlines: only open pacts have live deadline rows, and there are a few thousand of them
whatever N, so the real refresh (casework.reminders) computes their rows and next deadline
once everything is written; the refresh queue the triggers filled is then emptied, as a sweep
would leave it (a closed pact's refresh writes nothing). Last, the scheduler's sweep runs once:
the reminders and escalations due by now become notifications (and e-mails in the outbox).

A scale load refuses a database that already holds people or pacts (`ScaleRefused`): it never
mixes with, or duplicates, data already there.
"""

from __future__ import annotations

import math
import operator
import random
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Enum, delete, func, insert, select, text
from sqlalchemy.orm import Session

from casework.config import Settings
from casework.demo.drawing import weighted
from casework.demo.loader import PASSWORD_PREFIX, DemoAccount, _Loader, demo_accounts
from casework.demo.people import Person
from casework.demo.scale_history import REOPENED, Planner
from casework.demo.scale_rows import TABLES, FastRandom, Ids, PactFacts, RowWriter, place_times
from casework.demo.tables import ITALIAN_F, ITALIAN_M, PROGRAMMES, STREETS, SURNAMES
from casework.models import (
    Base,
    Beneficiary,
    DeadlineRefresh,
    Gender,
    Pact,
    Role,
    User,
    UTCDateTime,
)
from casework.models.beneficiary import name_key, phone_key
from casework.reminders import ReminderPolicy, refresh_pact_deadlines, run_sweep
from casework.security import hash_password
from casework.workflow import WorkflowRegistry, score_screening

CASE_MANAGERS = 20
BUSY_OPEN = 150  # open pacts of the busiest case manager at N >= 10,000
HISTORY_DAYS = 3 * 365
CHUNK = 2000  # pacts written per batch of inserts
SWEEP_HOLDER = "casework-demo-scale"
# Case managers per territory (the demo's own six included) and the programmes they work on.
TEAM = {"Unione NET": 6, "Ambito di Lodi": 8, "CIdiS - Consorzio Intercomunale di Servizi": 6}
PROGRAMME_SHARE = {"Ambito di Lodi": (("CHANCE", 60), ("SISACT", 20), ("RICOMINCIO", 20))}


class ScaleRefused(Exception):
    """The database already holds people or pacts: a scale load starts from an empty one."""


@dataclass(frozen=True)
class ScaleSummary:
    beneficiaries: int
    pacts: int
    accounts: list[DemoAccount]  # every account with its demo password
    case_managers: list[str]  # usernames
    supervisors: list[str]  # the first one supervises the busy manager, the long pact and the programme
    busy_manager: str  # the case manager with the most open pacts (about 150 at N >= 10,000)
    long_pact_id: int  # a pact with a long history: ~40 moves, journal entries, contacts
    programme_id: int  # a programme whose indicators have data for `year`
    year: int
    search_term: str  # a surname that some people have, not all
    seconds: float = 0.0


def load_scale(settings: Settings, beneficiaries: int, *, progress: bool = False, seed: int = 13) -> ScaleSummary:
    """Create the schema if needed, load the reference data and N beneficiaries with pacts; commits.

    Raises ScaleRefused when the database already has beneficiaries or pacts.
    """
    from casework import migrate
    from casework.db import make_engine, make_session_factory, unit_of_work
    from casework.services import seed_taxonomy

    if beneficiaries < 1:
        raise ValueError("the scale is a number of beneficiaries, at least 1")
    started = datetime.now(UTC)
    registry = WorkflowRegistry.from_directory(settings.workflows_dir)
    migrate.upgrade(settings.sqlalchemy_url)
    engine = make_engine(settings.sqlalchemy_url)
    try:
        factory = make_session_factory(engine)
        with unit_of_work(factory) as session:
            seed_taxonomy(session)
            if session.scalar(select(func.count()).select_from(Beneficiary)) or session.scalar(
                    select(func.count()).select_from(Pact)):
                raise ScaleRefused("the database already holds beneficiaries or pacts")
            loader = _ScaleLoader(session, registry, started, settings, FastRandom(seed))
            loader.reference()
        with unit_of_work(factory) as session:
            loader.session = session
            with _bulk(session):
                summary = loader.people_and_pacts(beneficiaries, progress)
        with unit_of_work(factory) as session:
            loader.session = session
            loader.deadlines(progress)
        # The scheduler's own sweep, once: the reminders and escalations due by now are written
        # (notifications, and the e-mails a scheduler would then send), as in an office where it runs.
        run_sweep(factory, registry, now=loader.now, policy=ReminderPolicy.from_settings(settings), holder=SWEEP_HOLDER)
    finally:
        engine.dispose()
    return ScaleSummary(**{**summary.__dict__, "seconds": (datetime.now(UTC) - started).total_seconds()})


@contextmanager
def _bulk(session: Session) -> Iterator[None]:
    """On SQLite, a large page cache while the rows go in (the indexes of a few million rows are
    updated page by page); as it was before the connection returns to the pool."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        yield
        return
    cache = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    connection.exec_driver_sql("PRAGMA cache_size=-262144")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size={int(cache)}")


@contextmanager
def _bar(show: bool, length: int, label: str) -> Iterator[Callable[[int], None]]:
    if not show:
        yield lambda _: None
        return
    import click

    with click.progressbar(length=length, label=label, show_pos=True) as bar:
        yield bar.update


class _ScaleLoader(_Loader):
    def __init__(self, session: Session, registry: WorkflowRegistry, now: datetime, settings: Settings,
                 rng: random.Random):
        super().__init__(session, registry, now, settings.zone, rng)
        self.settings = settings
        self.managers: dict[str, list[User]] = {}
        self.supervisor_of: dict[str, User] = {}
        self.extra: list[DemoAccount] = []
        self.open_ids: list[int] = []
        self._statements: dict[tuple[str, tuple[str, ...]], tuple[str, Callable[[dict[str, Any]], Any]]] = {}

    # ---- reference data -------------------------------------------------------------------

    def reference(self) -> None:
        self._territories()
        self._organisations()
        self._users()
        self._programmes()
        self._directory()
        start = self.today - timedelta(days=HISTORY_DAYS + 60)
        for programme in self.programmes.values():
            programme.starts_on = min(programme.starts_on, start)  # the history's three years are inside
        for user in self.users.values():  # the demo's staff were there before the first pact
            user.created_at = min(user.created_at, datetime.combine(start, datetime.min.time(), UTC))
        self._more_managers()
        self.session.flush()

    def _more_managers(self) -> None:
        """Case managers beyond the demo's, up to TEAM per territory, with demo passwords."""
        rng = self.rng
        created_at = datetime.combine(self.today - timedelta(days=HISTORY_DAYS + 30), datetime.min.time(), UTC)
        taken = {u.lower() for u in self.session.scalars(select(User.username))}
        for territory, size in TEAM.items():
            team = [u for u in self.users.values() if u.role == Role.CASE_MANAGER and u.territory is self.territories[territory]]
            supervisor = next(u for u in self.users.values() if u.role == Role.SUPERVISOR
                              and u.territory is self.territories[territory])
            self.supervisor_of[territory] = supervisor
            organisation = team[0].organisation if team else None
            while len(team) < size:
                female = rng.random() < 0.75
                first = rng.choice(ITALIAN_F if female else ITALIAN_M)
                last = rng.choice(SURNAMES[territory] if territory in SURNAMES else SURNAMES[next(iter(SURNAMES))])
                username = f"{first[0]}.{name_key(last)}".lower()
                if username in taken:
                    continue
                taken.add(username)
                user = User(username=username, full_name=f"{first} {last}", email=f"{username}@example.org",
                            password_hash=hash_password(PASSWORD_PREFIX + username), role=Role.CASE_MANAGER,
                            territory=self.territories[territory], organisation=organisation, locale="it",
                            active=True, created_at=created_at)
                self.session.add(user)
                self.users[username] = user
                team.append(user)
                self.extra.append(DemoAccount(username, PASSWORD_PREFIX + username, Role.CASE_MANAGER.value,
                                              user.full_name, territory))
            self.managers[territory] = team

    # ---- people and pacts -----------------------------------------------------------------

    def _open_counts(self, total: int) -> dict[str, int]:
        """Open pacts per case manager: the busiest BUSY_OPEN, the others 70 to 130. At small N a
        third of the pacts are open, shared in the same proportions, the busiest still first."""
        names = [u.username for team in self.managers.values() for u in team]
        busy = self.busy_name()
        capacities = {name: BUSY_OPEN if name == busy else self.rng.randint(70, 130) for name in names}
        wanted = min(sum(capacities.values()), max(1, round(total / 3)))
        if wanted == sum(capacities.values()):
            return capacities
        shares = {name: c * wanted / sum(capacities.values()) for name, c in capacities.items()}
        counts = {name: math.floor(share) for name, share in shares.items()}
        # The seats left go to the largest remainders, the busiest first.
        for name in sorted(names, key=lambda n: (n != busy, counts[n] - shares[n]))[: wanted - sum(counts.values())]:
            counts[name] += 1
        others = max(count for name, count in counts.items() if name != busy)
        if counts[busy] <= others and wanted > 1:
            donor = max((n for n in names if n != busy), key=lambda n: counts[n])
            counts[donor] -= 1
            counts[busy] += 1
        return counts

    def busy_name(self) -> str:
        return self.managers["Unione NET"][0].username

    def _screening_pool(self, workflow: str) -> list[tuple[dict, dict, int, str]]:
        questionnaire = self.registry.latest(workflow).definition.questionnaire
        pool = []
        for _ in range(60):
            level = self.rng.uniform(0.1, 0.9)
            answers: dict[str, object] = {}
            for question in questionnaire.questions:
                if question.type == "text":
                    continue
                answers[question.id] = self._answer(question, level)
            result = score_screening(questionnaire, answers)
            pool.append((result.answers, result.need_profile, result.total_score, result.priority))
        return pool

    def _answer(self, question: Any, level: float) -> object:
        rng = self.rng
        level = min(1.0, max(0.0, level + rng.uniform(-0.3, 0.3)))
        if question.type == "choice":
            options = sorted(question.options, key=lambda o: o.score)
            return options[round(level * (len(options) - 1))].value
        if question.type == "boolean":
            return rng.random() < level * 0.8
        if question.type == "scale":
            return question.minimum + round(level * (question.maximum - question.minimum))
        return round(level * 2.4)

    def people_and_pacts(self, total: int, progress: bool) -> ScaleSummary:
        rng = self.rng
        planner = Planner(rng)
        ids = Ids()
        initial = {name: self.registry.latest(name).definition.initial for name in self.registry.names()}
        pools = {name: self._screening_pool(name) for name in ("patto_personalizzato", "chance_dispersione")}
        specs = {spec.code: spec for spec in PROGRAMMES}
        open_counts = self._open_counts(total)
        manager_list = [(territory, u) for territory, team in self.managers.items() for u in team]
        # Each pact's manager: the open ones as counted, the closed ones spread alike.
        slots: list[tuple[str, User, bool]] = []
        for territory, user in manager_list:
            slots.extend((territory, user, True) for _ in range(open_counts[user.username]))
        closed = max(0, total - len(slots))
        for index in range(closed):
            territory, user = manager_list[index % len(manager_list)]
            slots.append((territory, user, False))
        slots = slots[:total]
        rng.shuffle(slots)
        busy = self.busy_name()
        long_index = next(i for i, (t, u, o) in enumerate(slots) if u.username == busy and not o) \
            if any(u.username == busy and not o for _, u, o in slots) else 0
        surnames: Counter[str] = Counter()
        writer = RowWriter(rng, ids, initial)
        long_pact_id = 0
        with _bar(progress, total, "Pacts") as advance:
            for index, (territory, manager, open_) in enumerate(slots):
                code = str(weighted(rng, PROGRAMME_SHARE[territory])) if territory in PROGRAMME_SHARE else (
                    "TILDE" if territory == "Unione NET" else "FEMMINILI_PLURALI")
                spec = specs[code]
                person = self._person(spec)
                chance = spec.workflow == "chance_dispersione"
                long_ = index == long_index
                if long_:
                    steps = planner.patto("closed", suspensions=14, reopen=True) if not chance else \
                        planner.chance("closed", extensions=12)
                else:
                    target = planner.final_state(chance, open_)
                    steps = planner.chance(target) if chance else planner.patto(
                        target, reopen=target == "closed" and rng.random() < REOPENED)
                span = sum(gap for gap, _, _ in steps) + len(steps) // 3 + 2
                if open_:
                    tail = rng.randint(0, 40)
                    start = self.today - timedelta(days=span + tail)
                else:
                    start = self.today - timedelta(days=rng.randint(span + 2, max(span + 3, HISTORY_DAYS)))
                times = place_times(rng, steps, start)
                latest = self.now - timedelta(hours=1)
                if times[-1] > latest:  # whole weeks back: the same weekdays and hours
                    weeks = math.ceil((times[-1] - latest) / timedelta(days=7))
                    times = [t - timedelta(days=7 * weeks) for t in times]
                pact_id = ids.take("pact")
                beneficiary_id = ids.take("beneficiary")
                self._beneficiary_rows(writer, person, beneficiary_id, manager, times[0])
                programme = self.programmes[code]
                writer.pact(PactFacts(
                    pact_id=pact_id, beneficiary_id=beneficiary_id, programme_id=programme.id, programme_code=code,
                    workflow=spec.workflow, manager_id=manager.id, manager_name=manager.full_name,
                    supervisor_id=self.supervisor_of[territory].id, person_name=f"{person.first} {person.last}",
                    tags=_tags(person, self.today), screenings=pools[spec.workflow],
                ), steps, times, journal=12 if long_ else (1 if rng.random() < 0.1 else 0))
                if long_:
                    long_pact_id = pact_id
                if open_:
                    self.open_ids.append(pact_id)
                surnames[person.last] += 1
                if len(writer.rows["pact"]) >= CHUNK:
                    advance(self._write(writer))
            advance(self._write(writer))
        self._sequences(ids)
        # Fresh statistics: without them SQLite reads a pact's moves to a state through the
        # index of all moves to that state (ix_transition_record_to_state_at), not the pact's.
        self.session.execute(text("ANALYZE"))
        year = self.today.year - 1
        home = "Unione NET"  # the busy manager's: supervisors[0] sees them, the long pact and TILDE
        search_term = min(surnames, key=lambda name: (abs(surnames[name] - max(2, total // 200)), name))
        return ScaleSummary(
            beneficiaries=total, pacts=total, accounts=demo_accounts() + self.extra,
            case_managers=[u.username for _, u in manager_list],
            supervisors=[self.supervisor_of[home].username] + [
                u.username for t, u in self.supervisor_of.items() if t != home],
            busy_manager=busy, long_pact_id=long_pact_id, programme_id=self.programmes["TILDE"].id, year=year,
            search_term=search_term,
        )

    def _beneficiary_rows(self, writer: RowWriter, person: Person, beneficiary_id: int, manager: User,
                          at: datetime) -> None:
        rng = self.rng
        created = at - timedelta(minutes=rng.randint(5, 90))
        phone = f"3{rng.randint(20, 49)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}"
        writer.rows["beneficiary"].append({
            "id": beneficiary_id, "first_name": person.first, "last_name": person.last,
            "codice_fiscale": self._fast_codice_fiscale(person), "birth_date": person.birth, "birth_place": person.birth_place,
            "gender": person.gender, "migrant_background": person.migrant, "citizenship": person.citizenship,
            "comune_id": person.comune.id, "address": f"{rng.choice(STREETS)} {rng.randint(1, 120)}", "phone": phone,
            "email": "", "preferred_language": "", "last_name_key": name_key(person.last),
            "first_name_key": name_key(person.first), "phone_key": phone_key(phone), "created_at": created,
            "created_by_id": manager.id, "updated_at": created, "version": 1})
        for first, last, relation, birth in person.household:
            writer.rows["household_member"].append({
                "beneficiary_id": beneficiary_id, "first_name": first, "last_name": last, "relation": relation, "birth_date": birth})

    def _fast_codice_fiscale(self, person: Person) -> str:
        from casework.demo.scale_codes import codice_fiscale

        birth = person.birth
        for _ in range(200):
            code = codice_fiscale(person.last, person.first, person.gender == Gender.FEMALE, birth, person.cf_place)
            if code not in self.used_cf:
                self.used_cf.add(code)
                person.birth = birth
                return code
            birth = birth + timedelta(days=self.rng.randint(1, 60))
            if birth > self.today:
                birth = person.birth - timedelta(days=self.rng.randint(1, 900))
        raise RuntimeError(f"cannot build a codice fiscale for {person.first} {person.last}")

    def _write(self, writer: RowWriter) -> int:
        """One chunk of rows, table by table: the driver's executemany with the values converted
        once by the columns' own types (SQLAlchemy's per-row work would double the load's time)."""
        done = len(writer.rows["pact"])
        connection = self.session.connection()
        postgresql = connection.dialect.name == "postgresql"
        for name in TABLES:
            rows = writer.rows[name]
            if rows:
                keys = tuple(rows[0])
                sql, convert = self._statement(connection.dialect, name, keys)
                if postgresql:  # COPY: one statement for the chunk, not one per row
                    columns = ", ".join(f'"{key}"' for key in keys)
                    raw = connection.connection.dbapi_connection
                    with raw.cursor() as cursor, cursor.copy(f"COPY {name} ({columns}) FROM STDIN") as copy:  # type: ignore[union-attr]
                        for row in rows:
                            copy.write_row(convert(row))
                else:
                    connection.exec_driver_sql(sql, [convert(row) for row in rows])
                rows.clear()
        return done

    def _statement(self, dialect: Any, name: str, keys: tuple[str, ...]) -> tuple[str, Callable[[dict[str, Any]], Any]]:
        cached = self._statements.get((name, keys))
        if cached is None:
            table = Base.metadata.tables[name]
            compiled = insert(table).compile(dialect=dialect, column_keys=keys)
            order = list(compiled.positiontup) if compiled.positional else list(keys)  # COPY: the keys' order
            processors = [(index, _processor(dialect, table.c[key].type)) for index, key in enumerate(order)]
            processors = [(index, p) for index, p in processors if p is not None]

            def convert(row: dict[str, Any]) -> Any:
                values = [row[key] for key in order]
                for index, process in processors:
                    value = values[index]
                    if value is not None:
                        values[index] = process(value)
                return tuple(values)

            cached = self._statements[(name, keys)] = (str(compiled), convert)
        return cached

    def _sequences(self, ids: Ids) -> None:
        """PostgreSQL's id sequences past the ids given here."""
        connection = self.session.connection()
        if connection.dialect.name != "postgresql":
            return
        for name in TABLES:
            connection.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM {name}), false)"))

    # ---- deadlines ------------------------------------------------------------------------

    def deadlines(self, progress: bool) -> None:
        """The real refresh for the open pacts; the queue the triggers filled is then done with."""
        policy = ReminderPolicy.from_settings(self.settings)
        session = self.session
        with _bar(progress, len(self.open_ids), "Deadlines") as advance:
            for start in range(0, len(self.open_ids), 500):
                chunk = self.open_ids[start:start + 500]
                for pact in session.scalars(select(Pact).where(Pact.id.in_(chunk)).order_by(Pact.id)):
                    refresh_pact_deadlines(session, self.registry, pact, now=self.now, policy=policy)
                session.flush()
                session.expunge_all()
                advance(len(chunk))
        session.execute(delete(DeadlineRefresh))


def _sqlite_time(value: datetime) -> str:
    """As SQLAlchemy's SQLite DATETIME stores a UTCDateTime (years after 999), in less time."""
    if value.utcoffset():
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


def _processor(dialect: Any, column_type: Any) -> Callable[[Any], Any] | None:
    """The column type's own bind conversion, or a quicker one giving the same value."""
    if isinstance(column_type, UTCDateTime) and dialect.name == "sqlite":
        return _sqlite_time
    if isinstance(column_type, Enum) and column_type.enum_class is not None:
        return operator.attrgetter("value")  # rows hold members; str_enum stores their values
    return column_type._cached_bind_processor(dialect)


def _tags(person: Person, today: date) -> frozenset[str]:
    from casework.models import Relation

    children = [(today - m[3]).days / 365.25 for m in person.household if m[2] == Relation.CHILD and m[3]]
    tags = {"F" if person.gender == Gender.FEMALE else "M"}
    if children:
        tags.add("kids")
    if any(age < 3 for age in children):
        tags.add("baby")
    if any(6 <= age < 14 for age in children):
        tags.add("schoolkid")
    if not any(m[2].value == "partner" for m in person.household):
        tags.add("single")
    if person.migrant:
        tags.add("migrant")
        if person.birth_place == person.citizenship:
            tags.add("l2")
        if person.citizenship != "Italia":
            tags.add("permit")
    return frozenset(tags)
