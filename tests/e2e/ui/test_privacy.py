"""Privacy in a real browser: an admin adds a redaction pattern and a
workflow's pointers on the settings screen, the run console shows the run
redacted, and the admin-only Reveal toggle refetches it as recorded (audited);
a viewer has no Reveal toggle."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.e2e.ui.accessibility import assert_accessible
from tests.e2e.ui.conftest import Server, new_context, screenshot
from tests.e2e.ui.test_settings import _viewer
from tests.e2e.ui.test_stats import echo, published, wait_finished

PAYLOAD = {"employee": "EMP-123456", "badge": "B-77", "mail": "ann@example.com"}


def test_an_admin_sets_redaction_rules_and_reveals_a_run(
    page: Any, server: Server, project: str
) -> None:
    key = published(server, project, "Echo", echo())
    started = server.api(
        "POST", f"/projects/{project}/workflows/{key}/runs", json={"input": PAYLOAD}
    )
    run_id = started.json()["id"]
    assert wait_finished(server, project, run_id) == "succeeded"

    page.goto(f"/p/{project}/settings/redaction")
    page.get_by_test_id("redaction-pattern-add").click()
    page.get_by_test_id("redaction-pattern-name").fill("slow")
    page.get_by_test_id("redaction-pattern-regex").fill("(a+)+$")
    page.get_by_test_id("redaction-pattern-save").click()
    expect(page.get_by_test_id("redaction-pattern-error")).to_contain_text("backtracks")
    page.get_by_test_id("redaction-pattern-name").fill("employee_id")
    page.get_by_test_id("redaction-pattern-regex").fill(r"EMP-\d{6}")
    page.get_by_test_id("redaction-pattern-save").click()
    expect(page.get_by_test_id("redaction-pattern-row")).to_have_attribute(
        "data-name", "employee_id"
    )
    page.get_by_test_id("redaction-pointer-add").click()
    page.get_by_test_id("redaction-pointer-workflow").fill(key)
    page.get_by_test_id("redaction-pointer-list").fill("/badge")
    page.get_by_test_id("redaction-pointer-save").click()
    expect(page.get_by_test_id("redaction-pointer-row")).to_contain_text("/badge")
    assert_accessible(page, "redaction settings")
    screenshot(page, "settings-redaction")

    page.goto(f"/p/{project}/runs/{run_id}")
    expect(page.get_by_test_id("run-status")).to_have_text("succeeded")
    page.get_by_test_id("run-graph").get_by_text("echo", exact=True).first.click()
    details = page.locator(".side")
    expect(details).to_contain_text("[redacted:employee_id]")
    expect(details).to_contain_text("[redacted:field]")
    expect(details).to_contain_text("[redacted:email]")
    assert "EMP-123456" not in page.content()
    reveal = page.get_by_test_id("run-reveal")
    expect(reveal).to_have_attribute("aria-pressed", "false")

    reveal.click()
    expect(page.get_by_test_id("run-revealed")).to_contain_text("written to the audit log")
    expect(page.get_by_test_id("run-reveal")).to_have_attribute("aria-pressed", "true")
    assert page.url.endswith("?reveal=true")
    page.get_by_test_id("run-graph").get_by_text("echo", exact=True).first.click()
    expect(page.locator(".side")).to_contain_text("EMP-123456")
    expect(page.locator(".side")).to_contain_text("ann@example.com")
    assert_accessible(page, "revealed run")
    screenshot(page, "run-revealed")
    audit = server.api("GET", f"/projects/{project}/audit", params={"action": "run.reveal"})
    assert {entry["object_id"] for entry in audit.json()["items"]} == {run_id}

    page.get_by_test_id("run-reveal").click()
    expect(page.get_by_test_id("run-revealed")).to_have_count(0)
    expect(page.get_by_test_id("run-reveal")).to_have_attribute("aria-pressed", "false")


def test_a_viewer_has_no_reveal_toggle(browser: Any, server: Server, project: str) -> None:
    key = published(server, project, "Echo", echo())
    run_id = server.api(
        "POST", f"/projects/{project}/workflows/{key}/runs", json={"input": PAYLOAD}
    ).json()["id"]
    email, password = _viewer(server, project)
    context = new_context(browser, server, signed_in=False)
    assert context.request.post(
        "/api/v1/auth/login", data={"email": email, "password": password}
    ).ok
    page = context.new_page()
    page.goto(f"/p/{project}/runs/{run_id}?reveal=true")
    expect(page.get_by_test_id("run-status")).to_be_visible()
    expect(page.get_by_test_id("run-reveal")).to_have_count(0)
    expect(page.get_by_test_id("run-revealed")).to_have_count(0)
    assert "ann@example.com" not in page.content()
    context.close()
