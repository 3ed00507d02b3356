"""Request and response bodies of ``api/runs.py``."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from meshhook.api.schemas.common import RequestBody
from meshhook.domain.limits import (
    MAX_ALIAS_LENGTH,
    MAX_NODE_ID_LENGTH,
    MAX_VERSION,
)


class StartBody(RequestBody):
    input: Any = Field(default=None, description="The run input (any JSON; default {}).")
    version: int | None = Field(default=None, ge=1, le=MAX_VERSION)
    alias: str | None = Field(default=None, max_length=MAX_ALIAS_LENGTH)
    test: bool = Field(default=False, description="Run the head draft, marked test.")


class StepOut(BaseModel):
    node_id: str
    status: str
    attempts: int
    started_at: str | None
    finished_at: str | None
    output: Any
    error: dict[str, Any] | None


class ResumedFrom(BaseModel):
    run: UUID
    node: str


class RunOut(BaseModel):
    id: UUID
    workflow_id: UUID
    workflow_key: str
    version: int
    alias: str | None
    canary: bool = Field(description="The version was picked through the alias's canary.")
    test: bool
    trigger: str
    status: str
    dead_letter: bool
    input: Any
    output: Any
    error: dict[str, Any] | None
    created_at: str
    created_by: str
    started_at: str | None
    finished_at: str | None
    resumed_from: ResumedFrom | None
    scrubbed_at: str | None = Field(
        default=None,
        description="When the retention policy removed the run's payloads (inputs, outputs,"
        " recorded requests and responses); null while they are kept.",
    )
    steps: list[StepOut]


class EventOut(BaseModel):
    seq: int
    type: str
    node_id: str | None
    at: datetime
    data: dict[str, Any]


class ReplayOut(BaseModel):
    equal: bool = Field(description="Whether the recomputed run equals the served one.")
    run: RunOut


class ResumeBody(RequestBody):
    from_node: str = Field(
        min_length=1, max_length=MAX_NODE_ID_LENGTH, description="Execute from this node on."
    )
