"""Sign-in failure counters (global, not tenant-scoped: no ``project_id``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import Session

from meshhook.domain.login_throttle import Counter
from meshhook.store.dialect import insert_if_absent, lock_rows
from meshhook.store.tables import login_attempts

Key = tuple[str, str]  # (kind, key_hash)


def _counter(row: Any) -> Counter:
    return Counter(failures=row.failures, locked_until=row.locked_until, updated_at=row.updated_at)


def read(session: Session, keys: list[Key]) -> dict[Key, Counter]:
    rows = session.execute(
        select(login_attempts).where(
            or_(
                *(
                    and_(login_attempts.c.kind == kind, login_attempts.c.key_hash == key_hash)
                    for kind, key_hash in keys
                )
            )
        )
    ).all()
    return {(row.kind, row.key_hash): _counter(row) for row in rows}


def lock(session: Session, key: Key, now: datetime) -> Counter:
    """The counter of ``key``, created empty if absent, locked until commit
    (on PostgreSQL; SQLite's write transaction already serialises)."""
    kind, key_hash = key
    insert_if_absent(
        session,
        login_attempts,
        {"kind": kind, "key_hash": key_hash, "failures": 0, "updated_at": now},
    )
    row = session.execute(
        lock_rows(
            select(login_attempts).where(
                login_attempts.c.kind == kind, login_attempts.c.key_hash == key_hash
            )
        )
    ).one()
    return _counter(row)


def save(session: Session, key: Key, counter: Counter) -> None:
    kind, key_hash = key
    session.execute(
        update(login_attempts)
        .where(login_attempts.c.kind == kind, login_attempts.c.key_hash == key_hash)
        .values(
            failures=counter.failures,
            locked_until=counter.locked_until,
            updated_at=counter.updated_at,
        )
    )


def clear(session: Session, key: Key) -> None:
    kind, key_hash = key
    session.execute(
        delete(login_attempts).where(
            login_attempts.c.kind == kind, login_attempts.c.key_hash == key_hash
        )
    )


def forget_older_than(session: Session, cutoff: datetime) -> None:
    """Drop counters idle since before ``cutoff`` (they count from zero again)."""
    session.execute(delete(login_attempts).where(login_attempts.c.updated_at < cutoff))
