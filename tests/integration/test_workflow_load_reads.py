"""A workflow GET reads the workflow, its head and the project's secret names
and hosts in one statement (issue #15 §4), and answers as before: the head's
definition, its problems in the project's current context, 404s."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event

from meshhook.services.transactions import PROBLEMS
from meshhook.store.db import Database
from tests.factories import Member, assert_problem
from tests.integration.test_auth_in_transaction import set_last_used
from tests.integration.test_secret_placement import SECRETS, WORKFLOWS, bearer, create, with_call


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    """The SQL statements run on ``db`` inside the block (once-per-process
    questions, like whether the login may read tokens, asked before it)."""
    assert isinstance(db.login_reads_accounts, bool)
    sent: list[str] = []

    def record(_connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def test_a_workflow_get_is_one_statement_after_the_token_and_the_project(
    client: TestClient, owner: Member, db: Database
) -> None:
    assert create(client, owner, with_call(**bearer())).status_code == 201
    set_last_used(db, owner, datetime.now(UTC))  # no bookkeeping write
    with statements(db) as sent:
        read = client.get(f"{WORKFLOWS}/sync", headers=owner.headers)
    assert read.status_code == 200
    # PostgreSQL: the token, which also starts the tenant scope (SQLite: BEGIN,
    # then the token); the project and the membership; the workflow with its
    # head and the secrets' context.
    assert len(sent) == (3 if db.is_postgres else 4), sent


def test_a_get_answers_problems_in_the_projects_current_secret_context(
    client: TestClient, owner: Member
) -> None:
    definition = with_call(**bearer())  # calls https://api.example.com/orders
    made = create(client, owner, definition)
    assert made.status_code == 201
    by_id = f"{WORKFLOWS}/{made.json()['id']}"

    def problems(path: str) -> list[str]:
        PROBLEMS.clear()  # answered from the database, not from the cache
        read = client.get(path, headers=owner.headers)
        assert read.status_code == 200, read.text
        assert read.json()["definition"] == definition
        return [problem["code"] for problem in read.json()["problems"]]

    assert problems(f"{WORKFLOWS}/sync") == ["secret.unknown"]
    client.put(
        f"{SECRETS}/CRM_TOKEN",
        json={"value": "v", "allowed_hosts": ["crm.example.com"]},
        headers=owner.headers,
    )
    client.put(f"{SECRETS}/OTHER", json={"value": "v"}, headers=owner.headers)
    assert problems(f"{WORKFLOWS}/sync") == ["secret.host_not_allowed"]
    assert problems(by_id) == ["secret.host_not_allowed"]
    client.patch(
        f"{SECRETS}/CRM_TOKEN",
        json={"allowed_hosts": ["crm.example.com", "api.example.com"]},
        headers=owner.headers,
    )
    assert problems(f"{WORKFLOWS}/sync") == []
    assert problems(by_id) == []


def test_a_get_of_a_missing_or_trashed_workflow_is_404(
    client: TestClient, owner: Member, outsider: Member
) -> None:
    made = create(client, owner, with_call())
    assert made.status_code == 201
    workflow_id = made.json()["id"]
    other = "/api/v1/projects/beta/workflows"
    assert_problem(client.get(f"{other}/sync", headers=outsider.headers), 404)
    assert_problem(client.get(f"{other}/{workflow_id}", headers=outsider.headers), 404)
    assert client.delete(f"{WORKFLOWS}/sync", headers=owner.headers).status_code in (200, 204)
    assert_problem(client.get(f"{WORKFLOWS}/sync", headers=owner.headers), 404)
    assert_problem(client.get(f"{WORKFLOWS}/{workflow_id}", headers=owner.headers), 404)
