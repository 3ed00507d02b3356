"""The CLI for canaries (set, promote, drop), schedules, and runs list --version."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from tests.factories import Member
from tests.integration.conftest import Cli

W = "/api/v1/projects/alpha/workflows"


def definition(label: str, trigger: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "nodes": [
            trigger or {"id": "start", "type": "manual", "config": {}},
            {"id": "mark", "type": "transform", "config": {"expression": f"'{label}'"}},
        ],
        "edges": [{"from": (trigger or {"id": "start"})["id"], "to": "mark"}],
        "settings": {},
    }


def two_versions(api: TestClient, owner: Member) -> None:
    h = owner.headers
    assert api.post(
        W, json={"name": "Split", "definition": definition("one")}, headers=h
    ).is_success
    api.post(f"{W}/split/versions/publish", json={}, headers=h)
    api.put(f"{W}/split", json={"definition": definition("two")}, headers={**h, "If-Match": '"1"'})
    api.post(f"{W}/split/versions/publish", json={}, headers=h)


def test_canary_set_list_promote_and_drop(client: TestClient, owner: Member, cli: Cli) -> None:
    api, run = client, cli
    two_versions(api, owner)
    out = run("workflows", "alias", "split", "production", "1", "--canary", "2", "--weight", "20")
    assert "production → version 1, canary version 2 at 20%" in out.stdout
    assert "v2 at 20%" in run("workflows", "alias", "split", "--list").stdout
    shown = run("workflows", "show", "split").stdout
    assert "production → version 1 (canary version 2 at 20%)" in shown
    assert (
        "go together"
        in run("workflows", "alias", "split", "production", "1", "--canary", "2", code=2).output
    )
    promoted = run("workflows", "alias", "split", "production", "--promote", "--json")
    assert (json.loads(promoted.stdout)["version"], json.loads(promoted.stdout)["canary"]) == (
        2,
        None,
    )
    assert (
        "has no canary"
        in run("workflows", "alias", "split", "production", "--drop-canary", code=1).output
    )
    run("workflows", "alias", "split", "production", "2", "--canary", "1", "--weight", "5")
    dropped = run("workflows", "alias", "split", "production", "--drop-canary")
    assert dropped.stdout.strip() == "split: production → version 2"


def test_runs_list_by_version(client: TestClient, owner: Member, cli: Cli) -> None:
    api, run = client, cli
    two_versions(api, owner)
    for version in (1, 2, 2):
        api.post(f"{W}/split/runs", json={"version": version}, headers=owner.headers)
    listed = json.loads(
        run("runs", "list", "--workflow", "split", "--version", "2", "--json").stdout
    )
    assert [item["version"] for item in listed["items"]] == [2, 2]


def test_workflows_schedule_shows_the_next_fire_times(
    client: TestClient, owner: Member, cli: Cli
) -> None:
    api, run = client, cli
    trigger = {"id": "tick", "type": "schedule", "config": {"cron": "30 6 * * *"}}
    api.post(
        W, json={"name": "Daily", "definition": definition("d", trigger)}, headers=owner.headers
    )
    assert "no schedule trigger" in run("workflows", "schedule", "daily").stdout
    api.post(f"{W}/daily/versions/publish", json={}, headers=owner.headers)
    shown = run("workflows", "schedule", "daily", "--count", "2").stdout
    assert "tick: cron 30 6 * * * (UTC), version 1, catch up latest" in shown
    assert shown.count("T06:30:00+00:00") == 2
    details = run("workflows", "show", "daily").stdout
    assert "schedule tick: next " in details
    assert details.count("T06:30:00+00:00") == 3
