"""The statistics screens in a real browser: the project dashboard and a
workflow's Stats tab draw their charts (Chart.js, loaded on first visit, not
with the first page), switch windows, list failing nodes and error codes, and
pass the accessibility check."""

from __future__ import annotations

import time
from typing import Any

from playwright.sync_api import expect

from tests.e2e.ui.accessibility import assert_accessible
from tests.e2e.ui.conftest import Server, new_context, screenshot
from tests.e2e.ui.helpers import create_workflow


def echo() -> dict[str, Any]:
    return {
        "nodes": [
            {"id": "start", "type": "manual", "config": {}, "position": {"x": 0, "y": 0}},
            {
                "id": "echo",
                "type": "transform",
                "config": {"expression": "@"},
                "position": {"x": 280, "y": 0},
            },
        ],
        "edges": [{"from": "start", "to": "echo"}],
        "settings": {},
    }


def broken() -> dict[str, Any]:
    body = echo()
    body["nodes"][1]["config"]["expression"] = "abs(word)"  # a type error when it runs
    return body


def run_to_the_end(server: Server, project: str, workflow: str, body: dict[str, Any]) -> str:
    started = server.api("POST", f"/projects/{project}/workflows/{workflow}/runs", json=body)
    assert started.status_code == 202, started.text
    return wait_finished(server, project, started.json()["id"])


def wait_finished(server: Server, project: str, run_id: str) -> str:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        status: str = server.api("GET", f"/projects/{project}/runs/{run_id}").json()["status"]
        if status in {"succeeded", "failed", "cancelled"}:
            return status
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} did not finish")


def published(server: Server, project: str, name: str, definition: dict[str, Any]) -> str:
    key = create_workflow(server, project, name, definition)
    answer = server.api("POST", f"/projects/{project}/workflows/{key}/versions/publish", json={})
    assert answer.status_code == 200, answer.text
    return key


def test_the_dashboard_and_a_workflows_stats_tab_chart_the_runs(
    browser: Any, server: Server, project: str
) -> None:
    good = published(server, project, "Echo", echo())
    bad = published(server, project, "Broken", broken())
    for n in range(3):
        assert run_to_the_end(server, project, good, {"input": {"n": n}}) == "succeeded"
    assert run_to_the_end(server, project, bad, {"input": {"word": "x"}}) == "failed"

    context = new_context(browser, server)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    chart_requests: list[str] = []
    page.on(
        "request",
        lambda request: chart_requests.append(request.url) if "/charts-" in request.url else None,
    )
    page.goto(f"/p/{project}")
    expect(page.get_by_test_id("nav-dashboard")).to_be_visible()
    assert chart_requests == [], "the chart library is not part of the first page"

    page.get_by_test_id("nav-dashboard").click()
    expect(page.get_by_role("heading", name="Project dashboard")).to_be_visible()
    expect(page.get_by_test_id("figure-finished")).to_have_text("4")
    expect(page.get_by_test_id("figure-success-rate")).to_have_text("75.0 %")
    for chart in ("chart-runs", "chart-success", "chart-duration", "chart-lag"):
        expect(page.get_by_test_id(chart).locator("canvas")).to_be_visible()
    # Chart.js drew on the canvas (a Chart instance is attached to it).
    page.wait_for_function(
        "() => [...document.querySelectorAll('canvas')].every(c => c.width > 0"
        " && c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some(v => v))"
    )
    assert len(chart_requests) == 1
    runs_label = page.get_by_test_id("chart-runs").locator("[role=img]")
    label = runs_label.get_attribute("aria-label") or ""
    assert "3 succeeded, 1 failed, 0 cancelled" in label
    for chart in ("chart-slowest", "chart-failing", "chart-errors"):
        expect(page.get_by_test_id(chart).locator("canvas")).to_be_visible()
    failing_label = page.get_by_test_id("chart-failing").locator("[role=img]")
    assert f"{bad} · echo 1 of 1 steps" in (failing_label.get_attribute("aria-label") or "")
    expect(page.get_by_test_id("failing-nodes")).to_contain_text(bad)
    expect(page.get_by_test_id("failing-nodes")).to_contain_text("echo")
    expect(page.get_by_test_id("error-codes").locator("code").first).to_be_visible()
    assert_accessible(page, "project dashboard")
    screenshot(page, "stats-dashboard")

    page.get_by_test_id("window-7d").click()
    expect(page.get_by_test_id("window-7d")).to_have_attribute("aria-pressed", "true")
    assert page.url.endswith("/stats?window=7d")
    expect(page.get_by_test_id("figure-finished")).to_have_text("4")

    # A workflow's Stats tab, reached from the editor's toolbar.
    page.goto(f"/p/{project}/w/{good}")
    page.get_by_test_id("workflow-stats-link").click()
    expect(page.get_by_role("heading", name=f"Statistics of {good}")).to_be_visible()
    expect(
        page.get_by_role("navigation", name="Workflow").get_by_role("link", name="Stats")
    ).to_have_attribute("aria-current", "page")
    expect(page.get_by_test_id("figure-finished")).to_have_text("3")
    expect(page.get_by_test_id("figure-success-rate")).to_have_text("100.0 %")
    expect(page.get_by_test_id("failing-nodes")).to_contain_text("No failed steps.")
    expect(page.get_by_test_id("chart-failing")).to_have_count(0)
    expect(page.get_by_test_id("chart-runs").locator("canvas")).to_be_visible()
    assert_accessible(page, "workflow stats tab")
    page.get_by_test_id("window-1h").click()
    expect(page.get_by_test_id("figure-finished")).to_have_text("3")
    assert errors == []
    context.close()


def test_the_dashboard_is_accessible_in_dark_mode_with_no_runs(
    browser: Any, server: Server, project: str
) -> None:
    context = new_context(browser, server, color_scheme="dark")
    page = context.new_page()
    page.goto(f"/p/{project}/stats?window=30d")
    expect(page.get_by_test_id("window-30d")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("figure-finished")).to_have_text("0")
    expect(page.get_by_test_id("figure-success-rate")).to_have_text("\u2013")
    expect(page.get_by_test_id("slowest-nodes")).to_contain_text("No steps in this window.")
    assert_accessible(page, "empty dashboard, dark")
    context.close()
