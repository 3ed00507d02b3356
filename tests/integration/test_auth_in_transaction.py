"""A read checks its token inside the transaction that answers it (issue #15 §4),
with the answers of an eager check: 401 first, CSRF and roles unchanged."""

from __future__ import annotations

import json
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
from tests.factories import PASSWORD, Member, add_member, assert_problem, make_user

BASE = "/api/v1/projects/alpha/workflows"


@contextmanager
def transactions(db: Database) -> Iterator[list[bool]]:
    """The transactions begun on ``db`` inside the block, each as whether it was
    opened to write (once-per-process questions, like whether the login may read
    tokens, asked before it)."""
    assert isinstance(db.login_reads_accounts, bool)
    begun: list[bool] = []

    def count(connection: Any) -> None:
        begun.append(bool(connection.get_execution_options().get("meshhook_write", True)))

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


def _create_sync(client: TestClient, owner: Member) -> None:
    created = client.post(
        BASE, json={"name": "Sync", "definition": linear()}, headers=owner.headers
    )
    assert created.status_code == 201


def test_a_workflow_get_is_one_transaction_token_check_included(
    client: TestClient, owner: Member, db: Database
) -> None:
    _create_sync(client, owner)
    set_last_used(db, owner, datetime.now(UTC))  # last_used_at is not due
    with transactions(db) as begun:
        read = client.get(f"{BASE}/sync", headers=owner.headers)
    assert read.status_code == 200
    assert read.json()["definition"] == linear()
    assert len(begun) == 1


def test_me_is_one_transaction_with_the_callers_projects(
    client: TestClient, owner: Member, db: Database
) -> None:
    set_last_used(db, owner, datetime.now(UTC))
    with transactions(db) as begun:
        me = client.get("/api/v1/me", headers=owner.headers)
    assert me.status_code == 200
    assert me.json()["email"] == "alice@example.com"
    assert [project["key"] for project in me.json()["projects"]] == ["alpha"]
    assert begun == [False]


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


def _one_node_edits(client: TestClient, db: Database, headers: dict[str, str]) -> list[int]:
    """The transactions of a PUT (version 1 to 2) and of a small PATCH (2 to 3)
    of ``sync``, sent with ``headers``."""
    edited = linear()
    edited["nodes"][0]["name"] = "First"
    with transactions(db) as put:
        saved = client.put(
            f"{BASE}/sync", json={"definition": edited}, headers={**headers, "If-Match": '"1"'}
        )
    assert saved.status_code == 200, saved.text
    with transactions(db) as patch:
        patched = client.patch(
            f"{BASE}/sync/definition",
            content=json.dumps([{"op": "replace", "path": "/nodes/0/name", "value": "Second"}]),
            headers={**headers, "Content-Type": "application/json-patch+json", "If-Match": '"2"'},
        )
    assert patched.status_code == 200, patched.text
    return [len(put), len(patch)]


def test_a_save_checks_its_bearer_token_in_the_role_check(
    client: TestClient, owner: Member, db: Database
) -> None:
    """A write whose route checks the role before reading the body (PUT)
    verifies the token in that check: two transactions, the check and the save,
    not three. A small definition PATCH checks token and role in the save's own
    transaction, and parses its body there: one transaction."""
    _create_sync(client, owner)
    set_last_used(db, owner, datetime.now(UTC))  # last_used_at is not due
    assert _one_node_edits(client, db, owner.headers) == [2, 1]
    set_last_used(db, owner, None)  # due: recorded after the check, as on reads
    again = client.patch(
        f"{BASE}/sync/definition",
        content=json.dumps([{"op": "replace", "path": "/nodes/0/name", "value": "Third"}]),
        headers={
            **owner.headers,
            "Content-Type": "application/json-patch+json",
            "If-Match": '"3"',
        },
    )
    assert again.status_code == 200, again.text
    assert last_used(db, owner) is not None


@pytest.mark.parametrize(
    ("method", "path", "content", "content_type"),
    [
        ("PUT", f"{BASE}/sync", b"{not json", "application/json"),  # 400 for a valid token
        ("PATCH", f"{BASE}/sync/definition", b"[]", "application/json"),  # 415
        ("PATCH", f"{BASE}/sync/definition", b"[nope", "application/json-patch+json"),  # 400
        ("PUT", "/api/v1/projects/nowhere/workflows/sync", b"{}", "application/json"),  # 404
        ("PUT", f"{BASE}/sync", b'{"definition": 5}', "application/json"),  # 422
        ("POST", "/api/v1/projects/alpha/validate", b"{not json", "application/json"),  # 400
        ("POST", "/api/v1/projects/alpha/validate", b"{}", "application/json"),  # 422
        ("POST", "/api/v1/projects/nowhere/validate", b"{}", "application/json"),  # 404
    ],
)
def test_a_refused_token_is_401_before_a_write_reads_its_body(
    client: TestClient, owner: Member, method: str, path: str, content: bytes, content_type: str
) -> None:
    _create_sync(client, owner)
    headers = {"Content-Type": content_type, "If-Match": '"1"'}
    answered = client.request(method, path, content=content, headers={**owner.headers, **headers})
    assert answered.status_code in {400, 404, 415, 422}, answered.text
    bad = {"Authorization": "Bearer mh_00000000_nope-nope-nope-nope", **headers}
    assert_problem(client.request(method, path, content=content, headers=bad), 401)
    assert_problem(client.request(method, path, content=content, headers=headers), 401)


def test_a_write_below_the_role_is_still_refused(
    client: TestClient, owner: Member, db: Database
) -> None:
    _create_sync(client, owner)
    viewer = make_user(db, "vera@example.com")
    add_member(db, "alpha", viewer, Role.VIEWER)
    patch = json.dumps([{"op": "replace", "path": "/nodes/0/name", "value": "X"}])
    headers = {"Content-Type": "application/json-patch+json", "If-Match": '"1"'}
    assert_problem(
        client.patch(
            f"{BASE}/sync/definition", content=patch, headers={**viewer.headers, **headers}
        ),
        403,
    )
    outsider = make_user(db, "olga@example.com")
    assert_problem(
        client.patch(
            f"{BASE}/sync/definition", content=patch, headers={**outsider.headers, **headers}
        ),
        404,
    )
    accounts.set_disabled(db, Actor.cli(), "vera@example.com", disabled=True)
    assert_problem(
        client.patch(
            f"{BASE}/sync/definition", content=patch, headers={**viewer.headers, **headers}
        ),
        401,
    )


def _sign_in(client: TestClient, owner: Member) -> str:
    """Sign ``owner`` in on ``client`` (the session cookie); their CSRF token."""
    login = client.post("/api/v1/auth/login", json={"email": owner.email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return str(login.json()["csrf_token"])


def test_a_ui_save_checks_its_session_in_the_role_check(
    client: TestClient, owner: Member, db: Database
) -> None:
    """With the right CSRF header, a cookie-authenticated write is checked as a
    bearer token's: a PUT is the role check and the save, a small PATCH one
    transaction (three and two when the session was checked on its own)."""
    _create_sync(client, owner)
    csrf = _sign_in(client, owner)
    client.get("/api/v1/me")  # the session's last_used_at is recorded, not due below
    assert _one_node_edits(client, db, {"X-CSRF-Token": csrf}) == [2, 1]


@pytest.mark.parametrize("csrf_header", ["right", "wrong", "missing"])
def test_a_refused_session_is_401_before_its_csrf_header_is_judged(
    client: TestClient, owner: Member, db: Database, csrf_header: str
) -> None:
    _create_sync(client, owner)
    csrf = _sign_in(client, owner)
    headers = {
        "Content-Type": "application/json",
        "If-Match": '"1"',
        "X-CSRF-Token": "nope" if csrf_header == "wrong" else csrf,
    }
    if csrf_header == "missing":
        del headers["X-CSRF-Token"]
    # A valid session: the header decides (403 without the right one).
    answer = client.put(f"{BASE}/sync", content=b"{not json", headers=headers)
    assert_problem(answer, 400 if csrf_header == "right" else 403)
    with transaction(db) as session:  # the session revoked (as by signing out elsewhere)
        session.execute(
            update(api_tokens)
            .where(api_tokens.c.kind == "session")
            .values(revoked_at=datetime.now(UTC))
        )
    for method, path in (("PUT", f"{BASE}/sync"), ("DELETE", f"{BASE}/sync")):
        refused = client.request(method, path, content=b"{not json", headers=headers)
        assert_problem(refused, 401)


def test_a_validation_is_one_transaction_and_a_non_member_never_has_it_parsed(
    client: TestClient, owner: Member, db: Database
) -> None:
    """The editor's check after each edit: token, role and the project's secret
    names in one transaction, by bearer token or by the UI's session."""
    url = "/api/v1/projects/alpha/validate"
    client.get("/api/v1/me", headers=owner.headers)  # last_used_at recorded, not due below
    with transactions(db) as begun:
        checked = client.post(url, json={"definition": linear()}, headers=owner.headers)
    assert checked.status_code == 200, checked.text
    assert checked.json()["valid"] is True
    assert begun == [False]
    csrf = _sign_in(client, owner)
    client.get("/api/v1/me")
    with transactions(db) as begun:
        checked = client.post(url, json={"definition": linear()}, headers={"X-CSRF-Token": csrf})
    assert checked.status_code == 200, checked.text
    assert begun == [False]
    client.cookies.clear()
    outsider = make_user(db, "olga@example.com")
    malformed = {**outsider.headers, "Content-Type": "application/json"}
    assert_problem(client.post(url, content=b"{not json", headers=malformed), 404)
