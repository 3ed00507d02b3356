"""Retention on both databases: the policy over the API and CLI (roles, audit,
tenant isolation), batch deletion of only the expired finished runs of the
right project, scrubbing that keeps metadata and statistics, dry runs that
delete nothing, and the worker's periodic pass."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from meshhook.domain.accounts import Role
from meshhook.domain.runs.events import RunStatus
from meshhook.domain.stats import Window
from meshhook.services import retention
from meshhook.services.transactions import project_transaction
from meshhook.store.db import Database
from meshhook.store.tables import run_stats, runs
from tests.factories import Member, add_member, assert_problem, make_user
from tests.integration.conftest import Cli
from tests.integration.retention_helpers import (
    CLI,
    aged_run,
    event_count,
    event_data,
    make_workflow,
    run_ids,
)

ALPHA = "/api/v1/projects/alpha"
SMALL = retention.Knobs(batch_runs=3, batch_ms=5.0)


def _put(client: TestClient, member: Member, body: dict[str, object], project: str = "alpha"):  # type: ignore[no-untyped-def]
    return client.put(f"/api/v1/projects/{project}/retention", json=body, headers=member.headers)


def test_the_default_keeps_runs_forever(client: TestClient, owner: Member) -> None:
    found = client.get(f"{ALPHA}/retention", headers=owner.headers)
    assert found.status_code == 200, found.text
    assert found.json() == {
        "delete_after_days": None,
        "scrub_after_days": None,
        "keeps_forever": True,
        "updated_at": None,
        "updated_by": None,
    }


def test_an_admin_sets_the_policy_and_the_change_is_audited(
    client: TestClient, owner: Member
) -> None:
    first = _put(client, owner, {"delete_after_days": 90, "scrub_after_days": 30})
    assert first.status_code == 200, first.text
    assert first.json()["keeps_forever"] is False
    _put(client, owner, {"delete_after_days": 60})
    shown = client.get(f"{ALPHA}/retention", headers=owner.headers).json()
    assert (shown["delete_after_days"], shown["scrub_after_days"]) == (60, None)
    assert shown["updated_by"] == owner.email
    audit = client.get(f"{ALPHA}/audit", headers=owner.headers).json()["items"]
    changes = [entry for entry in audit if entry["action"] == "retention.update"]
    assert [entry["summary"] for entry in changes] == [
        {
            "before": {"delete_after_days": 90, "scrub_after_days": 30},
            "after": {"delete_after_days": 60, "scrub_after_days": None},
        },
        {
            "before": {"delete_after_days": None, "scrub_after_days": None},
            "after": {"delete_after_days": 90, "scrub_after_days": 30},
        },
    ]


def test_only_admins_change_or_apply_it_and_other_projects_see_nothing(
    client: TestClient, db: Database, owner: Member, outsider: Member
) -> None:
    editor = make_user(db, "eddie@example.com")
    add_member(db, "alpha", editor, Role.EDITOR)
    assert client.get(f"{ALPHA}/retention", headers=editor.headers).status_code == 200
    assert_problem(_put(client, editor, {"delete_after_days": 1}), 403)
    assert_problem(client.post(f"{ALPHA}/retention/run", headers=editor.headers), 403)
    # mallory owns beta, not alpha: alpha's policy does not exist for her.
    assert_problem(client.get(f"{ALPHA}/retention", headers=outsider.headers), 404)
    assert_problem(_put(client, outsider, {"delete_after_days": 1}), 404)
    assert_problem(client.post(f"{ALPHA}/retention/run", headers=outsider.headers), 404)
    _put(client, outsider, {"delete_after_days": 5}, project="beta")
    assert client.get(f"{ALPHA}/retention", headers=owner.headers).json()["keeps_forever"]


def test_a_bad_policy_is_a_problem_with_pointers(client: TestClient, owner: Member) -> None:
    inverted = assert_problem(
        _put(client, owner, {"delete_after_days": 10, "scrub_after_days": 10}), 422
    )
    assert [error["path"] for error in inverted["errors"]] == ["/scrub_after_days"]
    assert_problem(_put(client, owner, {"delete_after_days": 0}), 422)
    assert client.get(f"{ALPHA}/retention", headers=owner.headers).json()["keeps_forever"]


NOW = datetime.now(UTC)


def _stats(db: Database, project: str) -> dict[str, Any]:
    with project_transaction(db, CLI, project, Role.VIEWER, write=False) as scope:
        return scope.stats.summary(Window.MONTH, NOW).as_json()


def _stat_rows(db: Database) -> list[tuple[object, ...]]:
    with db.engine.connect() as connection:
        return sorted(tuple(row) for row in connection.execute(select(run_stats)))


def test_deletion_removes_only_expired_finished_runs_of_the_project(
    client: TestClient, db: Database, owner: Member, outsider: Member
) -> None:
    orders = make_workflow(db, "alpha", "Orders")
    expired = [aged_run(db, "alpha", orders, 40 + n) for n in range(7)]
    going = aged_run(db, "alpha", orders, 45, status=RunStatus.RUNNING)
    recent = aged_run(db, "alpha", orders, 5)
    theirs = aged_run(db, "beta", make_workflow(db, "beta", "Orders"), 40)
    stats_before = _stat_rows(db)
    _put(client, owner, {"delete_after_days": 30})

    report = retention.run(db, owner.actor, "alpha", SMALL, dry_run=False)

    assert report.applied.runs_deleted == 7
    assert report.applied.batches >= 3, "7 runs in batches of at most 3"
    left = run_ids(db)
    assert not left & set(expired)
    assert {going, recent, theirs} <= left
    assert all(event_count(db, run_id) == 0 for run_id in expired)
    assert event_count(db, going) == 3
    assert event_count(db, theirs) == 4
    assert _stat_rows(db) == stats_before, "statistics rollups are aggregates and stay"
    audit = client.get(f"{ALPHA}/audit", headers=owner.headers).json()["items"]
    ran = next(entry for entry in audit if entry["action"] == "retention.run")
    assert ran["summary"] == {"runs_deleted": 7, "runs_scrubbed": 0}


def test_scrubbing_keeps_metadata_and_statistics(
    client: TestClient, db: Database, owner: Member
) -> None:
    orders = make_workflow(db, "alpha", "Orders")
    old = aged_run(db, "alpha", orders, 20)
    fresh = aged_run(db, "alpha", orders, 2)
    going = aged_run(db, "alpha", orders, 20, status=RunStatus.WAITING)
    stats_before = _stats(db, "alpha")
    assert stats_before["runs"]["finished"] == 2
    before = client.get(f"{ALPHA}/runs/{old}", headers=owner.headers).json()
    _put(client, owner, {"scrub_after_days": 10})

    report = retention.run(db, owner.actor, "alpha", SMALL, dry_run=False)

    assert report.applied.runs_scrubbed == 1
    after = client.get(f"{ALPHA}/runs/{old}", headers=owner.headers).json()
    assert after["scrubbed_at"] is not None
    assert (after["input"], after["output"]) == (None, None)
    assert after["steps"][0]["output"] is None
    kept = ("status", "created_at", "started_at", "finished_at", "version", "workflow_key")
    assert {k: after[k] for k in kept} == {k: before[k] for k in kept}
    assert after["steps"][0]["status"] == before["steps"][0]["status"] == "succeeded"
    data = event_data(db, old)
    assert all(item["scrubbed"] is True for item in data)
    assert "someone@example.com" not in repr(data)
    assert "$sealed" not in repr(data), "a payload sealed at rest goes too"
    with db.engine.connect() as connection:
        row = connection.execute(select(runs.c.error, runs.c.steps).where(runs.c.id == old)).one()
    assert "$sealed" not in repr(tuple(row))
    assert data[2]["attempt"] == 1, "metadata in an event stays"
    for run_id in (fresh, going):
        assert "$sealed" in repr(event_data(db, run_id)), "still there, sealed at rest"
        shown = client.get(f"{ALPHA}/runs/{run_id}", headers=owner.headers).json()
        assert shown["input"]["order"] == 42
        assert shown["scrubbed_at"] is None
    assert _stats(db, "alpha") == stats_before
    events = client.get(f"{ALPHA}/runs/{old}/events", headers=owner.headers)
    assert events.status_code == 200, "a scrubbed log still reads"


def test_the_scrub_mark_waits_for_unfinished_runs_and_later_ones_are_scrubbed(
    client: TestClient, db: Database, owner: Member
) -> None:
    orders = make_workflow(db, "alpha", "Orders")
    _put(client, owner, {"scrub_after_days": 10})
    first = aged_run(db, "alpha", orders, 30)
    going = aged_run(db, "alpha", orders, 25, status=RunStatus.WAITING)
    assert retention.run(db, owner.actor, "alpha", SMALL, dry_run=False).applied.runs_scrubbed == 1
    with db.engine.begin() as connection:  # it finishes after the first pass
        connection.execute(runs.update().where(runs.c.id == going).values(status="succeeded"))
    later = aged_run(db, "alpha", orders, 11)

    report = retention.run(db, owner.actor, "alpha", SMALL, dry_run=False)

    assert report.applied.runs_scrubbed == 2
    for run_id in (first, going, later):
        assert all(item.get("scrubbed") for item in event_data(db, run_id))


def test_a_dry_run_deletes_nothing_and_counts_per_workflow(
    client: TestClient, db: Database, owner: Member, cli: Cli
) -> None:
    orders = make_workflow(db, "alpha", "Orders")
    refunds = make_workflow(db, "alpha", "Refunds")
    for days in (100, 120):
        aged_run(db, "alpha", orders, days)
    aged_run(db, "alpha", orders, 50)
    aged_run(db, "alpha", refunds, 40)
    aged_run(db, "alpha", refunds, 1)
    _put(client, owner, {"delete_after_days": 90, "scrub_after_days": 30})
    before = run_ids(db)
    with db.engine.connect() as connection:
        rows_before = connection.execute(select(runs.c.id, runs.c.input)).all()

    answer = client.post(
        f"{ALPHA}/retention/run", params={"dry_run": "true"}, headers=owner.headers
    )

    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["dry_run"] is True
    assert [
        (item["workflow_key"], item["runs_to_delete"], item["runs_to_scrub"])
        for item in report["workflows"]
    ] == [(orders[1], 2, 1), (refunds[1], 0, 1)]
    assert (report["runs_to_delete"], report["runs_to_scrub"]) == (2, 2)
    assert (report["runs_deleted"], report["runs_scrubbed"]) == (0, 0)
    printed = cli("retention", "run", "--dry-run").output
    assert orders[1] in printed
    assert "dry run: nothing was deleted" in printed
    assert run_ids(db) == before
    with db.engine.connect() as connection:
        assert connection.execute(select(runs.c.id, runs.c.input)).all() == rows_before
    audit = client.get(f"{ALPHA}/audit", headers=owner.headers).json()["items"]
    assert not [entry for entry in audit if entry["action"] == "retention.run"]


def test_the_cli_shows_sets_and_runs_the_policy(
    client: TestClient, db: Database, owner: Member, cli: Cli
) -> None:
    assert "kept forever" in cli("retention", "show").output
    assert (
        "delete after 30 days; scrub payloads after 7 days"
        in cli("retention", "set", "--delete-after", "30", "--scrub-after", "7").output
    )
    aged_run(db, "alpha", make_workflow(db, "alpha", "Orders"), 31)
    assert "deleted 1 runs, scrubbed 0" in cli("retention", "run").output
    refused = cli("retention", "set", "--delete-after", "5", "--scrub-after", "9", code=1)
    assert "scrub_after_days" in refused.output


def test_the_job_applies_every_projects_policy_and_leaves_the_rest(
    client: TestClient, db: Database, owner: Member, outsider: Member
) -> None:
    ours = [aged_run(db, "alpha", make_workflow(db, "alpha", "Orders"), 40) for _ in range(2)]
    theirs = aged_run(db, "beta", make_workflow(db, "beta", "Orders"), 40)
    _put(client, owner, {"delete_after_days": 30})
    slept: list[float] = []

    report = retention.apply_all(db, SMALL, sleep=slept.append)

    assert sum(applied.runs_deleted for applied in report.projects.values()) == 2
    assert not set(ours) & run_ids(db)
    assert theirs in run_ids(db)
    assert slept, "the job rests after each batch"
    assert all(0 < pause < 5 for pause in slept)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_stopping_worker_ends_the_pass_between_batches(db: Database, owner: Member) -> None:
    orders = make_workflow(db, "alpha", "Orders")
    for n in range(9):
        aged_run(db, "alpha", orders, 40 + n)
    retention.set_policy(db, CLI, "alpha", 30, None)
    batches: list[float] = []

    report = retention.apply_all(db, SMALL, sleep=batches.append, stop=lambda: len(batches) >= 1)

    deleted = sum(applied.runs_deleted for applied in report.projects.values())
    assert 0 < deleted < 9
    assert len(run_ids(db)) == 9 - deleted


def test_a_scrubbed_run_cannot_be_resumed_or_replayed(
    client: TestClient, db: Database, owner: Member, cli: Cli
) -> None:
    orders = make_workflow(db, "alpha", "Orders")
    old = aged_run(db, "alpha", orders, 20)
    fresh = aged_run(db, "alpha", orders, 2)
    _put(client, owner, {"scrub_after_days": 10})
    assert retention.run(db, owner.actor, "alpha", SMALL, dry_run=False).applied.runs_scrubbed == 1

    resumed = client.post(
        f"{ALPHA}/runs/{old}/resume", json={"from_node": "shape"}, headers=owner.headers
    )
    replayed = client.get(f"{ALPHA}/runs/{old}/replay", headers=owner.headers)

    for answer in (resumed, replayed):
        body = assert_problem(answer, 409)
        assert body["type"].endswith("/problems/run-payloads-scrubbed")
        assert body["code"] == "run.payloads_scrubbed"
        assert body["scrubbed_at"] is not None
        assert "retention scrubbed its payloads" in body["detail"]
    assert "cannot resume" in resumed.json()["detail"]
    assert "cannot replay" in replayed.json()["detail"]
    refused = cli("runs", "resume", str(old), "--from", "shape", code=1)
    assert "cannot resume this run: retention scrubbed its payloads" in refused.output
    refused = cli("runs", "replay", str(old), code=1)
    assert "cannot replay this run: retention scrubbed its payloads" in refused.output
    # A run retention left alone still resumes and replays.
    assert client.get(f"{ALPHA}/runs/{fresh}/replay", headers=owner.headers).status_code == 200
    again = client.post(
        f"{ALPHA}/runs/{fresh}/resume", json={"from_node": "shape"}, headers=owner.headers
    )
    assert again.status_code == 202, again.text


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_on_sqlite_a_pass_copies_its_wal_back_between_its_batches(
    db: Database, owner: Member
) -> None:
    """A pass writes WAL faster than the checkpoint thread copies it back (a
    million runs: gigabytes), and the checkpoint that catches up must not run
    while a save waits: the pass checkpoints between its own batches, so the
    WAL holds about one batch when it ends."""
    checkpointer = db.checkpointer
    assert checkpointer is not None
    checkpointer.coalesce_seconds = 3600  # the thread would not get to it
    orders = make_workflow(db, "alpha", "Orders")
    for n in range(30):
        aged_run(db, "alpha", orders, 40 + n)
    retention.set_policy(db, CLI, "alpha", 30, None)
    db.settle()
    before = checkpointer.checkpoints

    report = retention.apply_all(db, SMALL, sleep=lambda _seconds: None)

    [applied] = report.projects.values()
    assert applied.runs_deleted == 30
    assert checkpointer.checkpoints - before >= applied.batches
    wal_pages = _wal_pages(db)
    assert wal_pages <= 3 * _wal_pages_of_one_batch(db, orders), wal_pages


def _wal_pages(db: Database) -> int:
    """The WAL's length in pages (a PASSIVE checkpoint reports it)."""
    raw = db.engine.raw_connection()
    try:
        row = raw.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    finally:
        raw.close()
    return int(row[1])


def _wal_pages_of_one_batch(db: Database, orders: tuple[Any, str]) -> int:
    """How much WAL deleting one batch of runs writes, from a rewound WAL."""
    for n in range(3):
        aged_run(db, "alpha", orders, 40 + n)
    db.settle()
    retention.apply_all(db, SMALL, sleep=lambda _seconds: None, stop=lambda: False)
    return _wal_pages(db)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_on_sqlite_a_pass_under_continuous_writes_deletes_exactly_what_expired(
    db: Database, owner: Member
) -> None:
    """Batches that give way to the writes going on (and are tried again)
    still delete every expired run once and nothing else."""
    orders = make_workflow(db, "alpha", "Orders")
    expired = {aged_run(db, "alpha", orders, 40 + n) for n in range(60)}
    kept = aged_run(db, "alpha", orders, 2)
    retention.set_policy(db, CLI, "alpha", 30, None)
    stop = threading.Event()
    writes = [0]

    def write() -> None:
        while not stop.is_set():
            with db.session() as session, session.begin():
                session.execute(text("UPDATE projects SET name = name WHERE key = 'alpha'"))
            writes[0] += 1

    writer = threading.Thread(target=write)
    writer.start()
    try:
        report = retention.apply_all(db, SMALL, sleep=lambda _seconds: time.sleep(0))
    finally:
        stop.set()
        writer.join()

    [applied] = report.projects.values()
    assert applied.runs_deleted == len(expired)
    assert run_ids(db) & (expired | {kept}) == {kept}
    assert writes[0] > 0


def test_a_batch_that_gave_way_is_tried_again_but_not_more_than_max_yields_in_a_row() -> None:
    slept: list[float] = []
    pacer = retention._Pacer(retention.Knobs(batch_runs=50), slept.append, postgres=False)
    allowed: list[bool] = []

    def work(size: int, timer: Any) -> int:
        allowed.append(pacer.yields)
        if pacer.yields and len(allowed) <= 6:
            timer.gave_way = True  # a writer came while it ran
            return 0
        return size

    done = [pacer.step(work) for _ in range(7)]

    floor = retention.MAX_YIELDS
    assert allowed == [True] * floor + [False, True, True]
    assert done[:floor] == [0] * floor
    assert done[floor] > 0
    assert done[floor + 1] == 0
    assert pacer.batches == 2, "a batch that gave way is not counted"
    assert slept[:floor] == [retention.SQLITE_BATCH_MS / 1000] * floor
    postgres = retention._Pacer(retention.Knobs(), slept.append, postgres=True)
    assert not postgres.yields, "PostgreSQL batches lock only their own rows"
