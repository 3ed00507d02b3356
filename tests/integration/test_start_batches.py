"""Webhook starts committed in groups (services/start_batches.py), on both
databases: a group shares one commit, a refused start does not sink the others,
a repeated idempotency key in one group gets the first run, and a group whose
transaction fails is retried start by start."""

from __future__ import annotations

import dataclasses
import threading
import uuid
from concurrent.futures import Future
from typing import Any

import pytest
from fastapi.testclient import TestClient

from meshhook.domain.accounts import Actor, Project, Role
from meshhook.domain.errors import Conflict
from meshhook.domain.runs.run import Trigger
from meshhook.domain.workflows import Workflow
from meshhook.services import runs
from meshhook.services.runs import RunFilter
from meshhook.services.start_batches import StartBatcher
from meshhook.services.transactions import project_transaction
from meshhook.store.db import Database
from tests.factories import Member
from tests.integration.test_webhooks import BASE, hook_definition, make_hook

HOOK = Actor(user_id=None, label="webhook", is_admin=False)


def workflow(client: TestClient, owner: Member, key: str, *, publish: bool) -> None:
    created = client.post(
        f"{BASE}/workflows",
        json={"name": key, "key": key, "definition": hook_definition()},
        headers=owner.headers,
    )
    assert created.status_code == 201, created.text
    if publish:
        published = client.post(
            f"{BASE}/workflows/{key}/versions/publish", json={}, headers=owner.headers
        )
        assert published.status_code == 200, published.text


def loaded(db: Database, owner: Member, key: str) -> tuple[Project, Workflow]:
    with project_transaction(db, owner.actor, "alpha", Role.VIEWER, write=False) as scope:
        return scope.project, scope.find_workflow(key)


def request(n: int, key: str | None = None) -> runs.StartRequest:
    return runs.StartRequest(input={"n": n}, idempotency_key=key, trigger=Trigger.WEBHOOK)


def run_ids(db: Database, owner: Member) -> set[uuid.UUID]:
    with project_transaction(db, owner.actor, "alpha", Role.VIEWER, write=False) as scope:
        found = scope.runs.page(RunFilter(), 100, None)
    return {run.id for run in found}


@pytest.fixture
def batcher(db: Database) -> Any:
    started = StartBatcher(db)
    yield started
    started.stop()


def held(batcher: StartBatcher) -> threading.Event:
    """Keep the writer thread busy until the event is set, so that what is
    submitted meanwhile waits and is taken as one group."""
    release = threading.Event()
    batcher.call(lambda: release.wait(10))
    return release


def test_starts_waiting_together_share_one_commit_and_a_refusal_sinks_none(
    client: TestClient, owner: Member, db: Database, batcher: StartBatcher
) -> None:
    workflow(client, owner, "orders", publish=True)
    workflow(client, owner, "drafts", publish=False)
    project, orders = loaded(db, owner, "orders")
    _, drafts = loaded(db, owner, "drafts")

    release = held(batcher)
    futures = [
        batcher.submit(project, orders, HOOK, request(1)),
        batcher.submit(project, orders, HOOK, request(2, key="k-1")),
        batcher.submit(project, drafts, HOOK, request(3)),  # nothing published
        batcher.submit(project, orders, HOOK, request(4, key="k-1")),  # same key
        batcher.submit(project, orders, HOOK, request(5)),
    ]
    release.set()
    first, keyed, refused, repeated, last = futures

    assert isinstance(refused.exception(timeout=10), Conflict)
    created = [f.result(timeout=10) for f in (first, keyed, last)]
    assert all(started.created for started in created)
    assert repeated.result(timeout=10).created is False
    assert repeated.result().run.id == keyed.result().run.id
    assert batcher.groups == 1
    assert run_ids(db, owner) == {started.run.id for started in created}
    with project_transaction(db, owner.actor, "alpha", Role.VIEWER, write=False) as scope:
        for started in created:
            assert [e.type for e in scope.runs.events(started.run.id)] == ["run.queued"]
            assert scope.runs.get(started.run.id).view.input["n"] in (1, 2, 5)  # type: ignore[union-attr]


def test_a_group_whose_write_fails_is_retried_start_by_start(
    client: TestClient, owner: Member, db: Database, batcher: StartBatcher
) -> None:
    workflow(client, owner, "orders", publish=True)
    project, orders = loaded(db, owner, "orders")
    # A workflow that is not in the database: planning it works (its graph is
    # cached), writing its run breaks the foreign key and so the group's commit.
    ghost = dataclasses.replace(orders, id=uuid.uuid4(), key="ghost")
    runs.graph_of(ghost.id, 1, hook_definition())

    release = held(batcher)
    good: Future[runs.Started] = batcher.submit(project, orders, HOOK, request(1))
    bad: Future[runs.Started] = batcher.submit(project, ghost, HOOK, request(2))
    other: Future[runs.Started] = batcher.submit(project, orders, HOOK, request(3))
    release.set()

    assert bad.exception(timeout=10) is not None
    assert good.result(timeout=10).created
    assert other.result(timeout=10).created
    assert run_ids(db, owner) == {good.result().run.id, other.result().run.id}


def test_a_start_cancelled_before_its_turn_writes_nothing(
    client: TestClient, owner: Member, db: Database, batcher: StartBatcher
) -> None:
    workflow(client, owner, "orders", publish=True)
    project, orders = loaded(db, owner, "orders")

    release = held(batcher)
    gone = batcher.submit(project, orders, HOOK, request(1))
    kept = batcher.submit(project, orders, HOOK, request(2))
    assert gone.cancel()
    release.set()

    kept_id = kept.result(timeout=10).run.id
    assert run_ids(db, owner) == {kept_id}


def test_a_webhook_draws_its_canary_from_the_alias_cached_with_its_target(
    client: TestClient, owner: Member
) -> None:
    make_hook(client, owner)  # version 1, published
    saved = client.put(
        f"{BASE}/workflows/orders",
        json={"definition": hook_definition(max_body_bytes=2048)},
        headers={**owner.headers, "If-Match": '"1"'},
    )
    assert saved.status_code == 200, saved.text
    published = client.post(
        f"{BASE}/workflows/orders/versions/publish", json={}, headers=owner.headers
    )
    assert published.status_code == 200, published.text
    alias = client.put(
        f"{BASE}/workflows/orders/aliases/production",
        json={"version": 1, "canary": {"version": 2, "weight": 100}},
        headers=owner.headers,
    )
    assert alias.status_code == 200, alias.text
    _, path = make_hook_path(client, owner)

    answer = client.post(path, json={"order": 1})

    assert answer.status_code == 202, answer.text
    run = client.get(f"{BASE}/runs/{answer.json()['run_id']}", headers=owner.headers).json()
    assert (run["version"], run["alias"], run["canary"]) == (2, "production", True)


def make_hook_path(client: TestClient, owner: Member) -> tuple[str, str]:
    shown = client.get(f"{BASE}/workflows/orders/webhook", headers=owner.headers)
    return "orders", "/hooks/" + shown.json()["url"].split("/hooks/", 1)[1]
