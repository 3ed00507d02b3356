"""Members: no probing of which emails have accounts, leaving a project, and
two owners demoting each other at once."""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient

from meshhook.domain.accounts import Actor, Role
from meshhook.domain.errors import Conflict, Forbidden
from meshhook.services import accounts, projects
from meshhook.store.db import Database
from meshhook.store.projects import MembershipStore
from tests.factories import PASSWORD, Member, add_member, assert_problem, make_user

MEMBERS = "/api/v1/projects/alpha/members"


def test_adding_an_unknown_email_answers_like_a_known_one(
    client: TestClient, owner: Member, db: Database
) -> None:
    make_user(db, "vera@example.com")
    known = client.put(
        f"{MEMBERS}/vera@example.com", json={"role": "viewer"}, headers=owner.headers
    )
    unknown = client.put(
        f"{MEMBERS}/zed@example.com", json={"role": "viewer"}, headers=owner.headers
    )
    assert known.status_code == unknown.status_code == 200
    assert set(known.json()) == set(unknown.json())
    assert known.json()["role"] == unknown.json()["role"] == "viewer"
    listed = {m["email"]: m for m in client.get(MEMBERS, headers=owner.headers).json()}
    assert set(listed["vera@example.com"]) == set(listed["zed@example.com"])
    # Removing answers alike too, and a never-added email is 404 either way.
    gone = client.delete(f"{MEMBERS}/zed@example.com", headers=owner.headers)
    assert gone.status_code == 204
    assert_problem(client.delete(f"{MEMBERS}/zed@example.com", headers=owner.headers), 404)


def test_an_invited_email_cannot_sign_in_until_created_then_keeps_its_membership(
    client: TestClient, owner: Member, db: Database
) -> None:
    client.put(f"{MEMBERS}/zed@example.com", json={"role": "editor"}, headers=owner.headers)
    refused = client.post(
        "/api/v1/auth/login", json={"email": "zed@example.com", "password": PASSWORD}
    )
    assert_problem(refused, 401)
    with pytest.raises(Exception, match="no user"):
        accounts.create_token(db, Actor.cli(), "zed@example.com")
    accounts.create_user(db, Actor.cli(), "zed@example.com", password=PASSWORD)
    signed_in = client.post(
        "/api/v1/auth/login", json={"email": "zed@example.com", "password": PASSWORD}
    )
    assert signed_in.status_code == 200
    assert signed_in.json()["user"]["projects"] == [
        {"key": "alpha", "name": "Alpha", "role": "editor"}
    ]


def test_a_member_can_leave_but_the_last_owner_cannot(
    client: TestClient, owner: Member, db: Database
) -> None:
    viewer = make_user(db, "vera@example.com")
    add_member(db, "alpha", viewer, Role.VIEWER)
    assert client.delete(f"{MEMBERS}/me", headers=viewer.headers).status_code == 204
    assert_problem(client.get("/api/v1/projects/alpha", headers=viewer.headers), 404)
    body = assert_problem(client.delete(f"{MEMBERS}/me", headers=owner.headers), 409)
    assert "last owner" in body["detail"]
    actions = [
        entry["action"]
        for entry in client.get("/api/v1/projects/alpha/audit", headers=owner.headers).json()[
            "items"
        ]
    ]
    assert actions[0] == "member.leave"


def test_two_owners_demoting_each_other_at_once_leave_one_owner(
    db: Database, owner: Member, monkeypatch: pytest.MonkeyPatch
) -> None:
    bob = make_user(db, "bob@example.com")
    add_member(db, "alpha", bob, Role.OWNER)
    # Both transactions have read the memberships before either counts owners
    # (on SQLite the second cannot even begin until the first commits: its
    # wait at the barrier times out and it goes on).
    barrier = threading.Barrier(2, timeout=3)
    original = MembershipStore.lock_owners

    def lock_owners_together(members: MembershipStore) -> Any:
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()
        return original(members)

    monkeypatch.setattr(MembershipStore, "lock_owners", lock_owners_together)
    outcomes: dict[str, str] = {}

    def demote(actor: Member, target: Member) -> None:
        try:
            projects.set_member(db, actor.actor, "alpha", target.email, Role.ADMIN)
            outcomes[actor.email] = "demoted"
        except (Conflict, Forbidden):  # Forbidden: demoted before its turn came
            outcomes[actor.email] = "refused"

    threads = [
        threading.Thread(target=demote, args=(owner, bob)),
        threading.Thread(target=demote, args=(bob, owner)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes.values()) == ["demoted", "refused"]
    members = projects.list_members(db, Actor.cli(), "alpha")
    assert [m.role for m in members].count(Role.OWNER) == 1
