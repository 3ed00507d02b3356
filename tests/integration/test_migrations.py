"""The one Alembic chain: a single head, produces exactly the models, reversible."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from meshhook.store import migrate
from meshhook.store.dialect import SEARCH_TABLE, is_search_object
from meshhook.store.partitions import is_partition
from meshhook.store.tables import metadata
from tests.conftest import create_postgres_database, drop_postgres_database

# The name sort's expression index (0010) is outside the models on purpose;
# reflecting the schema warns that it skips it.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Skipped unsupported reflection of expression-based index"
)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    request.getfixturevalue("postgres_url")  # skips or fails without PostgreSQL
    url = create_postgres_database("meshhook_migration")
    yield url
    drop_postgres_database(url)


def test_the_chain_has_a_single_head() -> None:
    assert len(migrate.head_revisions()) == 1


def _differences(url: str) -> list[object]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_object": migrate.include_object}
            )
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


def _table_names(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        names = set(inspect(engine).get_table_names()) - {"alembic_version"}
        return {name for name in names if not is_search_object(name) and not is_partition(name)}
    finally:
        engine.dispose()


def _search_objects(url: str) -> set[str]:
    """The search table (0005's FTS5 table and its shadow tables on SQLite,
    0006's side table on PostgreSQL)."""
    engine = create_engine(url)
    try:
        return {name for name in inspect(engine).get_table_names() if is_search_object(name)}
    finally:
        engine.dispose()


def test_upgrade_from_empty_equals_the_models(empty_url: str) -> None:
    migrate.upgrade(empty_url)
    assert migrate.current_revision(empty_url) == migrate.head_revisions()[0]
    assert _differences(empty_url) == []
    assert SEARCH_TABLE in _search_objects(empty_url)


def test_downgrade_to_base_then_upgrade_again(empty_url: str) -> None:
    migrate.upgrade(empty_url)
    migrate.downgrade(empty_url, revision="base")
    assert _table_names(empty_url) == set()
    assert _search_objects(empty_url) == set()
    migrate.upgrade(empty_url)
    assert _table_names(empty_url) == {table.name for table in metadata.sorted_tables}
    assert _differences(empty_url) == []
