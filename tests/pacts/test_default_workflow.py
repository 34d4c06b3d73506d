"""Every move and every refusal of the default workflow, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from casework import PROJECT_ROOT
from casework.clock import Clock
from casework.errors import EventNotAvailable, TransitionRefused
from casework.models import ContactChannel, Pact, TransitionRecord
from casework.pacts import operations as ops
from casework.workflow.engine import WorkflowRegistry
from tests.conftest import ZONE
from tests.support import DEFAULT_PATHS, advance, reason_for, satisfy

WORKFLOW = "patto_personalizzato"

# What a case manager is told when each guarded event is tried from a pact that has just
# reached the event's source state and nothing more.
REFUSALS = {
    "start_screening": ["the referral has not been recorded"],
    "start_co_design": ["the screening questionnaire has not been completed"],
    "declare_not_eligible": ["the screening questionnaire has not been completed", "a reason is required"],
    "activate": ["the pact has not been signed", "the pact has no signed goal", "the pact has no signed action"],
    "start_follow_up": ["no action of the pact has started yet"],
    "close": ["the outcome has not been recorded"],
    "suspend": ["a reason is required"],
    "withdraw": ["a reason must be chosen"],
    "reopen": ["a reason is required"],
}


DEFINITION = WorkflowRegistry.from_directory(PROJECT_ROOT / "workflows").latest(WORKFLOW).definition
MOVES = [(event.name, source) for event in DEFINITION.events.values() for source in event.sources]


def _open(session, registry, world, clock) -> Pact:
    pact = ops.open_pact(session, registry, beneficiary=world.beneficiary, programme=world.programme,
                         case_manager=world.manager, actor=world.manager, clock=clock)
    session.commit()
    return pact


def _reach(session, registry, world, clock, state) -> Pact:
    pact = _open(session, registry, world, clock)
    for event in DEFAULT_PATHS[state]:
        advance(session, registry, pact, event, world.manager, clock)
    assert pact.state == state
    return pact


def _records(session, pact):
    return session.scalars(select(TransitionRecord).where(TransitionRecord.pact_id == pact.id).order_by(TransitionRecord.id)).all()


def test_open_pact_starts_in_referral_with_a_record_and_a_deadline(session, registry, world, clock):
    pact = _open(session, registry, world, clock)
    assert (pact.state, pact.version, pact.closed_at) == ("referral", 1, None)
    [record] = _records(session, pact)
    assert (record.event, record.from_state, record.to_state, record.actor_id) == ("open", None, "referral", world.manager.id)
    # Monday 2 March 2026 + 10 working days = Monday 16 March, end of day in Rome (UTC+1).
    assert pact.next_deadline_at.isoformat() == "2026-03-16T22:59:59.999999+00:00"
    assert pact.next_deadline_label == "screening_due"


@pytest.mark.parametrize("event,source", [pytest.param(e, s, id=f"{e}-from-{s}") for e, s in MOVES])
def test_each_move(session, registry, world, clock, event, source):
    pact = _reach(session, registry, world, clock, source)
    later = Clock(clock.now + timedelta(days=1), ZONE)
    comment = satisfy(session, registry, pact, event, world.manager, later)
    reason = reason_for(registry, pact, event)
    session.commit()
    version = pact.version
    record = ops.transition_pact(session, registry, pact, event, actor=world.manager, clock=later, comment=comment,
                                 reason=reason)
    session.commit()

    target = DEFINITION.events[event].target
    # DEFAULT_PATHS suspends from screening, so resuming returns there.
    expected = "screening" if target == "@previous" else target
    assert pact.state == expected
    assert pact.version == version + 1
    assert (record.event, record.from_state, record.to_state, record.actor_id, record.at) == (
        event, source, expected, world.manager.id, later.now)
    assert (record.comment, record.reason) == (comment, reason)
    assert record.pact_version == pact.version
    assert pact.state_entered_at == later.now
    final = expected in {"closed", "withdrawn", "not_eligible"}
    assert (pact.closed_at is not None) == final
    assert (pact.next_deadline_at is None) == final


@pytest.mark.parametrize("event", sorted(REFUSALS))
def test_each_refusal_names_the_unmet_condition_and_changes_nothing(session, registry, world, clock, event):
    source = DEFINITION.events[event].sources[0]
    pact = _reach(session, registry, world, clock, source)
    before = (pact.state, pact.version, pact.next_deadline_at, len(_records(session, pact)))

    with pytest.raises(TransitionRefused) as refused:
        ops.transition_pact(session, registry, pact, event, actor=world.manager, clock=clock)
    session.rollback()

    assert refused.value.messages("en") == REFUSALS[event]
    assert all(message for message in refused.value.messages("it"))
    session.expire_all()
    assert (pact.state, pact.version, pact.next_deadline_at, len(_records(session, pact))) == before


def test_refusal_is_explained_in_italian(session, registry, world, clock):
    pact = _reach(session, registry, world, clock, "co_design")
    with pytest.raises(TransitionRefused) as refused:
        ops.transition_pact(session, registry, pact, "activate", actor=world.manager, clock=clock)
    assert "il patto firmato non contiene obiettivi" in refused.value.messages("it")


@pytest.mark.parametrize("state", sorted(DEFAULT_PATHS))
def test_events_not_offered_from_a_state_are_refused(session, registry, world, clock, state):
    pact = _reach(session, registry, world, clock, state)
    possible = {event.name for event in DEFINITION.events_from(state)}
    for event in sorted(set(DEFINITION.events) - possible) + ["no_such_event"]:
        with pytest.raises(EventNotAvailable):
            ops.transition_pact(session, registry, pact, event, actor=world.manager, clock=clock)
        session.rollback()
    assert pact.state == state


@pytest.mark.parametrize("state", ["screening", "co_design", "activation", "follow_up"])
def test_resume_returns_to_the_state_before_suspension(session, registry, world, clock, state):
    pact = _reach(session, registry, world, clock, state)
    ops.transition_pact(session, registry, pact, "suspend", actor=world.manager, clock=clock, comment="ricovero")
    session.commit()
    assert pact.state == "suspended"
    ops.transition_pact(session, registry, pact, "resume", actor=world.manager, clock=clock)
    session.commit()
    assert pact.state == state


def test_allowed_events_lists_only_what_would_succeed(session, registry, world, clock):
    pact = _open(session, registry, world, clock)
    assert ops.allowed_events(registry, pact, clock) == []
    statuses = {s.event.name: [g.name for g in s.unmet] for s in ops.event_statuses(registry, pact, clock)}
    assert statuses == {"start_screening": ["has_referral"], "withdraw": ["has_reason"]}
    satisfy(session, registry, pact, "start_screening", world.manager, clock)
    assert ops.allowed_events(registry, pact, clock) == ["start_screening"]


def test_deadlines_follow_the_state(session, registry, world, clock):
    pact = _reach(session, registry, world, clock, "co_design")
    # 30 calendar days after entering co-design, end of 1 April in Rome (UTC+2 after DST).
    assert pact.next_deadline_label == "pact_signature_due"
    assert pact.next_deadline_at.isoformat() == "2026-04-01T21:59:59.999999+00:00"
    advance(session, registry, pact, "activate", world.manager, clock)
    advance(session, registry, pact, "start_follow_up", world.manager, clock)
    assert pact.next_deadline_label == "follow_up_contact"
    contact_day = Clock(clock.now + timedelta(days=10), ZONE)
    ops.log_contact(session, registry, pact, contact_at=contact_day.now, channel=ContactChannel.PHONE,
                    actor=world.manager, clock=contact_day)
    session.commit()
    # The follow-up clock restarts from the latest contact: 12 March + 30 days = 11 April.
    assert pact.next_deadline_at.astimezone(clock.zone).date().isoformat() == "2026-04-11"


def test_reopened_pact_is_open_again(session, registry, world, clock):
    pact = _reach(session, registry, world, clock, "closed")
    assert pact.closed_at is not None
    ops.transition_pact(session, registry, pact, "reopen", actor=world.manager, clock=clock, comment="nuovo bisogno")
    session.commit()
    assert (pact.state, pact.closed_at) == ("co_design", None)
    assert session.scalar(select(func.count()).select_from(TransitionRecord).where(TransitionRecord.pact_id == pact.id)) == 7
