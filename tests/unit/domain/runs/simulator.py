"""Drive a run through ``advance`` as a worker would, with a fake clock, fake
HTTP outcomes and optional crashes, keeping what a test needs to check."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from meshhook.domain.runs.advance import advance, record_outcome
from meshhook.domain.runs.decide import StartStep
from meshhook.domain.runs.evaluate import Outcome, Succeeded
from meshhook.domain.runs.events import EventType, RunEvent
from meshhook.domain.runs.graph import RunGraph
from meshhook.domain.runs.state import RunState, fold

T0 = datetime(2026, 1, 1, tzinfo=UTC)

Effect = Callable[[StartStep], Outcome]


@dataclass
class Simulation:
    graph: RunGraph
    state: RunState
    events: list[RunEvent]
    snapshots: list[tuple[int, RunState]] = field(default_factory=list)
    """(number of events, deep copy of the live state) at every commit."""
    executions: list[tuple[str, int]] = field(default_factory=list)
    """(node id, attempt) of every effect carried out, crashed ones included."""


def queued(input: Any = None, trigger: str | None = None, **extra: Any) -> RunEvent:
    data = {"input": {} if input is None else input, **extra}
    if trigger is not None:
        data["trigger_node"] = trigger
    return RunEvent(1, EventType.RUN_QUEUED, T0, None, data)


def simulate(
    definition: dict[str, Any],
    input: Any = None,
    *,
    effect: Effect | None = None,
    crash: Callable[[StartStep], bool] = lambda command: False,
    jitter: float = 0.5,
    max_rounds: int = 1000,
) -> Simulation:
    graph = RunGraph.from_definition(definition)
    events = [queued(input)]
    state = fold(graph, events)
    sim = Simulation(graph, state, events)
    now = T0
    carry_out = effect or (lambda command: Succeeded({"echo": command.input}))
    for _ in range(max_rounds):
        progress = advance(graph, state, now)
        events.extend(progress.events)
        sim.snapshots.append((len(events), copy.deepcopy(state)))
        if state.status.is_terminal:
            return sim
        for command in progress.effects:
            sim.executions.append((command.node_id, command.attempt))
            if crash(command):
                continue  # the worker died: nothing recorded
            outcome = carry_out(command)
            events.extend(record_outcome(graph, state, command, outcome, now, jitter))
            sim.snapshots.append((len(events), copy.deepcopy(state)))
        if not progress.effects:
            assert progress.wake_at is not None, "a stuck run: nothing to do, nothing to wait for"
            now = max(now, progress.wake_at)
        now += timedelta(milliseconds=1)
    raise AssertionError("the run did not finish")
