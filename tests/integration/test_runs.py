"""Runs over the API, driven by an in-process worker, on both databases."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import structlog.testing
from fastapi.testclient import TestClient

from meshhook.app import create_app
from meshhook.domain.accounts import Role
from meshhook.settings import Settings
from meshhook.store.db import Database
from tests.factories import Member, add_member, assert_problem, make_user

BASE = "/api/v1/projects/alpha"


def transforms() -> dict[str, Any]:
    """manual (with an input schema) -> transform -> transform."""
    return {
        "nodes": [
            {
                "id": "start",
                "type": "manual",
                "config": {
                    "input_schema": {
                        "type": "object",
                        "properties": {"n": {"type": "integer"}},
                        "required": ["n"],
                    }
                },
            },
            {
                "id": "double",
                "type": "transform",
                "config": {"expression": "{n: n, twice: [n, n]}"},
            },
            {"id": "sum", "type": "transform", "config": {"expression": "sum(twice)"}},
        ],
        "edges": [{"from": "start", "to": "double"}, {"from": "double", "to": "sum"}],
        "settings": {},
    }


def waiting() -> dict[str, Any]:
    return {
        "nodes": [
            {"id": "start", "type": "manual", "config": {}},
            {"id": "wait", "type": "delay", "config": {"duration_seconds": 3600}},
        ],
        "edges": [{"from": "start", "to": "wait"}],
        "settings": {},
    }


@pytest.fixture
def runner(tmp_path: Path, db_url: str, db: Database) -> Iterator[TestClient]:
    """The app with two in-process workers polling often."""
    settings = Settings(
        home=tmp_path / "home", database_url=db_url, workers=2, http_allow_private=True
    )
    with TestClient(create_app(settings, db, run_workers=True)) as client:
        yield client


def workflow(
    client: TestClient, owner: Member, definition: dict[str, Any], *, publish: bool
) -> str:
    created = client.post(
        f"{BASE}/workflows", json={"name": "Flow", "definition": definition}, headers=owner.headers
    )
    assert created.status_code == 201, created.text
    key: str = created.json()["key"]
    if publish:
        published = client.post(
            f"{BASE}/workflows/{key}/versions/publish", json={}, headers=owner.headers
        )
        assert published.status_code == 200, published.text
    return key


def finished(client: TestClient, owner: Member, run_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        run: dict[str, Any] = client.get(f"{BASE}/runs/{run_id}", headers=owner.headers).json()
        if run["status"] in {"succeeded", "failed", "cancelled"}:
            # Every run a test waits for must replay to what is served.
            replay = client.get(f"{BASE}/runs/{run_id}/replay", headers=owner.headers).json()
            assert replay["equal"] is True, replay
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} did not finish: {run}")


def test_a_run_of_the_published_version_goes_through_its_steps(
    runner: TestClient, owner: Member
) -> None:
    key = workflow(runner, owner, transforms(), publish=True)

    started = runner.post(
        f"{BASE}/workflows/{key}/runs", json={"input": {"n": 21}}, headers=owner.headers
    )

    assert started.status_code == 202, started.text
    assert started.headers["location"] == f"{BASE}/runs/{started.json()['id']}"
    run = finished(runner, owner, started.json()["id"])
    assert run["status"] == "succeeded"
    assert run["output"] == 42
    assert run["version"] == 1
    assert [s["node_id"] for s in run["steps"]] == ["start", "double", "sum"]
    assert all(s["status"] == "succeeded" for s in run["steps"])
    events = runner.get(f"{BASE}/runs/{run['id']}/events", headers=owner.headers).json()
    assert [e["seq"] for e in events["items"]] == list(range(1, len(events["items"]) + 1))
    assert events["items"][0]["type"] == "run.queued"
    assert events["items"][-1]["type"] == "run.succeeded"
    replay = runner.get(f"{BASE}/runs/{run['id']}/replay", headers=owner.headers).json()
    assert replay["equal"] is True


def test_metrics_and_readiness_report_the_engine(runner: TestClient, owner: Member) -> None:
    key = workflow(runner, owner, transforms(), publish=True)
    run = runner.post(
        f"{BASE}/workflows/{key}/runs", json={"input": {"n": 2}}, headers=owner.headers
    ).json()
    finished(runner, owner, run["id"])

    deadline = time.monotonic() + 10  # counted just after the commit the run's status shows
    while 'meshhook_runs_total{status="succeeded"}' not in (metrics := runner.get("/metrics").text):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    ready = runner.get("/readyz").json()

    assert 'meshhook_runs_total{status="succeeded"} 1.0' in metrics
    assert 'meshhook_steps_total{status="succeeded",type="transform"} 2.0' in metrics
    assert "meshhook_queue_lag_seconds" in metrics
    assert ready["workers"]["running"] is True
    assert ready["workers"]["concurrency"] == 2


def test_the_version_is_pinned_when_the_run_is_created(runner: TestClient, owner: Member) -> None:
    key = workflow(runner, owner, transforms(), publish=True)
    changed = transforms()
    changed["nodes"][2]["config"]["expression"] = "`0`"
    runner.put(
        f"{BASE}/workflows/{key}",
        json={"definition": changed},
        headers={**owner.headers, "If-Match": '"1"'},
    )

    run = runner.post(
        f"{BASE}/workflows/{key}/runs", json={"input": {"n": 1}}, headers=owner.headers
    ).json()

    assert finished(runner, owner, run["id"])["output"] == 2
    test_run = runner.post(
        f"{BASE}/workflows/{key}/runs",
        json={"input": {"n": 1}, "test": True},
        headers=owner.headers,
    ).json()
    assert test_run["test"] is True
    assert test_run["version"] == 2
    assert finished(runner, owner, test_run["id"])["output"] == 0
    # The runs list filters by version number (the runs screen's filter).
    for number, expected in ((1, run["id"]), (2, test_run["id"])):
        page = runner.get(f"{BASE}/runs?version={number}", headers=owner.headers).json()
        assert [item["id"] for item in page["items"]] == [expected]
    assert runner.get(f"{BASE}/runs?version=0", headers=owner.headers).status_code == 422


def test_bad_starts_are_problems_and_create_nothing(runner: TestClient, owner: Member) -> None:
    unpublished = workflow(runner, owner, transforms(), publish=False)
    key = workflow(runner, owner, transforms(), publish=True)

    assert_problem(
        runner.post(f"{BASE}/workflows/{unpublished}/runs", json={}, headers=owner.headers), 409
    )
    bad_input = assert_problem(
        runner.post(
            f"{BASE}/workflows/{key}/runs", json={"input": {"n": "x"}}, headers=owner.headers
        ),
        422,
    )
    assert bad_input["errors"][0]["path"] == "/input/n"
    version = assert_problem(
        runner.post(f"{BASE}/workflows/{key}/runs", json={"version": 9}, headers=owner.headers), 422
    )
    assert version["errors"][0]["path"] == "/version"
    alias = assert_problem(
        runner.post(f"{BASE}/workflows/{key}/runs", json={"alias": "nope"}, headers=owner.headers),
        422,
    )
    assert alias["errors"][0]["path"] == "/alias"
    assert runner.get(f"{BASE}/runs", headers=owner.headers).json()["items"] == []


def test_an_idempotency_key_returns_the_first_run(runner: TestClient, owner: Member) -> None:
    key = workflow(runner, owner, transforms(), publish=True)
    headers = {**owner.headers, "Idempotency-Key": "order-7"}

    first = runner.post(f"{BASE}/workflows/{key}/runs", json={"input": {"n": 1}}, headers=headers)
    again = runner.post(f"{BASE}/workflows/{key}/runs", json={"input": {"n": 1}}, headers=headers)

    assert first.status_code == 202
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert len(runner.get(f"{BASE}/runs", headers=owner.headers).json()["items"]) == 1


def test_cancel_ends_a_waiting_run_and_a_finished_run_cannot_be_cancelled(
    runner: TestClient, owner: Member
) -> None:
    key = workflow(runner, owner, waiting(), publish=True)
    run = runner.post(f"{BASE}/workflows/{key}/runs", json={}, headers=owner.headers).json()
    deadline = time.monotonic() + 30
    while (
        runner.get(f"{BASE}/runs/{run['id']}", headers=owner.headers).json()["status"] != "waiting"
    ):
        assert time.monotonic() < deadline
        time.sleep(0.05)

    cancelled = runner.post(f"{BASE}/runs/{run['id']}/cancel", headers=owner.headers)

    assert cancelled.status_code == 202
    assert cancelled.json()["status"] == "cancelled"
    assert {s["node_id"]: s["status"] for s in cancelled.json()["steps"]}["wait"] == "cancelled"
    assert_problem(runner.post(f"{BASE}/runs/{run['id']}/cancel", headers=owner.headers), 409)
    replay = runner.get(f"{BASE}/runs/{run['id']}/replay", headers=owner.headers).json()
    assert replay["equal"] is True


def test_viewers_read_runs_but_only_editors_start_them(
    runner: TestClient, db: Database, owner: Member
) -> None:
    viewer = make_user(db, "vic@example.com")
    add_member(db, "alpha", viewer, Role.VIEWER)
    key = workflow(runner, owner, transforms(), publish=True)
    run = runner.post(
        f"{BASE}/workflows/{key}/runs", json={"input": {"n": 1}}, headers=owner.headers
    ).json()

    assert_problem(
        runner.post(
            f"{BASE}/workflows/{key}/runs", json={"input": {"n": 1}}, headers=viewer.headers
        ),
        403,
    )
    assert runner.get(f"{BASE}/runs/{run['id']}", headers=viewer.headers).status_code == 200
    assert_problem(runner.post(f"{BASE}/runs/{run['id']}/cancel", headers=viewer.headers), 403)


def test_runs_of_another_project_are_not_found(
    runner: TestClient, owner: Member, outsider: Member
) -> None:
    key = workflow(runner, owner, transforms(), publish=True)
    run = runner.post(
        f"{BASE}/workflows/{key}/runs", json={"input": {"n": 1}}, headers=owner.headers
    ).json()

    assert_problem(
        runner.get(f"/api/v1/projects/beta/runs/{run['id']}", headers=outsider.headers), 404
    )
    assert_problem(runner.get(f"{BASE}/runs/{run['id']}", headers=outsider.headers), 404)


Flaky = tuple[str, list[int], list[dict[str, str]]]


@pytest.fixture
def flaky_service() -> Iterator[Flaky]:
    """A local service answering 503 until told otherwise (``statuses[0]``)."""
    statuses = [503]
    seen_headers: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            seen_headers.append(dict(self.headers))
            body = b'{"charged": true}'
            self.send_response(statuses[0])
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", statuses, seen_headers
    server.shutdown()
    server.server_close()


def test_a_dead_lettered_run_resumes_from_its_failed_step_reusing_what_ran_before(
    runner: TestClient, owner: Member, flaky_service: Flaky
) -> None:
    url, statuses, _received = flaky_service
    flow = {
        "nodes": [
            {"id": "start", "type": "manual", "config": {}},
            {"id": "shape", "type": "transform", "config": {"expression": "{amount: amount}"}},
            {
                "id": "charge",
                "type": "http_call",
                "config": {
                    "method": "POST",
                    "url": url + "/charge",
                    "body": "{{ input }}",
                    "retry": {"max_attempts": 2, "backoff_seconds": 0.01},
                },
            },
        ],
        "edges": [{"from": "start", "to": "shape"}, {"from": "shape", "to": "charge"}],
        "settings": {},
    }
    key = workflow(runner, owner, flow, publish=True)
    first = runner.post(
        f"{BASE}/workflows/{key}/runs", json={"input": {"amount": 5}}, headers=owner.headers
    ).json()
    failed = finished(runner, owner, first["id"])
    assert failed["status"] == "failed"
    assert failed["dead_letter"] is True
    assert failed["error"]["code"] == "http.status"
    assert failed["error"]["node_id"] == "charge"
    dead = runner.get(f"{BASE}/runs", params={"dead_letter": "true"}, headers=owner.headers)
    assert [run["id"] for run in dead.json()["items"]] == [first["id"]]

    statuses[0] = 200
    resumed = runner.post(
        f"{BASE}/runs/{first['id']}/resume", json={"from_node": "charge"}, headers=owner.headers
    )

    assert resumed.status_code == 202, resumed.text
    run = finished(runner, owner, resumed.json()["id"])
    assert run["status"] == "succeeded"
    assert run["trigger"] == "resume"
    assert run["resumed_from"] == {"run": first["id"], "node": "charge"}
    assert run["output"]["body"] == {"charged": True}
    log = runner.get(f"{BASE}/runs/{run['id']}/events", headers=owner.headers).json()["items"]
    reused = {e["node_id"] for e in log if e["data"].get("reused_from") == first["id"]}
    assert reused == {"start", "shape"}
    assert runner.get(f"{BASE}/runs/{run['id']}/replay", headers=owner.headers).json()["equal"]
    unknown = runner.post(
        f"{BASE}/runs/{first['id']}/resume", json={"from_node": "nope"}, headers=owner.headers
    )
    assert assert_problem(unknown, 422)["errors"][0]["path"] == "/from_node"


def test_a_secret_is_sent_but_never_written_to_events_or_logs(
    runner: TestClient, owner: Member, flaky_service: Flaky
) -> None:
    url, statuses, received = flaky_service
    statuses[0] = 200
    value = "sk-live-7f3a9c2e"
    stored = runner.put(f"{BASE}/secrets/API_TOKEN", json={"value": value}, headers=owner.headers)
    assert stored.status_code in {200, 201}, stored.text
    flow = {
        "nodes": [
            {"id": "start", "type": "manual", "config": {}},
            {
                "id": "call",
                "type": "http_call",
                "config": {
                    "method": "POST",
                    "url": url + "/charge",
                    "headers": {"Authorization": "Bearer {{ secrets.API_TOKEN }}"},
                },
            },
        ],
        "edges": [{"from": "start", "to": "call"}],
        "settings": {},
    }
    key = workflow(runner, owner, flow, publish=True)

    with structlog.testing.capture_logs() as logs:
        run = runner.post(f"{BASE}/workflows/{key}/runs", json={}, headers=owner.headers).json()
        done = finished(runner, owner, run["id"])

    assert done["status"] == "succeeded"
    assert received[-1]["Authorization"] == f"Bearer {value}"
    events = runner.get(f"{BASE}/runs/{run['id']}/events", headers=owner.headers).text
    assert value not in events
    assert "Bearer ***" in events
    assert value not in repr(logs)
    assert value not in runner.get(f"{BASE}/runs/{run['id']}", headers=owner.headers).text
    audit = runner.get(f"{BASE}/audit", params={"action": "secret.use"}, headers=owner.headers)
    assert audit.json()["items"], "the use is audited"
