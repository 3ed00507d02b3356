"""Users, projects (the tenants), memberships with roles, API tokens."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from meshhook.domain.errors import Problem, ValidationFailed
from meshhook.domain.limits import MAX_KEY_LENGTH, MAX_NAME_LENGTH

KEY_PATTERN = re.compile(rf"^[a-z0-9](?:[a-z0-9-]{{0,{MAX_KEY_LENGTH - 2}}}[a-z0-9])?$")
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


def looks_like_uuid(text: str) -> bool:
    """Whether ``text`` parses as a UUID (32 hex digits, dashes anywhere): such a
    key would be taken for an id wherever a path accepts either."""
    try:
        UUID(text)
    except ValueError:
        return False
    return True


def check_key(key: str, *, path: str = "/key") -> str:
    """A portable slug: lowercase letters, digits and inner dashes, 1-64 chars,
    that is not also a UUID (``fullmatch``: a trailing newline is refused too)."""
    if looks_like_uuid(key):
        raise ValidationFailed(
            f"{key!r} is not a valid key",
            errors=[
                Problem(
                    path,
                    "key.invalid",
                    "a key must not have the form of a UUID (ids and keys share URLs)",
                )
            ],
        )
    if not KEY_PATTERN.fullmatch(key):
        raise ValidationFailed(
            f"{key!r} is not a valid key",
            errors=[
                Problem(
                    path,
                    "key.invalid",
                    f"use 1-{MAX_KEY_LENGTH} lowercase letters, digits and dashes, "
                    "starting and ending with a letter or digit",
                )
            ],
        )
    return key


def normalise_email(email: str, *, path: str = "/email") -> str:
    value = email.strip().lower()
    if not EMAIL_PATTERN.fullmatch(value):
        raise ValidationFailed(
            f"{email!r} is not an email address",
            errors=[Problem(path, "email.invalid", "expected an address like name@example.com")],
        )
    return value


def slugify(name: str) -> str:
    """Derive a key from a display name ("Order sync #2" -> "order-sync-2")."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    slug = slug[:MAX_KEY_LENGTH].rstrip("-") or "workflow"
    # A name that reads as a UUID gets a prefix: such a key is refused.
    return f"w-{slug}"[:MAX_KEY_LENGTH] if looks_like_uuid(slug) else slug


# Characters a display name may not hold: controls (newlines, tabs, escapes) and
# the invisible bidirectional controls that make one name read as another.
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def unsafe_character(text: str) -> str | None:
    """The first control or bidirectional-control character of ``text``, as
    ``U+XXXX``, or ``None`` when there is none."""
    for char in text:
        if char in _BIDI_CONTROLS or unicodedata.category(char) == "Cc":
            return f"U+{ord(char):04X}"
    return None


def check_name(name: str, *, path: str = "/name") -> str:
    """The one rule for display names (projects, workflows, users, tokens): the
    name stripped of surrounding spaces, 1 to ``MAX_NAME_LENGTH`` characters
    (422 ``name.length``), with no control or bidirectional-control character
    (422 ``name.invalid_character``). Returns the stripped name."""
    value = name.strip()
    if not 1 <= len(value) <= MAX_NAME_LENGTH:
        raise ValidationFailed(
            "the name is empty or too long",
            errors=[Problem(path, "name.length", f"use 1 to {MAX_NAME_LENGTH} characters")],
        )
    found = unsafe_character(value)
    if found is not None:
        raise ValidationFailed(
            f"the name holds the invisible or control character {found}",
            errors=[
                Problem(
                    path,
                    "name.invalid_character",
                    f"remove the {found} character (control and text-direction "
                    "characters are not allowed in names)",
                )
            ],
        )
    return value
