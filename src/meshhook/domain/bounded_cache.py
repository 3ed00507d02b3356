"""A least-recently-used cache bounded by bytes as well as by entries.

``functools.lru_cache`` counts entries only, so 8,192 entries of 4 MB each is a
cache too: 40 requests with 4 MB identifiers held 500 MB that was never freed.
Here each entry has a weight (roughly its bytes, said by the caller) and an
entry heavier than ``max_entry_bytes`` is simply not kept.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

# What an entry costs besides the weight its caller declares (dict slot, tuple).
_ENTRY_OVERHEAD = 200


class BoundedCache(Generic[K, V]):
    """LRU map with at most ``max_entries`` entries weighing ``max_bytes`` in all."""

    def __init__(self, *, max_entries: int, max_bytes: int, max_entry_bytes: int) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.max_entry_bytes = max_entry_bytes
        self._entries: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._bytes = 0
        # Request threads share the cache; the checks themselves run unlocked.
        self._lock = threading.Lock()

    @property
    def size_bytes(self) -> int:
        """The declared weight of everything held now."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, key: K) -> tuple[bool, V | None]:
        """``(True, value)`` when ``key`` is held (and mark it recently used)."""
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return False, None
            self._entries.move_to_end(key)
            return True, found[0]

    def put(self, key: K, value: V, weight: int) -> None:
        """Keep ``value`` unless it alone is too heavy; evict the oldest to make room."""
        weight += _ENTRY_OVERHEAD
        if weight > self.max_entry_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._entries[key] = (value, weight)
            self._bytes += weight
            while self._bytes > self.max_bytes or len(self._entries) > self.max_entries:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._bytes -= dropped

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0
