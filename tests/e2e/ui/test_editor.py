"""Building a workflow on the canvas, saving it, and finding it again."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.definitions import linear
from tests.e2e.ui.conftest import Server, screenshot
from tests.e2e.ui.helpers import (
    connect,
    create_workflow,
    drop_from_palette,
    head,
    open_editor,
    save,
    select_node,
)


def test_a_workflow_built_from_the_palette_is_saved_and_reloads_unchanged(
    page: Any, server: Server, project: str
) -> None:
    page.goto(f"/p/{project}")
    expect(page.get_by_test_id("workflow-list-empty")).to_be_visible()
    page.get_by_test_id("new-workflow").click()
    page.get_by_test_id("new-workflow-dialog").get_by_label("Name").fill("Order sync")
    page.get_by_test_id("create-workflow").click()
    expect(page).to_have_url(f"{server.url}/p/{project}/w/order-sync")
    expect(page.get_by_test_id("empty-canvas")).to_be_visible()

    drop_from_palette(page, "manual", 150, 250)
    drop_from_palette(page, "http_call", 550, 250)
    expect(page.get_by_test_id("node-manual_1")).to_be_visible()
    expect(page.get_by_test_id("node-http_call_1")).to_be_visible()
    connect(page, "manual_1", "http_call_1")
    expect(page.locator(".svelte-flow__edge")).to_have_count(1)

    select_node(page, "http_call_1")
    page.get_by_test_id("node-name").fill("Send order")
    page.get_by_label("URL *").fill("https://api.example.com/orders")
    page.get_by_label("Method").select_option("POST")
    expect(page.get_by_test_id("problem-count")).to_have_text("0 errors")
    screenshot(page, "editor")
    save(page, "first version")
    expect(page.get_by_test_id("base-version")).to_have_text("v2")

    page.reload()
    expect(page.get_by_test_id("node-http_call_1")).to_contain_text("Send order")
    expect(page.locator(".svelte-flow__edge")).to_have_count(1)
    select_node(page, "http_call_1")
    expect(page.get_by_label("URL *")).to_have_value("https://api.example.com/orders")
    expect(page.get_by_label("Method")).to_have_value("POST")

    stored = head(server, project, "order-sync")
    assert stored["version"] == 2
    nodes = {node["id"]: node for node in stored["definition"]["nodes"]}
    assert nodes["http_call_1"]["config"] == {
        "method": "POST",
        "url": "https://api.example.com/orders",
    }
    assert nodes["http_call_1"]["name"] == "Send order"
    assert stored["definition"]["edges"] == [{"from": "manual_1", "to": "http_call_1"}]


def test_a_validation_problem_is_shown_on_the_right_node(
    page: Any, server: Server, project: str
) -> None:
    definition = linear()
    definition["nodes"][2]["config"].pop("url")
    key = create_workflow(server, project, "Broken", definition)
    open_editor(page, project, key)
    panel = page.get_by_test_id("problems-panel")
    problem = panel.get_by_test_id("problem").filter(has_text="url is required")
    expect(problem).to_have_attribute("data-node", "send")
    expect(page.get_by_test_id("node-send").get_by_test_id("problem-marker")).to_be_visible()
    expect(page.get_by_test_id("node-shape").get_by_test_id("problem-marker")).to_have_count(0)
    problem.click()
    expect(page.get_by_test_id("node-send")).to_have_class(lambda_class("selected"))
    expect(page.get_by_test_id("node-panel")).to_contain_text("send")
    expect(page.get_by_test_id("field-problem")).to_contain_text("url is required")
    screenshot(page, "problems")

    page.get_by_label("URL *").fill("https://fixed.example.com")
    expect(panel.get_by_test_id("problem")).to_have_count(0)
    expect(page.get_by_test_id("node-send").get_by_test_id("problem-marker")).to_have_count(0)


def lambda_class(name: str) -> Any:
    import re

    return re.compile(rf"(^|\s){name}(\s|$)")
