"""Random sequences of events on both workflows: the invariants a case file relies on."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from casework import PROJECT_ROOT
from casework.pacts import operations as ops
from casework.errors import EventNotAvailable, TransitionRefused
from casework.models import TransitionRecord
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
