"""SQL that differs between SQLite and PostgreSQL, in one place."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    Uuid,
    any_,
    bindparam,
    cast,
    func,
    literal,
    literal_column,
    select,
    table,
    text,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.sql import operators
from sqlalchemy.sql.expression import UnaryExpression

from meshhook.store.tables import workflows


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def json_array_contains(session: Session, column: Any, value: str) -> ColumnElement[bool]:
    """``value`` is an element of the JSON array in ``column``."""
    if _dialect(session) == "postgresql":
        return cast(column, JSONB).contains(type_coerce([value], JSONB))
    elements = func.json_each(column).table_valued("value")
    return select(elements.c.value).where(elements.c.value == literal(value)).exists()


def name_sort_keys(session: Session, name: ColumnElement[str]) -> list[ColumnElement[Any]]:
    """Sort keys for ``sort=name``: the name with ASCII letters lower-cased, then the
    name itself (so "Alpha" and "alpha" keep one order), both by code point.

    Apply it to the column and to a cursor's value alike, so a keyset page starts
    exactly after the row it names. SQLite's ``lower()`` folds ASCII letters only;
    on PostgreSQL the ``"C"`` collation makes ``lower()`` and the comparison do
    the same whatever the database's locale, so both backends order alike.
    """
    if _dialect(session) == "postgresql":
        name = name.collate("C")
    return [func.lower(name), name]


def lock_rows(query: Select[Any]) -> Select[Any]:
    """Lock the selected rows until commit (``FOR UPDATE`` on PostgreSQL).

    SQLite needs nothing, and SQLAlchemy renders nothing there: a write
    transaction already holds the database's single write lock."""
    return query.with_for_update()


# Substring search over workflow name, description and key. SQLite: an FTS5
# table with the trigram tokenizer, kept in step with `workflows` by triggers, row
# for row by rowid (migration 0005). PostgreSQL: a side table of the same name
# with a pg_trgm GIN index, kept in step by a trigger and read only through the
# SECURITY DEFINER function below, which takes the project from the transaction's
# tenant setting (migration 0006: under row-level security the planner would not
# use a trigram index on `workflows` itself).
SEARCH_TABLE = "workflow_search"
# All the candidates in one array, or NULL when there are too many: a common term
# then costs one row, not 2,001. For such a term the same statement also has the
# rest of the transaction walk in page order (`walk_in_page_order`), instead of
# a round trip of its own; otherwise it resets `enable_sort` (a NULL value), as an
# earlier probe for fewer candidates may have turned it off.
_POSTGRES_CANDIDATES = text(
    "SELECT CASE WHEN count(*) > :max_rows THEN NULL"
    " ELSE coalesce(array_agg(id), ARRAY[]::uuid[]) END AS ids,"
    " set_config('enable_sort', CASE WHEN count(*) > :max_rows THEN 'off' END, true)"
    " = 'off' AS walking"
    " FROM meshhook_search_candidates(:pattern, :max_rows + 1) AS id"
)
# Trigram indexes find substrings of at least three characters.
_TRIGRAM = 3
# Up to this many candidates the index narrows the search; beyond, the term is
# common and scanning in page order finds a page of matches sooner.
_MAX_CANDIDATES = 2_000
# A search asks for this many first: finding 2,001 to learn that a term is common
# costs more than the page (store/workflows.py, ``list_page``).
FEW_CANDIDATES = 200


def contains_pattern(text: str) -> str:
    """A ``LIKE`` pattern (escape character: backslash) matching ``text`` anywhere,
    with ``%``, ``_`` and ``\\`` in it taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return "%" + escaped + "%"


NAME_SORT_INDEX = "ix_workflows_name_sort"


def is_search_object(name: str | None) -> bool:
    """The search table, its FTS5 shadow tables (SQLite) or its index
    (PostgreSQL), made by migrations 0005 and 0006, and the name sort's expression
    index (0010): SQL the table models do not describe."""
    return name is not None and (name.startswith(SEARCH_TABLE) or name == NAME_SORT_INDEX)


def substring_candidates(
    session: Session, needle: str, most: int = _MAX_CANDIDATES
) -> ColumnElement[bool] | None:
    """A condition an index answers that every workflow whose name, description
    or key contains ``needle`` (already lower-cased) meets, and perhaps a few more.

    It only narrows the search: the exact ``LIKE`` conditions still decide, so the
    results are the same with or without it. ``None``: no index helps (fewer than
    three characters, or more than ``most`` candidates). A ``None`` for more
    than ``most`` candidates has already arranged :func:`walk_in_page_order`
    for the rest of the transaction (the page is looked for in page order);
    any other answer has undone it.
    """
    if len(needle) < _TRIGRAM:
        return None
    if _dialect(session) == "postgresql":
        return _postgres_candidates(session, needle, most)
    # A quoted FTS5 phrase of trigrams: the text as a substring, nothing parsed.
    phrase = '"' + needle.replace('"', '""') + '"'
    candidates: Select[Any] = (
        select(literal_column("rowid"))
        .select_from(table(SEARCH_TABLE))
        .where(text(f"{SEARCH_TABLE} MATCH :search_phrase").bindparams(search_phrase=phrase))
    )
    found = session.execute(candidates.limit(most + 1)).scalars().all()
    if len(found) > most:
        return None
    return literal_column("workflows.rowid").in_(found)


def walk_in_page_order(session: Session) -> None:
    """For the rest of the transaction, have PostgreSQL answer a page by walking
    the sort index rather than by sorting every match (SQLite: nothing to do).

    Called when the trigram index could not narrow a search: the term is short
    or common (more than 2,000 candidates), so a walk in page order meets a
    page of matches within a few hundred rows. The planner cannot know that:
    it rates ``'%billing%'`` rarer with every literal character (18 rows
    expected of 12,500 at 100,000 workflows), and so sorted a full parallel
    scan (48 ms) instead of walking the index (0.6 ms). The setting is
    transaction-local; a search's transaction runs nothing after the page.
    """
    if _dialect(session) == "postgresql" and not _walking(session):
        session.execute(_NO_SORT)
        _walking_from_now(session)


_NO_SORT = text("SELECT set_config('enable_sort', 'off', true)")
_WALKING = "meshhook_walking_in_page_order"


def _walking(session: Session) -> bool:
    """Whether this transaction already walks in page order."""
    return session.info.get(_WALKING) is session.get_transaction()


def _walking_from_now(session: Session, walking: bool = True) -> None:
    # Keyed by the transaction: the setting ends with it.
    session.info[_WALKING] = session.get_transaction() if walking else None


def _postgres_candidates(session: Session, needle: str, most: int) -> ColumnElement[bool] | None:
    # The function matches lower(name), lower(description) and key joined by
    # newlines with LIKE, the same pattern as the exact conditions use.
    found, walking = session.execute(
        _POSTGRES_CANDIDATES,
        {"pattern": contains_pattern(needle), "max_rows": most},
    ).one()
    _walking_from_now(session, walking)
    if found is None:
        return None
    # One array parameter, answered by the primary key even when empty (a
    # constant false would still be planned as a scan, with a parallel worker).
    return workflows.c.id == any_(bindparam("search_ids", found, type_=ARRAY(Uuid)))


def insert_if_absent(session: Session, target: Table, values: dict[str, Any]) -> None:
    """Insert one row unless its primary key exists (``ON CONFLICT DO NOTHING``);
    concurrent callers on either database never fail on the duplicate."""
    if _dialect(session) == "postgresql":
        session.execute(postgresql_insert(target).values(**values).on_conflict_do_nothing())
    else:
        session.execute(sqlite_insert(target).values(**values).on_conflict_do_nothing())


def same_project(session: Session, column: ColumnElement[Any], project_id: Any) -> Any:
    """``column = project_id`` for a query that picks rows by key
    (``... AND id IN (...)``): on SQLite written ``+column = :p``, which its
    planner does not answer from an index, since without statistics it would
    walk the project's whole ``(project_id, ...)`` index instead of the key's.
    PostgreSQL's planner weighs both with its statistics."""
    if _dialect(session) == "postgresql":
        return column == project_id
    plus = UnaryExpression(column, operator=operators.custom_op("+"), type_=column.type)
    return plus == project_id


def adding_upsert(
    target: Table,
    summed: Sequence[str],
    highest: str | None = None,
    *,
    postgres: bool,
    zeros: Sequence[str] = (),
) -> Any:
    """An insert of rows of ``target`` that, where a row with the same primary
    key exists, adds the ``summed`` columns to it (and keeps the larger
    ``highest``) instead; executed with a list of rows. ``zeros``: columns a
    new row starts at 0, written in the statement rather than as parameters
    (psycopg caches the parsing of a statement only up to 50 parameters and
    4,096 characters). Build it once: it does not depend on the rows."""
    statement = (postgresql_insert if postgres else sqlite_insert)(target)
    if zeros:
        statement = statement.values({name: literal_column("0") for name in zeros})
    excluded = statement.excluded
    changes: dict[str, ColumnElement[Any]] = {
        name: target.c[name] + excluded[name] for name in summed
    }
    if highest is not None:
        larger = func.greatest if postgres else func.max
        changes[highest] = larger(target.c[highest], excluded[highest])
    primary = [column.name for column in target.primary_key.columns]
    return statement.on_conflict_do_update(index_elements=primary, set_=changes)
