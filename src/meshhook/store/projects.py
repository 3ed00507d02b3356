"""Projects (the tenants) and their memberships.

``projects`` is the tenant registry itself and is not row-secured: module
functions. ``memberships`` is, matching either the scoped project or the
scoped user: one project's members through :class:`MembershipStore`
(``scope.members``), a user's projects through :func:`list_for_user`.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import and_, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from meshhook.domain.accounts import Membership, Project, Role
from meshhook.store import tenancy
from meshhook.store.dialect import lock_rows
from meshhook.store.repository import ProjectRepository, unique_conflicts
from meshhook.store.tables import memberships, projects, users


def _project(row: Any) -> Project:
    return Project(id=row.id, key=row.key, name=row.name, created_at=row.created_at)


def insert_project(session: Session, project: Project) -> None:
    """A new project; a key taken meanwhile raises ``UniqueConflict``."""
    with unique_conflicts(f"a project with key {project.key!r} already exists"):
        session.execute(
            insert(projects).values(
                id=project.id, key=project.key, name=project.name, created_at=project.created_at
            )
        )


# Every project-scoped request runs these two: built once (store/__init__.py).
_BY_KEY = select(projects).where(projects.c.key == bindparam("key"))


def get_by_key(session: Session, key: str) -> Project | None:
    row = session.execute(_BY_KEY, {"key": key}).first()
    return _project(row) if row else None


# The project, the user's role in it, and (PostgreSQL) the transaction scoped to
# it, in one statement: a membership row is visible to its own user whatever the
# scoped project (see the policy in migration 0001).
_WITH_ROLE = select(projects, memberships.c.role).outerjoin(
    memberships,
    and_(
        memberships.c.project_id == projects.c.id,
        memberships.c.user_id == bindparam("user_id"),
    ),
)
_ENTER: dict[bool, Any] = {
    False: _WITH_ROLE.where(projects.c.key == bindparam("key")),
    True: _WITH_ROLE.add_columns(tenancy.scoping_column(projects.c.id)).where(
        projects.c.key == bindparam("key")
    ),
}


# Every worker transaction reads its project: the statement is built once.
_BY_ID = select(projects).where(projects.c.id == bindparam("project_id"))


def enter_by_key(
    session: Session, key: str, user_id: UUID | None
) -> tuple[Project, Role | None] | None:
    """The project ``key`` and ``user_id``'s role there (``None``: no member),
    the transaction scoped to it on PostgreSQL; ``None`` when there is no such
    project (and then nothing is scoped)."""
    statement = _ENTER[tenancy.is_postgres(session)]
    row = session.execute(statement, {"key": key, "user_id": user_id}).first()
    if row is None:
        return None
    return _project(row), Role(row.role) if row.role is not None else None


def get_by_id(session: Session, project_id: UUID) -> Project | None:
    row = session.execute(_BY_ID, {"project_id": project_id}).first()
    return _project(row) if row else None


def list_for_user(session: Session, user_id: UUID) -> list[tuple[Project, Role]]:
    rows = session.execute(
        select(projects, memberships.c.role)
        .join(memberships, memberships.c.project_id == projects.c.id)
        .where(memberships.c.user_id == user_id)
        .order_by(projects.c.key)
    ).all()
    return [(_project(row), Role(row.role)) for row in rows]


def _membership_query() -> Any:
    return select(
        memberships.c.project_id,
        memberships.c.user_id,
        users.c.email,
        memberships.c.role,
        memberships.c.created_at,
    ).join(users, users.c.id == memberships.c.user_id)


def _membership(row: Any) -> Membership:
    return Membership(
        project_id=row.project_id,
        user_id=row.user_id,
        email=row.email,
        role=Role(row.role),
        created_at=row.created_at,
    )


_MEMBERSHIP = _membership_query().where(
    memberships.c.project_id == bindparam("project_id"),
    memberships.c.user_id == bindparam("user_id"),
)


class MembershipStore(ProjectRepository):
    """Who belongs to one project, and with which role (``scope.members``)."""

    __slots__ = ()

    def get(self, user_id: UUID) -> Membership | None:
        parameters = {"project_id": self.project_id, "user_id": user_id}
        row = self.session.execute(_MEMBERSHIP, parameters).first()
        return _membership(row) if row else None

    def members(self) -> list[Membership]:
        """Every member, by email."""
        rows = self.session.execute(
            _membership_query()
            .where(memberships.c.project_id == self.project_id)
            .order_by(users.c.email)
        ).all()
        return [_membership(row) for row in rows]

    def lock_owners(self) -> list[UUID]:
        """The project's owners, their rows locked until commit.

        Two owners demoting each other at once: the second waits for the first to
        commit and then counts one owner, not two (PostgreSQL ``FOR UPDATE``; a
        SQLite write transaction holds the database's only write lock anyway).
        """
        rows = self.session.execute(
            lock_rows(
                select(memberships.c.user_id).where(
                    memberships.c.project_id == self.project_id,
                    memberships.c.role == Role.OWNER.value,
                )
            )
        ).all()
        return [row.user_id for row in rows]

    def insert(self, membership: Membership) -> None:
        """A new member (``membership.project_id`` must be this project)."""
        if membership.project_id != self.project_id:
            raise ValueError("the membership belongs to another project")
        with unique_conflicts("that user became a member at the same time"):
            self.session.execute(
                insert(memberships).values(
                    project_id=self.project_id,
                    user_id=membership.user_id,
                    role=membership.role.value,
                    created_at=membership.created_at,
                )
            )

    def update_role(self, user_id: UUID, role: Role) -> None:
        self.session.execute(
            update(memberships)
            .where(memberships.c.project_id == self.project_id, memberships.c.user_id == user_id)
            .values(role=role.value)
        )

    def delete(self, user_id: UUID) -> None:
        self.session.execute(
            delete(memberships).where(
                memberships.c.project_id == self.project_id, memberships.c.user_id == user_id
            )
        )


def list_all(session: Session) -> list[Project]:
    rows = session.execute(select(projects).order_by(projects.c.key)).all()
    return [_project(row) for row in rows]
