"""Italian working days: Monday to Friday, except the national public holidays and, for a
comune that has them, its own holidays (the patron saint's day and extra closure days).

Every function takes an optional `calendar` (a `WorkingCalendar`); without one only the
national holidays count.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=1)
def _italian_holidays() -> holidays.HolidayBase:
    return holidays.country_holidays("IT")


class WorkingCalendar:
    """The days off of one comune besides the national ones: its patron saint's day (every
    year) and its extra closure days. Immutable and hashable, so results computed with it
    can be cached."""

    __slots__ = ("_hash", "closures", "patron")

    def __init__(self, closures: Iterable[date] = (), patron: tuple[int, int] | None = None):
        self.closures = frozenset(closures)
        self.patron = patron
        self._hash = hash((self.closures, patron))

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WorkingCalendar) and (self.closures, self.patron) == (other.closures, other.patron)

    def __repr__(self) -> str:
        return f"WorkingCalendar(closures={sorted(self.closures)!r}, patron={self.patron!r})"

    def __bool__(self) -> bool:
        return bool(self.closures) or self.patron is not None

    def is_own_holiday(self, day: date) -> bool:
        return day in self.closures or (self.patron is not None and (day.month, day.day) == self.patron)


NATIONAL = WorkingCalendar()


def is_working_day(day: date, calendar: WorkingCalendar = NATIONAL) -> bool:
    return day.weekday() < 5 and day not in _italian_holidays() and not (calendar and calendar.is_own_holiday(day))


@lru_cache(maxsize=4096)
def add_working_days(start: date, count: int, calendar: WorkingCalendar = NATIONAL) -> date:
    """The `count`-th working day after `start` (start itself never counts)."""
    if count < 0:
        raise ValueError("count must not be negative")
    day = start
    while count:
        day += timedelta(days=1)
        if is_working_day(day, calendar):
            count -= 1
    return day


def working_days_between(start: date, end: date, calendar: WorkingCalendar = NATIONAL) -> int:
    """Working days after `start` up to and including `end`; negative when end is earlier."""
    if end < start:
        return -working_days_between(end, start, calendar)
    return sum(1 for offset in range(1, (end - start).days + 1)
               if is_working_day(start + timedelta(days=offset), calendar))


def working_day_on_or_before(day: date, calendar: WorkingCalendar = NATIONAL) -> date:
    while not is_working_day(day, calendar):
        day -= timedelta(days=1)
    return day


def working_day_on_or_after(day: date, calendar: WorkingCalendar = NATIONAL) -> date:
    while not is_working_day(day, calendar):
        day += timedelta(days=1)
    return day


@lru_cache(maxsize=4096)
def subtract_working_days(start: date, count: int, calendar: WorkingCalendar = NATIONAL) -> date:
    """The `count`-th working day before `start` (start itself never counts)."""
    if count < 0:
        raise ValueError("count must not be negative")
    day = start
    while count:
        day -= timedelta(days=1)
        if is_working_day(day, calendar):
            count -= 1
    return day
