"""PostgreSQL: the name sort's folded key as a stored column, ``name_key``
(``lower(name COLLATE "C")``), indexed with ``(project_id, name_key, name
COLLATE "C", id)`` in place of the expression index of 0010.

Under row-level security PostgreSQL evaluates a query's own conditions ahead
of the policy's only when every function they apply to a row is leakproof;
``lower()`` is not, so a keyset page's ``lower(name) > ...`` became a filter
over every earlier row of the project (a page 56,000 rows deep: 60 ms)
instead of the start of the index's range. A comparison with a column keeps
it. SQLite has no row-level security: its expression index stays.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

OLD_INDEX = "ix_workflows_name_sort"
INDEX = "ix_workflows_name_key"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        'ALTER TABLE workflows ADD COLUMN name_key text COLLATE "C"'
        ' GENERATED ALWAYS AS (lower(name COLLATE "C")) STORED'
    )
    op.execute(f'CREATE INDEX {INDEX} ON workflows (project_id, name_key, (name COLLATE "C"), id)')
    op.execute(f"DROP INDEX {OLD_INDEX}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"CREATE INDEX {OLD_INDEX} ON workflows"
        ' (project_id, lower(name COLLATE "C"), (name COLLATE "C"), id)'
    )
    op.execute(f"DROP INDEX {INDEX}")
    op.execute("ALTER TABLE workflows DROP COLUMN name_key")
