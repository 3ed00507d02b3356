"""The project switcher, keyboard use and dark mode."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.definitions import linear
from tests.e2e.ui.conftest import Server, new_context, screenshot
from tests.e2e.ui.helpers import create_workflow, head, open_editor, save


def test_the_project_switcher_opens_the_other_projects_workflows(
    page: Any, server: Server, project: str
) -> None:
    create_workflow(server, project, "Only here", linear())
    page.goto(f"/p/{project}")
    expect(page.get_by_test_id("workflow-row")).to_have_count(1)
    page.get_by_test_id("project-switcher").select_option("default")
    expect(page).to_have_url(f"{server.url}/p/default")
    expect(page.get_by_test_id("workflow-row").filter(has_text="Only here")).to_have_count(0)


def test_steps_can_be_added_and_saved_with_the_keyboard_only(
    page: Any, server: Server, project: str
) -> None:
    key = create_workflow(server, project, "Keyboard", {"nodes": [], "edges": []})
    open_editor(page, project, key)
    page.get_by_test_id("palette-item-webhook").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("node-webhook_1")).to_be_visible()
    expect(page.get_by_test_id("node-panel")).to_contain_text("webhook_1")
    page.get_by_test_id("palette-item-terminate").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("node-terminate_1")).to_be_visible()
    page.keyboard.press("Control+s")
    expect(page.get_by_test_id("base-version")).to_have_text("v2")
    types = [node["type"] for node in head(server, project, key)["definition"]["nodes"]]
    assert types == ["webhook", "terminate"]


def test_dark_mode_follows_the_system(browser: Any, server: Server, project: str) -> None:
    key = create_workflow(server, project, "Order sync", linear())
    dark = new_context(browser, server, color_scheme="dark")
    page = dark.new_page()
    open_editor(page, project, key)
    background = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
    assert background == "rgb(21, 23, 28)"
    page.get_by_test_id("node-send").click()
    screenshot(page, "editor-dark")
    save(page)
    dark.close()


def test_a_workflow_marked_as_template_joins_the_gallery(
    page: Any, server: Server, project: str
) -> None:
    key = create_workflow(server, project, "Order sync", linear())
    open_editor(page, project, key)
    page.get_by_test_id("details-button").click()
    dialog = page.get_by_test_id("details-dialog")
    dialog.get_by_test_id("details-tags").fill("orders, crm")
    dialog.get_by_label("Offer it as a template in the gallery").check()
    dialog.get_by_test_id("details-save").click()
    expect(dialog).to_be_hidden()
    stored = head(server, project, key)
    assert stored["tags"] == ["orders", "crm"]
    assert stored["is_template"] is True

    page.get_by_role("link", name="← Workflows").click()
    page.get_by_test_id("template-filter").select_option("templates")
    expect(page.get_by_test_id("workflow-row")).to_have_count(1)
    page.get_by_test_id("new-workflow").click()
    gallery = page.get_by_test_id("template-gallery")
    gallery.get_by_test_id(f"template-{stored['id']}").click()
    page.get_by_test_id("new-workflow-dialog").get_by_label("Name").fill("Copy of order sync")
    page.get_by_test_id("create-workflow").click()
    expect(page.get_by_test_id("node-send")).to_be_visible()
    copy = head(server, project, "copy-of-order-sync")
    assert copy["definition"]["nodes"] == stored["definition"]["nodes"]


def test_a_viewer_can_look_but_not_edit(browser: Any, server: Server, project: str) -> None:
    import os
    import subprocess
    import sys
    import uuid

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
    member = server.api("PUT", f"/projects/{project}/members/{email}", json={"role": "viewer"})
    assert member.status_code in {200, 201}, member.text
    key = create_workflow(server, project, "Order sync", linear())

    context = new_context(browser, server, signed_in=False)
    assert context.request.post(
        "/api/v1/auth/login", data={"email": email, "password": password}
    ).ok
    page = context.new_page()
    page.goto(f"/p/{project}")
    expect(page.get_by_test_id("workflow-row")).to_have_count(1)
    expect(page.get_by_test_id("new-workflow")).to_have_count(0)
    open_editor(page, project, key)
    expect(page.get_by_text("editing needs the editor role")).to_be_visible()
    expect(page.get_by_test_id("save-button")).to_have_count(0)
    expect(page.get_by_test_id("palette-item-manual")).to_have_count(0)
    page.get_by_test_id("node-send").click()
    expect(page.get_by_label("URL *")).to_be_disabled()
    page.get_by_test_id("history-button").click()
    expect(page.get_by_test_id("version-row")).to_have_count(1)
    expect(page.get_by_test_id("version-revert")).to_have_count(0)
    context.close()
