"""Response bodies of ``api/health.py``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class HealthOut(BaseModel):
    status: Literal["ok"]


class WorkersOut(BaseModel):
    """The in-process run workers of this server (``meshhook serve``)."""

    name: str
    running: bool
    healthy: bool = Field(description="Claiming runs: the last round succeeded, recently.")
    active_runs: int
    concurrency: int


class ReadyOut(BaseModel):
    status: Literal["ok"]
    database: str = Field(description="sqlite or postgresql.")
    workers: WorkersOut | None = Field(description="null when this process runs none.")
