"""What an indicator report covers: a programme or all, a territory or all, and a period of
local days; which periods can be reported on; and local days and months of UTC timestamps in SQL.

Local time: the period is given in local days and months follow the local calendar, so
timestamps (stored in UTC) are converted in SQL: PostgreSQL with `AT TIME ZONE`, SQLite
(which has no time zone data) with a function registered on the connection.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Date, DateTime, Integer, case, cast, func, literal
from sqlalchemy.orm import Session

# Periods Casework reports on: dates a person may mistype (year 20260) are refused, and a
# period longer than any programme would only make a month-by-month table of hundreds of rows.
EARLIEST_DAY, LATEST_DAY = date(1900, 1, 1), date(2999, 12, 31)
MAX_PERIOD_YEARS = 10
SQLITE_LOCAL_TIME = "casework_local_time"


@dataclass(frozen=True)
class IndicatorScope:
    """What to count: one programme or all the reader oversees, one territory (and below) or all,
    from `start` to `end` inclusive, in local days."""

    programme_id: int | None
    territory_id: int | None
    start: date
    end: date


def period_problems(scope: IndicatorScope) -> dict[str, str]:
    """Field -> error code for a period that cannot be reported on (empty when it can)."""
    errors: dict[str, str] = {}
    for name, day in (("start", scope.start), ("end", scope.end)):
        if not EARLIEST_DAY <= day <= LATEST_DAY:
            errors[name] = "out_of_range"
    if not errors and scope.end < scope.start:
        errors["end"] = "before_start"
    elif not errors and years_before(scope.end, MAX_PERIOD_YEARS) >= scope.start:
        errors["end"] = "period_too_long"
    return errors


def years_before(day: date, years: int) -> date:
    """The same calendar day `years` earlier (28 February for a 29 February that did not exist)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def months_between(start: date, end: date) -> list[date]:
    months, month = [], start.replace(day=1)
    while month <= end:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def _sqlite_local_time(value: str | None, zone_name: str) -> str | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(value).replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(zone_name)).strftime("%Y-%m-%d %H:%M:%S")


def utc_offsets(zone: ZoneInfo, start: datetime, end: datetime) -> list[tuple[datetime, int]]:
    """The zone's offsets from UTC, in seconds, over [start, end) (aware instants): (from when, offset)
    pieces, the first from `start`, each lasting until the next. Offsets are probed once a day:
    a zone changing its offset twice within one day would be missed (none does)."""
    def offset(moment: datetime) -> int:
        shift = moment.astimezone(zone).utcoffset()
        return int(shift.total_seconds()) if shift is not None else 0

    pieces = [(start, offset(start))]
    probe = start
    while probe < end:
        following = min(probe + timedelta(days=1), end)
        if offset(following) != pieces[-1][1]:
            before, after = probe, following  # the change happens in (before, after]: to the second
            while after - before > timedelta(seconds=1):
                middle = before + timedelta(seconds=(after - before) // timedelta(seconds=1) // 2)
                if offset(middle) == pieces[-1][1]:
                    before = middle
                else:
                    after = middle
            pieces.append((after, offset(after)))
        probe = following
    return pieces


class LocalCalendar:
    """Local days and months of UTC timestamps in SQL, and days between two days, per database.

    On SQLite, timestamps within `span` (aware UTC instants, usually the reported period) are
    shifted by the zone's offsets in SQL; others go through a Python function registered on the
    connection, which costs a call per row (most of the indicators' time at 100,000 pacts).
    """

    def __init__(self, session: Session, zone: ZoneInfo, span: tuple[datetime, datetime] | None = None):
        self.zone_name = zone.key
        self.postgres = session.get_bind().dialect.name == "postgresql"
        self.offsets: list[tuple[datetime, int]] = []
        if not self.postgres:
            # Registered on the session's connection, which serves the whole computation.
            connection = session.connection().connection.driver_connection
            connection.create_function(SQLITE_LOCAL_TIME, 2, _sqlite_local_time, deterministic=True)
            if span is not None and span[0] < span[1]:
                self.offsets = utc_offsets(zone, *span)
                self.span_end = span[1]

    def _local(self, moment: Any) -> ColumnElement[Any]:
        if self.postgres:
            # Stored naive UTC: read as UTC first, then shown in the zone (a naive local time).
            return func.timezone(self.zone_name, func.timezone("UTC", moment))
        in_python = getattr(func, SQLITE_LOCAL_TIME)(moment, self.zone_name)
        if not self.offsets:
            return in_python

        def stored(instant: datetime) -> ColumnElement[Any]:  # as the column stores it: naive UTC
            return literal(instant.astimezone(UTC).replace(tzinfo=None), DateTime())

        # datetime() writes 'YYYY-MM-DD HH:MM:SS', as the Python function does.
        whens: list[tuple[Any, Any]] = [(moment.is_(None), None), (moment < stored(self.offsets[0][0]), in_python)]
        ends = [start for start, _ in self.offsets[1:]] + [self.span_end]
        for (_, seconds), until in zip(self.offsets, ends, strict=True):
            whens.append((moment < stored(until), func.datetime(moment, f"{seconds:+d} seconds")))
        return case(*whens, else_=in_python)

    def day(self, moment: Any) -> ColumnElement[Any]:
        return cast(self._local(moment), Date) if self.postgres else func.date(self._local(moment))

    def month(self, moment: Any) -> ColumnElement[str]:
        if self.postgres:
            return func.to_char(self._local(moment), "YYYY-MM")
        return func.strftime("%Y-%m", self._local(moment))

    def days_between(self, later: Any, earlier: Any) -> ColumnElement[int]:
        if self.postgres:
            return later.op("-", return_type=Integer)(earlier)
        return cast(func.julianday(later) - func.julianday(earlier), Integer)
