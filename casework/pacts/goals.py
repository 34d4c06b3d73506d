"""Correcting a goal or an action of a pact, keeping what it said before.

A goal or an action was only added or removed; a typo or a date that moved meant deleting it
and entering it again, losing its status and its link to the goal. These operations change it
in place under the pact's version (someone else's save in between is a Conflict) and write one
ChangeRecord per changed field in the pact's edit history, so the timeline shows before and
after. The field of such a record names the item, "goal:<id>:<field>" or
"action:<id>:<field>"; `item_change` reads it back.

Like casework.pacts.operations, each operation takes the caller's session, the acting user and
a clock, and never commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from casework.clock import Clock
from casework.errors import InvalidInput
from casework.models import Action, ChangeRecord, Goal, Pact, Performer, User
from casework.security import record_changes
from casework.versioning import check_version, flush_checked, touch
from casework.workflow import WorkflowRegistry

PACT_ENTITY = "pact"
MAX_DESCRIPTION = 2000
MAX_PERFORMER_DETAIL = 200
GOAL = "goal"
ACTION = "action"
GOAL_FIELDS = ("description", "need_area", "target_date")
ACTION_FIELDS = ("description", "performer", "performer_detail", "due_on", "goal")


@dataclass(frozen=True)
class GoalDetails:
    description: str
    need_area: str = ""
    target_date: date | None = None


@dataclass(frozen=True)
class ActionDetails:
    description: str
    performer: Performer | None
    performer_detail: str = ""
    due_on: date | None = None
    goal_id: int | None = None


@dataclass(frozen=True)
class ItemChange:
    """What a history field "goal:<id>:<field>" names."""

    kind: str  # GOAL or ACTION
    item_id: int
    field: str


def change_field(kind: str, item_id: int, field: str) -> str:
    return f"{kind}:{item_id}:{field}"


def item_change(field: str) -> ItemChange | None:
    """The item and field a history record is about, or None for a change of the pact itself."""
    kind, _, rest = field.partition(":")
    item_id, _, name = rest.partition(":")
    if kind not in (GOAL, ACTION) or not item_id.isdigit() or not name:
        return None
    return ItemChange(kind, int(item_id), name)


def may_edit_items(user: User, pact: Pact) -> bool:
    """Whoever may see the pact and works on cases edits its goals and actions, while it is open
    (the caller checked that `user` may see it, through casework.security.access)."""
    return user.active and pact.is_open


def _description_problem(text: str) -> str | None:
    if not text.strip():
        return "required"
    if len(text.strip()) > MAX_DESCRIPTION:
        return "too_long"
    return None


def _require_open(pact: Pact) -> None:
    if not pact.is_open:
        raise InvalidInput({"pact": "closed"})


def _need_areas(registry: WorkflowRegistry, pact: Pact) -> set[str]:
    questionnaire = registry.engine_for(pact).definition.questionnaire
    return set(questionnaire.need_areas) if questionnaire is not None else set()


def edit_goal(
    session: Session, registry: WorkflowRegistry, pact: Pact, goal_id: int, details: GoalDetails, *,
    actor: User, clock: Clock, expected_version: int | None,
) -> list[ChangeRecord]:
    """Change a goal's description, need area or target date; one history record per changed field.

    Raises InvalidInput naming every wrong field at once ({"goal": "not_in_pact"} for a goal of
    another pact), or the pact's Conflict when it changed since `expected_version` was read.
    """
    _require_open(pact)
    goal = next((goal for goal in pact.goals if goal.id == goal_id), None)
    if goal is None:
        raise InvalidInput({"goal": "not_in_pact"})
    errors = {}
    if problem := _description_problem(details.description):
        errors["description"] = problem
    if details.need_area and details.need_area not in _need_areas(registry, pact):
        errors["need_area"] = "not_an_option"
    if errors:
        raise InvalidInput(errors)
    check_version(pact, expected_version)
    after = {"description": details.description.strip(), "need_area": details.need_area,
             "target_date": details.target_date}
    before = {name: getattr(goal, name) for name in GOAL_FIELDS}
    return _apply(session, pact, goal, GOAL, before, after, actor=actor, clock=clock,
                  expected_version=expected_version)


def edit_action(
    session: Session, pact: Pact, action_id: int, details: ActionDetails, *,
    actor: User, clock: Clock, expected_version: int | None,
) -> list[ChangeRecord]:
    """Change an action's description, who does it, its due date or its goal; history as for goals."""
    _require_open(pact)
    action = next((action for action in pact.actions if action.id == action_id), None)
    if action is None:
        raise InvalidInput({"action": "not_in_pact"})
    errors = {}
    if problem := _description_problem(details.description):
        errors["description"] = problem
    if not isinstance(details.performer, Performer):
        errors["performer"] = "required"
    if len(details.performer_detail.strip()) > MAX_PERFORMER_DETAIL:
        errors["performer_detail"] = "too_long"
    goal = None
    if details.goal_id is not None:
        goal = next((goal for goal in pact.goals if goal.id == details.goal_id), None)
        if goal is None:
            errors["goal"] = "not_in_pact"
    if errors:
        raise InvalidInput(errors)
    check_version(pact, expected_version)
    # The history keeps the goal by its words: the goal itself may be removed later.
    before = {"description": action.description, "performer": action.performer.value,
              "performer_detail": action.performer_detail, "due_on": action.due_on,
              "goal": action.goal.description if action.goal is not None else ""}
    after = {"description": details.description.strip(), "performer": details.performer.value,  # type: ignore[union-attr]
             "performer_detail": details.performer_detail.strip(), "due_on": details.due_on,
             "goal": goal.description if goal is not None else ""}
    values = dict(after, performer=details.performer, goal=goal)
    return _apply(session, pact, action, ACTION, before, after, actor=actor, clock=clock,
                  expected_version=expected_version, values=values)


def _apply(
    session: Session, pact: Pact, item: Goal | Action, kind: str, before: dict, after: dict, *, actor: User,
    clock: Clock, expected_version: int | None, values: dict | None = None,
) -> list[ChangeRecord]:
    changed = [name for name in after if before[name] != after[name]]
    if not changed:
        return []
    for name in changed:
        setattr(item, name, (values or after)[name])
    touch(pact, expected_version, clock.now)  # one UPDATE of the pact moves its version with the item's
    records = record_changes(
        session, PACT_ENTITY, pact.id,
        {change_field(kind, item.id, name): before[name] for name in changed},
        {change_field(kind, item.id, name): after[name] for name in changed},
        actor=actor, now=clock.now,
    )
    flush_checked(session, pact, expected_version)
    return records


def item_history(session: Session, pact: Pact, kind: str, item_id: int) -> list[ChangeRecord]:
    """The changes of one goal or action, newest first (the edit page shows them under the form)."""
    return list(session.scalars(
        select(ChangeRecord)
        .where(ChangeRecord.entity == PACT_ENTITY, ChangeRecord.entity_id == pact.id,
               ChangeRecord.field.like(f"{kind}:{item_id}:%"))
        .options(joinedload(ChangeRecord.actor))
        .order_by(ChangeRecord.at.desc(), ChangeRecord.id.desc())
    ))
