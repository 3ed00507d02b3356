"""Prometheus metrics of the run engine, registered in the app's registry."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from meshhook.domain.runs.events import TERMINAL_RUN_EVENTS, EventType, RunEvent
from meshhook.domain.runs.graph import RunGraph
from meshhook.domain.runs.state import RunState


class EngineMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.runs = Counter(
            "meshhook_runs_total", "Runs finished.", ["status"], registry=self.registry
        )
        self.run_duration = Histogram(
            "meshhook_run_duration_seconds",
            "From a run's start to its end.",
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60, 600, 3600),
        )
        self.steps = Counter(
            "meshhook_steps_total", "Steps finished.", ["type", "status"], registry=self.registry
        )
        self.attempts = Counter(
            "meshhook_step_attempts_total",
            "Step attempts started (retries and takeovers included).",
            ["type"],
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "meshhook_queue_depth", "Runs due and waiting for a worker.", registry=self.registry
        )
        self.queue_lag = Gauge(
            "meshhook_queue_lag_seconds",
            "How long the oldest due run has waited for a worker.",
            registry=self.registry,
        )

    def committed(self, graph: RunGraph, state: RunState, events: Iterable[RunEvent]) -> None:
        """Count what a commit recorded."""
        for event in events:
            if event.type in TERMINAL_RUN_EVENTS:
                status = str(event.type).removeprefix("run.")
                self.runs.labels(status).inc()
                if state.started_at is not None:
                    elapsed = (event.at - state.started_at).total_seconds()
                    self.run_duration.observe(max(0.0, elapsed))
            elif event.node_id is None:
                continue
            elif event.type is EventType.STEP_STARTED:
                self.attempts.labels(graph.by_id[event.node_id].type).inc()
            elif event.type in (EventType.STEP_SUCCEEDED, EventType.STEP_FAILED):
                status = str(event.type).removeprefix("step.")
                self.steps.labels(graph.by_id[event.node_id].type, status).inc()

    def queue(self, due: int, oldest_due: datetime | None, now: datetime) -> None:
        self.queue_depth.set(due)
        self.queue_lag.set(
            0.0 if oldest_due is None else max(0.0, (now - oldest_due).total_seconds())
        )
