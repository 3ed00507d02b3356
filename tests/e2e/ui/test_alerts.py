"""The alerts settings screen against a real server: a signed webhook
destination, a test alert received by a real HTTP server on 127.0.0.1, a
rule, refused input highlighted, and a viewer who may only read."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from meshhook.security.webhook_auth import verify_signature
from tests.e2e.ui.accessibility import assert_accessible
from tests.e2e.ui.conftest import Server, new_context, screenshot
from tests.e2e.ui.test_settings import _viewer
from tests.integration.test_alerts import Receiver

KEY = "ui-alert-signing-key-42"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    found.thread.start()
    yield found
    found.server.shutdown()
    found.server.server_close()


def test_an_admin_adds_a_destination_sends_a_test_alert_and_adds_a_rule(
    page: Any, server: Server, project: str, receiver: Receiver
) -> None:
    saved = server.api("PUT", f"/projects/{project}/secrets/ALERT_KEY", json={"value": KEY})
    assert saved.status_code == 201, saved.text
    page.goto(f"/p/{project}/settings/alerts")
    expect(page.get_by_test_id("alert-destinations-empty")).to_be_visible()
    expect(page.get_by_test_id("alert-rules-empty")).to_be_visible()
    assert_accessible(page, "alerts, empty")

    page.get_by_test_id("alert-destination-add").click()
    dialog = page.get_by_test_id("alert-destination-dialog")
    dialog.get_by_label("Name").fill("ops")
    dialog.get_by_label("URL").fill("ftp://nowhere.example")
    dialog.get_by_label("Signing secret").fill("{{ secrets.ALERT_KEY }}")
    page.get_by_test_id("alert-destination-save").click()
    expect(page.get_by_test_id("alert-destination-url-error")).to_be_visible()
    expect(dialog.get_by_label("URL")).to_have_attribute("aria-invalid", "true")
    dialog.get_by_label("URL").fill(receiver.url)
    assert_accessible(page, "alerts, destination dialog")
    page.get_by_test_id("alert-destination-save").click()
    expect(dialog).to_be_hidden()
    row = page.get_by_test_id("alert-destination-row")
    expect(row).to_contain_text("ops")
    expect(row).to_contain_text("{{ secrets.ALERT_KEY }}")
    expect(row).not_to_contain_text("t0ps3cret"), "a literal URL's query is not shown"

    row.get_by_test_id("alert-destination-test").click()
    expect(
        page.get_by_test_id("toast").filter(has_text="Test alert delivered to ops")
    ).to_be_visible()
    expect(page.get_by_test_id("alert-test-result")).to_contain_text("answered 200")
    headers, body = receiver.requests[0]
    verify_signature(headers["x-meshhook-signature"], KEY, body, time.time(), 300)
    assert headers["x-meshhook-event"] == "alert.test"
    expect(page.get_by_test_id("alert-delivery-row")).to_have_attribute("data-status", "delivered")
    assert KEY not in page.content()

    page.get_by_test_id("alert-rule-add").click()
    rule = page.get_by_test_id("alert-rule-dialog")
    rule.get_by_label("Name").fill("too many failures")
    rule.get_by_label("Alert when").select_option("failure_rate")
    page.get_by_test_id("alert-rule-save").click()
    expect(rule.get_by_test_id("alert-rule-threshold")).to_have_attribute("aria-invalid", "true")
    rule.get_by_label("Threshold (%)").fill("20")
    rule.get_by_label("Cool-down (seconds)").fill("600")
    expect(rule.get_by_label("ops")).to_be_checked()
    page.get_by_test_id("alert-rule-save").click()
    expect(rule).to_be_hidden()
    rule_row = page.get_by_test_id("alert-rule-row")
    expect(rule_row).to_contain_text("Failure rate above 20 % over 1h (at least 10 runs)")
    expect(rule_row).to_contain_text("600 s")
    expect(rule_row.get_by_test_id("alert-rule-state")).to_contain_text("OK")
    assert_accessible(page, "alerts, one of each")
    screenshot(page, "settings-alerts")

    rule_row.get_by_test_id("alert-rule-edit").click()
    expect(rule.get_by_label("Alert when")).to_be_disabled()
    rule.get_by_label("Cool-down (seconds)").fill("300")
    page.get_by_test_id("alert-rule-save").click()
    expect(rule).to_be_hidden()
    expect(rule_row).to_contain_text("300 s")
    rule_row.get_by_test_id("alert-rule-toggle").click()
    expect(rule_row.get_by_test_id("alert-rule-state")).to_contain_text("Off")
    [stored] = server.api("GET", f"/projects/{project}/alerts/rules").json()
    assert stored["enabled"] is False
    assert stored["threshold"] == 20
    assert stored["cooldown_seconds"] == 300
    page.reload()
    expect(
        page.get_by_test_id("alert-rule-row").get_by_test_id("alert-rule-state")
    ).to_contain_text("Off")
    page.get_by_test_id("alert-rule-delete").click()
    expect(page.get_by_test_id("alert-rules-empty")).to_be_visible()
    assert server.api("GET", f"/projects/{project}/alerts/rules").json() == []


@pytest.fixture
def second_receiver() -> Iterator[Receiver]:
    found = Receiver()
    found.thread.start()
    yield found
    found.server.shutdown()
    found.server.server_close()


def test_an_admin_edits_a_destinations_url_and_the_next_alert_goes_there(
    page: Any, server: Server, project: str, receiver: Receiver, second_receiver: Receiver
) -> None:
    saved = server.api("PUT", f"/projects/{project}/secrets/ALERT_KEY", json={"value": KEY})
    assert saved.status_code == 201, saved.text
    made = server.api(
        "POST",
        f"/projects/{project}/alerts/destinations",
        json={
            "name": "ops",
            "kind": "webhook",
            "url": receiver.url,
            "signing_secret": "{{ secrets.ALERT_KEY }}",
        },
    )
    assert made.status_code == 201, made.text
    page.goto(f"/p/{project}/settings/alerts")
    row = page.get_by_test_id("alert-destination-row")
    row.get_by_test_id("alert-destination-edit").click()
    dialog = page.get_by_test_id("alert-destination-dialog")
    expect(dialog.get_by_label("Name")).to_have_value("ops")
    expect(dialog.get_by_label("Kind")).to_be_disabled()
    expect(dialog.get_by_label("URL")).to_have_value("")
    expect(dialog).to_contain_text("Leave empty to keep the current URL")
    expect(dialog.get_by_label("Signing secret")).to_have_value("{{ secrets.ALERT_KEY }}")

    dialog.get_by_label("URL").fill("http://169.254.169.254/latest")
    page.get_by_test_id("alert-destination-save").click()
    expect(page.get_by_test_id("alert-destination-url-error")).to_be_visible()
    expect(dialog.get_by_label("URL")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page, "alerts, destination edit refused")

    dialog.get_by_label("Name").fill("pager")
    dialog.get_by_label("URL").fill(second_receiver.url)
    page.get_by_test_id("alert-destination-save").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_test_id("toast").filter(has_text="Destination pager saved")).to_be_visible()
    expect(row).to_have_attribute("data-name", "pager")
    port = second_receiver.server.server_address[1]
    expect(row).to_contain_text(f"http://127.0.0.1:{port}/…")
    expect(row).not_to_contain_text("t0ps3cret")

    row.get_by_test_id("alert-destination-test").click()
    expect(page.get_by_test_id("alert-test-result")).to_contain_text("answered 200")
    assert receiver.requests == [], "the old URL gets nothing"
    [(headers, body)] = second_receiver.requests
    verify_signature(headers["x-meshhook-signature"], KEY, body, time.time(), 300)
    [stored] = server.api("GET", f"/projects/{project}/alerts/destinations").json()
    assert stored["name"] == "pager"
    assert stored["signing_secret"] == "{{ secrets.ALERT_KEY }}"
    audit = server.api(
        "GET", f"/projects/{project}/audit", params={"action": "alert_destination.update"}
    ).json()["items"]
    assert [entry["summary"]["name"] for entry in audit] == ["pager"]


def test_a_viewer_reads_alerts_and_is_told_why_nothing_can_be_changed(
    browser: Any, server: Server, project: str
) -> None:
    server.api("PUT", f"/projects/{project}/secrets/SLACK_URL", json={"value": "https://x.io/h"})
    server.api(
        "POST",
        f"/projects/{project}/alerts/destinations",
        json={"name": "chat", "kind": "slack", "url": "{{ secrets.SLACK_URL }}"},
    )
    made = server.api(
        "POST",
        f"/projects/{project}/alerts/rules",
        json={"name": "lag", "kind": "queue_lag", "threshold": 90, "destinations": ["chat"]},
    )
    assert made.status_code == 201, made.text
    email, password = _viewer(server, project)
    context = new_context(browser, server, signed_in=False)
    assert context.request.post(
        "/api/v1/auth/login", data={"email": email, "password": password}
    ).ok
    page = context.new_page()
    page.goto(f"/p/{project}/settings/alerts")
    expect(page.get_by_test_id("alerts-readonly")).to_contain_text("needs the admin role")
    expect(page.get_by_test_id("alert-rule-row")).to_contain_text("Queue lag above 90 s")
    expect(page.get_by_test_id("alert-destination-row")).to_contain_text("{{ secrets.SLACK_URL }}")
    for control in (
        "alert-destination-add",
        "alert-rule-add",
        "alert-destination-test",
        "alert-destination-edit",
        "alert-rule-edit",
        "alert-rule-delete",
    ):
        expect(page.get_by_test_id(control)).to_have_count(0)
    assert_accessible(page, "alerts as a viewer")
    context.close()
