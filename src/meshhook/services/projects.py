"""Projects (tenants) and their members."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from meshhook.domain.accounts import (
    Actor,
    Membership,
    Project,
    Role,
    User,
    check_key,
    check_name,
    normalise_email,
)
from meshhook.domain.errors import Conflict, NotFound, UniqueConflict
from meshhook.services import accounts
from meshhook.services.transactions import (
    ProjectScope,
    enter_project,
    project_transaction,
    transaction,
)
from meshhook.store import projects as project_store
from meshhook.store import users as user_store
from meshhook.store.db import Database


def add_project(session: Session, actor: Actor, project: Project, owner: User) -> None:
    """Insert ``project`` with ``owner`` inside the caller's transaction."""
    if project_store.get_by_key(session, project.key) is not None:
        raise Conflict(f"a project with key {project.key!r} already exists")
    project_store.insert_project(session, project)
    scope = enter_project(session, project, Role.OWNER)
    scope.members.insert(
        Membership(
            project_id=project.id,
            user_id=owner.id,
            email=owner.email,
            role=Role.OWNER,
            created_at=project.created_at,
        ),
    )
    scope.record(
        actor,
        "project.create",
        object_type="project",
        object_id=project.key,
        summary={"name": project.name, "owner": owner.email},
    )


def new_project(key: str, name: str) -> Project:
    return Project(
        id=uuid.uuid4(), key=check_key(key), name=check_name(name), created_at=datetime.now(UTC)
    )


def create_project(
    db: Database, actor: Actor, key: str, name: str, *, owner_email: str | None = None
) -> Project:
    """Create a project; the owner is ``owner_email`` (CLI) or the acting user."""
    project = new_project(key, name)
    try:
        with transaction(db, actor) as session:
            owner_id = actor.user_id
            if owner_email is not None:
                address = normalise_email(owner_email, path="/owner")
                owner = user_store.get_by_email(session, address)
                if owner is None or owner.pending:
                    raise NotFound(f"no user with email {owner_email!r}")
            else:
                assert owner_id is not None
                owner = user_store.get_by_id(session, owner_id)
                assert owner is not None
            add_project(session, actor, project, owner)
    except UniqueConflict as error:  # a concurrent create took the key
        raise Conflict(f"a project with key {project.key!r} already exists") from error
    return project


def list_projects(db: Database, actor: Actor) -> list[tuple[Project, Role]]:
    """The projects the actor is a member of, with the actor's role in each."""
    with transaction(db, actor, write=False) as session:
        assert actor.user_id is not None
        return project_store.list_for_user(session, actor.user_id)


def get_project(db: Database, actor: Actor, key: str) -> tuple[Project, Role]:
    with project_transaction(db, actor, key, Role.VIEWER, write=False) as scope:
        return scope.project, scope.role


def list_members(db: Database, actor: Actor, key: str) -> list[Membership]:
    with project_transaction(db, actor, key, Role.VIEWER, write=False) as scope:
        return scope.members.members()


def set_member(
    db: Database, actor: Actor, key: str, email: str, role: Role, *, invite: bool = True
) -> Membership:
    """Add a member or change their role (owner role needed).

    An email without an account answers exactly like one with an account, so
    adding members cannot be used to probe which emails have accounts: the
    email gets a *pending* account (it cannot sign in) holding the membership,
    and ``meshhook users create`` for that email later claims it. With
    ``invite`` False (the admin CLI) an unknown email is an error instead.
    """
    address = normalise_email(email)
    try:
        return _set_member(db, actor, key, address, role, invite=invite)
    except UniqueConflict:
        # Two owners invited the same new email at once: the account exists now.
        return _set_member(db, actor, key, address, role, invite=invite)


def _set_member(
    db: Database, actor: Actor, key: str, address: str, role: Role, *, invite: bool
) -> Membership:
    with project_transaction(db, actor, key, Role.OWNER) as scope:
        session, project = scope.session, scope.project
        user = user_store.get_by_email(session, address)
        if not invite and (user is None or user.pending):
            raise NotFound(f"no user with email {address!r}; create it first")
        if user is None:
            user = replace(accounts.new_user(address), pending=True)
            user_store.insert_user(session, user, None)
        existing = scope.members.get(user.id)
        if existing is None:
            membership = Membership(
                project_id=project.id,
                user_id=user.id,
                email=user.email,
                role=role,
                created_at=datetime.now(UTC),
            )
            scope.members.insert(membership)
            scope.record(
                actor,
                "member.add",
                object_type="member",
                object_id=user.email,
                summary={"role": role.value},
            )
            return membership
        if existing.role != role:
            _keep_an_owner(scope, existing, demoting=role != Role.OWNER)
            scope.members.update_role(user.id, role)
            scope.record(
                actor,
                "member.role_change",
                object_type="member",
                object_id=user.email,
                summary={"from": existing.role.value, "to": role.value},
            )
        return Membership(
            project_id=project.id,
            user_id=user.id,
            email=user.email,
            role=role,
            created_at=existing.created_at,
        )


def remove_member(db: Database, actor: Actor, key: str, email: str) -> None:
    """Remove a member (owner role needed); never the last owner."""
    with project_transaction(db, actor, key, Role.OWNER) as scope:
        user = user_store.get_by_email(scope.session, normalise_email(email))
        existing = scope.members.get(user.id) if user else None
        if user is None or existing is None:
            raise NotFound(f"{email!r} is not a member of project {key!r}")
        _keep_an_owner(scope, existing, demoting=True)
        scope.members.delete(user.id)
        scope.record(
            actor,
            "member.remove",
            object_type="member",
            object_id=user.email,
            summary={"role": existing.role.value},
        )


def leave_project(db: Database, actor: Actor, key: str) -> None:
    """The caller leaves a project (any role); the last owner cannot (409)."""
    with project_transaction(db, actor, key, Role.VIEWER) as scope:
        assert actor.user_id is not None
        existing = scope.members.get(actor.user_id)
        assert existing is not None  # the scope found the caller's role
        _keep_an_owner(scope, existing, demoting=True)
        scope.members.delete(actor.user_id)
        scope.record(
            actor,
            "member.leave",
            object_type="member",
            object_id=existing.email,
            summary={"role": existing.role.value},
        )


def _keep_an_owner(scope: ProjectScope, member: Membership, *, demoting: bool) -> None:
    if not demoting or member.role != Role.OWNER:
        return
    # Locked before counting: concurrent demotions are counted one after the other.
    owners = scope.members.lock_owners()
    if [owner for owner in owners if owner != member.user_id]:
        return
    raise Conflict(
        f"{member.email} is the last owner of project {scope.project.key!r}; "
        "make someone else owner first"
    )
