"""Request and response bodies of ``api/auth.py``."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field

from meshhook.api.schemas.common import RequestBody
from meshhook.domain.accounts import ApiToken
from meshhook.domain.limits import MAX_NAME_LENGTH, MAX_TOKEN_DAYS


class LoginBody(RequestBody):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1000)


class ProjectRef(BaseModel):
    key: str
    name: str
    role: str


class MeOut(BaseModel):
    id: UUID
    email: str
    display_name: str
    is_admin: bool
    projects: list[ProjectRef]


class LoginOut(BaseModel):
    csrf_token: str
    expires_at: datetime | None
    user: MeOut


class TokenOut(BaseModel):
    id: UUID
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, token: ApiToken) -> TokenOut:
        return cls(
            id=token.id,
            name=token.name,
            prefix=token.prefix,
            created_at=token.created_at,
            expires_at=token.expires_at,
            last_used_at=token.last_used_at,
            revoked_at=token.revoked_at,
        )


class NewTokenBody(RequestBody):
    name: str = Field(min_length=1, max_length=MAX_NAME_LENGTH)
    expires_in_days: int | None = Field(default=None, ge=1, le=MAX_TOKEN_DAYS)


class NewTokenOut(TokenOut):
    token: str = Field(description="The token itself, shown this once.")


class SessionOut(BaseModel):
    id: UUID
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    current: bool = Field(description="The session this request was made with.")
