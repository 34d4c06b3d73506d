"""Italian working days: Monday to Friday, except the national public holidays."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=1)
def _italian_holidays() -> holidays.HolidayBase:
    return holidays.country_holidays("IT")


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _italian_holidays()


@lru_cache(maxsize=4096)
def add_working_days(start: date, count: int) -> date:
    """The `count`-th working day after `start` (start itself never counts)."""
    if count < 0:
        raise ValueError("count must not be negative")
    day = start
    while count:
        day += timedelta(days=1)
        if is_working_day(day):
            count -= 1
    return day


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end`; negative when end is earlier."""
    if end < start:
        return -working_days_between(end, start)
    return sum(1 for offset in range(1, (end - start).days + 1) if is_working_day(start + timedelta(days=offset)))


def working_day_on_or_before(day: date) -> date:
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


def working_day_on_or_after(day: date) -> date:
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


@lru_cache(maxsize=4096)
def subtract_working_days(start: date, count: int) -> date:
    """The `count`-th working day before `start` (start itself never counts)."""
    if count < 0:
        raise ValueError("count must not be negative")
    day = start
    while count:
        day -= timedelta(days=1)
        if is_working_day(day):
            count -= 1
    return day
