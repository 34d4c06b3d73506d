"""What the pages say about deadlines is true: days counted between Rome calendar days, a
deadline whose work is done stops being late, notifications by due day, reminders put off."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from casework.errors import InvalidInput
from casework.models import (
    ChangeRecord,
    Notification,
    NotificationKind,
    Pact,
    PactDeadline,
    Performer,
)
from casework.pacts import operations as ops
from casework.reminders import (
    days_until,
    deadline_state,
    due_soon_end,
    end_of_local_day,
    snooze_deadline,
    state_deadlines,
)
from casework.reminders.deadline_rows import refresh_pact_deadlines
from casework.reminders.deadlines import StatePosition
from casework.reminders.notifications import list_notifications, queue_daily_digests
from tests.reminders.helpers import POLICY, ROME, emails, open_pact_at, rome, sweep_at

UTC = timezone.utc


# --- days, counted between local days -------------------------------------------------------


@pytest.mark.parametrize(("due_on", "now", "expected"), [
    # Due on the 10th, seen at 00:30 on the 11th in Rome (23:30 UTC on the 10th): 1 day late.
    (date(2026, 3, 10), datetime(2026, 3, 10, 23, 30, tzinfo=UTC), -1),
    # ... and still 1 day late at 23:59 that day.
    (date(2026, 3, 10), datetime(2026, 3, 11, 22, 59, tzinfo=UTC), -1),
    (date(2026, 3, 10), datetime(2026, 3, 10, 22, 59, tzinfo=UTC), 0),
    # Across the change to summer time (29/03) and back (25/10): whole days, not 24-hour blocks.
    (date(2026, 3, 28), datetime(2026, 3, 29, 22, 10, tzinfo=UTC), -2),
    (date(2026, 3, 31), datetime(2026, 3, 28, 23, 30, tzinfo=UTC), 2),
    (date(2026, 10, 24), datetime(2026, 10, 25, 23, 30, tzinfo=UTC), -2),
])
def test_days_are_counted_between_rome_calendar_days(due_on, now, expected):
    assert days_until(due_on, now, ROME) == expected


# Seen at 00:30 on Wednesday 11 March 2026 in Rome (23:30 UTC on the 10th).
LATE_EVENING_UTC = datetime(2026, 3, 10, 23, 30, tzinfo=UTC)


@pytest.mark.parametrize(("due_on", "expected"), [
    (date(2026, 3, 10), "late"),  # yesterday in Rome, though still the 10th in UTC
    (date(2026, 3, 11), "today"),
    (date(2026, 3, 18), "due_soon"),  # the seventh day from today
    (date(2026, 3, 19), "on_time"),
])
def test_one_deadline_state_for_every_page_by_rome_days(due_on, expected):
    assert deadline_state(end_of_local_day(due_on, ROME), LATE_EVENING_UTC, ROME) == expected
    assert deadline_state(None, LATE_EVENING_UTC, ROME) == ""


def test_due_soon_ends_with_the_seventh_rome_day():
    assert due_soon_end(LATE_EVENING_UTC, ROME) == end_of_local_day(date(2026, 3, 18), ROME)


# --- a deadline whose work is done ------------------------------------------------------------


def chance_pact_waiting_for_signature(session, registry, world, entered: datetime) -> Pact:
    """A CHANCE pact in its individual project since `entered`, with a goal and an action to sign."""
    pact = open_pact_at(session, registry, world, entered - timedelta(days=20), programme=world.chance)
    session.execute(update(Pact).where(Pact.id == pact.id).values(state="individual_project", state_entered_at=entered))
    session.commit()
    session.refresh(pact)
    clock = ops.Clock(entered, ROME)
    goal = ops.add_goal(session, pact, description="Rientro a scuola", clock=clock)
    ops.add_action(session, pact, description="Incontro con la scuola", performer=Performer.CASE_MANAGER, goal=goal,
                   clock=clock)
    ops.refresh_next_deadline(session, registry.engine_for(pact).definition, pact, ROME)
    refresh_pact_deadlines(session, registry, pact, now=entered, policy=POLICY)
    session.commit()
    return pact


def test_a_chance_project_signed_on_time_is_not_late_while_it_waits_for_approval(session, registry, world):
    entered = rome(2026, 3, 2, 10)
    pact = chance_pact_waiting_for_signature(session, registry, world, entered)
    assert pact.next_deadline_label == "project_signature_due"  # due 01/04 (30 days)
    signed_at = rome(2026, 3, 20, 11)
    ops.record_signature(session, pact, signed_on=date(2026, 3, 20), signed_by="Madre", consent_given=True,
                         actor=world.manager, clock=ops.Clock(signed_at, ROME), registry=registry)
    session.commit()
    # Still in the same state (the coordinator approves next), with no running deadline.
    assert pact.state == "individual_project"
    assert (pact.next_deadline_at, pact.next_deadline_label) == (None, "")
    later = rome(2026, 4, 10, 9)  # well past the due day, still awaiting approval
    definition = registry.engine_for(pact).definition
    assert state_deadlines(session, definition, StatePosition.of(pact), ROME) == []
    [met] = state_deadlines(session, definition, StatePosition.of(pact), ROME, include_met=True)
    assert (met.met, met.met_on) == (True, date(2026, 3, 20))
    # Its row ends, met in time, and sends nothing more.
    refresh_pact_deadlines(session, registry, pact, now=later, policy=POLICY)
    session.commit()
    row = session.scalars(select(PactDeadline).where(PactDeadline.pact_id == pact.id)).one()
    assert row.ended_at is not None and row.met is True and row.next_fire_at is None


def test_a_chance_project_signed_late_is_met_late(session, registry, world):
    pact = chance_pact_waiting_for_signature(session, registry, world, rome(2026, 3, 2, 10))
    ops.record_signature(session, pact, signed_on=date(2026, 4, 3), signed_by="Madre", consent_given=True,
                         actor=world.manager, clock=ops.Clock(rome(2026, 4, 3, 11), ROME), registry=registry)
    refresh_pact_deadlines(session, registry, pact, now=rome(2026, 4, 3, 12), policy=POLICY)
    session.commit()
    row = session.scalars(select(PactDeadline).where(PactDeadline.pact_id == pact.id)).one()
    assert row.met is False  # done, but after 01/04: the indicators count it as missed
    assert pact.next_deadline_at is None


def test_an_unsigned_project_stays_late(session, registry, world):
    pact = chance_pact_waiting_for_signature(session, registry, world, rome(2026, 3, 2, 10))
    ops.prepare_revision(session, pact, actor=world.manager, clock=ops.Clock(rome(2026, 3, 5), ROME))
    session.commit()
    definition = registry.engine_for(pact).definition
    [running] = state_deadlines(session, definition, StatePosition.of(pact), ROME)
    assert not running.met and running.due_on == date(2026, 4, 1)
    assert pact.next_deadline_at == end_of_local_day(date(2026, 4, 1), ROME)


def test_a_signature_from_an_earlier_round_does_not_meet_a_new_deadline(session, registry, world):
    """A pact signed, then brought back into the state later: the old signature is not this round's."""
    pact = chance_pact_waiting_for_signature(session, registry, world, rome(2026, 3, 2, 10))
    ops.record_signature(session, pact, signed_on=date(2026, 3, 20), signed_by="Madre", consent_given=True,
                         actor=world.manager, clock=ops.Clock(rome(2026, 3, 20, 11), ROME), registry=registry)
    session.execute(update(Pact).where(Pact.id == pact.id).values(state_entered_at=rome(2026, 6, 1, 9)))
    session.commit()
    session.refresh(pact)
    definition = registry.engine_for(pact).definition
    [running] = state_deadlines(session, definition, StatePosition.of(pact), ROME)
    assert not running.met and running.due_on == date(2026, 7, 1)


# --- notifications by due day ---------------------------------------------------------------


def test_notifications_are_listed_by_due_day(session, registry, world):
    pacts = [open_pact_at(session, registry, world, rome(2026, 3, 2, 9)) for _ in range(3)]
    now = rome(2026, 3, 20, 9)
    made = [
        (pacts[0], date(2026, 3, 25), rome(2026, 3, 19)),
        (pacts[1], date(2026, 3, 12), rome(2026, 3, 10)),
        (pacts[2], date(2026, 3, 18), rome(2026, 3, 16)),
    ]
    for pact, due_on, created in made:
        session.add(Notification(user_id=world.manager.id, kind=NotificationKind.REMINDER, pact_id=pact.id,
                                 rule_id="screening_due", due_on=due_on, created_at=created))
    session.add(Notification(user_id=world.manager.id, kind=NotificationKind.MESSAGE, message={"it": "Ciao", "en": "Hi"},
                             created_at=rome(2026, 3, 19, 12)))
    session.commit()
    listed = list_notifications(session, registry, world.manager, now=now)
    assert [n.due_on for n in listed] == [date(2026, 3, 12), date(2026, 3, 18), date(2026, 3, 25), None]


# --- a reminder put off ---------------------------------------------------------------------


def test_a_snooze_is_kept_in_the_history_and_puts_off_the_reminders(session, registry, world):
    pact = open_pact_at(session, registry, world, rome(2026, 3, 2, 9))
    now = rome(2026, 3, 20, 9)
    session.add(Notification(user_id=world.manager.id, kind=NotificationKind.REMINDER, pact_id=pact.id,
                             rule_id=pact.next_deadline_label, due_on=date(2026, 3, 16), created_at=now))
    session.commit()
    snooze = snooze_deadline(session, pact, pact.next_deadline_label, until_on=date(2026, 3, 24), reason="Ricoverata",
                             actor=world.manager, now=now, zone=ROME, reminder_hour=8)
    session.commit()
    assert snooze.due_at == pact.next_deadline_at  # the deadline itself is where it was
    note = session.scalars(select(Notification)).one()
    assert note.snoozed_until == rome(2026, 3, 24, 8)
    history = {c.field: (c.old_value, c.new_value, c.actor_id)
               for c in session.scalars(select(ChangeRecord).where(ChangeRecord.entity_id == pact.id))}
    assert history["reminder_snoozed_until_date"] == ("", "2026-03-24", world.manager.id)
    assert history["reminder_snooze_reason"] == ("", "Ricoverata", world.manager.id)


@pytest.mark.parametrize(("until_on", "reason", "rule", "errors"), [
    (date(2026, 3, 20), "", None, {"until_on": "not_in_future"}),
    (date(2026, 3, 21), "x" * 501, None, {"reason": "too_long"}),
    (date(2026, 3, 21), "", "another_rule", {"rule_id": "not_a_current_deadline"}),
])
def test_a_snooze_is_refused_with_reasons(session, registry, world, until_on, reason, rule, errors):
    pact = open_pact_at(session, registry, world, rome(2026, 3, 2, 9))
    with pytest.raises(InvalidInput) as refused:
        snooze_deadline(session, pact, rule or pact.next_deadline_label, until_on=until_on, reason=reason,
                        actor=world.manager, now=rome(2026, 3, 20, 9), zone=ROME)
    assert refused.value.errors == errors


def test_the_digest_lists_todays_deadlines_as_today(session, session_factory, registry, world):
    today = open_pact_at(session, registry, world, rome(2026, 3, 2, 9))  # screening due Monday 16 March
    sweep_at(session_factory, registry, rome(2026, 3, 16, 6))
    queue_daily_digests(session_factory, registry, now=rome(2026, 3, 16, 7, 30), zone=ROME, digest_hour=7,
                        base_url="https://casework.example.org", holder="test")
    [digest] = [email for email in emails(session_factory) if email.kind == "digest"]
    assert "0 superate, 1 in scadenza oggi, 0 nei prossimi 7 giorni" in digest.body
    assert f"In scadenza oggi:\n- Patto n. {today.id} (TILDE)" in digest.body
