"""Workflow engine throughput: in memory, committed to SQLite, and a raw-SQL baseline.

Each committed event is its own transaction through `transition_pact` (guards, state,
audit record, deadline, version check). The baseline runs the same UPDATE + INSERT per
event with plain DB-API SQL on the same SQLite file, in the same run, so the ratio is
independent of how fast this machine is.

    python bench/engine.py [--events 4000] [--repeats 5]
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

from casework import PROJECT_ROOT  # noqa: E402
from casework import pacts as ops  # noqa: E402
from casework.db import make_engine, make_session_factory  # noqa: E402
from casework.models import (  # noqa: E402
    Base, Beneficiary, Gender, Pact, Programme, ReferralSource, Role, Territory, TerritoryKind, User,
)
from casework.workflow.engine import WorkflowRegistry  # noqa: E402
from casework.workflow.guards import GuardContext  # noqa: E402

START = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)
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
        clock = ops.Clock(START)
        pact = ops.open_pact(session, registry, beneficiary=beneficiary, programme=programme,
                             case_manager=manager, actor=manager, clock=clock)
        ops.record_referral(session, pact, source=ReferralSource.SELF, reason="bench",
                            referred_on=date(2026, 3, 2), actor=manager, clock=clock)
        ops.transition_pact(session, registry, pact, "start_screening", actor=manager, clock=clock)
        session.commit()
        return pact.id


def committed_rate(session_factory, registry, pact_id: int, events: int) -> float:
    with session_factory() as session:
        pact = session.get(Pact, pact_id)
        actor = pact.case_manager
        now = START + timedelta(days=1)
        started = time.perf_counter()
        for index in range(events):
            event, comment = CYCLE[index % 2]
            ops.transition_pact(session, registry, pact, event, actor=actor, clock=ops.Clock(now), comment=comment)
            session.commit()
        return events / (time.perf_counter() - started)


def raw_rate(path: Path, pact_id: int, events: int) -> float:
    import sqlite3

    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    version = connection.execute("SELECT version FROM pact WHERE id = ?", (pact_id,)).fetchone()[0]
    states = ("suspended", "screening")
    now = (START + timedelta(days=1)).replace(tzinfo=None)
    started = time.perf_counter()
    for index in range(events):
        event, comment = CYCLE[index % 2]
        target, source = states[index % 2], states[(index + 1) % 2]
        cursor = connection.execute(
            "UPDATE pact SET state = ?, version = ?, state_entered_at = ?, updated_at = ?, next_deadline_at = ?,"
            " next_deadline_label = ? WHERE id = ? AND version = ?",
            (target, version + 1, now, now, now, "screening_due", pact_id, version),
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=4000, help="committed events per repeat")
    parser.add_argument("--memory-events", type=int, default=100_000, help="in-memory events per repeat")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    registry = WorkflowRegistry.from_directory(PROJECT_ROOT / "workflows")
    memory, committed, raw = [], [], []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.sqlite3"
        engine = make_engine(f"sqlite:///{path}")
        Base.metadata.create_all(engine)
        session_factory = make_session_factory(engine)
        pact_id = _seed(session_factory, registry)
        for repeat in range(args.repeats):
            memory.append(in_memory_rate(registry, args.memory_events))
            # Alternate the order so neither side always runs on a warmer file.
            if repeat % 2:
                raw.append(raw_rate(path, pact_id, args.events))
                committed.append(committed_rate(session_factory, registry, pact_id, args.events))
            else:
                committed.append(committed_rate(session_factory, registry, pact_id, args.events))
                raw.append(raw_rate(path, pact_id, args.events))
            print(f"repeat {repeat + 1}: memory {memory[-1]:,.0f}/s, committed {committed[-1]:,.0f}/s, raw {raw[-1]:,.0f}/s")
        engine.dispose()

    m, c, b = statistics.median(memory), statistics.median(committed), statistics.median(raw)
    print(f"engine: {m:.0f} events/s in memory, {c:.0f} events/s committed; raw SQL baseline {b:.0f}/s; committed/raw {c / b:.2f}")


if __name__ == "__main__":
    main()
