"""Users, sign-in, API tokens and UI sessions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from meshhook.domain.accounts import (
    Actor,
    ApiToken,
    Project,
    Role,
    User,
    check_name,
    normalise_email,
)
from meshhook.domain.errors import (
    Conflict,
    Forbidden,
    NotFound,
    Problem,
    Unauthorized,
    UniqueConflict,
    ValidationFailed,
)
from meshhook.domain.limits import MAX_TOKEN_DAYS
from meshhook.security import passwords
from meshhook.security import tokens as token_codec
from meshhook.services import audit, credentials
from meshhook.services.transactions import mark_used, transaction
from meshhook.store import projects as project_store
from meshhook.store import tokens as token_store
from meshhook.store import users as user_store
from meshhook.store.db import Database


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A token as created: ``value`` is shown once and never stored."""

    token: ApiToken
    value: str


def _check_password(password: str) -> None:
    if len(password) < passwords.MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            "the password is too short",
            errors=[
                Problem(
                    "/password",
                    "password.too_short",
                    f"use at least {passwords.MIN_PASSWORD_LENGTH} characters",
                )
            ],
        )


def new_user(email: str, *, is_admin: bool = False, display_name: str | None = None) -> User:
    address = normalise_email(email)
    if display_name is not None:
        display_name = check_name(display_name, path="/display_name")
    return User(
        id=uuid.uuid4(),
        email=address,
        display_name=display_name or address.split("@", 1)[0],
        is_admin=is_admin,
        created_at=datetime.now(UTC),
    )


def add_user(session: Session, actor: Actor, user: User, password: str | None) -> User:
    """Insert ``user`` inside the caller's transaction (shared with bootstrap).

    An account reserved by a project invitation (``pending``) is claimed: the
    user gets its id and so the memberships it was invited to.
    """
    if password is not None:
        _check_password(password)
    existing = user_store.get_by_email(session, user.email)
    if existing is not None and not existing.pending:
        raise Conflict(f"a user with email {user.email!r} already exists")
    digest = passwords.hash_password(password) if password is not None else None
    if existing is not None:
        # Reserved by an invitation: the account keeps that id and its memberships.
        user = replace(user, id=existing.id)
        user_store.claim_pending(session, user, digest)
    else:
        user_store.insert_user(session, user, digest)
    audit.record(
        session,
        actor,
        "user.create",
        object_type="user",
        object_id=str(user.id),
        summary={"email": user.email, "is_admin": user.is_admin},
    )
    return user


def create_user(
    db: Database,
    actor: Actor,
    email: str,
    *,
    password: str | None,
    is_admin: bool = False,
    display_name: str | None = None,
) -> User:
    """Create a user; ``password`` None leaves them token-only (no UI sign-in)."""
    user = new_user(email, is_admin=is_admin, display_name=display_name)
    try:
        with transaction(db, actor) as session:
            user = add_user(session, actor, user, password)
    except UniqueConflict as error:  # a concurrent create of the same email
        raise Conflict(f"a user with email {user.email!r} already exists") from error
    return user


def issue_token(
    session: Session,
    actor: Actor,
    user: User,
    *,
    name: str,
    kind: str = "api",
    lifetime: timedelta | None = None,
) -> IssuedToken:
    """Store a new token for ``user`` inside the caller's transaction."""
    created = datetime.now(UTC)
    new = token_codec.new_token()
    token = ApiToken(
        id=uuid.uuid4(),
        user_id=user.id,
        name=name,
        kind=kind,
        prefix=new.prefix,
        created_at=created,
        expires_at=created + lifetime if lifetime else None,
        last_used_at=None,
        revoked_at=None,
    )
    token_store.insert_token(session, token, new.digest)
    if kind == "api":
        audit.record(
            session,
            actor,
            "token.create",
            object_type="token",
            object_id=str(token.id),
            summary={"user": user.email, "name": name, "prefix": new.prefix},
        )
    return IssuedToken(token=token, value=new.value)


def create_token(
    db: Database, actor: Actor, email: str, *, name: str = "cli", expires_in_days: int | None = None
) -> IssuedToken:
    """A new API token for the user with ``email``; the value is returned once."""
    name = check_name(name)
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_TOKEN_DAYS:
        raise ValidationFailed(
            "the expiry is out of range",
            errors=[
                Problem(
                    "/expires_in_days",
                    "token.expiry_range",
                    f"use 1 to {MAX_TOKEN_DAYS} days, or no expiry",
                )
            ],
        )
    lifetime = timedelta(days=expires_in_days) if expires_in_days else None
    with transaction(db, actor) as session:
        user = user_store.get_by_email(session, normalise_email(email))
        if user is None or user.pending:
            raise NotFound(f"no user with email {email!r}")
        return issue_token(session, actor, user, name=name, lifetime=lifetime)


def list_tokens(db: Database, actor: Actor) -> list[ApiToken]:
    with transaction(db, actor, write=False) as session:
        assert actor.user_id is not None
        return token_store.list_for_user(session, actor.user_id)


def revoke_token(db: Database, actor: Actor, token_id: uuid.UUID) -> None:
    """Revoke one of the actor's own tokens; revoking twice is harmless."""
    with transaction(db, actor) as session:
        assert actor.user_id is not None
        token = token_store.get_for_user(session, actor.user_id, token_id)
        if token is None or token.kind != "api":
            raise NotFound(f"no token {token_id} among yours")
        if token.revoked_at is None:
            token_store.revoke(session, token_id, datetime.now(UTC))
            audit.record(
                session,
                actor,
                "token.revoke",
                object_type="token",
                object_id=str(token_id),
                summary={"prefix": token.prefix},
            )


def authenticate(db: Database, value: str) -> Actor:
    """The actor a bearer token or session cookie stands for, or ``Unauthorized``,
    checked in a transaction of its own (see :func:`pending` to check it inside
    the transaction of the use case instead)."""
    credentials.check_form(value)
    with transaction(db, write=False) as session:
        actor, due = credentials.verify(session, value, datetime.now(UTC))
    if due:
        assert actor.token_id is not None
        mark_used(db, actor.token_id)
    return actor


def pending(db: Database, value: str) -> credentials.PendingActor:
    """The actor ``value`` stands for, checked by the first transaction that
    acts for it (or, if a field is read first, by :func:`authenticate`):
    a read then authenticates and answers in one transaction. A malformed value
    is refused at once."""
    credentials.check_form(value)
    return credentials.PendingActor(value, lambda token: authenticate(db, token))


def logout(db: Database, actor: Actor) -> None:
    if actor.token_id is None:
        return
    with transaction(db, actor) as session:
        token_store.revoke(session, actor.token_id, datetime.now(UTC))


@dataclass(frozen=True, slots=True)
class Me:
    """The caller and the projects they belong to, with their role in each."""

    user: User
    memberships: list[tuple[Project, Role]]


def me(db: Database, actor: Actor) -> Me:
    """The caller and their projects, read in one transaction."""
    with transaction(db, actor, write=False) as session:
        assert actor.user_id is not None
        user = user_store.get_by_id(session, actor.user_id)
        if user is None:
            raise Unauthorized("the user of this token no longer exists")
        return Me(user, project_store.list_for_user(session, user.id))


def set_disabled(db: Database, actor: Actor, email: str, *, disabled: bool) -> User:
    """Disable a user (their tokens and sessions are refused at once, their UI
    sessions revoked) or enable them again; server admins only."""
    if not actor.is_admin:
        raise Forbidden("only server admins may disable or enable users")
    now = datetime.now(UTC)
    with transaction(db, actor) as session:
        user = user_store.get_by_email(session, normalise_email(email))
        if user is None or user.pending:
            raise NotFound(f"no user with email {email!r}")
        if disabled and actor.user_id == user.id:
            raise Conflict("you cannot disable yourself")
        if disabled == (user.disabled_at is not None):
            return user  # already so: nothing to change or audit
        user_store.set_disabled(session, user.id, now if disabled else None)
        if disabled:
            token_store.revoke_sessions(session, user.id, now)
        audit.record(
            session,
            actor,
            "user.disable" if disabled else "user.enable",
            object_type="user",
            object_id=str(user.id),
            summary={"email": user.email},
        )
    return replace(user, disabled_at=now if disabled else None)
