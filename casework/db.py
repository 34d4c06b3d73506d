"""Engine and session factory; SQLite gets the pragmas a multi-process web app needs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL lets readers proceed while a writer commits; busy_timeout makes writers queue
    # instead of failing at once when the web process and the scheduler write together.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    # FULL: in WAL mode NORMAL may lose the last committed transactions on power loss, and a
    # recorded decision about a person must not silently disappear.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
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


@event.listens_for(Engine, "connect")
def _postgresql_without_jit(dbapi_connection: Any, connection_record: Any) -> None:
    """PostgreSQL compiles a query to machine code (JIT) when its planner estimates it costly:
    measured at 100,000 pacts, a second spent compiling a search answered in 40 ms. Our
    queries are short ones: no JIT."""
    if type(dbapi_connection).__module__.startswith("psycopg"):
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET jit = off")
        dbapi_connection.commit()  # a setting made inside a rolled-back transaction would be undone
