"""OpenTelemetry traces: one trace per run, a span per step attempt, an HTTP
client span per ``http_call`` request (its W3C ``traceparent`` sent to the
target), and a server span per API request.

Exported over OTLP/HTTP only when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set (the
standard ``OTEL_*`` variables configure the exporter); otherwise
:class:`Tracing` holds no tracer and every method returns at once.

A run's trace id is its UUID and its root span id is derived from it, so the
spans every worker writes for a run (across lease takeovers, restarts and
processes) land in one trace, under one ``run`` span written when it ends.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any
from uuid import UUID

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.id_generator import IdGenerator, RandomIdGenerator
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from meshhook import __version__
from meshhook.domain.runs.events import EventType, RunEvent

_PROPAGATOR = TraceContextTextMapPropagator()
_FORCED: ContextVar[tuple[int, int] | None] = ContextVar("meshhook_forced_ids", default=None)


class RunIds(IdGenerator):
    """Random ids, except for the one span :meth:`Tracing.run_finished` writes,
    which takes the run's own trace and span ids."""

    def __init__(self) -> None:
        self.random = RandomIdGenerator()

    def generate_span_id(self) -> int:
        forced = _FORCED.get()
        return forced[1] if forced is not None else self.random.generate_span_id()

    def generate_trace_id(self) -> int:
        forced = _FORCED.get()
        return forced[0] if forced is not None else self.random.generate_trace_id()


def run_trace_ids(run_id: UUID) -> tuple[int, int]:
    """(trace id, root span id) of a run: stable, so every process agrees."""
    span_id = int.from_bytes(hashlib.sha256(run_id.bytes).digest()[:8], "big") or 1
    return run_id.int or 1, span_id


def provider(resource_attributes: Mapping[str, str] | None = None) -> TracerProvider:
    """A tracer provider whose ids follow runs (add span processors to it)."""
    resource = Resource.create(
        {"service.name": "meshhook", "service.version": __version__, **(resource_attributes or {})}
    )
    return TracerProvider(resource=resource, id_generator=RunIds())


class Tracing:
    """The tracer, or nothing."""

    def __init__(self, tracer_provider: TracerProvider | None = None) -> None:
        self.provider = tracer_provider
        self.tracer = tracer_provider.get_tracer("meshhook") if tracer_provider else None

    @classmethod
    def from_environment(cls) -> Tracing:
        """Tracing over OTLP/HTTP when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set."""
        if not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
            return cls(None)
        # Imported only when used: nothing of the exporter loads otherwise.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        built = provider()
        built.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        return cls(built)

    @property
    def enabled(self) -> bool:
        return self.tracer is not None

    def shutdown(self) -> None:
        """Flush what is buffered (at exit)."""
        if self.provider is not None:
            self.provider.shutdown()

    # Runs and steps.

    @contextmanager
    def attempt(
        self, run_id: UUID, node_id: str, node_type: str, attempt: int
    ) -> Iterator[StepSpan]:
        """The span of one step attempt carried out by this process."""
        if self.tracer is None:
            yield StepSpan(None)
            return
        with self.tracer.start_as_current_span(
            f"step {node_id}",
            context=_run_context(run_id),
            kind=SpanKind.INTERNAL,
            attributes=_step_attributes(run_id, node_id, node_type, attempt),
            end_on_exit=True,
        ) as span:
            yield StepSpan(self, span)

    def steps_committed(
        self, run_id: UUID, nodes: Mapping[str, Any], events: list[RunEvent]
    ) -> None:
        """Spans for the steps that finished inside the engine (no side effect:
        transform, branch, delay, terminate), from the events just committed."""
        if self.tracer is None:
            return
        started = {
            event.node_id: event.at for event in events if event.type == EventType.STEP_STARTED
        }
        for event in events:
            if event.type not in (EventType.STEP_SUCCEEDED, EventType.STEP_FAILED):
                continue
            node_id = event.node_id or ""
            node_type = str(getattr(nodes.get(node_id), "type", ""))
            if node_type == "http_call":
                continue  # its attempts have spans of their own
            span = self.tracer.start_span(
                f"step {node_id}",
                context=_run_context(run_id),
                attributes=_step_attributes(
                    run_id, node_id, node_type, int(event.data.get("attempt", 1))
                ),
                start_time=_nanos(started.get(node_id, event.at)),
            )
            _finish(span, event.type == EventType.STEP_SUCCEEDED, event.data)
            span.end(end_time=_nanos(event.at))

    def run_finished(
        self,
        run_id: UUID,
        workflow_key: str,
        version: int,
        status: str,
        started_at: datetime,
        finished_at: datetime,
    ) -> None:
        """The run's root span, written once when the run ends."""
        if self.tracer is None:
            return
        token = _FORCED.set(run_trace_ids(run_id))
        try:
            span = self.tracer.start_span(
                f"run {workflow_key}",
                context=Context(),
                kind=SpanKind.INTERNAL,
                attributes={
                    "meshhook.run_id": str(run_id),
                    "meshhook.workflow": workflow_key,
                    "meshhook.version": version,
                    "meshhook.status": status,
                },
                start_time=_nanos(started_at),
            )
        finally:
            _FORCED.reset(token)
        _finish(span, status == "succeeded", {})
        span.end(end_time=_nanos(finished_at))

    # API requests.

    @contextmanager
    def request(self, method: str, headers: Mapping[str, str]) -> Iterator[Any]:
        """A server span for one API request, continuing the caller's trace
        when it sent a ``traceparent``; named once the route is known."""
        if self.tracer is None:
            yield None
            return
        parent = _PROPAGATOR.extract(carrier=dict(headers))
        with self.tracer.start_as_current_span(
            method, context=parent, kind=SpanKind.SERVER, end_on_exit=True
        ) as span:
            yield span


class StepSpan:
    """One attempt's span: gives the HTTP client span and records the outcome."""

    def __init__(self, tracing: Tracing | None, span: Any = None) -> None:
        self.tracing = tracing
        self.span = span

    @contextmanager
    def http_client(self, method: str, url: str) -> Iterator[dict[str, str]]:
        """A client span around one request; yields the headers that carry it
        (``traceparent``) to the target."""
        if self.tracing is None or self.tracing.tracer is None:
            yield {}
            return
        with self.tracing.tracer.start_as_current_span(
            f"HTTP {method}",
            kind=SpanKind.CLIENT,
            attributes={"http.request.method": method, "url.full": url},
            end_on_exit=True,
        ) as span:
            carrier: dict[str, str] = {}
            _PROPAGATOR.inject(carrier, context=trace.set_span_in_context(span))
            yield carrier

    def outcome(self, succeeded: bool, record: Mapping[str, Any], error: Any = None) -> None:
        if self.span is None:
            return
        response = record.get("response") or {}
        if "status" in response:
            self.span.set_attribute("http.response.status_code", response["status"])
        _finish(self.span, succeeded, {"error": error} if error else {})


def _run_context(run_id: UUID) -> Context:
    trace_id, span_id = run_trace_ids(run_id)
    parent = SpanContext(
        trace_id=trace_id,
        span_id=span_id,
        is_remote=True,
        trace_flags=trace.TraceFlags(trace.TraceFlags.SAMPLED),
    )
    return trace.set_span_in_context(NonRecordingSpan(parent))


def _step_attributes(run_id: UUID, node_id: str, node_type: str, attempt: int) -> dict[str, Any]:
    return {
        "meshhook.run_id": str(run_id),
        "meshhook.node_id": node_id,
        "meshhook.node_type": node_type,
        "meshhook.attempt": attempt,
    }


def _finish(span: Any, succeeded: bool, data: Mapping[str, Any]) -> None:
    span.set_attribute("meshhook.status", "succeeded" if succeeded else "failed")
    if succeeded:
        span.set_status(Status(StatusCode.OK))
        return
    error = data.get("error") or {}
    code = error.get("code", "") if isinstance(error, Mapping) else str(error)
    if code:
        span.set_attribute("meshhook.error_code", code)
    span.set_status(Status(StatusCode.ERROR, code or None))


def _nanos(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000_000)
