"""The engine's hot-path statements run through SQLAlchemy's own execution path."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import bindparam, event, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from casework.models import Territory, TerritoryKind

TERRITORY = Territory.__table__
# Built once like the engine's own statements: columns come from the parameters' keys.
INSERT = insert(TERRITORY).inline()  # as the engine records transitions: no RETURNING
RENAME = update(TERRITORY).where(TERRITORY.c.id == bindparam("territory_id"))


def test_values_go_through_the_column_types(engine):
    with engine.begin() as connection:
        # The enum type turns the Python member into its stored value.
        connection.execute(INSERT, {"name": "Lodi", "kind": TerritoryKind.COMUNE, "istat_code": "098031"})
        # One row written (SQLAlchemy documents rowcount for UPDATE and DELETE only: psycopg gives -1 here).
        assert connection.scalar(select(func.count()).select_from(TERRITORY)) == 1
    with Session(engine) as session:
        territory = session.scalars(select(Territory)).one()
        assert (territory.name, territory.kind, territory.istat_code) == ("Lodi", TerritoryKind.COMUNE, "098031")


def test_rowcount_tells_whether_the_where_clause_matched(engine):
    with engine.begin() as connection:
        connection.execute(INSERT, {"name": "Lodi", "kind": TerritoryKind.COMUNE, "istat_code": "098031"})
        territory_id = connection.scalar(select(TERRITORY.c.id))
        assert connection.execute(RENAME, {"name": "Lodi (LO)", "territory_id": territory_id}).rowcount == 1
        assert connection.execute(RENAME, {"name": "x", "territory_id": territory_id + 1}).rowcount == 0


def test_database_errors_arrive_as_sqlalchemy_exceptions(engine):
    with engine.connect() as connection:
        connection.execute(INSERT, {"name": "Lodi", "kind": TerritoryKind.COMUNE, "istat_code": "098031"})
        with pytest.raises(IntegrityError):  # duplicate ISTAT code
            connection.execute(INSERT, {"name": "Lodi bis", "kind": TerritoryKind.COMUNE, "istat_code": "098031"})
        connection.rollback()
        with pytest.raises(IntegrityError):  # a comune needs its ISTAT code
            connection.execute(INSERT, {"name": "Senza codice", "kind": TerritoryKind.COMUNE, "istat_code": None})
        connection.rollback()


def test_utc_timestamps_written_by_the_hot_path_read_back_equal(engine, session, registry, world, clock):
    """A move written by the engine's Core statements reads back exactly through the ORM."""
    from casework.models import Pact, TransitionRecord
    from casework.pacts import operations as ops

    pact = ops.open_pact(session, registry, beneficiary=world.beneficiary, programme=world.programme,
                         case_manager=world.manager, actor=world.manager, clock=clock)
    session.commit()
    moved_at = datetime(2026, 3, 3, 14, 30, 15, 123456, tzinfo=timezone.utc)
    transition = ops.transition_pact(session, registry, pact, "withdraw", actor=world.manager,
                                     clock=ops.Clock(moved_at, zone=clock.zone), comment="trasferita",
                                     reason="moved_away")
    session.commit()
    with Session(engine) as fresh:
        stored = fresh.get(Pact, pact.id)
        assert (stored.state, stored.state_entered_at, stored.closed_at, stored.version) == (
            "withdrawn", moved_at, moved_at, 2)
        record = fresh.scalars(select(TransitionRecord).where(TransitionRecord.pact_version == 2)).one()
        assert (record.at, record.event, record.comment, record.reason) == (
            moved_at, "withdraw", "trasferita", "moved_away")
        assert transition.at == record.at


def test_engine_events_see_every_statement_of_a_move(engine, session, registry, world, clock):
    """Query counting (a `before_cursor_execute` listener) sees the move's UPDATE and INSERT, and
    the read of the new state's deadline pauses and moved anchors."""
    from datetime import date

    from casework.models import ReferralSource
    from casework.pacts import operations as ops

    pact = ops.open_pact(session, registry, beneficiary=world.beneficiary, programme=world.programme,
                         case_manager=world.manager, actor=world.manager, clock=clock)
    ops.record_referral(session, pact, source=ReferralSource.SELF, reason="test", referred_on=date(2026, 3, 2),
                        actor=world.manager, clock=clock)
    session.commit()
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(" ".join(statement.split()).upper())

    event.listen(engine, "before_cursor_execute", count)
    try:
        ops.transition_pact(session, registry, pact, "start_screening", actor=world.manager, clock=clock)
        session.commit()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert pact.state == "screening"
    assert sum(sql.startswith("UPDATE PACT SET") and "PACT.VERSION =" in sql for sql in seen) == 1, seen
    assert sum(sql.startswith("INSERT INTO TRANSITION_RECORD") for sql in seen) == 1, seen
    assert sum("FROM DEADLINE_PAUSE" in sql and "UNION ALL" in sql for sql in seen) == 1, seen


def test_recorded_values_are_cut_to_the_length_the_model_declares(engine):
    """One mechanism for values the system records on its own: the model's column length."""
    from casework.db import column_length, fit_to_column
    from casework.models import AccessLogEntry
    from casework.security.audit import log_access

    assert column_length(AccessLogEntry.ip_address) == AccessLogEntry.__table__.c.ip_address.type.length == 45
    assert fit_to_column(AccessLogEntry.detail, "x" * 1000) == "x" * column_length(AccessLogEntry.detail)
    with pytest.raises(TypeError):
        column_length(AccessLogEntry.at)
    with Session(engine) as session:
        log_access(session, None, "view", "pact", None, now=datetime(2026, 3, 3, tzinfo=timezone.utc),
                   ip_address="2001:db8::" + "f" * 100, detail="d" * 1000)
        session.commit()
        stored = session.scalars(select(AccessLogEntry)).one()
        assert (len(stored.ip_address), len(stored.detail)) == (45, 300)


def test_every_connection_carries_the_configured_timeouts(engine):
    """A frozen process cannot block the others for ever: see casework.db.Timeouts."""
    from sqlalchemy import text

    from casework.config import load_settings
    from casework.db import Timeouts, make_engine

    settings = load_settings({"db_lock_timeout_seconds": 4, "db_statement_timeout_seconds": 20,
                              "db_idle_in_transaction_seconds": 7}, environ={})
    url = engine.url.render_as_string(hide_password=False)
    web, scheduler = make_engine(url, Timeouts.from_settings(settings)), \
        make_engine(url, Timeouts.from_settings(settings, scheduler=True))
    try:
        if engine.dialect.name == "sqlite":
            for each in (web, scheduler):
                with each.connect() as connection:
                    assert connection.scalar(text("PRAGMA busy_timeout")) == 4000
            return
        shown = {}
        for name, each in (("web", web), ("scheduler", scheduler)):
            with each.connect() as connection:
                shown[name] = tuple(connection.scalar(text(f"SHOW {setting}")) for setting in (
                    "lock_timeout", "statement_timeout", "idle_in_transaction_session_timeout"))
        # The web never has its session ended for idling: a request may render a PDF mid-transaction.
        assert shown == {"web": ("4s", "20s", "0"), "scheduler": ("4s", "20s", "7s")}
    finally:
        web.dispose()
        scheduler.dispose()


def test_timeouts_are_checked_when_the_settings_are_read():
    from casework.config import ConfigError, load_settings

    with pytest.raises(ConfigError, match="db_lock_timeout_seconds"):
        load_settings({"db_lock_timeout_seconds": 0}, environ={})
    with pytest.raises(ConfigError, match="db_idle_in_transaction_seconds"):
        load_settings({"db_idle_in_transaction_seconds": -1}, environ={})
    assert load_settings({"db_statement_timeout_seconds": 0}, environ={}).db_statement_timeout_seconds == 0
