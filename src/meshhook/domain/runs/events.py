"""The vocabulary of a run's append-only event log."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class EventType(StrEnum):
    RUN_QUEUED = "run.queued"
    RUN_STARTED = "run.started"
    STEP_STARTED = "step.started"
    STEP_SUCCEEDED = "step.succeeded"
    STEP_FAILED = "step.failed"
    STEP_RETRY_SCHEDULED = "step.retry_scheduled"
    STEP_SKIPPED = "step.skipped"
    TIMER_STARTED = "timer.started"
    TIMER_FIRED = "timer.fired"
    RUN_SUCCEEDED = "run.succeeded"
    RUN_FAILED = "run.failed"
    RUN_CANCELLED = "run.cancelled"


TERMINAL_RUN_EVENTS = frozenset(
    {EventType.RUN_SUCCEEDED, EventType.RUN_FAILED, EventType.RUN_CANCELLED}
)


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    WAITING = "waiting"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in {RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED}


class StepStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    WAITING = "waiting"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"

    @property
    def is_done(self) -> bool:
        """Finished for good: nothing more will happen to this step in this run."""
        return self in {
            StepStatus.SUCCEEDED,
            StepStatus.FAILED,
            StepStatus.SKIPPED,
            StepStatus.CANCELLED,
        }


@dataclass(frozen=True, slots=True)
class RunEvent:
    """One entry of a run's log. ``seq`` is gapless per run, starting at 1."""

    seq: int
    type: EventType
    at: datetime
    node_id: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "type": str(self.type),
            "node_id": self.node_id,
            "at": self.at.isoformat(),
            "data": dict(self.data),
        }


def error_data(code: str, message: str, **extra: Any) -> dict[str, Any]:
    """The ``error`` member of failure events: a stable code and a message."""
    return {"code": code, "message": message, **extra}
