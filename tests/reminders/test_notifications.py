"""In-app notifications (unread count, list, done, snooze) and the daily digest per case manager."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from casework.errors import InvalidInput
from casework.models import OutboundEmail
from casework.reminders.notifications import (
    list_notifications,
    mark_all_done,
    mark_done,
    notify,
    queue_daily_digests,
    snooze,
    unread_count,
)
from tests.reminders.helpers import ROME, count, emails, open_pact_at, rome, sweep_at

UTC = timezone.utc


def test_a_reminder_is_unread_until_done_or_snoozed(session, session_factory, registry, world):
    pacts = [open_pact_at(session, registry, world, rome(2026, 3, 2, 9)) for _ in range(2)]
    sweep_at(session_factory, registry, rome(2026, 3, 13, 8))
    now = rome(2026, 3, 13, 9)
    assert unread_count(session, world.manager, now) == 2
    assert unread_count(session, world.colleague, now) == 0
    first, second = sorted(list_notifications(session, registry, world.manager, now=now), key=lambda n: n.pact_id)
    assert (first.pact_id, second.pact_id) == (pacts[0].id, pacts[1].id)
    assert first.kind == "reminder" and not first.done

    # Someone else's notification is not theirs to touch (the view answers 404).
    assert not mark_done(session, world.colleague, first.id, now=now)
    assert mark_done(session, world.manager, first.id, now=now)
    assert snooze(session, world.manager, second.id, until=now + timedelta(days=1), now=now)
    session.commit()
    assert unread_count(session, world.manager, now) == 0
    assert list_notifications(session, registry, world.manager, now=now) == []
    # The snoozed one comes back when its time comes; the done one stays in the full list.
    assert [n.id for n in list_notifications(session, registry, world.manager, now=now + timedelta(days=1))] == [second.id]
    everything = list_notifications(session, registry, world.manager, now=now, include_done=True)
    assert {(n.id, n.done) for n in everything} == {(first.id, True), (second.id, False)}
    with pytest.raises(InvalidInput) as error:
        snooze(session, world.manager, second.id, until=now, now=now)
    assert error.value.errors == {"until": "not_in_future"}
    assert mark_all_done(session, world.manager, now=now + timedelta(days=2)) == 1
    assert unread_count(session, world.manager, now + timedelta(days=3)) == 0


def test_any_module_can_notify_someone_in_their_language(session, registry, world):
    world.colleague.locale = "en"
    pact = open_pact_at(session, registry, world, rome(2026, 3, 2, 9))
    notify(session, world.colleague, {"it": "Ti è stato assegnato un patto", "en": "A pact was assigned to you"},
           now=rome(2026, 3, 2, 10), pact=pact)
    session.commit()
    [note] = list_notifications(session, registry, world.colleague, now=rome(2026, 3, 2, 11))
    assert (note.title, note.body, note.pact_id, note.kind) == ("Notice", "A pact was assigned to you", pact.id, "message")
    assert [n.body for n in list_notifications(session, registry, world.colleague, now=rome(2026, 3, 2, 11),
                                               locale="it")] == ["Ti è stato assegnato un patto"]
    with pytest.raises(ValueError):
        notify(session, world.colleague, {"it": "solo italiano"}, now=rome(2026, 3, 2, 10))


def digests_at(session_factory, registry, when, holder="scheduler"):
    return queue_daily_digests(session_factory, registry, now=when, zone=ROME, digest_hour=7,
                               base_url="https://casework.example.org", holder=holder)


def test_the_digest_goes_once_a_day_at_the_configured_local_hour(session, session_factory, registry, world):
    world.colleague.locale = "en"
    session.commit()
    overdue = open_pact_at(session, registry, world, rome(2026, 2, 2, 9))  # screening due 16 February
    soon = open_pact_at(session, registry, world, rome(2026, 3, 2, 9))  # due 16 March
    open_pact_at(session, registry, world, rome(2026, 3, 13, 9))  # due 27 March: not in the next 7 days
    colleague_pact = open_pact_at(session, registry, world, rome(2026, 3, 2, 9), manager=world.colleague)
    sweep_at(session_factory, registry, rome(2026, 3, 12, 6))

    assert digests_at(session_factory, registry, rome(2026, 3, 12, 6, 59)) == 0
    assert digests_at(session_factory, registry, rome(2026, 3, 12, 7, 0)) == 2
    # Later runs that day, and another scheduler process, add nothing.
    assert digests_at(session_factory, registry, rome(2026, 3, 12, 7, 5)) == 0
    assert digests_at(session_factory, registry, rome(2026, 3, 12, 23, 59), holder="other") == 0
    by_address = {email.to_address: email for email in emails(session_factory)}
    giulia = by_address["giulia@example.org"]
    assert giulia.subject == "[Casework] Il tuo riepilogo del 12/03/2026"
    assert "1 superate, 0 in scadenza oggi, 1 nei prossimi 7 giorni" in giulia.body
    overdue_part, soon_part = giulia.body.split("Nei prossimi 7 giorni:")
    assert f"Patto n. {overdue.id} (TILDE)" in overdue_part and "16/02/2026" in overdue_part
    assert f"Patto n. {soon.id} (TILDE)" in soon_part and "16/03/2026" in soon_part
    assert f"https://casework.example.org/pacts/{soon.id}" in soon_part
    marco = by_address["marco@example.org"]
    assert marco.subject == "[Casework] Your digest for 12/03/2026"
    assert f"Pact no. {colleague_pact.id} (TILDE)" in marco.body
    # The next day brings the next digest.
    assert digests_at(session_factory, registry, rome(2026, 3, 13, 7, 0)) == 2


def test_the_digest_hour_follows_summer_time(session, session_factory, registry, world):
    open_pact_at(session, registry, world, rome(2026, 3, 20, 9))
    sweep_at(session_factory, registry, rome(2026, 3, 20, 10))
    # Saturday 28 March, winter time: 07:00 in Rome is 06:00 UTC.
    assert digests_at(session_factory, registry, datetime(2026, 3, 28, 5, 59, tzinfo=UTC)) == 0
    assert digests_at(session_factory, registry, datetime(2026, 3, 28, 6, 0, tzinfo=UTC)) == 1
    # Sunday 29 March, the clocks went forward: 07:00 in Rome is 05:00 UTC.
    assert digests_at(session_factory, registry, datetime(2026, 3, 29, 4, 59, tzinfo=UTC)) == 0
    assert digests_at(session_factory, registry, datetime(2026, 3, 29, 5, 0, tzinfo=UTC)) == 1
    assert count(session_factory, OutboundEmail) == 2


def test_no_digest_without_anything_due(session, session_factory, registry, world):
    open_pact_at(session, registry, world, rome(2026, 3, 2, 9))
    sweep_at(session_factory, registry, rome(2026, 3, 2, 10))
    assert digests_at(session_factory, registry, rome(2026, 3, 2, 8)) == 0  # due 16 March: too far
    assert count(session_factory, OutboundEmail) == 0
