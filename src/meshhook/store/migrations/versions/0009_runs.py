"""Runs: the run row, its append-only event log, the work queue and start
idempotency keys, under row-level security; a claim function for workers.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from meshhook.store.migrations import postgres as pg
from meshhook.store.types import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_TABLES = ("runs", "run_events", "run_queue", "run_idempotency")
_CLAIM = "meshhook_claim_runs(worker text, lease_seconds double precision, max_rows integer)"
_STATS = "meshhook_queue_stats()"


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=f"fk_{table}_{column}_{target}",
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("workflow_id", sa.Uuid(), nullable=False),
        sa.Column("workflow_key", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("alias", sa.String(64), nullable=True),
        sa.Column("test", sa.Boolean(), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("dead_letter", sa.Boolean(), nullable=False),
        sa.Column("input", sa.JSON(), nullable=True),
        sa.Column("output", sa.JSON(), nullable=True),
        sa.Column("error", sa.JSON(), nullable=True),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(320), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("resumed_from_run", sa.Uuid(), nullable=True),
        sa.Column("resumed_from_node", sa.String(64), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'waiting', 'succeeded', 'failed', 'cancelled')",
            name="ck_runs_status",
        ),
        _fk("runs", "project_id", "projects"),
        _fk("runs", "workflow_id", "workflows"),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
    )
    op.create_index("ix_runs_project_id_created_at", "runs", ["project_id", "created_at", "id"])
    op.create_index("ix_runs_workflow_id_created_at", "runs", ["workflow_id", "created_at", "id"])
    op.create_table(
        "run_events",
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("node_id", sa.String(64), nullable=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        _fk("run_events", "run_id", "runs"),
        _fk("run_events", "project_id", "projects"),
        sa.PrimaryKeyConstraint("run_id", "seq", name="pk_run_events"),
    )
    op.create_table(
        "run_queue",
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("lease_owner", sa.String(64), nullable=True),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        _fk("run_queue", "run_id", "runs"),
        _fk("run_queue", "project_id", "projects"),
        sa.PrimaryKeyConstraint("run_id", name="pk_run_queue"),
    )
    op.create_index("ix_run_queue_due_at", "run_queue", ["due_at"])
    op.create_table(
        "run_idempotency",
        sa.Column("workflow_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        _fk("run_idempotency", "workflow_id", "workflows"),
        _fk("run_idempotency", "project_id", "projects"),
        _fk("run_idempotency", "run_id", "runs"),
        sa.PrimaryKeyConstraint("workflow_id", "key", name="pk_run_idempotency"),
    )
    for table in _TABLES:
        pg.grant(
            table, "SELECT, INSERT" if table == "run_events" else "SELECT, INSERT, UPDATE, DELETE"
        )
        pg.enable_tenant_rls(table)
    _create_claim_function()


def _create_claim_function() -> None:
    """The workers' one narrow path across projects: lease due runs and return
    only their ids and projects. Everything else a worker does runs inside the
    claimed run's project scope, under RLS like any request."""
    if op.get_bind().dialect.name != "postgresql":
        return
    schema = op.get_bind().execute(sa.text("SELECT current_schema()")).scalar_one()
    quoted = op.get_bind().dialect.identifier_preparer.quote_identifier(schema)
    op.execute(
        f"""
        CREATE FUNCTION {_CLAIM}
        RETURNS TABLE (run_id uuid, project_id uuid, due_at timestamptz)
        LANGUAGE plpgsql VOLATILE SECURITY DEFINER
        SET search_path = pg_catalog, {quoted}, pg_temp AS $$
        BEGIN
          RETURN QUERY
          WITH due AS (
            SELECT q.run_id FROM run_queue q
            WHERE q.due_at <= now() AND (q.lease_until IS NULL OR q.lease_until < now())
            ORDER BY q.due_at
            LIMIT max_rows
            FOR UPDATE SKIP LOCKED
          )
          UPDATE run_queue AS q
             SET lease_owner = worker,
                 lease_until = now() + make_interval(secs => lease_seconds)
            FROM due WHERE q.run_id = due.run_id
          RETURNING q.run_id, q.project_id, q.due_at;
        END $$
        """
    )
    # Counts only, for the queue depth and lag metrics.
    op.execute(
        f"""
        CREATE FUNCTION {_STATS} RETURNS TABLE (due bigint, oldest_due timestamptz)
        LANGUAGE sql STABLE SECURITY DEFINER
        SET search_path = pg_catalog, {quoted}, pg_temp AS $$
          SELECT count(*), min(q.due_at) FROM run_queue q WHERE q.due_at <= now()
        $$
        """
    )
    for function in (_CLAIM, _STATS):
        op.execute(f"REVOKE ALL ON FUNCTION {function} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {function} TO {pg.app_role()}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {_CLAIM}")
        op.execute(f"DROP FUNCTION IF EXISTS {_STATS}")
    for table in reversed(_TABLES):
        pg.disable_tenant_rls(table)
        pg.revoke_all(table)
        op.drop_table(table)
