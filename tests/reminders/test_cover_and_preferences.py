"""Reminders follow covers and e-mail preferences: the covering colleague gets the absent
case manager's reminders during the cover and not after; whoever turned e-mails off still has
their in-app notifications. On both databases."""

from __future__ import annotations

from datetime import date

from casework.administration.covers import CoverInput, create_cover
from casework.clock import Clock
from casework.models import NotificationKind
from casework.reminders.notifications import queue_daily_digests
from tests.conftest import ZONE
from tests.reminders.helpers import ROME, emails, fired, notifications, open_pact_at, rome, sweep_at


def _cover(session, world, starts_on: date, ends_on: date):
    create_cover(session, world.supervisor, CoverInput(world.manager.id, world.colleague.id, starts_on, ends_on),
                 clock=Clock(rome(2026, 3, 2, 9), ZONE))
    session.commit()


def test_the_covering_colleague_gets_the_reminders_during_the_cover_and_not_after(
    session, session_factory, registry, world,
):
    during = open_pact_at(session, registry, world, rome(2026, 3, 2, 9))  # due Mon 16 March: reminder Fri 13
    after = open_pact_at(session, registry, world, rome(2026, 3, 13, 10))  # due Fri 27 March: reminder Wed 25
    _cover(session, world, date(2026, 3, 9), date(2026, 3, 13))
    sweep_at(session_factory, registry, rome(2026, 3, 2, 10))
    sweep_at(session_factory, registry, rome(2026, 3, 13, 8, 0))
    sweep_at(session_factory, registry, rome(2026, 3, 25, 8, 0))
    reminders = [row for row in fired(session_factory) if row[3] == "reminder"]  # escalations go to elena
    assert reminders == [
        (during.id, "screening_due", date(2026, 3, 16), "reminder", "giulia"),
        (during.id, "screening_due", date(2026, 3, 16), "reminder", "marco"),
        (after.id, "screening_due", date(2026, 3, 27), "reminder", "giulia"),
    ]
    assert sorted((email.to_address, email.kind) for email in emails(session_factory) if email.kind == "reminder") == [
        ("giulia@example.org", "reminder"), ("giulia@example.org", "reminder"), ("marco@example.org", "reminder"),
    ]
    assert [(note.kind, note.pact_id) for note in notifications(session_factory, world.colleague)] == [
        (NotificationKind.REMINDER, during.id)]


def test_no_reminder_email_for_who_turned_them_off_but_the_notification_stays(
    session, session_factory, registry, world,
):
    world.manager.email_reminders = False
    session.commit()
    pact = open_pact_at(session, registry, world, rome(2026, 3, 2, 9))
    sweep_at(session_factory, registry, rome(2026, 3, 2, 10))
    sweep_at(session_factory, registry, rome(2026, 3, 13, 8, 0))
    assert [kind for *_, kind, _ in fired(session_factory)] == ["reminder"]
    assert emails(session_factory) == []  # nothing else is due yet
    assert [(note.kind, note.pact_id) for note in notifications(session_factory, world.manager)] == [
        (NotificationKind.REMINDER, pact.id)]
    # Turned on again, the next one goes by e-mail too.
    world.manager.email_reminders = True
    session.commit()
    open_pact_at(session, registry, world, rome(2026, 3, 13, 10))
    sweep_at(session_factory, registry, rome(2026, 3, 13, 11))
    sweep_at(session_factory, registry, rome(2026, 3, 25, 8, 0))
    assert [email.to_address for email in emails(session_factory) if email.kind == "reminder"] == ["giulia@example.org"]


def test_the_daily_digest_goes_only_to_who_wants_it(session, session_factory, registry, world):
    world.colleague.email_digest = False
    session.commit()
    open_pact_at(session, registry, world, rome(2026, 3, 2, 9))
    open_pact_at(session, registry, world, rome(2026, 3, 2, 9), manager=world.colleague)
    sweep_at(session_factory, registry, rome(2026, 3, 12, 6))
    queued = queue_daily_digests(session_factory, registry, now=rome(2026, 3, 12, 7), zone=ROME, digest_hour=7,
                                 base_url="https://casework.example.org", holder="test")
    assert queued == 1
    assert [(email.to_address, email.kind) for email in emails(session_factory)] == [("giulia@example.org", "digest")]
