"""SQLite writers of one process wait in line for the write lock, and are
woken the moment it frees.

SQLite has one write lock per database file. A connection that finds it taken
waits in SQLite's busy handler, which does not know when the lock frees: it
sleeps 1, 2, 5, 10, 15, 20, 25 ... ms between tries. A save arriving while a
retention batch holds the lock for 3 ms therefore waited 8 ms, one arriving
during a 10 ms transaction 18 ms, and the order in which waiters got the lock
was luck. Here every write transaction of the process first takes its turn in
a first-come-first-served :class:`WriteQueue` for the file (before ``BEGIN
IMMEDIATE``; released right after ``COMMIT`` or ``ROLLBACK``), so a waiter
sleeps on a lock of its own that the previous writer hands over when it is
done.

SQLite's lock stays the authority: the queue only orders this process's
writers. Another process writing the same file (the admin CLI, a second
``meshhook worker``) is still waited for by the busy handler, and a slot the
queue handed out too early, or too late, costs time, never correctness.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import deque
from pathlib import Path
from typing import Any

_QUEUES: dict[str, WriteQueue] = {}
_QUEUES_LOCK = threading.Lock()


class WriteQueue:
    """A first-come-first-served lock: :meth:`release` hands it to the oldest
    waiter, which wakes at once (its thread sleeps on a lock of its own)."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._held = False
        self._waiters: deque[threading.Lock] = deque()

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    def acquire(self, timeout: float) -> bool:
        """Take the lock, waiting at most ``timeout`` seconds; False if not."""
        with self._guard:
            if not self._held:
                self._held = True
                return True
            mine = threading.Lock()
            mine.acquire()
            self._waiters.append(mine)
        if mine.acquire(timeout=timeout):
            return True
        with self._guard:
            try:
                self._waiters.remove(mine)
            except ValueError:
                return True  # handed over just as the wait timed out: ours
            return False

    def release(self) -> None:
        with self._guard:
            if self._waiters:
                self._waiters.popleft().release()  # still held: by the next one now
            else:
                self._held = False


def queue_for(path: str) -> WriteQueue:
    """The one queue of this process for the SQLite file at ``path`` (every
    engine and connection on the file shares it)."""
    key = str(Path(path).expanduser().resolve())
    with _QUEUES_LOCK:
        queue = _QUEUES.get(key)
        if queue is None:
            queue = _QUEUES[key] = WriteQueue()
        return queue


class QueuedConnection(sqlite3.Connection):
    """A sqlite3 connection that gives its writer's turn back when its
    transaction ends (``sqlite3.connect(factory=QueuedConnection)``); the
    engine's ``begin`` hook takes the turn (:meth:`take_turn`)."""

    write_queue: WriteQueue | None = None
    _turn = False

    def take_turn(self, timeout: float) -> None:
        queue = self.write_queue
        if queue is None or self._turn:
            return
        if not queue.acquire(timeout):
            raise sqlite3.OperationalError("database is locked")
        self._turn = True

    def give_turn(self) -> None:
        if self._turn:
            self._turn = False
            assert self.write_queue is not None
            self.write_queue.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.give_turn()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.give_turn()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.give_turn()


def attach(dbapi_connection: Any, path: str | None) -> None:
    """Give a new connection of the engine its file's queue (none in memory)."""
    if (
        isinstance(dbapi_connection, QueuedConnection)
        and path
        and path != ":memory:"
        and not path.startswith("file:")
    ):
        dbapi_connection.write_queue = queue_for(path)
