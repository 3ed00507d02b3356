"""A read checks its token inside the transaction that answers it (issue #15 §4),
with the answers of an eager check: 401 first, CSRF and roles unchanged."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select, update

from meshhook.domain.accounts import Actor, Role
from meshhook.domain.errors import Unauthorized
from meshhook.services import accounts
from meshhook.services.credentials import PendingActor
from meshhook.services.transactions import transaction
from meshhook.store.db import Database
from meshhook.store.tables import api_tokens
from tests.definitions import linear
from tests.factories import Member, add_member, assert_problem, make_user

BASE = "/api/v1/projects/alpha/workflows"


@contextmanager
def transactions(db: Database) -> Iterator[list[int]]:
    """Counts the transactions begun on ``db`` inside the block."""
    begun: list[int] = []

    def count(connection: Any) -> None:
        begun.append(1)

    event.listen(db.engine, "begin", count)
    try:
        yield begun
    finally:
        event.remove(db.engine, "begin", count)


def set_last_used(db: Database, member: Member, when: datetime | None) -> None:
    with transaction(db) as session:
        session.execute(
            update(api_tokens)
            .where(api_tokens.c.id == member.actor.token_id)
            .values(last_used_at=when)
        )


def last_used(db: Database, member: Member) -> datetime | None:
    with transaction(db, write=False) as session:
        value: datetime | None = session.execute(
            select(api_tokens.c.last_used_at).where(api_tokens.c.id == member.actor.token_id)
        ).scalar_one()
    return value


def test_a_workflow_get_is_one_transaction_token_check_included(
    client: TestClient, owner: Member, db: Database
) -> None:
    created = client.post(
        BASE, json={"name": "Sync", "definition": linear()}, headers=owner.headers
    )
    assert created.status_code == 201
    set_last_used(db, owner, datetime.now(UTC))  # last_used_at is not due
    with transactions(db) as begun:
        read = client.get(f"{BASE}/sync", headers=owner.headers)
    assert read.status_code == 200
    assert read.json()["definition"] == linear()
    assert len(begun) == 1


def test_a_get_still_records_when_the_token_was_last_used(
    client: TestClient, owner: Member, db: Database
) -> None:
    set_last_used(db, owner, None)
    with transactions(db) as begun:
        assert client.get(BASE, headers=owner.headers).status_code == 200
    assert len(begun) == 2  # the read, then (once a minute) the bookkeeping
    assert last_used(db, owner) is not None


@pytest.mark.parametrize(
    "path",
    [
        f"{BASE}?limit=0",  # a 422 for a valid token
        "/api/v1/projects/nowhere/workflows",  # a 404 for a valid token
        f"{BASE}/missing",
        "/api/v1/me",
    ],
)
def test_a_refused_token_is_401_before_any_other_answer(
    client: TestClient, owner: Member, path: str
) -> None:
    assert client.get(path, headers=owner.headers).status_code in {200, 404, 422}
    bad = {"Authorization": "Bearer mh_00000000_nope-nope-nope-nope"}
    assert_problem(client.get(path, headers=bad), 401)
    assert_problem(client.get(path), 401)


def test_a_disabled_user_is_refused_on_reads_and_roles_still_apply(
    client: TestClient, owner: Member, db: Database
) -> None:
    viewer = make_user(db, "victor@example.com")
    add_member(db, "alpha", viewer, Role.VIEWER)
    assert client.get(BASE, headers=viewer.headers).status_code == 200
    refused = client.post(BASE, json={"name": "X", "definition": linear()}, headers=viewer.headers)
    assert_problem(refused, 403)
    accounts.set_disabled(db, Actor.cli(), "victor@example.com", disabled=True)
    body = assert_problem(client.get(BASE, headers=viewer.headers), 401)
    assert "disabled" in str(body["detail"])


def test_a_pending_actor_checks_once_and_remembers_a_refusal() -> None:
    calls: list[str] = []
    known = Actor(user_id=None, label="someone")

    def check(value: str) -> Actor:
        calls.append(value)
        if value == "bad":
            raise Unauthorized("the token is not valid")
        return known

    good = PendingActor("good", check)
    assert not good.checked
    assert (good.label, good.is_admin, good.token_id) == ("someone", False, None)
    assert good.checked
    assert calls == ["good"]
    bad = PendingActor("bad", check)
    for _ in range(2):
        with pytest.raises(Unauthorized):
            _ = bad.user_id
    assert calls == ["good", "bad"]
