"""Engine and session factory; SQLite gets the pragmas a multi-process web app needs."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Dialect, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.expression import Executable


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


class PreparedStatement:
    """A Core statement compiled once per dialect and run on the driver's own cursor.

    Only for the workflow engine's hot path. For statements this small, building
    SQLAlchemy's execution context costs several times what the database spends running
    them; this keeps SQLAlchemy's SQL text, type processing and exception classes but not
    the per-call machinery (so engine events such as `before_cursor_execute` do not see
    these statements).
    """

    def __init__(self, statement: Executable, column_keys: tuple[str, ...] = ()):
        self._statement = statement
        self._column_keys = list(column_keys)  # columns given as parameters named after them
        self._plans: dict[str, _Plan] = {}

    def _plan(self, dialect: Dialect) -> _Plan:
        plan = self._plans.get(dialect.name)
        if plan is None:
            compiled = self._statement.compile(dialect=dialect, column_keys=self._column_keys)
            names = tuple(compiled.positiontup) if compiled.positional else tuple(compiled.binds)
            processors = tuple(
                compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
            )
            plan = self._plans[dialect.name] = _Plan(compiled.string, names, processors, compiled.positional)
        return plan

    def rowcount(self, connection: Connection, params: Mapping[str, Any]) -> int:
        """Run the statement; how many rows it changed."""
        cursor = self.execute(connection, params)
        try:
            return cursor.rowcount
        finally:
            cursor.close()

    def execute(self, connection: Connection, params: Mapping[str, Any]) -> Any:
        """Run the statement; returns the open DB-API cursor, for the caller to close."""
        dialect = connection.dialect
        plan = self._plan(dialect)
        values = [
            params[name] if processor is None else processor(params[name])
            for name, processor in zip(plan.names, plan.processors, strict=True)
        ]
        parameters: Any = tuple(values) if plan.positional else dict(zip(plan.names, values, strict=True))
        if not connection.in_transaction():
            connection.begin()  # so that Connection.commit()/rollback() reach these statements too
        cursor = connection.connection.cursor()
        try:
            cursor.execute(plan.sql, parameters)
        except dialect.loaded_dbapi.Error as error:
            raise DBAPIError.instance(plan.sql, parameters, error, dialect.loaded_dbapi.Error, dialect=dialect) from error
        return cursor


@dataclass(frozen=True)
class _Plan:
    sql: str
    names: tuple[str, ...]
    processors: tuple[Any, ...]
    positional: bool
