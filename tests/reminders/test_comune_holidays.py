"""A comune's own holidays (its patron saint's day, its closure days) move its pacts' deadlines.

Ten working days from Monday 2 March 2026 end on Monday 16 March. A comune whose patron saint
is celebrated on Thursday 12 March does not work that day: its pacts' deadline is Tuesday 17
March, while the same deadline in a comune without a holiday of its own stays on the 16th.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from casework.models import Beneficiary, ClosureDay, Gender, Pact, Territory, TerritoryKind
from casework.reminders.calendars import pact_calendar, working_calendars
from casework.reminders.deadline_rows import live_deadlines, occurrence_firings
from casework.reminders.deadlines import due_date
from casework.reminders.workdays import (
    NATIONAL,
    WorkingCalendar,
    add_working_days,
    is_working_day,
    working_day_on_or_before,
    working_days_between,
)
from casework.workflow.definition import DeadlineRule
from tests.reminders.helpers import POLICY, ROME, fired, open_pact_at, rome, sweep_at

UTC = timezone.utc  # noqa: UP017 (as the other reminder tests)
PATRON_12_MARCH = WorkingCalendar(patron=(3, 12))


def rule(amount: int = 10, *, remind: int = 2, escalate: int | None = 2) -> DeadlineRule:
    return DeadlineRule(id="due", label={"it": "Scadenza", "en": "Due"}, amount=amount, unit="working_days",
                        remind_before_days=remind, escalate_after_days=escalate, escalate_again_after_days=None,
                        every=None)


# --- pure: the calendar ---------------------------------------------------------------------

def test_the_patron_day_is_a_holiday_every_year_and_a_closure_day_only_on_its_date():
    closure = WorkingCalendar(closures=[date(2026, 3, 12)])
    assert not is_working_day(date(2026, 3, 12), PATRON_12_MARCH)
    assert not is_working_day(date(2027, 3, 12), PATRON_12_MARCH)  # a Friday, the next year too
    assert not is_working_day(date(2026, 3, 12), closure)
    assert is_working_day(date(2027, 3, 12), closure)
    assert is_working_day(date(2026, 3, 12), NATIONAL)
    assert is_working_day(date(2026, 3, 12))


def test_a_working_day_deadline_skips_the_comune_s_own_holiday_and_not_elsewhere():
    opened = rome(2026, 3, 2, 10)
    assert due_date(rule(), opened, ROME) == date(2026, 3, 16)
    assert due_date(rule(), opened, ROME, PATRON_12_MARCH) == date(2026, 3, 17)
    # Two closure days (Friday 13 and Monday 16 March) on top of the patron's day.
    closures = WorkingCalendar(closures=[date(2026, 3, 13), date(2026, 3, 16)], patron=(3, 12))
    assert due_date(rule(), opened, ROME, closures) == date(2026, 3, 19)
    assert working_days_between(date(2026, 3, 2), date(2026, 3, 16), PATRON_12_MARCH) == 9
    assert add_working_days(date(2026, 3, 11), 1, PATRON_12_MARCH) == date(2026, 3, 13)
    assert working_day_on_or_before(date(2026, 3, 12), PATRON_12_MARCH) == date(2026, 3, 11)


def test_a_patron_day_on_a_weekend_or_a_national_holiday_changes_nothing():
    # San Giovanni, 24 June 2028, is a Saturday; Santo Stefano, 26 December 2025, a national holiday.
    assert due_date(rule(5), rome(2028, 6, 19), ROME, WorkingCalendar(patron=(6, 24))) == date(2028, 6, 26)
    assert due_date(rule(5), rome(2025, 12, 22), ROME, WorkingCalendar(patron=(12, 26))) == \
        due_date(rule(5), rome(2025, 12, 22), ROME)


def test_reminders_and_escalations_move_off_the_comune_s_closure_days():
    # Due Friday 20 March 2026: the reminder (2 days before, 18 March) and the escalation
    # (overdue by 2 whole days: Monday 23 March) fall on closure days and move.
    closed = WorkingCalendar(closures=[date(2026, 3, 18), date(2026, 3, 23)])
    national = {f.kind.value: f.fire_at for f in occurrence_firings(rule(), date(2026, 3, 20), POLICY)}
    own = {f.kind.value: f.fire_at for f in occurrence_firings(rule(), date(2026, 3, 20), POLICY, closed)}
    assert national == {"reminder": datetime(2026, 3, 18, 7, tzinfo=UTC), "escalation": datetime(2026, 3, 23, 7, tzinfo=UTC)}
    assert own == {"reminder": datetime(2026, 3, 17, 7, tzinfo=UTC), "escalation": datetime(2026, 3, 24, 7, tzinfo=UTC)}


# --- on the database: the pact's comune -----------------------------------------------------

def _comune_with_patron(session, world) -> Territory:
    comune = Territory(name="San Mauro Torinese", kind=TerritoryKind.COMUNE, istat_code="001249",
                       parent=world.comune.parent, province="TO", cadastral_code="I030",
                       patron_month=3, patron_day=12)
    session.add(comune)
    session.commit()
    return comune


def _person(comune: Territory) -> Beneficiary:
    return Beneficiary(first_name="Luca", last_name="Ferri", gender=Gender.MALE, comune=comune)


def test_a_pact_s_deadline_skips_its_comune_s_patron_day_and_the_same_pact_elsewhere_does_not(
        session, session_factory, registry, world):
    own = _comune_with_patron(session, world)
    opened = rome(2026, 3, 2, 10)
    here = open_pact_at(session, registry, world, opened, beneficiary=_person(own))
    there = open_pact_at(session, registry, world, opened)  # Settimo Torinese: no holiday of its own
    assert here.next_deadline_at.astimezone(ROME).date() == date(2026, 3, 17)
    assert there.next_deadline_at.astimezone(ROME).date() == date(2026, 3, 16)

    sweep_at(session_factory, registry, rome(2026, 3, 2, 11))
    with session_factory() as check:
        [row_here] = live_deadlines(check, check.get(Pact, here.id))
        [row_there] = live_deadlines(check, check.get(Pact, there.id))
    assert row_here.due_on == date(2026, 3, 17)
    assert row_there.due_on == date(2026, 3, 16)
    # Reminders 2 days before: Sunday 15 -> Friday 13 March here, Saturday 14 -> Friday 13 there;
    # escalations when overdue by 2 whole days: Friday 20 here, Thursday 19 there.
    assert row_here.next_fire_at == row_there.next_fire_at == datetime(2026, 3, 13, 7, tzinfo=UTC)

    sweep_at(session_factory, registry, rome(2026, 3, 19, 8))
    assert {(p, kind) for p, _, _, kind, _ in fired(session_factory)} == {
        (here.id, "reminder"), (there.id, "reminder"), (there.id, "escalation")}
    sweep_at(session_factory, registry, rome(2026, 3, 20, 8))
    assert (here.id, "screening_due", date(2026, 3, 17), "escalation", "elena") in fired(session_factory)


def test_a_closure_day_added_later_moves_the_deadline_of_a_pact_opened_afterwards(session, registry, world):
    comune = world.comune
    opened = rome(2026, 3, 2, 10)
    before = open_pact_at(session, registry, world, opened)
    assert before.next_deadline_at.astimezone(ROME).date() == date(2026, 3, 16)
    assert working_calendars(session) == {}  # read once for the session, and empty
    session.add(ClosureDay(territory=comune, day=date(2026, 3, 9)))
    session.commit()
    after = open_pact_at(session, registry, world, opened)
    assert pact_calendar(session, after) == WorkingCalendar(closures=[date(2026, 3, 9)])
    assert after.next_deadline_at.astimezone(ROME).date() == date(2026, 3, 17)


def test_a_person_without_a_comune_follows_the_programme_s_territory(session, registry, world):
    world.programme.territory.patron_month, world.programme.territory.patron_day = 3, 12
    session.commit()
    pact = open_pact_at(session, registry, world, rome(2026, 3, 2, 10),
                        beneficiary=Beneficiary(first_name="Ada", last_name="Neri", gender=Gender.FEMALE))
    assert pact.next_deadline_at.astimezone(ROME).date() == date(2026, 3, 17)


def test_holidays_set_by_an_administrator_move_the_running_deadlines_at_the_next_sweep(
        session, session_factory, registry, world):
    from casework.administration import territories
    from casework.models import Role, User

    admin = User(username="admin", full_name="Admin", email="admin@example.org", password_hash="!",
                 role=Role.ADMIN, territory=world.comune.parent)
    session.add(admin)
    session.commit()
    pact = open_pact_at(session, registry, world, rome(2026, 3, 2, 10))
    sweep_at(session_factory, registry, rome(2026, 3, 2, 11))
    version, shown = pact.version, pact.next_deadline_at
    assert shown.astimezone(ROME).date() == date(2026, 3, 16)
    territories.set_comune_holidays(session, admin, world.comune.id, patron_month=3, patron_day=12,
                                    closure_days="13/03/2026", now=rome(2026, 3, 3, 9))
    session.commit()
    sweep_at(session_factory, registry, rome(2026, 3, 3, 9, 5))
    with session_factory() as check:
        stored = check.get(Pact, pact.id)
        [row] = live_deadlines(check, stored)
    # 12 (patron) and 13 March (closure) do not count: ten working days end on Wednesday 18 March,
    # and the reminder two days before (Monday 16) is a working day.
    assert row.due_on == date(2026, 3, 18)
    assert row.next_fire_at == datetime(2026, 3, 16, 7, tzinfo=UTC)
    # The next deadline the lists show follows too, without a new version of the pact.
    assert (stored.next_deadline_at, stored.next_deadline_label) == (row.due_at, "screening_due")
    assert stored.version == version
