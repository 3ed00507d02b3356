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

A background writer (a retention batch) waits behind every ordinary writer
and yields to one that arrives while it holds the turn: its statement is
interrupted (``sqlite3_interrupt``; SQLite rolls the one statement back) and
the turn passes on at once, so a save never waits for a batch to finish.

SQLite's lock stays the authority: the queue only orders this process's
writers. Another process writing the same file (the admin CLI, a second
``meshhook worker``) is still waited for by the busy handler, and a slot the
queue handed out too early, or too late, costs time, never correctness.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

NUDGE_SECONDS = 0.001
"""How often a writer waiting behind a background statement interrupts it again."""

_QUEUES: dict[str, WriteQueue] = {}
_QUEUES_LOCK = threading.Lock()


class WriteQueue:
    """A lock handed to the oldest ordinary waiter when released (its thread,
    asleep on a lock of its own, wakes at once), and to a background waiter
    only when no ordinary one waits. A background holder is interrupted when
    an ordinary writer arrives (see :meth:`acquire`)."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._held = False
        self._waiters: deque[_Waiter] = deque()
        self._yielder: Callable[[], None] | None = None

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    def acquire(self, timeout: float, *, interrupt: Callable[[], None] | None = None) -> bool:
        """Take the lock, waiting at most ``timeout`` seconds; False if not.

        With ``interrupt``, the caller is a background writer: it is served
        after every ordinary waiter, and while it holds the lock an ordinary
        writer waiting for it calls ``interrupt`` (under the queue's guard, so
        never after the holder has given the lock back), and again every
        :data:`NUDGE_SECONDS`: SQLite forgets an interruption that comes
        before the statement has started."""
        with self._guard:
            if not self._held:
                self._held = True
                self._yielder = interrupt
                return True
            mine = _Waiter(interrupt)
            self._waiters.append(mine)
            nudging = interrupt is None and self._nudge()
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            if mine.lock.acquire(timeout=min(left, NUDGE_SECONDS) if nudging else left):
                return True
            if nudging:
                with self._guard:
                    nudging = self._nudge()
        with self._guard:
            try:
                self._waiters.remove(mine)
            except ValueError:
                return True  # handed over just as the wait timed out: ours
            return False

    def _nudge(self) -> bool:
        """Interrupt a background holder (the guard held); whether there was one."""
        if self._yielder is None:
            return False
        self._yielder()
        return True

    def release(self) -> None:
        with self._guard:
            if not self._waiters:
                self._held = False
                self._yielder = None
                return
            # Still held: by the oldest ordinary waiter, or else the oldest
            # background one.
            chosen = next((w for w in self._waiters if w.interrupt is None), self._waiters[0])
            self._waiters.remove(chosen)
            self._yielder = chosen.interrupt
            chosen.lock.release()


class _Waiter:
    __slots__ = ("interrupt", "lock")

    def __init__(self, interrupt: Callable[[], None] | None) -> None:
        self.interrupt = interrupt
        self.lock = threading.Lock()
        self.lock.acquire()


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

    def take_turn(self, timeout: float, *, background: bool = False) -> None:
        """Wait for this file's writers' turn; ``background``: behind every
        ordinary writer, and yielding to one that arrives meanwhile (the
        running statement fails with "interrupted", see :func:`yielded`)."""
        queue = self.write_queue
        if queue is None or self._turn:
            return
        if not queue.acquire(timeout, interrupt=self.interrupt if background else None):
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


def yielded(error: BaseException) -> bool:
    """Whether ``error`` (or the DB-API error it wraps) is a background
    statement's interruption by an ordinary writer: nothing of it was
    written, and it may simply be tried again."""
    original = getattr(error, "orig", error)
    return isinstance(original, sqlite3.OperationalError) and str(original) == "interrupted"
