"""Alerts: destinations, rules (with their de-duplication state) and the
outbox of deliveries, under row-level security; functions workers use to find
due deliveries and projects with threshold rules across projects.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from meshhook.store.migrations import postgres as pg
from meshhook.store.types import UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_TABLES = ("alert_destinations", "alert_rules", "alert_deliveries")
_DUE = "meshhook_due_alert_deliveries(at timestamptz, max_rows integer)"
_WATCHED = "meshhook_alert_projects()"


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}", ondelete="CASCADE"
    )


def _who() -> list[sa.Column[object]]:
    return [
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(320), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(320), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "alert_destinations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("signing_secret", sa.String(200), nullable=True),
        *_who(),
        _fk("alert_destinations", "project_id", "projects"),
        sa.PrimaryKeyConstraint("id", name="pk_alert_destinations"),
        sa.UniqueConstraint("project_id", "name", name="uq_alert_destinations_project_id"),
    )
    op.create_table(
        "alert_rules",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("workflow_id", sa.Uuid(), nullable=True),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("window", sa.String(8), nullable=False),
        sa.Column("min_runs", sa.Integer(), nullable=False),
        sa.Column("cooldown_seconds", sa.Integer(), nullable=False),
        sa.Column("destinations", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("firing", sa.Boolean(), nullable=False),
        sa.Column("last_fired_at", UTCDateTime(), nullable=True),
        sa.Column("suppressed", sa.Integer(), nullable=False),
        *_who(),
        _fk("alert_rules", "project_id", "projects"),
        _fk("alert_rules", "workflow_id", "workflows"),
        sa.PrimaryKeyConstraint("id", name="pk_alert_rules"),
        sa.UniqueConstraint("project_id", "name", name="uq_alert_rules_project_id"),
    )
    op.create_index("ix_alert_rules_project_id_kind", "alert_rules", ["project_id", "kind"])
    op.create_table(
        "alert_deliveries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("destination_id", sa.Uuid(), nullable=False),
        sa.Column("rule_id", sa.Uuid(), nullable=True),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.JSON(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
        _fk("alert_deliveries", "project_id", "projects"),
        _fk("alert_deliveries", "destination_id", "alert_destinations"),
        sa.CheckConstraint(
            "status IN ('pending', 'delivered', 'failed')", name="ck_alert_deliveries_status"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_alert_deliveries"),
    )
    op.create_index("ix_alert_deliveries_next_attempt_at", "alert_deliveries", ["next_attempt_at"])
    op.create_index(
        "ix_alert_deliveries_project_id_created_at",
        "alert_deliveries",
        ["project_id", "created_at"],
    )
    for table in _TABLES:
        pg.grant(table)
        pg.enable_tenant_rls(table)
    _create_functions()


def _create_functions() -> None:
    """Which deliveries are due and which projects have threshold rules,
    across projects (ids only): each is then handled inside its project's
    scope, under RLS like a request."""
    if op.get_bind().dialect.name != "postgresql":
        return
    schema = op.get_bind().execute(sa.text("SELECT current_schema()")).scalar_one()
    quoted = op.get_bind().dialect.identifier_preparer.quote_identifier(schema)
    op.execute(
        f"""
        CREATE FUNCTION {_DUE}
        RETURNS TABLE (project_id uuid, id uuid)
        LANGUAGE sql STABLE SECURITY DEFINER
        SET search_path = pg_catalog, {quoted}, pg_temp AS $$
          SELECT d.project_id, d.id FROM alert_deliveries d
          WHERE d.next_attempt_at <= at ORDER BY d.next_attempt_at LIMIT max_rows
        $$
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION {_WATCHED}
        RETURNS TABLE (project_id uuid)
        LANGUAGE sql STABLE SECURITY DEFINER
        SET search_path = pg_catalog, {quoted}, pg_temp AS $$
          SELECT DISTINCT r.project_id FROM alert_rules r
          WHERE r.enabled AND r.kind IN ('failure_rate', 'queue_lag')
        $$
        """
    )
    for function in (_DUE, _WATCHED):
        op.execute(f"REVOKE ALL ON FUNCTION {function} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {function} TO {pg.app_role()}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for function in (_DUE, _WATCHED):
            op.execute(f"DROP FUNCTION IF EXISTS {function}")
    for table in reversed(_TABLES):
        pg.disable_tenant_rls(table)
        pg.revoke_all(table)
        op.drop_table(table)
