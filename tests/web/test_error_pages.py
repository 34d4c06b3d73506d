"""Error pages never crash: whatever broke, the database included, the person gets a page in Italian."""

from __future__ import annotations

import html

import pytest
from flask import Flask
from flask_login import login_required
from sqlalchemy import select, update

from casework.models import JournalEntry, Pact, User
from casework.web import context
from tests.web.conftest import sign_in, submit

SOMETHING_WENT_WRONG = "Si è verificato un problema"
NOTHING_SAVED = "Non è stato salvato nulla"
CHANGED_MEANWHILE = "Qualcun altro ha modificato questi dati mentre ci stavi lavorando"


@pytest.fixture
def app(engine_app: Flask) -> Flask:
    """On both databases, with failures answered by the error pages, as in production."""
    engine_app.config["PROPAGATE_EXCEPTIONS"] = False
    return engine_app


@pytest.fixture
def failing_routes(app: Flask) -> None:
    """Routes that break the way a real view can: a flush the database refuses, a stale write."""

    @login_required
    def broken_flush():
        db = context.db()
        me = context.actor()
        db.add(User(username=me.username, full_name="Un doppione", email="x@example.org", password_hash="x",
                    role=me.role, territory_id=me.territory_id))
        db.flush()  # the username is taken: IntegrityError raised during the flush
        return "not reached"

    @login_required
    def stale_write():
        db = context.db()
        pact = db.scalars(select(Pact)).first()
        with app.extensions["casework"]["engine"].begin() as other:
            other.execute(update(Pact).where(Pact.id == pact.id).values(version=Pact.version + 1))
        pact.next_deadline_label = "changed here too"
        db.flush()  # matches no row: someone else saved first
        return "not reached"

    app.add_url_rule("/test/broken-flush", "test_broken_flush", broken_flush)
    app.add_url_rule("/test/stale-write", "test_stale_write", stale_write)


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_a_database_error_in_a_flush_answers_the_italian_error_page(app, people, failing_routes):
    client = app.test_client()
    sign_in(client, "giulia")
    response = client.get("/test/broken-flush")
    assert response.status_code == 500
    page = text(response)
    assert SOMETHING_WENT_WRONG in page and NOTHING_SAVED in page
    assert "Giulia Rossi" in page  # the header still says who is signed in
    assert 'lang="it"' in page


def test_a_journal_entry_dated_year_one_is_refused_before_any_flush(app, db, people):
    """Midnight of 1 January of year 1 in Rome is before year 1 in UTC: once the flush failed converting
    it (the error page); now the form refuses a date outside 1900..ten years ahead, next to the field."""
    client = app.test_client()
    sign_in(client, "giulia")
    response = submit(client, f"/pacts/{people.pact.id}/journal", {
        "journal-kind": "phone_call", "journal-at": "0001-01-01T00:00", "journal-text": "molto tempo fa",
    }, form_page=f"/pacts/{people.pact.id}")
    assert response.status_code == 422
    page = text(response)
    assert 'id="journal-at-error"' in page and "Scegli una data tra il 01/01/1900" in page and "Giulia Rossi" in page
    db.expire_all()
    assert db.scalars(select(JournalEntry)).all() == []
    assert client.get(f"/pacts/{people.pact.id}").status_code == 200  # and the next request works


def test_a_stale_write_anywhere_answers_the_conflict_page(app, people, failing_routes):
    client = app.test_client()
    sign_in(client, "giulia")
    response = client.get("/test/stale-write")
    assert response.status_code == 409
    page = text(response)
    assert CHANGED_MEANWHILE in page and "Giulia Rossi" in page

