"""SQLite WAL checkpoints run on a background thread, not inside commits."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import text

from meshhook.store import checkpoints
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
        assert pages == checkpoints.BACKSTOP_PAGES
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
