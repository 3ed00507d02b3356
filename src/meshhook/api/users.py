"""Server administration of users (server admins only: ``users create --admin``)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel

from meshhook.api.deps import CurrentActor, DatabaseDep
from meshhook.domain.accounts import User
from meshhook.services import accounts

router = APIRouter(prefix="/api/v1/users", tags=["users"])


class UserOut(BaseModel):
    id: UUID
    email: str
    display_name: str
    is_admin: bool
    created_at: datetime
    disabled_at: datetime | None

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            id=user.id,
            email=user.email,
            display_name=user.display_name,
            is_admin=user.is_admin,
            created_at=user.created_at,
            disabled_at=user.disabled_at,
        )


@router.post("/{email}/disable", name="disable_user")
def disable_user(email: str, db: DatabaseDep, actor: CurrentActor) -> UserOut:
    """Disable a user: their tokens and sessions are refused (401) at once and
    their UI sessions revoked; server admins only."""
    return UserOut.of(accounts.set_disabled(db, actor, email, disabled=True))


@router.post("/{email}/enable", name="enable_user")
def enable_user(email: str, db: DatabaseDep, actor: CurrentActor) -> UserOut:
    """Let a disabled user's API tokens work again (sessions must sign in anew)."""
    return UserOut.of(accounts.set_disabled(db, actor, email, disabled=False))
