"""UI sessions listed and revoked; disabled users refused at once (API and CLI)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from meshhook.cli.main import app
from meshhook.store.db import Database
from tests.factories import PASSWORD, Member, assert_problem, make_user

runner = CliRunner()


def _session(client: TestClient, email: str) -> dict[str, str]:
    """Sign in and return headers that use the new session (as a bearer)."""
    response = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    value = response.cookies["meshhook_session"]
    client.cookies.clear()
    return {"Authorization": f"Bearer {value}"}


def test_sessions_are_listed_and_one_can_be_revoked(client: TestClient, owner: Member) -> None:
    laptop, phone = _session(client, owner.email), _session(client, owner.email)
    listed = client.get("/api/v1/me/sessions", headers=laptop).json()
    assert len(listed) == 2
    assert [item["current"] for item in listed].count(True) == 1
    phone_id = next(item["id"] for item in listed if not item["current"])
    assert client.delete(f"/api/v1/me/sessions/{phone_id}", headers=laptop).status_code == 204
    assert_problem(client.get("/api/v1/me", headers=phone), 401)
    assert client.get("/api/v1/me", headers=laptop).status_code == 200
    assert len(client.get("/api/v1/me/sessions", headers=owner.headers).json()) == 1


def test_signing_out_everywhere_else_keeps_the_current_session(
    client: TestClient, owner: Member, outsider: Member
) -> None:
    current, other = _session(client, owner.email), _session(client, owner.email)
    strangers = _session(client, outsider.email)
    assert client.delete("/api/v1/me/sessions", headers=current).status_code == 204
    assert_problem(client.get("/api/v1/me", headers=other), 401)
    assert client.get("/api/v1/me", headers=current).status_code == 200
    assert client.get("/api/v1/me", headers=strangers).status_code == 200
    # Another user's session cannot be revoked (nor told apart from a missing one).
    stranger_id = client.get("/api/v1/me/sessions", headers=strangers).json()[0]["id"]
    assert_problem(client.delete(f"/api/v1/me/sessions/{stranger_id}", headers=current), 404)


def test_a_disabled_user_is_refused_at_once_and_can_be_enabled(
    client: TestClient, owner: Member, db: Database
) -> None:
    root = make_user(db, "root@example.com", admin=True)
    session = _session(client, owner.email)
    assert_problem(
        client.post("/api/v1/users/root@example.com/disable", headers=owner.headers), 403
    )
    disabled = client.post("/api/v1/users/alice@example.com/disable", headers=root.headers)
    assert disabled.status_code == 200
    assert disabled.json()["disabled_at"]
    for headers in (owner.headers, session):
        body = assert_problem(client.get("/api/v1/me", headers=headers), 401)
        assert "disabled" in body["detail"]
    login = client.post("/api/v1/auth/login", json={"email": owner.email, "password": PASSWORD})
    assert_problem(login, 401)
    assert (
        client.post("/api/v1/users/alice@example.com/enable", headers=root.headers).json()[
            "disabled_at"
        ]
        is None
    )
    assert client.get("/api/v1/me", headers=owner.headers).status_code == 200
    assert_problem(client.get("/api/v1/me", headers=session), 401)  # sessions were ended
    body = assert_problem(
        client.post("/api/v1/users/root@example.com/disable", headers=root.headers), 409
    )
    assert "yourself" in body["detail"]


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, db_url: str, tmp_path: Path) -> None:
    monkeypatch.setenv("MESHHOOK_DATABASE_URL", db_url)
    monkeypatch.setenv("MESHHOOK_HOME", str(tmp_path / "cli-home"))


def _cli(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_admin_cli_lists_and_revokes_sessions_and_disables_users(
    client: TestClient, owner: Member, cli_env: None
) -> None:
    session = _session(client, owner.email)
    session_id = client.get("/api/v1/me/sessions", headers=session).json()[0]["id"]
    assert session_id in _cli("sessions", "list", owner.email)
    assert "revoked 1 session" in _cli("sessions", "revoke", owner.email)
    assert_problem(client.get("/api/v1/me", headers=session), 401)
    assert "no open sessions" in _cli("sessions", "list", owner.email)

    _cli("users", "disable", owner.email)
    assert_problem(client.get("/api/v1/me", headers=owner.headers), 401)
    _cli("users", "enable", owner.email)
    assert client.get("/api/v1/me", headers=owner.headers).status_code == 200
    missing = runner.invoke(app, ["users", "disable", "nobody@example.com"])
    assert missing.exit_code == 1
    assert "no user" in missing.output
