"""Templates, the list's filters and trash, local drafts, undo, load, old versions."""

from __future__ import annotations

import time
from typing import Any

from playwright.sync_api import expect

from tests.definitions import linear
from tests.e2e.ui.conftest import Server, screenshot
from tests.e2e.ui.helpers import create_workflow, head, open_editor, save, select_node


def test_a_template_creates_a_working_workflow(page: Any, server: Server, project: str) -> None:
    # The template's HTTP calls use this secret: with it, the workflow is complete.
    secret = server.api("PUT", f"/projects/{project}/secrets/MAIL_API_KEY", json={"value": "k"})
    assert secret.status_code == 201, secret.text
    page.goto(f"/p/{project}")
    page.get_by_test_id("new-workflow").click()
    dialog = page.get_by_test_id("new-workflow-dialog")
    dialog.get_by_test_id("template-delayed-follow-up").click()
    expect(dialog.get_by_label("Name")).to_have_value("Welcome e-mail with a next-day follow-up")
    screenshot(page, "templates")
    dialog.get_by_test_id("create-workflow").click()

    expect(page.get_by_test_id("node-start")).to_be_visible()
    expect(page.get_by_test_id("node-send-welcome")).to_be_visible()
    expect(page.get_by_test_id("problem-count")).to_have_text("0 errors")
    page.get_by_test_id("publish-button").click()
    page.get_by_test_id("publish-confirm").click()
    expect(page.get_by_test_id("published-badge")).to_have_text("published v1")
    stored = head(server, project, "welcome-e-mail-with-a-next-day-follow-up")
    assert stored["published_version"] == 1
    assert stored["problems"] == []


def test_the_list_filters_sorts_and_restores_from_the_trash(
    page: Any, server: Server, project: str
) -> None:
    for name, tags in (("Alpha orders", ["orders"]), ("Beta billing", ["billing"])):
        response = server.api(
            "POST",
            f"/projects/{project}/workflows",
            json={"name": name, "tags": tags, "definition": linear()},
        )
        assert response.status_code == 201
    server.api("POST", f"/projects/{project}/workflows/beta-billing/versions/publish", json={})
    page.goto(f"/p/{project}")
    rows = page.get_by_test_id("workflow-row")
    expect(rows).to_have_count(2)
    page.get_by_test_id("sort").select_option("name")
    expect(rows.first).to_contain_text("Alpha orders")
    page.get_by_test_id("sort").select_option("-name")
    expect(rows.first).to_contain_text("Beta billing")
    expect(rows.first.get_by_test_id("badge-published")).to_have_text("published v1")
    screenshot(page, "workflows")

    page.get_by_test_id("search").fill("alpha")
    expect(rows).to_have_count(1)
    page.get_by_test_id("search").fill("")
    page.get_by_test_id("tag-filter").select_option("billing")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Beta billing")
    page.get_by_test_id("tag-filter").select_option("")
    page.get_by_test_id("status-filter").select_option("draft")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Alpha orders")
    page.get_by_test_id("status-filter").select_option("any")

    page.once("dialog", lambda dialog: dialog.accept())
    trash_alpha = page.get_by_role("button", name="Move Alpha orders to the trash")
    trash_alpha.click()
    expect(rows).to_have_count(1)
    page.get_by_test_id("trash-toggle").click()
    expect(rows).to_have_count(1)
    rows.first.get_by_test_id("restore").click()
    expect(page.get_by_test_id("workflow-list-empty")).to_be_visible()
    page.get_by_test_id("trash-toggle").click()
    expect(rows).to_have_count(2)


def test_a_workflow_whose_key_was_reused_is_restored_under_a_new_key(
    page: Any, server: Server, project: str
) -> None:
    old = create_workflow(server, project, "Sync", linear())
    assert server.api("DELETE", f"/projects/{project}/workflows/{old}").status_code == 204
    create_workflow(server, project, "Sync", linear())
    page.goto(f"/p/{project}?trash=1")
    rows = page.get_by_test_id("workflow-row")
    expect(rows).to_have_count(1)
    rows.first.get_by_test_id("restore").click()
    dialog = page.get_by_test_id("restore-dialog")
    expect(dialog).to_contain_text("Another workflow now uses the key sync")
    dialog.get_by_test_id("restore-key").fill("sync-old")
    dialog.get_by_test_id("restore-confirm").click()
    expect(page.get_by_test_id("workflow-list-empty")).to_be_visible()
    assert head(server, project, "sync-old")["name"] == "Sync"


def test_list_filters_stay_in_the_url_and_clone_opens_the_copy(
    page: Any, server: Server, project: str
) -> None:
    create_workflow(server, project, "Alpha", linear())
    create_workflow(server, project, "Beta", linear())
    page.goto(f"/p/{project}")
    page.get_by_test_id("sort").select_option("name")
    page.get_by_test_id("status-filter").select_option("draft")
    page.wait_for_function(
        "new URLSearchParams(location.search).get('state') === 'draft'"
        " && new URLSearchParams(location.search).get('sort') === 'name'"
    )
    page.reload()
    expect(page.get_by_test_id("sort")).to_have_value("name")
    expect(page.get_by_test_id("status-filter")).to_have_value("draft")
    rows = page.get_by_test_id("workflow-row")
    expect(rows.first).to_contain_text("Alpha")
    rows.first.get_by_test_id("clone").click()
    dialog = page.get_by_test_id("clone-dialog")
    dialog.get_by_test_id("clone-name").fill("Alpha copy")
    dialog.get_by_test_id("clone-confirm").click()
    expect(page).to_have_url(f"{server.url}/p/{project}/w/alpha-copy")
    expect(page.get_by_test_id("node-send")).to_be_visible()


def test_unsaved_edits_are_offered_back_after_a_reload(
    page: Any, server: Server, project: str
) -> None:
    key = create_workflow(server, project, "Order sync", linear())
    open_editor(page, project, key)
    select_node(page, "send")
    page.get_by_label("URL *").fill("https://unsaved.example.com")
    expect(page.get_by_test_id("base-version")).to_contain_text("unsaved changes")
    deadline = time.monotonic() + 10  # the draft is written shortly after the last edit
    while not page.evaluate(
        "Object.keys(localStorage).some((key) => key.startsWith('meshhook:draft:'))"
    ):
        assert time.monotonic() < deadline, "no local draft was written"
        time.sleep(0.1)
    page.once("dialog", lambda dialog: dialog.accept())  # the unsaved-changes guard
    page.reload()
    banner = page.get_by_test_id("draft-banner")
    expect(banner).to_contain_text("started from version 1")
    page.get_by_test_id("draft-restore").click()
    select_node(page, "send")
    expect(page.get_by_label("URL *")).to_have_value("https://unsaved.example.com")
    save(page)
    assert head(server, project, key)["definition"]["nodes"][2]["config"]["url"] == (
        "https://unsaved.example.com"
    )
    page.reload()
    expect(page.get_by_test_id("node-send")).to_be_visible()
    expect(page.get_by_test_id("draft-banner")).to_have_count(0)


def test_leaving_with_unsaved_changes_asks_first(page: Any, server: Server, project: str) -> None:
    key = create_workflow(server, project, "Order sync", linear())
    open_editor(page, project, key)
    select_node(page, "shape")
    page.get_by_label("Expression *").fill("@")
    messages: list[str] = []

    def dismiss(dialog: Any) -> None:
        messages.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.get_by_role("link", name="← Workflows").click()
    expect(page).to_have_url(f"{server.url}/p/{project}/w/{key}")
    assert "unsaved changes" in messages[0]


def test_delete_undo_and_redo(page: Any, server: Server, project: str) -> None:
    key = create_workflow(server, project, "Order sync", linear())
    open_editor(page, project, key)
    select_node(page, "shape")
    page.keyboard.press("Delete")
    expect(page.get_by_test_id("node-shape")).to_have_count(0)
    expect(page.locator(".svelte-flow__edge")).to_have_count(0)
    page.get_by_test_id("undo").click()
    expect(page.get_by_test_id("node-shape")).to_be_visible()
    expect(page.locator(".svelte-flow__edge")).to_have_count(2)
    page.get_by_test_id("redo").click()
    expect(page.get_by_test_id("node-shape")).to_have_count(0)
    page.get_by_test_id("canvas").click(position={"x": 30, "y": 30})
    page.keyboard.press("Control+z")
    expect(page.get_by_test_id("node-shape")).to_be_visible()
    page.get_by_test_id("auto-layout").click()
    save(page, "laid out")
    positions = [n["position"] for n in head(server, project, key)["definition"]["nodes"]]
    assert positions[0]["x"] < positions[1]["x"] < positions[2]["x"]


def test_load_opens_another_workflow_and_an_old_version_read_only(
    page: Any, server: Server, project: str
) -> None:
    first = create_workflow(server, project, "First", linear())
    second = create_workflow(server, project, "Second", linear("https://second.example.com"))
    shorter = {**linear(), "nodes": linear()["nodes"][:2], "edges": linear()["edges"][:1]}
    server.api(
        "PUT",
        f"/projects/{project}/workflows/{second}",
        json={"definition": shorter},
        headers={"If-Match": '"1"'},
    )
    open_editor(page, project, first)
    page.get_by_test_id("load-button").click()
    dialog = page.get_by_test_id("load-dialog")
    dialog.get_by_test_id(f"load-workflow-{second}").click()
    dialog.get_by_test_id("load-version-1").click()
    expect(page).to_have_url(f"{server.url}/p/{project}/w/{second}?version=1")
    expect(page.get_by_test_id("version-banner")).to_contain_text("Viewing version 1")
    expect(page.get_by_test_id("node-send")).to_be_visible()
    expect(page.get_by_test_id("save-button")).to_be_disabled()
    page.get_by_role("button", name="Back to editing").click()
    expect(page.get_by_test_id("node-send")).to_have_count(0)
    expect(page.get_by_test_id("save-button")).to_be_enabled()


def test_a_thousand_node_workflow_stays_responsive(page: Any, server: Server, project: str) -> None:
    nodes: list[dict[str, Any]] = [
        {"id": "start", "type": "manual", "config": {}, "position": {"x": 0, "y": 0}}
    ]
    edges = []
    for index in range(1, 1000):
        nodes.append(
            {
                "id": f"n{index}",
                "type": "transform",
                "config": {"expression": "@"},
                "position": {"x": 260 * (index // 25), "y": 100 * (index % 25)},
            }
        )
        edges.append({"from": "start" if index <= 25 else f"n{index - 25}", "to": f"n{index}"})
    key = create_workflow(server, project, "Big", {"nodes": nodes, "edges": edges})
    started = time.monotonic()
    open_editor(page, project, key)
    expect(page.get_by_test_id("node-start")).to_be_visible()
    loaded = time.monotonic() - started
    assert loaded < 20, f"opening took {loaded:.1f} s"

    page.get_by_test_id("fit-view").click()
    started = time.monotonic()
    select_node(page, "start")
    page.locator(".svelte-flow__node[data-id=start]").focus()
    page.keyboard.press("ArrowRight")  # keyboard move of the selected node, then undo it
    page.get_by_test_id("undo").click()
    for _ in range(3):
        page.locator(".svelte-flow__controls-zoomin").click()
    page.get_by_test_id("fit-view").click()
    expect(page.get_by_test_id("node-start")).to_be_visible()
    elapsed = time.monotonic() - started
    assert elapsed < 10, f"select, zoom, move and fit took {elapsed:.1f} s"
    select_node(page, "start")
    page.get_by_test_id("node-name").fill("Go")
    expect(page.get_by_test_id("node-start")).to_contain_text("Go")
    save(page)
    assert head(server, project, key)["version"] == 2
