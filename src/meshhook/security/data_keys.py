"""Unwrapped project data keys kept in memory for a while, and where a
process's key-encryption keys come from. No I/O.

Sealing a run payload needs the project's data key. Unwrapping it means a
database read and an AES-GCM operation under the key-encryption key, so a
process keeps the unwrapped keys it used in a bounded cache with a short time
to live: a step then costs one AES-GCM per payload, and a key-encryption key
removed from the configuration stops being usable within ``ttl`` seconds.
Data keys never change under a rotation of the key-encryption key (only their
wrapping does), so a cached key never goes stale; a payload naming another key
id makes the caller look in the database again.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol
from uuid import UUID

from meshhook.security.envelope import DataKey, Keyring

DEFAULT_SIZE = 1024
DEFAULT_TTL_SECONDS = 60.0


class KeySource(Protocol):
    """The current keyring, re-read when a rotation may have changed it
    (``services.keys.KeyProvider``)."""

    keyring: Keyring

    def refresh(self) -> Keyring: ...


class DataKeyCache:
    """Project id → unwrapped data key, least recently used dropped first,
    each entry forgotten ``ttl`` seconds after it was put. Thread-safe."""

    def __init__(
        self,
        size: int = DEFAULT_SIZE,
        ttl: float = DEFAULT_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.size = size
        self.ttl = ttl
        self.clock = clock
        self._entries: OrderedDict[UUID, tuple[DataKey, float]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, project_id: UUID) -> DataKey | None:
        with self._lock:
            entry = self._entries.get(project_id)
            if entry is None:
                return None
            key, expires = entry
            if self.clock() >= expires:
                del self._entries[project_id]
                return None
            self._entries.move_to_end(project_id)
            return key

    def put(self, project_id: UUID, key: DataKey) -> None:
        with self._lock:
            self._entries[project_id] = (key, self.clock() + self.ttl)
            self._entries.move_to_end(project_id)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


class KeySlot:
    """What a database's users in one process seal run payloads with: the key
    source the app or a worker attached (none: payloads are written in clear,
    as only bare test databases are), and the data key cache."""

    def __init__(self) -> None:
        self.source: KeySource | None = None
        self.cache = DataKeyCache()

    def attach(self, source: KeySource) -> None:
        self.source = source
