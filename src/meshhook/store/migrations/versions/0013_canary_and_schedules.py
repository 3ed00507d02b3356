"""Weighted canary aliases (``aliases.canary_version``/``canary_weight``,
``runs.canary``), a run-list index by version, and schedule triggers: one row
per ``schedule`` node of a workflow's live version with its next due time,
under row-level security, and a function workers use to find due ones across
projects.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from meshhook.store.migrations import postgres as pg
from meshhook.store.types import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_DUE = "meshhook_due_schedules(at timestamptz, max_rows integer)"


def upgrade() -> None:
    op.add_column("aliases", sa.Column("canary_version", sa.Integer(), nullable=True))
    op.add_column("aliases", sa.Column("canary_weight", sa.Integer(), nullable=True))
    op.add_column(
        "runs",
        sa.Column("canary", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_index(
        "ix_runs_workflow_id_version", "runs", ["workflow_id", "version", "created_at", "id"]
    )
    op.create_table(
        "schedules",
        sa.Column("workflow_id", sa.Uuid(), nullable=False),
        sa.Column("node_id", sa.String(64), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("next_due_at", UTCDateTime(), nullable=False),
        sa.Column("last_fired_at", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workflow_id"],
            ["workflows.id"],
            name="fk_schedules_workflow_id_workflows",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name="fk_schedules_project_id_projects",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workflow_id", "node_id", name="pk_schedules"),
    )
    op.create_index("ix_schedules_next_due_at", "schedules", ["next_due_at"])
    pg.grant("schedules")
    pg.enable_tenant_rls("schedules")
    _create_due_function()


def _create_due_function() -> None:
    """Which schedules are due, across projects (ids and due times only): each
    is then claimed inside its project's scope, under RLS like a request."""
    if op.get_bind().dialect.name != "postgresql":
        return
    schema = op.get_bind().execute(sa.text("SELECT current_schema()")).scalar_one()
    quoted = op.get_bind().dialect.identifier_preparer.quote_identifier(schema)
    op.execute(
        f"""
        CREATE FUNCTION {_DUE}
        RETURNS TABLE (project_id uuid, workflow_id uuid, node_id text, next_due_at timestamptz)
        LANGUAGE sql STABLE SECURITY DEFINER
        SET search_path = pg_catalog, {quoted}, pg_temp AS $$
          SELECT s.project_id, s.workflow_id, s.node_id::text, s.next_due_at FROM schedules s
          WHERE s.next_due_at <= at ORDER BY s.next_due_at LIMIT max_rows
        $$
        """
    )
    op.execute(f"REVOKE ALL ON FUNCTION {_DUE} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {_DUE} TO {pg.app_role()}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {_DUE}")
    pg.disable_tenant_rls("schedules")
    pg.revoke_all("schedules")
    op.drop_table("schedules")
    op.drop_index("ix_runs_workflow_id_version", table_name="runs")
    # Plain ALTER TABLE on both dialects (SQLite has DROP COLUMN since 3.35): a
    # batch copy would reflect the workflows table, whose expression index
    # (0010) SQLAlchemy cannot reflect.
    op.drop_column("runs", "canary")
    op.drop_column("aliases", "canary_weight")
    op.drop_column("aliases", "canary_version")
