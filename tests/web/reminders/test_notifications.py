"""Notifications on the web: the unread count in the header, the list, done, snooze, mark all."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from casework.models import Notification
from casework.reminders.deadline_rows import ReminderPolicy
from casework.reminders.notifications import notify
from casework.reminders.sweep import sweep
from casework.web import context
from tests.web.conftest import csrf_token, sign_in, submit

ROME = ZoneInfo("Europe/Rome")
T = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)  # Tuesday 09:00 in Rome
BADGE = re.compile(r'id="unread-count"[^>]*>(\d+)<')


@pytest.fixture
def app(engine_app):
    return engine_app


@pytest.fixture
def moment(monkeypatch):
    """The web app's clock, set by the test: {"now": aware UTC datetime}."""
    clock = {"now": T}
    monkeypatch.setattr(context, "now", lambda: clock["now"])
    return clock


def rome(hour: int, minute: int = 0, day: int = 10) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=ROME).astimezone(UTC)


def client_for(app, username: str, *, locale: str = "en"):
    client = app.test_client()
    assert sign_in(client, username).status_code == 302
    client.post("/language", data={"locale": locale, "csrf_token": csrf_token(client, "/notifications")})
    return client


def post(client, url: str, data: dict | None = None, **kwargs):
    return submit(client, url, data or {}, form_page="/notifications", **kwargs)


def badge(page: str) -> int | None:
    found = BADGE.search(page)
    return int(found.group(1)) if found else None


def page(client, url: str = "/notifications") -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def note(db, user, english: str, *, at: datetime = T - timedelta(hours=1), italian: str | None = None,
         pact=None) -> int:
    notification = notify(db, user, {"it": italian or f"IT {english}", "en": english}, now=at, pact=pact)
    db.commit()
    return notification.id


def test_the_header_shows_the_unread_count_on_every_page(app, db, people, moment):
    for text in ("One", "Two", "Three"):
        note(db, people.manager, text)
    client = client_for(app, "giulia")
    for url in ("/", "/beneficiaries", "/notifications", "/calendar"):
        shown = page(client, url)
        assert badge(shown) == 3, url
        assert '<span class="visually-hidden">(3 unread)</span>' in shown
        assert 'href="/notifications"' in shown

    # Nothing for a colleague: the link is there, the badge is not.
    colleague_page = page(client_for(app, "marco"), "/")
    assert badge(colleague_page) is None and 'href="/notifications"' in colleague_page
    # Nor for someone who has not signed in.
    assert 'href="/notifications"' not in app.test_client().get("/login").get_data(as_text=True)


def test_the_list_shows_the_users_notifications_newest_first_in_their_language(app, db, people, moment):
    note(db, people.manager, "Older", at=rome(8, 0))
    note(db, people.manager, "A pact was assigned to you", italian="Ti è stato assegnato un patto", at=rome(8, 30),
         pact=people.pact)
    note(db, people.colleague, "Not hers")

    shown = page(client_for(app, "giulia"))
    assert shown.index("A pact was assigned to you") < shown.index("Older")
    assert "Not hers" not in shown
    assert f'href="/pacts/{people.pact.id}"' in shown and f"Open pact no. {people.pact.id}" in shown
    assert "10/03/2026 08:30" in shown  # Europe/Rome, as written

    italian = page(client_for(app, "giulia", locale="it"))
    assert "Ti è stato assegnato un patto" in italian and "A pact was assigned to you" not in italian


def test_a_reminder_from_the_scheduler_names_the_deadline_and_the_person(app, db, people):
    policy = ReminderPolicy(zone=ROME, reminder_hour=8, batch_size=50, base_url="https://casework.example.org")
    sweep(app.extensions["casework"]["session_factory"], app.extensions["casework"]["registry"],
          now=datetime.now(UTC) + timedelta(days=30), policy=policy, holder="test")
    shown = page(client_for(app, "giulia"))
    assert "Reminder: Screening within 10 working days of the referral" in shown
    assert f"Pact no. {people.pact.id} (TILDE), Maria Bianchi: due by" in shown
    assert badge(shown) >= 1


def test_marking_one_done_takes_it_off_the_list_and_the_count(app, db, people, moment):
    done = note(db, people.manager, "Call the school")
    note(db, people.manager, "Sign the pact")
    client = client_for(app, "giulia")

    response = post(client, f"/notifications/{done}/done")
    assert response.status_code == 302 and response.headers["Location"] == "/notifications"
    shown = page(client)
    assert "Notification marked as done." in shown
    assert badge(shown) == 1
    assert "Call the school" not in shown and "Sign the pact" in shown

    # The toggle shows the done ones too, marked as such and without actions.
    everything = page(client, "/notifications?done=1")
    assert "Call the school" in everything and "Done" in everything
    assert f"/notifications/{done}/snooze" not in everything
    db.expire_all()
    assert db.get(Notification, done).done_at is not None


def test_a_snoozed_notification_is_hidden_until_its_time_then_comes_back(app, db, people, moment):
    later = note(db, people.manager, "Check the documents")
    note(db, people.manager, "Sign the pact")
    client = client_for(app, "giulia")

    response = post(client, f"/notifications/{later}/snooze", {f"snooze-{later}-until": "2026-03-10T09:20"})
    assert response.status_code == 302
    shown = page(client)
    assert "Notification snoozed until 10/03/2026 09:20." in shown
    assert badge(shown) == 1 and "Check the documents" not in shown
    assert "Snoozed until 10/03/2026 09:20" in page(client, "/notifications?done=1")

    moment["now"] = rome(9, 10)
    assert badge(page(client)) == 1
    moment["now"] = rome(9, 21)
    shown = page(client)
    assert badge(shown) == 2 and "Check the documents" in shown
    db.expire_all()
    assert db.get(Notification, later).snoozed_until == rome(9, 20)


@pytest.mark.parametrize(("value", "message"), [
    ("2026-03-10T08:59", "Choose a date and time in the future."),
    ("2026-03-10T09:00", "Choose a date and time in the future."),
    ("not a date", "Not a valid datetime value."),
    ("", "Give the date and time."),
])
def test_a_snooze_time_that_is_not_in_the_future_is_refused_next_to_the_field(app, db, people, moment, value,
                                                                               message):
    target = note(db, people.manager, "Check the documents")
    client = client_for(app, "giulia")
    response = post(client, f"/notifications/{target}/snooze", {f"snooze-{target}-until": value})
    assert response.status_code == 422
    shown = response.get_data(as_text=True)
    assert re.search(rf'id="snooze-{target}-until-error"[^>]*>{re.escape(message)}<', shown)
    assert re.search(rf'id="snooze-{target}-until"[^>]*aria-invalid="true"', shown) or \
        re.search(rf'aria-invalid="true"[^>]*id="snooze-{target}-until"', shown)
    assert badge(shown) == 1
    db.expire_all()
    assert db.get(Notification, target).snoozed_until is None


def test_someone_elses_notification_is_not_found(app, db, people, moment):
    hers = note(db, people.manager, "Check the documents")
    client = client_for(app, "marco")
    assert post(client, f"/notifications/{hers}/done").status_code == 404
    for until in ("2026-03-11T09:00", "2026-03-01T09:00"):  # in the future, and not
        assert post(client, f"/notifications/{hers}/snooze", {f"snooze-{hers}-until": until}).status_code == 404
    assert post(client, "/notifications/999999/done").status_code == 404
    assert badge(page(client_for(app, "giulia"))) == 1


def test_mark_all_done(app, db, people, moment):
    for text in ("One", "Two", "Three"):
        note(db, people.manager, text)
    theirs = note(db, people.colleague, "Colleague's")
    client = client_for(app, "giulia")
    assert "Mark all as done" in page(client)
    assert post(client, "/notifications/done").status_code == 302
    shown = page(client)
    assert "3 notifications marked as done." in shown
    assert badge(shown) is None and "Nothing is waiting for you." in shown and "Mark all as done" not in shown
    db.expire_all()
    assert db.get(Notification, theirs).done_at is None


def test_texts_are_escaped(app, db, people, moment):
    note(db, people.manager, "<script>alert(1)</script>")
    shown = page(client_for(app, "giulia"))
    assert "<script>alert(1)</script>" not in shown and "&lt;script&gt;alert(1)&lt;/script&gt;" in shown


def test_the_list_needs_a_signed_in_user_and_a_csrf_token(app, db, people, moment):
    anonymous = app.test_client()
    response = anonymous.get("/notifications")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    target = note(db, people.manager, "Check the documents")
    client = client_for(app, "giulia")
    assert client.post(f"/notifications/{target}/done").status_code == 400
    assert client.post("/notifications/done").status_code == 400
    assert badge(page(client)) == 1
