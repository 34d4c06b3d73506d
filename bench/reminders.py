"""Reminder sweep: its cost follows the number of deadlines due, not the number of pacts.

Seeds N open pacts (default 100,000), each with its deadline row as the scheduler's refresh
writes it, 1% of them with a reminder due now; then times

- the sweep: `casework.reminders.sweep.sweep` at that moment, which writes a reminder, an in-app
  notification and the e-mails for each due deadline, in batch transactions (the refresh
  queue is empty: the seeding wrote the rows the refresh would);
- the baseline: the indexed select alone that reads the same due rows;
- the plain-SQL baseline: the very rows the sweep wrote (e-mails, reminders, notifications,
  and the due rows' next firing time), written again with plain SQL statements, many rows
  per statement, in one transaction: what the writes cost without any of the sweep's logic.
  sweep/plain says what the deciding costs on top of the writing.

Each repeat puts the due rows back as they were. Run it for two sizes to see the sweep stay
flat while N grows tenfold:

    python bench/reminders.py --pacts 10000 --due 1000   # 10% due: as many due as below
    python bench/reminders.py --pacts 100000             # 1% due
    python bench/reminders.py ... --database-url postgresql+psycopg://user:pw@host/empty_db
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, bindparam, delete, insert, select, text, update

from casework import PROJECT_ROOT
from casework.config import load_settings
from casework.db import make_engine, make_session_factory
from casework.models import (
    Base,
    Beneficiary,
    DeadlineRefresh,
    Gender,
    Notification,
    OutboundEmail,
    Pact,
    PactDeadline,
    Programme,
    Reminder,
    Role,
    Territory,
    TerritoryKind,
    User,
)
from casework.reminders.deadline_rows import ReminderPolicy, open_firings
from casework.reminders.deadlines import rule_deadline
from casework.reminders.sweep import sweep
from casework.workflow.engine import WorkflowRegistry

ZONE = load_settings().zone  # CASEWORK_TIMEZONE, as the scheduler counts local days
NOW = datetime(2026, 3, 16, 9, 0, tzinfo=ZONE).astimezone(timezone.utc)  # Monday 16 March 2026, 09:00
# Opened on 2 March: screening due 16 March, reminder sent on Friday 13 March: due now.
DUE_OPENING = datetime(2026, 3, 2, 10, 0, tzinfo=ZONE).astimezone(timezone.utc)
MANAGERS = 50
CHUNK = 5000


def _seed(engine: Engine, registry: WorkflowRegistry, pacts: int, due: int, policy: ReminderPolicy) -> None:
    rule = registry.latest("patto_personalizzato").definition.states["referral"].deadlines[0]
    with engine.begin() as connection:
        ambito = connection.execute(insert(Territory).values(name="Ambito", kind=TerritoryKind.AMBITO)
                                    .returning(Territory.id)).scalar_one()
        unione = connection.execute(insert(Territory).values(name="Unione", kind=TerritoryKind.UNIONE,
                                                             parent_id=ambito).returning(Territory.id)).scalar_one()
        comune = connection.execute(insert(Territory).values(name="Settimo", kind=TerritoryKind.COMUNE,
                                    istat_code="001265", parent_id=unione).returning(Territory.id)).scalar_one()
        users = [{"username": f"manager{i}", "full_name": f"Manager {i}", "email": f"manager{i}@example.org",
                  "password_hash": "!", "role": Role.CASE_MANAGER, "territory_id": unione, "locale": "it",
                  "active": True, "created_at": NOW} for i in range(MANAGERS)]
        users += [{"username": name, "full_name": name, "email": f"{name}@example.org", "password_hash": "!",
                   "role": Role.SUPERVISOR, "territory_id": territory, "locale": "it", "active": True,
                   "created_at": NOW} for name, territory in (("supervisor", unione), ("territorial", ambito))]
        connection.execute(insert(User), users)
        manager_ids = connection.execute(select(User.id).where(User.role == Role.CASE_MANAGER)).scalars().all()
        programme = connection.execute(insert(Programme).values(
            code="BENCH", name="Bench", funder="-", territory_id=unione, starts_on=date(2025, 1, 1),
            workflow_name="patto_personalizzato", restricted=False, no_contact_days=30,
        ).returning(Programme.id)).scalar_one()

    # Due pacts are spread through the table, not bunched at its start or end.
    step = pacts // due if due else pacts + 1
    cache: dict[datetime, tuple] = {}
    for start in range(0, pacts, CHUNK):
        size = min(CHUNK, pacts - start)
        with engine.begin() as connection:
            first = connection.execute(insert(Beneficiary).values(
                first_name="Persona", last_name=f"{start}", gender=Gender.FEMALE, migrant_background=False,
                birth_place="", citizenship="", address="", phone="", email="", created_at=NOW, updated_at=NOW,
                version=1, comune_id=comune,
            ).returning(Beneficiary.id)).scalar_one()
            rows = [{"first_name": "Persona", "last_name": f"{start + i}", "gender": Gender.FEMALE,
                     "migrant_background": False, "birth_place": "", "citizenship": "", "address": "", "phone": "",
                     "email": "", "created_at": NOW, "updated_at": NOW, "version": 1, "comune_id": comune}
                    for i in range(1, size)]
            if rows:
                connection.execute(insert(Beneficiary), rows)
            beneficiaries = connection.execute(
                select(Beneficiary.id).where(Beneficiary.id >= first).order_by(Beneficiary.id)).scalars().all()
            pact_rows, openings = [], []
            for offset, beneficiary_id in enumerate(beneficiaries):
                index = start + offset
                if index % step == 0 and index // step < due:
                    opened = DUE_OPENING
                else:  # later openings: their reminders are days or weeks away
                    opened = NOW + timedelta(days=-9 + index % 40, hours=index % 7)
                openings.append(opened)
                pact_rows.append({
                    "beneficiary_id": beneficiary_id, "programme_id": programme,
                    "case_manager_id": manager_ids[(index // step + index) % MANAGERS], "workflow_name": "patto_personalizzato",
                    "workflow_version": 1, "state": "referral", "version": 1, "opened_at": opened,
                    "state_entered_at": opened, "updated_at": opened, "next_deadline_label": "screening_due",
                })
            for row, opened in zip(pact_rows, openings, strict=True):
                if opened not in cache:
                    deadline = rule_deadline(rule, opened, policy.zone)
                    firings, upcoming = open_firings(rule, deadline.anchor_on, 0, policy, NOW, set())
                    cache[opened] = (deadline, firings[0].fire_at if firings else upcoming)
                row["next_deadline_at"] = cache[opened][0].due_at
            first_pact = connection.execute(insert(Pact).values(pact_rows[0]).returning(Pact.id)).scalar_one()
            if len(pact_rows) > 1:
                connection.execute(insert(Pact), pact_rows[1:])
            pact_ids = connection.execute(
                select(Pact.id).where(Pact.id >= first_pact).order_by(Pact.id)).scalars().all()
            deadline_rows = []
            for pact_id, opened in zip(pact_ids, openings, strict=True):
                deadline, fire_at = cache[opened]
                deadline_rows.append({
                    "pact_id": pact_id, "rule_id": rule.id, "state": "referral", "state_entered_at": opened,
                    "natural_anchor_at": opened, "anchor_on": deadline.anchor_on, "extension": 0,
                    "due_on": deadline.due_on, "due_at": deadline.due_at, "paused": False,
                    "next_fire_at": fire_at, "created_at": opened,
                })
            connection.execute(insert(PactDeadline), deadline_rows)
    with engine.begin() as connection:
        # The seeding wrote what the refresh would: the triggers' queue has nothing left to do.
        connection.execute(delete(DeadlineRefresh))
        connection.execute(text("ANALYZE"))  # the planner sees the tables as they are


def _due_rows(engine: Engine) -> list[dict]:
    with engine.connect() as connection:
        return [{"row_id": row_id, "fire_at": fire_at} for row_id, fire_at in connection.execute(
            select(PactDeadline.id, PactDeadline.next_fire_at).where(PactDeadline.next_fire_at <= NOW))]


def _reset(engine: Engine, due_rows: list[dict]) -> None:
    with engine.begin() as connection:
        connection.execute(delete(Notification))
        connection.execute(delete(Reminder))
        connection.execute(delete(OutboundEmail))
        connection.execute(
            update(PactDeadline).where(PactDeadline.id == bindparam("row_id"))
            .values(next_fire_at=bindparam("fire_at")).execution_options(synchronize_session=False),
            due_rows,
        )


def _baseline(engine: Engine) -> float:
    query = select(PactDeadline).where(PactDeadline.next_fire_at <= NOW).order_by(PactDeadline.next_fire_at)
    with engine.connect() as connection:
        started = time.perf_counter()
        rows = connection.execute(query).all()
        elapsed = time.perf_counter() - started
    assert rows
    return elapsed * 1000


_WRITTEN = ("outbound_email", "reminder", "notification")  # in foreign-key order


def _written(engine: Engine) -> dict[str, list[dict]]:
    """What the sweep wrote, as the raw stored values (ids included: reminders name their e-mail)."""
    with engine.connect() as connection:
        written = {table: [dict(row._mapping) for row in connection.execute(text(f"SELECT * FROM {table}"))]
                   for table in _WRITTEN}
        written["pact_deadline"] = [dict(row._mapping) for row in connection.execute(text(
            "SELECT id, next_fire_at FROM pact_deadline WHERE id IN (SELECT deadline_id FROM reminder)"))]
    return written


def _plain_sql(engine: Engine, written: dict[str, list[dict]]) -> float:
    """Write `written` again with plain SQL (executemany of one INSERT or UPDATE each); ms."""
    statements = []
    for table in _WRITTEN:
        columns = list(written[table][0])
        statements.append((text(f"INSERT INTO {table} ({', '.join(columns)}) "
                                f"VALUES ({', '.join(':' + column for column in columns)})"), written[table]))
    statements.append((text("UPDATE pact_deadline SET next_fire_at = :next_fire_at WHERE id = :id"),
                       written["pact_deadline"]))
    started = time.perf_counter()
    with engine.begin() as connection:
        for statement, rows in statements:
            connection.execute(statement, rows)
    return (time.perf_counter() - started) * 1000


def _plan(engine: Engine) -> str:
    query = "SELECT id FROM pact_deadline WHERE next_fire_at <= :now ORDER BY next_fire_at"
    explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as connection:
        rows = connection.execute(text(explain + query), {"now": NOW.replace(tzinfo=None)}).all()
    return " | ".join(str(row[-1]) for row in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pacts", type=int, default=100_000)
    parser.add_argument("--due-percent", type=float, default=1.0)
    parser.add_argument("--due", type=int, default=None, help="how many are due (overrides --due-percent)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--database-url", default="", help="an empty database (default: a temporary SQLite file)")
    args = parser.parse_args()

    registry = WorkflowRegistry.from_directory(PROJECT_ROOT / "workflows")
    policy = ReminderPolicy(zone=ZONE)
    due = args.due if args.due is not None else round(args.pacts * args.due_percent / 100)
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        engine = make_engine(url)
        Base.metadata.drop_all(engine)
        Base.metadata.create_all(engine)
        started = time.perf_counter()
        _seed(engine, registry, args.pacts, due, policy)
        print(f"seeded {args.pacts} pacts ({engine.dialect.name}) in {time.perf_counter() - started:.1f} s")
        print(f"due rows: {_plan(engine)}")
        due_rows = _due_rows(engine)
        assert len(due_rows) == due, (len(due_rows), due)
        session_factory = make_session_factory(engine)
        sweeps, baselines, plains = [], [], []
        written: dict[str, list[dict]] | None = None
        for repeat in range(args.repeats):
            _reset(engine, due_rows)
            baselines.append(_baseline(engine))
            started = time.perf_counter()
            report = sweep(session_factory, registry, now=NOW, policy=policy, holder="bench")
            sweeps.append((time.perf_counter() - started) * 1000)
            assert report.fired == due and report.refreshed == 0, report
            written = written or _written(engine)
            _reset(engine, due_rows)
            plains.append(_plain_sql(engine, written))
            print(f"repeat {repeat + 1}: sweep {sweeps[-1]:.0f} ms ({report.fired} reminders, {report.emails} e-mails, "
                  f"{report.batches} batches); baseline {baselines[-1]:.1f} ms; plain SQL {plains[-1]:.0f} ms")
        engine.dispose()

    sweep_ms, baseline_ms, plain_ms = statistics.median(sweeps), statistics.median(baselines), statistics.median(plains)
    print(f"plain SQL: {plain_ms:.0f} ms for the same {sum(len(rows) for rows in written.values())} rows written; "
          f"sweep/plain {sweep_ms / plain_ms:.1f}")
    print(f"sweep: {sweep_ms:.0f} ms for {args.pacts} pacts, {due} due; indexed-select baseline {baseline_ms:.1f} ms; "
          f"sweep/baseline {sweep_ms / baseline_ms:.1f}")


if __name__ == "__main__":
    main()
