"""A save costs few statements (issue #15 §4): after the token and the project,
one statement reads and locks the workflow with its head and the project's
secret context, and on PostgreSQL the save's four rows (version, head row,
workflow, audit entry) go in one more (``store/batched_writes.py``)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from meshhook.domain.errors import UniqueConflict
from meshhook.store import batched_writes
from meshhook.store.batched_writes import Write
from meshhook.store.db import Database
from meshhook.store.tables import audit_log, projects, workflows
from meshhook.store.workflows import WorkflowStore
from tests.factories import Member
from tests.integration.test_auth_in_transaction import set_last_used
from tests.integration.test_secret_placement import WORKFLOWS, bearer, create, with_call
from tests.integration.test_workflow_load_reads import statements


def test_a_patch_save_is_a_handful_of_statements(
    client: TestClient, owner: Member, db: Database
) -> None:
    made = create(client, owner, with_call(**bearer()))
    assert made.status_code == 201
    set_last_used(db, owner, datetime.now(UTC))  # no bookkeeping write
    patch = [{"op": "replace", "path": "/nodes/2/config/url", "value": "https://x.example/a"}]
    headers = {
        **owner.headers,
        "Content-Type": "application/json-patch+json",
        "If-Match": '"1"',
        "Prefer": "return=minimal",
    }
    with statements(db) as sent:
        saved = client.patch(f"{WORKFLOWS}/sync/definition", json=patch, headers=headers)
    assert saved.status_code == 200, saved.text
    assert saved.headers["etag"] == '"2"'
    if db.is_postgres:
        # The token (which also starts the tenant scope), the project, the
        # workflow locked with its head, then every row of the save at once.
        assert len(sent) == 4, sent
        writes = sent[-1]
        for table in ("workflow_versions", "workflow_heads", "workflows", "audit_log"):
            assert table in writes
    else:
        # SQLite (no round trips): BEGIN, token, project, workflow, four writes.
        assert len(sent) == 8, sent
    read = client.get(f"{WORKFLOWS}/sync", headers=owner.headers).json()
    assert read["version"] == 2
    assert read["definition"]["nodes"][2]["config"]["url"] == "https://x.example/a"


def _audit_count(db: Database) -> int:
    with db.session() as session:
        return int(session.execute(select(func.count()).select_from(audit_log)).scalar_one())


def _entry(project_id: object) -> Write:
    now = datetime.now(UTC)
    return Write(
        audit_log,
        {
            "project_id": project_id,
            "actor": "test",
            "action": "test.batched",
            "object_type": "workflow",
            "object_id": "x",
            "summary": {"n": 1},
            "created_at": now,
        },
    )


def test_writes_in_a_block_are_seen_by_a_read_inside_it_and_lost_with_an_error(
    db: Database, owner: Member
) -> None:
    before = _audit_count(db)
    with db.session() as session, session.begin():
        project_id = session.execute(select(projects.c.id)).scalars().first()
        with batched_writes.together(session):
            batched_writes.write(session, _entry(project_id))
            batched_writes.write(session, _entry(project_id))
            # A read inside the block sees the waiting writes (sent first).
            seen = session.execute(select(func.count()).select_from(audit_log)).scalar_one()
            assert seen == before + 2
            batched_writes.write(session, _entry(project_id))
    assert _audit_count(db) == before + 3

    with pytest.raises(RuntimeError, match="the block fails"):
        _write_then_fail(db, project_id)
    assert _audit_count(db) == before + 3


def test_a_write_sent_now_raises_its_conflict_where_it_is_made(
    client: TestClient, owner: Member, db: Database
) -> None:
    assert create(client, owner, with_call(**bearer()), name="One").status_code == 201
    assert create(client, owner, with_call(**bearer()), name="Two").status_code == 201
    with db.session() as session, session.begin():
        first, second = session.execute(select(workflows.c.id, workflows.c.project_id)).all()
        taken = session.execute(
            select(workflows.c.key).where(workflows.c.id == first.id)
        ).scalar_one()
        store = WorkflowStore(session, second.project_id)
        with batched_writes.together(session), pytest.raises(UniqueConflict):
            store.update_fields(second.id, key=taken)


def _write_then_fail(db: Database, project_id: object) -> None:
    with db.session() as session, session.begin(), batched_writes.together(session):
        batched_writes.write(session, _entry(project_id))
        raise RuntimeError("the block fails")


def test_a_create_reads_nothing_back_and_writes_its_version_at_once(
    client: TestClient, owner: Member, db: Database
) -> None:
    set_last_used(db, owner, datetime.now(UTC))  # no bookkeeping write
    with statements(db) as sent:
        made = create(client, owner, with_call(**bearer()))
    assert made.status_code == 201, made.text
    # Neither the head row nor the workflow is read back for version 1.
    assert not any(s.lstrip().upper().startswith("SELECT") and "workflow_heads" in s for s in sent)
    if db.is_postgres:
        # The role check before the body (token, project); then the create's
        # transaction: scope, project, the free key, the workflow row (its key
        # may conflict), version 1 with its head row and the audit entry in one
        # statement, the secrets' context for its problems.
        assert len(sent) == 8, "\n".join(s[:70] for s in sent)
        assert sent[-2].lstrip().startswith("WITH write_0 AS")
    read = client.get(f"{WORKFLOWS}/{made.json()['key']}", headers=owner.headers)
    assert read.status_code == 200
    assert read.json()["version"] == 1
