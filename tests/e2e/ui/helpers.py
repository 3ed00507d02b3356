"""Small steps the browser tests share: open a workflow, drag, connect, save."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.e2e.ui.conftest import Server


def create_workflow(server: Server, project: str, name: str, definition: dict[str, Any]) -> str:
    response = server.api(
        "POST", f"/projects/{project}/workflows", json={"name": name, "definition": definition}
    )
    assert response.status_code == 201, response.text
    key: str = response.json()["key"]
    return key


def head(server: Server, project: str, workflow: str) -> dict[str, Any]:
    response = server.api("GET", f"/projects/{project}/workflows/{workflow}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def open_editor(page: Any, project: str, workflow: str) -> None:
    page.goto(f"/p/{project}/w/{workflow}")
    expect(page.get_by_test_id("canvas")).to_be_visible()


def drop_from_palette(page: Any, node_type: str, x: int, y: int) -> None:
    page.get_by_test_id(f"palette-item-{node_type}").drag_to(
        page.get_by_test_id("canvas"), target_position={"x": x, "y": y}
    )


def connect(page: Any, source: str, target: str, output: str | None = None) -> None:
    """Drag from a node's output handle to another node's input handle."""
    node = page.get_by_test_id(f"node-{source}")
    handle = (
        node.get_by_test_id(f"handle-{source}-{output}")
        if output
        else node.locator(".svelte-flow__handle.source")
    )
    into = page.get_by_test_id(f"node-{target}").locator(".svelte-flow__handle.target")
    start, end = handle.bounding_box(), into.bounding_box()
    assert start is not None
    assert end is not None
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=8)
    page.mouse.up()


def select_node(page: Any, node_id: str) -> None:
    page.get_by_test_id(f"node-{node_id}").click()
    expect(page.get_by_test_id("node-panel")).to_contain_text(node_id)


def save(page: Any, message: str = "") -> None:
    if message:
        page.get_by_test_id("save-message").fill(message)
    page.get_by_test_id("save-button").click()
    expect(page.get_by_test_id("base-version")).not_to_contain_text("unsaved")
