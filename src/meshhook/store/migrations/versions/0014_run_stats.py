"""Run statistics rollups: per workflow and hour (and day), the runs by status, duration
and queue-lag histograms, per-node step figures and error codes, added to as
runs finish (``domain/stats.py``), under row-level security.

Revision ID: 0014
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from meshhook.store.migrations import postgres as pg
from meshhook.store.types import UTCDateTime

revision = "0014"
down_revision = "0010"
branch_labels = None
depends_on = None

SLOTS = 32
_TABLES = ("run_stats", "node_stats", "error_stats")


def _keys(table: str) -> list[Any]:
    return [
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("workflow_id", sa.Uuid(), nullable=False),
        sa.Column("bucket", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=f"fk_{table}_project_id_projects",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workflow_id"],
            ["workflows.id"],
            name=f"fk_{table}_workflow_id_workflows",
            ondelete="CASCADE",
        ),
    ]


def _counter(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger(), nullable=False)


def upgrade() -> None:
    counters = ("succeeded", "failed", "cancelled", "dead_lettered")
    op.create_table(
        "run_stats",
        *_keys("run_stats"),
        *(_counter(name) for name in counters),
        *(_counter(f"d{slot}") for slot in range(SLOTS)),
        *(_counter(f"l{slot}") for slot in range(SLOTS)),
        sa.PrimaryKeyConstraint(
            "project_id", "period", "workflow_id", "bucket", name="pk_run_stats"
        ),
    )
    op.create_index(
        "ix_run_stats_project_period_bucket", "run_stats", ["project_id", "period", "bucket"]
    )
    op.create_table(
        "node_stats",
        *_keys("node_stats"),
        sa.Column("node_id", sa.String(64), nullable=False),
        _counter("steps"),
        _counter("failures"),
        sa.Column("total_ms", sa.Float(), nullable=False),
        sa.Column("max_ms", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint(
            "project_id", "period", "workflow_id", "node_id", "bucket", name="pk_node_stats"
        ),
    )
    op.create_table(
        "error_stats",
        *_keys("error_stats"),
        sa.Column("code", sa.String(64), nullable=False),
        _counter("count"),
        sa.PrimaryKeyConstraint(
            "project_id", "period", "workflow_id", "code", "bucket", name="pk_error_stats"
        ),
    )
    for table in _TABLES:
        pg.grant(table, "SELECT, INSERT, UPDATE, DELETE")
        pg.enable_tenant_rls(table)


def downgrade() -> None:
    for table in reversed(_TABLES):
        op.drop_table(table)
