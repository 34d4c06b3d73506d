"""The integrity chain of the access log and the administrative log: sealed once, verified from
the start, and any change, deletion or reordering of a sealed entry named (SQLite, PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from casework.models import AccessLogEntry, AdministrativeLogEntry
from casework.models.base import append_only_ddl
from casework.security.audit_chain import LOGS, seal, verify, verify_log

AT = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)


def _views(engine: Engine, count: int, start: int = 0) -> list[int]:
    with Session(engine) as session:
        entries = [AccessLogEntry(at=AT + timedelta(minutes=start + n), action="view", subject_type="beneficiary",
                                  subject_id=start + n, ip_address="10.0.0.1") for n in range(count)]
        session.add_all(entries)
        session.add(AdministrativeLogEntry(at=AT, action="update", subject_type="user", subject_id=1,
                                           changes={"role": ["a", "b"]}))
        session.commit()
        return [entry.id for entry in entries]


def _seal(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        return seal(session)


def _report(engine: Engine, log: str = "access_log_entry"):
    with Session(engine) as session:
        return verify_log(session, log)


def _without_triggers(engine: Engine, table: str, statement: str, **params: object) -> None:
    """What a database superuser could do: drop the trigger, rewrite, put the trigger back."""
    dialect = engine.dialect.name
    names = [f"{table}_no_update", f"{table}_no_delete"] if dialect == "sqlite" else [f"{table}_append_only"]
    columns = tuple(column.name for column in LOGS[table].__table__.columns)
    with engine.begin() as connection:
        for name in names:
            connection.execute(text(f"DROP TRIGGER {name}" + (f" ON {table}" if dialect == "postgresql" else "")))
        connection.execute(text(statement), params)
        for ddl in append_only_ddl(table, columns, ("chain_position", "chain_hash"))[dialect]:
            connection.execute(text(ddl))


def test_sealed_chains_verify_and_new_entries_count_as_unsealed(engine):
    _views(engine, 5)
    assert _seal(engine) == {"access_log_entry": 5, "administrative_log_entry": 1}
    _views(engine, 3, start=5)
    with Session(engine) as session:
        reports = {report.log: report for report in verify(session)}
    access = reports["access_log_entry"]
    assert (access.intact, access.sealed, access.unsealed, access.head_position) == (True, 5, 3, 5)
    assert len(access.head_hash) == 64
    assert _seal(engine)["access_log_entry"] == 3
    after = _report(engine)
    assert (after.intact, after.sealed, after.unsealed) == (True, 8, 0)
    assert reports["administrative_log_entry"].intact


def test_a_sealed_entry_cannot_be_sealed_again_or_changed(engine):
    ids = _views(engine, 2)
    _seal(engine)
    for statement in ("UPDATE access_log_entry SET chain_hash = :forged WHERE id = :id",
                      "UPDATE access_log_entry SET detail = 'x', chain_hash = :forged WHERE id = :id"):
        with pytest.raises(DBAPIError, match="append-only"):
            with engine.begin() as connection:
                connection.execute(text(statement), {"forged": "f" * 64, "id": ids[0]})
    assert _report(engine).intact


def test_an_unsealed_entry_can_only_be_sealed_not_changed(engine):
    ids = _views(engine, 1)
    with pytest.raises(DBAPIError, match="append-only"):
        with engine.begin() as connection:
            connection.execute(text("UPDATE access_log_entry SET detail = 'x', chain_position = 1, "
                                    "chain_hash = :h WHERE id = :id"), {"h": "0" * 64, "id": ids[0]})


def test_a_changed_entry_is_named(engine):
    ids = _views(engine, 4)
    _seal(engine)
    _without_triggers(engine, "access_log_entry", "UPDATE access_log_entry SET ip_address = '6.6.6.6' WHERE id = :id",
                      id=ids[2])
    report = _report(engine)
    assert not report.intact
    assert (report.broken_at_id, report.broken_at_position, report.head_position) == (ids[2], 3, 2)


def test_a_changed_administrative_entry_is_named(engine):
    _views(engine, 1)
    _views(engine, 1)
    _seal(engine)
    with engine.connect() as connection:
        first = connection.execute(text("SELECT min(id) FROM administrative_log_entry")).scalar_one()
    _without_triggers(engine, "administrative_log_entry",
                      "UPDATE administrative_log_entry SET action = 'create' WHERE id = :id", id=first)
    report = _report(engine, "administrative_log_entry")
    assert (report.intact, report.broken_at_id, report.broken_at_position) == (False, first, 1)


def test_a_deleted_entry_is_named(engine):
    ids = _views(engine, 4)
    _seal(engine)
    _without_triggers(engine, "access_log_entry", "DELETE FROM access_log_entry WHERE id = :id", id=ids[1])
    report = _report(engine)
    assert (report.intact, report.broken_at_position, report.head_position) == (False, 2, 1)
    assert "missing" in report.reason


def test_a_deleted_entry_with_positions_renumbered_is_named(engine):
    # Closing the gap is not enough: the next entry's hash was computed over the deleted one's.
    ids = _views(engine, 4)
    _seal(engine)
    _without_triggers(engine, "access_log_entry", "DELETE FROM access_log_entry WHERE id = :id", id=ids[1])
    for position, entry_id in ((2, ids[2]), (3, ids[3])):
        _without_triggers(engine, "access_log_entry",
                          "UPDATE access_log_entry SET chain_position = :p WHERE id = :id", p=position, id=entry_id)
    report = _report(engine)
    assert (report.intact, report.broken_at_id, report.broken_at_position) == (False, ids[2], 2)


def test_reordered_entries_are_named(engine):
    ids = _views(engine, 4)
    _seal(engine)
    for position, entry_id in ((-1, ids[1]), (2, ids[2]), (3, ids[1])):
        _without_triggers(engine, "access_log_entry",
                          "UPDATE access_log_entry SET chain_position = :p WHERE id = :id", p=position, id=entry_id)
    report = _report(engine)
    assert (report.intact, report.broken_at_id, report.broken_at_position) == (False, ids[2], 2)


def test_inserts_while_sealing_keep_the_chain_valid(engine):
    stop = threading.Event()
    errors: list[BaseException] = []

    def insert() -> None:
        try:
            n = 0
            while not stop.is_set() and n < 200:
                _views(engine, 2, start=n)
                n += 2
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    writers = [threading.Thread(target=insert) for _ in range(3)]
    for writer in writers:
        writer.start()
    sealed = 0
    for _ in range(10):
        try:
            sealed += _seal(engine)["access_log_entry"]
        except DBAPIError:
            # SQLite: a sealer that met a busy database gives up; the next run picks up.
            if engine.dialect.name != "sqlite":
                raise
    stop.set()
    for writer in writers:
        writer.join()
    assert errors == []
    _seal(engine)
    report = _report(engine)
    with engine.connect() as connection:
        total = connection.execute(text("SELECT count(*) FROM access_log_entry")).scalar_one()
    assert (report.intact, report.sealed, report.unsealed) == (True, total, 0)
    assert sealed > 0


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def migrated_engine(request, tmp_path):
    from casework import migrate
    from casework.db import make_engine

    url = f"sqlite:///{tmp_path / 'migrated.sqlite3'}" if request.param == "sqlite" \
        else request.getfixturevalue("fresh_postgres_url")
    migrate.upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


def test_a_migrated_database_seals_and_refuses_everything_else(migrated_engine):
    ids = _views(migrated_engine, 3)
    assert _seal(migrated_engine)["access_log_entry"] == 3
    assert _report(migrated_engine).intact
    for statement in ("DELETE FROM access_log_entry WHERE id = :id",
                      "UPDATE access_log_entry SET action = 'x' WHERE id = :id",
                      "DELETE FROM administrative_log_entry"):
        with pytest.raises(DBAPIError, match="append-only"):
            with migrated_engine.begin() as connection:
                connection.execute(text(statement), {"id": ids[0]})
    _without_triggers(migrated_engine, "access_log_entry",
                      "UPDATE access_log_entry SET action = 'print' WHERE id = :id", id=ids[1])
    assert _report(migrated_engine).broken_at_id == ids[1]


def test_the_verify_command_exits_non_zero_naming_the_log_and_the_entry(migrated_engine, tmp_path):
    from click.testing import CliRunner

    from casework.cli import main

    ids = _views(migrated_engine, 3)
    env = {"CASEWORK_DATABASE_URL": migrated_engine.url.render_as_string(hide_password=False),
           "CASEWORK_INSTANCE_PATH": str(tmp_path / "instance")}
    runner = CliRunner()
    intact = runner.invoke(main, ["audit", "verify"], env=env)
    assert intact.exit_code == 0, intact.output
    assert "access_log_entry: intact, 3 sealed, 0 not yet sealed; head 3 " in intact.output
    _views(migrated_engine, 1, start=9)
    _without_triggers(migrated_engine, "access_log_entry",
                      "UPDATE access_log_entry SET subject_id = 99 WHERE id = :id", id=ids[0])
    broken = runner.invoke(main, ["audit", "verify", "--no-seal"], env=env)
    assert broken.exit_code == 1
    assert f"access_log_entry: BROKEN: entry id {ids[0]} at position 1" in broken.output
    assert "1 not yet sealed" in broken.output
    assert "administrative_log_entry: intact" in broken.output
