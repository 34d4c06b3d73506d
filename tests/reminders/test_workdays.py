"""Italian working days and deadline dates, across holidays, month ends and DST changes."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from casework.reminders.deadlines import due_date, end_of_local_day
from casework.reminders.workdays import add_working_days, is_working_day, working_days_between
from casework.workflow.definition import DeadlineRule

ROME = ZoneInfo("Europe/Rome")
UTC = timezone.utc

# Each national holiday, in a year where it falls on a weekday (so only the holiday makes it
# a non-working day), and in 2026.
HOLIDAYS_ON_WEEKDAYS = [
    date(2026, 1, 1),    # Capodanno, Thursday
    date(2026, 1, 6),    # Epifania, Tuesday
    date(2026, 4, 6),    # Lunedì dell'Angelo, Monday
    date(2025, 4, 25),   # Liberazione, Friday
    date(2026, 5, 1),    # Festa del lavoro, Friday
    date(2026, 6, 2),    # Festa della Repubblica, Tuesday
    date(2025, 8, 15),   # Ferragosto, Friday
    date(2024, 11, 1),   # Ognissanti, Friday
    date(2026, 12, 8),   # Immacolata, Tuesday
    date(2026, 12, 25),  # Natale, Friday
    date(2025, 12, 26),  # Santo Stefano, Friday
]
HOLIDAYS_2026 = [date(2026, month, day) for month, day in
                 [(1, 1), (1, 6), (4, 6), (4, 25), (5, 1), (6, 2), (8, 15), (11, 1), (12, 8), (12, 25), (12, 26)]]


@pytest.mark.parametrize("day", HOLIDAYS_ON_WEEKDAYS, ids=str)
def test_national_holidays_on_weekdays_are_not_working_days(day):
    assert day.weekday() < 5
    assert not is_working_day(day)


@pytest.mark.parametrize("day", HOLIDAYS_2026, ids=str)
def test_national_holidays_of_2026_are_not_working_days(day):
    assert not is_working_day(day)


def test_weekends_are_not_working_days_and_ordinary_weekdays_are():
    week = [date(2026, 3, 2) + timedelta(days=offset) for offset in range(7)]  # Monday to Sunday
    assert [is_working_day(day) for day in week] == [True] * 5 + [False] * 2


def test_easter_monday_moves_with_easter():
    assert not is_working_day(date(2025, 4, 21))  # Easter Monday 2025
    assert is_working_day(date(2026, 4, 21))
    assert not is_working_day(date(2027, 3, 29))  # Easter Monday 2027
    assert is_working_day(date(2026, 3, 30))


def test_an_ordinary_weekday_is_a_working_day():
    assert is_working_day(date(2026, 4, 24))  # the Friday before 25 April
    assert is_working_day(date(2026, 8, 14))  # the day before Ferragosto


def test_add_working_days_never_counts_the_start_day():
    assert add_working_days(date(2026, 3, 2), 0) == date(2026, 3, 2)
    assert add_working_days(date(2026, 3, 2), 1) == date(2026, 3, 3)
    assert add_working_days(date(2026, 3, 6), 1) == date(2026, 3, 9)  # Friday -> Monday
    assert add_working_days(date(2026, 3, 7), 1) == date(2026, 3, 9)  # from a Saturday
    assert add_working_days(date(2026, 3, 2), 10) == date(2026, 3, 16)


def test_add_working_days_across_25_april_and_1_may_2026():
    # Thu 23 Apr: Fri 24, (Sat 25 Liberazione, Sun 26), Mon 27, Tue 28, Wed 29, Thu 30,
    # (Fri 1 May), Mon 4 May.
    assert add_working_days(date(2026, 4, 23), 5) == date(2026, 4, 30)
    assert add_working_days(date(2026, 4, 23), 6) == date(2026, 5, 4)
    assert add_working_days(date(2026, 4, 30), 1) == date(2026, 5, 4)


def test_add_working_days_across_easter_2026():
    # Thu 2 Apr: Fri 3, (Sat 4, Easter Sun 5, Easter Mon 6), Tue 7.
    assert add_working_days(date(2026, 4, 2), 1) == date(2026, 4, 3)
    assert add_working_days(date(2026, 4, 2), 2) == date(2026, 4, 7)
    assert add_working_days(date(2026, 4, 3), 1) == date(2026, 4, 7)


def test_add_working_days_across_christmas_and_new_year():
    # Thu 24 Dec 2026: (Fri 25, Sat 26, Sun 27), Mon 28, Tue 29, Wed 30, Thu 31, (Fri 1 Jan), Mon 4.
    assert add_working_days(date(2026, 12, 24), 4) == date(2026, 12, 31)
    assert add_working_days(date(2026, 12, 24), 5) == date(2027, 1, 4)


def test_add_working_days_refuses_a_negative_count():
    with pytest.raises(ValueError):
        add_working_days(date(2026, 3, 2), -1)


def test_working_days_between():
    assert working_days_between(date(2026, 3, 2), date(2026, 3, 2)) == 0
    assert working_days_between(date(2026, 3, 2), date(2026, 3, 9)) == 5
    assert working_days_between(date(2026, 4, 23), date(2026, 5, 4)) == 6
    assert working_days_between(date(2026, 4, 2), date(2026, 4, 7)) == 2
    assert working_days_between(date(2026, 5, 4), date(2026, 4, 23)) == -6


@pytest.mark.parametrize("start,count", [(date(2026, 4, 2), 7), (date(2026, 12, 20), 9), (date(2026, 3, 27), 12)])
def test_working_days_between_undoes_add_working_days(start, count):
    assert working_days_between(start, add_working_days(start, count)) == count


# --- deadline dates ---------------------------------------------------------------------

def rule(amount: int, unit: str) -> DeadlineRule:
    return DeadlineRule(id="due", label={"it": "Scadenza", "en": "Due"}, amount=amount, unit=unit)


def test_end_of_local_day_in_winter_and_summer():
    assert end_of_local_day(date(2026, 3, 2), ROME) == datetime(2026, 3, 2, 22, 59, 59, 999999, tzinfo=UTC)
    assert end_of_local_day(date(2026, 7, 1), ROME) == datetime(2026, 7, 1, 21, 59, 59, 999999, tzinfo=UTC)
    assert end_of_local_day(date(2026, 7, 1), ROME).tzinfo == UTC


def test_end_of_local_day_around_the_spring_dst_change():
    # 29 March 2026: clocks go from 02:00 CET to 03:00 CEST; the day is 23 hours long.
    assert end_of_local_day(date(2026, 3, 28), ROME) == datetime(2026, 3, 28, 22, 59, 59, 999999, tzinfo=UTC)
    assert end_of_local_day(date(2026, 3, 29), ROME) == datetime(2026, 3, 29, 21, 59, 59, 999999, tzinfo=UTC)
    assert end_of_local_day(date(2026, 3, 30), ROME) == datetime(2026, 3, 30, 21, 59, 59, 999999, tzinfo=UTC)


def test_end_of_local_day_around_the_autumn_dst_change():
    # 25 October 2026: clocks go from 03:00 CEST back to 02:00 CET; the day is 25 hours long.
    assert end_of_local_day(date(2026, 10, 24), ROME) == datetime(2026, 10, 24, 21, 59, 59, 999999, tzinfo=UTC)
    assert end_of_local_day(date(2026, 10, 25), ROME) == datetime(2026, 10, 25, 22, 59, 59, 999999, tzinfo=UTC)
    assert end_of_local_day(date(2026, 10, 26), ROME) == datetime(2026, 10, 26, 22, 59, 59, 999999, tzinfo=UTC)


def test_the_anchor_counts_from_its_local_day_not_its_utc_day():
    # 23:30 UTC on Saturday 28 March is 00:30 on Sunday 29 March in Rome (CET, UTC+1).
    late = datetime(2026, 3, 28, 23, 30, tzinfo=UTC)
    assert due_date(rule(1, "days"), late, ROME) == date(2026, 3, 30)
    # 22:30 UTC on Saturday 24 October is 00:30 on Sunday 25 October in Rome (CEST, UTC+2).
    late = datetime(2026, 10, 24, 22, 30, tzinfo=UTC)
    assert due_date(rule(1, "days"), late, ROME) == date(2026, 10, 26)
    # An anchor given in another zone is converted first.
    assert due_date(rule(1, "days"), datetime(2026, 3, 28, 19, 30, tzinfo=ZoneInfo("America/New_York")), ROME) == date(2026, 3, 30)


def test_a_deadline_across_the_spring_change_ends_at_2159_utc():
    anchor = datetime(2026, 3, 27, 9, 0, tzinfo=UTC)  # Friday 27 March, 10:00 in Rome
    day = due_date(rule(2, "days"), anchor, ROME)
    assert day == date(2026, 3, 29)
    assert end_of_local_day(day, ROME).isoformat() == "2026-03-29T21:59:59.999999+00:00"
    # Two working days from Friday: Monday 30, Tuesday 31 March (summer time).
    day = due_date(rule(2, "working_days"), anchor, ROME)
    assert day == date(2026, 3, 31)
    assert end_of_local_day(day, ROME).isoformat() == "2026-03-31T21:59:59.999999+00:00"


def test_a_deadline_across_the_autumn_change_ends_at_2259_utc():
    anchor = datetime(2026, 10, 23, 8, 0, tzinfo=UTC)  # Friday 23 October, 10:00 in Rome
    day = due_date(rule(2, "days"), anchor, ROME)
    assert day == date(2026, 10, 25)
    assert end_of_local_day(day, ROME).isoformat() == "2026-10-25T22:59:59.999999+00:00"
    day = due_date(rule(1, "working_days"), anchor, ROME)
    assert day == date(2026, 10, 26)
    assert end_of_local_day(day, ROME).isoformat() == "2026-10-26T22:59:59.999999+00:00"


def test_working_day_deadlines_skip_holidays():
    anchor = datetime(2026, 4, 23, 8, 0, tzinfo=UTC)  # Thursday 23 April
    assert due_date(rule(6, "working_days"), anchor, ROME) == date(2026, 5, 4)


@pytest.mark.parametrize("start,amount,expected", [
    (date(2026, 1, 31), 1, date(2026, 2, 28)),
    (date(2028, 1, 31), 1, date(2028, 2, 29)),  # leap year
    (date(2026, 3, 31), 1, date(2026, 4, 30)),
    (date(2026, 8, 31), 6, date(2027, 2, 28)),
    (date(2026, 1, 15), 6, date(2026, 7, 15)),
    (date(2026, 2, 28), 1, date(2026, 3, 28)),
])
def test_months_at_month_ends(start, amount, expected):
    anchor = datetime.combine(start, datetime.min.time(), tzinfo=ROME).replace(hour=10)
    assert due_date(rule(amount, "months"), anchor, ROME) == expected


def test_calendar_days_do_not_skip_holidays():
    anchor = datetime(2026, 4, 24, 8, 0, tzinfo=UTC)  # Friday 24 April
    assert due_date(rule(1, "days"), anchor, ROME) == date(2026, 4, 25)  # Liberazione, a Saturday
