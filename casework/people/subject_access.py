"""A copy of everything Casework holds about a person (GDPR art. 15 and 20), for the person's
case manager or a supervisor who sees the record, with the reason recorded.

"Everything" is read from the schema, not from a list kept by hand: every row of every table
that points at the person (household, documents, consents, pacts) or at one of their pacts
(referral, screening, goals, actions, contacts, outcome, moves, referrals to services...), the
edit history of the person and of their pacts, and who accessed the record when. A table added
tomorrow with a reference to the person or to a pact is in the copy without anyone remembering
to add it. Internal plumbing that says nothing about the person (reminders queued, mail sent to
staff, deadline bookkeeping) is left out by name.

A fixed number of queries whatever the person's history: one per table.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, and_, or_, select
from sqlalchemy.orm import Session

from casework.errors import InvalidInput
from casework.models import Base, Beneficiary, ChangeRecord, Pact, Role, User
from casework.security import (
    AccessHistoryRow,
    every_access,
    get_visible_beneficiary,
    log_access,
    visible_pacts,
)

MAX_REASON = 500
# Rows about the staff's work rather than the person, or kept elsewhere in the copy (the access log).
LEFT_OUT = frozenset({
    "access_log_entry", "administrative_log_entry", "notification", "outbound_email", "reminder",
    "deadline_refresh", "pact_deadline", "deadline_anchor_move",
})


@dataclass(frozen=True)
class DossierSection:
    table: str  # the table the rows come from: the section's stable key
    rows: list[dict[str, Any]]  # column -> value as text, number or None
    # The same rows as read (dates, enums...), in the table's column order: for the readable copy.
    values: list[tuple[Any, ...]] = field(default_factory=list, compare=False, repr=False)


@dataclass(frozen=True)
class Dossier:
    beneficiary_id: int
    full_name: str
    produced_at: datetime
    produced_by: str
    reason: str
    sections: list[DossierSection]
    accesses: list[AccessHistoryRow]

    def as_json(self) -> dict[str, Any]:
        return {
            "beneficiary_id": self.beneficiary_id, "full_name": self.full_name,
            "produced_at": self.produced_at.isoformat(), "produced_by": self.produced_by, "reason": self.reason,
            "data": {section.table: section.rows for section in self.sections},
            "accesses": [{
                "at": row.at.isoformat(), "who": row.who, "username": row.username, "action": row.action,
                "subject_type": row.subject_type, "subject_id": row.subject_id, "detail": row.detail,
                "ip_address": row.ip_address,
            } for row in self.accesses],
        }


def recorded_reason(reason: str) -> str:
    """Why a person's data is copied or erased, as the logs keep it: on one line, required,
    at most MAX_REASON characters (InvalidInput({"reason": ...}) otherwise)."""
    reason = " ".join(reason.split())
    if not reason:
        raise InvalidInput({"reason": "required"})
    if len(reason) > MAX_REASON:
        raise InvalidInput({"reason": "too_long"})
    return reason


def may_copy_person_data(user: User) -> bool:
    return user.active and user.role in (Role.CASE_MANAGER, Role.SUPERVISOR)


def person_dossier(
    session: Session, user: User, beneficiary_id: int, *, reason: str, now: datetime, ip_address: str = "",
) -> Dossier | None:
    """Everything held about the person, or None when `user` may not see them (the caller
    answers 404). Raises InvalidInput({"reason": ...}) without a reason. The copy is logged as
    an export, with its reason, in the caller's transaction."""
    if not may_copy_person_data(user):
        return None
    person = get_visible_beneficiary(session, user, beneficiary_id, now)
    if person is None:
        return None
    reason = recorded_reason(reason)
    # The pacts the reader may see: a restricted case stays with the people assigned to it.
    pact_ids = list(session.scalars(visible_pacts(user, now).where(Pact.beneficiary_id == beneficiary_id)
                                    .with_only_columns(Pact.id).order_by(Pact.id)))
    person_row = session.execute(select(Beneficiary.__table__).where(Beneficiary.id == beneficiary_id)).one()
    pact_rows = session.execute(select(Pact.__table__).where(Pact.id.in_(pact_ids)).order_by(Pact.id)).all()
    sections = [_section(Beneficiary.__table__, [person_row]), _section(Pact.__table__, pact_rows)]
    for table in _tables_about(("beneficiary", "pact")):
        condition = _about(table, beneficiary_id, pact_ids)
        if condition is None:
            continue
        rows = session.execute(select(table).where(condition).order_by(*table.primary_key.columns)).all()
        if rows:
            sections.append(_section(table, rows))
    changes = session.execute(select(ChangeRecord.__table__).where(or_(
        and_(ChangeRecord.entity == "beneficiary", ChangeRecord.entity_id == beneficiary_id),
        and_(ChangeRecord.entity == "pact", ChangeRecord.entity_id.in_(pact_ids)),
    )).order_by(ChangeRecord.at, ChangeRecord.id)).all()
    if changes:
        sections.append(_section(ChangeRecord.__table__, changes))
    accesses = every_access(session, user, beneficiary_id, now)
    log_access(session, user, "export", "beneficiary", beneficiary_id, now=now, ip_address=ip_address,
               detail=f"copy of the person's data: {reason}")
    return Dossier(beneficiary_id, person.full_name, now, user.full_name, reason, sections, accesses)


def _tables_about(targets: tuple[str, ...]) -> list[Table]:
    found = []
    for table in Base.metadata.sorted_tables:
        if table.name in LEFT_OUT or table.name in targets:
            continue
        if any(key.column.table.name in targets for key in table.foreign_keys):
            found.append(table)
    return found


def _about(table: Table, beneficiary_id: int, pact_ids: list[int]):
    conditions = []
    for key in table.foreign_keys:
        target = key.column.table.name
        if target == "beneficiary":
            # A row of the person's that hangs on a pact the reader may not see stays out with it.
            pact_columns = [other.parent for other in table.foreign_keys if other.column.table.name == "pact"]
            conditions.append(and_(key.parent == beneficiary_id,
                                   *(or_(column.is_(None), column.in_(pact_ids)) for column in pact_columns)))
        elif target == "pact" and pact_ids:
            conditions.append(key.parent.in_(pact_ids))
    return or_(*conditions) if conditions else None


def _section(table: Table, rows: Any) -> DossierSection:
    return DossierSection(table.name, [_values(table, row) for row in rows], [tuple(row) for row in rows])


def _values(table: Table, row: Any) -> dict[str, Any]:
    return {column.name: _plain(value) for column, value in zip(table.columns, row, strict=True)}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return value
