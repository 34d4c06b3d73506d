"""Two people moving the same pact at once: exactly one wins, the other is told; nothing is lost."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from casework.db import unit_of_work
from casework.errors import PactConflict
from casework.models import (
    ContactChannel,
    GoalsAchieved,
    Pact,
    Performer,
    ReferralSource,
    TransitionRecord,
)
from casework.pacts import operations as ops
from tests.support import valid_answers


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


def _referral(session, registry, pact, world, clock, version):
    return ops.record_referral(session, pact, source=ReferralSource.SCHOOL, reason="assenze",
                               referred_on=date(2026, 3, 1), actor=world.manager, clock=clock,
                               expected_version=version)


def _outcome(session, registry, pact, world, clock, version):
    outcome = next(iter(registry.engine_for(pact).definition.outcomes))
    return ops.record_outcome(session, registry, pact, outcome=outcome, goals_achieved=GoalsAchieved.PARTLY,
                              actor=world.manager, clock=clock, expected_version=version)


def _screening(session, registry, pact, world, clock, version):
    questionnaire = registry.engine_for(pact).definition.questionnaire
    return ops.record_screening(session, registry, pact, valid_answers(questionnaire), actor=world.manager,
                                clock=clock, expected_version=version)


def _goal(session, registry, pact, world, clock, version):
    return ops.add_goal(session, pact, description="trovare casa", clock=clock, expected_version=version)


def _contact(session, registry, pact, world, clock, version):
    return ops.log_contact(session, registry, pact, contact_at=clock.now, channel=ContactChannel.PHONE,
                           actor=world.manager, clock=clock, expected_version=version)


@pytest.mark.parametrize("save", [_referral, _outcome, _screening, _goal, _contact])
def test_a_save_overtaken_after_its_version_check_is_a_conflict_not_a_stale_data_error(
    session_factory, registry, world, clock, pact_id, save,
):
    """The in-memory version still matches, but the row moved on: the write itself must say so.

    The version bump is written inside the guard, so a lazy load later in the operation (the
    referral, the outcome) cannot autoflush it outside and let SQLAlchemy's StaleDataError escape.
    """
    with session_factory() as mine:
        pact = mine.get(Pact, pact_id)
        read = pact.version
        with session_factory() as theirs:
            _goal(theirs, registry, theirs.get(Pact, pact_id), world, clock, read)
            theirs.commit()
        with pytest.raises(PactConflict) as conflict:
            save(mine, registry, pact, world, clock, read)
        assert (conflict.value.pact_id, conflict.value.expected_version) == (pact_id, read)
        mine.rollback()
    with session_factory() as check:
        assert check.get(Pact, pact_id).version == read + 1  # only their save


def test_a_signature_overtaken_by_another_is_a_conflict_not_already_signed(session_factory, registry, world, clock,
                                                                              pact_id):
    """Two people record the signature of the printed revision at once. The second read the pact
    before the first saved, its revisions after: it is told someone else saved first (a conflict),
    not that the pact it saw unsigned is "already signed"."""
    with session_factory() as setup:
        pact = setup.get(Pact, pact_id)
        goal = ops.add_goal(setup, pact, description="trovare casa", clock=clock)
        ops.add_action(setup, pact, description="colloquio", performer=Performer.FAMILY, goal=goal, clock=clock)
        ops.prepare_revision(setup, pact, actor=world.manager, clock=clock)
        setup.commit()

    def sign(session, pact, version):
        return ops.record_signature(session, pact, signed_on=clock.now.date(), signed_by="Maria Rossi",
                                    consent_given=True, actor=world.manager, clock=clock, expected_version=version)

    with session_factory() as mine:
        pact = mine.get(Pact, pact_id)  # the revisions are not read yet
        read = pact.version
        with session_factory() as theirs:
            sign(theirs, theirs.get(Pact, pact_id), read)
            theirs.commit()
        with pytest.raises(PactConflict):
            sign(mine, pact, read)
        mine.rollback()
    with session_factory() as check:
        assert check.get(Pact, pact_id).version == read + 1  # only their signature


def test_each_save_moves_the_version_by_one(session, registry, world, clock, pact_id):
    pact = session.get(Pact, pact_id)
    for save in (_referral, _screening, _goal, _contact, _outcome, _referral):
        read = pact.version
        save(session, registry, pact, world, clock, read)
        session.commit()
        assert pact.version == read + 1, save.__name__
