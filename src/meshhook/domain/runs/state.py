"""A run's state as a fold over its events.

``apply`` is the reducer: one event, one small named transition. ``fold`` starts
from nothing and applies every event, so replaying a run is ``fold`` over its
stored log. The state also keeps a little bookkeeping that ``decide`` needs to
stay cheap on long runs (the open steps, the frontier of nodes that may have
become ready): it is derived from the events like everything else.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from meshhook.domain.runs.events import EventType, RunEvent, RunStatus, StepStatus
from meshhook.domain.runs.graph import RunGraph

Wake = Literal["retry", "timer"]


@dataclass(slots=True)
class StepState:
    """What happened to one node in one run."""

    node_id: str
    status: StepStatus = StepStatus.PENDING
    attempts: int = 0
    input: Any = None
    output: Any = None
    error: dict[str, Any] | None = None
    label: str | None = None
    """Which named output a succeeded step left by (``branch``), or the
    ``terminate`` status it asked for."""
    started_at: datetime | None = None
    finished_at: datetime | None = None
    due_at: datetime | None = None
    wake: Wake | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "node_id": self.node_id,
            "status": str(self.status),
            "attempts": self.attempts,
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at),
            "output": self.output,
            "error": self.error,
        }


@dataclass(slots=True)
class RunState:
    status: RunStatus = RunStatus.QUEUED
    input: Any = None
    trigger_node: str | None = None
    output: Any = None
    error: dict[str, Any] | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    timeout_seconds: float | None = None
    steps: dict[str, StepState] = field(default_factory=dict)
    last_seq: int = 0
    # Derived bookkeeping for ``decide`` (see the module docstring).
    open_steps: dict[str, None] = field(default_factory=dict)
    frontier: dict[str, None] = field(default_factory=dict)
    blocking_failure: str | None = None
    terminated_by: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The run's status and steps as the API shows them."""
        return {
            "status": str(self.status),
            "input": self.input,
            "output": self.output,
            "error": self.error,
            "created_at": _iso(self.created_at),
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at),
            "steps": [step.as_json() for step in self.steps.values()],
        }


def fold(graph: RunGraph, events: Iterable[RunEvent]) -> RunState:
    """The state of a run after ``events`` (oldest first)."""
    state = RunState()
    for event in events:
        apply(graph, state, event)
    return state


def apply(graph: RunGraph, state: RunState, event: RunEvent) -> None:
    """Apply one event to ``state`` in place."""
    if event.seq != state.last_seq + 1:
        raise ValueError(f"event {event.seq} follows {state.last_seq}: the log has a gap")
    state.last_seq = event.seq
    handler = _HANDLERS[event.type]
    handler(graph, state, event)


def _run_queued(graph: RunGraph, state: RunState, event: RunEvent) -> None:
    state.status = RunStatus.QUEUED
    state.input = event.data.get("input")
    state.trigger_node = event.data.get("trigger_node") or graph.default_trigger()
    state.timeout_seconds = event.data.get("timeout_seconds")
    state.created_at = event.at


def _run_started(graph: RunGraph, state: RunState, event: RunEvent) -> None:
    state.status = RunStatus.RUNNING
    state.started_at = event.at
    for node in graph.nodes:
        if not graph.incoming[node.id]:
            state.frontier[node.id] = None


def _step_started(graph: RunGraph, state: RunState, event: RunEvent) -> None:
    step = _step(state, event)
    step.attempts = max(step.attempts, int(event.data.get("attempt", 1)))
    step.input = event.data.get("input")
    step.error = None
    step.due_at = None
    step.wake = None
    if step.started_at is None:
        step.started_at = event.at
    _open(state, step, StepStatus.RUNNING)


def _step_succeeded(graph: RunGraph, state: RunState, event: RunEvent) -> None:
    step = _step(state, event)
    step.output = event.data.get("output")
    step.label = event.data.get("label")
    step.error = None
    if graph.by_id[step.node_id].type == "terminate" and state.terminated_by is None:
        state.terminated_by = step.node_id
    _finish(graph, state, step, StepStatus.SUCCEEDED, event.at)


def _step_failed(graph: RunGraph, state: RunState, event: RunEvent) -> None:
    step = _step(state, event)
    step.error = dict(event.data.get("error") or {})
    if not graph.has_error_output(step.node_id) and state.blocking_failure is None:
        state.blocking_failure = step.node_id
    _finish(graph, state, step, StepStatus.FAILED, event.at)


def _step_retry_scheduled(graph: RunGraph, state: RunState, event: RunEvent) -> None:
    step = _step(state, event)
    step.error = dict(event.data.get("error") or {})
    step.due_at = datetime.fromisoformat(event.data["due_at"])
    step.wake = "retry"
    _open(state, step, StepStatus.WAITING)


def _step_skipped(graph: RunGraph, state: RunState, event: RunEvent) -> None:
    _finish(graph, state, _step(state, event), StepStatus.SKIPPED, event.at)


def _timer_started(graph: RunGraph, state: RunState, event: RunEvent) -> None:
    step = _step(state, event)
    step.due_at = datetime.fromisoformat(event.data["due_at"])
    step.wake = "timer"
    _open(state, step, StepStatus.WAITING)


def _timer_fired(graph: RunGraph, state: RunState, event: RunEvent) -> None:
    step = _step(state, event)
    step.due_at = None
    step.wake = None
    _open(state, step, StepStatus.RUNNING)


def _run_finished(status: RunStatus) -> Any:
    def handler(graph: RunGraph, state: RunState, event: RunEvent) -> None:
        state.status = status
        state.output = event.data.get("output")
        state.error = event.data.get("error")
        state.finished_at = event.at
        for node_id in list(state.open_steps):
            state.steps[node_id].status = StepStatus.CANCELLED
            state.steps[node_id].finished_at = event.at
            state.steps[node_id].due_at = None
        state.open_steps.clear()
        state.frontier.clear()

    return handler


def _step(state: RunState, event: RunEvent) -> StepState:
    assert event.node_id is not None, f"{event.type} names no node"
    step = state.steps.get(event.node_id)
    if step is None:
        step = state.steps[event.node_id] = StepState(event.node_id)
        state.frontier.pop(event.node_id, None)
    return step


def _open(state: RunState, step: StepState, status: StepStatus) -> None:
    step.status = status
    state.open_steps[step.node_id] = None
    if state.status in (RunStatus.RUNNING, RunStatus.WAITING):
        state.status = _open_run_status(state)


def _finish(
    graph: RunGraph, state: RunState, step: StepState, status: StepStatus, at: datetime
) -> None:
    step.status = status
    step.finished_at = at
    step.due_at = None
    step.wake = None
    state.open_steps.pop(step.node_id, None)
    for edge in graph.outgoing[step.node_id]:
        if edge.target not in state.steps:
            state.frontier[edge.target] = None
    if state.status in (RunStatus.RUNNING, RunStatus.WAITING):
        state.status = _open_run_status(state)


def _open_run_status(state: RunState) -> RunStatus:
    """``waiting`` while every open step waits (a timer, a retry), else ``running``."""
    if state.open_steps and all(
        state.steps[node_id].status is StepStatus.WAITING for node_id in state.open_steps
    ):
        return RunStatus.WAITING
    return RunStatus.RUNNING


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


_HANDLERS = {
    EventType.RUN_QUEUED: _run_queued,
    EventType.RUN_STARTED: _run_started,
    EventType.STEP_STARTED: _step_started,
    EventType.STEP_SUCCEEDED: _step_succeeded,
    EventType.STEP_FAILED: _step_failed,
    EventType.STEP_RETRY_SCHEDULED: _step_retry_scheduled,
    EventType.STEP_SKIPPED: _step_skipped,
    EventType.TIMER_STARTED: _timer_started,
    EventType.TIMER_FIRED: _timer_fired,
    EventType.RUN_SUCCEEDED: _run_finished(RunStatus.SUCCEEDED),
    EventType.RUN_FAILED: _run_finished(RunStatus.FAILED),
    EventType.RUN_CANCELLED: _run_finished(RunStatus.CANCELLED),
}
