"""Users (global, not tenant-scoped)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from meshhook.domain.accounts import User
from meshhook.store.repository import unique_conflicts
from meshhook.store.tables import users


def _user(row: Any) -> User:
    return User(
        id=row.id,
        email=row.email,
        display_name=row.display_name,
        is_admin=row.is_admin,
        created_at=row.created_at,
        disabled_at=row.disabled_at,
        pending=row.pending,
    )


def insert_user(session: Session, user: User, password_hash: str | None) -> None:
    """A new account; an email taken meanwhile raises ``UniqueConflict``."""
    with unique_conflicts(f"a user with email {user.email!r} already exists"):
        session.execute(
            insert(users).values(
                id=user.id,
                email=user.email,
                display_name=user.display_name,
                password_hash=password_hash,
                is_admin=user.is_admin,
                created_at=user.created_at,
                pending=user.pending,
            )
        )


def claim_pending(session: Session, user: User, password_hash: str | None) -> None:
    """Turn the pending account reserved for ``user.email`` into a real one
    (keeping its id, so the project memberships it was invited to stay)."""
    session.execute(
        update(users)
        .where(users.c.email == user.email, users.c.pending.is_(True))
        .values(
            display_name=user.display_name,
            password_hash=password_hash,
            is_admin=user.is_admin,
            created_at=user.created_at,
            pending=False,
        )
    )


def set_disabled(session: Session, user_id: UUID, when: datetime | None) -> None:
    session.execute(update(users).where(users.c.id == user_id).values(disabled_at=when))


def get_by_email(session: Session, email: str) -> User | None:
    row = session.execute(select(users).where(users.c.email == email)).first()
    return _user(row) if row else None


def get_by_id(session: Session, user_id: UUID) -> User | None:
    row = session.execute(select(users).where(users.c.id == user_id)).first()
    return _user(row) if row else None


def get_password_hash(session: Session, email: str) -> tuple[User, str | None] | None:
    row = session.execute(select(users).where(users.c.email == email)).first()
    return (_user(row), row.password_hash) if row else None


def count_users(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(users)).scalar_one())
