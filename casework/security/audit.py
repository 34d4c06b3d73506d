"""The access log and the edit history: what the Garante expects an administrator to keep."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from casework.db import fit_to_column
from casework.models import AccessLogEntry, ChangeRecord, User
from casework.security.access import covered_colleagues

_INSERT_ACCESS = insert(AccessLogEntry.__table__)


def log_access(
    session: Session, user: User | None, action: str, subject_type: str, subject_id: int | None, *,
    now: datetime, ip_address: str = "", detail: str = "", covered: list[str] | None = None,
) -> None:
    """Record that `user` viewed, downloaded, printed or exported a person's data.

    When `user` sees a pact or a person only as cover for an absent colleague, the detail says
    so ("cover for <username>"). `covered`: those colleagues as `covered_colleagues` found them
    for this very data version and day (a kept page knows them); looked up when not given."""
    if user is not None:
        if covered is None:
            covered = covered_colleagues(session, user, subject_type=subject_type, subject_id=subject_id, now=now)
        if covered:
            detail = " ".join(part for part in (detail, "cover for " + ", ".join(covered)) if part)
    # One INSERT statement, not an object for the unit of work: every viewing of a record writes
    # one, and nothing reads it back in the same request.
    # The table's own INSERT with parameters: the ORM's bulk path and a statement built anew
    # each time would cost more than the database does.
    session.execute(_INSERT_ACCESS, {
        "at": now, "user_id": user.id if user else None, "action": action, "subject_type": subject_type,
        "subject_id": subject_id, "detail": fit_to_column(AccessLogEntry.detail, detail),
        "ip_address": fit_to_column(AccessLogEntry.ip_address, ip_address),
    })


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


def record_changes(
    session: Session, entity: str, entity_id: int, before: Mapping[str, Any], after: Mapping[str, Any], *,
    actor: User | None, now: datetime,
) -> list[ChangeRecord]:
    """One ChangeRecord per field whose value differs between `before` and `after`."""
    records = [
        ChangeRecord(entity=entity, entity_id=entity_id, field=field, old_value=_text(before.get(field)),
                     new_value=_text(value), at=now, actor_id=actor.id if actor else None)
        for field, value in after.items()
        if _text(before.get(field)) != _text(value)
    ]
    session.add_all(records)
    return records
