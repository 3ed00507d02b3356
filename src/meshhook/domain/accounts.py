"""Users, projects (the tenants), memberships with roles, API tokens."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from meshhook.domain.errors import Problem, ValidationFailed

KEY_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
EMAIL_PATTERN = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}$")


class Role(StrEnum):
    """Project roles; each includes every role below it."""

    VIEWER = "viewer"
    EDITOR = "editor"
    ADMIN = "admin"
    OWNER = "owner"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def includes(self, other: Role) -> bool:
        return self.rank >= other.rank


_RANKS = {Role.VIEWER: 1, Role.EDITOR: 2, Role.ADMIN: 3, Role.OWNER: 4}


@dataclass(frozen=True, slots=True)
class User:
    id: UUID
    email: str
    display_name: str
    is_admin: bool
    created_at: datetime
    # Disabled users' tokens and sessions are refused.
    disabled_at: datetime | None = None
    # Reserved by a project invitation; cannot sign in until an admin creates it.
    pending: bool = False


@dataclass(frozen=True, slots=True)
class Project:
    id: UUID
    key: str
    name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Membership:
    project_id: UUID
    user_id: UUID
    email: str
    role: Role
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ApiToken:
    id: UUID
    user_id: UUID
    name: str
    kind: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: a signed-in user, or the admin CLI (``user_id`` None)."""

    user_id: UUID | None
    label: str
    is_admin: bool = False
    token_id: UUID | None = None

    @classmethod
    def cli(cls) -> Actor:
        return cls(user_id=None, label="cli", is_admin=True)


def check_key(key: str, *, path: str = "/key") -> str:
    """A portable slug: lowercase letters, digits and inner dashes, 1-64 chars."""
    if not KEY_PATTERN.match(key):
        raise ValidationFailed(
            f"{key!r} is not a valid key",
            errors=[
                Problem(
                    path,
                    "key.invalid",
                    "use 1-64 lowercase letters, digits and dashes, "
                    "starting and ending with a letter or digit",
                )
            ],
        )
    return key


def normalise_email(email: str, *, path: str = "/email") -> str:
    value = email.strip().lower()
    if not EMAIL_PATTERN.match(value):
        raise ValidationFailed(
            f"{email!r} is not an email address",
            errors=[Problem(path, "email.invalid", "expected an address like name@example.com")],
        )
    return value


def slugify(name: str) -> str:
    """Derive a key from a display name ("Order sync #2" -> "order-sync-2")."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:64].rstrip("-") or "workflow"
