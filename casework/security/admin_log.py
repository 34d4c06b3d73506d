"""Writing and reading the administrative log: every change to accounts, roles, territories,
organisations, programmes and settings, append-only (the Garante's rule on administrators' logs)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from casework.db import fit_to_column
from casework.models import AdministrativeLogEntry, User


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[str | None]]:
    """{field: [old, new]} for each field of `after` whose value differs from `before`, as text."""
    return {
        field: [_text(before.get(field)), _text(value)]
        for field, value in after.items()
        if _text(before.get(field)) != _text(value)
    }


def record_admin_change(
    session: Session, *, actor: User | None, action: str, subject_type: str, subject_id: int | None,
    subject_label: str, changes: Mapping[str, list[str | None]] | None = None, now: datetime,
    ip_address: str = "",
) -> AdministrativeLogEntry:
    """Add one entry to the administrative log, in the caller's transaction.

    `changes` is what `changed_fields` gives (secrets such as password hashes are never passed:
    say "password": [None, "changed"] instead). `actor` is None for the command line's installer.
    """
    entry = AdministrativeLogEntry(
        at=now, actor_id=actor.id if actor else None, action=action, subject_type=subject_type,
        subject_id=subject_id, subject_label=fit_to_column(AdministrativeLogEntry.subject_label, subject_label),
        changes=dict(changes or {}), ip_address=fit_to_column(AdministrativeLogEntry.ip_address, ip_address),
    )
    session.add(entry)
    return entry


@dataclass(frozen=True)
class AdminLogFilters:
    actor_id: int | None = None
    subject_type: str | None = None
    start: datetime | None = None  # aware, inclusive
    end: datetime | None = None  # aware, exclusive


@dataclass(frozen=True)
class AdminLogPage:
    entries: list[AdministrativeLogEntry]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def admin_log(session: Session, filters: AdminLogFilters, *, page: int = 1, per_page: int = 50) -> AdminLogPage:
    """Entries newest first, filtered; the count from one aggregate, the page from one query."""
    conditions = []
    if filters.actor_id is not None:
        conditions.append(AdministrativeLogEntry.actor_id == filters.actor_id)
    if filters.subject_type:
        conditions.append(AdministrativeLogEntry.subject_type == filters.subject_type)
    if filters.start is not None:
        conditions.append(AdministrativeLogEntry.at >= filters.start)
    if filters.end is not None:
        conditions.append(AdministrativeLogEntry.at < filters.end)
    total = session.scalar(select(func.count()).select_from(AdministrativeLogEntry).where(*conditions)) or 0
    entries = list(session.scalars(
        select(AdministrativeLogEntry).where(*conditions).options(joinedload(AdministrativeLogEntry.actor))
        .order_by(AdministrativeLogEntry.at.desc(), AdministrativeLogEntry.id.desc())
        .limit(per_page).offset((max(page, 1) - 1) * per_page)
    ))
    return AdminLogPage(entries, total, max(page, 1), per_page)
