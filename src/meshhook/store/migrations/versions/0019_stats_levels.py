"""Statistics rollups by quarter of a day (6 hours) and by week as well as by
hour and day, and per project (``project_run_stats``, under row-level
security), so that any window reads about a dozen rows per key instead of up
to 31 (and a project's figures one row per bucket, not one per workflow). The
new rows are filled from the existing hourly and daily ones.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from meshhook.store.migrations import postgres as pg
from meshhook.store.types import UTCDateTime

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

SLOTS = 32
HOUR, QUARTER, DAY, WEEK = 3600, 21600, 86400, 604800
_MONDAY = 4 * DAY
_COUNTERS = (
    "succeeded",
    "failed",
    "cancelled",
    "dead_lettered",
    *(f"d{slot}" for slot in range(SLOTS)),
    *(f"l{slot}" for slot in range(SLOTS)),
)
# table: (key columns besides project_id, period and bucket; summed; the larger kept)
_ROLLUPS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "run_stats": (("workflow_id",), _COUNTERS, ()),
    "node_stats": (("workflow_id", "node_id"), ("steps", "failures", "total_ms"), ("max_ms",)),
    "error_stats": (("workflow_id", "code"), ("count",), ()),
}


def _bucket(moment: datetime, period: int) -> datetime:
    """The start of the quarter of a day or week (from Monday) of ``moment``
    (naive on SQLite, where it is stored as UTC without an offset)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    seconds = int(aware.timestamp())
    offset = _MONDAY if period == WEEK else 0
    start = datetime.fromtimestamp(seconds - (seconds - offset) % period, UTC)
    return start if moment.tzinfo else start.replace(tzinfo=None)


def _number(column: str) -> sa.types.TypeEngine[Any]:
    return sa.Float() if column.endswith("_ms") else sa.BigInteger()


def _coarser_rows(connection: Any, name: str, finer: int, coarser: int) -> None:
    keys, summed, highest = _ROLLUPS[name]
    types: dict[str, sa.types.TypeEngine[Any]] = {
        "workflow_id": sa.Uuid(),
        "node_id": sa.String(64),
        "code": sa.String(64),
    }
    table = sa.table(
        name,
        sa.column("project_id", sa.Uuid()),
        sa.column("period", sa.Integer()),
        sa.column("bucket", UTCDateTime()),
        *(sa.column(key, types[key]) for key in keys),
        *(sa.column(column, _number(column)) for column in summed),
        *(sa.column(column, sa.Float()) for column in highest),
    )
    grouped: dict[tuple[Any, ...], dict[str, Any]] = {}
    totals: defaultdict[tuple[Any, ...], list[Any]] = defaultdict(list)
    query = sa.select(table).where(table.c.period == finer)
    for row in connection.execute(query).mappings():
        key = (row["project_id"], *(row[k] for k in keys), _bucket(row["bucket"], coarser))
        totals[key].append(row)
    for key, rows in totals.items():
        grouped[key] = {
            "project_id": key[0],
            **dict(zip(keys, key[1:-1], strict=True)),
            "period": coarser,
            "bucket": key[-1],
            **{column: sum(row[column] for row in rows) for column in summed},
            **{column: max(row[column] for row in rows) for column in highest},
        }
    batch = list(grouped.values())
    for start in range(0, len(batch), 5000):
        connection.execute(table.insert(), batch[start : start + 5000])


def upgrade() -> None:
    op.create_table(
        "project_run_stats",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("bucket", UTCDateTime(), nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in _COUNTERS),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name="fk_project_run_stats_project_id_projects",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", "period", "bucket", name="pk_project_run_stats"),
    )
    pg.grant("project_run_stats", "SELECT, INSERT, UPDATE, DELETE")
    pg.enable_tenant_rls("project_run_stats")
    connection = op.get_bind()
    for name in _ROLLUPS:
        _coarser_rows(connection, name, HOUR, QUARTER)
        _coarser_rows(connection, name, DAY, WEEK)
    sums = ", ".join(f"SUM({column})" for column in _COUNTERS)
    op.execute(
        f"INSERT INTO project_run_stats (project_id, period, bucket, {', '.join(_COUNTERS)}) "
        f"SELECT project_id, period, bucket, {sums} FROM run_stats "
        "GROUP BY project_id, period, bucket"
    )


def downgrade() -> None:
    op.drop_table("project_run_stats")
    for name in _ROLLUPS:
        op.execute(f"DELETE FROM {name} WHERE period IN ({QUARTER}, {WEEK})")
