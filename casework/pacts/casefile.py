"""The case file around a pact: its timeline, the journal (diario del caso) and the équipe.

Like casework.pacts.operations, each operation takes the caller's session, the acting user and the
moment it happens, and never commits.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from casework.clock import Clock
from casework.errors import CaseworkError, InvalidInput
from casework.models import (
    ChangeRecord,
    Document,
    JournalEntry,
    JournalKind,
    Pact,
    PactApproval,
    PactMember,
    PactReassignment,
    PactRevision,
    Role,
    Service,
    ServiceReferral,
    ServiceReferralEvent,
    TransitionRecord,
    User,
)
from casework.pacts.documents import pact_documents
from casework.pacts.goals import GOAL, item_change
from casework.pacts.operations import add_member
from casework.pacts.submissions import already_submitted, insert_once
from casework.security import record_changes, territory_and_below
from casework.versioning import check_version, touch
from casework.workflow import WorkflowDefinition, WorkflowRegistry

PACT_ENTITY = "pact"
BENEFICIARY_ENTITY = "beneficiary"
# The field under which équipe changes are kept in the pact's edit history.
EQUIPE_FIELD = "equipe"
MAX_JOURNAL_TEXT = 10_000


class EntryKind(enum.Enum):
    TRANSITION = "transition"
    REFERRAL = "referral"
    SCREENING = "screening"
    CONTACT = "contact"
    JOURNAL = "journal"
    PACT_EDIT = "pact_edit"
    PERSON_EDIT = "person_edit"
    REVISION = "revision"
    DOCUMENT = "document"
    OUTCOME = "outcome"
    REASSIGNMENT = "reassignment"
    APPROVAL = "approval"
    SERVICE_REFERRAL = "service_referral"


@dataclass(frozen=True)
class TimelineEntry:
    """One thing that happened in the case file: when, who, and what (by kind).

    `code` is the machine value the web layer translates (journal kind, contact channel,
    edited field, document kind, event, outcome code or approval decision); `label` and the
    state labels are already in the reader's language because the workflow file carries them.
    A reassignment names the former and the new case manager in `from_label` and `to_label`
    and its reason in `text`; an approval decision has the revision's `number` and the
    comment in `text`. A service referral's change names the service in `label`, the status it
    went from and to in `old_value` and `code` (equal when only its details changed), the
    reason code in `new_value` and the note in `text`.
    """

    at: datetime
    kind: EntryKind
    actor: str  # full name; "" when the system acted or the account is unknown
    code: str = ""
    label: str = ""
    from_label: str = ""
    to_label: str = ""
    text: str = ""
    old_value: str = ""
    new_value: str = ""
    number: int | None = None  # revision number
    signed_on: date | None = None
    document_id: int | None = None


class EquipeChangeRefused(CaseworkError):
    """Only the pact's case manager or a supervisor who sees the pact changes its équipe."""


def timeline(
    session: Session, registry: WorkflowRegistry, pact: Pact, *, locale: str, limit: int | None = None
) -> list[TimelineEntry]:
    """Everything recorded on the pact and its beneficiary, newest first.

    The caller has checked that the reader may see the pact (casework.security.access).
    """
    definition = registry.engine_for(pact).definition

    def state_label(state: str | None) -> str:
        return definition.label_of("state", state, locale)

    def event_label(event: str) -> str:
        return definition.label_of("event", event, locale, default="")

    transitions = session.scalars(
        select(TransitionRecord).where(TransitionRecord.pact_id == pact.id).order_by(TransitionRecord.id)
    ).all()
    journal = session.scalars(
        select(JournalEntry).where(JournalEntry.pact_id == pact.id).order_by(JournalEntry.id)
    ).all()
    edits = session.scalars(
        select(ChangeRecord)
        .where(or_(
            (ChangeRecord.entity == PACT_ENTITY) & (ChangeRecord.entity_id == pact.id),
            (ChangeRecord.entity == BENEFICIARY_ENTITY) & (ChangeRecord.entity_id == pact.beneficiary_id),
        ))
        .order_by(ChangeRecord.id)
    ).all()
    documents = session.scalars(
        select(Document)
        .where(or_(Document.pact_id == pact.id, Document.beneficiary_id == pact.beneficiary_id))
        .order_by(Document.id)
    ).all()
    reassignments = session.scalars(
        select(PactReassignment).where(PactReassignment.pact_id == pact.id).order_by(PactReassignment.id)
    ).all()
    approvals = session.execute(
        select(PactApproval, PactRevision.number).join(PactRevision, PactRevision.id == PactApproval.revision_id)
        .where(PactApproval.pact_id == pact.id).order_by(PactApproval.id)
    ).tuples().all()

    referral_events = session.execute(
        select(ServiceReferralEvent, Service.name)
        .join(ServiceReferral, ServiceReferral.id == ServiceReferralEvent.referral_id)
        .join(Service, Service.id == ServiceReferral.service_id)
        .where(ServiceReferralEvent.pact_id == pact.id).order_by(ServiceReferralEvent.id)
    ).tuples().all()

    actor_ids = {r.actor_id for r in transitions} | {j.author_id for j in journal} | {e.actor_id for e in edits}
    actor_ids |= {d.uploaded_by_id for d in documents} | {c.recorded_by_id for c in pact.contacts}
    actor_ids |= {r.created_by_id for r in pact.revisions} | {s.completed_by_id for s in pact.screenings}
    if pact.referral is not None:
        actor_ids.add(pact.referral.recorded_by_id)
    if pact.outcome is not None:
        actor_ids.add(pact.outcome.recorded_by_id)
    for moved in reassignments:
        actor_ids |= {moved.actor_id, moved.from_manager_id, moved.to_manager_id}
    actor_ids |= {approval.decided_by_id for approval, _ in approvals}
    actor_ids |= {event.actor_id for event, _ in referral_events}
    names = _full_names(session, actor_ids)

    def who(user_id: int | None) -> str:
        return names.get(user_id, "") if user_id is not None else ""

    entries: list[TimelineEntry] = [
        TimelineEntry(
            at=r.at, kind=EntryKind.TRANSITION, actor=who(r.actor_id), code=r.event, label=event_label(r.event),
            from_label=state_label(r.from_state), to_label=state_label(r.to_state),
            text=" — ".join(filter(None, (definition.label_of("reason", r.reason, locale, event=r.event), r.comment))),
        )
        for r in transitions
    ]
    if pact.referral is not None:
        referral = pact.referral
        entries.append(TimelineEntry(
            at=referral.recorded_at, kind=EntryKind.REFERRAL, actor=who(referral.recorded_by_id),
            code=referral.source.value, text=referral.reason,
        ))
    entries += [
        TimelineEntry(at=s.completed_at, kind=EntryKind.SCREENING, actor=who(s.completed_by_id),
                      code=s.priority.value, number=s.total_score)
        for s in pact.screenings
    ]
    entries += [
        TimelineEntry(at=c.contact_at, kind=EntryKind.CONTACT, actor=who(c.recorded_by_id),
                      code=c.channel.value, text=c.notes)
        for c in pact.contacts
    ]
    entries += [
        TimelineEntry(at=j.at, kind=EntryKind.JOURNAL, actor=who(j.author_id), code=j.kind.value, text=j.text)
        for j in journal
    ]
    entries += [
        _item_edit(definition, pact, e, who(e.actor_id), locale) if item_change(e.field) else TimelineEntry(
            at=e.at, kind=EntryKind.PACT_EDIT if e.entity == PACT_ENTITY else EntryKind.PERSON_EDIT,
            actor=who(e.actor_id), code=e.field, old_value=e.old_value, new_value=e.new_value,
        )
        for e in edits
    ]
    entries += [
        TimelineEntry(at=r.created_at, kind=EntryKind.REVISION, actor=who(r.created_by_id), number=r.number,
                      signed_on=r.signed_on, text=r.signed_by)
        for r in pact.revisions
    ]
    entries += [
        TimelineEntry(at=d.uploaded_at, kind=EntryKind.DOCUMENT, actor=who(d.uploaded_by_id), code=d.kind.value,
                      text=d.original_name, document_id=d.id)
        for d in documents
    ]
    if pact.outcome is not None:
        outcome = pact.outcome
        entries.append(TimelineEntry(
            at=outcome.recorded_at, kind=EntryKind.OUTCOME, actor=who(outcome.recorded_by_id), code=outcome.outcome,
            label=definition.label_of("outcome", outcome.outcome, locale), text=outcome.notes,
        ))
    entries += [
        TimelineEntry(at=r.at, kind=EntryKind.REASSIGNMENT, actor=who(r.actor_id), from_label=who(r.from_manager_id),
                      to_label=who(r.to_manager_id), text=r.reason)
        for r in reassignments
    ]
    entries += [
        TimelineEntry(at=a.decided_at, kind=EntryKind.APPROVAL, actor=who(a.decided_by_id), code=a.decision.value,
                      number=number, text=a.comment)
        for a, number in approvals
    ]
    entries += [
        TimelineEntry(at=e.at, kind=EntryKind.SERVICE_REFERRAL, actor=who(e.actor_id), code=e.to_status,
                      label=service, old_value=e.from_status, new_value=e.reason, text=e.note)
        for e, service in referral_events
    ]
    # Newest first. A move and the records its guards needed often share one instant: the
    # move came after them, so at equal times moves count as later.
    ordered = [
        entry for _, entry in sorted(
            enumerate(entries), key=lambda pair: (pair[1].at, pair[1].kind == EntryKind.TRANSITION, pair[0]),
            reverse=True,
        )
    ]
    return ordered if limit is None else ordered[:limit]


def _item_edit(definition: WorkflowDefinition, pact: Pact, record: ChangeRecord, actor: str,
               locale: str) -> TimelineEntry:
    """A goal's or an action's change: `code` is "goal_<field>" or "action_<field>", `label` the
    item's words as they are now ("" once removed), need areas by their label."""
    change = item_change(record.field)
    assert change is not None
    items = pact.goals if change.kind == GOAL else pact.actions
    item = next((item for item in items if item.id == change.item_id), None)
    old_value, new_value = record.old_value, record.new_value
    if change.field == "need_area":
        old_value, new_value = (definition.label_of("need_area", value, locale) if value else ""
                                for value in (old_value, new_value))
    return TimelineEntry(
        at=record.at, kind=EntryKind.PACT_EDIT, actor=actor, code=f"{change.kind}_{change.field}",
        label=item.description if item is not None else "", old_value=old_value, new_value=new_value,
    )


def _full_names(session: Session, user_ids: set[int | None]) -> dict[int, str]:
    ids = {user_id for user_id in user_ids if user_id is not None}
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.full_name).where(User.id.in_(ids))).tuples().all())


def add_journal_entry(
    session: Session, pact: Pact, *, kind: JournalKind, at: datetime, text: str, actor: User | None, now: datetime,
    submission_key: str | None = None,
) -> JournalEntry:
    """A dated note on the pact. Notes only add, so they do not move the pact's version.

    A text over MAX_JOURNAL_TEXT is refused whole ("too_long"), never stored cut. With a
    `submission_key` (the one-time key of the form), sending the same form again returns the
    entry it already wrote instead of writing a second one.
    """
    if submission_key:
        written = already_submitted(session, JournalEntry, pact, submission_key)
        if written is not None:
            return written
    errors = {}
    if not text.strip():
        errors["text"] = "required"
    elif len(text.strip()) > MAX_JOURNAL_TEXT:
        errors["text"] = "too_long"
    if at > now:
        errors["at"] = "in_future"
    if errors:
        raise InvalidInput(errors)
    entry = JournalEntry(
        pact_id=pact.id, kind=kind, at=at, text=text.strip(), author_id=actor.id if actor else None, recorded_at=now,
        submission_key=submission_key or None,
    )
    return insert_once(session, entry, JournalEntry, pact, submission_key)


# --- Équipe ---------------------------------------------------------------------------


def can_manage_equipe(user: User, pact: Pact) -> bool:
    """Whether `user`, who already may see the pact, may add or remove équipe members."""
    return user.active and (user.id == pact.case_manager_id or user.role == Role.SUPERVISOR)


def eligible_colleagues(session: Session, pact: Pact) -> list[User]:
    """Active case managers and supervisors of the programme's territory or below, not yet on the pact."""
    taken = {member.user_id for member in pact.members if member.user_id is not None} | {pact.case_manager_id}
    users = session.scalars(
        select(User)
        .where(
            User.active.is_(True),
            User.role.in_([Role.CASE_MANAGER, Role.SUPERVISOR]),
            User.territory_id.in_(territory_and_below(pact.programme.territory_id, name="programme_tree")),
        )
        .order_by(User.full_name, User.id)
        .options(joinedload(User.territory))  # the choices show each colleague's territory
    ).all()
    return [user for user in users if user.id not in taken]


def _describe(member: PactMember) -> str:
    name = member.user.full_name if member.user is not None else member.external_name
    details = ", ".join(part for part in (member.role, member.organisation) if part)
    return f"{name} ({details})" if details else name


def _require_manager(actor: User, pact: Pact) -> None:
    if not can_manage_equipe(actor, pact):
        raise EquipeChangeRefused(f"{actor.username} may not change the équipe of pact {pact.id}")


def add_colleague(
    session: Session, pact: Pact, user: User | None, role: str, *, actor: User, clock: Clock,
    expected_version: int | None = None,
) -> PactMember:
    """Put a colleague on the équipe: from then on they see the pact (casework.security.access)."""
    _require_manager(actor, pact)
    errors = {}
    if user is None:
        errors["user"] = "required"
    elif user.id == pact.case_manager_id:
        errors["user"] = "is_case_manager"
    elif any(member.user_id == user.id for member in pact.members):
        errors["user"] = "already_member"
    elif user.id not in {candidate.id for candidate in eligible_colleagues(session, pact)}:
        errors["user"] = "not_eligible"
    if not role.strip():
        errors["role"] = "required"
    if errors:
        raise InvalidInput(errors)
    member = add_member(session, pact, role=role, user=user, clock=clock, expected_version=expected_version)
    record_changes(session, PACT_ENTITY, pact.id, {EQUIPE_FIELD: ""}, {EQUIPE_FIELD: _describe(member)},
                   actor=actor, now=clock.now)
    session.flush()
    return member


def add_external_member(
    session: Session, pact: Pact, *, name: str, role: str, organisation: str = "", contact: str = "",
    actor: User, clock: Clock, expected_version: int | None = None,
) -> PactMember:
    """Put an outside contact (teacher, mediator, someone of an organisation) on the équipe."""
    _require_manager(actor, pact)
    member = add_member(session, pact, role=role, external_name=name, organisation=organisation, contact=contact,
                        clock=clock, expected_version=expected_version)
    record_changes(session, PACT_ENTITY, pact.id, {EQUIPE_FIELD: ""}, {EQUIPE_FIELD: _describe(member)},
                   actor=actor, now=clock.now)
    session.flush()
    return member


def remove_member(
    session: Session, pact: Pact, member_id: int, *, actor: User, clock: Clock, expected_version: int | None = None
) -> None:
    """Take someone off the équipe; a colleague removed no longer sees the pact."""
    _require_manager(actor, pact)
    check_version(pact, expected_version)
    member = next((m for m in pact.members if m.id == member_id), None)
    if member is None:
        raise InvalidInput({"member": "not_in_pact"})
    record_changes(session, PACT_ENTITY, pact.id, {EQUIPE_FIELD: _describe(member)}, {EQUIPE_FIELD: ""},
                   actor=actor, now=clock.now)
    pact.members.remove(member)
    touch(pact, expected_version, clock.now)  # an équipe change conflicts with a stale form


# --- What the case file shows -----------------------------------------------------------


@dataclass(frozen=True)
class CaseFile:
    """What the case-file panels of a pact show, computed once per page."""

    timeline: list[TimelineEntry]
    has_more: bool
    timeline_total: int  # entries in the whole timeline, so the page can say how many it leaves out
    members: list[PactMember]
    colleagues: list[User]  # who may be added to the équipe
    documents: list[Document]
    may_manage_equipe: bool
    path: WorkflowPath


@dataclass(frozen=True)
class WorkflowPath:
    """The states a pact has been in and the moves it made, for drawing its workflow."""

    current: str
    states: tuple[str, ...]  # in the order the pact first entered them
    moves: frozenset[tuple[str, str, str]]  # (event, from, to)


def workflow_path(session: Session, pact: Pact) -> WorkflowPath:
    records = session.execute(
        select(TransitionRecord.event, TransitionRecord.from_state, TransitionRecord.to_state)
        .where(TransitionRecord.pact_id == pact.id)
        .order_by(TransitionRecord.id)
    ).all()
    states = [state for _, source, target in records for state in (source, target) if state is not None]
    states.append(pact.state)
    moves = {(event, source, target) for event, source, target in records if source is not None}
    return WorkflowPath(current=pact.state, states=tuple(dict.fromkeys(states)), moves=frozenset(moves))


def case_file(
    session: Session, registry: WorkflowRegistry, pact: Pact, user: User, *, locale: str, latest: int = 20
) -> CaseFile:
    """Timeline (latest entries), équipe, documents and workflow path of a pact `user` may see."""
    entries = timeline(session, registry, pact, locale=locale)
    may_manage = can_manage_equipe(user, pact)
    return CaseFile(
        timeline=entries[:latest],
        has_more=len(entries) > latest,
        timeline_total=len(entries),
        members=list(pact.members),
        colleagues=eligible_colleagues(session, pact) if may_manage else [],
        documents=pact_documents(session, pact),
        may_manage_equipe=may_manage,
        path=workflow_path(session, pact),
    )
