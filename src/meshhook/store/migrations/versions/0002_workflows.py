"""Workflows, their immutable versions and aliases, under row-level security.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from meshhook.store.migrations import postgres as pg
from meshhook.store.types import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_TABLES = ("workflows", "workflow_versions", "aliases")


def upgrade() -> None:
    op.create_table(
        "workflows",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("is_template", sa.Boolean(), nullable=False),
        sa.Column("head_version", sa.Integer(), nullable=False),
        sa.Column("published_version", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(320), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(320), nullable=False),
        sa.Column("deleted_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name="fk_workflows_project_id_projects",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_workflows"),
    )
    op.create_index(
        "ux_workflows_project_id_key_live",
        "workflows",
        ["project_id", "key"],
        unique=True,
        sqlite_where=sa.text("deleted_at IS NULL"),
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    for column in ("updated_at", "created_at", "name"):
        op.create_index(
            f"ix_workflows_project_id_{column}", "workflows", ["project_id", column, "id"]
        )
    op.create_table(
        "workflow_versions",
        sa.Column("workflow_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(80), nullable=False),
        sa.Column("parent_number", sa.Integer(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(320), nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=True),
        sa.Column("published_by", sa.String(320), nullable=True),
        sa.Column("tag", sa.String(64), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint("state IN ('draft', 'published')", name="ck_workflow_versions_state"),
        sa.ForeignKeyConstraint(
            ["workflow_id"],
            ["workflows.id"],
            name="fk_workflow_versions_workflow_id_workflows",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name="fk_workflow_versions_project_id_projects",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workflow_id", "number", name="pk_workflow_versions"),
        sa.UniqueConstraint("workflow_id", "tag", name="uq_workflow_versions_workflow_id_tag"),
    )
    op.create_table(
        "aliases",
        sa.Column("workflow_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(320), nullable=False),
        sa.ForeignKeyConstraint(
            ["workflow_id"],
            ["workflows.id"],
            name="fk_aliases_workflow_id_workflows",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name="fk_aliases_project_id_projects",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workflow_id", "name", name="pk_aliases"),
    )
    if op.get_bind().dialect.name == "postgresql":
        # lz4 compresses the definitions several times faster than pglz.
        op.execute("ALTER TABLE workflow_versions ALTER COLUMN definition SET COMPRESSION lz4")
    for table in _TABLES:
        pg.grant(table)
        pg.enable_tenant_rls(table)


def downgrade() -> None:
    for table in _TABLES:
        pg.disable_tenant_rls(table)
        pg.revoke_all(table)
    op.drop_table("aliases")
    op.drop_table("workflow_versions")
    for column in ("updated_at", "created_at", "name"):
        op.drop_index(f"ix_workflows_project_id_{column}", table_name="workflows")
    op.drop_index("ux_workflows_project_id_key_live", table_name="workflows")
    op.drop_table("workflows")
