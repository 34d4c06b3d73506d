"""Helpers that record what an event's guards need, through the real operations."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.models import (
    ActionStatus,
    ApprovalDecision,
    ContactChannel,
    GoalsAchieved,
    Pact,
    Performer,
    ReferralSource,
    Role,
    User,
)
from casework.pacts import operations as ops
from casework.pacts.operations import Clock
from casework.security.access import can_see_pact
from casework.supervision.approvals import decide, is_waiting
from casework.workflow.definition import Questionnaire
from casework.workflow.engine import WorkflowRegistry


def valid_answers(questionnaire: Questionnaire, *, worst: bool = False) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for question in questionnaire.questions:
        if question.type == "choice":
            answers[question.id] = (question.options[-1] if worst else question.options[0]).value
        elif question.type == "boolean":
            answers[question.id] = worst
        elif question.type == "scale":
            answers[question.id] = question.maximum if worst else question.minimum
        elif question.type == "number":
            answers[question.id] = 2 if worst else 0
        else:
            answers[question.id] = "annotazione"
    return answers


def satisfy(session: Session, registry: WorkflowRegistry, pact: Pact, event: str, actor: User, clock: Clock) -> str:
    """Record whatever the event's guards require; returns the comment to pass."""
    definition = registry.engine_for(pact).definition
    guards = definition.events[event].guards
    today = clock.now.astimezone(clock.zone).date()
    if "has_referral" in guards and pact.referral is None:
        ops.record_referral(session, pact, source=ReferralSource.SCHOOL, reason="assenze ripetute",
                            referred_on=today, actor=actor, clock=clock)
    if "screening_completed" in guards and not pact.screenings:
        ops.record_screening(session, registry, pact, valid_answers(definition.questionnaire), actor=actor, clock=clock)
    if {"has_goal", "pact_signed", "signed_goal"} & set(guards) and not pact.goals:
        ops.add_goal(session, pact, description="trovare lavoro", need_area="lavoro", clock=clock)
    if {"has_action", "pact_signed", "signed_action", "action_started"} & set(guards) and not pact.actions:
        ops.add_action(session, pact, description="iscrizione al centro per l'impiego",
                       performer=Performer.BENEFICIARY, clock=clock)
    if {"pact_signed", "signed_goal", "signed_action"} & set(guards):
        revision = pact.latest_revision
        if revision is None or not revision.is_signed:
            ops.sign_pact(session, pact, signed_on=today, signed_by="Maria Rossi", consent_given=True,
                          actor=actor, clock=clock)
    if "action_started" in guards:
        ops.set_action_status(session, pact.actions[0], ActionStatus.IN_PROGRESS, clock=clock)
    if "has_contact" in guards and not pact.contacts:
        ops.log_contact(session, registry, pact, contact_at=clock.now,
                        channel=ContactChannel.PHONE, actor=actor, clock=clock)
    if "has_outcome" in guards and pact.outcome is None:
        ops.record_outcome(session, registry, pact, outcome=next(iter(definition.outcomes)),
                           goals_achieved=GoalsAchieved.FULLY, actor=actor, clock=clock)
    if "has_equipe" in guards and not pact.members:
        ops.add_member(session, pact, role="insegnante", external_name="Prof.ssa Bianchi", clock=clock)
    if "supervisor_approved" in guards and is_waiting(session, registry, pact):
        approve(session, registry, pact, clock)
    return "motivazione" if "has_comment" in guards else ""


def reason_for(registry: WorkflowRegistry, pact: Pact, event: str) -> str | None:
    """The first of the event's reason codes, when it has a list to choose from."""
    found = registry.engine_for(pact).event_definition(event)
    return next(iter(found.reasons), None) if found is not None else None


def approve(session: Session, registry: WorkflowRegistry, pact: Pact, clock: Clock) -> None:
    """The latest revision approved by a supervisor who sees the pact and did not prepare it."""
    author = pact.latest_revision.created_by_id
    supervisors = session.scalars(
        select(User).where(User.role == Role.SUPERVISOR, User.active.is_(True)).order_by(User.id)
    ).all()
    supervisor = next(s for s in supervisors if s.id != author and can_see_pact(session, s, pact.id))
    decide(session, registry, supervisor, pact, expected_version=None, decision=ApprovalDecision.APPROVED,
           comment="", now=clock.now)


def advance(session: Session, registry: WorkflowRegistry, pact: Pact, event: str, actor: User, clock: Clock) -> None:
    comment = satisfy(session, registry, pact, event, actor, clock)
    ops.transition_pact(session, registry, pact, event, actor=actor, clock=clock, comment=comment,
                        reason=reason_for(registry, pact, event))
    session.commit()


DEFAULT_PATHS = {
    "referral": [],
    "screening": ["start_screening"],
    "co_design": ["start_screening", "start_co_design"],
    "activation": ["start_screening", "start_co_design", "activate"],
    "follow_up": ["start_screening", "start_co_design", "activate", "start_follow_up"],
    "closed": ["start_screening", "start_co_design", "activate", "start_follow_up", "close"],
    "not_eligible": ["start_screening", "declare_not_eligible"],
    "withdrawn": ["withdraw"],
    "suspended": ["start_screening", "suspend"],
}
