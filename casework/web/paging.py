"""The page number a list's address asks for, read the same way by every paginated list.

An address is typed, bookmarked and altered by hand: `?page=abc`, `?page=-3` or
`?page=99999999999999999999` is the first page or the last one the bound allows, never an
OFFSET the database refuses (PostgreSQL: bigint out of range; SQLite: an int too large). Each
list then shows its last page for a number past its end, as the people list always has.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import request

# Far beyond any list's last page, small enough that page × page size stays a normal integer.
MAX_PAGE = 100_000


def page_number(args: Mapping[str, str] | None = None, name: str = "page") -> int:
    """The page asked for, 1..MAX_PAGE: anything that is not a whole number is the first page."""
    raw = (request.args if args is None else args).get(name, "")
    text = raw.strip() if isinstance(raw, str) else ""
    if not text.isascii() or not text.isdigit():  # "-3", "1e9", "²", "" and the like
        return 1
    digits = text.lstrip("0")
    if len(digits) > len(str(MAX_PAGE)):  # no huge int is built (Python refuses over 4,300 digits)
        return MAX_PAGE
    return min(max(int(digits or "0"), 1), MAX_PAGE)
