"""One scheduler write transaction at a time, across every scheduler process, on both databases."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from casework.db import fit_to_column
from casework.models import SchedulerLock


def take_turn(session: Session, name: str, holder: str, now: datetime) -> None:
    """Open the session's transaction by writing the lock row `name`; blocks while another holds it.

    Call it first in the transaction. SQLite: a transaction whose first statement writes
    holds the database's write lock from the start (what BEGIN IMMEDIATE does), so no other
    writer can slip in between this transaction's reads and its writes. PostgreSQL: the row
    lock serialises every transaction that takes the same turn until it commits. Both locks
    are released by commit, rollback, or the death of the process that held them.
    """
    stamp = update(SchedulerLock).where(SchedulerLock.name == name).values(
        holder=fit_to_column(SchedulerLock.holder, holder), run_at=now
    )
    if session.execute(stamp).rowcount == 1:
        return
    session.execute(_insert_ignoring_conflict(session, name))
    session.execute(stamp)


def _insert_ignoring_conflict(session: Session, name: str):
    dialect = session.get_bind().dialect.name
    values = {"name": name, "holder": ""}
    if dialect == "postgresql":
        return postgresql_insert(SchedulerLock).values(values).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite_insert(SchedulerLock).values(values).on_conflict_do_nothing()
    return insert(SchedulerLock).values(values)
