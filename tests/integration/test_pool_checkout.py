"""A pooled PostgreSQL connection is checked at checkout without a round trip,
and one the server dropped is replaced before a request uses it."""

from __future__ import annotations

import time
from typing import Any

import psycopg
import pytest
from sqlalchemy import create_engine, text

from meshhook.store.db import Database
from tests.conftest import POSTGRES_ADMIN_URL


def _one(db: Database) -> int:
    with db.session(write=False) as session, session.begin():
        value: int = session.execute(text("SELECT 41 + 1")).scalar_one()
    return value


# PostgreSQL's connection pool only (SQLite files have no server to drop them).
pytestmark = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


@pytest.fixture
def pg(db: Database) -> Database:
    assert db.is_postgres
    return db


def test_a_healthy_checkout_sends_nothing(pg: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _one(pg) == 42  # a connection in the pool
    sent: list[str] = []
    for cls in (psycopg.Cursor, psycopg.Connection):
        original = cls.execute

        def spy(self: Any, query: Any, *args: Any, _original: Any = original, **kw: Any) -> Any:
            sent.append(str(query))
            return _original(self, query, *args, **kw)

        monkeypatch.setattr(cls, "execute", spy)
    assert _one(pg) == 42
    assert sent == ["SELECT 41 + 1"]


def test_a_connection_the_server_dropped_is_replaced(pg: Database) -> None:
    assert _one(pg) == 42
    with pg.engine.connect() as connection:
        pids = {connection.execute(text("SELECT pg_backend_pid()")).scalar_one()}
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            ended = connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)"
                    " AND pg_terminate_backend(pid)"
                ),
                {"pids": list(pids)},
            ).scalar_one()
        # pg_terminate_backend only signals: wait until the backend has gone
        # (and so written its farewell and closed the socket), as after a restart.
        for _ in range(500):
            with admin.connect() as connection:
                alive = connection.execute(
                    text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)"),
                    {"pids": list(pids)},
                ).scalar_one()
            if not alive:
                break
            time.sleep(0.01)
    finally:
        admin.dispose()
    assert ended == 1
    for _ in range(3):  # every pooled connection is checked, not only the first
        assert _one(pg) == 42
