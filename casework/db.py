"""Engine and session factory; SQLite gets the pragmas a multi-process web app needs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker


@dataclass(frozen=True)
class Timeouts:
    """How long a database session may wait or hold on, in seconds (0: no limit).

    A process frozen mid-transaction (SIGSTOP, a network partition) must not block the others
    for ever. PostgreSQL: a statement waits at most `lock` for a row or table lock
    (lock_timeout), runs at most `statement` (statement_timeout), and the server ends a
    session left idle inside a transaction for `idle_in_transaction` (which releases its
    locks). SQLite has no server to end a frozen holder's transaction: a writer waits `lock`
    (busy_timeout) and then fails; what the holder writes is kept small (the scheduler commits
    every batch), and the web answers "busy, try again" (is_busy).
    """

    lock: int = 10
    statement: int = 0
    idle_in_transaction: int = 0

    @classmethod
    def from_settings(cls, settings: Any, *, scheduler: bool = False) -> Timeouts:
        return cls(lock=settings.db_lock_timeout_seconds, statement=settings.db_statement_timeout_seconds,
                   idle_in_transaction=settings.db_idle_in_transaction_seconds if scheduler else 0)


# SQLSTATEs of a wait or a statement cut short by the timeouts above, and of a deadlock.
_BUSY_SQLSTATES = {"55P03", "57014", "40P01", "25P03"}


def is_busy(error: BaseException) -> bool:
    """The database was busy (a lock held too long by someone else): trying again may work."""
    if not isinstance(error, OperationalError):
        return False
    original = error.orig
    if getattr(original, "sqlstate", None) in _BUSY_SQLSTATES:
        return True
    return "database is locked" in str(original) or "database table is locked" in str(original)


def _sqlite_pragmas(busy_ms: int) -> Callable[[Any, Any], None]:
    def pragmas(dbapi_connection: Any, connection_record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        # WAL lets readers proceed while a writer commits; busy_timeout makes writers queue
        # instead of failing at once when the web process and the scheduler write together.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
        # FULL: in WAL mode NORMAL may lose the last committed transactions on power loss, and a
        # recorded decision about a person must not silently disappear.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    return pragmas


def make_engine(url: str, timeouts: Timeouts | None = None, *, read_only: bool = False, **kwargs: Any) -> Engine:
    """`read_only`: every transaction refuses writes (a replica's engine, `make_read_engine`)."""
    timeouts = timeouts or Timeouts()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas(timeouts.lock * 1000))
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    # Startup options: set before the first statement, kept for the session's life, and unlike a
    # SET they do not stay behind on a server connection PgBouncer hands to another client
    # (it needs `track_extra_parameters` or the role settings, docs/deployment.md).
    settings = [f"{name}={seconds * 1000}" for name, seconds in (
        ("lock_timeout", timeouts.lock), ("statement_timeout", timeouts.statement),
        ("idle_in_transaction_session_timeout", timeouts.idle_in_transaction)) if seconds]
    # No JIT: PostgreSQL compiles a query it estimates costly to machine code, and at 100,000
    # pacts spent a second compiling a search answered in 40 ms; our queries are short ones.
    settings.append("jit=off")
    if read_only:
        settings.append("default_transaction_read_only=on")
    options = " ".join(f"-c {setting}" for setting in settings)
    if options:
        connect_args = dict(kwargs.pop("connect_args", {}))
        connect_args["options"] = f"{connect_args.get('options', '')} {options}".strip()
        kwargs["connect_args"] = connect_args
    return create_engine(url, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    # expire_on_commit=False: objects stay readable after a unit of work, e.g. to render.
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def unit_of_work(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commits if the block succeeds, rolls everything back if it raises."""
    session = session_factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def column_length(column: Any) -> int:
    """The declared length of a String column, given as `Model.attribute` or a Table column."""
    length = getattr(column.type, "length", None)
    if length is None:
        raise TypeError(f"{column} has no declared length")
    return length


def fit_to_column(column: Any, value: str) -> str:
    """`value` cut to the length `column` declares, read from the model so the two cannot drift.

    Only for what the system records on its own (an address, a user agent, a subject it
    composed): refusing a request because such a value is long would be wrong. What a person
    types is validated against the same length instead, and refused when too long.
    """
    return value[:column_length(column)]


# --- Read replica ---------------------------------------------------------------------


def _read_only_sqlite(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only=ON")
    cursor.close()


def make_read_engine(url: str, timeouts: Timeouts | None = None, **kwargs: Any) -> Engine:
    """An engine for read-only queries, e.g. on a read replica: every write through it fails."""
    engine = make_engine(url, timeouts, read_only=True, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _read_only_sqlite)
    return engine
