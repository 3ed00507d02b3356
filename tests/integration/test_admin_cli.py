"""The admin CLI works straight on the database, on both backends."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from meshhook.cli.main import app
from meshhook.store import migrate
from meshhook.store.db import Database

runner = CliRunner()


@pytest.fixture(autouse=True)
def _environment(
    monkeypatch: pytest.MonkeyPatch, db: Database, db_url: str, tmp_path: Path
) -> None:
    monkeypatch.setenv("MESHHOOK_DATABASE_URL", db_url)
    monkeypatch.setenv("MESHHOOK_HOME", str(tmp_path / "home"))


def _ok(*args: str, stdin: str | None = None) -> str:
    result = runner.invoke(app, list(args), input=stdin)
    assert result.exit_code == 0, result.output
    return result.output


def test_users_projects_members_and_tokens_from_the_cli(client: TestClient) -> None:
    _ok("users", "create", "ops@example.com", "--password-stdin", stdin="a long enough password\n")
    _ok("users", "create", "dev@example.com")
    _ok("projects", "create", "payments", "--name", "Payments", "--owner", "ops@example.com")
    _ok("members", "add", "payments", "dev@example.com", "--role", "editor")
    output = _ok("tokens", "create", "dev@example.com", "--name", "laptop", "--expires-in", "30")
    token = output.strip().splitlines()[-1]
    assert token.startswith("mh_")

    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["projects"] == [{"key": "payments", "name": "Payments", "role": "editor"}]
    login = client.post(
        "/api/v1/auth/login",
        json={"email": "ops@example.com", "password": "a long enough password"},
    )
    assert login.status_code == 200


def test_cli_errors_are_one_clear_line_and_exit_1() -> None:
    result = runner.invoke(app, ["members", "add", "nope", "x@example.com", "--role", "viewer"])
    assert result.exit_code == 1
    assert "project 'nope' was not found" in result.output
    assert "Traceback" not in result.output
    short = runner.invoke(
        app, ["users", "create", "a@example.com", "--password-stdin"], input="short\n"
    )
    assert short.exit_code == 1
    assert "at least 12 characters" in short.output
    twice = runner.invoke(app, ["users", "create", "a@example.com"])
    assert twice.exit_code == 0
    again = runner.invoke(app, ["users", "create", "A@example.com"])
    assert again.exit_code == 1
    assert "already exists" in again.output


def test_bad_role_is_a_usage_error() -> None:
    result = runner.invoke(app, ["members", "add", "p", "x@example.com", "--role", "god"])
    assert result.exit_code == 2


def test_db_current_reports_the_head() -> None:
    assert f"current: {migrate.head_revisions()[0]}" in _ok("db", "current")


def test_error_messages_with_brackets_are_printed_verbatim() -> None:
    result = runner.invoke(app, ["members", "add", "[/x]", "x@example.com", "--role", "viewer"])
    assert result.exit_code == 1
    assert "'[/x]' was not found" in result.output
