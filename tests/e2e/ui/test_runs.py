"""The run screens in a real browser: a test run from the editor, a failed
http_call resumed from the run detail, and the live timeline of a delay."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.ui.conftest import Server, screenshot
from tests.e2e.ui.helpers import create_workflow, open_editor, select_node


def sums() -> dict[str, Any]:
    return {
        "nodes": [
            {
                "id": "start",
                "type": "manual",
                "name": "Order in",
                "config": {
                    "input_schema": {
                        "type": "object",
                        "properties": {"n": {"type": "integer", "examples": [21]}},
                        "required": ["n"],
                    }
                },
                "position": {"x": 0, "y": 0},
            },
            {
                "id": "double",
                "type": "transform",
                "name": "Double",
                "config": {"expression": "{n: n, twice: [n, n]}"},
                "position": {"x": 280, "y": 0},
            },
            {
                "id": "sum",
                "type": "transform",
                "name": "Sum",
                "config": {"expression": "sum(twice)"},
                "position": {"x": 560, "y": 0},
            },
        ],
        "edges": [{"from": "start", "to": "double"}, {"from": "double", "to": "sum"}],
        "settings": {},
    }


class Flaky:
    """A local HTTP endpoint that answers 500 until told to answer 200."""

    def __init__(self) -> None:
        self.ok = False
        self.calls = 0
        flaky = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                flaky.calls += 1
                length = int(self.headers.get("content-length", 0))
                self.rfile.read(length)
                status = 200 if flaky.ok else 500
                body = b'{"accepted": true}' if flaky.ok else b'{"error": "down"}'
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/orders"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def flaky() -> Iterator[Flaky]:
    endpoint = Flaky()
    yield endpoint
    endpoint.server.shutdown()
    endpoint.server.server_close()


def test_a_test_run_from_the_editor_shows_every_step_green(
    page: Any, server: Server, project: str
) -> None:
    workflow = create_workflow(server, project, "Sums", sums())
    open_editor(page, project, workflow)

    page.get_by_test_id("test-run-button").click()
    dialog = page.get_by_test_id("test-run-dialog")
    expect(dialog).to_be_visible()
    # Prefilled from the trigger's input_schema (its example).
    assert '"n": 21' in page.get_by_test_id("test-run-input").input_value()
    page.get_by_test_id("test-run-input").fill('{"n": 5}')
    page.get_by_test_id("test-run-start").click()

    for node in ("start", "double", "sum"):
        expect(page.get_by_test_id(f"run-node-{node}")).to_have_attribute(
            "data-status", "succeeded", timeout=20_000
        )
    expect(page.get_by_test_id("test-run-banner").get_by_test_id("run-status")).to_have_text(
        "succeeded"
    )

    # The preview evaluates the step's expression on its input from that run.
    select_node(page, "sum")
    preview = page.get_by_test_id("expression-preview")
    expect(preview.get_by_test_id("preview-result")).to_contain_text("10")
    page.get_by_test_id("node-form").locator("input, textarea").first.fill("sum(twice) |")
    expect(preview.get_by_test_id("preview-error")).to_be_visible()
    screenshot(page, "editor-test-run")

    # The input is remembered for the next test run of this workflow.
    page.get_by_test_id("test-run-button").click()
    assert '"n": 5' in page.get_by_test_id("test-run-input").input_value()


def test_a_failed_http_call_is_shown_red_and_resumed_to_green(
    page: Any, server: Server, project: str, flaky: Flaky
) -> None:
    definition = {
        "nodes": [
            {"id": "start", "type": "manual", "config": {}, "position": {"x": 0, "y": 0}},
            {
                "id": "call",
                "type": "http_call",
                "name": "Send order",
                "config": {"method": "POST", "url": flaky.url, "body": {"id": "{{ input.id }}"}},
                "position": {"x": 280, "y": 0},
            },
            {
                "id": "done",
                "type": "transform",
                "config": {"expression": "status"},
                "position": {"x": 560, "y": 0},
            },
        ],
        "edges": [{"from": "start", "to": "call"}, {"from": "call", "to": "done"}],
        "settings": {},
    }
    workflow = create_workflow(server, project, "Orders", definition)
    published = server.api(
        "POST", f"/projects/{project}/workflows/{workflow}/versions/publish", json={}
    )
    assert published.status_code == 200, published.text
    started = server.api(
        "POST", f"/projects/{project}/workflows/{workflow}/runs", json={"input": {"id": 7}}
    )
    assert started.status_code == 202, started.text
    run_id = started.json()["id"]

    page.goto(f"/p/{project}/runs/{run_id}")
    expect(page.get_by_test_id("run-node-call")).to_have_attribute(
        "data-status", "failed", timeout=20_000
    )
    expect(page.get_by_test_id("run-status")).to_have_text("failed")
    expect(page.get_by_test_id("run-error")).to_contain_text("500")
    expect(page.get_by_test_id("run-node-done")).to_have_attribute("data-status", "pending")
    page.get_by_test_id("node-call").click()
    details = page.get_by_test_id("step-details")
    expect(details.get_by_test_id("step-error")).to_contain_text("500")
    expect(details.get_by_test_id("step-attempt")).to_contain_text("Request")
    screenshot(page, "run-detail-failed")

    # The dead-letter view lists it.
    page.goto(f"/p/{project}/runs?view=dead-letters")
    expect(page.get_by_test_id("run-row")).to_have_count(1)
    screenshot(page, "runs-dead-letters")
    page.get_by_test_id("run-row").first.click()

    flaky.ok = True
    page.get_by_test_id("run-resume-failed").click()
    page.get_by_test_id("run-confirm-button").click()
    expect(page).not_to_have_url(f"/p/{project}/runs/{run_id}")
    for node in ("start", "call", "done"):
        expect(page.get_by_test_id(f"run-node-{node}")).to_have_attribute(
            "data-status", "succeeded", timeout=20_000
        )
    expect(page.get_by_test_id("run-status")).to_have_text("succeeded")
    assert flaky.calls == 2


def test_the_live_timeline_grows_during_a_delay(page: Any, server: Server, project: str) -> None:
    definition = {
        "nodes": [
            {"id": "start", "type": "manual", "config": {}, "position": {"x": 0, "y": 0}},
            {
                "id": "wait",
                "type": "delay",
                "config": {"duration_seconds": 3},
                "position": {"x": 280, "y": 0},
            },
            {
                "id": "after",
                "type": "transform",
                "config": {"expression": "@"},
                "position": {"x": 560, "y": 0},
            },
        ],
        "edges": [{"from": "start", "to": "wait"}, {"from": "wait", "to": "after"}],
        "settings": {},
    }
    workflow = create_workflow(server, project, "Later", definition)
    server.api("POST", f"/projects/{project}/workflows/{workflow}/versions/publish", json={})
    run_id = server.api(
        "POST", f"/projects/{project}/workflows/{workflow}/runs", json={"input": {}}
    ).json()["id"]

    page.goto(f"/p/{project}/runs/{run_id}")
    expect(page.get_by_test_id("run-node-wait")).to_have_attribute("data-status", "waiting")
    waiting = page.get_by_test_id("run-timeline").get_by_test_id("run-event").count()
    expect(page.get_by_test_id("run-live")).to_be_visible()
    page.get_by_test_id("node-wait").click()
    expect(page.get_by_test_id("step-status")).to_have_text("waiting")
    screenshot(page, "run-detail-live")

    # No reload: the stream brings the rest.
    expect(page.get_by_test_id("run-node-after")).to_have_attribute(
        "data-status", "succeeded", timeout=20_000
    )
    # The open step's panel follows the stream too.
    expect(page.get_by_test_id("step-status")).to_have_text("succeeded")
    events = page.get_by_test_id("run-timeline").get_by_test_id("run-event")
    expect(events.last).to_have_attribute("data-type", "run.succeeded")
    assert events.count() > waiting
    page.get_by_test_id("run-gantt-tab").click()
    expect(page.get_by_test_id("run-gantt")).to_contain_text("wait")

    page.goto(f"/p/{project}/runs?workflow={workflow}")
    expect(page.get_by_test_id("run-row")).to_have_count(1)
    expect(page.get_by_test_id("run-row").get_by_test_id("run-status")).to_have_text("succeeded")
    screenshot(page, "runs-list")
