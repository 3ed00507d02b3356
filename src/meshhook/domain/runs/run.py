"""A run as stored and shown: what it runs (pinned), and its folded state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from meshhook.domain.runs.events import RunStatus
from meshhook.domain.runs.state import RunState


class Trigger(StrEnum):
    MANUAL = "manual"
    WEBHOOK = "webhook"
    RESUME = "resume"
    SCHEDULE = "schedule"


@dataclass(frozen=True, slots=True)
class RunView:
    """The part of a run that is a fold over its events."""

    status: RunStatus
    input: Any
    output: Any
    error: dict[str, Any] | None
    steps: list[dict[str, Any]]
    started_at: datetime | None
    finished_at: datetime | None
    dead_letter: bool
    last_seq: int

    @classmethod
    def of(cls, state: RunState) -> RunView:
        """The view of a folded state. A run failed by a step that ran out of
        attempts (not a ``terminate``, not the run timeout) is dead-lettered:
        ``resume`` retries it."""
        dead = (
            state.status is RunStatus.FAILED
            and state.error is not None
            and state.error.get("code") not in {"run.terminated", "run.timeout"}
        )
        return cls(
            status=state.status,
            input=state.input,
            output=state.output,
            error=state.error,
            steps=[step.as_json() for step in state.steps.values()],
            started_at=state.started_at,
            finished_at=state.finished_at,
            dead_letter=dead,
            last_seq=state.last_seq,
        )

    def payloads(self) -> list[Any]:
        """Every payload of the run: its input and output, each step's input,
        output and error (what a redactor's pointers are applied to)."""
        found = [self.input, self.output]
        for step in self.steps:
            found.extend(step.get(key) for key in ("input", "output", "error"))
        return found

    def as_json(self) -> dict[str, Any]:
        return {
            "status": str(self.status),
            "input": self.input,
            "output": self.output,
            "error": self.error,
            "steps": self.steps,
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at),
            "dead_letter": self.dead_letter,
        }


@dataclass(frozen=True, slots=True)
class Run:
    id: UUID
    project_id: UUID
    workflow_id: UUID
    workflow_key: str
    version: int
    alias: str | None
    test: bool
    trigger: Trigger
    created_at: datetime
    created_by: str
    view: RunView
    resumed_from_run: UUID | None = None
    resumed_from_node: str | None = None
    canary: bool = False
    """The version was picked through the alias's canary."""
    scrubbed_at: datetime | None = None
    """When retention removed its payloads (domain/retention.py), if it did."""

    def as_json(self) -> dict[str, Any]:
        """The run as ``GET .../runs/{run}`` returns it."""
        resumed = (
            {"run": str(self.resumed_from_run), "node": self.resumed_from_node}
            if self.resumed_from_run is not None
            else None
        )
        return {
            "id": str(self.id),
            "workflow_id": str(self.workflow_id),
            "workflow_key": self.workflow_key,
            "version": self.version,
            "alias": self.alias,
            "canary": self.canary,
            "test": self.test,
            "trigger": str(self.trigger),
            "created_at": _iso(self.created_at),
            "created_by": self.created_by,
            "resumed_from": resumed,
            "scrubbed_at": _iso(self.scrubbed_at),
            **self.view.as_json(),
        }


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
