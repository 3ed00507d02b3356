"""Request and response bodies of ``api/users.py``."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel

from meshhook.domain.accounts import User


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
