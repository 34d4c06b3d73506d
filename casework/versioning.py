"""Optimistic locking, one way for every record a person edits from a form they read earlier.

A form carries the version of the record it showed. An operation checks it (`check_version`)
and marks the record changed (`touch`), which writes `UPDATE ... SET version = read + 1 WHERE
version = read`; a write that matches no row means someone saved first, and becomes the
record's Conflict (casework.errors): nothing is overwritten, the caller rolls back.

`touch` writes the bump at once, inside the guard. Left pending, it would be flushed by the
next lazy load or query of the operation (SQLAlchemy autoflushes before reading), and
SQLAlchemy's StaleDataError would escape from that unrelated line instead of a Conflict.
`flush_checked` guards the operation's last write; `stale_data_as_conflict` turns one that
escapes anyway (from a commit, say) into a Conflict. Records without a version column
(programmes) compare a fingerprint of the values read instead (`check_fingerprint`).

The core never commits; this module knows SQLAlchemy and the errors, nothing of the web.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, object_session
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from casework.errors import BeneficiaryConflict, Conflict, PactConflict, ProgrammeConflict

# The conflict each versioned table raises; any other table raises the generic Conflict.
_CONFLICTS: dict[str, type[Conflict]] = {
    "pact": PactConflict,
    "beneficiary": BeneficiaryConflict,
    "programme": ProgrammeConflict,
}
_STALE_TABLE = re.compile(r"on table '([^']+)'")


def conflict_type(record: Any) -> type[Conflict]:
    return _CONFLICTS.get(getattr(record, "__tablename__", ""), Conflict)


def conflict_from(error: StaleDataError) -> Conflict:
    """The Conflict a StaleDataError means, when the record it failed on is not at hand."""
    table = _STALE_TABLE.search(str(error))
    return _CONFLICTS.get(table.group(1) if table else "", Conflict)(None)


def check_version(record: Any, expected_version: int | None) -> None:
    """Raise the record's Conflict if it is no longer the version the caller read (None: no check)."""
    if expected_version is not None and record.version != expected_version:
        raise conflict_type(record)(record.id, expected_version, record.version)


@contextmanager
def stale_data_as_conflict(record: Any = None, read_version: int | None = None) -> Iterator[None]:
    """Turn a write that matched no row (StaleDataError) inside the block into a Conflict."""
    # Read before writing: after a failed flush the session refuses attribute loads.
    record_id = None if record is None else record.id
    if read_version is None and record is not None:
        read_version = record.version
    try:
        yield
    except StaleDataError as error:
        if record is None:
            raise conflict_from(error) from None
        raise conflict_type(record)(record_id, read_version) from None


def flush_checked(session: Session, record: Any, expected_version: int | None) -> None:
    """Flush the operation's changes; a concurrent save of `record` raises its Conflict."""
    with stale_data_as_conflict(record, expected_version):
        session.flush()


def touch(record: Any, expected_version: int | None, now: datetime) -> None:
    """Check the caller edits what it read, mark the record changed (its version moves) and write it.

    Whatever else the operation changed on the record should be set before, so one UPDATE
    writes it all and the version moves by one.
    """
    check_version(record, expected_version)
    record.updated_at = now
    # Even at the same instant as the last save the row must be written, or its version would not move.
    flag_modified(record, "updated_at")
    session = object_session(record)
    if session is not None:
        flush_checked(session, record, expected_version)


def fingerprint(values: Mapping[str, Any]) -> str:
    """A digest of the values a form showed, for records without a version column."""
    return hashlib.sha256(json.dumps(values, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def check_fingerprint(record: Any, read_fingerprint: str | None, stored_fingerprint: str) -> None:
    """Raise the record's Conflict if its values changed since they were read (None: no check).

    Only meaningful with the row locked first, so nobody can save between this and the write.
    """
    if read_fingerprint is not None and read_fingerprint != stored_fingerprint:
        raise conflict_type(record)(record.id)
