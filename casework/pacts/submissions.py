"""A form sent twice saves once: the one-time key a form carries, checked where a record is added.

A page puts a new key (a UUID) in the form each time it shows it; the record keeps the key in a
unique column, so the same form sent again finds what it already wrote.
"""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from casework.errors import InvalidInput
from casework.models import FollowUpContact, JournalEntry, Pact

Submitted = TypeVar("Submitted", JournalEntry, FollowUpContact)


def already_submitted(session: Session, model: type[Submitted], pact: Pact, key: str) -> Submitted | None:
    found = session.scalar(select(model).where(model.submission_key == key))
    if found is not None and found.pact_id != pact.id:
        raise InvalidInput({"submission_key": "used_elsewhere"})
    return found


def insert_once(session: Session, record: Submitted, model: type[Submitted], pact: Pact, key: str | None) -> Submitted:
    """Add `record`, or return the one its form's `key` already wrote.

    Two clicks send two requests at once: both may miss the other's row when they look, so the
    unique key decides. The insert runs in a savepoint; the loser finds the winner's row (on
    PostgreSQL its insert waits for the winner's commit, on SQLite its write waits for the lock).
    """
    if not key:
        session.add(record)
        session.flush()
        return record
    _begin_for_savepoint(session)
    try:
        with session.begin_nested():
            session.add(record)
            session.flush()
    except IntegrityError:
        written = already_submitted(session, model, pact, key)
        if written is None:
            raise
        return written
    return record


def _begin_for_savepoint(session: Session) -> None:
    """On SQLite, open the transaction before the savepoint.

    The sqlite3 driver begins a transaction only at the first INSERT or UPDATE; a SAVEPOINT
    sent before that opens one of its own, and releasing it commits, so a later refusal (a
    conflict on the pact's version) could no longer undo the row. An explicit BEGIN keeps the
    savepoint nested in the request's transaction.
    """
    connection = session.connection()
    if connection.dialect.name == "sqlite" and not connection.connection.dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN")
