"""Random sequences of events on both workflows: the invariants a case file relies on."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from casework import PROJECT_ROOT
from casework.errors import EventNotAvailable, TransitionRefused
from casework.models import TransitionRecord
from casework.pacts import operations as ops
from casework.workflow.engine import WorkflowRegistry
from tests.support import reason_for, satisfy

REGISTRY = WorkflowRegistry.from_directory(PROJECT_ROOT / "workflows")
WORKFLOWS = {"patto_personalizzato": "programme", "chance_dispersione": "chance"}


def _steps(workflow: str):
    events = sorted(REGISTRY.latest(workflow).definition.events)
    # (event, prepare): prepare=True first records what the event's guards need.
    return st.lists(st.tuples(st.sampled_from(events), st.booleans()), min_size=1, max_size=25)


@pytest.mark.parametrize("workflow", sorted(WORKFLOWS))
def test_random_event_sequences_keep_the_invariants(session, world, clock, workflow):
    definition = REGISTRY.latest(workflow).definition
    programme = getattr(world, WORKFLOWS[workflow])

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(steps=_steps(workflow))
    def run(steps):
        pact = ops.open_pact(session, REGISTRY, beneficiary=world.beneficiary, programme=programme,
                             case_manager=world.manager, actor=world.manager, clock=clock)
        session.commit()
        for event, prepare in steps:
            comment, reason = "", None
            if prepare:
                comment = satisfy(session, REGISTRY, pact, event, world.manager, clock)
                reason = reason_for(REGISTRY, pact, event)
                session.commit()
            before = (pact.state, pact.version)
            try:
                ops.transition_pact(session, REGISTRY, pact, event, actor=world.manager, clock=clock, comment=comment,
                                    reason=reason)
                session.commit()
            except (TransitionRefused, EventNotAvailable):
                session.rollback()
                assert (pact.state, pact.version) == before, "a refused event changed the pact"
            else:
                assert pact.version > before[1]
            assert pact.state in definition.states
            assert (pact.closed_at is not None) == (pact.state in definition.final_states)

        records = session.scalars(
            select(TransitionRecord).where(TransitionRecord.pact_id == pact.id).order_by(TransitionRecord.id)
        ).all()
        state = None
        for record in records:
            assert record.from_state == state, "the records do not chain"
            assert record.to_state in definition.states
            state = record.to_state
        assert state == pact.state, "replaying the records does not give the current state"
        versions = [record.pact_version for record in records]
        assert versions == sorted(set(versions)), "versions do not strictly increase"
        assert versions[-1] <= pact.version

    run()


def test_the_engine_uses_the_transitions_library_as_published():
    """One plain Machine per workflow version, built once; no subclass of the library's classes
    (whose private methods a minor release may change)."""
    import inspect

    import transitions
    from transitions.core import Event, Transition

    from casework.workflow import engine as engine_module

    for engine in REGISTRY.engines():
        assert type(engine.machine) is transitions.Machine
        assert engine.machine.models == []  # pacts are never registered with it
        assert (engine.machine.event_cls, engine.machine.transition_cls) == (Event, Transition)
        assert engine.machine is REGISTRY.get(engine.name, engine.version).machine
    for _, cls in inspect.getmembers(engine_module, inspect.isclass):
        if cls.__module__ == engine_module.__name__:
            assert not issubclass(cls, (transitions.Machine, Event, Transition, transitions.State)), cls


def test_a_refused_event_names_the_guards_that_block_it(session, world, clock):
    """The machine refuses; the engine then says which guards failed, as the UI lists them."""
    engine = REGISTRY.latest("patto_personalizzato")
    pact = ops.open_pact(session, REGISTRY, beneficiary=world.beneficiary, programme=world.programme,
                         case_manager=world.manager, actor=world.manager, clock=clock)
    ctx = ops.guard_context(pact, clock)
    statuses = {status.event.name: status for status in engine.event_statuses(ctx)}
    blocked = statuses["start_screening"]
    assert not blocked.ready and "has_referral" in [guard.name for guard in blocked.unmet]
    with pytest.raises(TransitionRefused) as refused:
        engine.fire("start_screening", ctx)
    assert [guard.name for guard in refused.value.unmet] == [guard.name for guard in blocked.unmet]
    assert pact.state == "referral"  # firing decides, it never moves the row
