"""Tenant scope of a transaction.

On PostgreSQL every tenant table has a row-level security policy comparing its
``project_id`` with the transaction-local setting ``meshhook.project_id``
(memberships also match ``meshhook.user_id``). Each transaction first drops to
the application role, which owns nothing and so cannot bypass the policies,
even when the login is a superuser. The settings are ``SET LOCAL``: they vanish
at commit or rollback, so a pooled connection never carries a scope over.
A request checking its token does all of it in the token lookup itself
(:func:`entering_columns`), its transaction's first statement.

On SQLite there is no RLS; the repositories put ``project_id`` in every query.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import String, bindparam, cast, func, literal, text
from sqlalchemy.orm import Session

_ENTER = text(
    "SELECT set_config('role', :role, true),"
    " set_config('meshhook.project_id', :project, true),"
    " set_config('meshhook.user_id', :user, true)"
)
_SET_PROJECT = text("SELECT set_config('meshhook.project_id', :project, true)")


def enter_scope(
    session: Session, *, app_role: str, project_id: UUID | None, user_id: UUID | None
) -> None:
    """Start the transaction as the app role, scoped to a project and a user."""
    if _dialect(session) != "postgresql":
        return
    session.execute(
        _ENTER,
        {
            "role": app_role,
            "project": str(project_id) if project_id else "",
            "user": str(user_id) if user_id else "",
        },
    )


def entering_columns() -> list[Any]:
    """Select-list columns that start a transaction as :func:`enter_scope` does,
    with no project, from the ``app_role`` parameter: PostgreSQL sets them while
    answering the statement, which needs no round trip of its own. Only for a
    statement that reads no tenant table (its privileges are the login role's,
    checked before the switch), and whose transaction ends if it finds no row."""
    return [
        func.set_config(literal("role"), bindparam("app_role"), literal(True)).label("entered"),
        func.set_config(literal("meshhook.project_id"), literal(""), literal(True)).label(
            "no_project"
        ),
    ]


def switch_project(session: Session, project_id: UUID) -> None:
    """Re-scope the running transaction, e.g. right after creating a project."""
    if _dialect(session) != "postgresql":
        return
    session.execute(_SET_PROJECT, {"project": str(project_id)})


def scoping_column(project_id: Any) -> Any:
    """A select-list column that scopes the transaction to ``project_id`` (a
    column) as :func:`switch_project` does, for the row that names the project:
    PostgreSQL sets it while answering the statement, no round trip of its own."""
    return func.set_config(
        literal("meshhook.project_id"), cast(project_id, String), literal(True)
    ).label("scoped")


def is_postgres(session: Session) -> bool:
    return _dialect(session) == "postgresql"


def _dialect(session: Session) -> str:
    bind = session.get_bind()
    return bind.dialect.name
