"""A project's own redaction rules over the API: patterns and per-workflow
pointers, checked (compile, length, backtracking), admin only, audited, and
applied to runs as shown (every version's, at once) and to log lines that
name the project. On both databases."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr

import pytest
import structlog
from fastapi.testclient import TestClient

from meshhook import logs
from meshhook.domain.accounts import Role
from meshhook.store.db import Database
from tests.factories import Member, add_member, assert_problem, make_user
from tests.integration.conftest import Cli
from tests.integration.test_runs import BASE, finished, runner, workflow

__all__ = ["runner"]

ECHO = {
    "nodes": [
        {"id": "start", "type": "manual", "config": {}},
        {"id": "echo", "type": "transform", "config": {"expression": "@"}},
    ],
    "edges": [{"from": "start", "to": "echo"}],
    "settings": {},
}
PAYLOAD = {"employee": "EMP-123456 joined", "badge": "B-77", "city": "Lyon"}


def _run(runner: TestClient, owner: Member, key: str) -> str:
    run_id: str = runner.post(
        f"{BASE}/workflows/{key}/runs", json={"input": PAYLOAD}, headers=owner.headers
    ).json()["id"]
    finished(runner, owner, run_id)
    return run_id


def test_a_pattern_and_pointers_hide_payloads_of_runs_already_recorded(
    runner: TestClient, owner: Member
) -> None:
    key = workflow(runner, owner, ECHO, publish=True)
    run_id = _run(runner, owner, key)
    assert runner.get(f"{BASE}/runs/{run_id}", headers=owner.headers).json()["input"] == PAYLOAD

    created = runner.put(
        f"{BASE}/redaction/patterns/employee_id",
        json={"pattern": r"EMP-\d{6}"},
        headers=owner.headers,
    )
    assert created.status_code == 201, created.text
    replaced = runner.put(
        f"{BASE}/redaction/patterns/employee_id",
        json={"pattern": r"EMP-\d{5,6}"},
        headers=owner.headers,
    )
    assert replaced.status_code == 200
    pointers = runner.put(
        f"{BASE}/workflows/{key}/redaction",
        json={"pointers": ["/badge", "/badge"]},
        headers=owner.headers,
    )
    assert pointers.json() == {"workflow": key, "pointers": ["/badge"]}

    hidden = {
        "employee": "[redacted:employee_id] joined",
        "badge": "[redacted:field]",
        "city": "Lyon",
    }
    shown = runner.get(f"{BASE}/runs/{run_id}", headers=owner.headers).json()
    assert shown["input"] == hidden
    assert shown["steps"][1]["output"] == hidden
    listed = runner.get(f"{BASE}/runs", headers=owner.headers).json()["items"][0]
    assert listed["input"] == hidden
    events = runner.get(f"{BASE}/runs/{run_id}/events", headers=owner.headers).text
    assert "EMP-123456" not in events
    assert "B-77" not in events
    revealed = runner.get(f"{BASE}/runs/{run_id}", params={"reveal": "true"}, headers=owner.headers)
    assert revealed.json()["input"] == PAYLOAD

    rules = runner.get(f"{BASE}/redaction", headers=owner.headers).json()
    assert [p["name"] for p in rules["patterns"]] == ["employee_id"]
    assert rules["pointers"] == {key: ["/badge"]}
    audit = runner.get(f"{BASE}/audit", headers=owner.headers).json()["items"]
    actions = [entry["action"] for entry in audit]
    assert actions.count("redaction.pattern_set") == 2
    assert "redaction.pointers_set" in actions

    assert (
        runner.delete(f"{BASE}/redaction/patterns/employee_id", headers=owner.headers).status_code
        == 204
    )
    again = runner.get(f"{BASE}/runs/{run_id}", headers=owner.headers).json()
    assert again["input"]["employee"] == "EMP-123456 joined"
    assert_problem(
        runner.delete(f"{BASE}/redaction/patterns/employee_id", headers=owner.headers), 404
    )


@pytest.mark.parametrize(
    ("name", "pattern", "code", "path"),
    [
        ("slow", r"(a+)+$", "redaction.pattern_too_slow", "/pattern"),
        ("broken", r"(unclosed", "redaction.pattern_invalid", "/pattern"),
        ("empty", r"x*", "redaction.pattern_empty_match", "/pattern"),
        ("long", "a" * 201, "redaction.pattern_length", "/pattern"),
        ("Bad-Name", r"abc", "redaction.name_invalid", "/name"),
        ("email", r"abc", "redaction.name_reserved", "/name"),
    ],
)
def test_a_pattern_that_is_slow_malformed_or_misnamed_is_refused(
    client: TestClient, owner: Member, name: str, pattern: str, code: str, path: str
) -> None:
    refused = client.put(
        f"{BASE}/redaction/patterns/{name}", json={"pattern": pattern}, headers=owner.headers
    )
    body = assert_problem(refused, 422)
    assert [(e["path"], e["code"]) for e in body["errors"]] == [(path, code)]


def test_a_malformed_pointer_is_refused_with_its_place(client: TestClient, owner: Member) -> None:
    key = workflow(client, owner, ECHO, publish=False)
    refused = client.put(
        f"{BASE}/workflows/{key}/redaction",
        json={"pointers": ["/ok", "no-slash"]},
        headers=owner.headers,
    )
    body = assert_problem(refused, 422)
    assert body["errors"][0]["path"] == "/pointers/1"


def test_editors_can_neither_read_nor_change_the_rules(
    client: TestClient, db: Database, owner: Member
) -> None:
    key = workflow(client, owner, ECHO, publish=False)
    editor = make_user(db, "editor@example.com")
    add_member(db, "alpha", editor, Role.EDITOR)
    assert_problem(client.get(f"{BASE}/redaction", headers=editor.headers), 403)
    assert_problem(
        client.put(
            f"{BASE}/redaction/patterns/x1", json={"pattern": "abc"}, headers=editor.headers
        ),
        403,
    )
    assert_problem(
        client.put(
            f"{BASE}/workflows/{key}/redaction", json={"pointers": []}, headers=editor.headers
        ),
        403,
    )


def test_log_lines_naming_the_project_use_its_patterns(client: TestClient, owner: Member) -> None:
    client.put(
        f"{BASE}/redaction/patterns/ticket", json={"pattern": r"TCK-\d+"}, headers=owner.headers
    )
    stream = io.StringIO()
    try:
        with redirect_stderr(stream):
            logs.configure_logging("json")
            structlog.get_logger().info("handled TCK-42", project="alpha")
            structlog.get_logger().info("handled TCK-43", project="beta")
    finally:
        logs.configure_logging("json")  # back to the real stderr
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines[0]["event"] == "handled [redacted:ticket]"
    assert lines[1]["event"] == "handled TCK-43"  # another project: its own patterns (none)


def test_the_redaction_command_sets_lists_and_deletes(
    cli: Cli, client: TestClient, owner: Member
) -> None:
    key = workflow(client, owner, ECHO, publish=False)
    assert "pattern ticket set" in cli("redaction", "set-pattern", "ticket", r"TCK-\d+").output
    refused = cli("redaction", "set-pattern", "slow", r"(a+)+$", code=1)
    assert "/pattern: it backtracks too much" in refused.output
    assert (
        "/ssn, /items/*/email"
        in cli("redaction", "set-pointers", key, "/ssn", "/items/*/email").output
    )
    listed = json.loads(cli("redaction", "list", "--json").output)
    assert [p["pattern"] for p in listed["patterns"]] == [r"TCK-\d+"]
    assert listed["pointers"] == {key: ["/ssn", "/items/*/email"]}
    cli("redaction", "delete-pattern", "ticket")
    assert "no pointers" in cli("redaction", "set-pointers", key).output
    assert json.loads(cli("redaction", "list", "--json").output) == {
        **listed,
        "patterns": [],
        "pointers": {},
    }


def test_webhook_delivery_logs_are_shown_through_the_projects_patterns(
    client: TestClient, owner: Member
) -> None:
    from tests.integration.test_webhooks import make_hook

    key, path = make_hook(client, owner)
    assert client.post(path, json={}).status_code == 202
    listed = f"{BASE}/workflows/{key}/webhook/deliveries"
    [before] = client.get(listed, headers=owner.headers).json()["items"]
    assert before["client"] == "testclient"
    created = client.put(
        f"{BASE}/redaction/patterns/caller", json={"pattern": "test\\w+"}, headers=owner.headers
    )
    assert created.status_code == 201, created.text
    [after] = client.get(listed, headers=owner.headers).json()["items"]
    assert after["client"] == "[redacted:caller]"
