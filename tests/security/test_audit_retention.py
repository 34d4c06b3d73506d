"""The access log and the administrative log are kept: the database itself refuses to delete or
rewrite their rows, whatever path (raw SQL included) the request comes from, on both databases."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from casework.models import AccessLogEntry, AdministrativeLogEntry

AT = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)
LOGS = {
    "access_log_entry": lambda: AccessLogEntry(at=AT, action="view", subject_type="beneficiary", subject_id=7,
                                               ip_address="10.0.0.1"),
    "administrative_log_entry": lambda: AdministrativeLogEntry(at=AT, action="update", subject_type="user",
                                                               subject_id=7, changes={"role": ["a", "b"]}),
}


def _insert(engine: Engine, table: str) -> int:
    with Session(engine) as session:
        entry = LOGS[table]()
        session.add(entry)
        session.commit()
        return entry.id


def _count(engine: Engine, table: str) -> int:
    with engine.connect() as connection:
        return connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


@pytest.mark.parametrize("table", sorted(LOGS))
def test_raw_delete_of_a_log_entry_is_refused_by_the_database(engine, table):
    entry_id = _insert(engine, table)
    with pytest.raises(DBAPIError, match="append-only"):
        with engine.begin() as connection:
            connection.execute(text(f"DELETE FROM {table} WHERE id = :id"), {"id": entry_id})
    assert _count(engine, table) == 1


@pytest.mark.parametrize("table", sorted(LOGS))
def test_raw_update_of_a_log_entry_is_refused_by_the_database(engine, table):
    entry_id = _insert(engine, table)
    with pytest.raises(DBAPIError, match="append-only"):
        with engine.begin() as connection:
            connection.execute(text(f"UPDATE {table} SET action = 'forged' WHERE id = :id"), {"id": entry_id})
    with engine.connect() as connection:
        action = connection.execute(text(f"SELECT action FROM {table} WHERE id = :id"), {"id": entry_id}).scalar_one()
    assert action != "forged"


def test_no_application_code_deletes_either_log():
    # Retention jobs and erasure must skip the logs: no module names them next to a delete.
    root = Path(__file__).resolve().parents[2] / "casework"
    offenders = []
    for path in root.rglob("*.py"):
        if "models" in path.parts:
            continue
        source = path.read_text(encoding="utf-8")
        for model in ("AccessLogEntry", "AdministrativeLogEntry", "access_log_entry", "administrative_log_entry"):
            for line in source.splitlines():
                if model in line and "delete" in line.lower():
                    offenders.append(f"{path.relative_to(root)}: {line.strip()}")
    assert offenders == []
