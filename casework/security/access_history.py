"""The access history of a person: who viewed, printed, exported or downloaded their data, when
and from which address, read from the access log (GDPR art. 15: the person may ask; the Garante
expects it to be answerable).

An entry belongs to a person's history when its subject is the person, one of their pacts, or a
document of theirs or of one of those pacts. Who reads it, and which pacts' entries they read,
is decided by casework.security.access (`can_read_access_history`, `access_history_pacts`).
Aggregate exports (a list of pacts, a funder report) name no person and are not in any one
person's history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, joinedload

from casework.models import AccessLogEntry, Beneficiary, Document, Role, User
from casework.security.access import (
    access_history_pacts,
    can_read_access_history,
    get_visible_beneficiary,
)
from casework.security.audit import log_access

PER_PAGE = 50


@dataclass(frozen=True)
class AccessHistoryRow:
    at: datetime  # UTC
    who: str  # full name, or "" when no user (an entry written without one)
    username: str
    action: str  # view, print, export, download
    subject_type: str  # beneficiary, pact, document
    subject_id: int | None
    detail: str
    ip_address: str


@dataclass(frozen=True)
class AccessHistory:
    beneficiary_id: int
    # The person, for a reader who sees their record; None for an administrator, who sees no case data.
    beneficiary: Beneficiary | None
    rows: list[AccessHistoryRow]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _about_person(user: User, beneficiary_id: int, now: datetime):
    pacts = access_history_pacts(user, beneficiary_id, now)
    documents = select(Document.id).where(or_(
        and_(Document.beneficiary_id == beneficiary_id, Document.pact_id.is_(None)), Document.pact_id.in_(pacts),
    ))
    return or_(
        and_(AccessLogEntry.subject_type == "beneficiary", AccessLogEntry.subject_id == beneficiary_id),
        and_(AccessLogEntry.subject_type == "pact", AccessLogEntry.subject_id.in_(pacts)),
        and_(AccessLogEntry.subject_type == "document", AccessLogEntry.subject_id.in_(documents)),
    )


def _row(entry: AccessLogEntry, *, case_data: bool) -> AccessHistoryRow:
    # A download's detail names the file ("pact 3: referto.pdf"): case data, not for administrators.
    detail = entry.detail if case_data or entry.subject_type != "document" else ""
    return AccessHistoryRow(
        at=entry.at, who=entry.user.full_name if entry.user else "", username=entry.user.username if entry.user else "",
        action=entry.action, subject_type=entry.subject_type, subject_id=entry.subject_id, detail=detail,
        ip_address=entry.ip_address,
    )


def every_access(session: Session, user: User, beneficiary_id: int, now: datetime) -> list[AccessHistoryRow]:
    """The person's whole access history, oldest first, as `user` may read it (the pacts they
    see): what a copy of the person's data carries. The caller checks that `user` may read it."""
    entries = session.scalars(
        select(AccessLogEntry).where(_about_person(user, beneficiary_id, now)).options(joinedload(AccessLogEntry.user))
        .order_by(AccessLogEntry.at, AccessLogEntry.id)
    )
    return [_row(entry, case_data=True) for entry in entries]


def access_history(
    session: Session, user: User, beneficiary_id: int, *, page: int = 1, now: datetime, ip_address: str = "",
    per_page: int = PER_PAGE,
) -> AccessHistory | None:
    """One page of the person's access history, newest first, or None when `user` may not read
    it (the caller answers 404). Reading it is itself an access, written to the log in the
    caller's transaction after the page is read. A fixed number of queries whatever the page holds."""
    if not can_read_access_history(session, user, beneficiary_id, now):
        return None
    beneficiary = None if user.role == Role.ADMIN else get_visible_beneficiary(session, user, beneficiary_id, now)
    about = _about_person(user, beneficiary_id, now)
    page = max(page, 1)
    total = session.scalar(select(func.count()).select_from(AccessLogEntry).where(about)) or 0
    entries = session.scalars(
        select(AccessLogEntry).where(about).options(joinedload(AccessLogEntry.user))
        .order_by(AccessLogEntry.at.desc(), AccessLogEntry.id.desc())
        .limit(per_page).offset((page - 1) * per_page)
    )
    rows = [_row(entry, case_data=beneficiary is not None) for entry in entries]
    log_access(session, user, "view", "beneficiary", beneficiary_id, now=now, ip_address=ip_address,
               detail="access history")
    return AccessHistory(beneficiary_id, beneficiary, rows, total, page, per_page)
