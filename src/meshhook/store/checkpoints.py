"""SQLite WAL checkpoints on a background thread, off the request path.

In WAL mode every commit appends pages to the ``-wal`` file; a *checkpoint*
copies them back into the database file and syncs it. SQLite's default runs
that checkpoint inside whichever commit pushes the WAL past 1,000 pages: about
one save in ten of a large workflow then paid ~10 ms more (the p99 of a save
was the checkpoint). Here commits only wake a thread that runs a ``PASSIVE``
checkpoint shortly afterwards on its own connection: it never waits for, nor
blocks, readers and writers, and sqlite3 releases the GIL while it copies.

App connections keep automatic checkpoints as a backstop (at a larger
``BACKSTOP_PAGES``), so the WAL stays bounded even if this thread falls behind.
The thread starts at the first write commit and sleeps on an event when idle:
no polling, no CPU.
"""

from __future__ import annotations

import sqlite3
import threading

import structlog

log = structlog.get_logger(__name__)

# Automatic checkpoints on app connections happen only past this many WAL pages
# (4 KiB each: 64 MiB); the background thread normally checkpoints long before.
BACKSTOP_PAGES = 16_384
# After a checkpoint the WAL file is truncated to at most this size.
JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024
# A burst of commits is checkpointed once, this long after it started.
COALESCE_SECONDS = 0.5


class BackgroundCheckpointer:
    """Checkpoints one SQLite file's WAL soon after commits, on a daemon thread."""

    def __init__(self, path: str, *, coalesce_seconds: float = COALESCE_SECONDS) -> None:
        self.path = path
        self.coalesce_seconds = coalesce_seconds
        self.checkpoints = 0  # completed PASSIVE checkpoints, for tests and metrics
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

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

    def _run(self) -> None:
        connection = sqlite3.connect(self.path, check_same_thread=False, timeout=0)
        try:
            while not self._stopping.is_set():
                self._wake.wait()
                # Let the rest of a burst commit first: one checkpoint for all of it.
                self._stopping.wait(self.coalesce_seconds)
                self._wake.clear()
                self._checkpoint(connection)
            self._checkpoint(connection)
        finally:
            connection.close()

    def _checkpoint(self, connection: sqlite3.Connection) -> None:
        try:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as error:  # busy or locked: the next commit retries
            log.debug("sqlite checkpoint skipped", error=str(error))
            return
        self.checkpoints += 1
