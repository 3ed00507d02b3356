"""What a run needs next, given its definition and its state: a pure function.

``decide`` reads only its arguments. The clock enters as ``now`` (the worker's
reading, which ends up in the events it appends); a step whose due time lies
ahead is reported as the decision's ``wake_at`` instead of a command.

The rules, in order:
1. A finished run needs nothing.
2. A queued run is started.
3. A run past its timeout fails (``run.timeout``).
4. A step that failed for good, with no ``error`` edge to follow, fails the run.
5. A ``terminate`` step that succeeded ends the run with its status and output.
6. Open steps: a running step nobody is carrying out (its worker died) is taken
   over at the same attempt; a timer or a retry that is due fires.
7. Frontier nodes whose every incoming edge is settled start (some edge taken)
   or are skipped (none taken); nodes without incoming edges start when they
   are the run's trigger and are skipped otherwise.
8. Nothing open and nothing left to settle: the run succeeded.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from meshhook.domain.runs.events import RunStatus, StepStatus, error_data
from meshhook.domain.runs.graph import ERROR_OUTPUT, Edge, RunGraph
from meshhook.domain.runs.state import RunState, StepState


@dataclass(frozen=True, slots=True)
class StartRun:
    pass


@dataclass(frozen=True, slots=True)
class StartStep:
    node_id: str
    attempt: int
    input: Any
    takeover: bool = False
    """The attempt was started before but its outcome never recorded (a worker
    died): it runs again, with the same attempt number and idempotency key."""


@dataclass(frozen=True, slots=True)
class SkipStep:
    node_id: str


@dataclass(frozen=True, slots=True)
class FireTimer:
    node_id: str


@dataclass(frozen=True, slots=True)
class FinishRun:
    status: RunStatus
    output: Any = None
    error: dict[str, Any] | None = None


Command = StartRun | StartStep | SkipStep | FireTimer | FinishRun


@dataclass(frozen=True, slots=True)
class Decision:
    commands: list[Command] = field(default_factory=list)
    wake_at: datetime | None = None
    """When the run next needs attention, if nothing is to be done now."""


def decide(
    graph: RunGraph,
    state: RunState,
    now: datetime,
    in_flight: Collection[str] = (),
) -> Decision:
    """The commands that move the run on; ``in_flight`` names the steps the
    caller is carrying out or about to (none of them is commanded again)."""
    if state.status.is_terminal:
        return Decision()
    if state.status is RunStatus.QUEUED:
        return Decision([StartRun()])
    deadline = _deadline(state)
    if deadline is not None and now >= deadline:
        return Decision([_timed_out(state)])
    finish = _finish_early(graph, state)
    if finish is not None:
        return Decision([finish])

    commands: list[Command] = []
    wake_at = deadline
    for node_id in state.open_steps:
        step = state.steps[node_id]
        if node_id in in_flight:
            continue
        if step.status is StepStatus.RUNNING:
            commands.append(StartStep(node_id, step.attempts, step.input, takeover=True))
        elif step.due_at is not None and step.due_at <= now:
            if step.wake == "timer":
                commands.append(FireTimer(node_id))
            else:
                commands.append(StartStep(node_id, step.attempts + 1, step.input))
        elif step.due_at is not None:
            wake_at = step.due_at if wake_at is None else min(wake_at, step.due_at)

    for node_id in state.frontier:
        if node_id in in_flight:
            continue
        command = _settle(graph, state, node_id)
        if command is not None:
            commands.append(command)

    if not commands and not state.open_steps and not state.frontier:
        return Decision([FinishRun(RunStatus.SUCCEEDED, output=_sink_output(graph, state))])
    return Decision(commands, None if commands else wake_at)


def _deadline(state: RunState) -> datetime | None:
    if state.timeout_seconds is None or state.started_at is None:
        return None
    return state.started_at + timedelta(seconds=state.timeout_seconds)


def _timed_out(state: RunState) -> FinishRun:
    return FinishRun(
        RunStatus.FAILED,
        error=error_data(
            "run.timeout", f"the run did not finish within {state.timeout_seconds} seconds"
        ),
    )


def _finish_early(graph: RunGraph, state: RunState) -> FinishRun | None:
    if state.blocking_failure is not None:
        step = state.steps[state.blocking_failure]
        error = dict(step.error or error_data("step.failed", "the step failed"))
        return FinishRun(RunStatus.FAILED, error={**error, "node_id": step.node_id})
    if state.terminated_by is not None:
        step = state.steps[state.terminated_by]
        if step.label == RunStatus.FAILED:
            message = f"the run was ended as failed by step {step.node_id!r}"
            return FinishRun(
                RunStatus.FAILED,
                output=step.output,
                error=error_data("run.terminated", message, node_id=step.node_id),
            )
        return FinishRun(RunStatus.SUCCEEDED, output=step.output)
    return None


def _settle(graph: RunGraph, state: RunState, node_id: str) -> Command | None:
    """Start or skip a frontier node once all its incoming edges are settled."""
    incoming = graph.incoming[node_id]
    if not incoming:
        if node_id == state.trigger_node:
            return StartStep(node_id, 1, state.input)
        return SkipStep(node_id)
    taken: list[tuple[Edge, StepState]] = []
    for edge in incoming:
        source = state.steps.get(edge.source)
        if source is None or not source.status.is_done:
            return None  # still unsettled: wait for it
        if _is_taken(graph, edge, source):
            taken.append((edge, source))
    if not taken:
        return SkipStep(node_id)
    if len(incoming) == 1:
        edge, source = taken[0]
        return StartStep(node_id, 1, _passed_value(edge, source))
    return StartStep(
        node_id, 1, {source.node_id: _passed_value(edge, source) for edge, source in taken}
    )


def _is_taken(graph: RunGraph, edge: Edge, source: StepState) -> bool:
    if source.status is StepStatus.SUCCEEDED:
        if graph.by_id[edge.source].named_outputs:
            return edge.when == source.label
        return edge.when is None
    if source.status is StepStatus.FAILED:
        return edge.when == ERROR_OUTPUT
    return False


def _passed_value(edge: Edge, source: StepState) -> Any:
    if edge.when == ERROR_OUTPUT:
        return {"error": source.error, "input": source.input}
    return source.output


def _sink_output(graph: RunGraph, state: RunState) -> Any:
    """The output of a run that ends without ``terminate``: its last steps' outputs."""
    outputs = {
        node.id: state.steps[node.id].output
        for node in graph.nodes
        if not graph.outgoing[node.id]
        and node.id in state.steps
        and state.steps[node.id].status is StepStatus.SUCCEEDED
    }
    if len(outputs) == 1:
        return next(iter(outputs.values()))
    return outputs or None
