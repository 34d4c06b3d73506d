"""Small counts withheld: a figure over restricted cases (violence, court orders) that the reader
is not assigned to is an anonymous count, and a count of fewer than five people could point at
someone (a comune, a month, a programme for victims of violence). Such a count is written
SMALL_COUNT ("<5") wherever it is shown or exported.
"""

from __future__ import annotations

SMALLEST_SHOWN = 5
SMALL_COUNT = f"<{SMALLEST_SHOWN}"


def is_small(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < SMALLEST_SHOWN


def shown_count(value: int) -> int | str:
    """The count, or SMALL_COUNT when it is too small to show."""
    return SMALL_COUNT if is_small(value) else value
