"""Workflow engine throughput: in memory, committed to SQLite, and a raw-SQL baseline.

In memory: `WorkflowEngine.fire` on a pact object, alternating `suspend` (a guarded event)
and `resume` (a return to the state the pact came from).

Committed: the same events, each its own transaction through `transition_pact` (guards,
state, audit record, next deadline, version check) and `Session.commit()`, on one held
connection. The baseline runs the same UPDATE + INSERT per event, with the same values and
connection settings (WAL, synchronous=FULL), through the DB-API on the same SQLite file in
the same run, so the ratio does not depend on how fast this machine or its disk is.

Targets: at least 100,000 events/s in memory, and committed/raw at least 0.3. The engine
uses only the public API of `transitions` and SQLAlchemy's own execution path (events,
logging and query counting see every statement): a case manager fires a few events an
hour, and code others can read and upgrade is worth more than the rest of the raw speed.
A missed target is printed before the last line and makes the exit status 1.

    python bench/engine.py [--events 4000] [--repeats 7]
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

from sqlalchemy.orm import Session

from casework import PROJECT_ROOT
from casework.clock import Clock
from casework.config import load_settings
from casework.db import _sqlite_pragmas, make_engine, make_session_factory
from casework.models import (
    Base,
    Beneficiary,
    Gender,
    Pact,
    Programme,
    ReferralSource,
    Role,
    Territory,
    TerritoryKind,
    User,
)
from casework.pacts import operations as ops
from casework.reminders.deadlines import StatePosition, next_deadline
from casework.workflow.engine import WorkflowRegistry
from casework.workflow.guards import GuardContext

MEMORY_TARGET = 100_000  # events/s
RATIO_TARGET = 0.3  # committed / raw
START = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)
ZONE = load_settings().zone  # CASEWORK_TIMEZONE, as the application counts deadlines
# Screening <-> suspended: a guarded event (suspend needs a reason) and a return to the
# previous state (resume reads the history), the two kinds of move the engine makes.
CYCLE = (("suspend", "pausa"), ("resume", ""))


def in_memory_rate(registry: WorkflowRegistry, events: int) -> float:
    engine = registry.latest("patto_personalizzato")
    pact = Pact(state="screening")
    now = START
    started = time.perf_counter()
    for index in range(events):
        event, comment = CYCLE[index % 2]
        ctx = GuardContext(pact=pact, now=now, comment=comment, previous_state="screening")
        _, pact.state = engine.fire(event, ctx)
    return events / (time.perf_counter() - started)


def _seed(session_factory, registry) -> int:
    with session_factory() as session:
        territory = Territory(name="Settimo Torinese", kind=TerritoryKind.COMUNE, istat_code="001265")
        manager = User(username="bench", full_name="Bench", email="b@example.org", password_hash="!",
                       role=Role.CASE_MANAGER, territory=territory)
        programme = Programme(code="BENCH", name="Bench", funder="-", territory=territory,
                              starts_on=date(2025, 1, 1), workflow_name="patto_personalizzato")
        beneficiary = Beneficiary(first_name="Maria", last_name="Rossi", gender=Gender.FEMALE)
        session.add_all([territory, manager, programme, beneficiary])
        clock = Clock(START, ZONE)
        pact = ops.open_pact(session, registry, beneficiary=beneficiary, programme=programme,
                             case_manager=manager, actor=manager, clock=clock)
        ops.record_referral(session, pact, source=ReferralSource.SELF, reason="bench",
                            referred_on=date(2026, 3, 2), actor=manager, clock=clock)
        ops.transition_pact(session, registry, pact, "start_screening", actor=manager, clock=clock)
        session.commit()
        return pact.id


def committed_rate(engine, registry, pact_id: int, events: int) -> float:
    # One connection held for the run, as the raw baseline holds one: the comparison is of
    # what each does per event, not of connection-pool traffic.
    with engine.connect() as connection, Session(bind=connection, expire_on_commit=False) as session:
        pact = session.get(Pact, pact_id)
        actor = pact.case_manager
        now = START + timedelta(days=1)
        started = time.perf_counter()
        for index in range(events):
            event, comment = CYCLE[index % 2]
            ops.transition_pact(session, registry, pact, event, actor=actor, clock=Clock(now, ZONE), comment=comment)
            session.commit()
        return events / (time.perf_counter() - started)


def raw_rate(path: Path, pact_id: int, events: int, deadlines: dict[str, tuple[datetime, str]]) -> float:
    """The same UPDATE + INSERT per event, values included, with DB-API calls and no engine."""
    import sqlite3

    connection = sqlite3.connect(path)
    _sqlite_pragmas(connection, None)  # the connection settings the application uses
    version = connection.execute("SELECT version FROM pact WHERE id = ?", (pact_id,)).fetchone()[0]
    states = ("suspended", "screening")
    now = (START + timedelta(days=1)).replace(tzinfo=None).isoformat(" ")
    started = time.perf_counter()
    for index in range(events):
        event, comment = CYCLE[index % 2]
        target, source = states[index % 2], states[(index + 1) % 2]
        deadline_at, label = deadlines[target]
        cursor = connection.execute(
            "UPDATE pact SET state = ?, entered_from = ?, state_entered_at = ?, closed_at = NULL,"
            " next_deadline_at = ?, next_deadline_label = ?, updated_at = ?, version = ?"
            " WHERE id = ? AND version = ?",
            (target, source, now, deadline_at.replace(tzinfo=None).isoformat(" "), label, now, version + 1,
             pact_id, version),
        )
        assert cursor.rowcount == 1
        connection.execute(
            "INSERT INTO transition_record (pact_id, event, from_state, to_state, actor_id, at, comment, pact_version)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (pact_id, event, source, target, 1, now, comment, version + 1),
        )
        connection.commit()
        version += 1
    elapsed = time.perf_counter() - started
    connection.close()
    return events / elapsed


def _deadlines(session_factory, registry, pact_id: int) -> dict[str, tuple[datetime, str]]:
    """The next deadline the engine computes on entering each state of the cycle."""
    definition = registry.latest("patto_personalizzato").definition
    moved_at = START + timedelta(days=1)
    with session_factory() as session:
        pact = session.get(Pact, pact_id)
        return {
            state: next_deadline(session, definition, StatePosition(pact_id, state, moved_at, pact.opened_at), ZONE)
            for state in ("suspended", "screening")
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=4000, help="committed events per repeat")
    parser.add_argument("--memory-events", type=int, default=100_000, help="in-memory events per repeat")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    registry = WorkflowRegistry.from_directory(PROJECT_ROOT / "workflows")
    memory, committed, raw = [], [], []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.sqlite3"
        engine = make_engine(f"sqlite:///{path}")
        Base.metadata.create_all(engine)
        session_factory = make_session_factory(engine)
        pact_id = _seed(session_factory, registry)
        deadlines = _deadlines(session_factory, registry, pact_id)
        for repeat in range(args.repeats):
            memory.append(in_memory_rate(registry, args.memory_events))
            # Alternate the order so neither side always runs on a warmer file.
            if repeat % 2:
                raw.append(raw_rate(path, pact_id, args.events, deadlines))
                committed.append(committed_rate(engine, registry, pact_id, args.events))
            else:
                committed.append(committed_rate(engine, registry, pact_id, args.events))
                raw.append(raw_rate(path, pact_id, args.events, deadlines))
            print(f"repeat {repeat + 1}: memory {memory[-1]:,.0f}/s, committed {committed[-1]:,.0f}/s, "
                  f"raw {raw[-1]:,.0f}/s, committed/raw {committed[-1] / raw[-1]:.2f}")
        engine.dispose()

    m, c, b = statistics.median(memory), statistics.median(committed), statistics.median(raw)
    # Each repeat runs both sides back to back; the median of those paired ratios is steadier
    # than a ratio of medians when the disk's fsync time drifts during the run.
    ratio = statistics.median(engine_rate / raw_rate_ for engine_rate, raw_rate_ in zip(committed, raw, strict=True))
    missed = [f"in memory {m:.0f} events/s < {MEMORY_TARGET}"] if m < MEMORY_TARGET else []
    missed += [f"committed/raw {ratio:.2f} < {RATIO_TARGET}"] if ratio < RATIO_TARGET else []
    print(f"targets: in memory >= {MEMORY_TARGET} events/s, committed/raw >= {RATIO_TARGET}: "
          + ("missed: " + "; ".join(missed) if missed else "met"))
    print(f"engine: {m:.0f} events/s in memory, {c:.0f} events/s committed; raw SQL baseline {b:.0f}/s; committed/raw {ratio:.2f}")
    if missed:
        sys.exit(1)


if __name__ == "__main__":
    main()
