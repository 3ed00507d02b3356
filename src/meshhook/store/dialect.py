"""SQL that differs between SQLite and PostgreSQL, in one place."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    cast,
    func,
    literal,
    literal_column,
    select,
    table,
    text,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def json_array_contains(session: Session, column: Any, value: str) -> ColumnElement[bool]:
    """``value`` is an element of the JSON array in ``column``."""
    if _dialect(session) == "postgresql":
        return cast(column, JSONB).contains(type_coerce([value], JSONB))
    elements = func.json_each(column).table_valued("value")
    return select(elements.c.value).where(elements.c.value == literal(value)).exists()


def lock_rows(session: Session, query: Select[Any]) -> Select[Any]:
    """Lock the selected rows until commit. SQLite needs nothing: a write
    transaction already holds the database's single write lock."""
    if _dialect(session) == "postgresql":
        return query.with_for_update()
    return query


# Substring search over workflow name, description and key. SQLite: an FTS5
# table with the trigram tokenizer, kept in step with `workflows` by triggers, row
# for row by rowid (migration 0005). PostgreSQL: none yet (see that migration).
SEARCH_TABLE = "workflow_search"
# Trigram indexes find substrings of at least three characters.
_TRIGRAM = 3
# Up to this many candidates the index narrows the search; beyond, the term is
# common and scanning in page order finds a page of matches sooner.
_MAX_CANDIDATES = 2_000


def is_search_object(name: str | None) -> bool:
    """The search table or its FTS5 shadow tables: made by migration 0005 in SQL
    the table models cannot express."""
    return name is not None and name.startswith(SEARCH_TABLE)


def substring_candidates(session: Session, needle: str) -> ColumnElement[bool] | None:
    """A condition an index answers that every workflow whose name, description
    or key contains ``needle`` (case-insensitively) meets, and perhaps a few more.

    It only narrows the search: the exact ``LIKE`` conditions still decide, so the
    results are the same with or without it. ``None``: no index helps (PostgreSQL,
    fewer than three characters, or so many candidates that a scan is faster).
    """
    if len(needle) < _TRIGRAM or _dialect(session) != "sqlite":
        return None
    # A quoted FTS5 phrase of trigrams: the text as a substring, nothing parsed.
    phrase = '"' + needle.replace('"', '""') + '"'
    candidates: Select[Any] = (
        select(literal_column("rowid"))
        .select_from(table(SEARCH_TABLE))
        .where(text(f"{SEARCH_TABLE} MATCH :search_phrase").bindparams(search_phrase=phrase))
    )
    found = session.execute(candidates.limit(_MAX_CANDIDATES + 1)).scalars().all()
    if len(found) > _MAX_CANDIDATES:
        return None
    return literal_column("workflows.rowid").in_(found)
