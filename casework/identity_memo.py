"""Results computed from an immutable object, kept per process while the very same object recurs.

Kept reports and loaded workflow definitions are handed to every page view as the same objects
until they change, and drawing from them (charts, diagrams) costs milliseconds each time. They
hold dicts, so they cannot be hashed: an entry is keyed by the object's identity and holds the
object itself, so a recycled id() can never match another object. The least recently used
entries go first; a race only means computing twice.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

R = TypeVar("R")


class IdentityMemo(Generic[R]):
    def __init__(self, size: int = 256):
        self._size = size
        self._entries: OrderedDict[tuple[int, Hashable], tuple[object, R]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, source: object, key: Hashable, compute: Callable[[], R]) -> R:
        """What `compute()` gives for this very `source` object and `key` (its other inputs)."""
        full_key = (id(source), key)
        with self._lock:
            found = self._entries.get(full_key)
            if found is not None and found[0] is source:
                self._entries.move_to_end(full_key)
                return found[1]
        value = compute()
        with self._lock:
            self._entries[full_key] = (source, value)
            self._entries.move_to_end(full_key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return value
