"""SQLite WAL checkpoints run on a background thread, not inside commits."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from sqlalchemy import text

from meshhook.store import checkpoints, write_queue
from meshhook.store.db import create_database


def _wait_for(condition: object, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.02)
    return False


def test_app_connections_leave_checkpoints_to_the_thread_with_a_backstop(tmp_path: Path) -> None:
    db = create_database(f"sqlite:///{tmp_path / 'a.db'}")
    try:
        with db.engine.connect() as connection:
            pages = connection.execute(text("PRAGMA wal_autocheckpoint")).scalar_one()
            limit = connection.execute(text("PRAGMA journal_size_limit")).scalar_one()
        assert pages == checkpoints.LAST_RESORT_PAGES
        assert limit == checkpoints.JOURNAL_SIZE_LIMIT
    finally:
        db.dispose()


def test_a_write_commit_is_checkpointed_soon_after_and_reads_start_nothing(
    tmp_path: Path,
) -> None:
    db = create_database(f"sqlite:///{tmp_path / 'b.db'}")
    checkpointer = db.checkpointer
    assert checkpointer is not None
    try:
        with db.session(write=False) as session, session.begin():
            session.execute(text("SELECT 1"))
        assert checkpointer._thread is None  # idle until something is written

        with db.session() as session, session.begin():
            session.execute(text("CREATE TABLE t (x BLOB)"))
            session.execute(text("INSERT INTO t VALUES (randomblob(100000))"))
        assert _wait_for(lambda: checkpointer.checkpoints >= 1)
        thread = checkpointer._thread
        assert thread is not None
        assert thread.is_alive()
    finally:
        db.dispose()
    assert not thread.is_alive()


def test_memory_databases_have_no_checkpointer() -> None:
    assert create_database("sqlite://").checkpointer is None


def _wal_bytes(path: Path) -> int:
    wal = Path(f"{path}-wal")
    return wal.stat().st_size if wal.exists() else 0


def test_the_wal_is_rewound_under_continuous_writes_and_overlapping_readers(
    tmp_path: Path,
) -> None:
    """PASSIVE checkpoints alone never rewind a WAL while readers overlap and
    writers keep appending: it would grow by everything written (here ~24 MiB).
    The thread's RESTART checkpoint keeps it near its threshold instead."""
    path = tmp_path / "wal.db"
    restart_pages = 256  # 1 MiB
    checkpointer = checkpoints.BackgroundCheckpointer(
        str(path), coalesce_seconds=0.01, restart_pages=restart_pages
    )

    def connect() -> sqlite3.Connection:
        connection = sqlite3.connect(path, check_same_thread=False, timeout=30)
        connection.isolation_level = None
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute(f"PRAGMA wal_autocheckpoint={checkpoints.LAST_RESORT_PAGES}")
        connection.execute("PRAGMA journal_size_limit=1048576")
        return connection

    writer = connect()
    writer.execute("CREATE TABLE t (x BLOB)")
    queue = write_queue.queue_for(str(path))
    stop = threading.Event()

    def read_forever(offset: float) -> None:
        reader = connect()
        time.sleep(offset)
        while not stop.is_set():  # an open snapshot at every moment, alternating
            reader.execute("BEGIN")
            reader.execute("SELECT count(*) FROM t").fetchone()
            time.sleep(0.004)
            reader.execute("COMMIT")
        reader.close()

    readers = [threading.Thread(target=read_forever, args=(i * 0.002,)) for i in range(2)]
    for thread in readers:
        thread.start()
    largest = 0
    try:
        for _ in range(240):  # 240 x 100 KB
            assert queue.acquire(10)
            try:
                writer.execute("BEGIN IMMEDIATE")
                writer.execute("INSERT INTO t VALUES (randomblob(100000))")
                writer.execute("DELETE FROM t WHERE rowid < (SELECT max(rowid) - 20 FROM t)")
                writer.execute("COMMIT")
            finally:
                queue.release()
            checkpointer.committed()
            largest = max(largest, _wal_bytes(path))
            time.sleep(0.002)
    finally:
        stop.set()
        for thread in readers:
            thread.join()
        checkpointer.stop()
        writer.close()
    assert checkpointer.restarts >= 1
    # Bounded near the threshold (plus what is written while a round runs),
    # far below the ~24 MiB written.
    assert largest < 8 * 1024 * 1024, largest
