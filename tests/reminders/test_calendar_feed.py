"""The private calendar feed: valid RFC 5545, the user's deadlines and planned contacts, revocable."""

from __future__ import annotations

from datetime import date, datetime, timezone

from icalendar import Calendar
from sqlalchemy import select

from casework.models import CalendarFeedToken, ContactChannel
from casework.pacts import operations as ops
from casework.reminders.calendar_feed import (
    create_feed_token,
    has_feed_token,
    ics_feed,
    revoke_feed_tokens,
    user_for_feed_token,
)
from tests.conftest import ZONE
from tests.reminders.helpers import move_to, open_pact_at, rome, sweep_at

NOW = rome(2026, 3, 10, 9)


def events(feed: str) -> list:
    calendar = Calendar.from_ical(feed)
    assert calendar["VERSION"] == "2.0" and calendar["PRODID"]
    return sorted(calendar.walk("VEVENT"), key=lambda e: (e.decoded("DTSTART"), str(e["UID"])))


def test_the_feed_lists_the_users_deadlines_and_planned_contacts(session, session_factory, registry, world):
    referral = open_pact_at(session, registry, world, rome(2026, 3, 2, 9))  # screening due 16 March
    follow_up = open_pact_at(session, registry, world, rome(2026, 3, 2, 9))
    move_to(session, registry, follow_up, "follow_up", rome(2026, 3, 2, 9), world.manager)
    ops.log_contact(session, registry, follow_up, contact_at=rome(2026, 3, 9, 10), channel=ContactChannel.HOME_VISIT,
                    next_contact_on=date(2026, 3, 23), actor=world.manager, clock=ops.Clock(rome(2026, 3, 9, 11), ZONE))
    session.commit()
    open_pact_at(session, registry, world, rome(2026, 3, 2, 9), manager=world.colleague)  # not hers
    sweep_at(session_factory, registry, rome(2026, 3, 9, 12))

    feed = ics_feed(session, world.manager, NOW, registry=registry, base_url="https://casework.example.org", zone=ZONE)
    found = [(e.decoded("DTSTART"), str(e["SUMMARY"])) for e in events(feed)]
    assert found == [
        (date(2026, 3, 16), f"Patto n. {referral.id} (TILDE): Screening entro 10 giorni lavorativi dalla segnalazione"),
        (date(2026, 3, 23), f"Contatto previsto: patto n. {follow_up.id} (TILDE)"),
        (date(2026, 4, 8), f"Patto n. {follow_up.id} (TILDE): Contatto di monitoraggio ogni 30 giorni"),
        (date(2026, 9, 2), f"Patto n. {follow_up.id} (TILDE): Verifica finale a 6 mesi dall'attivazione"),
    ]
    for event in events(feed):
        assert event.decoded("DTEND") == event.decoded("DTSTART").fromordinal(event.decoded("DTSTART").toordinal() + 1)
        assert str(event["UID"]).endswith("@casework")
        assert str(event["URL"]).startswith("https://casework.example.org/pacts/")
        assert event.decoded("DTSTAMP") == NOW
    assert "Anna" not in feed and "Bruno" not in feed  # calendars leave Casework: no names

    world.colleague.locale = "en"
    [colleague_event] = events(ics_feed(session, world.colleague, NOW, registry=registry, zone=ZONE))
    assert str(colleague_event["SUMMARY"]).endswith("Screening within 10 working days of the referral")


def test_the_feed_secret_is_stored_hashed_and_can_be_revoked(session, world):
    token = create_feed_token(session, world.manager, now=NOW)
    session.commit()
    stored = session.scalars(select(CalendarFeedToken.token_hash)).all()
    assert len(token) >= 40 and token not in stored and len(stored) == 1
    assert has_feed_token(session, world.manager)
    assert user_for_feed_token(session, token, now=NOW) == world.manager
    assert user_for_feed_token(session, token + "x", now=NOW) is None
    assert user_for_feed_token(session, "", now=NOW) is None

    # A new secret replaces the old one; revoking stops every one.
    newer = create_feed_token(session, world.manager, now=NOW)
    assert user_for_feed_token(session, token, now=NOW) is None
    assert user_for_feed_token(session, newer, now=NOW) == world.manager
    assert revoke_feed_tokens(session, world.manager, now=NOW) == 1
    assert user_for_feed_token(session, newer, now=NOW) is None
    assert not has_feed_token(session, world.manager)

    # A deactivated account's feed stops too.
    third = create_feed_token(session, world.manager, now=NOW)
    world.manager.active = False
    assert user_for_feed_token(session, third, now=NOW) is None


def test_an_empty_feed_is_still_a_valid_calendar(session, registry, world):
    feed = ics_feed(session, world.supervisor, datetime(2026, 3, 10, 8, tzinfo=timezone.utc), registry=registry, zone=ZONE)
    assert events(feed) == []
    assert Calendar.from_ical(feed)["X-WR-CALNAME"] == "Casework - scadenze e contatti"
