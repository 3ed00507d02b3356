"""SQL that differs between SQLite and PostgreSQL, in one place."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, cast, func, literal, select, type_coerce
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
