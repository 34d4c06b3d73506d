"""A note or a contact sent twice is recorded once; a note too long is refused whole, saying the limit.

On both databases: the second POST of the same form (its one-time key) answers the same
success and records nothing more.
"""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
from sqlalchemy import func, select

from casework.models import FollowUpContact, JournalEntry, Pact
from tests.web.conftest import PASSWORD, csrf_token, sign_in, submit

ROME = ZoneInfo("Europe/Rome")
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
VERSION = re.compile(r'name="contact-version" type="hidden" value="(\d+)"')
KEY = re.compile(r'name="(?:journal|contact)-submission_key" type="hidden" value="([0-9a-f]{32})"')


@pytest.fixture
def app(engine_app):
    return engine_app


def signed_in(app, username: str, *, english: bool = True):
    client = app.test_client()
    assert sign_in(client, username).status_code == 302
    if english:
        client.post("/language", data={"locale": "en", "csrf_token": csrf_token(client, "/")})
    return client


def minute(moment: datetime) -> str:
    return moment.astimezone(ROME).strftime("%Y-%m-%dT%H:%M")


def count(db, model) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model))


def key_on(client, pact_id: int, name: str) -> str:
    keys = {match.group(0).split('"')[1]: match.group(1)
            for match in KEY.finditer(client.get(f"/pacts/{pact_id}").get_data(as_text=True))}
    return keys[f"{name}-submission_key"]


def test_a_note_sent_twice_is_saved_once_and_both_answers_say_it_was_saved(app, db, people):
    client = signed_in(app, "giulia")
    key = key_on(client, people.pact.id, "journal")
    form = {"journal-kind": "note", "journal-at": minute(datetime.now(UTC) - timedelta(hours=1)),
            "journal-text": "Colloquio con la madre", "journal-submission_key": key}

    first = submit(client, f"/pacts/{people.pact.id}/journal", form, form_page="/")
    second = submit(client, f"/pacts/{people.pact.id}/journal", form, form_page="/")

    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert count(db, JournalEntry) == 1
    page = client.get(second.headers["Location"]).get_data(as_text=True)
    assert "Journal entry saved." in page
    # A fresh form carries a new key: the next note is a new note.
    assert key_on(client, people.pact.id, "journal") != key


def test_two_notes_from_two_forms_are_two_notes(app, db, people):
    client = signed_in(app, "giulia")
    for text in ("Prima nota", "Seconda nota"):
        form = {"journal-kind": "note", "journal-at": minute(datetime.now(UTC) - timedelta(hours=1)),
                "journal-text": text, "journal-submission_key": key_on(client, people.pact.id, "journal")}
        assert submit(client, f"/pacts/{people.pact.id}/journal", form, form_page="/").status_code == 302
    assert count(db, JournalEntry) == 2


def test_a_contact_sent_twice_is_recorded_once_even_though_the_pact_moved_on(app, db, people):
    client = signed_in(app, "giulia")
    db.expire_all()
    version = db.get(Pact, people.pact.id).version
    form = {"contact-version": version, "contact-contact_at": minute(datetime.now(UTC)), "contact-channel": "phone",
            "contact-notes": "Sentita al telefono", "contact-next_contact_on": "",
            "contact-submission_key": key_on(client, people.pact.id, "contact")}

    first = submit(client, f"/pacts/{people.pact.id}/contacts", form, form_page=f"/pacts/{people.pact.id}")
    # The first one moved the pact's version: without the key, the second would be a conflict.
    second = submit(client, f"/pacts/{people.pact.id}/contacts", form, form_page=f"/pacts/{people.pact.id}")

    assert first.status_code == second.status_code == 302
    assert count(db, FollowUpContact) == 1
    assert "Contact recorded." in client.get(second.headers["Location"]).get_data(as_text=True)
    assert db.get(Pact, people.pact.id).version == version + 1


def test_a_note_of_100000_characters_is_refused_saying_the_limit_and_nothing_is_saved(app, db, people):
    client = signed_in(app, "giulia", english=False)
    text = "a" * 100_000
    response = submit(client, f"/pacts/{people.pact.id}/journal", {
        "journal-kind": "note", "journal-at": minute(datetime.now(UTC) - timedelta(hours=1)), "journal-text": text,
    }, form_page="/")

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Al massimo 10.000 caratteri (ne hai scritti 100.000)." in html
    assert text in html  # what was typed is kept, for the person to shorten it
    assert count(db, JournalEntry) == 0


def test_the_core_refuses_a_long_note_whole_rather_than_cutting_it(db, people):
    from casework.errors import InvalidInput
    from casework.models import JournalKind
    from casework.pacts import casefile

    now = datetime.now(UTC)
    with pytest.raises(InvalidInput) as refused:
        casefile.add_journal_entry(db, db.get(Pact, people.pact.id), kind=JournalKind.NOTE, at=now,
                                   text="b" * (casefile.MAX_JOURNAL_TEXT + 1), actor=None, now=now)
    assert refused.value.errors == {"text": "too_long"}
    entry = casefile.add_journal_entry(db, db.get(Pact, people.pact.id), kind=JournalKind.NOTE, at=now,
                                       text="c" * casefile.MAX_JOURNAL_TEXT, actor=None, now=now)
    assert len(entry.text) == casefile.MAX_JOURNAL_TEXT


def test_the_note_form_shows_its_limit(app, people):
    client = signed_in(app, "giulia")
    html = client.get(f"/pacts/{people.pact.id}").get_data(as_text=True)
    assert re.search(r'<textarea[^>]*id="journal-text"[^>]*maxlength="10000"', html)
    assert re.search(r'<textarea[^>]*id="contact-notes"[^>]*maxlength="4000"', html)



@pytest.mark.parametrize("form_name", ["journal", "contact"])
def test_the_same_form_sent_many_times_at_once_records_once_and_answers_saved_each_time(app, db, people, server,
                                                                                       form_name):
    """Clicks that race over a real server: every answer is the success, and one record exists."""
    browser = requests.Session()
    login = browser.get(f"{server}/login")
    browser.post(f"{server}/login", data={"username": "giulia", "password": PASSWORD,
                                          "csrf_token": CSRF.search(login.text).group(1)})
    page = browser.get(f"{server}/pacts/{people.pact.id}").text
    token = CSRF.search(page).group(1)
    key = next(match.group(1) for match in KEY.finditer(page) if f'"{form_name}-submission_key"' in match.group(0))
    an_hour_ago = minute(datetime.now(UTC) - timedelta(minutes=1))
    if form_name == "journal":
        url, data = f"{server}/pacts/{people.pact.id}/journal", {
            "journal-kind": "note", "journal-at": an_hour_ago, "journal-text": "Colloquio", "journal-submission_key": key}
    else:
        url, data = f"{server}/pacts/{people.pact.id}/contacts", {
            "contact-version": VERSION.search(page).group(1), "contact-contact_at": minute(datetime.now(UTC)),
            "contact-channel": "phone", "contact-notes": "", "contact-next_contact_on": "",
            "contact-submission_key": key}
    start = threading.Barrier(6, timeout=30)
    statuses: list[int] = []

    def click() -> None:
        start.wait()
        statuses.append(browser.post(url, data={**data, "csrf_token": token}, allow_redirects=False,
                                     timeout=30).status_code)

    threads = [threading.Thread(target=click) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=40)
    browser.close()
    assert statuses == [302] * 6
    assert count(db, JournalEntry if form_name == "journal" else FollowUpContact) == 1
