"""Figures computed from many rows, kept in the process until the case data changes.

An entry is taken only under the data version (casework.models.DataVersion) it was computed
at, in the same database, from the instant it was computed at until the instant it says it
holds (`valid_until`: figures
that depend on the time, such as "overdue", stop holding when the next deadline passes or the
local day ends). The version is read before computing: a figure can then only be newer than
its version, never older. Each process (each web worker) keeps its own entries, a bounded
number, the least recently used dropped first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import datetime
from typing import Generic, TypeVar

from sqlalchemy.orm import Session

from casework.models import User, current_data_version, has_uncounted_changes

T = TypeVar("T")


class FigureCache(Generic[T]):
    def __init__(self, size: int = 64):
        self._size = size
        # key -> (data version, computed at, valid until, figure)
        self._entries: OrderedDict[Hashable, tuple[tuple[str, int], datetime, datetime | None, T]] = OrderedDict()
        self._lock = threading.Lock()

    def get(
        self, session: Session, key: Hashable, compute: Callable[[], tuple[T, datetime | None]], *, now: datetime,
    ) -> T:
        """The figure for `key`: kept, or `compute()`d and kept. `compute` returns the figure and
        the instant until which it holds (None: until the data changes)."""
        if has_uncounted_changes(session):  # this transaction's own changes are not in any entry
            return compute()[0]
        version = current_data_version(session)
        if version is None:  # no change ever counted in this database: nothing to tell entries apart
            return compute()[0]
        full_key = (str(session.get_bind().url), key)
        with self._lock:
            found = self._entries.get(full_key)
            if found is not None and found[0] == version and found[1] <= now and (found[2] is None or now < found[2]):
                self._entries.move_to_end(full_key)
                return found[3]
        value, valid_until = compute()
        with self._lock:
            self._entries[full_key] = (version, now, valid_until, value)
            self._entries.move_to_end(full_key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def viewer_key(user: User) -> Hashable:
    """What a figure computed for `user` depends on besides the data: the user as this request
    loaded them. A role, territory or deactivation committed while a request ran moves the data
    version too, and that request must not store figures of the old scope under the new version."""
    return (user.id, user.role, user.active, user.territory_id)
