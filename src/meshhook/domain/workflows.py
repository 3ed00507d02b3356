"""Workflows, versions and aliases as plain records, plus the rules on their
metadata (keys, tags, version tags, alias names)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from meshhook.domain.errors import Problem, ValidationFailed
from meshhook.domain.limits import (
    MAX_ALIAS_LENGTH,
    MAX_TAG_LENGTH,
    MAX_TAGS,
    MAX_VERSION_TAG_LENGTH,
)

TAG_PATTERN = re.compile(rf"^[A-Za-z0-9][A-Za-z0-9._:/-]{{0,{MAX_TAG_LENGTH - 1}}}$")
VERSION_TAG_PATTERN = re.compile(rf"^[A-Za-z0-9][A-Za-z0-9._+-]{{0,{MAX_VERSION_TAG_LENGTH - 1}}}$")
ALIAS_PATTERN = re.compile(rf"^[a-z0-9](?:[a-z0-9_-]{{0,{MAX_ALIAS_LENGTH - 2}}}[a-z0-9])?$")


class VersionState(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


@dataclass(frozen=True, slots=True)
class Workflow:
    id: UUID
    project_id: UUID
    key: str
    name: str
    description: str
    tags: tuple[str, ...]
    is_template: bool
    head_version: int
    published_version: int | None
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str
    deleted_at: datetime | None


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """A version's metadata, without its (possibly large) definition."""

    workflow_id: UUID
    number: int
    content_hash: str
    parent_number: int | None
    message: str
    problems: tuple[Problem, ...]
    state: VersionState
    created_at: datetime
    created_by: str
    published_at: datetime | None
    published_by: str | None
    tag: str | None
    note: str | None


@dataclass(frozen=True, slots=True)
class Version:
    info: VersionInfo
    definition: bytes
    """Canonical JSON bytes of the definition."""


@dataclass(frozen=True, slots=True)
class WorkflowDetail:
    """A workflow with its head version (definition as canonical bytes)."""

    workflow: Workflow
    head: VersionInfo
    definition: bytes
    merged: bool = False


@dataclass(frozen=True, slots=True)
class Alias:
    workflow_id: UUID
    name: str
    version: int
    updated_at: datetime
    updated_by: str


@dataclass(frozen=True, slots=True)
class WorkflowFilter:
    q: str | None = None
    tag: str | None = None
    is_template: bool | None = None
    published: bool | None = None
    deleted: bool = False


def check_tags(tags: list[str], *, path: str = "/tags") -> tuple[str, ...]:
    """Workflow tags: at most 20, each a short label; duplicates are dropped."""
    problems = [
        Problem(
            f"{path}/{index}",
            "tag.invalid",
            f"use 1-{MAX_TAG_LENGTH} letters, digits and . _ : / -",
        )
        for index, tag in enumerate(tags)
        if not TAG_PATTERN.fullmatch(tag)
    ]
    if len(tags) > MAX_TAGS:
        problems.append(Problem(path, "tag.too_many", f"use at most {MAX_TAGS} tags"))
    if problems:
        raise ValidationFailed("the tags are not valid", errors=problems)
    return tuple(dict.fromkeys(tags))


def check_version_tag(tag: str) -> str:
    if not VERSION_TAG_PATTERN.fullmatch(tag):
        raise ValidationFailed(
            f"{tag!r} is not a valid version tag",
            errors=[
                Problem("/tag", "version_tag.invalid", "use e.g. v1.2.0 (letters, digits, . _ + -)")
            ],
        )
    return tag


def check_alias_name(name: str) -> str:
    if not ALIAS_PATTERN.fullmatch(name):
        raise ValidationFailed(
            f"{name!r} is not a valid alias name",
            errors=[
                Problem(
                    "/name",
                    "alias.invalid",
                    "use lowercase letters, digits, - and _, e.g. production",
                )
            ],
        )
    return name


def check_text(value: str, *, path: str, maximum: int) -> str:
    if len(value) > maximum:
        raise ValidationFailed(
            f"{path.strip('/')} is too long",
            errors=[Problem(path, "text.too_long", f"use at most {maximum} characters")],
        )
    return value


def problems_from_json(raw: Any) -> tuple[Problem, ...]:
    return tuple(
        Problem(item["path"], item["code"], item["message"], item.get("severity", "error"))
        for item in raw or ()
    )
