"""The SQLAlchemy tables. The Alembic chain must produce exactly these
(``tests/integration/test_migrations.py`` compares them)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    MetaData,
    String,
    Table,
    Uuid,
)

from meshhook.store.types import BigIntId, UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ROLE_CHECK = "role IN ('viewer', 'editor', 'admin', 'owner')"

users = Table(
    "users",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False),
    Column("password_hash", String(200), nullable=True),
    Column("is_admin", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

projects = Table(
    "projects",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("key", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

memberships = Table(
    "memberships",
    metadata,
    Column("project_id", Uuid, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    CheckConstraint(ROLE_CHECK, name="role"),
    Index("ix_memberships_user_id", "user_id"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("user_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("prefix", String(32), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("last_used_at", UTCDateTime, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
    CheckConstraint("kind IN ('api', 'session')", name="kind"),
    Index("ix_api_tokens_user_id", "user_id"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigIntId, primary_key=True, autoincrement=True),
    Column("project_id", Uuid, ForeignKey("projects.id", ondelete="CASCADE"), nullable=True),
    Column("actor_id", Uuid, nullable=True),
    Column("actor", String(320), nullable=False),
    Column("action", String(64), nullable=False),
    Column("object_type", String(32), nullable=False),
    Column("object_id", String(200), nullable=False),
    Column("summary", JSON, nullable=False),
    Column("request_id", String(64), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_audit_log_project_id_id", "project_id", "id"),
    # RETURNING needs the new row to be readable, and entries about no project
    # are write-only for the app role.
    implicit_returning=False,
)

TENANT_TABLES: tuple[str, ...] = ("memberships", "audit_log")
"""Tables under row-level security (extended by later migrations)."""
