"""Request and response bodies of ``api/projects.py``."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field

from meshhook.api.schemas.common import RequestBody
from meshhook.domain.accounts import Membership, Project, Role
from meshhook.domain.limits import MAX_KEY_LENGTH, MAX_NAME_LENGTH


class ProjectOut(BaseModel):
    id: UUID
    key: str
    name: str
    created_at: datetime
    role: Role

    @classmethod
    def of(cls, project: Project, role: Role) -> ProjectOut:
        return cls(
            id=project.id,
            key=project.key,
            name=project.name,
            created_at=project.created_at,
            role=role,
        )


class NewProjectBody(RequestBody):
    key: str = Field(max_length=MAX_KEY_LENGTH, description="Portable slug, unique on this server.")
    name: str = Field(max_length=MAX_NAME_LENGTH)


class MemberOut(BaseModel):
    email: str
    role: Role
    created_at: datetime

    @classmethod
    def of(cls, member: Membership) -> MemberOut:
        return cls(email=member.email, role=member.role, created_at=member.created_at)


class MemberBody(RequestBody):
    role: Role
