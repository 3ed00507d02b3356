"""Accounts hardening: disabled and invited (pending) users, and the sign-in
failure counters behind login throttling.

- ``users.disabled_at``: a disabled user's tokens and sessions stop working.
- ``users.pending``: an account reserved by a project invitation for an email
  nobody has created yet; it cannot sign in until ``meshhook users create``
  claims it (so adding a member answers the same for known and unknown emails).
- ``login_attempts``: failed sign-ins per account (hash of the email) and per
  client address, in the database so the back-off holds across API processes.
  Not tenant data (no ``project_id``), so no row-level security, like
  ``users`` and ``api_tokens``; the app role gets the same grants as those.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from meshhook.store.migrations import postgres as pg
from meshhook.store.types import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("disabled_at", UTCDateTime(), nullable=True))
        batch.add_column(
            sa.Column("pending", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "login_attempts",
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('account', 'address')", name="ck_login_attempts_kind"),
        sa.PrimaryKeyConstraint("kind", "key_hash", name="pk_login_attempts"),
    )
    op.create_index("ix_login_attempts_updated_at", "login_attempts", ["updated_at"])
    pg.grant("login_attempts")


def downgrade() -> None:
    pg.revoke_all("login_attempts")
    op.drop_index("ix_login_attempts_updated_at", table_name="login_attempts")
    op.drop_table("login_attempts")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("pending")
        batch.drop_column("disabled_at")
