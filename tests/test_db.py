"""The engine's prepared hot-path statements behave like SQLAlchemy's own execution."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from casework.db import PreparedStatement
from casework.models import Territory, TerritoryKind

TERRITORY = Territory.__table__
INSERT = PreparedStatement(insert(TERRITORY), column_keys=("name", "kind", "istat_code"))
RENAME = PreparedStatement(
    update(TERRITORY).where(TERRITORY.c.id == bindparam("territory_id")), column_keys=("name",)
)


def test_values_go_through_the_column_types(engine):
    with engine.begin() as connection:
        # The enum type turns the Python member into its stored value.
        assert INSERT.rowcount(connection, {"name": "Lodi", "kind": TerritoryKind.COMUNE, "istat_code": "098031"}) == 1
    with Session(engine) as session:
        territory = session.scalars(select(Territory)).one()
        assert (territory.name, territory.kind, territory.istat_code) == ("Lodi", TerritoryKind.COMUNE, "098031")


def test_rowcount_tells_whether_the_where_clause_matched(engine):
    with engine.begin() as connection:
        INSERT.rowcount(connection, {"name": "Lodi", "kind": TerritoryKind.COMUNE, "istat_code": "098031"})
        territory_id = connection.scalar(select(TERRITORY.c.id))
        assert RENAME.rowcount(connection, {"name": "Lodi (LO)", "territory_id": territory_id}) == 1
        assert RENAME.rowcount(connection, {"name": "x", "territory_id": territory_id + 1}) == 0


def test_database_errors_arrive_as_sqlalchemy_exceptions(engine):
    with engine.connect() as connection:
        INSERT.rowcount(connection, {"name": "Lodi", "kind": TerritoryKind.COMUNE, "istat_code": "098031"})
        with pytest.raises(IntegrityError):  # duplicate ISTAT code
            INSERT.rowcount(connection, {"name": "Lodi bis", "kind": TerritoryKind.COMUNE, "istat_code": "098031"})
        connection.rollback()
        with pytest.raises(IntegrityError):  # a comune needs its ISTAT code
            INSERT.rowcount(connection, {"name": "Senza codice", "kind": TerritoryKind.COMUNE, "istat_code": None})
        connection.rollback()


def test_utc_timestamps_written_by_the_hot_path_read_back_equal(engine, session, registry, world, clock):
    """A move written through prepared statements reads back exactly through the ORM."""
    from casework.pacts import operations as ops
    from casework.models import Pact, TransitionRecord

    pact = ops.open_pact(session, registry, beneficiary=world.beneficiary, programme=world.programme,
                         case_manager=world.manager, actor=world.manager, clock=clock)
    session.commit()
    moved_at = datetime(2026, 3, 3, 14, 30, 15, 123456, tzinfo=timezone.utc)
    transition = ops.transition_pact(session, registry, pact, "withdraw", actor=world.manager,
                                     clock=ops.Clock(moved_at), comment="trasferita", reason="moved_away")
    session.commit()
    with Session(engine) as fresh:
        stored = fresh.get(Pact, pact.id)
        assert (stored.state, stored.state_entered_at, stored.closed_at, stored.version) == (
            "withdrawn", moved_at, moved_at, 2)
        record = fresh.scalars(select(TransitionRecord).where(TransitionRecord.pact_version == 2)).one()
        assert (record.at, record.event, record.comment, record.reason) == (
            moved_at, "withdraw", "trasferita", "moved_away")
        assert transition.at == record.at
