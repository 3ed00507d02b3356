"""Substring search over workflow name, description and key that an index answers.

SQLite only: an FTS5 table with the trigram tokenizer (SQLite 3.34+), one row
per workflow under the same rowid, kept in step by triggers. Nothing on
PostgreSQL: a pg_trgm GIN index was tried and its plans are right for a
superuser, but request transactions run under row-level security, where the
planner may not use a non-leakproof operator such as LIKE as an index condition
before the policy's, so it scanned anyway (docs/performance.md).

The table models cannot express an FTS5 table; ``store.dialect.is_search_object``
names it so schema comparisons leave it aside. A later batch migration that
rebuilds ``workflows`` on SQLite drops these triggers and must recreate them
(``_create_sqlite`` below) and rebuild the table.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_COLUMNS = "name, description, key"


def _create_sqlite() -> None:
    op.execute(
        "CREATE VIRTUAL TABLE workflow_search USING fts5("
        f"{_COLUMNS}, tokenize = 'trigram case_sensitive 0')"
    )
    op.execute(
        f"INSERT INTO workflow_search (rowid, {_COLUMNS}) SELECT rowid, {_COLUMNS} FROM workflows"
    )
    op.execute(
        "CREATE TRIGGER workflow_search_insert AFTER INSERT ON workflows BEGIN"
        f" INSERT INTO workflow_search (rowid, {_COLUMNS})"
        " VALUES (new.rowid, new.name, new.description, new.key); END"
    )
    op.execute(
        "CREATE TRIGGER workflow_search_delete AFTER DELETE ON workflows BEGIN"
        " DELETE FROM workflow_search WHERE rowid = old.rowid; END"
    )
    op.execute(
        f"CREATE TRIGGER workflow_search_update AFTER UPDATE OF {_COLUMNS} ON workflows BEGIN"
        " UPDATE workflow_search SET name = new.name, description = new.description,"
        " key = new.key WHERE rowid = old.rowid; END"
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _create_sqlite()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS workflow_search_{trigger}")
        op.execute("DROP TABLE IF EXISTS workflow_search")
