"""Sign-in brute force: per-account and per-address back-off, no enumeration,
lockouts audited, and a bounded number of password checks at once."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from meshhook.app import create_app
from meshhook.security.passwords import HashGate
from meshhook.services.logins import LoginLimits
from meshhook.settings import Settings
from meshhook.store.db import Database
from meshhook.store.tables import audit_log, login_attempts
from tests.factories import PASSWORD, Member, assert_problem

LOGIN = "/api/v1/auth/login"


def _login(client: TestClient, email: str, password: str) -> Any:
    response = client.post(LOGIN, json={"email": email, "password": password})
    client.cookies.clear()
    return response


def _comparable(body: dict[str, Any]) -> dict[str, Any]:
    """A problem body without what differs between any two requests."""
    body = {key: value for key, value in body.items() if key not in {"request_id", "retry_after"}}
    body["detail"] = re.sub(r"\d+", "N", body["detail"])
    return body


def test_guessing_locks_the_account_and_then_even_the_right_password_waits(
    client: TestClient, owner: Member, db: Database
) -> None:
    statuses = []
    deadline = time.monotonic() + 60
    # Guess until the back-off has more than a second to run, so the right
    # password below surely arrives while it holds (however slow the machine).
    while time.monotonic() < deadline:
        response = _login(client, owner.email, "wrong password!")
        statuses.append(response.status_code)
        if response.status_code == 429 and int(response.headers["retry-after"]) >= 2:
            break
        time.sleep(0.05)
    assert statuses[:5] == [401] * 5
    assert statuses[-1] == 429
    right = _login(client, owner.email, PASSWORD)
    body = assert_problem(right, 429)
    assert int(right.headers["retry-after"]) >= 1
    assert body["retry_after"] == int(right.headers["retry-after"])
    assert "set-cookie" not in right.headers

    # Once the back-off runs out, the right password signs in and clears the count.
    with db.engine.begin() as connection:
        connection.execute(
            update(login_attempts).values(locked_until=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert _login(client, owner.email, PASSWORD).status_code == 200
    assert [_login(client, owner.email, "wrong again!!").status_code for _ in range(4)] == [401] * 4


def _until_refused(client: TestClient, email: str) -> tuple[list[Any], Any]:
    """Wrong passwords until the back-off refuses one: (the 401s, the 429)."""
    refused_401 = []
    for _ in range(20):
        response = _login(client, email, "wrong password!")
        if response.status_code == 429:
            return refused_401, response
        refused_401.append(response)
    raise AssertionError("never backed off")


def test_unknown_email_and_wrong_password_get_identical_answers(
    client: TestClient, owner: Member
) -> None:
    known_401, known_429 = _until_refused(client, owner.email)
    unknown_401, unknown_429 = _until_refused(client, "nobody@example.com")
    # How many 401s come before the first 429 depends on how long each check
    # took (the first lock is one second); the answers themselves may not differ.
    assert len(known_401) >= 5
    assert len(unknown_401) >= 5
    bodies = {str(_comparable(r.json())) for r in known_401 + unknown_401}
    assert len(bodies) == 1
    assert {r.status_code for r in known_401 + unknown_401} == {401}
    assert _comparable(known_429.json()) == _comparable(unknown_429.json())
    assert "retry-after" in known_429.headers
    assert "retry-after" in unknown_429.headers


def test_a_lockout_is_audited_without_a_project(
    client: TestClient, owner: Member, db: Database
) -> None:
    for _ in range(5):
        assert _login(client, owner.email, "wrong password!").status_code == 401
    with db.engine.connect() as connection:  # the migrating login: no row-level security
        rows = connection.execute(
            select(audit_log).where(audit_log.c.action == "login.lockout")
        ).all()
    assert [(row.project_id, row.object_type, row.object_id) for row in rows] == [
        (None, "account", "alice@example.com")
    ]
    assert rows[0].summary == {"failures": 5, "locked_seconds": 1}


@pytest.fixture
def strict_address_client(tmp_path: Path, db_url: str, db: Database) -> Iterator[TestClient]:
    settings = Settings(
        home=tmp_path / "strict", database_url=db_url, login_address_free_attempts=3
    )
    with TestClient(create_app(settings, db)) as test_client:
        yield test_client


def test_one_address_trying_many_accounts_is_slowed_down(
    strict_address_client: TestClient, owner: Member
) -> None:
    guesses = [
        _login(strict_address_client, f"guess{index}@example.com", "x" * 12).status_code
        for index in range(10)
    ]
    assert guesses[:3] == [401] * 3
    assert guesses[-1] == 429
    # A fresh account, the right password: the address is backing off.
    assert_problem(_login(strict_address_client, owner.email, PASSWORD), 429)


def test_too_many_password_checks_at_once_are_turned_away_with_503(
    client: TestClient, owner: Member
) -> None:
    limits: LoginLimits = client.app.state.login_limits  # type: ignore[attr-defined]
    busy = HashGate(concurrency=1, queue=0, wait=1)
    client.app.state.login_limits = LoginLimits(limits.account, limits.address, busy)  # type: ignore[attr-defined]
    with busy.turn():  # another sign-in is being checked
        response = _login(client, owner.email, PASSWORD)
    assert_problem(response, 503)
    assert response.headers["retry-after"] == "1"
    # Not counted as an attempt: the account signs in right after.
    assert _login(client, owner.email, PASSWORD).status_code == 200
