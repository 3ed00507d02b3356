"""Request and response bodies of ``api/versions.py``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from meshhook.api.schemas.common import RequestBody
from meshhook.api.schemas.problems import ProblemOut
from meshhook.domain.limits import (
    MAX_NOTE_LENGTH,
    MAX_VERSION,
    MAX_VERSION_TAG_LENGTH,
)
from meshhook.domain.workflows import Alias, VersionInfo


class VersionOut(BaseModel):
    """A version in the history: metadata only. Its problems come with the
    version itself (``GET .../versions/{n}``), not with every list entry."""

    number: int
    state: str
    created_at: datetime
    created_by: str
    message: str
    content_hash: str
    parent_number: int | None
    published_at: datetime | None
    published_by: str | None
    tag: str | None
    note: str | None

    @classmethod
    def of(cls, info: VersionInfo) -> VersionOut:
        return cls(
            number=info.number,
            state=info.state.value,
            created_at=info.created_at,
            created_by=info.created_by,
            message=info.message,
            content_hash=info.content_hash,
            parent_number=info.parent_number,
            published_at=info.published_at,
            published_by=info.published_by,
            tag=info.tag,
            note=info.note,
        )


class VersionDetailOut(VersionOut):
    problems: list[ProblemOut] = Field(
        description="Completeness problems, at most 200; a final `problems.truncated` "
        "problem counts the rest."
    )
    definition: dict[str, Any]


class PublishBody(RequestBody):
    version: int | None = Field(
        default=None, ge=1, le=MAX_VERSION, description="Default: the head."
    )
    tag: str | None = Field(
        default=None, max_length=MAX_VERSION_TAG_LENGTH, description="e.g. v1.2.0"
    )
    note: str | None = Field(default=None, max_length=MAX_NOTE_LENGTH)


class AliasBody(RequestBody):
    version: int = Field(ge=1, le=MAX_VERSION)


class AliasOut(BaseModel):
    name: str
    version: int
    updated_at: datetime
    updated_by: str

    @classmethod
    def of(cls, alias: Alias) -> AliasOut:
        return cls(
            name=alias.name,
            version=alias.version,
            updated_at=alias.updated_at,
            updated_by=alias.updated_by,
        )
