"""A workflow created from a template of another project the caller belongs
to (on PostgreSQL row-level security hid the template's versions: 500)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from meshhook.domain.accounts import Role
from meshhook.store.db import Database
from tests.definitions import linear
from tests.factories import Member, add_member, assert_problem, make_project


def test_template_from_another_project_creates_a_workflow_on_both_databases(
    client: TestClient, db: Database, owner: Member
) -> None:
    make_project(db, "beta", owner)
    source = linear("https://templates.example.com/hook")
    template = client.post(
        "/api/v1/projects/beta/workflows",
        json={"name": "House style", "is_template": True, "definition": source},
        headers=owner.headers,
    )
    assert template.status_code == 201, template.text
    made = client.post(
        "/api/v1/projects/alpha/workflows",
        json={"name": "Mine", "template": template.json()["id"]},
        headers=owner.headers,
    )
    assert made.status_code == 201, made.text
    assert made.json()["definition"] == source
    # The session went back to alpha: the new workflow is there, readable.
    read = client.get("/api/v1/projects/alpha/workflows/mine", headers=owner.headers)
    assert read.json()["definition"] == source


def test_a_template_in_a_project_the_caller_is_not_in_is_404(
    client: TestClient, db: Database, owner: Member, outsider: Member
) -> None:
    template = client.post(
        "/api/v1/projects/beta/workflows",
        json={"name": "Secret style", "is_template": True, "definition": linear()},
        headers=outsider.headers,
    )
    assert template.status_code == 201, template.text
    body = assert_problem(
        client.post(
            "/api/v1/projects/alpha/workflows",
            json={"name": "Mine", "template": template.json()["id"]},
            headers=owner.headers,
        ),
        404,
    )
    assert body["errors"][0]["code"] == "template.unknown"
    # A viewer of beta may use its templates in a project where they edit.
    add_member(db, "beta", owner, Role.VIEWER)
    made = client.post(
        "/api/v1/projects/alpha/workflows",
        json={"name": "Mine", "template": template.json()["id"]},
        headers=owner.headers,
    )
    assert made.status_code == 201, made.text
