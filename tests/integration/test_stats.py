"""Run statistics from the rollups, on both databases: counts by status,
success rate, percentiles, error codes and the failing and slowest nodes, per
project and per workflow; test runs are not counted; bad windows are 422."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from meshhook.app import create_app
from meshhook.settings import Settings
from meshhook.store.db import Database
from tests.factories import Member, assert_problem
from tests.integration.conftest import Cli
from tests.integration.test_runs import BASE, finished, transforms, waiting, workflow


@pytest.fixture
def stats_runner(tmp_path: Path, db_url: str, db: Database) -> Iterator[TestClient]:
    """The app with in-process workers; http_call may not reach loopback."""
    settings = Settings(home=tmp_path / "home", database_url=db_url, workers=2)
    with TestClient(create_app(settings, db, run_workers=True)) as client:
        yield client


def failing() -> dict[str, Any]:
    """manual -> http_call to a loopback address the engine refuses (no retries)."""
    return {
        "nodes": [
            {"id": "start", "type": "manual", "config": {}},
            {
                "id": "call",
                "type": "http_call",
                "config": {"method": "GET", "url": "http://127.0.0.1:9/nothing"},
            },
        ],
        "edges": [{"from": "start", "to": "call"}],
        "settings": {},
    }


def start(client: TestClient, owner: Member, key: str, body: dict[str, Any]) -> str:
    started = client.post(f"{BASE}/workflows/{key}/runs", json=body, headers=owner.headers)
    assert started.status_code == 202, started.text
    run_id: str = started.json()["id"]
    return run_id


def test_stats_count_finished_runs_per_project_and_workflow(
    stats_runner: TestClient, owner: Member
) -> None:
    client = stats_runner
    good = workflow(client, owner, transforms(), publish=True)
    bad = workflow(client, owner, failing(), publish=True)
    slow = workflow(client, owner, waiting(), publish=True)
    for n in range(5):
        finished(client, owner, start(client, owner, good, {"input": {"n": n}}))
    for _ in range(3):
        assert finished(client, owner, start(client, owner, bad, {}))["status"] == "failed"
    waiting_run = start(client, owner, slow, {})
    cancelled = client.post(f"{BASE}/runs/{waiting_run}/cancel", headers=owner.headers)
    assert cancelled.status_code == 202, cancelled.text
    finished(client, owner, start(client, owner, good, {"input": {"n": 1}, "test": True}))

    project = client.get(f"{BASE}/stats", params={"window": "1h"}, headers=owner.headers)
    assert project.status_code == 200, project.text
    figures = project.json()
    assert figures["window"] == "1h"
    assert figures["runs"] == {
        "finished": 9,
        "succeeded": 5,
        "failed": 3,
        "cancelled": 1,
        "dead_lettered": 3,
    }
    assert figures["success_rate"] == round(5 / 9, 4)
    assert figures["duration_ms"]["p50"] is not None
    assert figures["duration_ms"]["p50"] <= figures["duration_ms"]["p99"]
    assert figures["queue_lag_ms"]["p99"] is not None
    codes = {error["code"]: error["count"] for error in figures["errors"]}
    assert codes["http.address_refused"] == 3
    assert codes["run.cancelled"] == 1
    assert figures["failing_nodes"][0] == {
        **figures["failing_nodes"][0],
        "workflow": bad,
        "node_id": "call",
        "steps": 3,
        "failures": 3,
    }
    assert {node["node_id"] for node in figures["slowest_nodes"]} >= {"start", "double", "sum"}

    one = client.get(f"{BASE}/workflows/{good}/stats", headers=owner.headers).json()
    assert one["window"] == "24h"
    assert one["runs"]["finished"] == 5, "the test run is not counted"
    assert one["success_rate"] == 1.0
    assert one["failing_nodes"] == []
    assert one["errors"] == []

    # The chart series: every hour of the window, this hour holding the runs.
    series = client.get(
        f"{BASE}/stats/series", params={"window": "24h"}, headers=owner.headers
    ).json()
    assert series["bucket_seconds"] == 3600
    assert len(series["points"]) in (25, 26)  # the hour 24 h ago, up to this one
    assert [p["at"] for p in series["points"]] == sorted(p["at"] for p in series["points"])
    assert sum(p["succeeded"] for p in series["points"]) == 5
    assert sum(p["failed"] for p in series["points"]) == 3
    assert sum(p["cancelled"] for p in series["points"]) == 1
    assert series["points"][0]["success_rate"] is None
    assert series["points"][0]["duration_ms"] == {"p50": None, "p95": None, "p99": None}
    month = client.get(
        f"{BASE}/workflows/{good}/stats/series", params={"window": "30d"}, headers=owner.headers
    ).json()
    assert month["bucket_seconds"] == 86400
    assert len(month["points"]) == 31
    assert sum(p["succeeded"] for p in month["points"]) == 5
    assert month["points"][-1]["success_rate"] == 1.0


def test_a_project_without_runs_has_empty_figures(client: TestClient, owner: Member) -> None:
    figures = client.get(f"{BASE}/stats", params={"window": "30d"}, headers=owner.headers).json()
    assert figures["runs"]["finished"] == 0
    assert figures["success_rate"] is None
    assert figures["duration_ms"] == {"p50": None, "p95": None, "p99": None}


def test_an_unknown_window_or_workflow_is_a_clear_problem(
    client: TestClient, owner: Member
) -> None:
    bad_window = client.get(f"{BASE}/stats", params={"window": "2h"}, headers=owner.headers)
    assert_problem(bad_window, 422)
    missing = client.get(f"{BASE}/workflows/nope/stats", headers=owner.headers)
    assert_problem(missing, 404)


def test_the_stats_command_prints_the_figures(client: TestClient, owner: Member, cli: Cli) -> None:
    key = workflow(client, owner, waiting(), publish=True)
    for _ in range(2):  # no workers here: cancelling finishes them
        run_id = start(client, owner, key, {})
        cancelled = client.post(f"{BASE}/runs/{run_id}/cancel", headers=owner.headers)
        assert cancelled.status_code == 202
    shown = cli("stats", "--window", "1h")
    assert "project alpha, last 1h: 2 runs finished" in shown.stdout
    assert "2 cancelled" in shown.stdout
    assert "success rate 0.0%" in shown.stdout
    assert "run.cancelled" in shown.stdout
    as_json = cli("stats", "--workflow", key, "--json")
    assert '"cancelled": 2' in as_json.stdout or '"cancelled":2' in as_json.stdout
    refused = cli("stats", "--window", "2h", code=2)
    assert "1h, 24h, 7d, 30d" in refused.output
