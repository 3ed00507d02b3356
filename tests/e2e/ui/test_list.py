"""Signing in, the project switcher and the workflow list."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.definitions import linear
from tests.e2e.ui.conftest import Server, new_context, screenshot


def test_signing_in_shows_the_workflows_of_the_project(
    browser: Any, server: Server, project: str
) -> None:
    server.api(
        "POST",
        f"/projects/{project}/workflows",
        json={"name": "Order sync", "definition": linear()},
    )
    context = new_context(browser, server, signed_in=False)
    page = context.new_page()
    page.goto(f"/p/{project}")
    expect(page).to_have_url(f"{server.url}/login?next=%2Fp%2F{project}")
    screenshot(page, "login")
    page.get_by_label("Email").fill(server.email)
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    page.get_by_label("Password").fill(server.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{server.url}/p/{project}")
    rows = page.get_by_test_id("workflow-list").get_by_test_id("workflow-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Order sync")
    expect(rows.first.get_by_test_id("badge-draft")).to_be_visible()
    context.close()
