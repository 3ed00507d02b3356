"""Laws of the fold and of ``decide`` over random DAGs (hypothesis): branches,
fan-out and fan-in, delays, error edges, retried and crashing HTTP steps."""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meshhook.domain.runs.decide import StartStep
from meshhook.domain.runs.evaluate import Failed, Outcome, Succeeded
from meshhook.domain.runs.events import EventType, StepStatus
from meshhook.domain.runs.graph import ERROR_OUTPUT
from meshhook.domain.runs.state import fold
from tests.unit.domain.runs.definitions import definition, edge, node
from tests.unit.domain.runs.simulator import Simulation, simulate

KINDS = ["transform", "transform", "branch", "delay", "http_call", "http_call", "terminate"]
EXPRESSIONS = ["@", "a", "{a: a, b: `1`}", "abs(@)", "length(@)"]
CONDITIONS = ["a", "a == `1`", "b"]


@st.composite
def dags(draw: st.DrawFn) -> dict[str, Any]:
    size = draw(st.integers(2, 10))
    nodes = [node("n0", "manual")]
    edges: list[dict[str, Any]] = []
    for index in range(1, size):
        kind = draw(st.sampled_from(KINDS))
        node_id = f"n{index}"
        if kind == "transform":
            nodes.append(node(node_id, kind, expression=draw(st.sampled_from(EXPRESSIONS))))
        elif kind == "branch":
            nodes.append(node(node_id, kind, condition=draw(st.sampled_from(CONDITIONS))))
        elif kind == "delay":
            nodes.append(node(node_id, kind, duration_seconds=draw(st.integers(1, 100))))
        elif kind == "http_call":
            retry = {"max_attempts": draw(st.integers(1, 3)), "backoff_seconds": 1}
            nodes.append(node(node_id, kind, url="https://example.com", retry=retry))
        else:
            nodes.append(node(node_id, kind, status=draw(st.sampled_from(["succeeded", "failed"]))))
        candidates = [raw for raw in nodes[:-1] if raw["type"] != "terminate"]
        parents = draw(
            st.lists(
                st.sampled_from(candidates), min_size=1, max_size=2, unique_by=lambda n: n["id"]
            )
        )
        for parent in parents:
            when: str | None = None
            if parent["type"] == "branch":
                when = draw(st.sampled_from(["true", "false"]))
            elif parent["type"] in {"transform", "http_call"}:
                when = draw(st.sampled_from([None, None, ERROR_OUTPUT]))
            edges.append(edge(parent["id"], node_id, when))
    return definition(nodes, edges)


INPUTS = st.sampled_from([{"a": 1}, {"a": -3, "b": True}, {"a": "text"}, [1, 2], 7])


@st.composite
def worlds(draw: st.DrawFn) -> tuple[Any, Any, Any]:
    """How each HTTP attempt ends, and which attempts crash their worker."""
    outcomes = draw(st.lists(st.sampled_from(["ok", "retryable", "fatal"]), min_size=1))
    crashes = draw(st.lists(st.booleans(), min_size=1))
    calls = Counter[str]()

    def effect(command: StartStep) -> Outcome:
        calls["effect"] += 1
        kind = outcomes[calls["effect"] % len(outcomes)]
        if kind == "ok":
            return Succeeded({"status": 200, "attempt": command.attempt})
        error = {"code": "http.status", "message": kind}
        return Failed(error, retryable=kind == "retryable")

    def crash(command: StartStep) -> bool:
        calls["crash"] += 1
        # At most two crashes in a row, so every run can finish.
        return calls["crash"] % 3 != 0 and crashes[calls["crash"] % len(crashes)]

    return draw(INPUTS), effect, crash


def run(flow: dict[str, Any], world: tuple[Any, Any, Any]) -> Simulation:
    value, effect, crash = world
    return simulate(flow, value, effect=effect, crash=crash)


COMMON = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@COMMON
@given(dags(), worlds())
def test_every_run_finishes(flow: dict[str, Any], world: Any) -> None:
    sim = run(flow, world)

    assert sim.state.status.is_terminal
    assert not any(
        s.status in {StepStatus.RUNNING, StepStatus.WAITING} for s in sim.state.steps.values()
    )


@COMMON
@given(dags(), worlds())
def test_replaying_any_prefix_gives_the_state_the_live_run_had_then(
    flow: dict[str, Any], world: Any
) -> None:
    sim = run(flow, world)

    for count, live in sim.snapshots:
        assert fold(sim.graph, sim.events[:count]) == live
    assert [event.seq for event in sim.events] == list(range(1, len(sim.events) + 1))


@COMMON
@given(dags(), worlds())
def test_no_step_runs_twice_unless_a_retry_or_a_takeover_is_recorded(
    flow: dict[str, Any], world: Any
) -> None:
    sim = run(flow, world)

    started = Counter(
        (e.node_id, e.data["attempt"])
        for e in sim.events
        if e.type is EventType.STEP_STARTED and not e.data.get("takeover")
    )
    assert all(count == 1 for count in started.values()), started
    retried = {e.node_id for e in sim.events if e.type is EventType.STEP_RETRY_SCHEDULED}
    assert {node_id for node_id, attempt in started if attempt > 1} <= retried
    takeovers = Counter(
        e.node_id for e in sim.events if e.type is EventType.STEP_STARTED and e.data.get("takeover")
    )
    executed = Counter(node_id for node_id, _ in sim.executions)
    for node_id, count in executed.items():
        attempts = sum(1 for (n, _) in started if n == node_id)
        assert count == attempts + takeovers[node_id]


@COMMON
@given(dags(), worlds())
def test_a_step_ran_only_when_an_edge_into_it_was_taken(flow: dict[str, Any], world: Any) -> None:
    sim = run(flow, world)
    steps = sim.state.steps

    for step in steps.values():
        incoming = sim.graph.incoming[step.node_id]
        if step.started_at is None or not incoming:
            continue
        taken = []
        for e in incoming:
            source = steps[e.source]
            if source.status is StepStatus.SUCCEEDED:
                named = sim.graph.by_id[e.source].named_outputs
                taken.append(e.when == source.label if named else e.when is None)
            else:
                taken.append(source.status is StepStatus.FAILED and e.when == ERROR_OUTPUT)
        assert any(taken), step.node_id


@COMMON
@given(dags(), worlds())
def test_a_succeeded_run_has_no_unhandled_failure(flow: dict[str, Any], world: Any) -> None:
    sim = run(flow, world)

    if sim.state.status.value == "succeeded":
        for step in sim.state.steps.values():
            if step.status is StepStatus.FAILED:
                assert sim.graph.has_error_output(step.node_id)
