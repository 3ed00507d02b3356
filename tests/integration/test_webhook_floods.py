"""Floods of bad webhook requests, on both databases: an address that keeps
sending them is refused unread while other senders go on; a body declared too
large is refused before it takes a rate-limit token and ends its connection;
refusals fill the delivery log only so far."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from meshhook.app import create_app
from meshhook.services.webhooks import DeliveryLog
from meshhook.settings import Settings
from meshhook.store.db import Database
from meshhook.store.webhooks import Delivery
from tests.factories import Member, assert_problem
from tests.integration.test_webhooks import BASE, SECRET, make_hook, put_secret, signed


@pytest.fixture
def strict_settings(tmp_path: Path, db_url: str) -> Settings:
    return Settings(
        home=tmp_path / "home",
        database_url=db_url,
        hook_refusals_per_second=0.01,
        hook_refusal_burst=3,
    )


def test_an_address_sending_bad_requests_is_refused_unread_and_others_are_not(
    strict_settings: Settings, db: Database, owner: Member
) -> None:
    app = create_app(strict_settings, db)
    with (
        TestClient(app, client=("198.51.100.7", 4000)) as flooder,
        TestClient(app, client=("203.0.113.9", 4000)) as sender,
    ):
        put_secret(sender, owner, "HOOK_SECRET", SECRET)
        key, path = make_hook(sender, owner, hmac_secret="{{ secrets.HOOK_SECRET }}")
        body = b'{"order": 1}'

        forged = [
            flooder.post(path, content=body, headers=signed(body, secret="guess")) for _ in range(3)
        ]
        unread = flooder.post(path, content=body, headers=signed(body))  # even a good one
        unknown = flooder.post("/hooks/" + "A" * 32 + "/orders", content=body)
        heard = sender.post(path, content=body, headers=signed(body))

        assert [answer.status_code for answer in forged] == [401, 401, 401]
        problem = assert_problem(unread, 429)
        assert "from this address" in problem["detail"]
        assert int(unread.headers["retry-after"]) >= 1
        assert "connection" not in unread.headers  # a small body: the connection stays
        large = flooder.post(path, content=b"x" * 100_000, headers={"content-type": "text/plain"})
        assert_problem(large, 429)
        assert large.headers["connection"] == "close"  # a large one is not drained
        assert_problem(unknown, 429)  # not even looked up
        assert heard.status_code == 202, heard.text
        runs = sender.get(f"{BASE}/runs", headers=owner.headers).json()["items"]
        assert [run["id"] for run in runs] == [heard.json()["run_id"]]
        listed = sender.get(f"{BASE}/workflows/{key}/webhook/deliveries", headers=owner.headers)
        statuses = sorted(item["status"] for item in listed.json()["items"])
        assert statuses == [202, 401, 401, 401]  # the unread ones are not logged


def test_a_body_declared_too_large_takes_no_rate_token_and_ends_the_connection(
    client: TestClient, owner: Member
) -> None:
    _, path = make_hook(client, owner, max_body_bytes=1024, rate_per_second=0.001, burst=1)

    too_large = client.post(path, content=b"x" * 5000, headers={"content-type": "text/plain"})
    within = client.post(path, json={"order": 1})

    assert_problem(too_large, 413)
    assert too_large.headers["connection"] == "close"
    assert within.status_code == 202, within.text  # the one token was still there


def delivery(workflow_id: uuid.UUID, status: int, run_id: uuid.UUID | None) -> Delivery:
    return Delivery(
        id=uuid.uuid4(),
        workflow_id=workflow_id,
        at=datetime.now(UTC),
        method="POST",
        status=status,
        run_id=run_id,
        latency_ms=1.0,
        client="198.51.100.7",
        failure=None if run_id else "signature.mismatch",
    )


def test_refusals_wait_in_the_log_at_most_a_page_per_hook_and_batch() -> None:
    log = DeliveryLog()
    project, flooded, quiet = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()

    for _ in range(150):
        log.add(project, delivery(flooded, 401, None))
    for _ in range(5):
        log.add(project, delivery(flooded, 202, uuid.uuid4()))  # accepted: always kept
        log.add(project, delivery(quiet, 401, None))

    assert log.pending == 100 + 5 + 5
    assert log.dropped == 50


def test_hook_requests_skip_the_router_but_count_under_their_route(
    client: TestClient, owner: Member
) -> None:
    _, path = make_hook(client, owner)

    accepted = client.post(path, json={"order": 1})
    no_path = client.post(path.rsplit("/", 1)[0], json={})  # no route: the app answers
    metrics = client.get("/metrics").text

    assert accepted.status_code == 202, accepted.text
    assert no_path.json()["detail"].startswith("no such endpoint")  # the app's own answer
    assert 'route="/hooks/{hook_id}/{path:path}",status="202"' in metrics
