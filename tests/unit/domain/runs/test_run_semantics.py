"""The execution semantics of docs/execution.md, one rule per test."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from meshhook.domain.runs.advance import advance, backoff_seconds, record_outcome
from meshhook.domain.runs.decide import StartStep, decide
from meshhook.domain.runs.evaluate import Failed, Succeeded
from meshhook.domain.runs.events import EventType, RunEvent, RunStatus, StepStatus
from meshhook.domain.runs.graph import RunGraph
from meshhook.domain.runs.state import fold
from tests.unit.domain.runs.definitions import chain, definition, edge, node
from tests.unit.domain.runs.simulator import T0, queued, simulate


def types(events: list[RunEvent]) -> list[str]:
    return [str(event.type) for event in events]


def statuses(sim: Any) -> dict[str, str]:
    return {step.node_id: str(step.status) for step in sim.state.steps.values()}


def test_a_chain_of_transforms_passes_each_output_on_and_ends_with_the_last() -> None:
    sim = simulate(chain("{n: n, doubled: n}", "doubled", "@"), {"n": 21})

    assert sim.state.status is RunStatus.SUCCEEDED
    assert sim.state.output == 21
    assert sim.state.steps["t1"].input == {"n": 21, "doubled": 21}
    assert types(sim.events) == [
        "run.queued",
        "run.started",
        *["step.started", "step.succeeded"] * 4,
        "run.succeeded",
    ]


def test_a_pure_chain_is_one_commit() -> None:
    sim = simulate(chain("a", "@", "@"), {"a": 1})

    assert len(sim.snapshots) == 1


def test_the_branch_not_taken_is_skipped_with_everything_only_it_reaches() -> None:
    flow = definition(
        [
            node("start", "manual"),
            node("check", "branch", condition="amount > `100`"),
            node("big", "transform", expression="'big'"),
            node("small", "transform", expression="'small'"),
            node("after_small", "transform", expression="@"),
        ],
        [
            edge("start", "check"),
            edge("check", "big", "true"),
            edge("check", "small", "false"),
            edge("small", "after_small"),
        ],
    )

    sim = simulate(flow, {"amount": 500})

    assert statuses(sim) == {
        "start": "succeeded",
        "check": "succeeded",
        "big": "succeeded",
        "small": "skipped",
        "after_small": "skipped",
    }
    assert sim.state.output == "big"  # the one sink that ran


def test_jmespath_truthiness_decides_the_branch_zero_is_true() -> None:
    flow = definition(
        [
            node("start", "manual"),
            node("check", "branch", condition="n"),
            node("yes", "transform", expression="'yes'"),
            node("no", "transform", expression="'no'"),
        ],
        [edge("start", "check"), edge("check", "yes", "true"), edge("check", "no", "false")],
    )

    assert simulate(flow, {"n": 0}).state.output == "yes"
    assert simulate(flow, {"n": []}).state.output == "no"


def test_a_join_waits_for_every_branch_that_can_run_and_gets_their_outputs_by_id() -> None:
    flow = definition(
        [
            node("start", "manual"),
            node("a", "transform", expression="'from a'"),
            node("b", "http_call", url="https://example.com"),
            node("join", "transform", expression="@"),
        ],
        [edge("start", "a"), edge("start", "b"), edge("a", "join"), edge("b", "join")],
    )

    sim = simulate(flow, {}, effect=lambda command: Succeeded({"status": 200}))

    assert sim.state.steps["join"].input == {"a": "from a", "b": {"status": 200}}
    assert sim.state.status is RunStatus.SUCCEEDED


def test_a_failed_step_without_an_error_edge_fails_the_run_naming_the_node() -> None:
    sim = simulate(chain("abs(@)"), {"not": "a number"})

    assert sim.state.status is RunStatus.FAILED
    assert sim.state.error is not None
    assert sim.state.error["code"] == "expression.failed"
    assert sim.state.error["node_id"] == "t0"
    assert sim.state.error["pointer"] == "/nodes/1/config/expression"


def test_an_error_edge_is_followed_with_the_error_and_the_input_instead_of_failing() -> None:
    flow = definition(
        [
            node("start", "manual"),
            node("risky", "transform", expression="abs(@)"),
            node("ok", "transform", expression="@"),
            node("handler", "transform", expression="error.code"),
        ],
        [edge("start", "risky"), edge("risky", "ok"), edge("risky", "handler", "error")],
    )

    sim = simulate(flow, "text")

    assert sim.state.status is RunStatus.SUCCEEDED
    assert statuses(sim)["risky"] == "failed"
    assert statuses(sim)["ok"] == "skipped"
    assert sim.state.steps["handler"].input["input"] == "text"
    assert sim.state.output == "expression.failed"


def test_terminate_ends_the_run_with_its_status_and_cancels_what_is_in_flight() -> None:
    flow = definition(
        [
            node("start", "manual"),
            node("slow", "delay", duration_seconds=60),
            node("stop", "terminate", status="failed", output="reason"),
        ],
        [edge("start", "slow"), edge("start", "stop")],
    )

    sim = simulate(flow, {"reason": "no stock"})

    assert sim.state.status is RunStatus.FAILED
    assert sim.state.output == "no stock"
    assert sim.state.error is not None
    assert sim.state.error["code"] == "run.terminated"
    assert statuses(sim)["slow"] == "cancelled"


def test_a_delay_is_a_recorded_timer_that_fires_at_its_due_time() -> None:
    flow = definition(
        [node("start", "manual"), node("wait", "delay", duration_seconds=90)],
        [edge("start", "wait")],
    )
    graph = RunGraph.from_definition(flow)
    state = fold(graph, [queued({"x": 1})])

    first = advance(graph, state, T0)

    assert types(first.events)[-1] == "timer.started"
    assert first.wake_at == T0 + timedelta(seconds=90)
    assert state.status is RunStatus.WAITING
    assert advance(graph, state, T0 + timedelta(seconds=89)).events == []
    fired = advance(graph, state, T0 + timedelta(seconds=90))
    assert types(fired.events) == ["timer.fired", "step.succeeded", "run.succeeded"]
    assert state.output == {"x": 1}


def test_retries_are_recorded_with_their_jittered_due_time_and_then_fail_the_run() -> None:
    flow = definition(
        [
            node("start", "manual"),
            node(
                "call",
                "http_call",
                url="https://example.com",
                retry={"max_attempts": 3, "backoff_seconds": 2},
            ),
        ],
        [edge("start", "call")],
    )
    failure = Failed({"code": "http.status", "message": "503"}, retryable=True)

    sim = simulate(flow, effect=lambda command: failure, jitter=0.5)

    retries = [e for e in sim.events if e.type is EventType.STEP_RETRY_SCHEDULED]
    delays = [
        (retry.data["due_at"], (retry.at + timedelta(seconds=s)).isoformat())
        for retry, s in zip(retries, [1.0, 2.0], strict=True)
    ]
    assert [due for due, _ in delays] == [expected for _, expected in delays]
    assert sim.executions == [("call", 1), ("call", 2), ("call", 3)]
    assert sim.state.status is RunStatus.FAILED
    assert sim.state.steps["call"].attempts == 3


def test_a_failure_that_is_not_retryable_is_not_retried() -> None:
    flow = definition(
        [
            node("start", "manual"),
            node("call", "http_call", url="https://example.com", retry={"max_attempts": 5}),
        ],
        [edge("start", "call")],
    )

    sim = simulate(flow, effect=lambda command: Failed({"code": "http.status", "message": "400"}))

    assert sim.executions == [("call", 1)]


def test_backoff_is_full_jitter_below_an_exponential_ceiling_with_a_cap() -> None:
    assert backoff_seconds(1, 1, 0.0) == 0.0
    assert backoff_seconds(1, 4, 0.5) == 4.0
    assert backoff_seconds(1, 40, 0.999) < 3600


def test_a_step_whose_worker_died_is_taken_over_at_the_same_attempt() -> None:
    flow = definition(
        [node("start", "manual"), node("call", "http_call", url="https://example.com")],
        [edge("start", "call")],
    )
    crashed: set[str] = set()

    def crash_once(command: StartStep) -> bool:
        if command.node_id in crashed:
            return False
        crashed.add(command.node_id)
        return True

    sim = simulate(flow, crash=crash_once)

    assert sim.executions == [("call", 1), ("call", 1)]
    started = [e for e in sim.events if e.type is EventType.STEP_STARTED and e.node_id == "call"]
    assert [e.data.get("takeover", False) for e in started] == [False, True]
    assert sim.state.steps["call"].attempts == 1
    assert sim.state.status is RunStatus.SUCCEEDED


def test_steps_in_flight_are_not_taken_over_by_their_own_worker() -> None:
    flow = definition(
        [node("start", "manual"), node("call", "http_call", url="https://example.com")],
        [edge("start", "call")],
    )
    graph = RunGraph.from_definition(flow)
    state = fold(graph, [queued()])
    first = advance(graph, state, T0)

    assert [c.node_id for c in first.effects] == ["call"]
    assert decide(graph, state, T0, in_flight={"call"}).commands == []


def test_an_outcome_arriving_after_cancel_changes_nothing() -> None:
    flow = definition(
        [node("start", "manual"), node("call", "http_call", url="https://example.com")],
        [edge("start", "call")],
    )
    graph = RunGraph.from_definition(flow)
    state = fold(graph, [queued()])
    command = advance(graph, state, T0).effects[0]
    cancel = RunEvent(state.last_seq + 1, EventType.RUN_CANCELLED, T0, None, {})
    fold_after = fold(graph, [queued(), *_replay(graph, flow), cancel])

    assert record_outcome(graph, fold_after, command, Succeeded(1), T0, 0.0) == []
    assert fold_after.status is RunStatus.CANCELLED
    assert fold_after.steps["call"].status is StepStatus.CANCELLED


def _replay(graph: RunGraph, flow: dict[str, Any]) -> list[RunEvent]:
    state = fold(graph, [queued()])
    return advance(graph, state, T0).events


def test_a_run_past_its_timeout_fails() -> None:
    flow = definition(
        [node("start", "manual"), node("wait", "delay", duration_seconds=600)],
        [edge("start", "wait")],
        timeout_seconds=60,
    )
    graph = RunGraph.from_definition(flow)
    state = fold(graph, [queued(timeout_seconds=60)])

    first = advance(graph, state, T0)
    assert first.wake_at == T0 + timedelta(seconds=60)
    advance(graph, state, T0 + timedelta(seconds=60))

    assert state.status is RunStatus.FAILED
    assert state.error is not None
    assert state.error["code"] == "run.timeout"


def test_only_the_runs_trigger_starts_other_triggers_are_skipped() -> None:
    flow = definition(
        [
            node("hook", "webhook"),
            node("button", "manual"),
            node("work", "transform", expression="@"),
        ],
        [edge("hook", "work"), edge("button", "work")],
    )
    graph = RunGraph.from_definition(flow)
    state = fold(graph, [queued({"v": 1}, trigger="button")])

    advance(graph, state, T0)

    assert state.steps["hook"].status is StepStatus.SKIPPED
    assert state.steps["work"].input == {"button": {"v": 1}}
    assert state.status is RunStatus.SUCCEEDED


def test_a_gap_in_the_log_is_refused() -> None:
    graph = RunGraph.from_definition(chain("@"))
    started = RunEvent(3, EventType.RUN_STARTED, T0)

    with pytest.raises(ValueError, match="gap"):
        fold(graph, [queued(), started])
