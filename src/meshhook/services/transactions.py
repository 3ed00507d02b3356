"""Transactions and the project scope every tenant use case runs in."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy.orm import Session

from meshhook.domain.accounts import Actor, Project, Role
from meshhook.domain.errors import Forbidden, NotFound
from meshhook.store import projects as project_store
from meshhook.store import tenancy
from meshhook.store.db import Database


@contextmanager
def transaction(
    db: Database, actor: Actor | None = None, *, write: bool = True
) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back on any error.

    It starts scoped to the acting user and no project, so on PostgreSQL no
    tenant row is visible until :func:`project_transaction` (or
    ``tenancy.switch_project``) names one.
    """
    session = db.session(write=write)
    try:
        with session.begin():
            tenancy.enter_scope(
                session,
                app_role=db.app_role,
                project_id=None,
                user_id=actor.user_id if actor else None,
            )
            yield session
    finally:
        session.close()


@dataclass(frozen=True, slots=True)
class ProjectScope:
    session: Session
    project: Project
    role: Role


def not_found_project(key: str) -> NotFound:
    # Same answer whether the project does not exist or the caller is not a
    # member: its existence is not revealed.
    return NotFound(f"project {key!r} was not found")


@contextmanager
def project_transaction(
    db: Database, actor: Actor, project_key: str, minimum: Role, *, write: bool = True
) -> Iterator[ProjectScope]:
    """A transaction scoped to one project, after checking the actor's role there."""
    with transaction(db, actor, write=write) as session:
        project = project_store.get_by_key(session, project_key)
        if project is None:
            raise not_found_project(project_key)
        tenancy.switch_project(session, project.id)
        role = _role_of(session, actor, project)
        if role is None:
            raise not_found_project(project_key)
        if not role.includes(minimum):
            raise Forbidden(
                f"this needs the {minimum.value} role in project {project.key!r};"
                f" you are {role.value}",
                extra={"required_role": minimum.value, "your_role": role.value},
            )
        yield ProjectScope(session=session, project=project, role=role)


def check_role(db: Database, actor: Actor, project_key: str, minimum: Role) -> None:
    """Raise what :func:`project_transaction` would (404 for a non-member, 403
    below ``minimum``) in a short read-only transaction.

    The API calls this before it reads a request body, so a caller who may not
    use a route cannot make the server read, let alone parse, what they send.
    """
    with project_transaction(db, actor, project_key, minimum, write=False):
        pass


def _role_of(session: Session, actor: Actor, project: Project) -> Role | None:
    if actor.user_id is None:
        return Role.OWNER  # the admin CLI works on the database directly
    membership = project_store.get_membership(session, project.id, actor.user_id)
    return membership.role if membership else None


WORKER = Actor(user_id=None, label="worker", is_admin=False)


@contextmanager
def worker_transaction(
    db: Database, project_id: UUID, *, write: bool = True
) -> Iterator[ProjectScope]:
    """A transaction scoped to the project of a run a worker claimed.

    The project comes from the claim, never from the run's content, and the
    transaction runs under the same RLS scope as a request in that project.
    """
    with transaction(db, WORKER, write=write) as session:
        tenancy.switch_project(session, project_id)
        project = project_store.get_by_id(session, project_id)
        if project is None:
            raise NotFound(f"project {project_id} was not found")
        yield ProjectScope(session=session, project=project, role=Role.EDITOR)
