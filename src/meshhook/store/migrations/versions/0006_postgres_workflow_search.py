"""Substring search over workflow name, description and key that an index answers
on PostgreSQL too, under row-level security.

A ``pg_trgm`` GIN index on ``workflows`` is not used by request transactions: they
run as the app role under forced row-level security, and the planner may not
use a non-leakproof operator such as ``LIKE`` as an index condition before the
policy's (migration 0005). So the searchable text lives in a side table,
``workflow_search``, one row per workflow, with the trigram index:

- No row-level security and no grant to the app role: it can never read the
  table, so a query that forgets its ``WHERE`` cannot leak through it.
- A ``SECURITY DEFINER`` trigger on ``workflows`` keeps it in step (deletes
  follow by the foreign key's cascade).
- The app role reaches it only through ``meshhook_search_candidates``, a
  ``SECURITY DEFINER`` function that returns candidate workflow ids of the
  transaction's project, taken from the same setting the policies compare with
  (``meshhook.project_id``), never from an argument: with no project set it
  returns nothing. ``store.dialect.substring_candidates`` calls it; the exact
  ``LIKE`` conditions on ``workflows`` still decide. It is PL/pgSQL planned for
  each pattern (``force_custom_plan``), not SQL: a SQL function's query gets one
  generic plan, always the trigram index, which for a term in most rows costs
  several times the sequential scan that stops at ``max_rows``.

Both functions have a fixed ``search_path`` (the schema migrated into, with
``pg_temp`` last) so a caller cannot shadow the table they use. They are owned
by the migrating login, a superuser or the table owner; either can read the
side table, which has no policy.

Nothing on SQLite (migration 0005's FTS5 table answers there). The table models
do not describe ``workflow_search`` (on SQLite the name is 0005's FTS5 table);
``store.dialect.is_search_object`` names it so schema comparisons leave it
aside. The downgrade keeps the ``pg_trgm`` extension: it may predate this
migration or serve other objects.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from meshhook.store.migrations import postgres as pg

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_BODY = "lower({0}.name) || E'\\n' || lower(coalesce({0}.description, '')) || E'\\n' || {0}.key"
_SYNC = "meshhook_workflow_search_sync"
_CANDIDATES = "meshhook_search_candidates(pattern text, max_rows integer)"


def _on_postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _search_path() -> str:
    """The schema the tables are in, pinned: ``pg_temp`` last, so a caller's
    temporary table cannot stand in for ``workflow_search``."""
    connection = op.get_bind()
    schema = connection.execute(sa.text("SELECT current_schema()")).scalar_one()
    quoted = connection.dialect.identifier_preparer.quote_identifier(schema)
    return f"pg_catalog, {quoted}, pg_temp"


def _force_rls(table: str, *, force: bool) -> None:
    """Off while backfilling, so a migrating owner (not only a superuser) sees
    every tenant's rows."""
    op.execute(f"ALTER TABLE {table} {'' if force else 'NO '}FORCE ROW LEVEL SECURITY")


def upgrade() -> None:
    if not _on_postgres():
        return
    search_path = _search_path()
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(
        "CREATE TABLE workflow_search ("
        " workflow_id uuid NOT NULL,"
        " project_id uuid NOT NULL,"
        " body text NOT NULL,"
        " CONSTRAINT pk_workflow_search PRIMARY KEY (workflow_id),"
        " CONSTRAINT fk_workflow_search_workflow_id_workflows FOREIGN KEY (workflow_id)"
        " REFERENCES workflows (id) ON DELETE CASCADE)"
    )
    op.execute(
        f"""
        CREATE FUNCTION {_SYNC}() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = {search_path} AS $$
        BEGIN
          IF TG_OP = 'UPDATE'
             AND NEW.name IS NOT DISTINCT FROM OLD.name
             AND NEW.description IS NOT DISTINCT FROM OLD.description
             AND NEW.key IS NOT DISTINCT FROM OLD.key
             AND NEW.project_id IS NOT DISTINCT FROM OLD.project_id THEN
            RETURN NULL;
          END IF;
          INSERT INTO workflow_search (workflow_id, project_id, body)
          VALUES (NEW.id, NEW.project_id, {_BODY.format("NEW")})
          ON CONFLICT (workflow_id) DO UPDATE
            SET project_id = EXCLUDED.project_id, body = EXCLUDED.body;
          RETURN NULL;
        END $$
        """
    )
    op.execute(f"REVOKE ALL ON FUNCTION {_SYNC}() FROM PUBLIC")
    _force_rls("workflows", force=False)
    op.execute(
        "INSERT INTO workflow_search (workflow_id, project_id, body)"
        f" SELECT id, project_id, {_BODY.format('workflows')} FROM workflows"
    )
    _force_rls("workflows", force=True)
    op.execute(
        "CREATE TRIGGER workflow_search_sync"
        " AFTER INSERT OR UPDATE OF name, description, key, project_id ON workflows"
        f" FOR EACH ROW EXECUTE FUNCTION {_SYNC}()"
    )
    op.execute("CREATE INDEX workflow_search_trgm ON workflow_search USING gin (body gin_trgm_ops)")
    op.execute(
        f"""
        CREATE FUNCTION {_CANDIDATES} RETURNS SETOF uuid
        LANGUAGE plpgsql STABLE SECURITY DEFINER
        SET search_path = {search_path} SET plan_cache_mode = force_custom_plan AS $$
        BEGIN
          RETURN QUERY SELECT workflow_id FROM workflow_search
            WHERE project_id = {pg.PROJECT} AND body LIKE pattern
            LIMIT max_rows;
        END $$
        """
    )
    op.execute(f"REVOKE ALL ON FUNCTION {_CANDIDATES} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {_CANDIDATES} TO {pg.app_role()}")


def downgrade() -> None:
    if not _on_postgres():
        return
    op.execute(f"DROP FUNCTION IF EXISTS {_CANDIDATES}")
    op.execute("DROP TRIGGER IF EXISTS workflow_search_sync ON workflows")
    op.execute(f"DROP FUNCTION IF EXISTS {_SYNC}()")
    op.execute("DROP TABLE IF EXISTS workflow_search")
