"""`read_database_url`: the indicators and the exports read from a second database URL (a read
replica), everything else and every write (their access-log entries too) go to the main one.

CI has no replica: the second URL names the same database. Its connections are read-only,
which tells the two apart, and each engine counts the statements it runs."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.exc import DBAPIError

from casework.models import AccessLogEntry
from casework.web import context
from tests.web.conftest import sign_in

# A statement reading the pacts (the indicators' and the exports' queries all do).
READS_PACTS = re.compile(r"\bFROM pact\b|\bJOIN pact\b", re.IGNORECASE)


def _app(engine, tmp_path, read_database_url: str):
    from casework.web import create_app

    url = engine.url.render_as_string(hide_password=False)
    return create_app(overrides={
        "env": "testing", "secret_key": "t" * 48, "instance_path": str(tmp_path / "instance"),
        "database_url": url, "read_database_url": url if read_database_url == "same" else read_database_url,
    })


@pytest.fixture
def app(engine, tmp_path):
    """The app on the `engine` fixture's database, with that database also as its read replica."""
    app = _app(engine, tmp_path, "same")
    yield app
    app.extensions["casework"]["engine"].dispose()
    app.extensions["casework"]["read_engine"].dispose()


@contextmanager
def statements(engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(connection, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _supervisor(app, people):
    client = app.test_client()
    assert sign_in(client, people.supervisor.username).status_code == 302
    return client


def test_the_indicators_read_from_the_replica(app, people):
    client = _supervisor(app, people)
    engines = app.extensions["casework"]
    with statements(engines["engine"]) as main, statements(engines["read_engine"]) as replica:
        page = client.get(f"/indicators?programme={people.programme.id}")
        report = client.get(f"/indicators/report?programme={people.programme.id}")
    assert page.status_code == 200 and report.status_code == 200
    assert "TILDE" in page.get_data(as_text=True)
    assert sum(bool(READS_PACTS.search(s)) for s in replica) >= 5
    assert not [s for s in main if READS_PACTS.search(s)]
    # The funder report's access-log entry is written to the main database.
    assert [s for s in main if s.lstrip().upper().startswith("INSERT INTO ACCESS_LOG_ENTRY")]
    assert not [s for s in replica if not s.lstrip().upper().startswith(("SELECT", "WITH"))]


@pytest.mark.parametrize("download", ["/exports/pacts.csv", "/exports/pseudonymised.xlsx",
                                      "/exports/indicators/gender.csv"])
def test_the_exports_read_from_the_replica_and_log_to_the_main_database(app, db, people, download):
    client = _supervisor(app, people)
    engines = app.extensions["casework"]
    with statements(engines["engine"]) as main, statements(engines["read_engine"]) as replica:
        response = client.get(download)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert [s for s in replica if READS_PACTS.search(s)]
    assert not [s for s in main if READS_PACTS.search(s)]
    assert not [s for s in replica if not s.lstrip().upper().startswith(("SELECT", "WITH"))]
    logged = db.scalars(select(AccessLogEntry).where(AccessLogEntry.action == "export")).all()
    assert len(logged) == 1 and logged[0].user_id == people.supervisor.id
    if download == "/exports/pacts.csv":
        assert "Bianchi" in response.get_data(as_text=True)


def test_a_write_through_the_read_session_fails(app, people):
    with app.test_request_context():
        session = context.read_db()
        assert session is not context.db()
        with pytest.raises(DBAPIError, match=r"read-?only"):
            session.execute(text("UPDATE programme SET name = 'changed'"))
        session.rollback()
    with app.test_request_context():
        assert context.db().scalar(text("SELECT name FROM programme WHERE id = :id"),
                                   {"id": people.programme.id}) == "TILDE"


def test_without_a_replica_everything_reads_the_main_database(engine, tmp_path, people):
    # `people` filled the database through the replica fixture's app; a second app without one:
    single = _app(engine, tmp_path, "")
    try:
        assert single.extensions["casework"]["read_engine"] is None
        with single.test_request_context():
            assert context.read_db() is context.db()
        client = _supervisor(single, people)
        with statements(single.extensions["casework"]["engine"]) as main:
            assert client.get(f"/indicators?programme={people.programme.id}").status_code == 200
            assert client.get("/exports/pacts.csv").status_code == 200
        assert sum(bool(READS_PACTS.search(s)) for s in main) >= 5
    finally:
        single.extensions["casework"]["engine"].dispose()


def test_a_streamed_export_gives_its_replica_connection_back_after_the_last_chunk(app, people):
    client = _supervisor(app, people)
    pool = app.extensions["casework"]["read_engine"].pool
    response = client.get("/exports/pacts.csv", buffered=False)
    assert response.status_code == 200 and response.is_streamed
    chunks = iter(response.response)
    first = next(chunks)
    assert b"Bianchi" in first
    assert pool.checkedout() == 1  # the rows are read from the replica while the file is sent
    assert list(chunks) == []
    response.close()
    assert pool.checkedout() == 0
