"""The SQLite writers' queue of a process: first come, first served, each
woken by the one before it, and a turn is never kept after a transaction."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from meshhook.store.db import BACKGROUND, create_database
from meshhook.store.write_queue import WriteQueue, queue_for, yielded


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


def test_a_background_waiter_is_served_after_every_ordinary_one() -> None:
    queue = WriteQueue()
    assert queue.acquire(timeout=1)
    served: list[str] = []

    def take(name: str, background: bool) -> None:
        interrupt = (lambda: None) if background else None
        assert queue.acquire(timeout=10, interrupt=interrupt)
        served.append(name)
        queue.release()

    threads = []
    for count, (name, background) in enumerate(
        [("retention", True), ("save", False), ("start", False)], start=1
    ):
        threads.append(threading.Thread(target=take, args=(name, background)))
        threads[-1].start()
        while queue.waiting < count:
            threading.Event().wait(0.001)

    queue.release()
    for thread in threads:
        thread.join()

    assert served == ["save", "start", "retention"]


def test_a_background_holder_is_interrupted_until_it_gives_way() -> None:
    """SQLite forgets an interruption that comes before the statement has
    started: a waiting writer interrupts the background holder again until it
    has given the lock back."""
    queue = WriteQueue()
    interrupts: list[float] = []
    assert queue.acquire(timeout=1, interrupt=lambda: interrupts.append(time.monotonic()))

    waiter = threading.Thread(target=lambda: (queue.acquire(timeout=10), queue.release()))
    waiter.start()
    deadline = time.monotonic() + 10
    while len(interrupts) < 3 and time.monotonic() < deadline:
        threading.Event().wait(0.001)

    assert len(interrupts) >= 3, "interrupted once and never again"
    queue.release()
    waiter.join()
    count = len(interrupts)
    threading.Event().wait(0.01)
    assert len(interrupts) == count, "not after it gave the lock back"
    assert queue.acquire(timeout=0), "free again"


def test_an_ordinary_holder_is_never_interrupted() -> None:
    queue = WriteQueue()
    assert queue.acquire(timeout=1)
    interrupts: list[str] = []

    assert not queue.acquire(timeout=0.01, interrupt=lambda: interrupts.append("x"))
    assert not queue.acquire(timeout=0.01)

    assert interrupts == []


def test_a_background_statement_gives_way_to_a_writer_and_writes_nothing(
    tmp_path: Path,
) -> None:
    """A long background statement (SQLite) is interrupted the moment an
    ordinary write transaction asks for the turn: it fails as ``yielded``,
    having written nothing, and the other transaction commits."""
    path = tmp_path / "yield.db"
    db = create_database(f"sqlite:///{path}")
    queue = queue_for(str(path))
    committed: list[str] = []

    def save() -> None:
        with db.session() as session, session.begin():
            session.execute(text("INSERT INTO saves VALUES ('saved')"))
        committed.append("saved")

    writer = threading.Thread(target=save)

    def hold(value: int) -> int:
        # Runs inside the background statement: the writer arrives now.
        if value == 1:
            writer.start()
            while queue.waiting < 1:
                threading.Event().wait(0.001)
        return value

    try:
        with db.session() as session, session.begin():
            session.execute(text("CREATE TABLE t (x INTEGER)"))
            session.execute(text("CREATE TABLE saves (what TEXT)"))
        with db.session(statements=True) as session, session.begin():
            raw = session.connection().connection.dbapi_connection
            assert raw is not None
            raw.create_function("hold", 1, hold)
            with pytest.raises(OperationalError) as failure:
                session.execute(
                    text(
                        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
                        " WHERE i < 20000000) INSERT INTO t SELECT hold(i) FROM n"
                    ),
                    execution_options={BACKGROUND: True},
                )
        writer.join(timeout=10)

        assert yielded(failure.value)
        assert committed == ["saved"]
        with db.session(write=False) as session, session.begin():
            assert session.execute(text("SELECT count(*) FROM t")).scalar_one() == 0
        assert queue.acquire(timeout=0), "the turn was given back"
        queue.release()
    finally:
        db.dispose()
