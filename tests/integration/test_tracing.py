"""OpenTelemetry traces, exported to an in-memory exporter: one trace per run
(its id the run's), a span per step attempt, an HTTP client span whose
traceparent reaches the http_call target, and server spans for API requests
that continue the caller's trace. Without OTEL_EXPORTER_OTLP_ENDPOINT nothing
is traced."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from meshhook import tracing as tracing_module
from meshhook.app import create_app
from meshhook.settings import Settings
from meshhook.store.db import Database
from meshhook.tracing import Tracing, run_trace_ids
from tests.factories import Member

BASE = "/api/v1/projects/alpha"


@pytest.fixture
def target() -> Iterator[tuple[str, list[str]]]:
    """An HTTP service that records the traceparent of each request."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            seen.append(self.headers.get("traceparent", ""))
            body = b'{"ok": true}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def flow(url: str) -> dict[str, Any]:
    return {
        "nodes": [
            {"id": "start", "type": "manual", "config": {}},
            {"id": "shape", "type": "transform", "config": {"expression": "{n: `1`}"}},
            {"id": "call", "type": "http_call", "config": {"method": "POST", "url": url}},
        ],
        "edges": [{"from": "start", "to": "shape"}, {"from": "shape", "to": "call"}],
        "settings": {},
    }


def test_a_run_is_one_trace_with_step_and_client_spans_and_the_target_joins_it(
    tmp_path: Path, db_url: str, db: Database, owner: Member, target: tuple[str, list[str]]
) -> None:
    url, seen = target
    exporter = InMemorySpanExporter()
    provider = tracing_module.provider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    settings = Settings(
        home=tmp_path / "home", database_url=db_url, workers=2, http_allow_private=True
    )
    app = create_app(settings, db, run_workers=True, tracing=Tracing(provider))
    with TestClient(app) as client:
        created = client.post(
            f"{BASE}/workflows",
            json={"key": "traced", "name": "Traced", "definition": flow(url)},
            headers=owner.headers,
        )
        assert created.status_code == 201, created.text
        published = client.post(
            f"{BASE}/workflows/traced/versions/publish", json={}, headers=owner.headers
        )
        assert published.status_code == 200, published.text
        caller = "00-" + "ab" * 16 + "-" + "cd" * 8 + "-01"
        started = client.post(
            f"{BASE}/workflows/traced/runs",
            json={"input": {}},
            headers={**owner.headers, "traceparent": caller},
        )
        assert started.status_code == 202, started.text
        run_id = uuid.UUID(started.json()["id"])
        deadline = time.monotonic() + 20
        while (
            client.get(f"{BASE}/runs/{run_id}", headers=owner.headers).json()["status"]
            != "succeeded"
        ):
            assert time.monotonic() < deadline
            time.sleep(0.05)

    spans = exporter.get_finished_spans()
    trace_id, root_span_id = run_trace_ids(run_id)
    in_run = [span for span in spans if span.context.trace_id == trace_id]
    by_name = {span.name: span for span in in_run}
    assert set(by_name) == {"run traced", "step start", "step shape", "step call", "HTTP POST"}
    root = by_name["run traced"]
    assert root.context.span_id == root_span_id
    assert root.attributes["meshhook.status"] == "succeeded"
    for name in ("step start", "step shape", "step call"):
        assert parent_id(by_name[name]) == root_span_id
        assert by_name[name].attributes["meshhook.run_id"] == str(run_id)
    assert by_name["step call"].attributes["meshhook.attempt"] == 1
    assert by_name["step call"].attributes["http.response.status_code"] == 200
    client_span = by_name["HTTP POST"]
    assert parent_id(client_span) == by_name["step call"].context.span_id
    # The target received the client span as its parent: its spans join the run's trace.
    assert seen == [f"00-{trace_id:032x}-{client_span.context.span_id:016x}-01"]

    # The request that started the run continued the caller's trace.
    start_span = next(s for s in spans if s.name.startswith("POST ") and "runs" in s.name)
    assert start_span.name == "POST /api/v1/projects/{project}/workflows/{workflow}/runs"
    assert start_span.context.trace_id == int("ab" * 16, 16)
    assert parent_id(start_span) == int("cd" * 8, 16)
    assert start_span.attributes["http.response.status_code"] == 202


def parent_id(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


def test_nothing_is_traced_without_an_otlp_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    off = Tracing.from_environment()
    assert not off.enabled
    with (
        off.attempt(uuid.uuid4(), "n", "http_call", 1) as step,
        step.http_client("GET", "http://x") as headers,
    ):
        assert headers == {}

    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1")
    on = Tracing.from_environment()
    assert on.enabled
    on.shutdown()


# Run in its own interpreter: OpenTelemetry's global provider can be set once.
_GLOBAL_PROVIDER_SCRIPT = """
import json, sys
from fastapi.testclient import TestClient
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from meshhook import tracing as tracing_module
from meshhook.app import create_app
from meshhook.settings import Settings
from meshhook.store.db import create_database
from meshhook.tracing import Tracing

home, url, token = sys.argv[1:4]
elsewhere = InMemorySpanExporter()  # what an `opentelemetry-instrument` set-up collects
configured = TracerProvider()
configured.add_span_processor(SimpleSpanProcessor(elsewhere))
trace.set_tracer_provider(configured)
ours = InMemorySpanExporter()
provider = tracing_module.provider()
provider.add_span_processor(SimpleSpanProcessor(ours))
db = create_database(url)
app = create_app(Settings(home=home, database_url=url), db, tracing=Tracing(provider))
headers = {"Authorization": "Bearer " + token}
with TestClient(app) as client:
    assert client.get("/api/v1/projects/alpha", headers=headers).status_code == 200
    assert client.get("/api/v1/projects/nope", headers=headers).status_code == 404
db.dispose()
print(json.dumps({"ours": [s.name for s in ours.get_finished_spans()],
                  "elsewhere": [s.name for s in elsewhere.get_finished_spans()]}))
"""


def test_a_global_opentelemetry_provider_gets_no_second_set_of_request_spans(
    tmp_path: Path, db_url: str, db: Database, owner: Member
) -> None:
    """FastAPI's own telemetry stays off: requests are traced once, by MeshHook
    (its attributes redacted), even when something configures a global provider."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            _GLOBAL_PROVIDER_SCRIPT,
            str(tmp_path / "home"),
            db_url,
            owner.token,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    spans = json.loads(done.stdout.strip().splitlines()[-1])
    assert spans["ours"] == ["GET /api/v1/projects/{project}"] * 2
    assert spans["elsewhere"] == []
