"""Schedule triggers on both databases: rows follow the live version, a due
time fires once however many workers tick at once, the catch-up policies,
the API (next fire times, validation as problem+json), tenant isolation."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from meshhook.domain.accounts import Actor, Role
from meshhook.services import runs, schedules, versions, workflows
from meshhook.services.runs import RunQuery
from meshhook.services.transactions import project_transaction
from meshhook.services.worker_rounds import Wanted, look
from meshhook.services.workflows import NewWorkflow
from meshhook.store.db import Database
from tests.factories import Member, assert_problem

BASE = "/api/v1/projects/alpha/workflows"


def scheduled(**config: Any) -> dict[str, Any]:
    return {
        "nodes": [
            {"id": "tick", "type": "schedule", "config": config},
            {"id": "echo", "type": "transform", "config": {"expression": "scheduled_for"}},
        ],
        "edges": [{"from": "tick", "to": "echo"}],
        "settings": {},
    }


def publish(db: Database, owner: Member, definition: dict[str, Any], name: str = "Nightly") -> str:
    created = workflows.create(
        db, owner.actor, "alpha", NewWorkflow(name=name), definition=definition
    )
    versions.publish(db, owner.actor, "alpha", created.workflow.key)
    return created.workflow.key


def tick(db: Database, now: datetime) -> int:
    """What a worker's round does about schedules at ``now``: the runs started."""
    due = look(db, "test-worker", 30, Wanted(schedules=True), now).schedules
    return schedules.fire(db, due, now)


def scheduled_runs(db: Database, owner: Member, key: str) -> list[Any]:
    page, _ = runs.list_runs(db, owner.actor, "alpha", RunQuery(workflow=key), limit=200)
    return page


def next_due(db: Database, owner: Member, key: str) -> datetime:
    [view] = schedules.describe(db, owner.actor, "alpha", key)
    return view.next_due_at


def test_a_published_schedule_fires_once_per_due_time(db: Database, owner: Member) -> None:
    key = publish(db, owner, scheduled(cron="0 9 * * *", timezone="Europe/Berlin"))
    due = next_due(db, owner, key)
    assert due.astimezone(UTC).hour in {7, 8}  # 09:00 Berlin
    assert tick(db, due - timedelta(seconds=1)) == 0
    assert tick(db, due + timedelta(seconds=2)) == 1
    assert tick(db, due + timedelta(seconds=3)) == 0  # moved on to tomorrow
    [run] = scheduled_runs(db, owner, key)
    assert str(run.trigger) == "schedule"
    assert run.created_by == "schedule"
    assert run.view.input == {
        "schedule": "tick",
        "scheduled_for": due.isoformat().replace("+00:00", "Z"),
    }
    assert next_due(db, owner, key) == due + timedelta(days=1)


def test_a_draft_schedule_fires_nothing_and_deleting_the_workflow_stops_it(
    db: Database, owner: Member
) -> None:
    created = workflows.create(
        db, owner.actor, "alpha", NewWorkflow(name="Draft"), definition=scheduled(every_seconds=60)
    )
    assert schedules.describe(db, owner.actor, "alpha", created.workflow.key) == []
    assert tick(db, datetime.now(UTC) + timedelta(days=1)) == 0
    key = publish(db, owner, scheduled(every_seconds=60), name="Live")
    assert len(schedules.describe(db, owner.actor, "alpha", key)) == 1
    workflows.delete(db, owner.actor, "alpha", key)
    assert tick(db, datetime.now(UTC) + timedelta(days=1)) == 0


def test_alias_production_decides_which_version_schedules(db: Database, owner: Member) -> None:
    key = publish(db, owner, scheduled(every_seconds=3600))
    versions.save(db, owner.actor, "alpha", key, scheduled(every_seconds=7200), base_version=1)
    versions.publish(db, owner.actor, "alpha", key)
    [view] = schedules.describe(db, owner.actor, "alpha", key)
    assert (view.version, view.spec.every_seconds) == (2, 7200)
    versions.set_alias(db, owner.actor, "alpha", key, "production", 1)
    [view] = schedules.describe(db, owner.actor, "alpha", key)
    assert (view.version, view.spec.every_seconds) == (1, 3600)
    assert view.upcoming[1] - view.upcoming[0] == timedelta(hours=1)
    due = view.next_due_at
    assert tick(db, due) == 1
    [run] = scheduled_runs(db, owner, key)
    assert (run.version, run.alias) == (1, "production")


def test_many_concurrent_ticks_fire_each_due_time_once(db: Database, owner: Member) -> None:
    key = publish(db, owner, scheduled(every_seconds=60, catch_up="all", max_catch_up=5))
    due = next_due(db, owner, key)
    started: list[int] = []
    errors: list[BaseException] = []

    def loop(offset: int) -> None:
        try:
            for minute in range(4):
                started.append(tick(db, due + timedelta(minutes=minute, seconds=offset)))
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    fired = [run.view.input["scheduled_for"] for run in scheduled_runs(db, owner, key)]
    assert len(fired) == len(set(fired)) == sum(started)
    assert len(fired) == 4  # due, due+1m, due+2m, due+3m


@pytest.mark.parametrize(("policy", "expected"), [("none", 0), ("latest", 1), ("all", 3)])
def test_catch_up_after_a_pause(db: Database, owner: Member, policy: str, expected: int) -> None:
    key = publish(db, owner, scheduled(cron="0 * * * *", catch_up=policy, max_catch_up=3))
    due = next_due(db, owner, key)
    later = due + timedelta(hours=6, minutes=20)  # nothing ran for six hours
    assert tick(db, later) == expected
    fired = sorted(run.view.input["scheduled_for"] for run in scheduled_runs(db, owner, key))
    iso = [(due + timedelta(hours=h)).isoformat().replace("+00:00", "Z") for h in range(7)]
    assert fired == iso[7 - expected :] if expected else fired == []
    assert next_due(db, owner, key) == due + timedelta(hours=7)


def test_the_api_shows_next_fire_times_and_hides_them_from_outsiders(
    client: TestClient, db: Database, owner: Member, outsider: Member
) -> None:
    key = publish(db, owner, scheduled(cron="*/15 * * * *", timezone="Asia/Tokyo"))
    body = client.get(f"{BASE}/{key}/schedule?count=3", headers=owner.headers).json()
    [item] = body["items"]
    assert (item["node_id"], item["cron"], item["timezone"], item["catch_up"]) == (
        "tick",
        "*/15 * * * *",
        "Asia/Tokyo",
        "latest",
    )
    moments = [datetime.fromisoformat(m) for m in item["upcoming"]]
    assert len(moments) == 3
    assert moments[1] - moments[0] == timedelta(minutes=15)
    assert_problem(client.get(f"{BASE}/{key}/schedule", headers=outsider.headers), 404)
    assert_problem(client.get(f"{BASE}/{key}/schedule?count=0", headers=owner.headers), 422)
    # The other project's scope sees none of alpha's schedule rows.
    with project_transaction(db, outsider.actor, "beta", Role.VIEWER, write=False) as scope:
        with project_transaction(db, owner.actor, "alpha", Role.VIEWER, write=False) as mine:
            workflow_id = mine.find_workflow(key).id
            assert len(mine.schedules.for_workflow(workflow_id)) == 1
        assert scope.schedules.for_workflow(workflow_id) == []


def test_a_bad_cron_or_time_zone_is_a_problem_with_a_pointer(
    client: TestClient, owner: Member
) -> None:
    created = client.post(
        BASE,
        json={"name": "Bad", "definition": scheduled(cron="0 25 * * *", timezone="Mars/Base")},
        headers=owner.headers,
    )
    assert created.status_code == 201, created.text
    problem = assert_problem(
        client.post(f"{BASE}/bad/versions/publish", json={}, headers=owner.headers), 422
    )
    found = {(e["path"], e["code"]) for e in problem["errors"]}
    assert ("/nodes/0/config/cron", "config.cron") in found
    assert ("/nodes/0/config/timezone", "config.timezone") in found


def _scheduled_in(db: Database, actor: Any, project: str) -> None:
    created = workflows.create(
        db, actor, project, NewWorkflow(name="Every"), definition=scheduled(every_seconds=60)
    )
    versions.publish(db, actor, project, created.workflow.key)


def test_raw_sql_on_schedules_sees_only_the_scoped_project_and_the_due_function_is_narrow(
    postgres_db: Database, alice: Member
) -> None:
    _scheduled_in(postgres_db, alice.actor, "alpha")
    _scheduled_in(postgres_db, Actor.cli(), "beta")
    with project_transaction(postgres_db, alice.actor, "alpha", Role.VIEWER) as scope:
        seen = {row.project_id for row in scope.session.execute(text("SELECT * FROM schedules"))}
        assert seen == {scope.project.id}
    with postgres_db.engine.connect() as connection:
        [row] = connection.execute(
            text(
                "SELECT prosecdef, proconfig,"
                " has_function_privilege(:app, p.oid, 'EXECUTE') AS app_may_call,"
                " coalesce(array_to_string(proacl, ','), '') AS acl"
                " FROM pg_proc p WHERE proname = 'meshhook_due_schedules'"
            ),
            {"app": postgres_db.app_role},
        ).all()
    assert row.prosecdef
    assert any(setting.startswith("search_path=pg_catalog, ") for setting in row.proconfig)
    assert not any(entry.startswith("=") for entry in row.acl.split(",")), row.acl
    assert row.app_may_call
    # The worker's tick finds both projects' schedules through it, and fires each once.
    assert tick(postgres_db, datetime.now(UTC) + timedelta(minutes=1, seconds=1)) == 2


def test_an_imported_bundle_starts_its_schedule(
    client: TestClient, db: Database, owner: Member
) -> None:
    key = publish(db, owner, scheduled(every_seconds=300))
    exported = client.get(f"{BASE}/{key}/export", headers=owner.headers)
    assert exported.status_code == 200
    workflows.delete(db, owner.actor, "alpha", key)
    imported = client.post(
        "/api/v1/projects/alpha/import",
        content=exported.content,
        headers={**owner.headers, "Content-Type": "application/json"},
    )
    assert imported.status_code in {200, 201}, imported.text
    [view] = schedules.describe(db, owner.actor, "alpha", key)
    assert view.spec.every_seconds == 300
