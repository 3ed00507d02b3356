"""PostgreSQL-only migration steps: the application role, grants and
row-level security. Each is a no-op on SQLite, so revisions call them freely."""

from __future__ import annotations

from alembic import op

PROJECT = "NULLIF(current_setting('meshhook.project_id', true), '')::uuid"
USER = "NULLIF(current_setting('meshhook.user_id', true), '')::uuid"


def _on_postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def app_role() -> str:
    config = op.get_context().config
    role = config.attributes.get("app_role", "meshhook_app") if config else "meshhook_app"
    if not isinstance(role, str) or not role.replace("_", "").isalnum():
        raise ValueError(f"unsafe role name {role!r}")
    return role


def create_app_role() -> None:
    """The role request transactions run as: no login, owns nothing, no BYPASSRLS.

    Roles are cluster-wide, so several databases on one server share it; a
    concurrent creation elsewhere is fine.
    """
    if not _on_postgres():
        return
    role = app_role()
    op.execute(
        f"""
        DO $$ BEGIN
          CREATE ROLE {role} NOLOGIN NOSUPERUSER NOBYPASSRLS;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END $$;
        """
    )
    op.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
    # A non-superuser login must be a member to SET ROLE; a superuser already may.
    op.execute(
        f"""
        DO $$ BEGIN
          IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
            EXECUTE format('GRANT {role} TO %I', current_user);
          END IF;
        END $$;
        """
    )


def grant(table: str, privileges: str = "SELECT, INSERT, UPDATE, DELETE") -> None:
    if not _on_postgres():
        return
    op.execute(f"GRANT {privileges} ON {table} TO {app_role()}")


def grant_sequence(sequence: str) -> None:
    if not _on_postgres():
        return
    op.execute(f"GRANT USAGE, SELECT ON SEQUENCE {sequence} TO {app_role()}")


def enable_tenant_rls(
    table: str, *, extra_using: str | None = None, extra_check: str | None = None
) -> None:
    """Rows are visible and writable only inside their project's transaction."""
    if not _on_postgres():
        return
    using = check = f"project_id = {PROJECT}"
    if extra_using:
        using = f"({using}) OR ({extra_using})"
    if extra_check:
        check = f"({check}) OR ({extra_check})"
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY tenant_isolation ON {table} USING ({using}) WITH CHECK ({check})")


def disable_tenant_rls(table: str) -> None:
    if not _on_postgres():
        return
    op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
    op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")


def revoke_all(table: str) -> None:
    if not _on_postgres():
        return
    op.execute(f"REVOKE ALL ON {table} FROM {app_role()}")
