"""Correcting a goal or an action in place: the pact's history keeps before and after, a stale
version is a conflict, bad input names every wrong field, a closed pact refuses."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from casework.errors import InvalidInput, PactConflict
from casework.models import ChangeRecord, Pact, Performer
from casework.pacts import casefile, goals, open_pact
from casework.pacts import operations as ops


@pytest.fixture
def pact(session, registry, world, clock) -> Pact:
    pact = open_pact(session, registry, beneficiary=world.beneficiary, programme=world.programme,
                     case_manager=world.manager, actor=world.manager, clock=clock)
    goal = ops.add_goal(session, pact, description="Trovare lavoro", need_area="lavoro",
                        target_date=date(2026, 6, 30), clock=clock)
    ops.add_action(session, pact, description="Iscrizione al centro per l'impiego", performer=Performer.BENEFICIARY,
                   goal=goal, clock=clock)
    session.commit()
    return pact


def later(clock, minutes=5):
    return type(clock)(clock.now + timedelta(minutes=minutes), clock.zone)


def test_editing_a_goal_keeps_before_and_after_in_the_pacts_history(session, registry, world, clock, pact):
    goal = pact.goals[0]
    version = pact.version
    records = goals.edit_goal(
        session, registry, pact, goal.id,
        goals.GoalDetails(description="Trovare un lavoro part-time", need_area="lavoro", target_date=date(2026, 9, 30)),
        actor=world.manager, clock=later(clock), expected_version=version,
    )
    session.commit()
    assert {(r.field, r.old_value, r.new_value) for r in records} == {
        (f"goal:{goal.id}:description", "Trovare lavoro", "Trovare un lavoro part-time"),
        (f"goal:{goal.id}:target_date", "2026-06-30", "2026-09-30"),
    }
    session.expire_all()
    assert (goal.description, goal.target_date, pact.version) == ("Trovare un lavoro part-time", date(2026, 9, 30),
                                                                  version + 1)
    assert {r.new_value for r in goals.item_history(session, pact, goals.GOAL, goal.id)} == {
        "Trovare un lavoro part-time", "2026-09-30"}
    # The timeline says which goal, by its words now, with the field changed.
    edits = [e for e in casefile.timeline(session, registry, pact, locale="it") if e.code.startswith("goal_")]
    assert {(e.code, e.label, e.old_value, e.new_value) for e in edits} == {
        ("goal_description", "Trovare un lavoro part-time", "Trovare lavoro", "Trovare un lavoro part-time"),
        ("goal_target_date", "Trovare un lavoro part-time", "2026-06-30", "2026-09-30"),
    }


def test_an_unchanged_goal_records_nothing_and_keeps_the_version(session, registry, world, clock, pact):
    goal = pact.goals[0]
    version = pact.version
    assert goals.edit_goal(session, registry, pact, goal.id, goals.GoalDetails("Trovare lavoro", "lavoro",
                                                                               date(2026, 6, 30)),
                           actor=world.manager, clock=later(clock), expected_version=version) == []
    session.commit()
    assert pact.version == version
    assert session.scalars(select(ChangeRecord)).all() == []


def test_editing_an_action_records_who_does_it_and_its_goal_in_words(session, registry, world, clock, pact):
    action = pact.actions[0]
    records = goals.edit_action(
        session, pact, action.id,
        goals.ActionDetails(description=action.description, performer=Performer.SERVICE,
                            performer_detail="Centro per l'impiego di Settimo", due_on=date(2026, 4, 15), goal_id=None),
        actor=world.manager, clock=later(clock), expected_version=pact.version,
    )
    session.commit()
    assert {(r.field.split(":")[2], r.old_value, r.new_value) for r in records} == {
        ("performer", "beneficiary", "service"), ("performer_detail", "", "Centro per l'impiego di Settimo"),
        ("due_on", "", "2026-04-15"), ("goal", "Trovare lavoro", ""),
    }
    session.expire_all()
    assert (action.performer, action.goal_id) == (Performer.SERVICE, None)


def test_a_stale_version_is_a_conflict_and_changes_nothing(session, registry, world, clock, pact):
    goal = pact.goals[0]
    with pytest.raises(PactConflict):
        goals.edit_goal(session, registry, pact, goal.id, goals.GoalDetails("Altro"), actor=world.manager,
                        clock=later(clock), expected_version=pact.version - 1)
    session.rollback()
    assert goal.description == "Trovare lavoro"
    assert session.scalars(select(ChangeRecord)).all() == []


def test_bad_input_names_every_wrong_field(session, registry, world, clock, pact):
    with pytest.raises(InvalidInput) as refused:
        goals.edit_goal(session, registry, pact, pact.goals[0].id,
                        goals.GoalDetails(" ", need_area="astrologia"), actor=world.manager, clock=later(clock),
                        expected_version=pact.version)
    assert refused.value.errors == {"description": "required", "need_area": "not_an_option"}
    with pytest.raises(InvalidInput) as refused:
        goals.edit_action(session, pact, pact.actions[0].id,
                          goals.ActionDetails("x" * 2001, None, "y" * 201, goal_id=999_999), actor=world.manager,
                          clock=later(clock), expected_version=pact.version)
    assert refused.value.errors == {"description": "too_long", "performer": "required",
                                    "performer_detail": "too_long", "goal": "not_in_pact"}


def test_an_item_of_another_pact_is_not_found(session, registry, world, clock, pact):
    other = open_pact(session, registry, beneficiary=world.beneficiary, programme=world.chance,
                      case_manager=world.manager, actor=world.manager, clock=clock)
    with pytest.raises(InvalidInput) as refused:
        goals.edit_goal(session, registry, other, pact.goals[0].id, goals.GoalDetails("x"), actor=world.manager,
                        clock=clock, expected_version=other.version)
    assert refused.value.errors == {"goal": "not_in_pact"}


def test_the_history_field_names_the_item(session):
    assert goals.item_change("goal:12:target_date") == goals.ItemChange("goal", 12, "target_date")
    assert goals.item_change("priority") is None and goals.item_change("goal:x:description") is None


def test_a_closed_pact_changes_only_after_reopening(session, registry, world, clock, pact):
    pact.closed_at = clock.now
    session.commit()
    with pytest.raises(InvalidInput) as refused:
        goals.edit_goal(session, registry, pact, pact.goals[0].id, goals.GoalDetails("Altro"), actor=world.manager,
                        clock=later(clock), expected_version=pact.version)
    assert refused.value.errors == {"pact": "closed"}
    with pytest.raises(InvalidInput):
        goals.edit_action(session, pact, pact.actions[0].id, goals.ActionDetails("Altro", Performer.FAMILY),
                          actor=world.manager, clock=later(clock), expected_version=pact.version)
