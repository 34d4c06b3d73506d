"""The data version moves with every committed change to case data, and only then; the figures
kept under it (indicators) are counted again after a change."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import update

from casework.models import (
    Beneficiary,
    Gender,
    LoginAttempt,
    Pact,
    Programme,
    User,
    current_data_version,
)
from casework.pacts import operations as ops
from casework.reporting.indicators import compute
from casework.reporting.period import IndicatorScope
from tests.conftest import ZONE

NOW = datetime(2026, 3, 11, 9, tzinfo=UTC)


def _version(session_factory):
    with session_factory() as session:
        return current_data_version(session)


def test_the_version_moves_with_committed_case_data_only(session_factory, session, registry, world):
    pact = ops.open_pact(session, registry, beneficiary=world.beneficiary, programme=world.programme,
                         case_manager=world.manager, actor=world.manager, clock=ops.Clock(NOW, ZONE))
    session.commit()
    first = _version(session_factory)
    assert first is not None  # the world's rows were a change
    session.add(LoginAttempt(username="giulia", ip_address="10.0.0.1", at=NOW, succeeded=True))
    session.get(User, world.manager.id).last_sign_in_at = NOW
    session.commit()
    assert _version(session_factory) == first  # signing in changes no figure
    session.get(Pact, pact.id).state = "screening"
    session.rollback()
    assert _version(session_factory) == first
    session.get(Beneficiary, world.beneficiary.id).first_name = "Mariella"
    session.commit()
    token, number = _version(session_factory)
    assert (token, number) == (first[0], first[1] + 1)
    session.execute(update(Pact).where(Pact.id == pact.id).values(next_deadline_label="x"))
    session.commit()
    assert _version(session_factory) == (token, number + 1)


def test_a_move_written_through_the_connection_moves_the_version(session_factory, session, registry, world):
    """The engine moves a pact with its own UPDATE on the session's connection, past the ORM:
    the pages and figures kept under the version must not outlive the move."""
    pact = ops.open_pact(session, registry, beneficiary=world.beneficiary, programme=world.programme,
                         case_manager=world.manager, actor=world.manager, clock=ops.Clock(NOW, ZONE))
    session.commit()
    token, number = _version(session_factory)
    ops.transition_pact(session, registry, pact, "withdraw", actor=world.manager, clock=ops.Clock(NOW, ZONE),
                        reason="moved_away")
    session.commit()
    assert _version(session_factory) == (token, number + 1)
    session.connection().execute(update(LoginAttempt).values(succeeded=False))  # a quiet table stays quiet
    session.commit()
    assert _version(session_factory) == (token, number + 1)


def test_indicators_are_counted_again_after_a_change(session_factory, session, registry, world):
    session.commit()
    scope = IndicatorScope(programme_id=None, territory_id=None, start=date(2026, 1, 1), end=date(2026, 12, 31))

    def people_reached() -> int:
        with session_factory() as reader:
            report = compute(reader, registry, reader.get(User, world.supervisor.id), scope, now=NOW, locale="en",
                             zone=ZONE)
            return report.key_figures.people_reached

    before = people_reached()
    assert people_reached() == before
    person = Beneficiary(first_name="Anna", last_name="Neri", gender=Gender.FEMALE, comune_id=world.comune.id)
    ops.open_pact(session, registry, beneficiary=person, programme=session.get(Programme, world.programme.id),
                  case_manager=session.get(User, world.manager.id), actor=session.get(User, world.manager.id),
                  clock=ops.Clock(datetime(2026, 3, 10, 9, tzinfo=UTC), ZONE))
    session.commit()
    assert people_reached() == before + 1


def test_a_savepoint_leaves_the_version_to_its_enclosing_transaction(session_factory, session, world):
    from sqlalchemy import select

    from casework.models import DataVersion

    session.commit()
    first = _version(session_factory)
    with session.begin_nested():
        session.get(Beneficiary, world.beneficiary.id).first_name = "Mariella"
    if session.get_bind().dialect.name == "postgresql":
        # Released, not committed: the version row is not locked while the transaction goes on
        # (holding it while updating pacts deadlocked with a writer waiting for the version).
        with session_factory() as other:
            other.execute(select(DataVersion.id).with_for_update(nowait=True))
            other.rollback()
    session.commit()
    assert _version(session_factory) == (first[0], first[1] + 1)


def test_a_version_read_along_with_another_query_holds_until_its_transaction_ends(session_factory, session, world):
    """Every signed-in page reads the version in the same statement as the session: the kept
    parts take it from there, without a query of their own, and never past that transaction."""
    from sqlalchemy import event, select

    from casework.models.data_version import data_version_columns, note_data_version

    session.get(Beneficiary, world.beneficiary.id).first_name = "Mariella"
    session.commit()
    statements = []

    def count(_connection, _cursor, statement, *_args):
        statements.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        with session_factory() as reader:
            token, number = reader.execute(select(*data_version_columns())).one()
            assert (token, number) == _version(session_factory)
            note_data_version(reader, token, number)
            before = len(statements)
            assert current_data_version(reader) == (token, number)
            assert len(statements) == before  # answered without a query
            session.get(Beneficiary, world.beneficiary.id).first_name = "Mariellina"
            session.commit()
            assert current_data_version(reader) == (token, number)  # what this transaction read
            reader.rollback()
            assert current_data_version(reader) == (token, number + 1)  # the next one reads its own
            note_data_version(reader, token, number)
            reader.commit()
            assert current_data_version(reader) == (token, number + 1)
            note_data_version(reader, None, None)  # no version yet in an empty database
            assert current_data_version(reader) is None
        with session_factory() as fresh:
            assert current_data_version(fresh) == (token, number + 1)
    finally:
        event.remove(engine, "before_cursor_execute", count)
