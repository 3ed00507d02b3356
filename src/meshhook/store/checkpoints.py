"""SQLite WAL checkpoints on a background thread, off the request path.

In WAL mode every commit appends pages to the ``-wal`` file; a *checkpoint*
copies them back into the database file and syncs it. SQLite's default runs
that checkpoint inside whichever commit pushes the WAL past 1,000 pages: about
one save in ten of a large workflow then paid ~10 ms more (the p99 of a save
was the checkpoint). Here commits only wake a thread that runs a ``PASSIVE``
checkpoint shortly afterwards on its own connection: it never waits for, nor
blocks, readers and writers, and sqlite3 releases the GIL while it copies.

A ``PASSIVE`` checkpoint cannot *rewind* the WAL: under continuous writes (a
retention pass deleting a million runs beside saves) there is always a newer
frame or an older reader, the next writer keeps appending, and the file grows.
When a checkpoint leaves more than :data:`RESTART_PAGES` in the WAL, the thread
therefore takes its turn in this process's writers' queue
(:mod:`meshhook.store.write_queue`) and runs a ``RESTART`` checkpoint: it copies
the few frames written since the ``PASSIVE`` one and waits (briefly) for
readers of old frames, so the next writer starts the WAL from its beginning
(and ``journal_size_limit`` trims the file). The saves queued meanwhile wait
for that copy only, about once per 64 MiB written, and are woken the moment it
is done.

App connections therefore never checkpoint inside a commit, where the
committing writer would still hold its turn and every queued save would wait
for the whole copy (a 200 ms save tail during the 1,000,000-run retention
bench): their automatic checkpoint is only a last resort at
:data:`LAST_RESORT_PAGES`, for a process whose thread cannot keep up. The
thread starts at the first write commit and sleeps on an event when idle: no
polling, no CPU.
"""

from __future__ import annotations

import sqlite3
import threading
import time

import structlog

from meshhook.store import write_queue

log = structlog.get_logger(__name__)

# Past this many WAL pages (4 KiB each: 64 MiB) left after a PASSIVE
# checkpoint, the thread rewinds the WAL with a RESTART checkpoint.
RESTART_PAGES = 16_384
# App connections checkpoint inside a commit only past this many pages (1 GiB):
# a last resort should the thread be unable to keep the WAL short.
LAST_RESORT_PAGES = 262_144
# After a checkpoint the WAL file is truncated to at most this size.
JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024
# A burst of commits is checkpointed once, this long after it started.
COALESCE_SECONDS = 0.5
# How long a RESTART waits for its turn among the writers (briefly: what they
# write meanwhile is what it copies while holding the turn), and then for
# readers of old frames, before it gives up until the next round.
RESTART_TURN_SECONDS = 0.02
RESTART_READERS_MS = 200


class BackgroundCheckpointer:
    """Checkpoints one SQLite file's WAL soon after commits, on a daemon thread."""

    def __init__(
        self,
        path: str,
        *,
        coalesce_seconds: float = COALESCE_SECONDS,
        restart_pages: int = RESTART_PAGES,
    ) -> None:
        self.path = path
        self.coalesce_seconds = coalesce_seconds
        self.restart_pages = restart_pages
        self.checkpoints = 0  # completed PASSIVE checkpoints, for tests and metrics
        self.restarts = 0  # RESTART checkpoints that rewound the WAL
        # The WAL's length when the last RESTART finished: until a writer
        # rewinds it, PASSIVE checkpoints keep reporting that length.
        self._restarted_at = -1
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        # One checkpointing connection, used by the thread and by callers of
        # :meth:`checkpoint`, one at a time.
        self._checkpointing = threading.Lock()
        self._connection: sqlite3.Connection | None = None

    def committed(self) -> None:
        """Called after every write commit: schedule a checkpoint."""
        if self._thread is None:
            self._start()
        self._wake.set()

    def stop(self) -> None:
        """Run a last checkpoint and end the thread (idempotent)."""
        self._stopping.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=10)

    def _start(self) -> None:
        with self._lock:
            if self._thread is None and not self._stopping.is_set():
                self._thread = threading.Thread(
                    target=self._run, name="meshhook-sqlite-checkpoint", daemon=True
                )
                self._thread.start()

    def checkpoint(self) -> None:
        """Checkpoint now, in the calling thread. A writer that produces WAL
        faster than the thread copies it back (a retention pass deleting a
        million runs) calls this between its batches: it pays for its own
        copying, and so paces itself, and a ``RESTART`` then has only the
        frames other writers added meanwhile to copy while it holds the turn."""
        with self._checkpointing:
            if self._connection is None:
                self._connection = sqlite3.connect(self.path, check_same_thread=False, timeout=0)
            self._checkpoint(self._connection)

    def _run(self) -> None:
        try:
            while not self._stopping.is_set():
                self._wake.wait()
                # Let the rest of a burst commit first: one checkpoint for all of it.
                self._stopping.wait(self.coalesce_seconds)
                self._wake.clear()
                self.checkpoint()
            self.checkpoint()
        finally:
            with self._checkpointing:
                if self._connection is not None:
                    self._connection.close()
                    self._connection = None

    def _checkpoint(self, connection: sqlite3.Connection) -> None:
        try:
            _busy, wal_pages, _copied = connection.execute(
                "PRAGMA wal_checkpoint(PASSIVE)"
            ).fetchone()
        except sqlite3.Error as error:  # busy or locked: the next commit retries
            log.debug("sqlite checkpoint skipped", error=str(error))
            return
        self.checkpoints += 1
        if wal_pages > self.restart_pages and wal_pages != self._restarted_at:
            self._restart(connection)

    def _restart(self, connection: sqlite3.Connection) -> None:
        """Rewind a WAL that PASSIVE checkpoints let grow, holding this
        process's writers' turn so queued writers sleep until it is done."""
        queue = write_queue.queue_for(self.path)
        if not queue.acquire(RESTART_TURN_SECONDS):
            return  # a writer is at work: after its commit, a PASSIVE first again
        began = time.perf_counter()
        try:
            connection.execute(f"PRAGMA busy_timeout={RESTART_READERS_MS}")
            busy, wal_pages, copied = connection.execute(
                "PRAGMA wal_checkpoint(RESTART)"
            ).fetchone()
        except sqlite3.Error as error:
            log.debug("sqlite wal restart skipped", error=str(error))
            return
        finally:
            connection.execute("PRAGMA busy_timeout=0")
            queue.release()
        if not busy:
            self.restarts += 1
            self._restarted_at = wal_pages
        log.debug(
            "sqlite wal restart",
            busy=busy,
            wal_pages=wal_pages,
            copied=copied,
            held_ms=round((time.perf_counter() - began) * 1000, 1),
        )
