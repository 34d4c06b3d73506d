"""Sign-in throttling by growing delays: never a lockout, the right password waits at most a
minute, an address's failures do not keep others out for longer, administrators are told, and
every attempt is in the administrative log (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from casework.models import AdministrativeLogEntry, LoginAttempt, Notification, Role, User
from casework.security import auth, hash_password, throttle
from tests.conftest import MONDAY_9AM

PASSWORD = "una-password-lunga-2026"
NOW = MONDAY_9AM


@pytest.fixture
def accounts(session, world):
    for user in (world.manager, world.colleague, world.supervisor):
        user.password_hash = hash_password(PASSWORD)
    admin = User(username="admin", full_name="Admin", email="admin@example.org", password_hash="!",
                 role=Role.ADMIN, territory=world.manager.territory)
    session.add(admin)
    session.commit()
    return world


def attempt(session, username: str, password: str, *, at, address: str = "10.0.0.1"):
    """What the sign-in page would get: the user, or the refusal's reason and wait."""
    try:
        user = auth.authenticate(session, username, password, ip_address=address, now=at)
    except auth.LoginRefused as refused:
        session.commit()
        return refused.reason, refused.wait_seconds
    session.commit()
    return user


def fail(session, username: str, times: int, *, start, address: str = "10.0.0.1", step=timedelta(minutes=2)):
    """`times` wrong passwords, each long enough after the previous not to be refused for waiting."""
    at = start
    for _ in range(times):
        assert attempt(session, username, "sbagliata", at=at, address=address) == ("invalid", 0)
        at += step
    return at - step


def test_delays_grow_one_two_four_seconds_up_to_a_minute():
    free = throttle.ACCOUNT_FREE_FAILURES
    assert [throttle.delay_after(n, free).total_seconds() for n in range(free + 8)] == (
        [0] * free + [1, 2, 4, 8, 16, 32, 60, 60])


def test_after_the_free_failures_the_next_attempt_waits_and_a_retry_does_not_lengthen_the_wait(session, accounts):
    last = fail(session, "giulia", throttle.ACCOUNT_FREE_FAILURES, start=NOW, step=timedelta(seconds=1))
    assert attempt(session, "giulia", PASSWORD, at=last + timedelta(milliseconds=300)) == ("throttled", 1)
    # Hammering while waiting is neither checked nor counted...
    for _ in range(20):
        assert attempt(session, "giulia", "sbagliata", at=last + timedelta(milliseconds=500))[0] == "throttled"
    assert session.scalar(select(LoginAttempt.id).where(LoginAttempt.at > last)) is None
    # ...so the right password is accepted as soon as the short delay is over.
    assert attempt(session, "giulia", PASSWORD, at=last + timedelta(seconds=1)) == session.get(User, accounts.manager.id)


def test_the_right_password_never_waits_more_than_a_minute(session, accounts):
    last = fail(session, "giulia", 14, start=NOW, step=timedelta(seconds=61))
    reason, wait = attempt(session, "giulia", PASSWORD, at=last + timedelta(seconds=1))
    assert reason == "throttled" and wait == 60 - 1
    assert attempt(session, "giulia", PASSWORD, at=last + throttle.MAX_DELAY).username == "giulia"


def test_a_stranger_guessing_from_elsewhere_does_not_delay_the_account_holder_at_her_usual_address(session, accounts):
    assert attempt(session, "giulia", PASSWORD, at=NOW - timedelta(days=3), address="10.0.0.1").username == "giulia"
    last = fail(session, "giulia", 12, start=NOW, address="203.0.113.9", step=timedelta(seconds=61))
    assert attempt(session, "giulia", PASSWORD, at=last, address="203.0.113.99")[0] == "throttled"
    assert attempt(session, "giulia", PASSWORD, at=last, address="10.0.0.1").username == "giulia"


def test_failures_from_one_address_delay_other_accounts_from_it_by_at_most_a_minute(session, accounts):
    at = NOW
    # Each for another (unknown) account, all within the window, until the delay is a minute.
    for n in range(throttle.ADDRESS_FREE_FAILURES + 6):
        assert attempt(session, f"nessuno{n}", "sbagliata", at=at, address="10.9.9.9") == ("invalid", 0)
        at += timedelta(seconds=33)
    last = at - timedelta(seconds=33)
    reason, wait = attempt(session, "marco", PASSWORD, at=last + timedelta(seconds=30), address="10.9.9.9")
    assert reason == "throttled" and wait == 30
    assert attempt(session, "marco", PASSWORD, at=last, address="10.1.1.1").username == "marco"  # another address
    assert attempt(session, "marco", PASSWORD, at=last + throttle.MAX_DELAY, address="10.9.9.9").username == "marco"


def test_failures_are_forgotten_after_a_successful_sign_in(session, accounts):
    last = fail(session, "giulia", throttle.ACCOUNT_FREE_FAILURES + 3, start=NOW, step=timedelta(seconds=20))
    assert attempt(session, "giulia", PASSWORD, at=last + timedelta(seconds=8)).username == "giulia"
    assert attempt(session, "giulia", "sbagliata", at=last + timedelta(seconds=9)) == ("invalid", 0)
    assert attempt(session, "giulia", PASSWORD, at=last + timedelta(seconds=9)).username == "giulia"


def test_administrators_are_notified_once_when_an_account_reaches_the_alert_threshold(session, accounts):
    fail(session, "giulia", throttle.ACCOUNT_ALERT_FAILURES + 3, start=NOW, step=timedelta(seconds=61),
         address="203.0.113.9")
    assert (throttle.ACCOUNT_ALERT_FAILURES + 3) * 61 < throttle.WINDOW.total_seconds()
    admin = session.scalar(select(User).where(User.username == "admin"))
    [notice] = session.scalars(select(Notification)).all()
    assert notice.user_id == admin.id
    assert '"giulia"' in notice.message["en"] and "203.0.113.9" in notice.message["en"]
    assert "tentativi di accesso falliti" in notice.message["it"]


def test_administrators_are_notified_when_an_address_reaches_the_alert_threshold(session, accounts):
    at = NOW
    for n in range(throttle.ADDRESS_ALERT_FAILURES + 2):
        assert attempt(session, f"nessuno{n}", "sbagliata", at=at, address="198.51.100.4") == ("invalid", 0)
        # As fast as the delays let a guesser go.
        at += throttle.delay_after(n + 1, throttle.ADDRESS_FREE_FAILURES) + timedelta(seconds=1)
    [notice] = session.scalars(select(Notification)).all()
    assert "198.51.100.4" in notice.message["en"] and "from the address" in notice.message["en"]


def test_every_attempt_is_in_the_administrative_log(session, accounts):
    last = fail(session, "giulia", throttle.ACCOUNT_FREE_FAILURES, start=NOW, step=timedelta(seconds=1))
    attempt(session, "giulia", PASSWORD, at=last)  # too soon
    attempt(session, "nessuno", "sbagliata", at=last, address="10.0.0.2")
    attempt(session, "giulia", PASSWORD, at=last + timedelta(seconds=2))
    entries = session.scalars(select(AdministrativeLogEntry).order_by(AdministrativeLogEntry.id)).all()
    assert [(e.action, e.subject_label, e.changes.get("reason", [None, None])[1]) for e in entries] == (
        [("sign_in_failed", "giulia", "wrong_password")] * throttle.ACCOUNT_FREE_FAILURES
        + [("sign_in_throttled", "giulia", None), ("sign_in_failed", "nessuno", "unknown_account"),
           ("sign_in", "giulia", None)])
    assert {e.subject_type for e in entries} == {"sign_in"}
    assert entries[-1].actor_id == accounts.manager.id and entries[0].actor_id is None
    assert entries[-2].subject_id is None and entries[-2].ip_address == "10.0.0.2"
