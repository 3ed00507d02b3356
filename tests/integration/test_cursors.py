"""Page cursors are signed: anything the server did not issue is a 400, on both
databases (forged values used to reach the database and answer 500)."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, text

from meshhook.domain.accounts import Role
from meshhook.domain.pagination import encode_cursor
from meshhook.domain.workflows import WorkflowFilter
from meshhook.services.transactions import project_transaction
from meshhook.store.db import Database
from meshhook.store.workflows import WorkflowStore
from tests.definitions import linear
from tests.factories import Member, assert_problem

ALPHA = "/api/v1/projects/alpha"
WORKFLOWS = ALPHA + "/workflows"


def _workflows(client: TestClient, owner: Member, count: int) -> None:
    for index in range(count):
        response = client.post(
            WORKFLOWS,
            json={"name": f"Flow {index}", "definition": linear()},
            headers=owner.headers,
        )
        assert response.status_code == 201, response.text


def _get(client: TestClient, owner: Member, url: str, cursor: str) -> Any:
    return client.get(url, params={"cursor": cursor}, headers=owner.headers)


def _raw(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


FORGED: list[tuple[str, str]] = [
    ("audit: an id beyond 64 bits", encode_cursor([9223372036854775808])),
    ("audit: a huge id", _raw("[123456789012345678901234567890]")),
    ("versions: a number beyond 64 bits", encode_cursor([9223372036854775808])),
    (
        "workflows: a timestamp out of range",
        encode_cursor(["-updated_at", "9999-12-31T23:59:59.999999-23:59", "0" * 32]),
    ),
    (
        "workflows: a NUL in the name",
        encode_cursor(["name", "a\x00b", "00000000-0000-0000-0000-000000000000"]),
    ),
    ("garbage", "%%%"),
    ("empty tag", encode_cursor([1]) + "."),
]


@pytest.mark.parametrize(("case", "cursor"), FORGED, ids=[case for case, _ in FORGED])
def test_forged_cursors_are_400_not_500(
    client: TestClient, owner: Member, case: str, cursor: str
) -> None:
    _workflows(client, owner, 1)
    url = {
        "audit": ALPHA + "/audit",
        "versions": WORKFLOWS + "/flow-0/versions",
    }.get(case.split(":")[0], WORKFLOWS + ("?sort=name" if "NUL" in case else ""))
    body = assert_problem(_get(client, owner, url, cursor), 400)
    assert body["errors"][0]["path"] == "query:/cursor"
    assert body["errors"][0]["code"] == "cursor.invalid"


def test_issued_cursors_page_on_and_edited_ones_are_refused(
    client: TestClient, owner: Member
) -> None:
    _workflows(client, owner, 3)
    first = client.get(WORKFLOWS, params={"limit": 2}, headers=owner.headers).json()
    cursor = first["next_cursor"]
    assert "." in cursor
    second = client.get(WORKFLOWS, params={"limit": 2, "cursor": cursor}, headers=owner.headers)
    assert second.status_code == 200, second.text
    assert len(second.json()["items"]) == 1
    payload, tag = cursor.rsplit(".", 1)
    swapped = tag[:-1] + ("A" if tag[-1] != "A" else "B")
    assert_problem(_get(client, owner, WORKFLOWS, f"{payload}.{swapped}"), 400)
    # The payload alone (how cursors looked before they were signed) is refused.
    assert_problem(_get(client, owner, WORKFLOWS, payload), 400)
    # The audit log's own cursors are signed too and page on.
    audit = client.get(ALPHA + "/audit", params={"limit": 1}, headers=owner.headers).json()
    more = _get(client, owner, ALPHA + "/audit?limit=1", audit["next_cursor"])
    assert more.status_code == 200, more.text


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_deep_name_page_starts_the_name_index_at_the_cursor(db: Database) -> None:
    """The name's sort keys are expressions: SQLite started the name index's
    range at the project only (a page 25,000 rows deep read them all) until the
    first key was also bounded alone."""
    statements: list[tuple[str, Any]] = []

    def seen(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        statements.append((statement, parameters))

    project = uuid.uuid4()
    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        with db.session(write=False) as session, session.begin():
            WorkflowStore(session, project).list_page(
                WorkflowFilter(), sort="name", descending=False, after=("Billing", project), limit=5
            )
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    [(statement, parameters)] = [found for found in statements if "FROM workflows" in found[0]]
    with db.engine.connect() as connection:
        plan = " ".join(
            str(row[-1])
            for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        )
    assert "ix_workflows_name_sort (project_id=? AND <expr>>?)" in plan, plan


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_under_row_level_security_a_deep_name_page_starts_at_the_cursor(
    db: Database, owner: Member
) -> None:
    """PostgreSQL keeps a condition that applies a non-leakproof function to a
    row (``lower(name)``) out of the index condition under row-level security:
    a deep name page filtered every earlier row of the project. Compared with
    the stored ``name_key`` column, the cursor starts the index's range."""
    statements: list[tuple[str, Any]] = []

    def seen(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        statements.append((statement, parameters))

    with project_transaction(db, owner.actor, "alpha", Role.VIEWER, write=False) as scope:
        event.listen(db.engine, "before_cursor_execute", seen)
        try:
            scope.workflows.list_page(
                WorkflowFilter(),
                sort="name",
                descending=False,
                after=("Billing", uuid.uuid4()),
                limit=5,
            )
        finally:
            event.remove(db.engine, "before_cursor_execute", seen)
        [(statement, parameters)] = [found for found in statements if "FROM workflows" in found[0]]
        # However small the table, the plan an index range would take.
        scope.session.execute(text("SET LOCAL enable_seqscan = off"))
        scope.session.execute(text("SET LOCAL enable_sort = off"))
        raw = scope.session.connection().connection.dbapi_connection
        assert raw is not None
        with raw.cursor() as cursor:
            cursor.execute(f"EXPLAIN {statement}", parameters)
            plan = [str(row[0]) for row in cursor.fetchall()]
    [condition] = [line for line in plan if "Index Cond" in line]
    assert "name_key" in condition, plan
    assert not [line for line in plan if "Filter" in line and "lower" in line], plan
