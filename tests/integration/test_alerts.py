"""Alerts on both databases: rules and destinations over the API (roles,
tenant isolation, audit, validation), deliveries to a real receiver on
127.0.0.1 (signature, Slack shape, retries after 500s, the attempt log), event
rules fired and resolved by runs the workers finish, threshold rules."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import pytest
import structlog.testing
from fastapi.testclient import TestClient

from meshhook.app import create_app
from meshhook.domain.accounts import Role
from meshhook.domain.alerts import Event
from meshhook.engine.alerts import AlertSender
from meshhook.engine.executors.http_call import HttpSettings
from meshhook.engine.worker import Worker, WorkerSettings
from meshhook.security.webhook_auth import Refused, verify_signature
from meshhook.services import alerts as alert_service
from meshhook.services import worker_rounds
from meshhook.services.worker_rounds import Wanted
from meshhook.settings import Settings
from meshhook.store.db import Database
from meshhook.store.tables import alert_deliveries
from tests.factories import Member, add_member, assert_problem, make_user
from tests.integration.conftest import Cli
from tests.integration.test_runs import BASE, finished, workflow

ALERTS = f"{BASE}/alerts"
KEY = "alert-signing-key-0123456789"


class Receiver:
    """A real HTTP server on 127.0.0.1: records every request and answers
    with the next status of ``statuses`` (then 200)."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts/in?token=t0ps3cret"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def bodies(self) -> list[dict[str, Any]]:
        return [orjson.loads(body) for _, body in self.requests]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    found.thread.start()
    yield found
    found.server.shutdown()
    found.server.server_close()


@pytest.fixture
def alerting(tmp_path: Path, db_url: str, db: Database) -> Iterator[TestClient]:
    """The app without workers; alerts may reach loopback (the receiver)."""
    settings = Settings(home=tmp_path / "home", database_url=db_url, http_allow_private=True)
    with TestClient(create_app(settings, db)) as client:
        yield client


@pytest.fixture
def alert_runner(tmp_path: Path, db_url: str, db: Database) -> Iterator[TestClient]:
    """The app with two in-process workers (which send alerts)."""
    settings = Settings(
        home=tmp_path / "home", database_url=db_url, workers=2, http_allow_private=True
    )
    with TestClient(create_app(settings, db, run_workers=True)) as client:
        yield client


def put_key(client: TestClient, owner: Member, name: str = "ALERT_KEY", value: str = KEY) -> None:
    saved = client.put(f"{BASE}/secrets/{name}", json={"value": value}, headers=owner.headers)
    assert saved.status_code in (200, 201), saved.text


def hook_destination(client: TestClient, owner: Member, url: str, name: str = "ops") -> str:
    put_key(client, owner)
    created = client.post(
        f"{ALERTS}/destinations",
        json={
            "name": name,
            "kind": "webhook",
            "url": url,
            "signing_secret": "{{ secrets.ALERT_KEY }}",
        },
        headers=owner.headers,
    )
    assert created.status_code == 201, created.text
    destination_id: str = created.json()["id"]
    return destination_id


def flaky() -> dict[str, Any]:
    """manual -> transform ``sum(n)``: succeeds for a list, fails for a number."""
    return {
        "nodes": [
            {"id": "start", "type": "manual", "config": {}},
            {"id": "sum", "type": "transform", "config": {"expression": "sum(n)"}},
        ],
        "edges": [{"from": "start", "to": "sum"}],
        "settings": {},
    }


def run(client: TestClient, owner: Member, key: str, n: Any) -> dict[str, Any]:
    started = client.post(
        f"{BASE}/workflows/{key}/runs", json={"input": {"n": n}}, headers=owner.headers
    )
    assert started.status_code == 202, started.text
    return finished(client, owner, started.json()["id"])


def deliveries(client: TestClient, owner: Member, **params: str) -> list[dict[str, Any]]:
    listed = client.get(f"{ALERTS}/deliveries", params=params, headers=owner.headers)
    assert listed.status_code == 200, listed.text
    items: list[dict[str, Any]] = listed.json()["items"]
    return items


def wait_for(condition: Any, seconds: float = 20) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def send_due(client: TestClient, db: Database, now: datetime) -> None:
    """One alert round of a real worker whose clock says ``now``."""
    settings = WorkerSettings(http=HttpSettings(allow_private=True))
    keys = client.app.state.keys  # type: ignore[attr-defined]
    worker = Worker(db, keys, settings, clock=lambda: now)

    async def round_trip() -> None:
        worker.sender = AlertSender(settings.http)
        wanted = Wanted(alerts=True)  # deliveries only: no runs, no threshold rules
        found = worker_rounds.look(db, worker.name, settings.lease_seconds, wanted, now)
        try:
            await worker._alerts(found.deliveries)
        finally:
            await worker.sender.aclose()

    asyncio.run(round_trip())


# -- management ---------------------------------------------------------------


def test_rules_and_destinations_are_managed_by_admins_read_by_viewers_and_audited(
    alerting: TestClient, owner: Member, db: Database
) -> None:
    client = alerting
    put_key(client, owner)
    put_key(client, owner, "SLACK_URL", "https://hooks.slack.example/services/T/B/x")
    hook = hook_destination(client, owner, "https://ops.example.com/alerts?token=abc")
    shown = client.get(f"{ALERTS}/destinations/{hook}", headers=owner.headers).json()
    assert shown["url"] == "https://ops.example.com/…", "a literal URL's path is not shown"
    assert shown["signing_secret"] == "{{ secrets.ALERT_KEY }}"
    assert KEY not in str(shown)
    slack = client.post(
        f"{ALERTS}/destinations",
        json={"name": "chat", "kind": "slack", "url": "{{ secrets.SLACK_URL }}"},
        headers=owner.headers,
    )
    assert slack.status_code == 201, slack.text
    assert slack.json()["url"] == "{{ secrets.SLACK_URL }}"
    key = workflow(client, owner, flaky(), publish=True)
    created = client.post(
        f"{ALERTS}/rules",
        json={
            "name": "flaky fails",
            "kind": "run.failed",
            "workflow": key,
            "cooldown_seconds": 60,
            "destinations": [hook, "chat"],
        },
        headers=owner.headers,
    )
    assert created.status_code == 201, created.text
    rule = created.json()
    assert rule["workflow"] == key
    assert rule["destinations"] == [hook, slack.json()["id"]]
    assert rule["state"] == {"firing": False, "last_fired_at": None, "suppressed": 0}
    patched = client.patch(
        f"{ALERTS}/rules/flaky fails",
        json={"cooldown_seconds": 120, "enabled": False},
        headers=owner.headers,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["cooldown_seconds"] == 120
    assert patched.json()["enabled"] is False
    assert patched.json()["workflow"] == key, "fields not given are kept"

    viewer = make_user(db, "vera@example.com")
    add_member(db, "alpha", viewer, Role.VIEWER)
    assert len(client.get(f"{ALERTS}/rules", headers=viewer.headers).json()) == 1
    assert len(client.get(f"{ALERTS}/destinations", headers=viewer.headers).json()) == 2
    assert client.get(f"{ALERTS}/deliveries", headers=viewer.headers).status_code == 200
    refused = [
        client.post(
            f"{ALERTS}/rules", json={"name": "x", "kind": "run.failed"}, headers=viewer.headers
        ),
        client.patch(
            f"{ALERTS}/rules/{rule['id']}", json={"enabled": True}, headers=viewer.headers
        ),
        client.delete(f"{ALERTS}/rules/{rule['id']}", headers=viewer.headers),
        client.delete(f"{ALERTS}/destinations/{hook}", headers=viewer.headers),
        client.post(f"{ALERTS}/destinations/{hook}/test", headers=viewer.headers),
    ]
    for response in refused:
        assert_problem(response, 403)

    assert client.delete(f"{ALERTS}/destinations/chat", headers=owner.headers).status_code == 204
    after = client.get(f"{ALERTS}/rules/{rule['id']}", headers=owner.headers).json()
    assert after["destinations"] == [hook], "a deleted destination leaves its rules"
    assert client.delete(f"{ALERTS}/rules/{rule['id']}", headers=owner.headers).status_code == 204
    assert_problem(client.get(f"{ALERTS}/rules/{rule['id']}", headers=owner.headers), 404)

    actions = [
        entry["action"]
        for entry in client.get(f"{BASE}/audit", headers=owner.headers).json()["items"]
        if entry["action"].startswith("alert_")
    ]
    assert sorted(actions) == sorted(
        [
            "alert_destination.create",
            "alert_destination.create",
            "alert_destination.delete",
            "alert_rule.create",
            "alert_rule.update",
            "alert_rule.delete",
        ]
    )


def test_another_project_sees_none_of_it(
    alerting: TestClient, owner: Member, outsider: Member
) -> None:
    client = alerting
    hook = hook_destination(client, owner, "https://ops.example.com/in")
    assert_problem(client.get(f"{ALERTS}/destinations", headers=outsider.headers), 404)
    beta = "/api/v1/projects/beta/alerts"
    assert client.get(f"{beta}/destinations", headers=outsider.headers).json() == []
    assert_problem(client.get(f"{beta}/destinations/{hook}", headers=outsider.headers), 404)
    assert_problem(client.post(f"{beta}/destinations/{hook}/test", headers=outsider.headers), 404)
    assert_problem(client.delete(f"{beta}/destinations/{hook}", headers=outsider.headers), 404)
    stolen = client.post(
        f"{beta}/rules",
        json={"name": "steal", "kind": "run.failed", "destinations": [hook]},
        headers=outsider.headers,
    )
    body = assert_problem(stolen, 422)
    assert body["errors"][0]["path"] == "/destinations/0"
    assert client.get(f"{ALERTS}/destinations/{hook}", headers=owner.headers).status_code == 200


def test_bad_settings_are_refused_with_pointers(
    client: TestClient, alerting: TestClient, owner: Member
) -> None:
    put_key(alerting, owner)

    def refused(app: TestClient, path: str, body: dict[str, Any]) -> str:
        problem = assert_problem(
            app.post(f"{ALERTS}/{path}", json=body, headers=owner.headers), 422
        )
        pointer: str = problem["errors"][0]["path"]
        return pointer

    hook = {"name": "h", "kind": "webhook", "signing_secret": "{{ secrets.ALERT_KEY }}"}
    assert refused(alerting, "destinations", {**hook, "url": "ftp://x.org"}) == "/url"
    assert (
        refused(alerting, "destinations", {**hook, "url": "https://x.org", "signing_secret": "k"})
        == "/signing_secret"
    )
    assert refused(alerting, "destinations", {**hook, "url": "{{ secrets.NOPE }}"}) == "/url"
    # The egress rules of http_call: loopback only when MESHHOOK_HTTP_ALLOW_PRIVATE is set.
    assert refused(client, "destinations", {**hook, "url": "http://127.0.0.1:8080/x"}) == "/url"
    assert refused(alerting, "destinations", {**hook, "url": "http://169.254.169.254/"}) == "/url"
    assert refused(alerting, "rules", {"name": "r", "kind": "failure_rate"}) == "/threshold"
    assert (
        refused(alerting, "rules", {"name": "r", "kind": "run.failed", "destinations": ["nope"]})
        == "/destinations/0"
    )
    hook_destination(alerting, owner, "https://ops.example.com/in", name="taken")
    taken = alerting.post(
        f"{ALERTS}/destinations",
        json={**hook, "name": "taken", "url": "https://x.org"},
        headers=owner.headers,
    )
    assert_problem(taken, 409)


# -- deliveries -------------------------------------------------------------------


def test_a_test_alert_is_signed_like_incoming_hooks_and_logged(
    alerting: TestClient, owner: Member, receiver: Receiver
) -> None:
    hook = hook_destination(alerting, owner, receiver.url)
    sent = alerting.post(f"{ALERTS}/destinations/{hook}/test", headers=owner.headers)
    assert sent.status_code == 200, sent.text
    delivery = sent.json()
    assert delivery["status"] == "delivered"
    assert delivery["event"] == "alert.test"
    assert delivery["attempts"][0]["status_code"] == 200
    assert delivery["attempts"][0]["latency_ms"] >= 0
    headers, body = receiver.requests[0]
    assert headers["content-type"] == "application/json"
    assert headers["x-meshhook-event"] == "alert.test"
    assert headers["x-meshhook-delivery"] == delivery["id"]
    verify_signature(headers["x-meshhook-signature"], KEY, body, time.time(), 300)
    with pytest.raises(Refused):
        verify_signature(headers["x-meshhook-signature"], "another key", body, time.time(), 300)
    with pytest.raises(Refused):
        verify_signature(headers["x-meshhook-signature"], KEY, body + b" ", time.time(), 300)
    payload = orjson.loads(body)
    assert body == orjson.dumps(payload, option=orjson.OPT_SORT_KEYS), "sorted compact JSON"
    assert payload["type"] == "alert.test"
    assert payload["project"] == "alpha"
    assert payload["text"].startswith("[MeshHook] test alert for project alpha")
    assert KEY not in body.decode()
    listed = deliveries(alerting, owner, destination=hook)
    assert [item["id"] for item in listed] == [delivery["id"]]
    audit = alerting.get(
        f"{BASE}/audit", params={"action": "alert_destination.test"}, headers=owner.headers
    ).json()["items"]
    assert len(audit) == 1


def test_slack_destinations_get_a_text_payload(
    alerting: TestClient, owner: Member, receiver: Receiver
) -> None:
    put_key(alerting, owner, "SLACK_URL", receiver.url)
    created = alerting.post(
        f"{ALERTS}/destinations",
        json={"name": "chat", "kind": "slack", "url": "{{ secrets.SLACK_URL }}"},
        headers=owner.headers,
    )
    assert created.status_code == 201, created.text
    sent = alerting.post(
        f"{ALERTS}/destinations/{created.json()['id']}/test", headers=owner.headers
    )
    assert sent.json()["status"] == "delivered", sent.text
    headers, body = receiver.requests[0]
    assert list(orjson.loads(body)) == ["text"]
    assert "test alert" in orjson.loads(body)["text"]
    assert "x-meshhook-signature" not in headers


def test_a_failing_receiver_is_retried_with_backoff_until_it_answers(
    alerting: TestClient, owner: Member, receiver: Receiver, db: Database
) -> None:
    hook = hook_destination(alerting, owner, receiver.url)
    receiver.statuses = [500, 503, 500]
    first = alerting.post(f"{ALERTS}/destinations/{hook}/test", headers=owner.headers).json()
    assert first["status"] == "pending"
    assert first["attempts"][0]["status_code"] == 500
    assert first["attempts"][0]["error"] == "answered 500"
    retry_at = datetime.fromisoformat(first["next_attempt_at"])
    attempted = datetime.fromisoformat(first["attempts"][0]["at"])
    assert retry_at - attempted == timedelta(seconds=10)

    send_due(alerting, db, attempted + timedelta(seconds=5))
    assert len(receiver.requests) == 1, "not due yet"
    now = datetime.now(UTC)
    for expected in (2, 3, 4):
        now += timedelta(hours=1)
        send_due(alerting, db, now)
        assert len(receiver.requests) == expected
    [delivery] = deliveries(alerting, owner)
    assert delivery["status"] == "delivered"
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 503, 500, 200]
    gaps = [
        datetime.fromisoformat(b["at"]) - datetime.fromisoformat(a["at"])
        for a, b in zip(delivery["attempts"], delivery["attempts"][1:], strict=False)
    ]
    assert all(gap > timedelta(0) for gap in gaps)
    # Every attempt carried the same body, freshly signed.
    assert len({body for _, body in receiver.requests}) == 1
    for headers, body in receiver.requests:
        verify_signature(headers["x-meshhook-signature"], KEY, body, time.time(), 300)
    send_due(alerting, db, now + timedelta(days=1))
    assert len(receiver.requests) == 4, "a delivered alert is not sent again"


def test_a_receiver_refusing_with_a_4xx_is_given_up(
    alerting: TestClient, owner: Member, receiver: Receiver
) -> None:
    hook = hook_destination(alerting, owner, receiver.url)
    receiver.statuses = [410]
    sent = alerting.post(f"{ALERTS}/destinations/{hook}/test", headers=owner.headers).json()
    assert sent["status"] == "failed"
    assert sent["next_attempt_at"] is None


# -- evaluation -----------------------------------------------------------------


def test_a_failure_storm_sends_one_alert_and_a_success_resolves_it(
    alert_runner: TestClient, owner: Member, receiver: Receiver
) -> None:
    client = alert_runner
    hook = hook_destination(client, owner, receiver.url)
    key = workflow(client, owner, flaky(), publish=True)
    created = client.post(
        f"{ALERTS}/rules",
        json={"name": "flaky", "kind": "run.failed", "workflow": key, "destinations": [hook]},
        headers=owner.headers,
    )
    assert created.status_code == 201, created.text
    for _ in range(4):
        assert run(client, owner, key, 1)["status"] == "failed"
    wait_for(lambda: receiver.requests)
    rule = client.get(f"{ALERTS}/rules/flaky", headers=owner.headers).json()
    assert rule["state"]["firing"] is True
    assert rule["state"]["suppressed"] == 3
    assert run(client, owner, key, [1, 2])["status"] == "succeeded"
    wait_for(lambda: len(receiver.requests) >= 2)
    time.sleep(1.5)  # nothing else comes
    bodies = receiver.bodies()
    assert [body["type"] for body in bodies] == ["alert.fired", "alert.resolved"]
    fired = bodies[0]
    assert fired["rule"]["name"] == "flaky"
    assert fired["workflow"] == key
    assert fired["run"]["status"] == "failed"
    assert fired["run"]["error"]["code"]
    assert "FIRING flaky (run.failed)" in fired["text"]
    statuses = {item["status"] for item in deliveries(client, owner, rule="flaky")}
    assert statuses == {"delivered"}


def test_failure_rate_and_queue_lag_rules_fire_and_resolve(
    alert_runner: TestClient, owner: Member, db: Database, receiver: Receiver
) -> None:
    client = alert_runner
    hook = hook_destination(client, owner, receiver.url)
    key = workflow(client, owner, flaky(), publish=True)
    for n in (1, 2, [1]):
        run(client, owner, key, n)
    created = client.post(
        f"{ALERTS}/rules",
        json={
            "name": "rate",
            "kind": "failure_rate",
            "workflow": key,
            "threshold": 50,
            "min_runs": 3,
            "destinations": [hook],
        },
        headers=owner.headers,
    )
    assert created.status_code == 201, created.text
    alert_service.evaluate_thresholds(db)
    alert_service.evaluate_thresholds(db)

    def fired_and_resolved() -> list[str]:
        return [item["event"] for item in deliveries(client, owner, rule="rate")]

    assert fired_and_resolved() == [Event.FIRED]
    payload = deliveries(client, owner, rule="rate")[0]["payload"]
    assert payload["observed"]["failed"] == 2
    assert payload["observed"]["finished"] == 3
    for _ in range(2):
        run(client, owner, key, [2])
    alert_service.evaluate_thresholds(db)
    assert sorted(fired_and_resolved()) == [Event.FIRED, Event.RESOLVED]

    lag = client.post(
        f"{ALERTS}/rules",
        json={"name": "lag", "kind": "queue_lag", "threshold": 60, "destinations": [hook]},
        headers=owner.headers,
    )
    assert lag.status_code == 201, lag.text
    alert_service.evaluate_thresholds(db, datetime.now(UTC) + timedelta(minutes=5))
    assert deliveries(client, owner, rule="lag") == [], "nothing waits in the queue"


def test_queue_lag_fires_for_runs_waiting_unclaimed(
    alerting: TestClient, owner: Member, db: Database, receiver: Receiver
) -> None:
    client = alerting  # no workers: a started run waits
    hook = hook_destination(client, owner, receiver.url)
    key = workflow(client, owner, flaky(), publish=True)
    started = client.post(
        f"{BASE}/workflows/{key}/runs", json={"input": {"n": 1}}, headers=owner.headers
    )
    assert started.status_code == 202
    created = client.post(
        f"{ALERTS}/rules",
        json={"name": "lag", "kind": "queue_lag", "threshold": 60, "destinations": [hook]},
        headers=owner.headers,
    )
    assert created.status_code == 201, created.text
    alert_service.evaluate_thresholds(db, datetime.now(UTC) + timedelta(seconds=30))
    assert deliveries(client, owner, rule="lag") == []
    later = datetime.now(UTC) + timedelta(minutes=5)
    alert_service.evaluate_thresholds(db, later)
    [fired] = deliveries(client, owner, rule="lag")
    assert fired["event"] == "alert.fired"
    assert fired["payload"]["observed"]["queue_lag_seconds"] > 60
    cancelled = client.post(f"{BASE}/runs/{started.json()['id']}/cancel", headers=owner.headers)
    assert cancelled.status_code == 202
    alert_service.evaluate_thresholds(db, later + timedelta(seconds=15))
    assert {item["event"] for item in deliveries(client, owner, rule="lag")} == {
        "alert.fired",
        "alert.resolved",
    }
    send_due(client, db, later + timedelta(seconds=20))
    assert [body["type"] for body in receiver.bodies()] == ["alert.fired"], (
        "a rule's resolved message waits for its fired one"
    )
    send_due(client, db, later + timedelta(seconds=21))
    assert [body["type"] for body in receiver.bodies()] == ["alert.fired", "alert.resolved"]


def test_alert_payloads_are_redacted() -> None:
    payload = alert_service.alert_payload(
        Event.FIRED,
        "alpha",
        "run failed for jane.doe@example.com card 4111 1111 1111 1111",
        datetime.now(UTC),
        run={"error": {"message": "bad token Bearer abcdefghijklmnopqrstuvwxyz0123"}},
    )
    text = orjson.dumps(payload).decode()
    assert "jane.doe@example.com" not in text
    assert "4111 1111 1111 1111" not in text
    assert "abcdefghijklmnopqrstuvwxyz0123" not in text
    assert "[redacted:" in text


QUOTING = {
    "nodes": [
        {"id": "start", "type": "manual", "config": {}},
        {
            "id": "wait",
            "type": "delay",
            "config": {"until": "join(' ', [customer.ref, customer.employee, customer.city])"},
        },
    ],
    "edges": [{"from": "start", "to": "wait"}],
    "settings": {},
}
"""A run that fails with a message quoting its input (the delay's `until` is
not a timestamp): ``'REF-kq7zx EMP-123456 Lyon' is not an ISO-8601 timestamp``."""


def test_an_alert_hides_the_projects_patterns_and_the_workflows_pointers(
    alert_runner: TestClient, owner: Member, receiver: Receiver
) -> None:
    client = alert_runner
    hook = hook_destination(client, owner, receiver.url)
    key = workflow(client, owner, QUOTING, publish=True)
    pattern = client.put(
        f"{BASE}/redaction/patterns/employee_id",
        json={"pattern": r"EMP-\d{6}"},
        headers=owner.headers,
    )
    assert pattern.status_code == 201, pattern.text
    pointers = client.put(
        f"{BASE}/workflows/{key}/redaction",
        json={"pointers": ["/customer/ref"]},
        headers=owner.headers,
    )
    assert pointers.status_code == 200, pointers.text
    created = client.post(
        f"{ALERTS}/rules",
        json={"name": "quoting", "kind": "run.failed", "workflow": key, "destinations": [hook]},
        headers=owner.headers,
    )
    assert created.status_code == 201, created.text
    customer = {"ref": "REF-kq7zx", "employee": "EMP-123456", "city": "Lyon"}
    started = client.post(
        f"{BASE}/workflows/{key}/runs",
        json={"input": {"customer": customer}},
        headers=owner.headers,
    )
    assert started.status_code == 202, started.text
    assert finished(client, owner, started.json()["id"])["status"] == "failed"
    wait_for(lambda: receiver.requests)

    [(_, body)] = receiver.requests
    text = body.decode()
    assert "EMP-123456" not in text, "the project's pattern"
    assert "REF-kq7zx" not in text, "the value the workflow's pointer names"
    message = orjson.loads(body)["run"]["error"]["message"]
    assert message == "'[redacted:field] [redacted:employee_id] Lyon' is not an ISO-8601 timestamp"
    [stored] = deliveries(client, owner, rule="quoting")
    assert stored["payload"]["run"]["error"]["message"] == message


def test_an_alert_hides_the_secret_values_the_runs_version_references(
    alert_runner: TestClient, owner: Member, receiver: Receiver
) -> None:
    client = alert_runner
    hook = hook_destination(client, owner, receiver.url)
    token = "tok-9f3b7c1e5a"
    put_key(client, owner, "API_TOKEN", token)
    # The caller's input happens to hold the token; the branch skips the call
    # that uses it, and the delay fails quoting the input.
    key = workflow(
        client,
        owner,
        {
            "nodes": [
                {"id": "start", "type": "manual", "config": {}},
                {"id": "go", "type": "branch", "config": {"condition": "call"}},
                {
                    "id": "call",
                    "type": "http_call",
                    "config": {
                        "method": "POST",
                        "url": "https://api.example.com/charge",
                        "headers": {"Authorization": "Bearer {{ secrets.API_TOKEN }}"},
                    },
                },
                {"id": "wait", "type": "delay", "config": {"until": "note"}},
            ],
            "edges": [
                {"from": "start", "to": "go"},
                {"from": "go", "to": "call", "when": "true"},
                {"from": "go", "to": "wait", "when": "false"},
            ],
            "settings": {},
        },
        publish=True,
    )
    created = client.post(
        f"{ALERTS}/rules",
        json={"name": "leaky", "kind": "run.failed", "workflow": key, "destinations": [hook]},
        headers=owner.headers,
    )
    assert created.status_code == 201, created.text
    started = client.post(
        f"{BASE}/workflows/{key}/runs",
        json={"input": {"call": False, "note": f"key {token}"}},
        headers=owner.headers,
    )
    assert started.status_code == 202, started.text
    assert finished(client, owner, started.json()["id"])["status"] == "failed"
    wait_for(lambda: receiver.requests)

    [(_, body)] = receiver.requests
    assert token not in body.decode()
    message = orjson.loads(body)["run"]["error"]["message"]
    assert message == "'key [redacted:secret]' is not an ISO-8601 timestamp"
    uses = client.get(
        f"{BASE}/audit", params={"action": "secret.use"}, headers=owner.headers
    ).json()["items"]
    assert [
        entry["summary"]["purpose"] for entry in uses if entry["summary"]["name"] == "API_TOKEN"
    ] == [f"alert redaction for run {started.json()['id']}"]


def test_the_alerts_commands_manage_rules_destinations_and_tests(
    alerting: TestClient,
    owner: Member,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MESHHOOK_PROJECT", "alpha")
    monkeypatch.setenv("COLUMNS", "200")
    cli = Cli().as_token(alerting, owner.token)
    put_key(alerting, owner)
    with structlog.testing.capture_logs():  # the app's request logs stay out of the output
        commands(cli, receiver)


def commands(cli: Cli, receiver: Receiver) -> None:
    created = cli(
        "alerts",
        "destinations",
        "create",
        "ops",
        "--kind",
        "webhook",
        "--url",
        receiver.url,
        "--signing-secret",
        "{{ secrets.ALERT_KEY }}",
    )
    assert "created destination ops (webhook)" in created.output
    refused_update = cli("alerts", "destinations", "update", "ops", "--url", "ftp://x.org", code=1)
    assert "/url" in refused_update.output
    updated = cli("alerts", "destinations", "update", "ops", "--url", receiver.url + "&v=2")
    assert "updated destination ops" in updated.output
    listed = cli("alerts", "destinations", "list")
    assert "ops" in listed.output
    assert "t0ps3cret" not in listed.output
    cli(
        "alerts", "rules", "create", "busy", "--kind", "queue_lag", "--threshold", "30", "-d", "ops"
    )
    cli("alerts", "rules", "update", "busy", "--cooldown", "60", "--disable")
    rules = cli("alerts", "rules", "list", "--json")
    [rule] = orjson.loads(rules.output)
    assert rule["cooldown_seconds"] == 60
    assert rule["enabled"] is False
    assert "> 30 s" in cli("alerts", "rules", "list").output
    sent = cli("alerts", "test", "ops")
    assert sent.output.startswith("delivered: 200")
    receiver.statuses = [500]
    failed = cli("alerts", "test", "ops", code=1)
    assert failed.output.startswith("pending: answered 500")
    log = cli("alerts", "deliveries", "--destination", "ops")
    assert log.output.count("alert.test") == 2
    refused = cli("alerts", "rules", "create", "bad", "--kind", "failure_rate", code=1)
    assert "/threshold" in refused.output
    cli("alerts", "rules", "delete", "busy")
    cli("alerts", "destinations", "delete", "ops")
    assert orjson.loads(cli("alerts", "destinations", "list", "--json").output) == []


def test_deliveries_older_than_30_days_are_pruned_when_the_next_is_recorded(
    alerting: TestClient, owner: Member, receiver: Receiver, db: Database
) -> None:
    hook = hook_destination(alerting, owner, receiver.url)
    done = alerting.post(f"{ALERTS}/destinations/{hook}/test", headers=owner.headers).json()
    receiver.statuses = [500]
    waiting = alerting.post(f"{ALERTS}/destinations/{hook}/test", headers=owner.headers).json()
    assert (done["status"], waiting["status"]) == ("delivered", "pending")
    with db.engine.begin() as connection:
        connection.execute(
            alert_deliveries.update().values(created_at=datetime.now(UTC) - timedelta(days=40))
        )
    sent = alerting.post(f"{ALERTS}/destinations/{hook}/test", headers=owner.headers).json()
    kept = {item["id"] for item in deliveries(alerting, owner)}
    assert kept == {waiting["id"], sent["id"]}, "a pending delivery is never pruned"


def test_a_dead_letter_rule_ignores_a_terminated_run_and_fires_for_a_dead_letter(
    alert_runner: TestClient, owner: Member, receiver: Receiver
) -> None:
    client = alert_runner
    hook = hook_destination(client, owner, receiver.url)
    stop = workflow(
        client,
        owner,
        {
            "nodes": [
                {"id": "start", "type": "manual", "config": {}},
                {"id": "stop", "type": "terminate", "config": {"status": "failed"}},
            ],
            "edges": [{"from": "start", "to": "stop"}],
            "settings": {},
        },
        publish=True,
    )
    key = workflow(client, owner, flaky(), publish=True)
    created = client.post(
        f"{ALERTS}/rules",
        json={"name": "dead", "kind": "run.dead_lettered", "destinations": [hook]},
        headers=owner.headers,
    )
    assert created.status_code == 201, created.text
    terminated = run(client, owner, stop, 1)
    assert terminated["status"] == "failed"
    assert terminated["dead_letter"] is False
    time.sleep(1.5)
    assert deliveries(client, owner, rule="dead") == []
    assert run(client, owner, key, 1)["dead_letter"] is True
    wait_for(lambda: receiver.requests)
    [fired] = receiver.bodies()
    assert fired["rule"]["kind"] == "run.dead_lettered"
    assert fired["run"]["dead_letter"] is True


def test_a_destination_change_is_checked_and_audited(
    client: TestClient, alerting: TestClient, owner: Member
) -> None:
    hook = hook_destination(alerting, owner, "https://ops.example.com/in")
    metadata = alerting.patch(
        f"{ALERTS}/destinations/{hook}",
        json={"url": "http://169.254.169.254/latest"},
        headers=owner.headers,
    )
    assert assert_problem(metadata, 422)["errors"][0]["path"] == "/url"
    loopback = client.patch(
        f"{ALERTS}/destinations/{hook}",
        json={"url": "http://localhost:8080/"},
        headers=owner.headers,
    )
    assert assert_problem(loopback, 422)["errors"][0]["path"] == "/url"
    renamed = alerting.patch(
        f"{ALERTS}/destinations/ops",
        json={"name": "pager", "url": "https://pager.example.com/hook?key=abc"},
        headers=owner.headers,
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "pager"
    assert renamed.json()["url"] == "https://pager.example.com/…"
    assert renamed.json()["signing_secret"] == "{{ secrets.ALERT_KEY }}", "kept"
    updates = alerting.get(
        f"{BASE}/audit", params={"action": "alert_destination.update"}, headers=owner.headers
    ).json()["items"]
    assert [entry["summary"]["name"] for entry in updates] == ["pager"]


def test_an_edited_destination_url_is_checked_like_a_new_one_and_used_at_once(
    alerting: TestClient, owner: Member, receiver: Receiver, db: Database
) -> None:
    client = alerting
    hook = hook_destination(client, owner, "https://old.example.com/in")
    hook_destination(client, owner, "https://other.example.com/in", name="other")
    put_key(client, owner, "SLACK_URL", "https://hooks.slack.example/services/T/B/x")
    chat = client.post(
        f"{ALERTS}/destinations",
        json={"name": "chat", "kind": "slack", "url": "{{ secrets.SLACK_URL }}"},
        headers=owner.headers,
    )
    assert chat.status_code == 201, chat.text

    def refused(ref: str, body: dict[str, Any], status: int = 422) -> str | None:
        problem = assert_problem(
            client.patch(f"{ALERTS}/destinations/{ref}", json=body, headers=owner.headers), status
        )
        errors = problem.get("errors") or [{}]
        path: str | None = errors[0].get("path")
        return path

    assert refused(hook, {"url": "ftp://x.org/in"}) == "/url"
    assert refused(hook, {"url": "{{ secrets.NOPE }}"}) == "/url"
    assert refused(hook, {"url": ""}) == "/url"
    assert refused(hook, {"signing_secret": "a literal key"}) == "/signing_secret"
    assert refused(hook, {"signing_secret": None}) == "/signing_secret"
    assert refused("chat", {"signing_secret": "{{ secrets.ALERT_KEY }}"}) == "/signing_secret"
    refused(hook, {"kind": "slack"})
    refused(hook, {"name": "other"}, 409)
    viewer = make_user(db, "vic@example.com")
    add_member(db, "alpha", viewer, Role.VIEWER)
    assert_problem(
        client.patch(
            f"{ALERTS}/destinations/{hook}", json={"url": receiver.url}, headers=viewer.headers
        ),
        403,
    )
    assert client.get(f"{ALERTS}/destinations/{hook}", headers=owner.headers).json()["url"] == (
        "https://old.example.com/…"
    ), "nothing refused was kept"

    moved = client.patch(
        f"{ALERTS}/destinations/{hook}", json={"url": receiver.url}, headers=owner.headers
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["url"] == f"http://127.0.0.1:{receiver.server.server_address[1]}/…"
    sent = client.post(f"{ALERTS}/destinations/{hook}/test", headers=owner.headers).json()
    assert sent["status"] == "delivered"
    [(headers, body)] = receiver.requests
    verify_signature(headers["x-meshhook-signature"], KEY, body, time.time(), 300)
    slack = client.patch(
        f"{ALERTS}/destinations/chat",
        json={"url": "https://hooks.example.org/x"},
        headers=owner.headers,
    )
    assert slack.status_code == 200, slack.text
    assert slack.json()["url"] == "https://hooks.example.org/…"
    updates = client.get(
        f"{BASE}/audit", params={"action": "alert_destination.update"}, headers=owner.headers
    ).json()["items"]
    assert sorted(entry["summary"]["name"] for entry in updates) == ["chat", "ops"]
