"""Own account in the core: password change, preferences, sessions; every change in the
administrative log, never a password. On both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from casework.administration import own_account as core
from casework.errors import InvalidInput
from casework.models import AdministrativeLogEntry, UserSession
from casework.security import hash_password, verify_password
from casework.security.auth import start_session
from tests.reminders.helpers import rome

NOW = rome(2026, 3, 2, 10)
OLD = "vecchia-password-2026"
NEW = "nuova-password-lunga-2026"


@pytest.fixture
def giulia(session, world):
    world.manager.password_hash = hash_password(OLD)
    session.commit()
    return world.manager


def _sessions(session, user, count):
    rows = [start_session(session, user, now=NOW - timedelta(minutes=index), ip_address=f"10.0.0.{index}",
                          user_agent=f"Browser {index}")[1] for index in range(count)]
    session.commit()
    return rows


def _log(session):
    return list(session.scalars(select(AdministrativeLogEntry).order_by(AdministrativeLogEntry.id)))


@pytest.mark.parametrize(("current", "new", "repeated", "errors"), [
    ("sbagliata", NEW, NEW, {"current": "wrong"}),
    (OLD, "corta", "corta", {"new": "too_short"}),
    (OLD, "", "", {"new": "required"}),
    (OLD, NEW, NEW + "x", {"repeated": "mismatch"}),
    (OLD, OLD, OLD, {"new": "same_as_current"}),
    (OLD, "x" * 201, "x" * 201, {"new": "too_long"}),
])
def test_a_bad_password_change_is_refused_and_changes_nothing(session, giulia, current, new, repeated, errors):
    this, other = _sessions(session, giulia, 2)
    with pytest.raises(InvalidInput) as refused:
        core.change_password(session, giulia, current=current, new=new, repeated=repeated,
                             current_session_id=this.id, now=NOW)
    assert refused.value.errors == errors
    session.rollback()
    assert verify_password(giulia.password_hash, OLD)
    assert session.get(UserSession, other.id).ended_at is None
    assert _log(session) == []


def test_a_password_change_ends_the_other_sessions_and_is_logged_without_the_password(session, giulia):
    this, other, third = _sessions(session, giulia, 3)
    ended = core.change_password(session, giulia, current=OLD, new=NEW, repeated=NEW, current_session_id=this.id,
                                 now=NOW, ip_address="10.1.1.1")
    session.commit()
    assert ended == 2
    assert verify_password(giulia.password_hash, NEW) and not verify_password(giulia.password_hash, OLD)
    assert session.get(UserSession, this.id).ended_at is None
    assert session.get(UserSession, other.id).ended_at == NOW == session.get(UserSession, third.id).ended_at
    [entry] = _log(session)
    assert (entry.action, entry.subject_type, entry.subject_id, entry.ip_address) == (
        "update_own_account", "user", giulia.id, "10.1.1.1")
    assert entry.changes == {"password": [None, "changed"], "other_sessions_ended": [None, "2"]}
    assert NEW not in str(entry.changes) and giulia.password_hash not in str(entry.changes)


def test_preferences_are_saved_and_logged_field_by_field(session, giulia):
    assert core.preferences_of(giulia) == core.Preferences("it", True, True)
    changes = core.update_preferences(session, giulia, core.Preferences("en", False, True), now=NOW)
    session.commit()
    assert changes == {"locale": ["it", "en"], "email_digest": ["True", "False"]}
    assert (giulia.locale, giulia.email_digest, giulia.email_reminders) == ("en", False, True)
    assert [entry.changes for entry in _log(session)] == [changes]
    # Nothing changed: nothing logged.
    assert core.update_preferences(session, giulia, core.Preferences("en", False, True), now=NOW) == {}
    assert len(_log(session)) == 1
    with pytest.raises(InvalidInput) as refused:
        core.update_preferences(session, giulia, core.Preferences("fr", True, True), now=NOW)
    assert refused.value.errors == {"locale": "unknown_locale"}


def test_active_sessions_and_signing_out_everywhere_else(session, giulia, world):
    this, other, stale = _sessions(session, giulia, 3)
    stale.last_seen_at = NOW - timedelta(hours=2)  # idled out, though never marked ended
    _sessions(session, world.colleague, 1)  # someone else's
    session.commit()
    listed = core.active_sessions(session, giulia, current_session_id=this.id, now=NOW,
                                  idle_timeout=timedelta(minutes=30), max_age=timedelta(hours=12))
    assert [(row.id, row.current, row.user_agent, row.ip_address) for row in listed] == [
        (this.id, True, "Browser 0", "10.0.0.0"), (other.id, False, "Browser 1", "10.0.0.1")]
    assert core.sign_out_everywhere_else(session, giulia, current_session_id=this.id, now=NOW) == 2
    session.commit()
    assert session.get(UserSession, this.id).ended_at is None
    assert session.get(UserSession, other.id).ended_at == NOW
    assert [entry.changes for entry in _log(session)] == [{"other_sessions_ended": [None, "2"]}]
    listed = core.active_sessions(session, giulia, current_session_id=this.id, now=NOW,
                                  idle_timeout=timedelta(minutes=30), max_age=timedelta(hours=12))
    assert [row.id for row in listed] == [this.id]
