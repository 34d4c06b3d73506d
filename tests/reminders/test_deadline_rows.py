"""Reminders and escalations from the workflow's deadline rules, with controlled time.

Every test sweeps with an explicit `now`; the expected days are worked out by hand in the
comments, across Italian holidays and the changes to and from summer time.
"""

from __future__ import annotations

import threading
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from casework.errors import InvalidInput, PactConflict
from casework.models import (
    ContactChannel,
    DeadlinePause,
    EmailStatus,
    Notification,
    Pact,
    PactDeadline,
    Programme,
    Reminder,
)
from casework.pacts import operations as ops
from casework.reminders.deadline_operations import (
    move_deadline_anchor,
    pause_deadline,
    resume_deadline,
)
from casework.reminders.deadline_rows import (
    ReminderPolicy,
    live_deadlines,
    occurrence_firings,
    open_firings,
)
from casework.reminders.deadlines import due_date
from casework.reminders.notifications import list_notifications, unread_count
from casework.workflow.definition import DeadlineRule
from tests.conftest import ZONE
from tests.reminders.helpers import (
    POLICY,
    ROME,
    add_territorial_manager,
    count,
    emails,
    fired,
    move_to,
    open_pact_at,
    rome,
    sweep_at,
)
from tests.support import advance

UTC = timezone.utc


def rule(amount: int = 10, unit: str = "working_days", *, remind: int = 2, escalate: int | None = 2,
         again: int | None = None, every: int | None = None) -> DeadlineRule:
    return DeadlineRule(id="due", label={"it": "Scadenza", "en": "Due"}, amount=amount, unit=unit,
                        remind_before_days=remind, escalate_after_days=escalate,
                        escalate_again_after_days=again, every=every)


def fire_days(firings) -> dict[str, datetime]:
    return {firing.kind.value: firing.fire_at for firing in firings}


# --- firing days across holidays and summer time (pure) ----------------------------------

@pytest.mark.parametrize("holiday,due,remind,expected", [
    # Reminder day on the holiday: moved back to the working day before.
    ("Easter Monday 2025", date(2025, 4, 23), 2, date(2025, 4, 18)),  # Mon 21 Apr -> Fri 18 Apr
    ("25 April 2025", date(2025, 4, 28), 3, date(2025, 4, 24)),  # Fri 25 Apr -> Thu 24 Apr
    ("1 May 2025", date(2025, 5, 3), 2, date(2025, 4, 30)),  # Thu 1 May -> Wed 30 Apr
    ("2 June 2025", date(2025, 6, 4), 2, date(2025, 5, 30)),  # Mon 2 Jun -> Fri 30 May
    ("15 August 2025", date(2025, 8, 18), 3, date(2025, 8, 14)),  # Fri 15 Aug -> Thu 14 Aug
    ("8 December 2025", date(2025, 12, 10), 2, date(2025, 12, 5)),  # Mon 8 Dec -> Fri 5 Dec
])
def test_a_reminder_due_on_a_holiday_goes_out_the_working_day_before(holiday, due, remind, expected):
    [reminder, _] = occurrence_firings(rule(remind=remind), due, POLICY)
    assert reminder.fire_at.astimezone(ROME).date() == expected, holiday
    assert reminder.fire_at.astimezone(ROME).hour == 8


@pytest.mark.parametrize("holiday,due,escalate,expected", [
    ("15 August 2025", date(2025, 8, 14), 0, date(2025, 8, 18)),  # Fri 15 Aug -> Mon 18 Aug
    ("8 December 2025", date(2025, 12, 5), 2, date(2025, 12, 9)),  # Mon 8 Dec -> Tue 9 Dec
    ("Easter Monday 2026", date(2026, 4, 2), 2, date(2026, 4, 7)),  # Mon 6 Apr -> Tue 7 Apr
    ("2 June 2026", date(2026, 5, 29), 3, date(2026, 6, 3)),  # Tue 2 Jun -> Wed 3 Jun
])
def test_an_escalation_due_on_a_holiday_goes_out_the_working_day_after(holiday, due, escalate, expected):
    firings = fire_days(occurrence_firings(rule(escalate=escalate), due, POLICY))
    assert firings["escalation"].astimezone(ROME).date() == expected, holiday


@pytest.mark.parametrize("anchor,amount,expected", [
    (rome(2025, 5, 30), 10, date(2025, 6, 16)),  # skips 2 June (Mon)
    (rome(2025, 8, 13), 3, date(2025, 8, 19)),  # skips 15 August (Fri)
    (rome(2025, 12, 5), 1, date(2025, 12, 9)),  # skips 8 December (Mon)
    (rome(2025, 4, 17), 2, date(2025, 4, 22)),  # skips Easter Monday, 21 April
    (rome(2025, 4, 24), 1, date(2025, 4, 28)),  # skips 25 April (Fri)
    (rome(2025, 4, 30), 1, date(2025, 5, 2)),  # skips 1 May (Thu)
])
def test_working_day_deadlines_skip_the_italian_holidays(anchor, amount, expected):
    assert due_date(rule(amount), anchor, ROME) == expected


def test_reminders_go_out_at_eight_in_rome_in_winter_and_in_summer():
    # 8:00 in Rome is 07:00 UTC before 29 March 2026 and 06:00 UTC after; back on 25 October.
    [spring_before, _] = occurrence_firings(rule(remind=0), date(2026, 3, 27), POLICY)
    [spring_after, _] = occurrence_firings(rule(remind=0), date(2026, 3, 30), POLICY)
    [autumn_before, _] = occurrence_firings(rule(remind=0), date(2026, 10, 23), POLICY)
    [autumn_after, _] = occurrence_firings(rule(remind=0), date(2026, 10, 26), POLICY)
    assert spring_before.fire_at == datetime(2026, 3, 27, 7, 0, tzinfo=UTC)
    assert spring_after.fire_at == datetime(2026, 3, 30, 6, 0, tzinfo=UTC)
    assert autumn_before.fire_at == datetime(2026, 10, 23, 6, 0, tzinfo=UTC)
    assert autumn_after.fire_at == datetime(2026, 10, 26, 7, 0, tzinfo=UTC)


def test_a_recurring_rule_drops_an_occurrence_once_the_next_is_past_due():
    recurring = rule(30, "days", remind=3, escalate=7, every=30)
    anchor = date(2026, 3, 2)
    # Occurrences due 1 April and 1 May; asked on 20 May, only the May one still matters.
    due, upcoming = open_firings(recurring, anchor, 0, POLICY, rome(2026, 5, 20), set())
    assert {(f.due_on, f.kind.value) for f in due} == {(date(2026, 5, 1), "reminder"), (date(2026, 5, 1), "escalation")}
    assert upcoming == rome(2026, 5, 28, 8)  # the reminder of the 31 May occurrence, 3 days before
    # Already sent firings are not due again.
    due, _ = open_firings(recurring, anchor, 0, POLICY, rome(2026, 5, 20), {(f.due_on, f.kind) for f in due})
    assert due == []


# --- the sweep, on the database ------------------------------------------------------------

def test_reminder_then_escalations_across_easter_25_april_and_1_may(session, session_factory, registry, world):
    hierarchy = add_territorial_manager(session, world)
    # Wednesday 16 April 2025: ten working days skip Easter Monday (21 April), 25 April and
    # 1 May: the screening is due on Monday 5 May 2025.
    pact = open_pact_at(session, registry, world, rome(2025, 4, 16, 10))
    sweep_at(session_factory, registry, rome(2025, 4, 16, 11))
    with session_factory() as check:
        [row] = live_deadlines(check, check.get(Pact, pact.id))
    assert (row.rule_id, row.due_on) == ("screening_due", date(2025, 5, 5))
    # Reminder 2 days before: Saturday 3 May -> Friday 2 May, 08:00 in Rome (06:00 UTC).
    assert row.next_fire_at == datetime(2025, 5, 2, 6, 0, tzinfo=UTC)

    assert sweep_at(session_factory, registry, rome(2025, 5, 2, 7, 59)).fired == 0
    sweep_at(session_factory, registry, rome(2025, 5, 2, 8, 0))
    # Overdue by 2 whole days: Thursday 8 May; by 7: Tuesday 13 May.
    sweep_at(session_factory, registry, rome(2025, 5, 8, 7, 59))
    sweep_at(session_factory, registry, rome(2025, 5, 8, 8, 0))
    sweep_at(session_factory, registry, rome(2025, 5, 13, 8, 0))
    sweep_at(session_factory, registry, rome(2025, 6, 30, 8, 0))
    assert fired(session_factory) == [
        (pact.id, "screening_due", date(2025, 5, 5), "reminder", "giulia"),
        (pact.id, "screening_due", date(2025, 5, 5), "escalation", "elena"),
        (pact.id, "screening_due", date(2025, 5, 5), "escalation_again", hierarchy.territorial_manager.username),
    ]
    with session_factory() as check:
        times = check.scalars(select(Reminder.fire_at).order_by(Reminder.id)).all()
    assert times == [datetime(2025, 5, 2, 6, tzinfo=UTC), datetime(2025, 5, 8, 6, tzinfo=UTC),
                     datetime(2025, 5, 13, 6, tzinfo=UTC)]


def test_an_escalation_after_the_spring_change_goes_out_at_0600_utc(session, session_factory, registry, world):
    # Friday 13 March 2026 + 10 working days = Friday 27 March (winter time); overdue by two
    # whole days on Monday 30 March, after the clocks went forward: 08:00 CEST = 06:00 UTC.
    pact = open_pact_at(session, registry, world, rome(2026, 3, 13, 10))
    sweep_at(session_factory, registry, rome(2026, 3, 13, 11))
    with session_factory() as check:
        [row] = live_deadlines(check, check.get(Pact, pact.id))
    assert row.due_at == datetime(2026, 3, 27, 22, 59, 59, 999999, tzinfo=UTC)
    sweep_at(session_factory, registry, datetime(2026, 3, 25, 7, 0, tzinfo=UTC))  # reminder, 08:00 CET
    assert [kind for *_, kind, _ in fired(session_factory)] == ["reminder"]
    sweep_at(session_factory, registry, datetime(2026, 3, 30, 5, 59, tzinfo=UTC))
    assert len(fired(session_factory)) == 1
    sweep_at(session_factory, registry, datetime(2026, 3, 30, 6, 0, tzinfo=UTC))
    assert [kind for *_, kind, _ in fired(session_factory)] == ["reminder", "escalation"]


def test_an_escalation_after_the_autumn_change_goes_out_at_0700_utc(session, session_factory, registry, world):
    # Friday 9 October 2026 + 10 working days = Friday 23 October (summer time); overdue by two
    # whole days on Monday 26 October, after the clocks went back: 08:00 CET = 07:00 UTC.
    open_pact_at(session, registry, world, rome(2026, 10, 9, 10))
    sweep_at(session_factory, registry, rome(2026, 10, 9, 11))
    sweep_at(session_factory, registry, datetime(2026, 10, 21, 6, 0, tzinfo=UTC))  # reminder, 08:00 CEST
    sweep_at(session_factory, registry, datetime(2026, 10, 26, 6, 59, tzinfo=UTC))
    assert [kind for *_, kind, _ in fired(session_factory)] == ["reminder"]
    sweep_at(session_factory, registry, datetime(2026, 10, 26, 7, 0, tzinfo=UTC))
    assert [kind for *_, kind, _ in fired(session_factory)] == ["reminder", "escalation"]


def test_a_scheduler_down_for_weeks_sends_everything_that_fell_due_once(session, session_factory, registry, world):
    hierarchy = add_territorial_manager(session, world)
    open_pact_at(session, registry, world, rome(2025, 4, 16, 10))
    # Nothing ran until June: the reminder and both escalations go out in one sweep, not dropped.
    report = sweep_at(session_factory, registry, rome(2025, 6, 3, 10))
    assert report.fired == 3 and report.refreshed == 1
    assert [(kind, user) for *_, kind, user in fired(session_factory)] == [
        ("reminder", "giulia"), ("escalation", "elena"), ("escalation_again", hierarchy.territorial_manager.username)]
    with session_factory() as check:
        late = check.scalars(select(Reminder).order_by(Reminder.id)).all()
    assert all(r.created_at == rome(2025, 6, 3, 10) and r.fire_at < r.created_at for r in late)
    # Sweeping again, at once or later, sends nothing more.
    assert sweep_at(session_factory, registry, rome(2025, 6, 3, 10)).fired == 0
    assert sweep_at(session_factory, registry, rome(2025, 12, 1, 10)).fired == 0
    assert count(session_factory, Reminder) == count(session_factory, Notification) == 3
    assert {e.to_address for e in emails(session_factory)} == {
        "giulia@example.org", "elena@example.org", "paolo@example.org"}


def test_concurrent_sweeps_write_each_reminder_once(session, session_factory, registry, world):
    for _ in range(12):
        open_pact_at(session, registry, world, rome(2025, 4, 16, 10))
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            sweep_at(session_factory, registry, rome(2025, 5, 8, 9), ReminderPolicy(zone=ROME, batch_size=5))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    # 12 pacts x (reminder to the case manager + escalation to the supervisor).
    assert len(fired(session_factory)) == len(set(fired(session_factory))) == 24
    assert count(session_factory, Notification) == 24


def test_pausing_stops_reminders_and_resuming_adds_the_working_days_paused(session, session_factory, registry, world):
    # Monday 2 March 2026: screening due Monday 16 March; reminder Friday 13 March.
    pact = open_pact_at(session, registry, world, rome(2026, 3, 2, 9))
    sweep_at(session_factory, registry, rome(2026, 3, 2, 10))
    pause_deadline(session, registry, pact, "screening_due", reason="ricovero ospedaliero",
                   actor=world.manager, now=rome(2026, 3, 4, 11), policy=POLICY)
    session.commit()
    assert pact.next_deadline_at is None  # its only deadline is stopped
    [row] = live_deadlines(session, pact)
    assert row.paused and row.next_fire_at is None
    assert sweep_at(session_factory, registry, rome(2026, 3, 13, 9)).fired == 0

    # Resumed Wednesday 11 March: 4-10 March were paused, 5 working days (4, 5, 6, 9, 10),
    # so the screening is due 5 working days later: Monday 23 March; reminder Friday 20 March.
    row = resume_deadline(session, registry, pact, "screening_due", actor=world.manager,
                          now=rome(2026, 3, 11, 10), policy=POLICY)
    session.commit()
    assert (row.paused, row.due_on, row.extension) == (False, date(2026, 3, 23), 5)
    assert pact.next_deadline_at == datetime(2026, 3, 23, 22, 59, 59, 999999, tzinfo=UTC)
    assert sweep_at(session_factory, registry, rome(2026, 3, 20, 7, 59)).fired == 0
    sweep_at(session_factory, registry, rome(2026, 3, 20, 8))
    assert fired(session_factory) == [(pact.id, "screening_due", date(2026, 3, 23), "reminder", "giulia")]
    [pause] = session.scalars(select(DeadlinePause)).all()
    assert (pause.reason, pause.paused_by_id, pause.resumed_at) == ("ricovero ospedaliero", world.manager.id,
                                                                    rome(2026, 3, 11, 10))


def test_a_pause_carries_over_to_the_same_deadline_in_the_next_state(session, session_factory, registry, world):
    # screening_due counts from the opening in both referral and screening: its pause holds.
    pact = open_pact_at(session, registry, world, rome(2026, 3, 2, 9))
    pause_deadline(session, registry, pact, "screening_due", reason="assenza giustificata", actor=world.manager,
                   now=rome(2026, 3, 3, 9), policy=POLICY)
    session.commit()
    move_to(session, registry, pact, "screening", rome(2026, 3, 4, 9), world.manager)
    sweep_at(session_factory, registry, rome(2026, 3, 4, 10))
    [row] = live_deadlines(session, pact)
    assert (row.state, row.paused, row.next_fire_at) == ("screening", True, None)


def test_pause_and_resume_refuse_what_makes_no_sense(session, registry, world):
    pact = open_pact_at(session, registry, world, rome(2026, 3, 2, 9))
    with pytest.raises(InvalidInput) as error:
        pause_deadline(session, registry, pact, "screening_due", reason="  ", actor=world.manager,
                       now=rome(2026, 3, 3, 9), policy=ReminderPolicy(zone=ZONE))
    assert error.value.errors == {"reason": "required"}
    with pytest.raises(InvalidInput) as error:
        pause_deadline(session, registry, pact, "final_check", reason="x", actor=world.manager, now=rome(2026, 3, 3, 9), policy=ReminderPolicy(zone=ZONE))
    assert error.value.errors == {"rule_id": "not_a_current_deadline"}
    with pytest.raises(InvalidInput) as error:
        resume_deadline(session, registry, pact, "screening_due", actor=world.manager, now=rome(2026, 3, 3, 9), policy=ReminderPolicy(zone=ZONE))
    assert error.value.errors == {"rule_id": "not_paused"}
    pause_deadline(session, registry, pact, "screening_due", reason="x", actor=world.manager, now=rome(2026, 3, 3, 9), policy=ReminderPolicy(zone=ZONE))
    with pytest.raises(InvalidInput) as error:
        pause_deadline(session, registry, pact, "screening_due", reason="x", actor=world.manager,
                       now=rome(2026, 3, 3, 10), policy=ReminderPolicy(zone=ZONE))
    assert error.value.errors == {"rule_id": "already_paused"}
    with pytest.raises(PactConflict):
        resume_deadline(session, registry, pact, "screening_due", actor=world.manager, now=rome(2026, 3, 3, 11),
                        expected_version=pact.version - 1, policy=ReminderPolicy(zone=ZONE))


def test_moving_the_anchor_recomputes_the_deadline_and_its_reminders(session, session_factory, registry, world):
    # Opened Monday 2 March 2026, but the referral arrived on Thursday 26 February: ten working
    # days from then is Thursday 12 March; the reminder moves to Tuesday 10 March.
    pact = open_pact_at(session, registry, world, rome(2026, 3, 2, 9))
    sweep_at(session_factory, registry, rome(2026, 3, 2, 10))
    with pytest.raises(InvalidInput) as error:
        move_deadline_anchor(session, registry, pact, "screening_due", anchor_on=date(2026, 3, 5), reason="x",
                             actor=world.manager, now=rome(2026, 3, 3, 9), policy=ReminderPolicy(zone=ZONE))
    assert error.value.errors == {"anchor_on": "in_future"}
    row = move_deadline_anchor(session, registry, pact, "screening_due", anchor_on=date(2026, 2, 26),
                               reason="segnalazione arrivata per posta", actor=world.manager,
                               now=rome(2026, 3, 3, 9), policy=POLICY)
    session.commit()
    assert (row.anchor_on, row.due_on) == (date(2026, 2, 26), date(2026, 3, 12))
    assert row.next_fire_at == rome(2026, 3, 10, 8)
    assert pact.next_deadline_at == datetime(2026, 3, 12, 22, 59, 59, 999999, tzinfo=UTC)
    # The move holds in the next state, where the same deadline counts from the same anchor.
    move_to(session, registry, pact, "screening", rome(2026, 3, 4, 9), world.manager)
    sweep_at(session_factory, registry, rome(2026, 3, 10, 8))
    assert fired(session_factory) == [(pact.id, "screening_due", date(2026, 3, 12), "reminder", "giulia")]


def test_recurring_follow_up_contacts_every_30_days_until_a_contact_restarts_them(
    session, session_factory, registry, world
):
    pact = open_pact_at(session, registry, world, rome(2026, 3, 2, 9))
    move_to(session, registry, pact, "follow_up", rome(2026, 3, 2, 9), world.manager)
    # No contact: due Wednesday 1 April, then every 30 days: Friday 1 May (a holiday, but a
    # calendar-day rule may fall on one), 31 May...
    for when in (rome(2026, 3, 27, 8), rome(2026, 4, 9, 8), rome(2026, 4, 16, 8), rome(2026, 4, 28, 8)):
        sweep_at(session_factory, registry, when)
    assert [(due, kind) for _, rule_id, due, kind, _ in fired(session_factory) if rule_id == "follow_up_contact"] == [
        (date(2026, 4, 1), "reminder"),  # Sunday 29 March -> Friday 27 March
        (date(2026, 4, 1), "escalation"),  # overdue by 7 days: Thursday 9 April
        # (no territorial manager above the unione: no second escalation)
        (date(2026, 5, 1), "reminder"),  # Tuesday 28 April
    ]
    assert unread_count(session, world.manager, rome(2026, 4, 28, 9)) == 2

    # A contact on Wednesday 29 April restarts the series from that day: next due 29 May.
    ops.log_contact(session, registry, pact, contact_at=rome(2026, 4, 29, 10), channel=ContactChannel.PHONE,
                    actor=world.manager, clock=ops.Clock(rome(2026, 4, 29, 10), ZONE))
    session.commit()
    sweep_at(session_factory, registry, rome(2026, 4, 29, 11))
    with session_factory() as check:
        rows = check.scalars(select(PactDeadline).where(PactDeadline.rule_id == "follow_up_contact")
                             .order_by(PactDeadline.id)).all()
    assert [(r.due_on, r.ended_at is not None, r.met) for r in rows] == [
        (date(2026, 4, 1), True, False), (date(2026, 5, 29), False, None)]
    # What was about the old series is resolved: nothing left to read about it.
    assert unread_count(session, world.manager, rome(2026, 4, 29, 12)) == 0
    sweep_at(session_factory, registry, rome(2026, 5, 27, 8))
    assert fired(session_factory)[-1] == (pact.id, "follow_up_contact", date(2026, 5, 29), "reminder", "giulia")


def test_reminders_of_a_pact_that_moved_on_are_cancelled(session, session_factory, registry, world):
    pact = open_pact_at(session, registry, world, rome(2026, 3, 2, 9))
    sweep_at(session_factory, registry, rome(2026, 3, 13, 8))  # the reminder: notification and e-mail
    [email] = emails(session_factory)
    assert email.status == EmailStatus.PENDING
    assert unread_count(session, world.manager, rome(2026, 3, 13, 9)) == 1

    move_to(session, registry, pact, "withdrawn", rome(2026, 3, 13, 8, 30), world.manager)
    sweep_at(session_factory, registry, rome(2026, 3, 13, 9))
    [email] = emails(session_factory)
    assert email.status == EmailStatus.CANCELLED
    assert unread_count(session, world.manager, rome(2026, 3, 13, 9)) == 0
    [row] = session.scalars(select(PactDeadline)).all()
    assert (row.ended_at, row.met, row.next_fire_at) == (rome(2026, 3, 13, 8, 30), True, None)
    # No escalation of a deadline that no longer exists.
    assert sweep_at(session_factory, registry, rome(2026, 6, 1, 9)).fired == 0
    assert len(fired(session_factory)) == 1


def test_a_move_between_states_ends_one_deadline_and_starts_the_next(session, session_factory, registry, world):
    pact = open_pact_at(session, registry, world, rome(2026, 3, 2, 9))
    move_to(session, registry, pact, "co_design", rome(2026, 3, 3, 9), world.manager)
    sweep_at(session_factory, registry, rome(2026, 3, 3, 10))
    assert [r.rule_id for r in live_deadlines(session, pact)] == ["pact_signature_due"]
    ops.transition_pact(session, registry, pact, "withdraw", actor=world.manager,
                        clock=ops.Clock(rome(2026, 3, 5, 9), ZONE), comment="trasferita", reason="moved_away")
    session.commit()
    # Even before the queued refresh is taken, a due row of a pact that moved fires nothing.
    with session_factory() as check:
        check.execute(PactDeadline.__table__.update().values(next_fire_at=rome(2026, 3, 5, 9)))
        check.commit()
    assert sweep_at(session_factory, registry, rome(2026, 4, 30, 9)).fired == 0
    assert live_deadlines(session, pact) == []


def test_the_reminder_follows_a_reassigned_pact(session, session_factory, registry, world):
    pact = open_pact_at(session, registry, world, rome(2026, 3, 2, 9))
    sweep_at(session_factory, registry, rome(2026, 3, 2, 10))
    pact.case_manager = world.colleague
    session.commit()
    sweep_at(session_factory, registry, rome(2026, 3, 13, 8))
    assert [user for *_, user in fired(session_factory)] == ["marco"]


def test_escalations_go_to_the_nearest_supervisors_and_skip_inactive_ones(session, session_factory, registry, world):
    hierarchy = add_territorial_manager(session, world)
    world.supervisor.active = False  # the unione's only supervisor left
    session.commit()
    open_pact_at(session, registry, world, rome(2025, 4, 16, 10))
    sweep_at(session_factory, registry, rome(2025, 6, 3, 10))
    # With nobody at the unione, the ambito's supervisor is the first level; there is no second.
    assert [(kind, user) for *_, kind, user in fired(session_factory)] == [
        ("reminder", "giulia"), ("escalation", hierarchy.territorial_manager.username)]


def test_messages_are_in_the_recipients_language_and_e_mails_name_nobody(session, session_factory, registry, world):
    world.supervisor.locale = "en"
    world.programme.restricted = True  # e.g. victims of violence: supervisors see only assigned cases
    session.commit()
    pact = open_pact_at(session, registry, world, rome(2025, 4, 16, 10))
    sweep_at(session_factory, registry, rome(2025, 5, 8, 9))
    by_address = {email.to_address: email for email in emails(session_factory)}
    manager_mail, supervisor_mail = by_address["giulia@example.org"], by_address["elena@example.org"]
    assert manager_mail.subject.startswith("[Casework] Promemoria")
    assert supervisor_mail.subject == f"[Casework] Overdue: pact no. {pact.id}"
    assert f"https://casework.example.org/pacts/{pact.id}" in supervisor_mail.body
    assert "Giulia" in supervisor_mail.body  # the case manager, a colleague, is named
    for email in (manager_mail, supervisor_mail):
        assert "Anna" not in email.body and "Bruno" not in email.body

    [manager_note] = list_notifications(session, registry, world.manager, now=rome(2025, 5, 8, 10))
    assert manager_note.title == "Promemoria: Screening entro 10 giorni lavorativi dalla segnalazione"
    assert "Anna Bruno" in manager_note.body and "05/05/2025" in manager_note.body
    [supervisor_note] = list_notifications(session, registry, world.supervisor, now=rome(2025, 5, 8, 10))
    assert supervisor_note.title == "Overdue: Screening within 10 working days of the referral"
    # A restricted case the supervisor is not assigned to: the number, not the person.
    assert f"Pact no. {pact.id} (TILDE), case manager Giulia" in supervisor_note.body
    assert "Anna" not in supervisor_note.body


def test_a_batched_e_mail_lists_every_reminder_of_its_recipient(session, session_factory, registry, world):
    pacts = [open_pact_at(session, registry, world, rome(2026, 3, 2, 9)) for _ in range(3)]
    sweep_at(session_factory, registry, rome(2026, 3, 13, 8))
    [email] = emails(session_factory)
    assert email.subject == "[Casework] Promemoria: 3 scadenze"
    for pact in pacts:
        assert f"Patto n. {pact.id} (TILDE)" in email.body
    with session_factory() as check:
        assert set(check.scalars(select(Reminder.email_id))) == {email.id}


def test_closing_a_pact_ends_its_deadlines(session, session_factory, registry, world):
    pact = open_pact_at(session, registry, world, rome(2026, 3, 2, 9))
    move_to(session, registry, pact, "follow_up", rome(2026, 3, 2, 10), world.manager)
    sweep_at(session_factory, registry, rome(2026, 3, 2, 11))
    assert {r.rule_id for r in live_deadlines(session, pact)} == {"follow_up_contact", "final_check"}
    advance(session, registry, pact, "close", world.manager, ops.Clock(rome(2026, 3, 20, 9), ZONE))
    sweep_at(session_factory, registry, rome(2026, 3, 20, 10))
    with session_factory() as check:
        rows = check.scalars(select(PactDeadline).order_by(PactDeadline.id)).all()
    assert all(row.next_fire_at is None for row in rows)
    ended = [(row.rule_id, row.ended_at, row.met) for row in rows if row.state == "follow_up"]
    assert sorted(ended) == [("final_check", rome(2026, 3, 20, 9), True), ("follow_up_contact", rome(2026, 3, 20, 9), True)]
    assert live_deadlines(session, pact) == []
    assert sweep_at(session_factory, registry, rome(2026, 12, 1, 10)).fired == 0


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def migrated_url(request) -> str:
    from casework import migrate

    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "fresh_postgres_url")
    migrate.upgrade(url)
    return url


def test_the_migrated_schema_queues_changed_pacts_through_its_triggers(migrated_url, registry):
    from casework.db import make_engine, make_session_factory
    from casework.models import (
        Beneficiary,
        DeadlineRefresh,
        Gender,
        Role,
        Territory,
        TerritoryKind,
        User,
    )

    engine = make_engine(migrated_url)
    try:
        session_factory = make_session_factory(engine)
        with session_factory() as session:
            unione = Territory(name="Unione NET", kind=TerritoryKind.UNIONE)
            manager = User(username="giulia", full_name="Giulia", email="giulia@example.org", password_hash="!",
                           role=Role.CASE_MANAGER, territory=unione)
            programme = Programme(code="TILDE", name="TILDE", funder="-", territory=unione, starts_on=date(2025, 1, 1),
                                  workflow_name="patto_personalizzato")
            person = Beneficiary(first_name="Anna", last_name="Bruno", gender=Gender.FEMALE)
            session.add_all([unione, manager, programme, person])
            pact = ops.open_pact(session, registry, beneficiary=person, programme=programme, case_manager=manager,
                                 actor=manager, clock=ops.Clock(rome(2026, 3, 2, 9), ZONE))
            session.commit()
            ops.log_contact(session, registry, pact, contact_at=rome(2026, 3, 3, 9), channel=ContactChannel.PHONE,
                            actor=manager, clock=ops.Clock(rome(2026, 3, 3, 10), ZONE))
            advance(session, registry, pact, "start_screening", manager, ops.Clock(rome(2026, 3, 4, 9), ZONE))
            queued = session.scalars(select(DeadlineRefresh.pact_id)).all()
        # Opened, a contact, a move: each queued the pact, in the same transaction as the change.
        assert queued == [pact.id] * len(queued) and len(queued) >= 3
        report = sweep_at(session_factory, registry, rome(2026, 3, 4, 10))
        assert report.refreshed == len(queued)
        with session_factory() as session:
            [row] = live_deadlines(session, session.get(Pact, pact.id))
            assert (row.rule_id, row.state, row.due_on) == ("screening_due", "screening", date(2026, 3, 16))
            assert session.scalars(select(DeadlineRefresh)).all() == []
    finally:
        engine.dispose()


# --- the workflow file keys for recurring deadlines and the second escalation ---------------

MINI = """\
name: mini
version: 1
label: {it: Mini, en: Mini}
initial: open
states:
  open:
    label: {it: Aperto, en: Open}
    deadlines:
      - id: contact
        label: {it: Contatto, en: Contact}
        in: 14
        from: last_contact
%s
  done:
    label: {it: Fatto, en: Done}
    final: true
events:
  finish:
    label: {it: Chiudi, en: Finish}
    from: open
    to: done
"""


def _load(tmp_path, extra: str):
    from casework.workflow.loader import load_workflow_file

    path = tmp_path / "mini.yaml"
    path.write_text(MINI % "\n".join(f"        {line}" for line in extra.splitlines()), encoding="utf-8")
    return load_workflow_file(path)


def test_workflow_files_declare_recurring_deadlines_and_a_second_escalation(tmp_path):
    definition = _load(tmp_path, "every: 14\nremind_before_days: 2\nescalate_after_days: 7\nescalate_again_after_days: 14")
    [contact] = definition.states["open"].deadlines
    assert (contact.every, contact.escalate_after_days, contact.escalate_again_after_days) == (14, 7, 14)
    plain = _load(tmp_path, "remind_before_days: 2").states["open"].deadlines[0]
    assert (plain.every, plain.escalate_after_days, plain.escalate_again_after_days) == (None, None, None)


@pytest.mark.parametrize("extra,message", [
    ("every: 0", "'every' must be a whole number >= 1"),
    ("escalate_again_after_days: 5", "'escalate_again_after_days' needs 'escalate_after_days'"),
    ("escalate_after_days: 7\nescalate_again_after_days: 7", "must be larger than it"),
    ("repeat: 14", "unknown key 'repeat'"),
])
def test_bad_recurring_or_escalation_keys_are_reported_with_their_line(tmp_path, extra, message):
    from casework.workflow.loader import WorkflowFileError

    with pytest.raises(WorkflowFileError) as error:
        _load(tmp_path, extra)
    [problem] = error.value.problems
    assert message in problem.message
    assert problem.line >= 12  # the deadline's own lines, after `from:` on line 11
