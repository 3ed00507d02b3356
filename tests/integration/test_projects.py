from __future__ import annotations

from fastapi.testclient import TestClient

from meshhook.domain.accounts import Role
from meshhook.store.db import Database
from tests.factories import Member, add_member, assert_problem, make_user


def test_created_project_lists_the_creator_as_owner(client: TestClient, owner: Member) -> None:
    created = client.post(
        "/api/v1/projects", json={"key": "payments", "name": "Payments"}, headers=owner.headers
    )
    assert created.status_code == 201
    assert created.headers["location"] == "/api/v1/projects/payments"
    keys = [
        project["key"] for project in client.get("/api/v1/projects", headers=owner.headers).json()
    ]
    assert keys == ["alpha", "payments"]
    members = client.get("/api/v1/projects/payments/members", headers=owner.headers).json()
    assert [(m["email"], m["role"]) for m in members] == [("alice@example.com", "owner")]


def test_duplicate_and_invalid_project_keys_are_refused(client: TestClient, owner: Member) -> None:
    duplicate = client.post(
        "/api/v1/projects", json={"key": "alpha", "name": "Again"}, headers=owner.headers
    )
    assert_problem(duplicate, 409)
    invalid = assert_problem(
        client.post(
            "/api/v1/projects", json={"key": "Not A Slug", "name": "x"}, headers=owner.headers
        ),
        422,
    )
    assert invalid["errors"][0]["path"] == "/key"


def test_a_non_member_gets_404_as_if_the_project_did_not_exist(
    client: TestClient, owner: Member, outsider: Member
) -> None:
    hidden = assert_problem(client.get("/api/v1/projects/alpha", headers=outsider.headers), 404)
    missing = assert_problem(client.get("/api/v1/projects/nope", headers=outsider.headers), 404)
    assert hidden["detail"].replace("alpha", "X") == missing["detail"].replace("nope", "X")
    assert_problem(client.get("/api/v1/projects/alpha/members", headers=outsider.headers), 404)
    assert_problem(client.get("/api/v1/projects/alpha/audit", headers=outsider.headers), 404)


def test_only_owners_manage_members(client: TestClient, owner: Member, db: Database) -> None:
    admin = make_user(db, "adam@example.com")
    add_member(db, "alpha", admin, Role.ADMIN)
    make_user(db, "vera@example.com")
    refused = client.put(
        "/api/v1/projects/alpha/members/vera@example.com",
        json={"role": "viewer"},
        headers=admin.headers,
    )
    body = assert_problem(refused, 403)
    assert body["required_role"] == "owner"
    added = client.put(
        "/api/v1/projects/alpha/members/vera@example.com",
        json={"role": "editor"},
        headers=owner.headers,
    )
    assert added.json()["role"] == "editor"
    roles = {
        m["email"]: m["role"]
        for m in client.get("/api/v1/projects/alpha/members", headers=admin.headers).json()
    }
    assert roles == {
        "adam@example.com": "admin",
        "alice@example.com": "owner",
        "vera@example.com": "editor",
    }


def test_the_last_owner_cannot_leave_or_be_demoted(client: TestClient, owner: Member) -> None:
    assert_problem(
        client.delete("/api/v1/projects/alpha/members/alice@example.com", headers=owner.headers),
        409,
    )
    assert_problem(
        client.put(
            "/api/v1/projects/alpha/members/alice@example.com",
            json={"role": "admin"},
            headers=owner.headers,
        ),
        409,
    )


def test_membership_changes_are_audited(client: TestClient, owner: Member, db: Database) -> None:
    make_user(db, "vera@example.com")
    client.put(
        "/api/v1/projects/alpha/members/vera@example.com",
        json={"role": "viewer"},
        headers=owner.headers,
    )
    client.put(
        "/api/v1/projects/alpha/members/vera@example.com",
        json={"role": "editor"},
        headers=owner.headers,
    )
    client.delete("/api/v1/projects/alpha/members/vera@example.com", headers=owner.headers)
    entries = client.get("/api/v1/projects/alpha/audit", headers=owner.headers).json()["items"]
    actions = [entry["action"] for entry in entries]
    assert actions[:3] == ["member.remove", "member.role_change", "member.add"]
    assert entries[1]["summary"] == {"from": "viewer", "to": "editor"}
    assert entries[1]["actor"] == "alice@example.com"
    assert entries[1]["request_id"]


def test_audit_log_pages_with_an_opaque_cursor(
    client: TestClient, owner: Member, db: Database
) -> None:
    for index in range(5):
        make_user(db, f"user{index}@example.com")
        client.put(
            f"/api/v1/projects/alpha/members/user{index}@example.com",
            json={"role": "viewer"},
            headers=owner.headers,
        )
    first = client.get("/api/v1/projects/alpha/audit?limit=4", headers=owner.headers).json()
    second = client.get(
        f"/api/v1/projects/alpha/audit?limit=4&cursor={first['next_cursor']}", headers=owner.headers
    ).json()
    ids = [entry["id"] for entry in first["items"] + second["items"]]
    assert len(ids) == 6
    assert ids == sorted(ids, reverse=True)
    assert second["next_cursor"] is None
    filtered = client.get(
        "/api/v1/projects/alpha/audit?action=project.create", headers=owner.headers
    ).json()["items"]
    assert [entry["action"] for entry in filtered] == ["project.create"]
