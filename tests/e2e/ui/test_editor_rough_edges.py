"""Rough edges of the editor (issue #14, items 5, 9 and 13)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from typing import Any

from playwright.sync_api import expect

from tests.definitions import linear
from tests.e2e.ui.conftest import Server, new_context
from tests.e2e.ui.helpers import create_workflow, head, open_editor, save, select_node


def _add_by_keyboard(page: Any, node_type: str) -> None:
    page.get_by_test_id(f"palette-item-{node_type}").focus()
    page.keyboard.press("Enter")


def test_copy_paste_and_duplicate_make_steps_with_fresh_ids(
    page: Any, server: Server, project: str
) -> None:
    key = create_workflow(server, project, "Order sync", linear())
    open_editor(page, project, key)
    select_node(page, "send")
    page.keyboard.press("Control+c")
    page.keyboard.press("Control+v")
    expect(page.get_by_test_id("node-http_call_1")).to_be_visible()
    page.keyboard.press("Control+d")
    expect(page.get_by_test_id("node-http_call_2")).to_be_visible()
    save(page)
    nodes = {n["id"]: n for n in head(server, project, key)["definition"]["nodes"]}
    assert set(nodes) == {"start", "shape", "send", "http_call_1", "http_call_2"}
    assert nodes["http_call_2"]["config"] == nodes["send"]["config"]
    assert nodes["http_call_1"]["position"] != nodes["send"]["position"]


def test_palette_search_and_keyboard_adds_land_in_free_space(
    page: Any, server: Server, project: str
) -> None:
    key = create_workflow(server, project, "Order sync", linear())
    open_editor(page, project, key)
    page.get_by_test_id("palette-search").fill("pause")
    expect(page.get_by_test_id("palette-item-delay")).to_be_visible()
    expect(page.get_by_test_id("palette-item-http_call")).to_have_count(0)
    page.get_by_test_id("palette-search").fill("")
    _add_by_keyboard(page, "delay")
    _add_by_keyboard(page, "delay")
    first = page.get_by_test_id("node-delay_1").bounding_box()
    second = page.get_by_test_id("node-delay_2").bounding_box()
    assert first is not None
    assert second is not None
    apart_x = (
        first["x"] + first["width"] <= second["x"] or second["x"] + second["width"] <= first["x"]
    )
    apart_y = (
        first["y"] + first["height"] <= second["y"] or second["y"] + second["height"] <= first["y"]
    )
    assert apart_x or apart_y, "a step added by keyboard landed on another"
    # A new Delay starts with its suggested duration written, not shown as a placeholder.
    select_node(page, "delay_2")
    duration = page.get_by_label("Duration (seconds)")
    expect(duration).to_have_value("60")
    expect(duration).to_have_attribute("placeholder", "")


def test_forms_show_defaults_and_rendered_descriptions(
    page: Any, server: Server, project: str
) -> None:
    key = create_workflow(server, project, "Empty", {"nodes": [], "edges": []})
    open_editor(page, project, key)
    _add_by_keyboard(page, "webhook")
    expect(page.get_by_test_id("field-default")).to_contain_text("POST")
    _add_by_keyboard(page, "branch")
    description = page.get_by_test_id("type-description")
    expect(description.locator("code").first).to_have_text('when: "true"')
    expect(description).not_to_contain_text("`")


def test_problems_are_listed_by_step_name(page: Any, server: Server, project: str) -> None:
    definition = linear()
    definition["nodes"][2]["config"].pop("url")
    key = create_workflow(server, project, "Broken", definition)
    open_editor(page, project, key)
    problem = page.get_by_test_id("problem").filter(has_text="url is required")
    expect(problem.locator(".where")).to_have_text("Send")


def test_viewers_get_no_editing_hints(browser: Any, server: Server, project: str) -> None:
    email = f"viewer-{uuid.uuid4().hex[:8]}@example.com"
    password = "a viewer's long password"
    subprocess.run(
        [sys.executable, "-m", "meshhook", "users", "create", email, "--password-stdin"],
        input=password,
        text=True,
        check=True,
        capture_output=True,
        env={**os.environ, "MESHHOOK_HOME": str(server.home)},
    )
    server.api("PUT", f"/projects/{project}/members/{email}", json={"role": "viewer"})
    key = create_workflow(server, project, "Order sync", linear())
    context = new_context(browser, server, signed_in=False)
    assert context.request.post(
        "/api/v1/auth/login", data={"email": email, "password": password}
    ).ok
    page = context.new_page()
    open_editor(page, project, key)
    hints = page.get_by_test_id("editor-hints")
    expect(hints).to_contain_text("Select a step to see its settings")
    expect(hints).not_to_contain_text("Connect steps")
    expect(hints).not_to_contain_text("saves")
    context.close()


def test_auto_layout_keeps_a_branchs_true_target_above_its_false_one(
    page: Any, server: Server, project: str
) -> None:
    definition = {
        "nodes": [
            {"id": "start", "type": "manual", "config": {}, "position": {"x": 0, "y": 0}},
            {"id": "check", "type": "branch", "config": {"condition": "ok"}},
            {"id": "a_no", "type": "terminate", "config": {"status": "failed"}},
            {"id": "z_yes", "type": "terminate", "config": {}},
        ],
        "edges": [
            {"from": "start", "to": "check"},
            {"from": "check", "to": "a_no", "when": "false"},
            {"from": "check", "to": "z_yes", "when": "true"},
        ],
    }
    key = create_workflow(server, project, "Branchy", definition)
    open_editor(page, project, key)
    page.get_by_test_id("auto-layout").click()
    save(page)
    nodes = {n["id"]: n for n in head(server, project, key)["definition"]["nodes"]}
    assert nodes["z_yes"]["position"]["y"] < nodes["a_no"]["position"]["y"]
    select_node(page, "check")  # the page stays usable after the layout
