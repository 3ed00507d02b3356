"""The SQLite writers' queue of a process: first come, first served, each
woken by the one before it, and a turn is never kept after a transaction."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import text

from meshhook.store.db import create_database
from meshhook.store.write_queue import WriteQueue, queue_for


def _arrive(queue: WriteQueue, name: str, served: list[str], count: int) -> threading.Thread:
    def take() -> None:
        assert queue.acquire(timeout=10)
        served.append(name)
        queue.release()

    thread = threading.Thread(target=take)
    thread.start()
    while queue.waiting < count:  # in line before the next one arrives
        threading.Event().wait(0.001)
    return thread


def test_waiters_get_the_lock_in_the_order_they_came() -> None:
    queue = WriteQueue()
    assert queue.acquire(timeout=1)
    served: list[str] = []
    threads = [_arrive(queue, name, served, n + 1) for n, name in enumerate("abcde")]

    queue.release()
    for thread in threads:
        thread.join()

    assert served == list("abcde")
    assert queue.acquire(timeout=0), "free again once everyone is served"


def test_a_wait_that_times_out_leaves_the_line() -> None:
    queue = WriteQueue()
    assert queue.acquire(timeout=1)

    assert not queue.acquire(timeout=0.01)

    assert queue.waiting == 0
    queue.release()
    assert queue.acquire(timeout=0)


def test_every_engine_on_a_file_shares_its_queue(tmp_path: Path) -> None:
    assert queue_for(str(tmp_path / "a.db")) is queue_for(str(tmp_path / "." / "a.db"))
    assert queue_for(str(tmp_path / "a.db")) is not queue_for(str(tmp_path / "b.db"))


def test_a_write_transaction_holds_the_turn_until_it_commits_or_rolls_back(
    tmp_path: Path,
) -> None:
    path = tmp_path / "queued.db"
    db = create_database(f"sqlite:///{path}")
    queue = queue_for(str(path))
    try:
        with db.session() as session, session.begin():
            session.execute(text("CREATE TABLE t (x INTEGER)"))
            assert not queue.acquire(timeout=0), "a write transaction has the turn"
        assert queue.acquire(timeout=0), "given back at commit"
        queue.release()

        session = db.session()
        session.begin()
        session.execute(text("INSERT INTO t VALUES (1)"))
        session.rollback()
        assert queue.acquire(timeout=0), "given back at rollback"
        queue.release()

        with db.session(write=False) as session, session.begin():
            session.execute(text("SELECT * FROM t")).all()
            assert queue.acquire(timeout=0), "a read transaction takes no turn"
            queue.release()

        with db.session(statements=True) as session, session.begin():
            session.execute(text("INSERT INTO t VALUES (2)"))
            assert queue.acquire(timeout=0), "a statement gives it back once run"
            queue.release()
    finally:
        db.dispose()
