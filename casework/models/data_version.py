"""The version of the case data: one counter that every transaction changing case data moves.

Figures computed from many rows (the indicators, the caseload overview) are kept per process
under the version they were computed at (casework.figure_cache), and are computed again as
soon as the version moves. The counter moves in the same transaction as the change, right
before it commits (`before_commit`), so a reader that sees the new version also sees the
change, and the row is locked only for the instant of the commit: taking it at the first
write would make two transactions that update pacts in different orders deadlock on it.

Every ORM session counts: a flush that writes a row of any table except those below, and any
INSERT, UPDATE or DELETE statement sent through a session or through the connection it holds
(the engine's hot path moves a pact with a statement of its own), marks the transaction. What the
tables below hold feeds no cached figure, and they are written on every page view or
scheduler tick (sessions, access log, read notifications, mail, the scheduler's lock):
counting them would make every cache useless.

`token` is drawn when the row is first written: a database emptied and filled again (a
restore, the tests) starts a new series of versions that no cached figure can be taken for.
"""

from __future__ import annotations

import secrets
import weakref
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Engine,
    ScalarSelect,
    String,
    TextClause,
    event,
    inspect,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column
from sqlalchemy.sql.dml import UpdateBase

from casework.models.base import Base

DATA_VERSION_ID = 1
QUIET_TABLES = frozenset({
    "user_session", "login_attempt", "access_log_entry", "notification", "outbound_email", "scheduler_lock",
    "deadline_refresh", "reminder", "calendar_feed_token", "account_token", "password_reset_request",
    "administrative_log_entry", "data_version",
})
# Columns written by signing in: a sign-in changes no figure.
QUIET_COLUMNS = {"user_account": frozenset({"last_sign_in_at", "password_hash"})}
_CHANGED = "casework_data_changed"
_HOLDER = "casework_session"  # in a connection's info: the session holding it
_FLUSHING = "casework_flushing"  # a flush's own statements are judged row by row (after_flush)
_NOTED = "casework_data_version"  # the version this transaction read along with another query


class DataVersion(Base):
    __tablename__ = "data_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(BigInteger)


# On the table, not the entity: read at every kept page, the ORM's handling of the select
# would cost more than the database does.
_CURRENT = select(DataVersion.__table__.c.token, DataVersion.__table__.c.version).where(
    DataVersion.__table__.c.id == DATA_VERSION_ID)


def current_data_version(session: Session) -> tuple[str, int] | None:
    """(token, version) as this transaction sees it; None before any change was ever counted."""
    if _NOTED in session.info:
        return session.info[_NOTED]
    row = session.execute(_CURRENT).one_or_none()
    return (row.token, row.version) if row is not None else None


def data_version_columns() -> tuple[ScalarSelect[Any], ScalarSelect[Any]]:
    """The token and the version as two columns of another query, for `note_data_version`."""
    table = DataVersion.__table__
    return (select(table.c.token).where(table.c.id == DATA_VERSION_ID).scalar_subquery(),
            select(table.c.version).where(table.c.id == DATA_VERSION_ID).scalar_subquery())


def note_data_version(session: Session, token: str | None, version: int | None) -> None:
    """The version read by this transaction along with another query (`data_version_columns`):
    `current_data_version` answers it until the transaction ends, without a round trip of its
    own. Read at the start of a request, it is older than or the same as what the request reads
    after it, so a figure kept under it is still never older than its version."""
    session.info[_NOTED] = (token, version) if token is not None and version is not None else None


def has_uncounted_changes(session: Session) -> bool:
    """Whether this transaction changed case data, or holds changes not flushed yet: what it reads
    is then its own, not what the current version stands for."""
    return bool(session.info.get(_CHANGED) or session.new or session.deleted or session.dirty)


def _table_name(target: Any) -> str | None:
    table = getattr(target, "__table__", None)
    return getattr(table, "name", None)


def _counts(target: Any, *, updated: bool) -> bool:
    table = _table_name(target)
    if table in QUIET_TABLES:
        return False
    if not updated or table not in QUIET_COLUMNS:
        return True
    changed = {attribute.key for attribute in inspect(target).attrs if attribute.history.has_changes()}
    return bool(changed - QUIET_COLUMNS[table])


@event.listens_for(Session, "after_flush")
def _note_flushed_changes(session: Session, _context: Any) -> None:
    if session.info.get(_CHANGED):
        return
    if any(_counts(row, updated=False) for row in (*session.new, *session.deleted)) or any(
        _counts(row, updated=True) for row in session.dirty if session.is_modified(row)
    ):
        session.info[_CHANGED] = True


def _changes_case_data(statement: Any) -> bool:
    if isinstance(statement, UpdateBase):
        return getattr(getattr(statement, "table", None), "name", None) not in QUIET_TABLES
    return isinstance(statement, TextClause) and not statement.text.lstrip().lower().startswith(("select", "with"))


@event.listens_for(Session, "do_orm_execute")
def _note_statement_changes(state: ORMExecuteState) -> None:
    if _changes_case_data(state.statement):
        state.session.info[_CHANGED] = True


@event.listens_for(Session, "after_begin")
def _hold_connection(session: Session, _transaction: Any, connection: Connection) -> None:
    connection.info[_HOLDER] = weakref.ref(session)


@event.listens_for(Session, "before_flush")
def _flush_starts(session: Session, *_args: Any) -> None:
    session.info[_FLUSHING] = True


@event.listens_for(Session, "after_flush_postexec")
def _flush_ends(session: Session, _context: Any) -> None:
    session.info.pop(_FLUSHING, None)


@event.listens_for(Engine, "before_execute")
def _note_connection_changes(connection: Connection, statement: Any, *_args: Any) -> None:
    holder = connection.info.get(_HOLDER)
    session = holder() if holder is not None else None
    if (session is not None and not session.info.get(_FLUSHING) and session.in_transaction()
            and _changes_case_data(statement)):
        session.info[_CHANGED] = True


@event.listens_for(Session, "before_commit")
def _move_version(session: Session) -> None:
    if session.in_nested_transaction():
        # A savepoint released (before_commit fires for those too): the enclosing transaction
        # moves the version when it commits. Taking the row lock here would hold it while that
        # transaction goes on to update pacts, a deadlock with one waiting for the version.
        return
    if session.new or session.deleted or session.dirty:
        session.flush()  # commit flushes only after this event: note what is still pending
    if not session.info.pop(_CHANGED, False):
        return
    bumped = session.execute(
        update(DataVersion).where(DataVersion.id == DATA_VERSION_ID).values(version=DataVersion.version + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not bumped:
        insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        statement = insert(DataVersion).values(id=DATA_VERSION_ID, token=secrets.token_hex(16), version=1)
        session.execute(statement.on_conflict_do_update(
            index_elements=[DataVersion.id], set_={"version": DataVersion.version + 1}))


@event.listens_for(Session, "after_transaction_end")
def _forget_noted_version(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # committed, rolled back or closed: the next one reads its own
        session.info.pop(_NOTED, None)


@event.listens_for(Session, "after_rollback")
def _forget_changes(session: Session) -> None:
    session.info.pop(_CHANGED, None)
    session.info.pop(_FLUSHING, None)  # a flush that failed ends here
