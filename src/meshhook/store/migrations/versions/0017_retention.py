"""Retention: per-project policies, scrub markers on runs, and ``run_events``
keyed by its run's creation time, range-partitioned by month on PostgreSQL.

``run_events`` gains ``run_created_at`` (its run's ``created_at``), part of the
primary key and of a composite foreign key to ``runs (id, created_at)``, so a
run's deletion cascades into one partition only. On PostgreSQL the table is
rebuilt as a partitioned table (create, copy, swap), with monthly partitions
from the oldest run's month to two months ahead and a default partition; the
RLS policy and the app role's grants are put back on the new table (read and
insert, plus ``UPDATE (data)`` for the scrub). SQLite copies the table too
(no partitions).

SECURITY DEFINER functions give the worker's retention job its narrow paths:
create partitions ahead, drop partitions every project's policy has expired
(the function decides what is expired, from the policies, never from its
caller), and read every project's policy.

Revision ID: 0017
Revises: 0014
Create Date: 2026-12-03
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from meshhook.store.migrations import postgres as pg
from meshhook.store.types import UTCDateTime

revision = "0017"
down_revision = "0015"
branch_labels = None
depends_on = None

ENSURE = "meshhook_run_event_partitions_ensure(since timestamptz, months_ahead integer)"
DROP = "meshhook_run_event_partitions_drop(dry_run boolean)"
POLICIES = "meshhook_retention_policies()"
_FUNCTIONS = (ENSURE, DROP, POLICIES)
_COPY_COLUMNS = "run_id, seq, project_id, type, node_id, at, data"
# SQLite's batch copy of ``runs`` need not reflect the tables it points at (the
# workflows table has an expression index reflection cannot describe).
_NO_FK_REFLECTION = {"resolve_fks": False}


def _on_postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _event_columns(*, keyed: bool) -> list[Any]:
    columns: list[Any] = [
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
    ]
    if keyed:
        columns.append(sa.Column("run_created_at", UTCDateTime(), nullable=False))
    columns += [
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("node_id", sa.String(64), nullable=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name="fk_run_events_project_id_projects",
            ondelete="CASCADE",
        ),
    ]
    if keyed:
        columns += [
            sa.ForeignKeyConstraint(
                ["run_id", "run_created_at"],
                ["runs.id", "runs.created_at"],
                name="fk_run_events_run_id_runs",
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint("run_id", "seq", "run_created_at", name="pk_run_events"),
        ]
    else:
        columns += [
            sa.ForeignKeyConstraint(
                ["run_id"], ["runs.id"], name="fk_run_events_run_id_runs", ondelete="CASCADE"
            ),
            sa.PrimaryKeyConstraint("run_id", "seq", name="pk_run_events"),
        ]
    return columns


def _schema() -> str:
    schema = op.get_bind().execute(sa.text("SELECT current_schema()")).scalar_one()
    quoted: str = op.get_bind().dialect.identifier_preparer.quote_identifier(schema)
    return quoted


def upgrade() -> None:
    with op.batch_alter_table("runs", reflect_kwargs=_NO_FK_REFLECTION) as batch:
        batch.add_column(sa.Column("scrubbed_at", UTCDateTime(), nullable=True))
        batch.create_unique_constraint("uq_runs_id_created_at", ["id", "created_at"])
    op.create_table(
        "retention_policies",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("delete_after_days", sa.Integer(), nullable=True),
        sa.Column("scrub_after_days", sa.Integer(), nullable=True),
        sa.Column("scrubbed_before", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(320), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name="fk_retention_policies_project_id_projects",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", name="pk_retention_policies"),
    )
    # Retention deletes runs: the cascade finds their idempotency keys by index.
    op.create_index("ix_run_idempotency_run_id", "run_idempotency", ["run_id"])
    pg.grant("retention_policies", "SELECT, INSERT, UPDATE, DELETE")
    pg.enable_tenant_rls("retention_policies")
    _rebuild_events(keyed=True)
    if _on_postgres():
        _create_functions()


def _rebuild_events(*, keyed: bool) -> None:
    """Create the new ``run_events`` beside the old one, copy, swap."""
    if _on_postgres():
        op.execute("ALTER TABLE run_events RENAME TO run_events_old")
        op.execute(
            "ALTER TABLE run_events_old RENAME CONSTRAINT pk_run_events TO pk_run_events_old"
        )
        pg.disable_tenant_rls("run_events_old")
        # The owner reads every tenant's rows while copying (not only a superuser).
        op.execute("ALTER TABLE runs NO FORCE ROW LEVEL SECURITY")
        if keyed:
            _create_partitioned_events()
        else:
            op.create_table("run_events", *_event_columns(keyed=False))
    else:
        op.rename_table("run_events", "run_events_old")
        op.create_table("run_events", *_event_columns(keyed=keyed))
    if keyed:
        op.execute(
            f"INSERT INTO run_events ({_COPY_COLUMNS}, run_created_at)"
            " SELECT e.run_id, e.seq, e.project_id, e.type, e.node_id, e.at, e.data, r.created_at"
            " FROM run_events_old e JOIN runs r ON r.id = e.run_id"
        )
    else:
        op.execute(
            f"INSERT INTO run_events ({_COPY_COLUMNS}) SELECT {_COPY_COLUMNS} FROM run_events_old"
        )
    op.drop_table("run_events_old")
    if _on_postgres():
        op.execute("ALTER TABLE runs FORCE ROW LEVEL SECURITY")
        pg.grant("run_events", "SELECT, INSERT")
        if keyed:
            # Retention's scrub rewrites payloads; nothing else of a row may change.
            pg.grant("run_events", "UPDATE (data)")
        pg.enable_tenant_rls("run_events")


def _create_partitioned_events() -> None:
    op.execute(
        """
        CREATE TABLE run_events (
          run_id uuid NOT NULL,
          seq integer NOT NULL,
          run_created_at timestamptz NOT NULL,
          project_id uuid NOT NULL,
          type varchar(32) NOT NULL,
          node_id varchar(64),
          at timestamptz NOT NULL,
          data json NOT NULL,
          CONSTRAINT pk_run_events PRIMARY KEY (run_id, seq, run_created_at),
          CONSTRAINT fk_run_events_run_id_runs FOREIGN KEY (run_id, run_created_at)
            REFERENCES runs (id, created_at) ON DELETE CASCADE,
          CONSTRAINT fk_run_events_project_id_projects FOREIGN KEY (project_id)
            REFERENCES projects (id) ON DELETE CASCADE
        ) PARTITION BY RANGE (run_created_at)
        """
    )
    _create_ensure_function()
    op.execute(
        "SELECT count(*) FROM meshhook_run_event_partitions_ensure("
        "(SELECT coalesce(min(created_at), now()) FROM runs), 2)"
    )


def _create_ensure_function() -> None:
    """Monthly partitions ``run_events_pYYYYMM`` (UTC months) from ``since``'s
    month to ``months_ahead`` months after this one, and the default partition;
    returns the names it created. The lock timeout keeps a busy table from
    queueing inserts behind the creation: the job tries again next pass."""
    schema = _schema()
    op.execute(
        f"""
        CREATE FUNCTION {ENSURE} RETURNS SETOF text
        LANGUAGE plpgsql VOLATILE SECURITY DEFINER
        SET search_path = pg_catalog, {schema}, pg_temp
        SET timezone = 'UTC'
        SET lock_timeout = '2s' AS $$
        DECLARE
          m_start timestamptz := date_trunc('month', least(since, now()));
          m_last timestamptz := date_trunc('month', now()) + make_interval(months => months_ahead);
          part_name text;
        BEGIN
          WHILE m_start <= m_last LOOP
            part_name := 'run_events_p' || to_char(m_start, 'YYYYMM');
            IF to_regclass(part_name) IS NULL THEN
              EXECUTE format(
                'CREATE TABLE {schema}.%I PARTITION OF {schema}.run_events'
                ' FOR VALUES FROM (%L) TO (%L)',
                part_name, m_start, m_start + interval '1 month');
              RETURN NEXT part_name;
            END IF;
            m_start := m_start + interval '1 month';
          END LOOP;
          IF to_regclass('run_events_default') IS NULL THEN
            CREATE TABLE {schema}.run_events_default PARTITION OF {schema}.run_events DEFAULT;
            RETURN NEXT 'run_events_default';
          END IF;
        END $$
        """
    )


def _create_functions() -> None:
    schema = _schema()
    # Expired for every project: each has a deletion age, and the partition
    # ends before now minus the longest. A partition holding a run that has not
    # finished (it is in the queue) stays: its log is still being written.
    op.execute(
        f"""
        CREATE FUNCTION {DROP} RETURNS SETOF text
        LANGUAGE plpgsql VOLATILE SECURITY DEFINER
        SET search_path = pg_catalog, {schema}, pg_temp
        SET timezone = 'UTC'
        SET lock_timeout = '2s' AS $$
        DECLARE
          longest integer;
          bare integer;
          part record;
          lower_bound timestamptz;
        BEGIN
          SELECT count(*) FILTER (WHERE p.delete_after_days IS NULL),
                 max(p.delete_after_days)
            INTO bare, longest
            FROM projects j LEFT JOIN retention_policies p ON p.project_id = j.id;
          IF bare > 0 OR longest IS NULL THEN
            RETURN;
          END IF;
          FOR part IN
            SELECT c.relname::text AS pname FROM pg_inherits i
              JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = 'run_events'::regclass
               AND c.relname::text ~ '^run_events_p[0-9]{{6}}$'
             ORDER BY 1
          LOOP
            lower_bound := to_timestamp(substr(part.pname, 13), 'YYYYMM');
            CONTINUE WHEN lower_bound + interval '1 month'
                          > now() - make_interval(days => longest);
            CONTINUE WHEN EXISTS (
              SELECT 1 FROM run_queue q JOIN runs r ON r.id = q.run_id
               WHERE r.created_at < lower_bound + interval '1 month'
                 AND r.created_at >= lower_bound);
            IF NOT dry_run THEN
              EXECUTE format('DROP TABLE %I', part.pname);
            END IF;
            RETURN NEXT part.pname;
          END LOOP;
        END $$
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION {POLICIES}
        RETURNS TABLE (project_id uuid, delete_after_days integer, scrub_after_days integer)
        LANGUAGE sql STABLE SECURITY DEFINER
        SET search_path = pg_catalog, {schema}, pg_temp AS $$
          SELECT p.project_id, p.delete_after_days, p.scrub_after_days
            FROM retention_policies p
           WHERE p.delete_after_days IS NOT NULL OR p.scrub_after_days IS NOT NULL
           ORDER BY p.project_id
        $$
        """
    )
    for function in _FUNCTIONS:
        op.execute(f"REVOKE ALL ON FUNCTION {function} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {function} TO {pg.app_role()}")


def downgrade() -> None:
    if _on_postgres():
        for function in _FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {function}")
    pg.disable_tenant_rls("run_events")
    pg.revoke_all("run_events")
    _rebuild_events(keyed=False)
    pg.disable_tenant_rls("retention_policies")
    pg.revoke_all("retention_policies")
    op.drop_table("retention_policies")
    op.drop_index("ix_run_idempotency_run_id", table_name="run_idempotency")
    with op.batch_alter_table("runs", reflect_kwargs=_NO_FK_REFLECTION) as batch:
        batch.drop_constraint("uq_runs_id_created_at", type_="unique")
        batch.drop_column("scrubbed_at")
