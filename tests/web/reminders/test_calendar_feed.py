"""The calendar feed on the web: the page that creates and stops the link, and the ICS feed."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from icalendar import Calendar

from casework.models import User
from casework.reminders.deadline_rows import ReminderPolicy
from casework.reminders.sweep import sweep
from tests.conftest import ZONE
from tests.web.conftest import csrf_token, sign_in, submit

PUBLIC_URL = "https://casework.example.org"
FEED_URL = re.compile(r'value="(https://casework\.example\.org/calendar/([A-Za-z0-9_-]+)\.ics)"')


@pytest.fixture
def app(engine, tmp_path):
    """The web app on the `engine` fixture's database (SQLite, and PostgreSQL when configured),
    served at a public address other than the test client's `localhost`."""
    from casework.web import create_app

    app = create_app(overrides={
        "env": "testing", "secret_key": "t" * 48, "instance_path": str(tmp_path / "instance"),
        "database_url": engine.url.render_as_string(hide_password=False), "public_url": PUBLIC_URL,
    })
    yield app
    app.extensions["casework"]["engine"].dispose()


def client_for(app, username: str):
    client = app.test_client()
    assert sign_in(client, username).status_code == 302
    client.post("/language", data={"locale": "en", "csrf_token": csrf_token(client, "/calendar")})
    return client


def create_link(client) -> tuple[str, str]:
    """Create the feed link; (full URL, path) as the page shows it once."""
    response = submit(client, "/calendar/feed", {}, form_page="/calendar")
    assert response.status_code == 200
    found = FEED_URL.search(response.get_data(as_text=True))
    assert found, "the new link is shown"
    return found.group(1), found.group(1).removeprefix(PUBLIC_URL)


def deadlines_as_rows(app) -> None:
    """The scheduler's sweep turns the pacts' deadlines into rows (what the feed reads)."""
    sweep(app.extensions["casework"]["session_factory"], app.extensions["casework"]["registry"],
          now=datetime.now(UTC), policy=ReminderPolicy(zone=ZONE), holder="test")


def test_the_page_explains_how_to_subscribe_and_shows_the_new_link_once(app, people):
    client = client_for(app, "giulia")
    page = client.get("/calendar").get_data(as_text=True)
    assert "How to subscribe" in page and "You have no active calendar link." in page
    assert FEED_URL.search(page) is None

    url, _ = create_link(client)
    again = client.get("/calendar").get_data(as_text=True)
    assert "You have an active calendar link." in again
    assert url not in again  # shown once only
    assert "Stop my calendar link" in again


def test_the_feed_needs_no_sign_in_and_is_a_calendar_without_names(app, people):
    deadlines_as_rows(app)
    _, path = create_link(client_for(app, "giulia"))

    response = app.test_client().get(path)  # a calendar app: no cookies, no session
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers
    calendar = Calendar.from_ical(response.data)
    assert calendar["VERSION"] == "2.0"
    [event] = calendar.walk("VEVENT")
    # In the language the person reads Casework in (she switched to English).
    assert str(event["SUMMARY"]) == (
        f"Pact no. {people.pact.id} (TILDE): Screening within 10 working days of the referral")
    assert str(event["URL"]) == f"{PUBLIC_URL}/pacts/{people.pact.id}"
    body = response.get_data(as_text=True)
    assert "Maria" not in body and "Bianchi" not in body


def test_a_forged_host_header_changes_no_link(app, people):
    # Links built from the request's Host would let whoever sends the request point a user's
    # calendar (and what they click in it) to a server of theirs: the feed is fetched by anyone
    # holding its address, through any proxy.
    deadlines_as_rows(app)
    _, path = create_link(client_for(app, "giulia"))
    feed = app.test_client().get(path, headers={"Host": "evil.example.net"})
    assert feed.status_code == 200
    [event] = Calendar.from_ical(feed.data).walk("VEVENT")
    assert str(event["URL"]) == f"{PUBLIC_URL}/pacts/{people.pact.id}"
    assert b"evil.example.net" not in feed.data


def test_a_colleagues_feed_holds_only_their_own_pacts(app, people):
    deadlines_as_rows(app)
    _, path = create_link(client_for(app, "marco"))
    response = app.test_client().get(path)
    assert response.status_code == 200
    assert Calendar.from_ical(response.data).walk("VEVENT") == []


def test_a_stopped_or_replaced_link_no_longer_works(app, people):
    client = client_for(app, "giulia")
    _, first = create_link(client)
    _, second = create_link(client)
    assert first != second
    feed_reader = app.test_client()
    assert feed_reader.get(first).status_code == 404
    assert feed_reader.get(second).status_code == 200

    response = submit(client, "/calendar/revoke", {}, form_page="/calendar")
    assert response.status_code == 302 and response.headers["Location"] == "/calendar"
    page = client.get("/calendar").get_data(as_text=True)
    assert "Your calendar link no longer works." in page and "You have no active calendar link." in page
    assert feed_reader.get(second).status_code == 404


@pytest.mark.parametrize("token", ["bogus", "x" * 300, "A" * 43])
def test_a_made_up_link_is_not_found(app, people, token):
    assert app.test_client().get(f"/calendar/{token}.ics").status_code == 404


def test_a_deactivated_account_s_link_stops_working(app, db, people):
    _, path = create_link(client_for(app, "giulia"))
    db.get(User, people.manager.id).active = False
    db.commit()
    assert app.test_client().get(path).status_code == 404


def test_the_page_needs_a_signed_in_user_and_a_csrf_token(app, people):
    anonymous = app.test_client()
    response = anonymous.get("/calendar")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert anonymous.post("/calendar/feed").status_code in (302, 400)
    client = client_for(app, "giulia")
    assert client.post("/calendar/feed").status_code == 400
    assert "You have no active calendar link." in client.get("/calendar").get_data(as_text=True)
