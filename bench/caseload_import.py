"""Caseload import: a 5,000-row file checked (dry run) and imported, all in one transaction.

Builds a CSV of N rows (default 5,000; a third of them in follow-up with a last contact),
then, on an empty schema each time, times the dry run and the import (dry run included, as
the import checks the file again) and prints the medians. The last line:

    import: <X> s for 5000 rows (dry run <Y> s)

    python bench/caseload_import.py [--rows 5000] [--repeat 3]
    python bench/caseload_import.py --database-url postgresql+psycopg://user:pw@host/empty_db
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from casework import PROJECT_ROOT
from casework.administration import caseload_import as caseload
from casework.clock import Clock
from casework.config import load_settings
from casework.db import make_engine, make_session_factory
from casework.models import Base, Programme, Role, Territory, TerritoryKind, User
from casework.workflow import WorkflowRegistry
from tests.administration.caseload_files import csv_bytes, row

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)


def seed(session) -> User:
    unione = Territory(name="Unione NET", kind=TerritoryKind.UNIONE)
    comune = Territory(name="Settimo Torinese", kind=TerritoryKind.COMUNE, istat_code="001265", parent=unione)
    supervisor = User(username="elena", full_name="Elena", email="elena@example.org", password_hash="!",
                      role=Role.SUPERVISOR, territory=unione)
    session.add_all([unione, comune, supervisor,
                     User(username="giulia", full_name="Giulia", email="giulia@example.org", password_hash="!",
                          role=Role.CASE_MANAGER, territory=unione),
                     Programme(code="TILDE", name="TILDE", funder="-", territory=unione, starts_on=date(2025, 1, 1),
                               workflow_name="patto_personalizzato")])
    session.commit()
    return supervisor


def once(url: str, data: bytes, registry: WorkflowRegistry, zone) -> tuple[float, float]:
    engine = make_engine(url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    try:
        with make_session_factory(engine)() as session:
            supervisor = seed(session)
            clock = Clock(NOW, zone)
            started = time.perf_counter()
            plan = caseload.dry_run(session, registry, supervisor, caseload.read_table("casi.csv", data), clock=clock)
            dry = time.perf_counter() - started
            assert plan.ok, plan.problems[:5]
            session.rollback()
            started = time.perf_counter()
            caseload.import_caseload(session, registry, supervisor, caseload.read_table("casi.csv", data), clock=clock)
            session.commit()
            return time.perf_counter() - started, dry
    finally:
        Base.metadata.drop_all(engine)
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url", default=None, help="an EMPTY database: its tables are dropped")
    args = parser.parse_args()
    settings = load_settings()
    registry = WorkflowRegistry.from_directory(PROJECT_ROOT / "workflows")
    rows = [row(index, **({"Fase": "follow_up", "Ultimo contatto": "10/02/2026"} if index % 3 == 0 else {}))
            for index in range(args.rows)]
    data = csv_bytes(rows)
    imports, dries = [], []
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        for attempt in range(args.repeat):
            took, dry = once(url, data, registry, settings.zone)
            imports.append(took)
            dries.append(dry)
            print(f"run {attempt + 1}: import {took:.2f} s, dry run {dry:.2f} s", flush=True)
    print(f"import: {statistics.median(imports):.1f} s for {args.rows} rows (dry run {statistics.median(dries):.1f} s)")


if __name__ == "__main__":
    main()
