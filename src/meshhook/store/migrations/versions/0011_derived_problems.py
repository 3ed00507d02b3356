"""Problems are derived data: ``workflow_versions.problems`` goes.

Each version stored its full problems JSON, so a 1,000-node draft with ~300
completeness problems grew the database by ~110 KB per one-node edit. They are
now computed from the content (in the project's context, cached by content
hash: ``ProjectScope.problems``).

Downgrade brings the column back empty (``[]``): the release before this one
shows no problems for those versions until they are saved again, and still
refuses to publish incomplete ones (publishing recomputes them).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


# Plain ALTER TABLE on both dialects (SQLite has DROP COLUMN since 3.35): a batch
# copy would reflect the workflows table, whose expression index (0010) it skips.


def upgrade() -> None:
    op.drop_column("workflow_versions", "problems")


def downgrade() -> None:
    op.add_column(
        "workflow_versions",
        sa.Column("problems", sa.JSON(), nullable=False, server_default=sa.text("'[]'")),
    )
