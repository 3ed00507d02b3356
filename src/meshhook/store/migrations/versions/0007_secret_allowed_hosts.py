"""Host allow-lists on secrets: ``secrets.allowed_hosts``, a JSON list of host
patterns, or NULL for a secret that may be sent to any host (every existing
secret keeps that meaning).

The app role already has every privilege it needs on ``secrets`` (migration
0003); a new column needs no new grant or policy.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("secrets") as batch:
        batch.add_column(sa.Column("allowed_hosts", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("secrets") as batch:
        batch.drop_column("allowed_hosts")
