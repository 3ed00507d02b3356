"""The storage contract every per-project repository follows.

A repository is bound to one ``(session, project_id)`` when it is built and
has no way to reach another project: every statement it runs names
``project_id`` (a ``WHERE project_id = :p``, or a join through a row of the
project), and every row it writes carries it. An id that belongs to another
project therefore finds nothing and changes nothing, on SQLite (no row-level
security) as on PostgreSQL (where RLS would also hide it).

Services never build repositories themselves: they reach them as attributes
of the :class:`~meshhook.services.transactions.ProjectScope` they open
(``scope.workflows``, ``scope.versions`` ...), which builds each one for the
project whose role it checked. What is genuinely not per project (users,
tokens, login attempts, the project table, the worker's cross-project claim)
stays module-level functions taking a session.

Writes that break a unique constraint raise :class:`UniqueConflict` (a domain
:class:`~meshhook.domain.errors.Conflict`), never a SQLAlchemy exception, so
services catch domain errors only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from uuid import UUID

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from meshhook.domain.errors import UniqueConflict


class ProjectRepository:
    """Base of the repositories bound to one project (see the module docstring).

    Subclasses add public methods only for queries scoped to ``project_id``;
    ``tests/integration/test_storage_contract.py`` calls every one of them with
    another project's ids and fails on a method it does not know.
    """

    __slots__ = ("project_id", "session")

    def __init__(self, session: Session, project_id: UUID) -> None:
        self.session = session
        self.project_id = project_id

    def __repr__(self) -> str:
        return f"{type(self).__name__}(project_id={self.project_id})"


@contextmanager
def unique_conflicts(detail: str) -> Iterator[None]:
    """Turn a unique (or foreign-key) violation inside the block into a domain
    :class:`UniqueConflict` carrying ``detail``.

    On PostgreSQL the transaction is aborted afterwards; the conflict ends it
    (services let it propagate, which rolls back).
    """
    try:
        yield
    except IntegrityError as error:
        raise UniqueConflict(detail) from error
