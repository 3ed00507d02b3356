"""History, compare on the graph, publish, and concurrent edits."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.definitions import edited, linear
from tests.e2e.ui.conftest import Server, new_context, screenshot
from tests.e2e.ui.helpers import create_workflow, head, open_editor, save, select_node


def test_two_saves_make_two_versions_in_history(page: Any, server: Server, project: str) -> None:
    key = create_workflow(server, project, "Order sync", linear())
    open_editor(page, project, key)
    select_node(page, "send")
    page.get_by_label("URL *").fill("https://api.example.com/v2/orders")
    save(page, "use the v2 API")
    select_node(page, "shape")
    page.get_by_label("Expression *").fill("{id: id}")
    page.keyboard.press("Control+s")
    expect(page.get_by_test_id("base-version")).to_have_text("v3")

    page.get_by_test_id("history-button").click()
    expect(page.get_by_test_id("base-version")).to_have_text("v3")  # no edit on blur
    rows = page.get_by_test_id("version-row")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_have_attribute("data-version", "3")
    expect(rows.nth(1)).to_contain_text("use the v2 API")
    expect(rows.nth(1)).to_contain_text(server.email)
    expect(rows.nth(2)).to_contain_text("draft")
    screenshot(page, "history")
    assert head(server, project, key)["version"] == 3


def test_compare_highlights_the_changed_node(page: Any, server: Server, project: str) -> None:
    key = create_workflow(server, project, "Order sync", linear())
    response = server.api(
        "PUT",
        f"/projects/{project}/workflows/{key}",
        json={"definition": edited(linear(), "send", "url", "https://new.example.com")},
        headers={"If-Match": '"1"'},
    )
    assert response.status_code == 200, response.text
    open_editor(page, project, key)
    page.get_by_test_id("history-button").click()
    expect(page.get_by_test_id("compare-button")).to_be_disabled()
    rows = page.get_by_test_id("version-row")
    expect(rows).to_have_count(2)
    for row in rows.all():
        row.get_by_test_id("compare-pick").check()
    page.get_by_test_id("compare-button").click()

    expect(page.get_by_test_id("compare-banner")).to_contain_text("0 added")
    expect(page.get_by_test_id("compare-banner")).to_contain_text("1 changed")
    expect(page.get_by_test_id("node-send")).to_have_attribute("data-diff", "changed")
    expect(page.get_by_test_id("node-shape")).to_have_attribute("data-diff", "unchanged")
    change = page.get_by_test_id("change-send")
    expect(change).to_contain_text("/config/url")
    expect(change).to_contain_text("https://api.example.com/orders")
    expect(change).to_contain_text("https://new.example.com")
    screenshot(page, "compare")
    expect(page).to_have_url(f"{server.url}/p/{project}/w/{key}?compare=1..2")

    page.get_by_test_id("compare-close").click()
    expect(page.get_by_test_id("node-send")).not_to_have_attribute("data-diff", "changed")


def test_publishing_with_a_tag_marks_the_version_published(
    page: Any, server: Server, project: str
) -> None:
    key = create_workflow(server, project, "Order sync", linear())
    open_editor(page, project, key)
    page.get_by_test_id("publish-button").click()
    page.get_by_test_id("publish-tag").fill("v1.0.0")
    page.get_by_test_id("publish-note").fill("first release")
    page.get_by_test_id("publish-confirm").click()
    expect(page.get_by_test_id("published-badge")).to_have_text("published v1")
    page.get_by_test_id("history-button").click()
    row = page.get_by_test_id("version-row").first
    expect(row.get_by_test_id("version-state")).to_have_text("published")
    expect(row.get_by_test_id("version-tag")).to_have_text("v1.0.0")
    stored = server.api("GET", f"/projects/{project}/workflows/{key}/versions").json()["items"]
    assert stored[0]["tag"] == "v1.0.0"
    assert stored[0]["note"] == "first release"


def test_publishing_an_incomplete_version_shows_why_it_is_refused(
    page: Any, server: Server, project: str
) -> None:
    definition = linear()
    definition["nodes"][1]["config"] = {}
    key = create_workflow(server, project, "Broken", definition)
    open_editor(page, project, key)
    page.get_by_test_id("publish-button").click()
    page.get_by_test_id("publish-confirm").click()
    expect(page.get_by_test_id("publish-error")).to_contain_text("cannot be published")
    assert head(server, project, key)["published_version"] is None


def test_a_concurrent_edit_of_the_same_node_opens_the_conflict_dialog(
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
    expect(dialog).to_be_visible()
    row = dialog.get_by_test_id("conflict-row").first
    expect(row.get_by_test_id("conflict-yours")).to_have_text("https://mine.example.com")
    expect(row.get_by_test_id("conflict-theirs")).to_have_text("https://theirs.example.com")
    screenshot(page, "conflict")

    dialog.get_by_test_id("conflict-reload").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_test_id("base-version")).to_have_text("v2")
    select_node(page, "send")
    expect(page.get_by_label("URL *")).to_have_value("https://theirs.example.com")


def test_a_concurrent_edit_of_another_node_is_merged(
    page: Any, server: Server, project: str
) -> None:
    key = create_workflow(server, project, "Order sync", linear())
    open_editor(page, project, key)
    response = server.api(
        "PUT",
        f"/projects/{project}/workflows/{key}",
        json={"definition": edited(linear(), "send", "url", "https://theirs.example.com")},
        headers={"If-Match": '"1"'},
    )
    assert response.status_code == 200
    select_node(page, "shape")
    page.get_by_label("Expression *").fill("{id: id}")
    page.get_by_test_id("save-button").click()
    expect(page.get_by_test_id("toast").filter(has_text="Merged")).to_be_visible()
    expect(page.get_by_test_id("base-version")).to_have_text("v3")
    nodes = {n["id"]: n for n in head(server, project, key)["definition"]["nodes"]}
    assert nodes["send"]["config"]["url"] == "https://theirs.example.com"
    assert nodes["shape"]["config"]["expression"] == "{id: id}"


def test_revert_and_point_an_alias_from_the_history(
    page: Any, server: Server, project: str
) -> None:
    key = create_workflow(server, project, "Order sync", linear())
    response = server.api(
        "PUT",
        f"/projects/{project}/workflows/{key}",
        json={"definition": edited(linear(), "send", "url", "https://new.example.com")},
        headers={"If-Match": '"1"'},
    )
    assert response.status_code == 200
    server.api("POST", f"/projects/{project}/workflows/{key}/versions/publish", json={"version": 1})
    open_editor(page, project, key)
    page.get_by_test_id("history-button").click()
    old = page.locator("[data-testid=version-row][data-version='1']")
    old.get_by_test_id("version-revert").click()
    page.get_by_test_id("revert-dialog").get_by_test_id("revert-confirm").click()
    expect(page.get_by_test_id("base-version")).to_have_text("v3")
    expect(page.get_by_test_id("version-row")).to_have_count(3)
    assert head(server, project, key)["definition"]["nodes"][2]["config"]["url"] == (
        "https://api.example.com/orders"
    )

    page.get_by_label("Alias version").select_option("1")
    page.get_by_role("button", name="Point alias").click()
    expect(page.get_by_test_id("alias-row")).to_contain_text(
        "production → v1 (admin@meshhook.local)"
    )
    aliases = server.api("GET", f"/projects/{project}/workflows/{key}/aliases").json()
    assert [(alias["name"], alias["version"]) for alias in aliases] == [("production", 1)]
    page.get_by_test_id("alias-remove").click()
    expect(page.get_by_test_id("alias-row")).to_have_count(0)
    assert server.api("GET", f"/projects/{project}/workflows/{key}/aliases").json() == []


def test_a_canary_is_shown_and_promoted_and_the_schedule_listed(
    page: Any, server: Server, project: str
) -> None:
    scheduled = linear()
    scheduled["nodes"][0] = {
        "id": scheduled["nodes"][0]["id"],
        "type": "schedule",
        "config": {"cron": "0 6 * * *", "timezone": "Europe/Berlin"},
    }
    key = create_workflow(server, project, "Nightly", scheduled)
    base = f"/projects/{project}/workflows/{key}"
    server.api("POST", f"{base}/versions/publish", json={})
    changed = edited(scheduled, "send", "url", "https://new.example.com")
    server.api("PUT", base, json={"definition": changed}, headers={"If-Match": '"1"'})
    server.api("POST", f"{base}/versions/publish", json={})
    put = server.api(
        "PUT",
        f"{base}/aliases/production",
        json={"version": 1, "canary": {"version": 2, "weight": 15}},
    )
    assert put.status_code == 200, put.text
    open_editor(page, project, key)
    page.get_by_test_id("history-button").click()
    expect(page.get_by_test_id("alias-canary")).to_have_text("· canary v2 at 15%")
    expect(page.get_by_test_id("schedule")).to_contain_text("cron 0 6 * * * (Europe/Berlin), v1")
    page.get_by_test_id("alias-promote").click()
    expect(page.get_by_test_id("alias-canary")).to_have_count(0)
    expect(page.get_by_test_id("alias-row")).to_contain_text("production → v2")
    aliases = server.api("GET", f"{base}/aliases").json()
    assert [(a["version"], a["canary"]) for a in aliases] == [(2, None)]
    expect(page.get_by_test_id("schedule")).to_contain_text("v2")
