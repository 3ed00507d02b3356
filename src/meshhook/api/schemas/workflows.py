"""Request and response bodies of ``api/workflows.py``."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from meshhook.api.schemas.common import RequestBody
from meshhook.api.schemas.problems import ProblemOut
from meshhook.domain.limits import (
    MAX_DESCRIPTION_LENGTH,
    MAX_KEY_LENGTH,
    MAX_NAME_LENGTH,
    MAX_NOTE_LENGTH,
    MAX_TAGS,
)
from meshhook.domain.workflows import Workflow


class WorkflowOut(BaseModel):
    id: UUID
    key: str
    name: str
    description: str
    tags: list[str]
    is_template: bool
    version: int = Field(description="The head version number.")
    published_version: int | None
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str
    deleted_at: datetime | None

    @classmethod
    def of(cls, workflow: Workflow) -> WorkflowOut:
        return cls(
            id=workflow.id,
            key=workflow.key,
            name=workflow.name,
            description=workflow.description,
            tags=list(workflow.tags),
            is_template=workflow.is_template,
            version=workflow.head_version,
            published_version=workflow.published_version,
            created_at=workflow.created_at,
            created_by=workflow.created_by,
            updated_at=workflow.updated_at,
            updated_by=workflow.updated_by,
            deleted_at=workflow.deleted_at,
        )


class WorkflowSavedOut(WorkflowOut):
    """What a save (PUT, or PATCH of the definition) answers."""

    definition: dict[str, Any] | None = Field(
        default=None,
        description="The saved definition. Left out when the request sent"
        " `Prefer: return=minimal` and the save was not merged: it is then the"
        " definition sent (or the base with the patch applied), normalised.",
    )
    content_hash: str
    problems: list[ProblemOut] = Field(
        description="Completeness problems of the head version; they block publishing."
    )
    merged: bool = Field(description="A stale save was merged with newer changes.")


class WorkflowDetailOut(WorkflowSavedOut):
    definition: dict[str, Any]


class CreateBody(RequestBody):
    key: str | None = Field(default=None, max_length=MAX_KEY_LENGTH)
    name: str = Field(max_length=MAX_NAME_LENGTH)
    description: str = Field(default="", max_length=MAX_DESCRIPTION_LENGTH)
    tags: list[str] = Field(default_factory=list, max_length=MAX_TAGS)
    is_template: bool = False
    definition: dict[str, Any] | None = None
    template: str | None = Field(default=None, description="A template key or workflow id.")


class SaveBody(RequestBody):
    definition: dict[str, Any]
    message: str = Field(default="", max_length=MAX_NOTE_LENGTH)


class PatchBody(RequestBody):
    key: str | None = Field(
        default=None,
        max_length=MAX_KEY_LENGTH,
        description="A new key (audited as workflow.rekey); the old key becomes free.",
    )
    name: str | None = Field(default=None, max_length=MAX_NAME_LENGTH)
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION_LENGTH)
    tags: list[str] | None = Field(default=None, max_length=MAX_TAGS)
    is_template: bool | None = None


class RestoreBody(RequestBody):
    key: str | None = Field(
        default=None,
        max_length=MAX_KEY_LENGTH,
        description="Restore under this key (the old one is taken).",
    )


class CloneBody(RequestBody):
    key: str | None = Field(default=None, max_length=MAX_KEY_LENGTH)
    name: str = Field(max_length=MAX_NAME_LENGTH)
