"""Request and response bodies of ``api/stats.py`` (run statistics)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from meshhook.domain.stats import Window


class Percentiles(BaseModel):
    p50: float | None
    p95: float | None
    p99: float | None


class RunCounts(BaseModel):
    finished: int
    succeeded: int
    failed: int
    cancelled: int
    dead_lettered: int


class ErrorCount(BaseModel):
    code: str
    count: int


class NodeStats(BaseModel):
    workflow: str
    node_id: str
    steps: int
    failures: int
    mean_ms: float | None
    max_ms: float


class StatsOut(BaseModel):
    window: Window
    since: str = Field(description="Start of the first hour counted (UTC).")
    until: str
    runs: RunCounts
    success_rate: float | None = Field(description="succeeded / finished; null without runs.")
    duration_ms: Percentiles = Field(description="Queued to finished.")
    queue_lag_ms: Percentiles = Field(description="Queued to the first step.")
    errors: list[ErrorCount] = Field(description="The most frequent error codes.")
    slowest_nodes: list[NodeStats] = Field(description="By mean step duration.")
    failing_nodes: list[NodeStats] = Field(description="By failed steps.")


class SeriesPointOut(BaseModel):
    at: str = Field(description="Start of the bucket (UTC).")
    succeeded: int
    failed: int
    cancelled: int
    dead_lettered: int
    success_rate: float | None
    duration_ms: Percentiles
    queue_lag_ms: Percentiles


class SeriesOut(BaseModel):
    window: Window
    bucket_seconds: int = Field(description="3600 (hours) up to 7d, 86400 (days) for 30d.")
    points: list[SeriesPointOut] = Field(
        description="Every bucket of the window, oldest first; an empty one has zero runs."
    )
