"""Supervisor approval of co-designed pacts, where a workflow asks for it before a move.

A workflow asks for approval by guarding an event with `supervisor_approved`. A pact waits
for a decision while it is open, in a state such an event leaves from, and its latest
revision has no decision yet. A supervisor who sees the pact approves that revision or sends
it back with a comment. Sending back leaves the pact where it is; the next revision the case
manager prepares waits again. Nobody approves a revision they prepared themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, exists, false, or_, select
from sqlalchemy.orm import Session, aliased

from casework.errors import CaseworkError, InvalidInput
from casework.i18n import N_, in_every_locale
from casework.models import (
    ApprovalDecision,
    Beneficiary,
    Pact,
    PactApproval,
    PactRevision,
    Programme,
    Role,
    User,
)
from casework.reminders import LOCALES, notify, working_days_between
from casework.security import can_see_pact, pact_visibility
from casework.versioning import check_version, flush_checked, touch
from casework.workflow import APPROVAL_GUARD, WorkflowDefinition, WorkflowRegistry


class DecisionNotAllowed(CaseworkError):
    """Only a supervisor who sees the pact decides on it."""

    def __init__(self, pact_id: int):
        self.pact_id = pact_id
        super().__init__(f"only a supervisor who sees pact {pact_id} may approve it or send it back")


def approval_states(definition: WorkflowDefinition) -> frozenset[str]:
    """States a pact of this workflow waits for approval in: those an approval-guarded event leaves."""
    return frozenset(
        source for event in definition.events.values() if APPROVAL_GUARD in event.guards for source in event.sources
    )


def requires_approval(definition: WorkflowDefinition) -> bool:
    return bool(approval_states(definition))


def _in_approval_state(registry: WorkflowRegistry):
    """SQL: the pact's workflow version asks for approval from the state it is in."""
    clauses = []
    for engine in registry.engines():
        states = approval_states(engine.definition)
        if states:
            clauses.append(and_(
                Pact.workflow_name == engine.name, Pact.workflow_version == engine.version,
                Pact.state.in_(sorted(states)),
            ))
    return or_(*clauses) if clauses else false()


def _is_latest_revision():
    later = aliased(PactRevision)
    return ~exists().where(later.pact_id == PactRevision.pact_id, later.number > PactRevision.number)


def _undecided():
    return ~exists().where(PactApproval.revision_id == PactRevision.id)


@dataclass(frozen=True)
class QueueItem:
    """A pact waiting for a supervisor's decision on its latest revision."""

    pact_id: int
    pact_version: int  # what the decision forms carry, for the optimistic check
    beneficiary_name: str
    programme_name: str
    case_manager_name: str
    stage_label: str
    revision_number: int
    prepared_at: datetime
    prepared_by_viewer: bool  # the viewer prepared this revision: they may not approve it
    signed_on: date | None
    waiting_since: datetime  # the revision was prepared, or the pact reached the stage, whichever is later
    working_days_waiting: int


def approval_queue(
    session: Session, registry: WorkflowRegistry, supervisor: User, *, now: datetime, locale: str,
    zone: ZoneInfo,
) -> list[QueueItem]:
    """The pacts the supervisor sees that wait for a decision, the longest waiting first (one query)."""
    if supervisor.role != Role.SUPERVISOR:
        return []
    waiting_since = case(
        (PactRevision.created_at > Pact.state_entered_at, PactRevision.created_at), else_=Pact.state_entered_at
    ).label("waiting_since")
    rows = session.execute(
        select(
            Pact.id, Pact.version, Pact.workflow_name, Pact.workflow_version, Pact.state,
            Beneficiary.first_name, Beneficiary.last_name, Programme.name, User.full_name,
            PactRevision.number, PactRevision.created_at, PactRevision.created_by_id, PactRevision.signed_on,
            waiting_since,
        )
        .join(PactRevision, PactRevision.pact_id == Pact.id)
        .join(Beneficiary, Beneficiary.id == Pact.beneficiary_id)
        .join(Programme, Programme.id == Pact.programme_id)
        .join(User, User.id == Pact.case_manager_id)
        .where(
            pact_visibility(supervisor), Pact.closed_at.is_(None), _in_approval_state(registry),
            _is_latest_revision(), _undecided(),
        )
        .order_by(waiting_since, Pact.id)
    ).all()
    today = now.astimezone(zone).date()
    return [
        QueueItem(
            pact_id=row.id, pact_version=row.version, beneficiary_name=f"{row.first_name} {row.last_name}",
            programme_name=row.name, case_manager_name=row.full_name,
            stage_label=registry.get(row.workflow_name, row.workflow_version).definition.label_of(
                "state", row.state, locale),
            revision_number=row.number, prepared_at=row.created_at,
            prepared_by_viewer=row.created_by_id == supervisor.id, signed_on=row.signed_on,
            waiting_since=row.waiting_since,
            working_days_waiting=max(0, working_days_between(row.waiting_since.astimezone(zone).date(), today)),
        )
        for row in rows
    ]


def _decisions(session: Session, revision: PactRevision) -> list[PactApproval]:
    return list(session.scalars(
        select(PactApproval).where(PactApproval.revision_id == revision.id)
        .order_by(PactApproval.decided_at, PactApproval.id)
    ))


def is_waiting(session: Session, registry: WorkflowRegistry, pact: Pact) -> bool:
    """Whether the pact's latest revision waits for a supervisor's decision."""
    revision = pact.latest_revision
    return (
        pact.is_open and revision is not None
        and pact.state in approval_states(registry.engine_for(pact).definition)
        and not _decisions(session, revision)
    )


def decide(
    session: Session,
    registry: WorkflowRegistry,
    supervisor: User,
    pact: Pact,
    *,
    expected_version: int | None,
    decision: ApprovalDecision,
    comment: str,
    now: datetime,
) -> PactApproval:
    """Approve the pact's latest revision, or send it back with a comment; tell the case manager.

    Raises DecisionNotAllowed (not a supervisor who sees the pact), PactConflict (the pact
    changed since `expected_version` was read), or InvalidInput: "not_waiting" (nothing to
    decide), "own_revision" (approving a revision one prepared), comment "required" (sending
    back without saying why). The pact's version moves, so a form read before is stale.
    """
    if supervisor.role != Role.SUPERVISOR or not can_see_pact(session, supervisor, pact.id):
        raise DecisionNotAllowed(pact.id)
    check_version(pact, expected_version)
    if not is_waiting(session, registry, pact):
        raise InvalidInput({"decision": "not_waiting"})
    revision = pact.latest_revision
    assert revision is not None  # is_waiting says so
    if decision == ApprovalDecision.APPROVED and revision.created_by_id == supervisor.id:
        raise InvalidInput({"decision": "own_revision"})
    if decision == ApprovalDecision.SENT_BACK and not comment.strip():
        raise InvalidInput({"comment": "required"})
    touch(pact, expected_version, now)
    flush_checked(session, pact, expected_version)
    approval = PactApproval(
        pact_id=pact.id, revision_id=revision.id, decision=decision, comment=comment.strip(),
        decided_by_id=supervisor.id, decided_at=now, pact_version=pact.version,
    )
    session.add(approval)
    notify(session, pact.case_manager, _decision_message(pact, revision, supervisor, decision, comment.strip()),
           now=now, pact=pact)
    session.flush()
    return approval


def _decision_message(
    pact: Pact, revision: PactRevision, supervisor: User, decision: ApprovalDecision, comment: str
) -> dict[str, str]:
    # By number and programme, as every notice names a pact; the link leads to the person.
    params = {"pact": pact.id, "programme": pact.programme.code, "number": revision.number,
              "supervisor": supervisor.full_name, "comment": comment}
    if decision == ApprovalDecision.APPROVED:
        message = N_("Pact no. {pact} ({programme}): revision {number} was approved by {supervisor}.")
    else:
        message = N_("Pact no. {pact} ({programme}): revision {number} was sent back by {supervisor} "
                     "with this comment: “{comment}”. Revise the pact and prepare a new revision.")
    return in_every_locale(LOCALES, message, **params)


@dataclass(frozen=True)
class ApprovalStatus:
    """Where the latest revision stands, for the pact page.

    status: "not_prepared" (the pact waits for approval but has no revision to approve yet),
    "waiting", "approved" or "sent_back".
    """

    status: str
    revision_number: int | None
    decided_by: str
    decided_at: datetime | None
    comment: str
    waiting: bool  # a supervisor may decide now (from the approvals queue)


def approval_status(session: Session, registry: WorkflowRegistry, pact: Pact) -> ApprovalStatus | None:
    """None when the pact's workflow asks for no approval, or there is nothing to say yet."""
    states = approval_states(registry.engine_for(pact).definition)
    if not states:
        return None
    in_approval_state = pact.is_open and pact.state in states
    revision = pact.latest_revision
    if revision is None:
        if not in_approval_state:
            return None
        return ApprovalStatus("not_prepared", None, "", None, "", waiting=False)
    decisions = _decisions(session, revision)
    if not decisions:
        if not in_approval_state:
            return None
        return ApprovalStatus("waiting", revision.number, "", None, "", waiting=True)
    last = decisions[-1]
    return ApprovalStatus(
        last.decision.value, revision.number, last.decided_by.full_name, last.decided_at, last.comment, waiting=False,
    )
