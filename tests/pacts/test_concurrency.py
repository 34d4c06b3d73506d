"""Two people moving the same pact at once: exactly one wins, the other is told; nothing is lost."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from casework.pacts import operations as ops
from casework.db import unit_of_work
from casework.errors import PactConflict
from casework.models import Pact, TransitionRecord


@pytest.fixture
def pact_id(session, registry, world, clock) -> int:
    pact = ops.open_pact(session, registry, beneficiary=world.beneficiary, programme=world.programme,
                         case_manager=world.manager, actor=world.manager, clock=clock)
    session.commit()
    return pact.id


def _record_count(session, pact_id: int) -> int:
    return session.scalar(select(func.count()).select_from(TransitionRecord).where(TransitionRecord.pact_id == pact_id))


def test_second_writer_of_an_interleaved_pair_gets_a_conflict(session_factory, registry, world, clock, pact_id):
    with session_factory() as first, session_factory() as second:
        mine = first.get(Pact, pact_id)
        theirs = second.get(Pact, pact_id)
        assert mine.version == theirs.version == 1

        ops.transition_pact(first, registry, mine, "withdraw", actor=world.manager, clock=clock, comment="trasferita", reason="moved_away")
        first.commit()

        with pytest.raises(PactConflict):
            ops.transition_pact(second, registry, theirs, "withdraw", actor=world.colleague, clock=clock,
                                comment="non risponde", reason="not_reachable")
        second.rollback()

    with session_factory() as check:
        pact = check.get(Pact, pact_id)
        assert (pact.state, pact.version) == ("withdrawn", 2)
        assert _record_count(check, pact_id) == 2
        last = check.scalars(select(TransitionRecord).where(TransitionRecord.pact_id == pact_id)
                             .order_by(TransitionRecord.id.desc())).first()
        assert (last.actor_id, last.comment) == (world.manager.id, "trasferita")


def test_version_read_in_an_earlier_request_is_checked(session_factory, registry, world, clock, pact_id):
    """A form carries the version it showed; a save against an older version is refused."""
    with unit_of_work(session_factory) as session:
        pact = session.get(Pact, pact_id)
        ops.transition_pact(session, registry, pact, "withdraw", actor=world.colleague, clock=clock,
                            comment="trasferita", reason="moved_away", expected_version=1)
    with session_factory() as session:
        pact = session.get(Pact, pact_id)
        with pytest.raises(PactConflict) as conflict:
            ops.transition_pact(session, registry, pact, "withdraw", actor=world.manager, clock=clock,
                                comment="x", reason="other", expected_version=1)
        assert (conflict.value.expected_version, conflict.value.actual_version) == (1, 2)


def test_threads_racing_on_one_pact_exactly_one_wins(session_factory, registry, world, clock, pact_id):
    attempts = 2
    loaded = threading.Barrier(attempts)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(actor, comment):
        try:
            with unit_of_work(session_factory) as session:
                pact = session.get(Pact, pact_id)
                loaded.wait(timeout=10)
                ops.transition_pact(session, registry, pact, "withdraw", actor=actor, clock=clock, comment=comment,
                                    reason="other")
            result = "won"
        except PactConflict:
            result = "conflict"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(actor, f"by {actor.username}"))
               for actor in (world.manager, world.colleague)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["conflict", "won"]
    with session_factory() as check:
        pact = check.get(Pact, pact_id)
        assert (pact.state, pact.version) == ("withdrawn", 2)
        assert _record_count(check, pact_id) == 2
