"""Erasing a person (GDPR art. 17), on request or when their programme's retention period has
run out after their last pact closed: proposed first (a list nobody is erased from), then
confirmed by a supervisor who sees the person.

What goes: the name (the record becomes "Persona cancellata n. <id>"), codice fiscale, place
of birth, citizenship, address, phone, e-mail, the household, every free text written about the
person or their pacts (notes, journal, goals and actions as written, comments, referral reasons,
screening answers, the signed pact's text, external équipe members' names and contacts, the edit
history's old and new values) and the documents with their files.

What stays, so that every indicator over past periods counts the same: the record itself with
gender, birth date, migrant background and comune, and each pact with its programme, dates,
stages, moves, deadlines, goals' areas and statuses, outcome and referrals' statuses. The access
and administrative logs stay too (they are never deleted; an erasure is itself logged in both).

An erased person's record cannot be edited any more: there is no one left to write about.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from dateutil.relativedelta import relativedelta
from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from casework.config import LOCALES
from casework.errors import InvalidInput
from casework.i18n import N_, in_every_locale
from casework.models import (
    ERASED_TEXT,
    ERASING_FREE_TEXT,
    Action,
    Beneficiary,
    BeneficiaryRestriction,
    ChangeRecord,
    Commitment,
    DeadlinePause,
    DeadlineSnooze,
    Document,
    FollowUpContact,
    Goal,
    HouseholdMember,
    JournalEntry,
    Pact,
    PactApproval,
    PactMember,
    PactOutcome,
    PactReassignment,
    PactRevision,
    Programme,
    Referral,
    Role,
    SchedulerLock,
    Screening,
    ServiceReferral,
    ServiceReferralEvent,
    TransitionRecord,
    User,
)
from casework.people.restriction import restricted_person
from casework.people.subject_access import recorded_reason
from casework.reminders import notify, take_turn
from casework.security import (
    get_visible_beneficiary,
    log_access,
    record_admin_change,
    visible_beneficiaries,
)

# Free text, per table: becomes ERASED_TEXT. JSON columns become {}.
_FREE_TEXT: tuple[tuple[type, tuple[str, ...]], ...] = (
    (Commitment, ("text",)),
    (DeadlinePause, ("reason",)),
    (DeadlineSnooze, ("reason",)),
    (FollowUpContact, ("notes",)),
    (Goal, ("description",)),
    (JournalEntry, ("text",)),
    (PactOutcome, ("notes",)),
    (PactReassignment, ("reason",)),
    (PactRevision, ("signed_by",)),
    (Referral, ("referrer_name", "referrer_contact", "reason")),
    (TransitionRecord, ("comment",)),
    (Action, ("description", "performer_detail")),
    (PactApproval, ("comment",)),
    (ServiceReferral, ("provider_contact", "note")),
    (ServiceReferralEvent, ("note",)),
)
_JSON_TEXT: tuple[tuple[type, tuple[str, ...]], ...] = (
    (PactRevision, ("content",)),
    (Screening, ("answers",)),
)


@dataclass(frozen=True)
class Erasure:
    beneficiary_id: int
    stored_files: list[str]  # the documents' files, to remove once the erasure is committed


@dataclass(frozen=True)
class ErasureCandidate:
    beneficiary_id: int
    full_name: str
    last_closed_at: datetime
    due_since: datetime  # when the retention period ran out


def may_erase_people(user: User) -> bool:
    return user.active and user.role == Role.SUPERVISOR


def erase_person(
    session: Session, user: User, beneficiary_id: int, *, reason: str, now: datetime, ip_address: str = "",
) -> Erasure | None:
    """Erase the person's identity and free text (see the module); None when `user` may not
    see them (the caller answers 404). Raises InvalidInput: reason required or too long,
    "open_pact" while a pact of theirs is open, "already_erased", "restricted" while the
    processing of their data is restricted."""
    if not may_erase_people(user):
        return None
    person = get_visible_beneficiary(session, user, beneficiary_id, now)
    if person is None:
        return None
    reason = recorded_reason(reason)
    if person.erased_at is not None:
        raise InvalidInput({"reason": "already_erased"})
    # A restricted record is kept as it is until the restriction is lifted (GDPR art. 18).
    if session.scalar(select(restricted_person(beneficiary_id))):
        raise InvalidInput({"reason": "restricted"})
    # Every pact, seen or not: a restricted case still open elsewhere is still being worked on.
    if session.scalar(select(Pact.id).where(Pact.beneficiary_id == beneficiary_id, Pact.closed_at.is_(None)).limit(1)):
        raise InvalidInput({"reason": "open_pact"})
    pact_ids = select(Pact.id).where(Pact.beneficiary_id == beneficiary_id).scalar_subquery()
    for model, columns in _FREE_TEXT:
        # The audit tables among them allow exactly this (casework.models.base.append_only_ddl).
        session.execute(update(model).where(model.pact_id.in_(pact_ids)).values({column: ERASED_TEXT for column in columns})
                        .execution_options(synchronize_session=False, **{ERASING_FREE_TEXT: True}))
    # An external équipe member keeps a place in the équipe (the row needs a name), not their name.
    session.execute(update(PactMember).where(PactMember.pact_id.in_(pact_ids), PactMember.user_id.is_(None))
                    .values(external_name=ERASED_TEXT, contact=ERASED_TEXT).execution_options(synchronize_session=False))
    for model, columns in _JSON_TEXT:
        session.execute(update(model).where(model.pact_id.in_(pact_ids))
                        .values({column: {} for column in columns}).execution_options(synchronize_session=False))
    session.execute(update(ChangeRecord).where(or_(
        and_(ChangeRecord.entity == "beneficiary", ChangeRecord.entity_id == beneficiary_id),
        and_(ChangeRecord.entity == "pact", ChangeRecord.entity_id.in_(pact_ids)),
    )).values(old_value=ERASED_TEXT, new_value=ERASED_TEXT).execution_options(synchronize_session=False, **{ERASING_FREE_TEXT: True}))
    documents = or_(Document.beneficiary_id == beneficiary_id, Document.pact_id.in_(pact_ids))
    stored_files = list(session.scalars(select(Document.stored_name).where(documents)))
    session.execute(delete(Document).where(documents).execution_options(synchronize_session=False))
    session.execute(delete(HouseholdMember).where(HouseholdMember.beneficiary_id == beneficiary_id)
                    .execution_options(synchronize_session=False))
    # Past restrictions of processing stay (when, by whom), not why: the reasons may name the person.
    session.execute(update(BeneficiaryRestriction).where(BeneficiaryRestriction.beneficiary_id == beneficiary_id)
                    .values(reason=ERASED_TEXT, lift_reason=ERASED_TEXT).execution_options(synchronize_session=False))
    session.expire(person, ["household"])
    person.first_name, person.last_name = "Persona", f"cancellata n. {beneficiary_id}"
    person.codice_fiscale = None
    person.birth_place = person.citizenship = person.address = person.phone = person.email = ""
    person.erased_at = now
    session.flush()
    log_access(session, user, "erase", "beneficiary", beneficiary_id, now=now, ip_address=ip_address,
               detail=f"erasure: {reason}")
    record_admin_change(session, actor=user, action="erase", subject_type="beneficiary",
                        subject_id=beneficiary_id, subject_label=f"persona n. {beneficiary_id}",
                        changes={"reason": [None, reason]}, now=now, ip_address=ip_address)
    return Erasure(beneficiary_id, stored_files)


def erasure_candidates(session: Session, user: User, *, now: datetime, limit: int = 200) -> list[ErasureCandidate]:
    """The people `user` sees whose every pact is closed and whose retention period (the
    longest among their pacts' programmes) has run out: a list to confirm, nothing erased.
    A person with any pact in a programme without a retention period is kept, and so is one
    whose processing is restricted."""
    if not may_erase_people(user):
        return []
    visible = visible_beneficiaries(user, now).with_only_columns(Beneficiary.id)
    closed = (
        select(Pact.beneficiary_id, func.max(Pact.closed_at).label("last_closed"),
               func.max(Programme.retention_months).label("months"),
               func.count(Pact.id).label("pacts"), func.count(Pact.closed_at).label("closed_pacts"),
               func.count(Programme.retention_months).label("with_retention"))
        .join(Programme, Programme.id == Pact.programme_id)
        .group_by(Pact.beneficiary_id).subquery()
    )
    rows = session.execute(
        select(Beneficiary.id, Beneficiary.first_name, Beneficiary.last_name, closed.c.last_closed, closed.c.months)
        .join(closed, closed.c.beneficiary_id == Beneficiary.id)
        .where(Beneficiary.erased_at.is_(None), Beneficiary.id.in_(visible), ~restricted_person(Beneficiary.id),
               closed.c.pacts == closed.c.closed_pacts, closed.c.pacts == closed.c.with_retention)
        .order_by(closed.c.last_closed, Beneficiary.id)
    ).all()
    found = []
    for beneficiary_id, first_name, last_name, last_closed, months in rows:
        due = last_closed + relativedelta(months=months)
        if due <= now:
            found.append(ErasureCandidate(beneficiary_id, f"{first_name} {last_name}", last_closed, due))
        if len(found) >= limit:
            break
    return found



def remove_stored_files(directory: Path, stored_names: list[str]) -> None:
    """The erased documents' files, once the erasure is committed (before, a refusal would leave
    rows pointing at nothing)."""
    for name in stored_names:
        if name and "/" not in name and not name.startswith("."):
            (directory / name).unlink(missing_ok=True)


ERASURE_TURN = "erasure-proposals"
PROPOSAL = N_("{count} people reached the end of their programme's retention period: review the list of people "
              "to erase and confirm each erasure.")


def propose_erasures(session: Session, *, now: datetime, holder: str) -> int:
    """Tell each supervisor, once, about the people they see whose retention period ran out
    since the last proposal: a notice pointing at the list, nobody erased. Returns how many
    supervisors were told. Commits."""
    previous = session.scalar(select(SchedulerLock.run_at).where(SchedulerLock.name == ERASURE_TURN))
    take_turn(session, ERASURE_TURN, holder, now)  # first write: one proposer at a time
    told = 0
    supervisors = session.scalars(select(User).where(User.role == Role.SUPERVISOR, User.active.is_(True)))
    for supervisor in supervisors.all():
        due = [candidate for candidate in erasure_candidates(session, supervisor, now=now)
               if previous is None or candidate.due_since > previous]
        if due:
            notify(session, supervisor, in_every_locale(LOCALES, PROPOSAL, count=len(due)), now=now)
            told += 1
    session.commit()
    return told
