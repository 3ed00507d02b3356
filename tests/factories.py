"""Small helpers that set up users, projects and tokens through the services."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from meshhook.api.schemas.problems import Problem
from meshhook.domain.accounts import Actor, Role
from meshhook.services import accounts, projects
from meshhook.store.db import Database

PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Member:
    email: str
    token: str
    actor: Actor

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def make_user(db: Database, email: str, *, admin: bool = False) -> Member:
    cli = Actor.cli()
    user = accounts.create_user(db, cli, email, password=PASSWORD, is_admin=admin)
    issued = accounts.create_token(db, cli, email, name="test")
    actor = Actor(user_id=user.id, label=user.email, is_admin=admin, token_id=issued.token.id)
    return Member(email=user.email, token=issued.value, actor=actor)


def make_project(db: Database, key: str, owner: Member) -> None:
    projects.create_project(db, Actor.cli(), key, key.title(), owner_email=owner.email)


def add_member(db: Database, key: str, member: Member, role: Role) -> None:
    projects.set_member(db, Actor.cli(), key, member.email, role)


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    """Assert an RFC 9457 problem+json answer with ``status``; return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    assert body["type"].startswith("https://")
    Problem.model_validate(body)  # the shape the OpenAPI document declares
    return body
