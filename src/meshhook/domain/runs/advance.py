"""Move a run forward as far as it can go without side effects.

``advance`` alternates ``decide`` with carrying out what is pure (starting and
finishing the run, skipping, triggers, ``transform``, ``branch``,
``terminate``, starting and firing timers), appending each resulting event to
the state as it goes. What is left are the effect commands (``http_call``
attempts) for a worker to carry out; their outcomes come back through
``record_outcome``. The worker commits all events of one call in one
transaction, so a chain of pure steps costs one commit.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from meshhook.domain.runs.decide import (
    FinishRun,
    FireTimer,
    SkipStep,
    StartRun,
    StartStep,
    decide,
)
from meshhook.domain.runs.evaluate import (
    EFFECT_TYPES,
    Failed,
    Outcome,
    Succeeded,
    TimerStarted,
    evaluate,
)
from meshhook.domain.runs.events import EventType, RunEvent, RunStatus
from meshhook.domain.runs.graph import RunGraph
from meshhook.domain.runs.state import RunState, apply

MAX_BACKOFF_SECONDS = 3600.0
"""No retry waits longer than an hour, whatever the backoff doubling reaches."""


@dataclass(slots=True)
class Advance:
    """What one call to :func:`advance` produced."""

    events: list[RunEvent] = field(default_factory=list)
    effects: list[StartStep] = field(default_factory=list)
    wake_at: datetime | None = None


class _Log:
    """Appends events to a state, numbering them after its last one.

    Each event is stamped by ``clock`` when given (the worker's clock, so a
    long batch of pure steps shows where its time went), else with ``now``.
    """

    def __init__(
        self,
        graph: RunGraph,
        state: RunState,
        now: datetime,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.graph = graph
        self.state = state
        self.now = now
        self.clock = clock
        self.events: list[RunEvent] = []

    def append(
        self, type: EventType, node_id: str | None = None, data: dict[str, Any] | None = None
    ) -> None:
        at = self.clock() if self.clock is not None else self.now
        event = RunEvent(self.state.last_seq + 1, type, at, node_id, data or {})
        apply(self.graph, self.state, event)
        self.events.append(event)


def advance(
    graph: RunGraph,
    state: RunState,
    now: datetime,
    in_flight: Collection[str] = (),
    *,
    clock: Callable[[], datetime] | None = None,
) -> Advance:
    """Carry out every pure command ``decide`` gives, until only effects (or
    nothing, or waiting) remain. ``state`` is updated in place. ``now`` decides
    what is due; ``clock`` (when given) stamps each event as it is made."""
    log = _Log(graph, state, now, clock)
    effects: list[StartStep] = []
    busy = set(in_flight)
    while True:
        decision = decide(graph, state, now, busy)
        if not decision.commands:
            # Effects start last, once the pure work has settled: a pure step
            # that ends the run first means they never start at all.
            for effect in effects:
                _start_step(log, effect)
            return Advance(log.events, effects, decision.wake_at)
        for command in decision.commands:
            if isinstance(command, StartRun):
                log.append(EventType.RUN_STARTED)
            elif isinstance(command, FinishRun):
                _finish_run(log, command)
                return Advance(log.events, [], None)
            elif isinstance(command, SkipStep):
                log.append(EventType.STEP_SKIPPED, command.node_id)
            elif isinstance(command, FireTimer):
                log.append(EventType.TIMER_FIRED, command.node_id)
                step = state.steps[command.node_id]
                log.append(EventType.STEP_SUCCEEDED, command.node_id, {"output": step.input})
            elif graph.by_id[command.node_id].type in EFFECT_TYPES:
                effects.append(command)
                busy.add(command.node_id)
            else:
                _start_step(log, command)
                node = graph.by_id[command.node_id]
                outcome = evaluate(node, command.input, now)
                _record(log, command.node_id, command.attempt, outcome, jitter=0.0)


def record_outcome(
    graph: RunGraph,
    state: RunState,
    command: StartStep,
    outcome: Outcome,
    now: datetime,
    jitter: float,
    extra: dict[str, Any] | None = None,
) -> list[RunEvent]:
    """The events recording an effect's outcome (``extra`` joins the step's
    success or failure data: the recorded request and response). ``jitter`` in
    [0, 1) is the worker's random draw for a retry's backoff."""
    if state.status.is_terminal:
        return []  # cancelled or ended meanwhile: the outcome changes nothing
    log = _Log(graph, state, now)
    _record(log, command.node_id, command.attempt, outcome, jitter, extra)
    return log.events


def _start_step(log: _Log, command: StartStep) -> None:
    data: dict[str, Any] = {"attempt": command.attempt, "input": command.input}
    if command.takeover:
        data["takeover"] = True
    log.append(EventType.STEP_STARTED, command.node_id, data)


def _record(
    log: _Log,
    node_id: str,
    attempt: int,
    outcome: Outcome,
    jitter: float,
    extra: dict[str, Any] | None = None,
) -> None:
    if isinstance(outcome, Succeeded):
        data: dict[str, Any] = {"attempt": attempt, "output": outcome.output, **(extra or {})}
        if outcome.label is not None:
            data["label"] = outcome.label
        log.append(EventType.STEP_SUCCEEDED, node_id, data)
    elif isinstance(outcome, TimerStarted):
        log.append(EventType.TIMER_STARTED, node_id, {"due_at": outcome.due_at.isoformat()})
    else:
        _failed(log, node_id, attempt, outcome, jitter, extra or {})


def _failed(
    log: _Log,
    node_id: str,
    attempt: int,
    outcome: Failed,
    jitter: float,
    extra: dict[str, Any],
) -> None:
    retry = log.graph.by_id[node_id].config.get("retry") or {}
    max_attempts = int(retry.get("max_attempts", 1))
    if outcome.retryable and attempt < max_attempts:
        delay = backoff_seconds(float(retry.get("backoff_seconds", 1)), attempt, jitter)
        due = log.now + timedelta(seconds=delay)
        retry_data = {"attempt": attempt, "error": outcome.error, "due_at": due.isoformat()}
        log.append(EventType.STEP_RETRY_SCHEDULED, node_id, {**retry_data, **extra})
        return
    data = {"attempt": attempt, "error": outcome.error, **extra}
    log.append(EventType.STEP_FAILED, node_id, data)


def backoff_seconds(base: float, attempt: int, jitter: float) -> float:
    """Exponential backoff with full jitter: a uniform draw in
    ``[0, min(cap, base * 2^(attempt-1)))``, ``jitter`` being the draw in [0, 1)."""
    ceiling: float = min(MAX_BACKOFF_SECONDS, base * 2.0 ** (attempt - 1))
    return max(0.0, min(jitter, 1.0)) * ceiling


def _finish_run(log: _Log, command: FinishRun) -> None:
    kinds = {
        RunStatus.SUCCEEDED: EventType.RUN_SUCCEEDED,
        RunStatus.FAILED: EventType.RUN_FAILED,
        RunStatus.CANCELLED: EventType.RUN_CANCELLED,
    }
    data: dict[str, Any] = {"output": command.output}
    if command.error is not None:
        data["error"] = command.error
    log.append(kinds[command.status], None, data)
