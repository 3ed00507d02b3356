"""Editor bugs that lost or corrupted work, or misled about safety (issue #14, items 1-4, 8, 10)."""

from __future__ import annotations

import time
from typing import Any

from playwright.sync_api import expect

from tests.definitions import linear
from tests.e2e.ui.conftest import Server, new_context
from tests.e2e.ui.helpers import create_workflow, head, open_editor, save, select_node


def _stored_config(server: Server, project: str, key: str, node: str) -> dict[str, Any]:
    nodes = {n["id"]: n for n in head(server, project, key)["definition"]["nodes"]}
    config: dict[str, Any] = nodes[node]["config"]
    return config


def _wait_for_draft(page: Any) -> None:
    deadline = time.monotonic() + 10  # the draft is written shortly after the last edit
    while not page.evaluate(
        "Object.keys(localStorage).some((key) => key.startsWith('meshhook:draft:'))"
    ):
        assert time.monotonic() < deadline, "no local draft was written"
        time.sleep(0.1)


def test_typed_values_are_in_a_save_made_right_after_typing(
    page: Any, server: Server, project: str
) -> None:
    """Header, body and "retry on status" fields commit as you type, not on blur (item 1)."""
    key = create_workflow(server, project, "Order sync", linear())
    open_editor(page, project, key)
    select_node(page, "send")
    page.get_by_role("button", name="Add headers").click()
    page.get_by_label("Headers name", exact=True).fill("X-Trace")
    page.get_by_label("Headers X-Trace value").fill("abc")
    page.get_by_label("Body").fill('{"id": 7}')
    page.get_by_label("Retry on status").fill("500, 503")
    # Focus is still in the field: no blur happened, and the marker follows the typing.
    expect(page.get_by_test_id("base-version")).to_contain_text("unsaved changes")
    page.keyboard.press("Control+s")
    expect(page.get_by_test_id("base-version")).to_have_text("v2")
    config = _stored_config(server, project, key, "send")
    assert config["headers"] == {"X-Trace": "abc"}
    assert config["body"] == {"id": 7}
    assert config["retry"]["retry_on"] == [500, 503]


def test_a_literal_credential_is_flagged_while_typing(
    page: Any, server: Server, project: str
) -> None:
    key = create_workflow(server, project, "Order sync", linear())
    open_editor(page, project, key)
    select_node(page, "send")
    page.get_by_role("button", name="Add headers").click()
    page.get_by_label("Headers name", exact=True).fill("Authorization")
    page.get_by_label("Headers Authorization value").fill("Bearer abc123")
    panel = page.get_by_test_id("problems-panel")
    expect(panel).to_contain_text("secret.literal_value")
    expect(page.get_by_test_id("problem-count")).to_have_text("1 error")


def test_the_problems_panel_says_what_publishing_will_say(
    page: Any, server: Server, project: str
) -> None:
    """A missing secret stays an error after a save; creating it and publishing clear it (2)."""
    definition = linear()
    definition["nodes"][2]["config"]["headers"] = {
        "Authorization": "Bearer {{ secrets.API_TOKEN }}"
    }
    key = create_workflow(server, project, "Order sync", definition)
    open_editor(page, project, key)
    count = page.get_by_test_id("problem-count")
    panel = page.get_by_test_id("problems-panel")
    expect(panel).to_contain_text("secret.unknown")
    select_node(page, "shape")
    page.get_by_test_id("node-name").fill("Shape it")
    save(page)
    expect(page.get_by_test_id("base-version")).to_have_text("v2")
    expect(panel).to_contain_text("secret.unknown")
    expect(count).to_have_text("1 error")

    response = server.api(
        "PUT", f"/projects/{project}/secrets/API_TOKEN", json={"value": "s3cret-value"}
    )
    assert response.status_code in (200, 201), response.text
    page.get_by_test_id("publish-button").click()
    page.get_by_test_id("publish-confirm").click()
    expect(page.get_by_test_id("published-badge")).to_have_text("published v2")
    expect(count).to_have_text("0 errors")
    expect(page.get_by_test_id("node-send").get_by_test_id("problem-marker")).to_have_count(0)


def test_delete_removes_the_focused_connection_not_the_selected_step(
    page: Any, server: Server, project: str
) -> None:
    key = create_workflow(server, project, "Order sync", linear())
    open_editor(page, project, key)
    select_node(page, "shape")
    edges = page.locator(".svelte-flow__edge")
    expect(edges).to_have_count(2)
    focused = ""
    for _ in range(12):  # Shift+Tab (connections come before steps) until one has focus
        page.keyboard.press("Shift+Tab")
        focused = page.evaluate(
            "document.activeElement.closest('.svelte-flow__edge')?.dataset.id ?? ''"
        )
        if focused:
            break
    assert focused, "Tab never reached a connection"
    page.keyboard.press("Delete")
    expect(edges).to_have_count(1)
    expect(page.locator(f'.svelte-flow__edge[data-id="{focused}"]')).to_have_count(0)
    expect(page.get_by_test_id("node-shape")).to_be_visible()
    # A focused connection shows a focus ring.
    page.locator(".svelte-flow__edge").first.focus()
    expect(page.locator(".svelte-flow__edge-path").first).to_have_css("stroke-width", "3px")
    save(page)
    stored = head(server, project, key)["definition"]
    assert len(stored["nodes"]) == 3
    assert len(stored["edges"]) == 1


def test_a_second_tab_neither_offers_nor_discards_the_first_tabs_draft(
    context: Any, page: Any, server: Server, project: str
) -> None:
    key = create_workflow(server, project, "Order sync", linear())
    open_editor(page, project, key)
    select_node(page, "send")
    page.get_by_label("URL *").fill("https://tab-a.example.com")
    _wait_for_draft(page)

    other = context.new_page()
    open_editor(other, project, key)
    expect(other.get_by_test_id("elsewhere-banner")).to_be_visible()
    expect(other.get_by_test_id("draft-banner")).to_have_count(0)
    other.close()
    # Tab A's crash backup is intact, and A still saves its edits.
    _wait_for_draft(page)
    save(page)
    assert _stored_config(server, project, key, "send")["url"] == "https://tab-a.example.com"


def test_reload_latest_offers_the_dropped_edits_back_at_once(
    page: Any, browser: Any, server: Server, project: str
) -> None:
    key = create_workflow(server, project, "Order sync", linear())
    open_editor(page, project, key)
    other = new_context(browser, server)
    theirs = other.new_page()
    open_editor(theirs, project, key)
    select_node(theirs, "send")
    theirs.get_by_label("URL *").fill("https://theirs.example.com")
    save(theirs)
    other.close()

    select_node(page, "send")
    page.get_by_label("URL *").fill("https://mine.example.com")
    page.get_by_test_id("save-button").click()
    dialog = page.get_by_test_id("conflict-dialog")
    dialog.get_by_test_id("conflict-reload").click()
    expect(page.get_by_test_id("base-version")).to_have_text("v2")
    banner = page.get_by_test_id("draft-banner")
    expect(banner).to_contain_text("started from version 1")
    banner.get_by_test_id("draft-restore").click()
    select_node(page, "send")
    expect(page.get_by_label("URL *")).to_have_value("https://mine.example.com")


def test_undoing_back_to_the_saved_state_clears_unsaved_changes(
    page: Any, server: Server, project: str
) -> None:
    key = create_workflow(server, project, "Order sync", linear())
    open_editor(page, project, key)
    select_node(page, "send")
    page.get_by_label("URL *").fill("https://other.example.com")
    marker = page.get_by_test_id("base-version")
    expect(marker).to_contain_text("unsaved changes")
    page.get_by_test_id("undo").click()
    expect(marker).to_have_text("v1")
    page.get_by_test_id("redo").click()
    expect(marker).to_contain_text("unsaved changes")


def test_publish_with_unsaved_edits_offers_save_and_publish(
    page: Any, server: Server, project: str
) -> None:
    key = create_workflow(server, project, "Order sync", linear())
    open_editor(page, project, key)
    select_node(page, "send")
    page.get_by_label("URL *").fill("https://published.example.com")
    page.get_by_test_id("publish-button").click()
    dialog = page.get_by_test_id("publish-dialog")
    expect(dialog.get_by_test_id("publish-unsaved")).to_contain_text("unsaved changes")
    dialog.get_by_test_id("publish-save-and-publish").click()
    expect(page.get_by_test_id("published-badge")).to_have_text("published v2")
    expect(page.get_by_test_id("base-version")).to_have_text("v2")
    stored = head(server, project, key)
    assert stored["published_version"] == 2
    assert _stored_config(server, project, key, "send")["url"] == "https://published.example.com"


def _literal_header(page: Any) -> None:
    page.get_by_role("button", name="Add headers").click()
    page.get_by_label("Headers name", exact=True).fill("Authorization")
    page.get_by_label("Headers Authorization value").fill("Bearer abc123")


def test_store_as_secret_creates_the_secret_and_saves_only_the_reference(
    page: Any, server: Server, project: str
) -> None:
    key = create_workflow(server, project, "Order sync", linear())
    open_editor(page, project, key)
    select_node(page, "send")
    _literal_header(page)
    # Saving with the literal on the canvas is refused in the browser and offers the secret.
    page.keyboard.press("Control+s")
    dialog = page.get_by_test_id("store-secret-dialog")
    expect(dialog).to_be_visible()
    assert head(server, project, key)["version"] == 1
    dialog.get_by_test_id("store-secret-name").fill("ORDERS_TOKEN")
    dialog.get_by_test_id("store-secret-confirm").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_label("Headers Authorization value")).to_have_value(
        "Bearer {{ secrets.ORDERS_TOKEN }}"
    )
    expect(page.get_by_test_id("problem-count")).to_have_text("0 errors")
    save(page)
    config = _stored_config(server, project, key, "send")
    assert config["headers"] == {"Authorization": "Bearer {{ secrets.ORDERS_TOKEN }}"}
    secrets = server.api("GET", f"/projects/{project}/secrets").json()
    assert [s["name"] for s in secrets] == ["ORDERS_TOKEN"]


def test_an_editor_is_told_to_ask_an_admin_for_the_secret(
    browser: Any, server: Server, project: str
) -> None:
    import os
    import subprocess
    import sys
    import uuid

    email = f"editor-{uuid.uuid4().hex[:8]}@example.com"
    password = "an editor's long password"
    subprocess.run(
        [sys.executable, "-m", "meshhook", "users", "create", email, "--password-stdin"],
        input=password,
        text=True,
        check=True,
        capture_output=True,
        env={**os.environ, "MESHHOOK_HOME": str(server.home)},
    )
    member = server.api("PUT", f"/projects/{project}/members/{email}", json={"role": "editor"})
    assert member.status_code in {200, 201}, member.text
    key = create_workflow(server, project, "Order sync", linear())
    context = new_context(browser, server, signed_in=False)
    assert context.request.post(
        "/api/v1/auth/login", data={"email": email, "password": password}
    ).ok
    page = context.new_page()
    open_editor(page, project, key)
    select_node(page, "send")
    _literal_header(page)
    page.get_by_test_id("store-secret").click()
    dialog = page.get_by_test_id("store-secret-dialog")
    expect(dialog.get_by_test_id("store-secret-ask")).to_contain_text("SEND_AUTHORIZATION")
    dialog.get_by_test_id("store-secret-confirm").click()
    expect(page.get_by_label("Headers Authorization value")).to_have_value(
        "Bearer {{ secrets.SEND_AUTHORIZATION }}"
    )
    save(page)
    config = _stored_config(server, project, key, "send")
    assert config["headers"] == {"Authorization": "Bearer {{ secrets.SEND_AUTHORIZATION }}"}
    assert server.api("GET", f"/projects/{project}/secrets").json() == []
    context.close()


def test_a_small_window_keeps_the_canvas_still_and_the_page_unscrolled(
    page: Any, server: Server, project: str
) -> None:
    """Item 7: no layout shift on edit; History scrolls inside itself; no minimap on the canvas."""
    key = create_workflow(server, project, "Order sync", linear())
    for index in range(12):  # enough history to overflow the side panel
        server.api(
            "PUT",
            f"/projects/{project}/workflows/{key}",
            json={"definition": linear(f"https://v{index}.example.com")},
            headers={"If-Match": f'"{index + 1}"'},
        )
    server.api("POST", f"/projects/{project}/workflows/{key}/versions/publish", json={})
    server.api(
        "PUT",
        f"/projects/{project}/workflows/{key}/aliases/a-very-long-alias-name-for-production",
        json={"version": 13},
    )
    page.set_viewport_size({"width": 1024, "height": 700})
    open_editor(page, project, key)
    canvas = page.get_by_test_id("canvas")
    before = canvas.bounding_box()
    select_node(page, "send")
    page.get_by_label("URL *").fill("https://changed.example.com")
    expect(page.get_by_test_id("base-version")).to_contain_text("unsaved changes")
    assert canvas.bounding_box() == before
    expect(page.locator(".svelte-flow__minimap")).to_be_hidden()

    page.get_by_test_id("history-button").click()
    expect(page.get_by_test_id("version-row")).to_have_count(13)
    unscrolled = page.evaluate(
        "document.scrollingElement.scrollHeight <= window.innerHeight"
        " && document.scrollingElement.scrollWidth <= window.innerWidth"
    )
    assert unscrolled, "the page scrolls instead of its panels"
    side = page.locator("aside.right")
    box = side.bounding_box()
    assert box is not None
    assert box["y"] + box["height"] <= 700
    assert side.evaluate("(element) => element.scrollHeight > element.clientHeight")
    alias = page.get_by_test_id("alias-row")
    alias_box, panel_box = alias.bounding_box(), page.locator("aside.right").bounding_box()
    assert alias_box is not None
    assert panel_box is not None
    assert alias_box["x"] + alias_box["width"] <= panel_box["x"] + panel_box["width"] + 1
