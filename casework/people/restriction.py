"""Restricting the processing of a person's data (GDPR art. 18): the person contests their data,
objects, or needs it kept for a claim, and until that is settled their record is frozen.

The person's case manager or a supervisor who sees them restricts the record, with a reason; a
supervisor who sees them lifts the restriction, with a reason. Both are written to the access
and administrative logs. While a restriction is open nothing about the person or their pacts is
written (casework.security.record_freeze refuses it), reading and copying the data stay
allowed, their pacts' reminders wait (casework.reminders.sweep leaves them due, so they go out
once the restriction is lifted) and they cannot be erased (casework.people.erasure).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from casework.errors import InvalidInput
from casework.models import BeneficiaryRestriction, Role, User
from casework.people.subject_access import recorded_reason
from casework.security import get_visible_beneficiary, log_access, record_admin_change


@dataclass(frozen=True)
class Restriction:
    """An open restriction as a page shows it."""

    beneficiary_id: int
    restricted_at: datetime
    restricted_by: str
    reason: str


def may_restrict_processing(user: User) -> bool:
    return user.active and user.role in (Role.CASE_MANAGER, Role.SUPERVISOR)


def may_lift_restrictions(user: User) -> bool:
    return user.active and user.role == Role.SUPERVISOR


def restricted_person(beneficiary_id_column):
    """A condition on a query's person column: their processing is restricted now."""
    return exists().where(BeneficiaryRestriction.beneficiary_id == beneficiary_id_column,
                          BeneficiaryRestriction.lifted_at.is_(None))


def current_restriction(session: Session, beneficiary_id: int) -> Restriction | None:
    """The person's open restriction, if any (the caller has checked they may see the person)."""
    row = session.execute(
        select(BeneficiaryRestriction.restricted_at, BeneficiaryRestriction.reason, User.full_name)
        .join(User, User.id == BeneficiaryRestriction.restricted_by_id)
        .where(BeneficiaryRestriction.beneficiary_id == beneficiary_id, BeneficiaryRestriction.lifted_at.is_(None))
    ).one_or_none()
    if row is None:
        return None
    return Restriction(beneficiary_id, row.restricted_at, row.full_name, row.reason)


def restrict_processing(
    session: Session, user: User, beneficiary_id: int, *, reason: str, now: datetime, ip_address: str = "",
) -> BeneficiaryRestriction | None:
    """Freeze the person's record; None when `user` may not see them or may not restrict (the
    caller answers 404). Raises InvalidInput({"reason": ...}): "required", "too_long",
    "already_restricted", "erased"."""
    if not may_restrict_processing(user):
        return None
    person = get_visible_beneficiary(session, user, beneficiary_id, now)
    if person is None:
        return None
    reason = recorded_reason(reason)
    if person.erased_at is not None:
        raise InvalidInput({"reason": "erased"})
    if current_restriction(session, beneficiary_id) is not None:
        raise InvalidInput({"reason": "already_restricted"})
    # The logs first: on SQLite their INSERT opens the transaction the savepoint below nests in
    # (a savepoint sent first would open one of its own, and releasing it would commit).
    log_access(session, user, "restrict", "beneficiary", beneficiary_id, now=now, ip_address=ip_address,
               detail=f"restriction of processing: {reason}")
    record_admin_change(session, actor=user, action="restrict_processing", subject_type="beneficiary",
                        subject_id=beneficiary_id, subject_label=f"persona n. {beneficiary_id}",
                        changes={"reason": [None, reason]}, now=now, ip_address=ip_address)
    session.flush()
    restriction = BeneficiaryRestriction(beneficiary_id=beneficiary_id, restricted_at=now, restricted_by_id=user.id,
                                         reason=reason)
    try:
        # Two people restricting at once: the unique index on open restrictions keeps one.
        with session.begin_nested():
            session.add(restriction)
            session.flush()
    except IntegrityError:
        raise InvalidInput({"reason": "already_restricted"}) from None
    return restriction


def lift_restriction(
    session: Session, user: User, beneficiary_id: int, *, reason: str, now: datetime, ip_address: str = "",
) -> BeneficiaryRestriction | None:
    """End the person's open restriction; None when `user` is not a supervisor who sees them
    (the caller answers 404). Raises InvalidInput({"reason": ...}): "required", "too_long",
    "not_restricted"."""
    if not may_lift_restrictions(user):
        return None
    person = get_visible_beneficiary(session, user, beneficiary_id, now)
    if person is None:
        return None
    reason = recorded_reason(reason)
    restriction = session.scalars(
        select(BeneficiaryRestriction).where(BeneficiaryRestriction.beneficiary_id == beneficiary_id,
                                             BeneficiaryRestriction.lifted_at.is_(None))
        .with_for_update()
    ).one_or_none()
    if restriction is None:
        raise InvalidInput({"reason": "not_restricted"})
    restriction.lifted_at, restriction.lifted_by_id, restriction.lift_reason = now, user.id, reason
    session.flush()
    log_access(session, user, "lift_restriction", "beneficiary", beneficiary_id, now=now, ip_address=ip_address,
               detail=f"restriction of processing lifted: {reason}")
    record_admin_change(session, actor=user, action="lift_restriction", subject_type="beneficiary",
                        subject_id=beneficiary_id, subject_label=f"persona n. {beneficiary_id}",
                        changes={"reason": [restriction.reason, reason]}, now=now, ip_address=ip_address)
    return restriction
