"""Per-project redaction patterns and per-workflow redaction pointers (under
row-level security), and covering indexes that let a project-wide statistics
window read only its own hours of ``node_stats`` and ``error_stats``.

Revision ID: 0018
Revises: 0014
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from meshhook.store.migrations import postgres as pg
from meshhook.store.types import UTCDateTime

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_TABLES = ("redaction_patterns", "redaction_pointers")


def _project_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["project_id"], ["projects.id"], name=f"fk_{table}_project_id_projects", ondelete="CASCADE"
    )


def _authorship() -> list[sa.Column[object]]:
    return [
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(320), nullable=False),
    ]


def upgrade() -> None:
    op.create_index(
        "ix_node_stats_window",
        "node_stats",
        [
            "project_id",
            "period",
            "bucket",
            "workflow_id",
            "node_id",
            "steps",
            "failures",
            "total_ms",
            "max_ms",
        ],
    )
    op.create_index(
        "ix_error_stats_window",
        "error_stats",
        ["project_id", "period", "bucket", "code", "count"],
    )
    op.create_table(
        "redaction_patterns",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("pattern", sa.String(500), nullable=False),
        *_authorship(),
        _project_fk("redaction_patterns"),
        sa.PrimaryKeyConstraint("project_id", "name", name="pk_redaction_patterns"),
    )
    op.create_table(
        "redaction_pointers",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("workflow_id", sa.Uuid(), nullable=False),
        sa.Column("pointer", sa.String(500), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        *_authorship(),
        _project_fk("redaction_pointers"),
        sa.ForeignKeyConstraint(
            ["workflow_id"],
            ["workflows.id"],
            name="fk_redaction_pointers_workflow_id_workflows",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "project_id", "workflow_id", "pointer", name="pk_redaction_pointers"
        ),
    )
    for table in _TABLES:
        pg.grant(table, "SELECT, INSERT, UPDATE, DELETE")
        pg.enable_tenant_rls(table)


def downgrade() -> None:
    for table in reversed(_TABLES):
        op.drop_table(table)
    op.drop_index("ix_error_stats_window", table_name="error_stats")
    op.drop_index("ix_node_stats_window", table_name="node_stats")
