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


class CanaryBody(RequestBody):
    version: int = Field(ge=1, le=MAX_VERSION, description="Another published version.")
    weight: int = Field(ge=0, le=100, description="Percent of the alias's runs it takes.")


class AliasBody(RequestBody):
    version: int = Field(ge=1, le=MAX_VERSION)
    canary: CanaryBody | None = Field(
        default=None,
        description="A weighted canary; omitted or null drops any canary. Pointing "
        "`version` at the canary's version promotes it.",
    )


class CanaryOut(BaseModel):
    version: int
    weight: int


class AliasOut(BaseModel):
    name: str
    version: int
    canary: CanaryOut | None
    updated_at: datetime
    updated_by: str

    @classmethod
    def of(cls, alias: Alias) -> AliasOut:
        canary = None
        if alias.canary_version is not None:
            canary = CanaryOut(version=alias.canary_version, weight=alias.canary_weight or 0)
        return cls(
            name=alias.name,
            version=alias.version,
            canary=canary,
            updated_at=alias.updated_at,
            updated_by=alias.updated_by,
        )


class ScheduleOut(BaseModel):
    node_id: str
    version: int = Field(description="The live version whose schedule node this is.")
    cron: str | None
    every_seconds: int | None
    timezone: str
    catch_up: str
    max_catch_up: int
    next_due_at: str
    last_fired_at: str | None
    upcoming: list[str] = Field(description="The next fire times, UTC, soonest first.")


class SchedulesOut(BaseModel):
    items: list[ScheduleOut]
