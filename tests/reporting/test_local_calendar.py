"""Local days and months of UTC instants, computed in SQL, agree with Python's zone data: on
SQLite within the reported span by the zone's offsets, outside it through the Python function."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import DateTime, literal, select

from casework.reporting.period import LocalCalendar, utc_offsets

ROME = ZoneInfo("Europe/Rome")
NEW_YORK = ZoneInfo("America/New_York")


def test_the_offsets_change_at_the_zone_s_transitions():
    start, end = datetime(2024, 12, 31, 23, tzinfo=UTC), datetime(2025, 12, 31, 23, tzinfo=UTC)
    assert utc_offsets(ROME, start, end) == [
        (start, 3600), (datetime(2025, 3, 30, 1, tzinfo=UTC), 7200), (datetime(2025, 10, 26, 1, tzinfo=UTC), 3600),
    ]
    assert utc_offsets(ZoneInfo("UTC"), start, end) == [(start, 0)]


@pytest.mark.parametrize("zone", [ROME, NEW_YORK], ids=["rome", "new_york"])
def test_local_days_and_months_in_sql_agree_with_python(session, zone):
    span = (datetime(2025, 1, 1, tzinfo=zone).astimezone(UTC), datetime(2026, 1, 1, tzinfo=zone).astimezone(UTC))
    calendar = LocalCalendar(session, zone, span=span)
    transitions = [instant for instant, _ in utc_offsets(zone, *span)]
    # Around each change of offset, each end of the span, and local midnights near them.
    instants = [
        moment + timedelta(seconds=shift)
        for moment in [*transitions, span[1], datetime(2024, 6, 30, 22, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)]
        for shift in (-7201, -3600, -1, 0, 1, 3599, 3600, 7200, 86399)
    ] + [datetime(2025, 7, 31, 22, 30, 15, 123456, tzinfo=UTC), datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)]
    for instant in instants:
        stored = literal(instant.replace(tzinfo=None), DateTime())
        day, month = session.execute(select(calendar.day(stored), calendar.month(stored))).one()
        local = instant.astimezone(zone)
        assert (str(day), month) == (str(local.date()), local.strftime("%Y-%m")), instant


def test_no_instant_has_no_day(session):
    calendar = LocalCalendar(session, ROME, span=(datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 2, 1, tzinfo=UTC)))
    assert session.execute(select(calendar.day(literal(None, DateTime())))).scalar_one() is None
