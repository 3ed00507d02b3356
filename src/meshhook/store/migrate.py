"""Apply the Alembic chain shipped in the package, programmatically."""

from __future__ import annotations

from importlib.resources import files

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from meshhook.store.db import ensure_sqlite_directory
from meshhook.store.dialect import is_search_object
from meshhook.store.partitions import is_partition

SCRIPT_LOCATION = str(files("meshhook.store") / "migrations")


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    return config


def _run(url: str, app_role: str, action: str, revision: str) -> None:
    ensure_sqlite_directory(url)
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            config = _config()
            config.attributes["app_role"] = app_role
            config.attributes["connection"] = connection
            getattr(command, action)(config, revision)
    finally:
        engine.dispose()


_POSTGRES_NAME_SORT = frozenset({"name_key", "ix_workflows_name_key"})


def include_object(
    _object: object, name: str | None, _type: str, _reflected: bool, _compare_to: object
) -> bool:
    """Schema comparisons leave aside the search objects of migrations 0005
    (SQLite: an FTS5 table) and 0006 (PostgreSQL: a side table with a trigram
    index, kept out of the table models because on SQLite the name is 0005's),
    the partitions of ``run_events`` (0017, PostgreSQL), which are made at
    run time, and ``workflows.name_key`` with its index (0021, PostgreSQL
    only)."""
    if name in _POSTGRES_NAME_SORT:
        return False
    return not is_search_object(name) and not is_partition(name)


def upgrade(url: str, *, app_role: str = "meshhook_app", revision: str = "head") -> None:
    """Bring the database at ``url`` up to ``revision`` (default: the newest)."""
    _run(url, app_role, "upgrade", revision)


def downgrade(url: str, *, revision: str, app_role: str = "meshhook_app") -> None:
    _run(url, app_role, "downgrade", revision)


def current_revision(url: str) -> str | None:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def head_revisions() -> tuple[str, ...]:
    return tuple(ScriptDirectory.from_config(_config()).get_heads())


def is_known_revision(revision: str) -> bool:
    """Whether this release's migrations include ``revision`` (a database from a
    newer release is not one this code can open)."""
    try:
        return ScriptDirectory.from_config(_config()).get_revision(revision) is not None
    except Exception:  # alembic raises its own error types for unknown ids
        return False
