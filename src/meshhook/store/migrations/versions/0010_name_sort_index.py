"""An index for the case-insensitive name sort (``sort=name``): the sort keys
``lower(name), name, id`` of ``store.dialect.name_sort_keys``, per project.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

INDEX = "ix_workflows_name_sort"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE INDEX {INDEX} ON workflows"
            ' (project_id, lower(name COLLATE "C"), (name COLLATE "C"), id)'
        )
    else:
        op.execute(f"CREATE INDEX {INDEX} ON workflows (project_id, lower(name), name, id)")
    op.drop_index("ix_workflows_project_id_name", table_name="workflows")


def downgrade() -> None:
    op.create_index("ix_workflows_project_id_name", "workflows", ["project_id", "name", "id"])
    op.execute(f"DROP INDEX {INDEX}")
