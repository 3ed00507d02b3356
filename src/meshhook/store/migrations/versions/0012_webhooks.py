"""Webhooks: hook ids (hashed, with a grace period after rotation), the
delivery log and the rate limit's token buckets, under row-level security; a
lookup function from a hashed id to its project and workflow.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from meshhook.store.migrations import postgres as pg
from meshhook.store.types import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_TABLES = ("webhooks", "webhook_deliveries", "webhook_buckets")
_FIND = "meshhook_find_webhook(wanted text)"


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}", ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "webhooks",
        sa.Column("id_hash", sa.String(64), nullable=False),
        sa.Column("hook_id", sa.String(64), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("workflow_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        _fk("webhooks", "project_id", "projects"),
        _fk("webhooks", "workflow_id", "workflows"),
        sa.PrimaryKeyConstraint("id_hash", name="pk_webhooks"),
    )
    op.create_index("ix_webhooks_workflow_id", "webhooks", ["workflow_id"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("workflow_id", sa.Uuid(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("client", sa.String(64), nullable=True),
        sa.Column("failure", sa.String(64), nullable=True),
        _fk("webhook_deliveries", "project_id", "projects"),
        _fk("webhook_deliveries", "workflow_id", "workflows"),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_deliveries"),
    )
    op.create_index(
        "ix_webhook_deliveries_workflow_id_at", "webhook_deliveries", ["workflow_id", "at"]
    )
    op.create_table(
        "webhook_buckets",
        sa.Column("workflow_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        _fk("webhook_buckets", "workflow_id", "workflows"),
        _fk("webhook_buckets", "project_id", "projects"),
        sa.PrimaryKeyConstraint("workflow_id", name="pk_webhook_buckets"),
    )
    for table in _TABLES:
        pg.grant(table)
        pg.enable_tenant_rls(table)
    _create_find_function()


def _create_find_function() -> None:
    """The one path from a request's hook id to a project: the hashed id in,
    the project and workflow out (never a list, never another column)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    schema = op.get_bind().execute(sa.text("SELECT current_schema()")).scalar_one()
    quoted = op.get_bind().dialect.identifier_preparer.quote_identifier(schema)
    op.execute(
        f"""
        CREATE FUNCTION {_FIND}
        RETURNS TABLE (project_id uuid, workflow_id uuid, expires_at timestamptz)
        LANGUAGE sql STABLE SECURITY DEFINER
        SET search_path = pg_catalog, {quoted}, pg_temp AS $$
          SELECT w.project_id, w.workflow_id, w.expires_at FROM webhooks w
          WHERE w.id_hash = wanted
        $$
        """
    )
    op.execute(f"REVOKE ALL ON FUNCTION {_FIND} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {_FIND} TO {pg.app_role()}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {_FIND}")
    for table in reversed(_TABLES):
        pg.disable_tenant_rls(table)
        pg.revoke_all(table)
        op.drop_table(table)
