"""The moment an operation happens and the time zone its local days are counted in.

Every domain that dates something (people, pacts, reminders, reporting) takes a Clock; the
zone always comes from `Settings.zone` (CASEWORK_TIMEZONE), never from a default here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Clock:
    """The moment an operation happens (aware) and the zone deadlines are counted in."""

    now: datetime
    zone: ZoneInfo
