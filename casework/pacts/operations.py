"""Operations on pacts: the use cases the web layer, the CLI, the demo and the scheduler call.

Each takes the session (the caller's unit of work), the acting user (None for the system)
and `now`, and never commits: the caller's transaction makes the whole operation atomic,
which is also the only rollback the workflow machine has.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import bindparam, insert, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from casework.clock import Clock
from casework.errors import InvalidInput, PactConflict
from casework.models import (
    Action,
    ActionStatus,
    Beneficiary,
    Commitment,
    ContactChannel,
    FollowUpContact,
    Goal,
    GoalsAchieved,
    ItemStatus,
    Pact,
    PactMember,
    PactOutcome,
    PactRevision,
    Performer,
    Priority,
    Programme,
    Referral,
    ReferralSource,
    Screening,
    TransitionRecord,
    User,
)
from casework.pacts.submissions import already_submitted, insert_once
from casework.reminders import StatePosition, next_deadline, refresh_next_deadline
from casework.security import record_changes, refuse_if_restricted

# The one version check every record shares (casework.versioning), under the names used below.
from casework.versioning import check_version as _check_version
from casework.versioning import flush_checked as _flush
from casework.versioning import touch as _touch
from casework.workflow import (
    OPEN_EVENT,
    EventStatus,
    GuardContext,
    InvalidAnswers,
    WorkflowEngine,
    WorkflowRegistry,
    score_screening,
)

_SINGLE_PARTS = ("referral", "outcome")
_PARTS = ("members", "screenings", "goals", "actions", "commitments", "revisions", "contacts", *_SINGLE_PARTS)


def _actor_id(actor: User | None) -> int | None:
    return actor.id if actor is not None else None


def open_pact(
    session: Session,
    registry: WorkflowRegistry,
    *,
    beneficiary: Beneficiary,
    programme: Programme,
    case_manager: User,
    actor: User | None,
    clock: Clock,
) -> Pact:
    """Open a pact in the initial state of the programme's current workflow version."""
    engine = registry.latest(programme.workflow_name)
    pact = Pact(
        beneficiary=beneficiary,
        programme=programme,
        case_manager=case_manager,
        workflow_name=engine.name,
        workflow_version=engine.version,
        state=engine.definition.initial,
        opened_at=clock.now,
        state_entered_at=clock.now,
        updated_at=clock.now,
    )
    session.add(pact)
    refresh_next_deadline(session, engine.definition, pact, clock.zone)
    session.flush()
    # A new pact has no parts: say so, rather than let each first access run a SELECT.
    for name in _PARTS:
        set_committed_value(pact, name, None if name in _SINGLE_PARTS else [])
    session.add(
        TransitionRecord(
            pact_id=pact.id, event=OPEN_EVENT, from_state=None, to_state=pact.state,
            actor_id=_actor_id(actor), at=clock.now, comment="", pact_version=pact.version,
        )
    )
    session.flush()
    return pact


def guard_context(
    pact: Pact, clock: Clock, *, comment: str = "", actor: User | None = None, reason: str | None = None
) -> GuardContext:
    return GuardContext(
        pact=pact, now=clock.now, comment=comment, previous_state=pact.entered_from, actor_id=_actor_id(actor),
        reason=reason,
    )


def event_statuses(registry: WorkflowRegistry, pact: Pact, clock: Clock) -> list[EventStatus]:
    """What may happen next to the pact, each with the conditions it still lacks (for the UI)."""
    return registry.engine_for(pact).event_statuses(guard_context(pact, clock))


def allowed_events(registry: WorkflowRegistry, pact: Pact, clock: Clock) -> list[str]:
    return [status.event.name for status in event_statuses(registry, pact, clock) if status.ready]


# Built once, run through SQLAlchemy's own execution path (Connection.execute, so engine
# events, logging and query counting see them): the SET and VALUES columns come from the
# parameters' keys, and the compiled form is reused from the engine's compiled cache.
_MOVE_PACT = update(Pact.__table__).where(
    Pact.__table__.c.id == bindparam("pact_id"), Pact.__table__.c.version == bindparam("read_version")
)
# inline(): the record's generated id is not needed, so no RETURNING or lastrowid is asked for.
_RECORD_TRANSITION = insert(TransitionRecord.__table__).inline()


class Transition(NamedTuple):
    """The audit record a move wrote (a copy: the row itself is append-only).

    (pact_id, pact_version) identifies the row.
    """

    pact_id: int
    event: str
    from_state: str
    to_state: str
    actor_id: int | None
    at: datetime
    comment: str
    pact_version: int
    reason: str | None = None  # the code picked from the event's `reasons`


def _chosen_reason(engine: WorkflowEngine, event: str, reason: str | None) -> str | None:
    """The reason code given with a move, checked against the event's list (None when none given).

    An event without a list accepts no reason: a code there would be counted by nobody.
    """
    if reason is None or not reason.strip():
        return None
    definition = engine.event_definition(event)
    if definition is not None and reason.strip() not in definition.reasons:
        raise InvalidInput({"reason": "unknown_reason"})
    return reason.strip()


def transition_pact(
    session: Session,
    registry: WorkflowRegistry,
    pact: Pact,
    event: str,
    *,
    actor: User | None,
    clock: Clock,
    expected_version: int | None = None,
    comment: str = "",
    reason: str | None = None,
) -> Transition:
    """Fire `event` on the pact: guards, state, audit record, next deadline and version, together.

    `reason` is a code from the event's `reasons` (e.g. why a beneficiary withdrew); another
    code raises InvalidInput({"reason": "unknown_reason"}).

    Raises EventNotAvailable, TransitionRefused (with the unmet conditions), InvalidInput,
    RecordRestricted or PactConflict; on any of them the pact is left as it was. The row is written with one
    `UPDATE ... WHERE version = <read>`: the hot path of the engine skips the ORM's flush
    machinery but keeps its optimistic locking.
    """
    session.flush()  # earlier pending changes first, so they cannot overwrite this move
    _check_version(pact, expected_version)
    engine = registry.engine_for(pact)
    reason = _chosen_reason(engine, event, reason)
    source, target = engine.fire(event, guard_context(pact, clock, comment=comment, actor=actor, reason=reason))

    read_version = pact.version
    final = target in engine.definition.final_states
    deadline_at, deadline_label = (None, "") if final else next_deadline(
        session, engine.definition, StatePosition(pact.id, target, clock.now, pact.opened_at), clock.zone
    )
    changes = {
        "state": target, "entered_from": source, "state_entered_at": clock.now,
        "closed_at": clock.now if final else None, "next_deadline_at": deadline_at,
        "next_deadline_label": deadline_label, "updated_at": clock.now, "version": read_version + 1,
    }
    connection = session.connection()
    moved = connection.execute(_MOVE_PACT, {**changes, "pact_id": pact.id, "read_version": read_version})
    if moved.rowcount != 1:
        raise PactConflict(pact.id, read_version)
    # The move bypasses the flush, and with it the freeze of a restricted record: looked at here,
    # after the write (as the flush's check does), and the caller's rollback undoes the move.
    refuse_if_restricted(session, beneficiary_ids=[pact.beneficiary_id])
    record = {
        "pact_id": pact.id, "event": event, "from_state": source, "to_state": target,
        "actor_id": _actor_id(actor), "at": clock.now, "comment": comment.strip(), "reason": reason,
        "pact_version": read_version + 1,
    }
    connection.execute(_RECORD_TRANSITION, record)
    for name, value in changes.items():
        set_committed_value(pact, name, value)
    if "transitions" in pact.__dict__:
        session.expire(pact, ["transitions"])
    return Transition(**record)


def record_referral(
    session: Session,
    pact: Pact,
    *,
    source: ReferralSource,
    reason: str,
    referred_on: date,
    referrer_name: str = "",
    referrer_contact: str = "",
    actor: User | None,
    clock: Clock,
    expected_version: int | None = None,
) -> Referral:
    errors = {}
    if not reason.strip():
        errors["reason"] = "required"
    if referred_on > clock.now.astimezone(clock.zone).date():
        errors["referred_on"] = "in_future"
    if errors:
        raise InvalidInput(errors)
    _touch(pact, expected_version, clock.now)
    fields = dict(
        source=source, reason=reason.strip(), referred_on=referred_on, referrer_name=referrer_name.strip(),
        referrer_contact=referrer_contact.strip(), recorded_at=clock.now, recorded_by_id=_actor_id(actor),
    )
    referral = pact.referral
    if referral is None:
        referral = Referral(pact=pact, **fields)
        session.add(referral)
    else:
        # A correction keeps who first recorded the referral and leaves the old values in the
        # pact's edit history.
        edited = ("source", "reason", "referred_on", "referrer_name", "referrer_contact")
        record_changes(
            session, "pact", pact.id, {f"referral_{name}": getattr(referral, name) for name in edited},
            {f"referral_{name}": fields[name] for name in edited}, actor=actor, now=clock.now,
        )
        for name in edited:
            setattr(referral, name, fields[name])
    _flush(session, pact, expected_version)
    return referral


def record_screening(
    session: Session,
    registry: WorkflowRegistry,
    pact: Pact,
    answers: dict[str, object],
    *,
    actor: User | None,
    clock: Clock,
    expected_version: int | None = None,
) -> Screening:
    """Score the answers with the workflow's questionnaire; raises InvalidInput per question."""
    questionnaire = registry.engine_for(pact).definition.questionnaire
    if questionnaire is None:
        raise InvalidInput({"questionnaire": "not_defined"})
    try:
        result = score_screening(questionnaire, answers)
    except InvalidAnswers as error:
        raise InvalidInput({e.question_id: e.code for e in error.errors}) from None
    _check_version(pact, expected_version)
    pact.priority = Priority(result.priority)  # before the bump: one UPDATE, one version
    screening = Screening(
        pact=pact, answers=result.answers, need_profile=result.need_profile,
        total_score=result.total_score, priority=pact.priority,
        completed_at=clock.now, completed_by_id=_actor_id(actor),
    )
    session.add(screening)
    _signed(session, registry, pact, clock)  # a screening deadline is met by it
    _touch(pact, expected_version, clock.now)  # after: one UPDATE writes the deadline and the version
    _flush(session, pact, expected_version)
    return screening


def add_goal(
    session: Session, pact: Pact, *, description: str, need_area: str = "", target_date: date | None = None,
    clock: Clock, expected_version: int | None = None,
) -> Goal:
    if not description.strip():
        raise InvalidInput({"description": "required"})
    _touch(pact, expected_version, clock.now)
    goal = Goal(pact=pact, description=description.strip(), need_area=need_area, target_date=target_date)
    session.add(goal)
    _flush(session, pact, expected_version)
    return goal


def add_action(
    session: Session, pact: Pact, *, description: str, performer: Performer, performer_detail: str = "",
    due_on: date | None = None, goal: Goal | None = None, clock: Clock, expected_version: int | None = None,
) -> Action:
    if not description.strip():
        raise InvalidInput({"description": "required"})
    if goal is not None and goal.pact_id != pact.id:
        raise InvalidInput({"goal": "not_in_pact"})
    _touch(pact, expected_version, clock.now)
    action = Action(
        pact=pact, goal=goal, description=description.strip(), performer=performer,
        performer_detail=performer_detail.strip(), due_on=due_on,
    )
    session.add(action)
    _flush(session, pact, expected_version)
    return action


def set_action_status(
    session: Session, action: Action, status: ActionStatus, *, clock: Clock, expected_version: int | None = None
) -> None:
    _touch(action.pact, expected_version, clock.now)
    action.status = status
    _flush(session, action.pact, expected_version)


def set_goal_status(
    session: Session, goal: Goal, status: ItemStatus, *, clock: Clock, expected_version: int | None = None
) -> None:
    _touch(goal.pact, expected_version, clock.now)
    goal.status = status
    _flush(session, goal.pact, expected_version)


def add_commitment(
    session: Session, pact: Pact, *, party: Performer, text: str, clock: Clock, expected_version: int | None = None
) -> Commitment:
    if not text.strip():
        raise InvalidInput({"text": "required"})
    _touch(pact, expected_version, clock.now)
    commitment = Commitment(pact=pact, party=party, text=text.strip())
    session.add(commitment)
    _flush(session, pact, expected_version)
    return commitment


def _snapshot(pact: Pact) -> dict[str, object]:
    return {
        "goals": [
            {"id": g.id, "description": g.description, "need_area": g.need_area,
             "target_date": g.target_date.isoformat() if g.target_date else None}
            for g in pact.goals
        ],
        "actions": [
            {"id": a.id, "goal_id": a.goal_id, "description": a.description, "performer": a.performer.value,
             "performer_detail": a.performer_detail, "due_on": a.due_on.isoformat() if a.due_on else None}
            for a in pact.actions if a.status != ActionStatus.CANCELLED
        ],
        "commitments": [{"party": c.party.value, "text": c.text} for c in pact.commitments],
    }


def _content_errors(pact: Pact) -> dict[str, str]:
    errors = {}
    if not pact.goals:
        errors["goals"] = "no_goal"
    if not any(action.status != ActionStatus.CANCELLED for action in pact.actions):
        errors["actions"] = "no_action"
    return errors


def _signature_errors(signed_on: date, signed_by: str, consent_given: bool, clock: Clock) -> dict[str, str]:
    errors = {}
    if not signed_by.strip():
        errors["signed_by"] = "required"
    if not consent_given:
        errors["consent_given"] = "consent_required"
    if signed_on > clock.now.astimezone(clock.zone).date():
        errors["signed_on"] = "in_future"
    return errors


def sign_pact(
    session: Session,
    pact: Pact,
    *,
    signed_on: date,
    signed_by: str,
    consent_given: bool,
    actor: User | None,
    clock: Clock,
    expected_version: int | None = None,
    registry: WorkflowRegistry | None = None,
) -> PactRevision:
    """Freeze the current goals, actions and commitments as a new signed revision.

    With the `registry`, the pact's next deadline follows (a deadline met by the signature stops).
    """
    errors = {**_signature_errors(signed_on, signed_by, consent_given, clock), **_content_errors(pact)}
    if errors:
        raise InvalidInput(errors)
    _check_version(pact, expected_version)
    number = (pact.latest_revision.number + 1) if pact.revisions else 1
    revision = PactRevision(
        pact=pact, number=number, content=_snapshot(pact), created_at=clock.now,
        created_by_id=_actor_id(actor), signed_on=signed_on, signed_by=signed_by.strip(),
        consent_given=True,
    )
    session.add(revision)
    _signed(session, registry, pact, clock)
    _touch(pact, expected_version, clock.now)  # after: one UPDATE writes the deadline and the version
    _flush(session, pact, expected_version)
    return revision


def _signed(session: Session, registry: WorkflowRegistry | None, pact: Pact, clock: Clock) -> None:
    """The pact's next deadline after a record that may meet one (a signature, a screening)."""
    if registry is not None:
        refresh_next_deadline(session, registry.engine_for(pact).definition, pact, clock.zone)


def changed_since_latest_revision(pact: Pact) -> bool:
    """Whether the co-designed content differs from the latest revision (True when there is none)."""
    revision = pact.latest_revision
    return revision is None or revision.content != _snapshot(pact)


def prepare_revision(
    session: Session, pact: Pact, *, actor: User | None, clock: Clock, expected_version: int | None = None
) -> PactRevision:
    """Freeze the current goals, actions and commitments as an unsigned revision, to print and sign.

    Preparing again with nothing changed returns the same draft, so printing twice does not
    multiply revisions; a content identical to the latest signed revision is refused
    ("unchanged"): there is nothing new to sign.
    """
    errors = _content_errors(pact)
    latest = pact.latest_revision
    content = _snapshot(pact)
    if not errors and latest is not None and latest.content == content:
        if not latest.is_signed:
            _check_version(pact, expected_version)
            return latest
        errors["revision"] = "unchanged"
    if errors:
        raise InvalidInput(errors)
    _touch(pact, expected_version, clock.now)
    revision = PactRevision(
        pact=pact, number=(latest.number + 1) if latest else 1, content=content, created_at=clock.now,
        created_by_id=_actor_id(actor),
    )
    session.add(revision)
    _flush(session, pact, expected_version)
    return revision


def record_signature(
    session: Session,
    pact: Pact,
    *,
    signed_on: date,
    signed_by: str,
    consent_given: bool,
    actor: User | None,
    clock: Clock,
    expected_version: int | None = None,
    registry: WorkflowRegistry | None = None,
) -> PactRevision:
    """Record that the pact was signed: the draft prepared for printing, else the current content.

    The draft is signed as it was printed, even if goals changed since: the signature is
    about the paper. A pact whose latest revision is signed and unchanged is refused
    ("already_signed").
    """
    draft = pact.latest_revision
    if draft is None or draft.is_signed:
        if draft is not None and draft.content == _snapshot(pact):
            # Signed by someone else since the form was read: their save came first, a conflict.
            # The version is written, not just compared (the pact may have been read before their
            # commit, its revisions after it); the caller's rollback of the refusal undoes it.
            if expected_version is not None:
                _touch(pact, expected_version, clock.now)
            raise InvalidInput({"revision": "already_signed"})
        return sign_pact(
            session, pact, signed_on=signed_on, signed_by=signed_by, consent_given=consent_given, actor=actor,
            clock=clock, expected_version=expected_version, registry=registry,
        )
    errors = _signature_errors(signed_on, signed_by, consent_given, clock)
    if "signed_on" not in errors and signed_on < draft.created_at.astimezone(clock.zone).date():
        errors["signed_on"] = "before_draft"
    if errors:
        raise InvalidInput(errors)
    _check_version(pact, expected_version)
    draft.signed_on = signed_on
    draft.signed_by = signed_by.strip()
    draft.consent_given = True
    _signed(session, registry, pact, clock)
    _touch(pact, expected_version, clock.now)  # after: one UPDATE writes the deadline and the version
    _flush(session, pact, expected_version)
    return draft


def remove_goal(session: Session, goal: Goal, *, clock: Clock, expected_version: int | None = None) -> None:
    """Delete a goal entered by mistake; its actions stay, linked to no goal. Revisions keep their copy."""
    pact = goal.pact
    _touch(pact, expected_version, clock.now)
    for action in pact.actions:
        if action.goal_id == goal.id:
            action.goal = None
    pact.goals.remove(goal)
    _flush(session, pact, expected_version)


def remove_action(session: Session, action: Action, *, clock: Clock, expected_version: int | None = None) -> None:
    """Delete an action entered by mistake (an action that will not happen is cancelled instead)."""
    pact = action.pact
    _touch(pact, expected_version, clock.now)
    pact.actions.remove(action)
    _flush(session, pact, expected_version)


def remove_commitment(
    session: Session, commitment: Commitment, *, clock: Clock, expected_version: int | None = None
) -> None:
    pact = commitment.pact
    _touch(pact, expected_version, clock.now)
    pact.commitments.remove(commitment)
    _flush(session, pact, expected_version)


def log_contact(
    session: Session,
    registry: WorkflowRegistry,
    pact: Pact,
    *,
    contact_at: datetime,
    channel: ContactChannel,
    notes: str = "",
    next_contact_on: date | None = None,
    actor: User | None,
    clock: Clock,
    expected_version: int | None = None,
    submission_key: str | None = None,
) -> FollowUpContact:
    """Record a contact. The same form sent again (its `submission_key`) returns the contact it
    already recorded, before any check: the second click of a double click is not a conflict."""
    if submission_key and (recorded := already_submitted(session, FollowUpContact, pact, submission_key)):
        return recorded
    errors = {}
    if contact_at > clock.now:
        errors["contact_at"] = "in_future"
    # Forms give minutes: a contact in the minute the pact was opened is not before it.
    if contact_at < pact.opened_at.replace(second=0, microsecond=0):
        errors["contact_at"] = "before_opening"
    if next_contact_on is not None and next_contact_on < contact_at.astimezone(clock.zone).date():
        errors["next_contact_on"] = "before_contact"
    if errors:
        raise InvalidInput(errors)
    _check_version(pact, expected_version)
    contact = FollowUpContact(
        pact_id=pact.id, contact_at=contact_at, channel=channel, notes=notes.strip(),
        next_contact_on=next_contact_on, recorded_by_id=_actor_id(actor), submission_key=submission_key or None,
    )
    # Flushed now: the deadline query below must see this contact.
    recorded = insert_once(session, contact, FollowUpContact, pact, submission_key)
    if recorded is not contact:
        return recorded  # the same form, sent at the same moment by a second click, got there first
    if contact not in pact.contacts:  # a collection read before this contact existed
        pact.contacts.append(contact)
    refresh_next_deadline(session, registry.engine_for(pact).definition, pact, clock.zone)
    _touch(pact, expected_version, clock.now)  # after: one UPDATE writes the deadline and the version
    _flush(session, pact, expected_version)
    return contact


def record_outcome(
    session: Session,
    registry: WorkflowRegistry,
    pact: Pact,
    *,
    outcome: str,
    goals_achieved: GoalsAchieved,
    notes: str = "",
    actor: User | None,
    clock: Clock,
    expected_version: int | None = None,
) -> PactOutcome:
    if outcome not in registry.engine_for(pact).definition.outcomes:
        raise InvalidInput({"outcome": "not_an_option"})
    _touch(pact, expected_version, clock.now)
    fields = dict(
        outcome=outcome, goals_achieved=goals_achieved, notes=notes.strip(), recorded_at=clock.now,
        recorded_by_id=_actor_id(actor),
    )
    record = pact.outcome
    if record is None:
        record = PactOutcome(pact=pact, **fields)
        session.add(record)
    else:
        for name, value in fields.items():
            setattr(record, name, value)
    _flush(session, pact, expected_version)
    return record


def add_member(
    session: Session, pact: Pact, *, role: str, user: User | None = None, external_name: str = "",
    organisation: str = "", contact: str = "", clock: Clock, expected_version: int | None = None,
) -> PactMember:
    errors = {}
    if user is None and not external_name.strip():
        errors["external_name"] = "required"
    if not role.strip():
        errors["role"] = "required"
    if user is not None and any(m.user_id == user.id for m in pact.members):
        errors["user"] = "already_member"
    if errors:
        raise InvalidInput(errors)
    _touch(pact, expected_version, clock.now)
    member = PactMember(
        pact=pact, user=user, external_name=external_name.strip(), role=role.strip(),
        organisation=organisation.strip(), contact=contact.strip(), added_at=clock.now,
    )
    session.add(member)
    _flush(session, pact, expected_version)
    return member
