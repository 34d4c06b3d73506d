"""Named guards a workflow file may use: what must be true for a move, and how to say it isn't.

Workflow files name guards; they cannot point at arbitrary code. Each message is written
for a case manager, as a message of the translation catalogue.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import object_session

from casework.i18n import N_, Message, gettext
from casework.models import ActionStatus, ApprovalDecision, Pact, PactApproval


@dataclass(slots=True)
class GuardContext:
    """What a guard may look at: the pact as loaded, the moment, and the actor's words."""

    pact: Pact
    now: datetime
    comment: str = ""
    previous_state: str | None = None
    actor_id: int | None = None
    reason: str | None = None  # a code from the event's `reasons`, checked by the caller


@dataclass(frozen=True)
class Guard:
    name: str
    check: Callable[[GuardContext], bool]
    unmet: Message  # why the move is refused

    def message(self, locale: str = "en") -> str:
        return gettext(locale, self.unmet)


GUARDS: dict[str, Guard] = {}


def guard(name: str, *, unmet: Message) -> Callable[[Callable[[GuardContext], bool]], Callable[[GuardContext], bool]]:
    def register(check: Callable[[GuardContext], bool]) -> Callable[[GuardContext], bool]:
        GUARDS[name] = Guard(name=name, check=check, unmet=unmet)
        return check

    return register


@guard("has_referral", unmet=N_("the referral has not been recorded"))
def _has_referral(ctx: GuardContext) -> bool:
    return ctx.pact.referral is not None


@guard(
    "screening_completed",
    unmet=N_("the screening questionnaire has not been completed"),
)
def _screening_completed(ctx: GuardContext) -> bool:
    return bool(ctx.pact.screenings)


@guard("has_goal", unmet=N_("the pact has no goal yet"))
def _has_goal(ctx: GuardContext) -> bool:
    return bool(ctx.pact.goals)


@guard("has_action", unmet=N_("the pact has no action yet"))
def _has_action(ctx: GuardContext) -> bool:
    return bool(ctx.pact.actions)


@guard("pact_signed", unmet=N_("the pact has not been signed"))
def _pact_signed(ctx: GuardContext) -> bool:
    revision = ctx.pact.latest_revision
    return revision is not None and revision.is_signed


@guard("signed_goal", unmet=N_("the pact has no signed goal"))
def _signed_goal(ctx: GuardContext) -> bool:
    revision = ctx.pact.latest_revision
    return revision is not None and revision.is_signed and bool(revision.content.get("goals"))


@guard("signed_action", unmet=N_("the pact has no signed action"))
def _signed_action(ctx: GuardContext) -> bool:
    revision = ctx.pact.latest_revision
    return revision is not None and revision.is_signed and bool(revision.content.get("actions"))


@guard(
    "action_started",
    unmet=N_("no action of the pact has started yet"),
)
def _action_started(ctx: GuardContext) -> bool:
    return any(a.status in (ActionStatus.IN_PROGRESS, ActionStatus.DONE) for a in ctx.pact.actions)


@guard("has_contact", unmet=N_("no follow-up contact has been recorded"))
def _has_contact(ctx: GuardContext) -> bool:
    return bool(ctx.pact.contacts)


@guard("has_outcome", unmet=N_("the outcome has not been recorded"))
def _has_outcome(ctx: GuardContext) -> bool:
    return ctx.pact.outcome is not None


@guard("has_comment", unmet=N_("a reason is required"))
def _has_comment(ctx: GuardContext) -> bool:
    return bool(ctx.comment.strip())


@guard("has_equipe", unmet=N_("the case has no équipe members yet"))
def _has_equipe(ctx: GuardContext) -> bool:
    return bool(ctx.pact.members)


REASON_GUARD = "has_reason"


@guard(REASON_GUARD, unmet=N_("a reason must be chosen"))
def _has_reason(ctx: GuardContext) -> bool:
    return bool(ctx.reason)


APPROVAL_GUARD = "supervisor_approved"


@guard(
    APPROVAL_GUARD,
    unmet=N_("the pact has not been approved by a supervisor yet"),
)
def _supervisor_approved(ctx: GuardContext) -> bool:
    # Approvals are read only when an event asks for them, from the pact's own session: a
    # relationship would load them for every pact, and most workflows never ask.
    revision = ctx.pact.latest_revision
    session = object_session(ctx.pact)
    if revision is None or revision.id is None or session is None:
        return False
    decisions = session.execute(
        select(PactApproval.decision, PactApproval.decided_by_id)
        .where(PactApproval.revision_id == revision.id)
        .order_by(PactApproval.decided_at, PactApproval.id)
    ).all()
    approved = False
    for decision, decided_by_id in decisions:
        if decision == ApprovalDecision.SENT_BACK:
            approved = False
        elif decided_by_id != revision.created_by_id:
            approved = True
    return approved


# Guards about what was said with a move, not about the pact's records: they cannot say
# whether a deadline's work is done.
_MOVE_ONLY = frozenset({"has_comment", REASON_GUARD})


def deadline_conditions() -> list[str]:
    """The guards a deadline rule may name in `met_when`."""
    return sorted(name for name in GUARDS if name not in _MOVE_ONLY)


def condition_holds(name: str, pact: Pact, now: datetime) -> bool:
    """Whether the pact's records satisfy the named guard (a deadline's `met_when`)."""
    return GUARDS[name].check(GuardContext(pact=pact, now=now))
