from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import update

from meshhook.services.transactions import transaction
from meshhook.store.db import Database
from meshhook.store.tables import api_tokens
from tests.factories import PASSWORD, Member, assert_problem


def test_me_answers_for_a_valid_token(client: TestClient, owner: Member) -> None:
    body = client.get("/api/v1/me", headers=owner.headers).json()
    assert body["email"] == "alice@example.com"
    assert body["projects"] == [{"key": "alpha", "name": "Alpha", "role": "owner"}]


def test_missing_token_is_401_with_a_challenge(client: TestClient) -> None:
    response = client.get("/api/v1/me")
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_unknown_malformed_and_wrong_scheme_tokens_are_401(client: TestClient) -> None:
    for header in ("Bearer mh_00000000_nope-nope-nope-nope", "Bearer x", "Basic abc"):
        assert_problem(client.get("/api/v1/me", headers={"Authorization": header}), 401)


def test_expired_token_is_401_saying_so(client: TestClient, owner: Member, db: Database) -> None:
    with transaction(db) as session:
        session.execute(
            update(api_tokens)
            .where(api_tokens.c.id == owner.actor.token_id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    body = assert_problem(client.get("/api/v1/me", headers=owner.headers), 401)
    assert "expired" in str(body["detail"])


def test_created_token_is_shown_once_and_revocation_locks_it_out(
    client: TestClient, owner: Member
) -> None:
    created = client.post(
        "/api/v1/me/tokens", json={"name": "ci", "expires_in_days": 30}, headers=owner.headers
    )
    assert created.status_code == 201
    token = created.json()["token"]
    assert token.startswith(created.json()["prefix"])
    mine = client.get("/api/v1/me/tokens", headers=owner.headers).json()
    assert all("token" not in item for item in mine)
    new_headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=new_headers).status_code == 200
    revoked = client.delete(f"/api/v1/me/tokens/{created.json()['id']}", headers=owner.headers)
    assert revoked.status_code == 204
    body = assert_problem(client.get("/api/v1/me", headers=new_headers), 401)
    assert "revoked" in str(body["detail"])


def test_tokens_of_other_users_cannot_be_revoked(
    client: TestClient, owner: Member, outsider: Member
) -> None:
    response = client.delete(f"/api/v1/me/tokens/{owner.actor.token_id}", headers=outsider.headers)
    assert_problem(response, 404)
    assert client.get("/api/v1/me", headers=owner.headers).status_code == 200


def test_login_sets_an_httponly_session_cookie_and_csrf_guards_writes(
    client: TestClient, owner: Member
) -> None:
    login = client.post(
        "/api/v1/auth/login", json={"email": "Alice@Example.com", "password": PASSWORD}
    )
    assert login.status_code == 200
    cookie_header = "; ".join(login.headers.get_list("set-cookie"))
    assert "meshhook_session=" in cookie_header
    assert "HttpOnly" in cookie_header.split("meshhook_csrf")[0]
    csrf = login.json()["csrf_token"]

    assert client.get("/api/v1/me").json()["email"] == "alice@example.com"
    without_csrf = client.post("/api/v1/projects", json={"key": "gamma", "name": "Gamma"})
    assert_problem(without_csrf, 403)
    with_csrf = client.post(
        "/api/v1/projects", json={"key": "gamma", "name": "Gamma"}, headers={"X-CSRF-Token": csrf}
    )
    assert with_csrf.status_code == 201

    assert client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert_problem(client.get("/api/v1/me"), 401)


def test_wrong_password_and_unknown_email_get_the_same_401(
    client: TestClient, owner: Member
) -> None:
    wrong = client.post(
        "/api/v1/auth/login", json={"email": "alice@example.com", "password": "nope"}
    )
    unknown = client.post(
        "/api/v1/auth/login", json={"email": "nobody@example.com", "password": "nope"}
    )
    assert assert_problem(wrong, 401)["detail"] == assert_problem(unknown, 401)["detail"]
