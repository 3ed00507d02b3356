"""Server administration of users (server admins only: ``users create --admin``)."""

from __future__ import annotations

from fastapi import APIRouter

from meshhook.api.deps import CurrentActor, DatabaseDep
from meshhook.api.schemas.users import (
    UserOut,
)
from meshhook.api.threads import blocking
from meshhook.services import accounts

router = APIRouter(prefix="/api/v1/users", tags=["users"])


@router.post("/{email}/disable", name="disable_user")
@blocking
def disable_user(email: str, db: DatabaseDep, actor: CurrentActor) -> UserOut:
    """Disable a user: their tokens and sessions are refused (401) at once and
    their UI sessions revoked; server admins only."""
    return UserOut.of(accounts.set_disabled(db, actor, email, disabled=True))


@router.post("/{email}/enable", name="enable_user")
@blocking
def enable_user(email: str, db: DatabaseDep, actor: CurrentActor) -> UserOut:
    """Let a disabled user's API tokens work again (sessions must sign in anew)."""
    return UserOut.of(accounts.set_disabled(db, actor, email, disabled=False))
