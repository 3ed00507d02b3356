"""The first events of a resumed run: the old run's outcomes reused up to the
node it resumes from."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from meshhook.domain.runs.events import EventType, RunEvent
from meshhook.domain.runs.graph import RunGraph


def downstream(graph: RunGraph, node_id: str) -> set[str]:
    """``node_id`` and every node reachable from it."""
    seen = {node_id}
    stack = [node_id]
    while stack:
        for edge in graph.outgoing[stack.pop()]:
            if edge.target not in seen:
                seen.add(edge.target)
                stack.append(edge.target)
    return seen


def seed_resumed(
    graph: RunGraph,
    old_events: Sequence[RunEvent],
    from_node: str,
    now: datetime,
    old_run: UUID,
) -> list[RunEvent]:
    """``run.queued`` and ``run.started`` with the old input, then, in the order
    they happened, the outcome of every step outside ``from_node``'s downstream
    that succeeded or was skipped (marked ``reused_from``). Failed and
    unfinished steps, and ``terminate`` steps, run again."""
    queued = next(e for e in old_events if e.type is EventType.RUN_QUEUED)
    rerun = downstream(graph, from_node)
    events: list[RunEvent] = []

    def add(type: EventType, node_id: str | None, data: dict[str, Any]) -> None:
        events.append(RunEvent(len(events) + 1, type, now, node_id, data))

    add(EventType.RUN_QUEUED, None, dict(queued.data))
    add(EventType.RUN_STARTED, None, {})
    inputs: dict[str, Any] = {}
    for event in old_events:
        node_id = event.node_id
        if node_id is None or node_id in rerun or graph.by_id[node_id].type == "terminate":
            continue  # a terminate elsewhere would end the new run at once: it runs again
        if event.type is EventType.STEP_STARTED:
            inputs[node_id] = event.data.get("input")
        elif event.type is EventType.STEP_SUCCEEDED:
            reused = {"reused_from": str(old_run)}
            add(
                EventType.STEP_STARTED,
                node_id,
                {"attempt": 1, "input": inputs.get(node_id), **reused},
            )
            data = {"attempt": 1, "output": event.data.get("output"), **reused}
            if "label" in event.data:
                data["label"] = event.data["label"]
            add(EventType.STEP_SUCCEEDED, node_id, data)
        elif event.type is EventType.STEP_SKIPPED:
            add(EventType.STEP_SKIPPED, node_id, {"reused_from": str(old_run)})
    return events
