"""The project settings screens: secrets, tokens, members, audit log, webhooks."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.e2e.ui.accessibility import assert_accessible
from tests.e2e.ui.conftest import Server, screenshot

SECRET_VALUE = "sk-live-7f3a9c1e-never-shown"


def secret_value_is_nowhere(page: Any, value: str) -> None:
    """Neither the markup nor any field's live value holds the secret."""
    assert value not in page.content()
    live = page.evaluate(
        "() => [...document.querySelectorAll('input, textarea')].map(e => e.value).join('\\n')"
    )
    assert value not in live
    assert value not in page.evaluate("document.body.innerText")


def test_secrets_are_added_replaced_and_deleted_without_the_value_being_rendered(
    page: Any, server: Server, project: str
) -> None:
    page.goto(f"/p/{project}/settings/secrets")
    expect(page.get_by_test_id("secrets-empty")).to_be_visible()
    assert_accessible(page, "secrets, empty")

    page.get_by_test_id("secret-add").click()
    dialog = page.get_by_test_id("secret-dialog")
    dialog.get_by_label("Name").fill("CRM_API_TOKEN")
    dialog.get_by_label("Value").fill(SECRET_VALUE)
    assert dialog.get_by_label("Value").get_attribute("type") == "password"
    dialog.get_by_label("Description (optional)").fill("CRM production key")
    assert_accessible(page, "secrets, add dialog")
    page.get_by_test_id("secret-save").click()
    expect(dialog).to_be_hidden()

    row = page.get_by_test_id("secret-row")
    expect(row).to_have_count(1)
    expect(page.get_by_test_id("secrets-list")).to_be_visible()
    expect(row).to_contain_text("CRM_API_TOKEN")
    expect(row).to_contain_text("CRM production key")
    expect(row).to_contain_text(server.email)
    expect(row).to_contain_text("never")
    secret_value_is_nowhere(page, SECRET_VALUE)
    listed = server.api("GET", f"/projects/{project}/secrets").json()
    assert [item["name"] for item in listed] == ["CRM_API_TOKEN"]
    assert_accessible(page, "secrets, one row")
    screenshot(page, "settings-secrets")

    row.get_by_test_id("secret-replace").click()
    expect(dialog.get_by_label("Name")).to_have_count(0)
    expect(dialog.get_by_label("New value")).to_have_value("")
    dialog.get_by_label("New value").fill(SECRET_VALUE + "-2")
    page.get_by_test_id("secret-save").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_test_id("toast").filter(has_text="CRM_API_TOKEN replaced")).to_be_visible()
    secret_value_is_nowhere(page, SECRET_VALUE)
    page.reload()
    expect(page.get_by_test_id("secret-row")).to_have_count(1)
    secret_value_is_nowhere(page, SECRET_VALUE)

    page.get_by_test_id("secret-delete").click()
    confirm = page.get_by_test_id("secret-delete-dialog")
    expect(confirm).to_contain_text("CRM_API_TOKEN")
    confirm.get_by_role("button", name="Cancel").click()
    expect(page.get_by_test_id("secret-row")).to_have_count(1)
    page.get_by_test_id("secret-delete").click()
    page.get_by_test_id("secret-delete-confirm").click()
    expect(page.get_by_test_id("secrets-empty")).to_be_visible()
    assert server.api("GET", f"/projects/{project}/secrets").json() == []


def test_a_refused_secret_highlights_the_field_with_the_servers_message(
    page: Any, project: str
) -> None:
    page.goto(f"/p/{project}/settings/secrets")
    page.get_by_test_id("secret-add").click()
    dialog = page.get_by_test_id("secret-dialog")
    dialog.get_by_label("Name").fill("1-not-valid")
    dialog.get_by_label("Value").fill(SECRET_VALUE)
    page.get_by_test_id("secret-save").click()
    expect(page.get_by_test_id("secret-error")).to_contain_text("not a valid secret name")
    name = dialog.get_by_label("Name")
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(dialog).to_contain_text("use letters, digits and _")
    assert SECRET_VALUE not in page.content()
    assert_accessible(page, "secrets, refused")
