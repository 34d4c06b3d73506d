"""Shared fixtures: real SQLite files and, when configured, a real PostgreSQL server.

PostgreSQL tests read CASEWORK_TEST_POSTGRES_URL (a URL of a database the tests may fill
and empty). Without it they skip on a laptop, and fail in CI (CI=true), where a missing
server is a broken build, not a reason to skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from casework import PROJECT_ROOT
from casework.clock import Clock
from casework.db import make_engine, make_session_factory
from casework.models import (
    Base,
    Beneficiary,
    Gender,
    Programme,
    Role,
    Territory,
    TerritoryKind,
    User,
)
from casework.workflow.engine import WorkflowRegistry

POSTGRES_URL_VARIABLE = "CASEWORK_TEST_POSTGRES_URL"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def postgres_url() -> str:
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not url:
        message = f"{POSTGRES_URL_VARIABLE} is not set: no PostgreSQL server to test against"
        if IN_CI:
            pytest.fail(message + " (required in CI)")
        pytest.skip(message)
    return url


@pytest.fixture(scope="session")
def registry() -> WorkflowRegistry:
    return WorkflowRegistry.from_directory(PROJECT_ROOT / "workflows")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'casework.sqlite3'}"


@contextmanager
def _scratch_postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database of its own; dropped afterwards."""
    admin_url = make_url(postgres_url())
    name = f"casework_test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(admin_url.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def fresh_postgres_url() -> Iterator[str]:
    with _scratch_postgres_database() as url:
        yield url


@pytest.fixture(scope="session")
def _postgres_schema_engine() -> Iterator[Engine]:
    """One database per test run, so parallel runs on one server cannot disturb each other."""
    with _scratch_postgres_database() as url:
        engine = make_engine(url)
        Base.metadata.create_all(engine)
        yield engine
        engine.dispose()


def _empty_all_tables(engine: Engine) -> None:
    # TRUNCATE: it is fast, and it is not a DELETE, which the audit table's trigger refuses.
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A real database with the schema, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'casework.sqlite3'}")
        Base.metadata.create_all(engine)
        yield engine
        engine.dispose()
    else:
        engine = request.getfixturevalue("_postgres_schema_engine")
        _empty_all_tables(engine)
        yield engine
        _empty_all_tables(engine)


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as session:
        yield session


MONDAY_9AM = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)  # 09:00 in Rome
# The zone the tests' dates are written in: the default CASEWORK_TIMEZONE (tests/test_config.py
# checks they agree). The code under test never assumes it: it is always passed in.
ZONE = ZoneInfo("Europe/Rome")


@pytest.fixture
def clock() -> Clock:
    return Clock(MONDAY_9AM, ZONE)


@dataclass
class World:
    comune: Territory
    manager: User
    colleague: User
    supervisor: User
    programme: Programme
    chance: Programme
    beneficiary: Beneficiary


@pytest.fixture
def world(session: Session) -> World:
    """A comune, two case managers, a supervisor, two programmes and one beneficiary."""
    unione = Territory(name="Unione NET", kind=TerritoryKind.UNIONE)
    comune = Territory(name="Settimo Torinese", kind=TerritoryKind.COMUNE, istat_code="001265", parent=unione)

    def user(username: str, role: Role) -> User:
        return User(username=username, full_name=username.title(), email=f"{username}@example.org",
                    password_hash="!", role=role, territory=unione)

    world = World(
        comune=comune,
        manager=user("giulia", Role.CASE_MANAGER),
        colleague=user("marco", Role.CASE_MANAGER),
        supervisor=user("elena", Role.SUPERVISOR),
        programme=Programme(code="TILDE", name="TILDE", funder="—", territory=unione,
                            starts_on=date(2025, 1, 1), workflow_name="patto_personalizzato"),
        chance=Programme(code="CHANCE", name="CHANCE", funder="Fondazione Cariplo", territory=unione,
                         starts_on=date(2025, 1, 1), workflow_name="chance_dispersione"),
        beneficiary=Beneficiary(first_name="Maria", last_name="Rossi", gender=Gender.FEMALE, comune=comune),
    )
    session.add_all([unione, comune, world.manager, world.colleague, world.supervisor,
                     world.programme, world.chance, world.beneficiary])
    session.commit()
    return world
