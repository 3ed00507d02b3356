"""Problems are derived data (issue #15 §3): versions do not store them, so a
draft with hundreds of problems costs no more per edit than a valid one; they
are computed in the project's context (``secret.unknown`` included) and follow
its secrets."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from bench.workloads import draft, set_edit
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text

from meshhook.domain.canonical import canonical_bytes
from meshhook.services import versions, workflows
from meshhook.services.transactions import PROBLEMS
from meshhook.services.workflows import NewWorkflow
from meshhook.store.db import Database
from meshhook.store.tables import workflow_versions
from tests.conftest import fresh_database
from tests.definitions import linear
from tests.factories import Member, make_project, make_user

BASE = "/api/v1/projects/alpha/workflows"


def test_versions_have_no_problems_column(db: Database) -> None:
    assert "problems" not in workflow_versions.c
    columns = {c["name"] for c in inspect(db.engine).get_columns("workflow_versions")}
    assert "problems" not in columns


def _file_bytes(db: Database) -> int:
    """The database file's size once the WAL is checkpointed into it (pages x page size)."""
    with db.engine.connect() as connection:
        pages = connection.execute(text("PRAGMA page_count")).scalar_one()
        size = connection.execute(text("PRAGMA page_size")).scalar_one()
    return int(pages * size)


@pytest.fixture
def sqlite_db(tmp_path: Path, sqlite_template: Path) -> Iterator[Database]:
    path = tmp_path / "file.db"
    shutil.copyfile(sqlite_template, path)
    with fresh_database(f"sqlite:///{path}") as database:
        yield database


def test_a_one_node_edit_of_a_draft_with_hundreds_of_problems_costs_under_five_percent(
    sqlite_db: Database,
) -> None:
    """Measured as the SQLite database file after a WAL checkpoint (the issue's measure;
    test_version_storage bounds the stored rows on both databases)."""
    db = sqlite_db
    owner = make_user(db, "alice@example.com")
    make_project(db, "alpha", owner)
    current = draft(1_000)
    size = len(canonical_bytes(current))
    created = workflows.create(
        db, owner.actor, "alpha", NewWorkflow(name="Big"), definition=current
    )
    assert len(created.problems) == 201  # 200 shown and problems.truncated
    head = created.workflow.head_version
    # Warm up: the first saves grow the file by whole pages for the tables' B-trees.
    for step in range(5):
        set_edit(current, 1_000 + step)
        head = versions.save(db, owner.actor, "alpha", "big", current, base_version=head)
        head = head.workflow.head_version
    before = _file_bytes(db)
    edits = 40
    for step in range(edits):
        set_edit(current, step)
        saved = versions.save(db, owner.actor, "alpha", "big", current, base_version=head)
        assert len(saved.problems) > 100
        head = saved.workflow.head_version
    grown = _file_bytes(db) - before
    assert grown / edits <= 0.05 * size, (grown / edits, size)


def test_a_draft_shows_unknown_secrets_and_follows_the_projects_secrets(
    client: TestClient, owner: Member
) -> None:
    definition = linear()
    definition["nodes"][2]["config"]["headers"] = {"Authorization": "Bearer {{ secrets.API }}"}
    made = client.post(BASE, json={"name": "Sync", "definition": definition}, headers=owner.headers)
    assert made.status_code == 201, made.text
    codes = [problem["code"] for problem in made.json()["problems"]]
    assert codes == ["secret.unknown"]
    # What the save showed is what publishing refuses.
    refused = client.post(f"{BASE}/sync/versions/publish", json={}, headers=owner.headers)
    assert refused.status_code == 422
    assert [p["code"] for p in refused.json()["errors"]] == ["secret.unknown"]
    created = client.put(
        "/api/v1/projects/alpha/secrets/API", json={"value": "s3cret"}, headers=owner.headers
    )
    assert created.status_code in (200, 201), created.text
    # Same content, same hash: the cache is keyed by the project's secrets too.
    assert client.get(f"{BASE}/sync", headers=owner.headers).json()["problems"] == []
    assert client.get(f"{BASE}/sync/versions/1", headers=owner.headers).json()["problems"] == []
    PROBLEMS.clear()
    assert client.get(f"{BASE}/sync", headers=owner.headers).json()["problems"] == []
    published = client.post(f"{BASE}/sync/versions/publish", json={}, headers=owner.headers)
    assert published.status_code == 200, published.text
