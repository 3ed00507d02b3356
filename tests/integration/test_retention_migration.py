"""Migration 0017 converts existing run events: each row gains its run's
creation time, lands (PostgreSQL) in that month's partition of the new
partitioned table, and keeps row-level security and the app role's grants;
the downgrade puts the plain table back with every row."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import create_engine, text

from meshhook.store import migrate
from meshhook.store.types import UTCDateTime
from tests.conftest import create_postgres_database, drop_postgres_database

pytestmark = pytest.mark.filterwarnings(
    "ignore:Skipped unsupported reflection of expression-based index"
)

_T = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)


def _table(name: str, *columns: tuple[str, Any]) -> sa.TableClause:
    return sa.table(name, *(sa.column(column, kind) for column, kind in columns))


PROJECTS = _table(
    "projects", ("id", sa.Uuid()), ("key", sa.String()), ("name", sa.String()),
    ("created_at", UTCDateTime()),
)  # fmt: skip
WORKFLOWS = _table(
    "workflows", ("id", sa.Uuid()), ("project_id", sa.Uuid()), ("key", sa.String()),
    ("name", sa.String()), ("description", sa.String()), ("tags", sa.JSON()),
    ("is_template", sa.Boolean()), ("head_version", sa.Integer()),
    ("created_at", UTCDateTime()), ("created_by", sa.String()),
    ("updated_at", UTCDateTime()), ("updated_by", sa.String()),
)  # fmt: skip
RUNS = _table(
    "runs", ("id", sa.Uuid()), ("project_id", sa.Uuid()), ("workflow_id", sa.Uuid()),
    ("workflow_key", sa.String()), ("version", sa.Integer()), ("test", sa.Boolean()),
    ("trigger", sa.String()), ("status", sa.String()), ("dead_letter", sa.Boolean()),
    ("steps", sa.JSON()), ("last_seq", sa.Integer()), ("created_at", UTCDateTime()),
    ("created_by", sa.String()), ("canary", sa.Boolean()),
)  # fmt: skip
EVENTS = _table(
    "run_events", ("run_id", sa.Uuid()), ("seq", sa.Integer()), ("project_id", sa.Uuid()),
    ("type", sa.String()), ("node_id", sa.String()), ("at", UTCDateTime()), ("data", sa.JSON()),
)  # fmt: skip


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    request.getfixturevalue("postgres_url")  # skips or fails without PostgreSQL
    made = create_postgres_database("meshhook_retention_migration")
    yield made
    drop_postgres_database(made)


def _seed(url: str) -> dict[uuid.UUID, datetime]:
    """Two runs months apart with three events each, written at revision 0014."""
    project, workflow = uuid.uuid4(), uuid.uuid4()
    created = {uuid.uuid4(): _T, uuid.uuid4(): _T + timedelta(days=62)}
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            PROJECTS.insert().values(id=project, key="alpha", name="Alpha", created_at=_T)
        )
        connection.execute(
            WORKFLOWS.insert().values(
                id=workflow, project_id=project, key="orders", name="Orders", description="",
                tags=[], is_template=False, head_version=1, created_at=_T, created_by="t",
                updated_at=_T, updated_by="t",
            )
        )  # fmt: skip
        for run_id, at in created.items():
            connection.execute(
                RUNS.insert().values(
                    id=run_id, project_id=project, workflow_id=workflow, workflow_key="orders",
                    version=1, test=False, trigger="manual", status="succeeded",
                    dead_letter=False, steps=[], last_seq=3, created_at=at, created_by="t",
                    canary=False,
                )
            )  # fmt: skip
            connection.execute(
                EVENTS.insert(),
                [
                    {"run_id": run_id, "seq": seq, "project_id": project, "type": "run.queued",
                     "node_id": None, "at": at, "data": {"n": seq}}
                    for seq in (1, 2, 3)
                ],
            )  # fmt: skip
    engine.dispose()
    return created


def _rows(url: str) -> list[tuple[Any, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return sorted(
                tuple(row)
                for row in connection.execute(
                    sa.select(EVENTS.c.run_id, EVENTS.c.seq, EVENTS.c.data)
                )
            )
    finally:
        engine.dispose()


def test_existing_events_are_converted_and_come_back(url: str) -> None:
    migrate.upgrade(url, revision="0014")
    created = _seed(url)
    before = _rows(url)

    migrate.upgrade(url)

    assert _rows(url) == before
    engine = create_engine(url)
    keyed = _table("run_events", ("run_id", sa.Uuid()), ("run_created_at", UTCDateTime()))
    with engine.connect() as connection:
        stamped = connection.execute(sa.select(keyed.c.run_id, keyed.c.run_created_at)).all()
        assert dict(stamped) == created
        if connection.dialect.name == "postgresql":
            _check_postgres(connection, created)
    engine.dispose()

    migrate.downgrade(url, revision="0014")
    assert _rows(url) == before


def _check_postgres(connection: sa.Connection, created: dict[uuid.UUID, datetime]) -> None:
    partitioned = connection.execute(
        text("SELECT count(*) FROM pg_partitioned_table WHERE partrelid = 'run_events'::regclass")
    ).scalar_one()
    assert partitioned == 1
    homes = dict(
        connection.execute(
            text("SELECT run_id, tableoid::regclass::text FROM run_events GROUP BY 1, 2")
        ).all()
    )
    assert homes == {run_id: f"run_events_p{at:%Y%m}" for run_id, at in created.items()}
    assert connection.execute(
        text("SELECT relforcerowsecurity FROM pg_class WHERE oid = 'run_events'::regclass")
    ).scalar_one()
    assert (
        connection.execute(
            text("SELECT count(*) FROM pg_policies WHERE tablename = 'run_events'")
        ).scalar_one()
        == 1
    )
    grants = {
        privilege: connection.execute(
            text(f"SELECT has_table_privilege('meshhook_app', 'run_events', '{privilege}')")
        ).scalar_one()
        for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE")
    }
    assert grants == {"SELECT": True, "INSERT": True, "UPDATE": False, "DELETE": False}
    columns = {
        column: connection.execute(
            text(f"SELECT has_column_privilege('meshhook_app', 'run_events', '{column}', 'UPDATE')")
        ).scalar_one()
        for column in ("data", "type", "seq", "run_created_at")
    }
    assert columns == {"data": True, "type": False, "seq": False, "run_created_at": False}
