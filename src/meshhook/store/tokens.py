"""API tokens and UI sessions (both stored as a hash only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import String, bindparam, cast, func, insert, or_, select, update
from sqlalchemy.orm import Session

from meshhook.domain.accounts import ApiToken, User
from meshhook.store import tenancy
from meshhook.store.tables import api_tokens, users


def _token(row: Any) -> ApiToken:
    return ApiToken(
        id=row.id,
        user_id=row.user_id,
        name=row.name,
        kind=row.kind,
        prefix=row.prefix,
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


def insert_token(session: Session, token: ApiToken, digest: str) -> None:
    session.execute(
        insert(api_tokens).values(
            id=token.id,
            user_id=token.user_id,
            name=token.name,
            kind=token.kind,
            prefix=token.prefix,
            token_hash=digest,
            created_at=token.created_at,
            expires_at=token.expires_at,
        )
    )


# Every request runs this: built once (see store/__init__.py, "Statements").
_BY_DIGEST = (
    select(
        api_tokens,
        users.c.email,
        users.c.display_name,
        users.c.is_admin,
        users.c.created_at.label("user_created_at"),
        users.c.disabled_at,
        users.c.pending,
    )
    .join(users, users.c.id == api_tokens.c.user_id)
    .where(api_tokens.c.token_hash == bindparam("digest"))
)


# The same lookup that also names the token's user as the transaction's acting
# user (``meshhook.user_id``, see store/tenancy.py) on PostgreSQL: a request
# that checks its token inside its own transaction needs no second statement
# for it. A refused token's transaction is rolled back, and the setting with it.
_BY_DIGEST_NAMING_USER = _BY_DIGEST.add_columns(
    func.set_config("meshhook.user_id", cast(users.c.id, String), True).label("named_user")
)
# ... and that first drops the transaction to the app role (tokens and users are
# not tenant tables): the request's first statement, the scope included.
_BY_DIGEST_ENTERING = _BY_DIGEST_NAMING_USER.add_columns(*tenancy.entering_columns())


def find_by_digest(
    session: Session, digest: str, *, name_user: bool = False, enter_as: str | None = None
) -> tuple[ApiToken, User] | None:
    """The token with hash ``digest`` and its user; ``name_user``: also make the
    user the transaction's acting user (PostgreSQL; a no-op on SQLite);
    ``enter_as``: and first scope the transaction as ``tenancy.enter_scope``
    would with that app role and no project (the transaction's first statement;
    when no token is found nothing is set and the caller must end it)."""
    parameters = {"digest": digest}
    query = _BY_DIGEST
    if name_user and tenancy.is_postgres(session):
        query = _BY_DIGEST_NAMING_USER
        if enter_as is not None:
            query = _BY_DIGEST_ENTERING
            parameters["app_role"] = enter_as
    row = session.execute(query, parameters).first()
    if row is None:
        return None
    user = User(
        id=row.user_id,
        email=row.email,
        display_name=row.display_name,
        is_admin=row.is_admin,
        created_at=row.user_created_at,
        disabled_at=row.disabled_at,
        pending=row.pending,
    )
    return _token(row), user


def list_for_user(session: Session, user_id: UUID) -> list[ApiToken]:
    rows = session.execute(
        select(api_tokens)
        .where(api_tokens.c.user_id == user_id, api_tokens.c.kind == "api")
        .order_by(api_tokens.c.created_at.desc())
    ).all()
    return [_token(row) for row in rows]


def get_for_user(session: Session, user_id: UUID, token_id: UUID) -> ApiToken | None:
    row = session.execute(
        select(api_tokens).where(api_tokens.c.user_id == user_id, api_tokens.c.id == token_id)
    ).first()
    return _token(row) if row else None


def mark_used(session: Session, token_id: UUID, when: datetime) -> None:
    session.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=when))


def revoke(session: Session, token_id: UUID, when: datetime) -> None:
    session.execute(
        update(api_tokens)
        .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=when)
    )


def list_sessions(session: Session, user_id: UUID, now: datetime) -> list[ApiToken]:
    """The user's UI sessions still in use (neither revoked nor expired), newest first."""
    rows = session.execute(
        select(api_tokens)
        .where(
            api_tokens.c.user_id == user_id,
            api_tokens.c.kind == "session",
            api_tokens.c.revoked_at.is_(None),
            or_(api_tokens.c.expires_at.is_(None), api_tokens.c.expires_at > now),
        )
        .order_by(api_tokens.c.created_at.desc(), api_tokens.c.id)
    ).all()
    return [_token(row) for row in rows]


def revoke_sessions(
    session: Session, user_id: UUID, when: datetime, *, keep: UUID | None = None
) -> int:
    """Revoke every live UI session of the user but ``keep``; how many were."""
    query = update(api_tokens).where(
        api_tokens.c.user_id == user_id,
        api_tokens.c.kind == "session",
        api_tokens.c.revoked_at.is_(None),
    )
    if keep is not None:
        query = query.where(api_tokens.c.id != keep)
    return int(session.execute(query.values(revoked_at=when)).rowcount)  # type: ignore[attr-defined]
