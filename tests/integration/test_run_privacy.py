"""Runs as the API shows them: personal data and credentials in payloads
redacted for viewers and editors (and admins unless they ask), the workflow's
``settings.redact`` pointers always hidden; an admin's reveal is audited and
anyone else's refused. On both databases."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from meshhook.domain.accounts import Role
from meshhook.store.db import Database
from tests.factories import Member, add_member, assert_problem, make_user
from tests.integration.test_runs import BASE, finished, runner, workflow

__all__ = ["runner"]  # the fixture, imported for its use below

SECRETS = ("ann@example.com", "123-45-6789", "4111 1111 1111 1111", "Ann Example")


def mirror() -> dict[str, Any]:
    """manual -> transform that outputs its input; two pointers always hidden."""
    return {
        "nodes": [
            {"id": "start", "type": "manual", "config": {}},
            {"id": "echo", "type": "transform", "config": {"expression": "@"}},
        ],
        "edges": [{"from": "start", "to": "echo"}],
        "settings": {"redact": ["/ssn", "/items/*/name"]},
    }


PAYLOAD = {
    "email": "ann@example.com",
    "ssn": "123-45-6789",
    "items": [{"name": "Ann Example", "qty": 2}],
    "note": "paid with 4111 1111 1111 1111",
    "order": "A-1001",
}
HIDDEN = {
    "email": "[redacted:email]",
    "ssn": "[redacted:field]",
    "items": [{"name": "[redacted:field]", "qty": 2}],
    "note": "paid with [redacted:card_number]",
    "order": "A-1001",
}


def test_viewers_and_editors_see_runs_redacted_and_cannot_reveal(
    runner: TestClient, db: Database, owner: Member
) -> None:
    key = workflow(runner, owner, mirror(), publish=True)
    started = runner.post(
        f"{BASE}/workflows/{key}/runs", json={"input": PAYLOAD}, headers=owner.headers
    )
    run_id = started.json()["id"]
    finished(runner, owner, run_id)
    for role in (Role.VIEWER, Role.EDITOR):
        member = make_user(db, f"{role}@example.com")
        add_member(db, "alpha", member, role)
        shown = runner.get(f"{BASE}/runs/{run_id}", headers=member.headers)
        assert shown.status_code == 200
        body = shown.json()
        assert body["input"] == HIDDEN
        assert body["output"] == HIDDEN
        assert body["steps"][1]["output"] == HIDDEN
        reads = [
            shown,
            runner.get(f"{BASE}/runs/{run_id}/events", headers=member.headers),
            runner.get(f"{BASE}/runs", headers=member.headers),
            runner.get(f"{BASE}/runs/{run_id}/replay", headers=member.headers),
            runner.get(f"{BASE}/runs/{run_id}/events/stream", headers=member.headers),
        ]
        for read in reads:
            assert read.status_code == 200, read.text
            for secret in SECRETS:
                assert secret not in read.text, (read.url, secret)
        for path in (f"/runs/{run_id}", f"/runs/{run_id}/events"):
            refused = runner.get(f"{BASE}{path}", params={"reveal": "true"}, headers=member.headers)
            assert_problem(refused, 403)


def test_an_admin_reveals_a_run_and_the_reveal_is_audited(
    runner: TestClient, db: Database, owner: Member
) -> None:
    key = workflow(runner, owner, mirror(), publish=True)
    run_id = runner.post(
        f"{BASE}/workflows/{key}/runs", json={"input": PAYLOAD}, headers=owner.headers
    ).json()["id"]
    finished(runner, owner, run_id)
    assert runner.get(f"{BASE}/runs/{run_id}", headers=owner.headers).json()["input"] == HIDDEN
    revealed = runner.get(f"{BASE}/runs/{run_id}", params={"reveal": "true"}, headers=owner.headers)
    assert revealed.status_code == 200
    assert revealed.json()["input"] == PAYLOAD
    events = runner.get(
        f"{BASE}/runs/{run_id}/events", params={"reveal": "true"}, headers=owner.headers
    )
    assert "ann@example.com" in events.text
    audit = runner.get(
        f"{BASE}/audit", params={"action": "run.reveal"}, headers=owner.headers
    ).json()["items"]
    assert [entry["object_id"] for entry in audit] == [run_id, run_id]
    assert {entry["actor"] for entry in audit} == {owner.email}


def test_a_malformed_redact_pointer_is_a_problem_that_blocks_publishing(
    client: TestClient, owner: Member
) -> None:
    body = mirror()
    body["settings"]["redact"] = ["ssn"]  # not a pointer: no leading slash
    created = client.post(
        f"{BASE}/workflows", json={"name": "Bad", "definition": body}, headers=owner.headers
    )
    assert created.status_code == 201, created.text
    assert [p["path"] for p in created.json()["problems"]] == ["/settings/redact/0"]
    published = client.post(
        f"{BASE}/workflows/{created.json()['key']}/versions/publish", json={}, headers=owner.headers
    )
    assert_problem(published, 422)


def quoting() -> dict[str, Any]:
    """A run that fails with a message quoting its input: the delay's ``until``
    is not a timestamp (``'REF-kq7zx Lyon' is not an ISO-8601 timestamp``)."""
    return {
        "nodes": [
            {"id": "start", "type": "manual", "config": {}},
            {
                "id": "wait",
                "type": "delay",
                "config": {"until": "join(' ', [customer.ref, customer.city])"},
            },
        ],
        "edges": [{"from": "start", "to": "wait"}],
        "settings": {"redact": ["/customer/ref"]},
    }


def test_an_error_message_quoting_a_pointed_value_hides_it_in_the_console(
    runner: TestClient, owner: Member
) -> None:
    key = workflow(runner, owner, quoting(), publish=True)
    started = runner.post(
        f"{BASE}/workflows/{key}/runs",
        json={"input": {"customer": {"ref": "REF-kq7zx", "city": "Lyon"}}},
        headers=owner.headers,
    )
    run_id = started.json()["id"]
    assert finished(runner, owner, run_id)["status"] == "failed"
    reads = {
        "run": runner.get(f"{BASE}/runs/{run_id}", headers=owner.headers),
        "events": runner.get(f"{BASE}/runs/{run_id}/events", headers=owner.headers),
        "list": runner.get(f"{BASE}/runs", headers=owner.headers),
        "replay": runner.get(f"{BASE}/runs/{run_id}/replay", headers=owner.headers),
        "stream": runner.get(f"{BASE}/runs/{run_id}/events/stream", headers=owner.headers),
    }
    for name, read in reads.items():
        assert read.status_code == 200, (name, read.text)
        assert "REF-kq7zx" not in read.text, name
    message = reads["run"].json()["error"]["message"]
    assert message == "'[redacted:field] Lyon' is not an ISO-8601 timestamp"
    revealed = runner.get(f"{BASE}/runs/{run_id}", params={"reveal": "true"}, headers=owner.headers)
    assert "'REF-kq7zx Lyon'" in revealed.json()["error"]["message"]
