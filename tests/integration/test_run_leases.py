"""Leases: a worker that stalls past its lease loses the run to another, the
takeover is recorded, and the stalled worker's late outcome is refused."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from meshhook.domain.errors import NotFound
from meshhook.domain.runs.advance import advance, record_outcome
from meshhook.domain.runs.evaluate import Succeeded
from meshhook.domain.runs.events import EventType, RunEvent, RunStatus
from meshhook.services import runs, versions, workflows
from meshhook.services.run_execution import LeaseLost, commit, load
from meshhook.services.runs import StartRequest
from meshhook.services.transactions import worker_transaction
from meshhook.services.worker_rounds import Wanted, look
from meshhook.services.workflows import NewWorkflow
from meshhook.store.db import Database
from meshhook.store.runs import Claimed, EventConflict, RunStore
from tests.factories import Member

LEASE = 0.5


def claim(db: Database, worker: str, lease: float, limit: int) -> list[Claimed]:
    """What a worker's round leases when it has ``limit`` free slots."""
    return look(db, worker, lease, Wanted(claim=limit), datetime.now(UTC)).claimed


def calling() -> dict[str, Any]:
    return {
        "nodes": [
            {"id": "start", "type": "manual", "config": {}},
            {"id": "call", "type": "http_call", "config": {"url": "https://example.com/x"}},
        ],
        "edges": [{"from": "start", "to": "call"}],
        "settings": {},
    }


def test_a_stalled_worker_loses_the_run_and_cannot_record_its_outcome(
    db: Database, owner: Member
) -> None:
    created = workflows.create(
        db, owner.actor, "alpha", NewWorkflow(name="Call"), definition=calling()
    )
    versions.publish(db, owner.actor, "alpha", created.workflow.key)
    run = runs.start(db, owner.actor, "alpha", created.workflow.key, StartRequest()).run

    [mine] = claim(db, "worker-a", LEASE, 10)
    work_a = load(db, mine)
    assert work_a is not None
    step_a = advance(work_a.graph, work_a.state, datetime.now(UTC))
    commit(db, work_a, "worker-a", step_a.events, wake_at=None, holding=True, lease_seconds=LEASE)
    assert [c.node_id for c in step_a.effects] == ["call"]

    assert claim(db, "worker-b", LEASE, 10) == []  # A's lease still holds
    time.sleep(LEASE + 0.3)  # A stalls: no heartbeat
    [theirs] = claim(db, "worker-b", LEASE, 10)
    work_b = load(db, theirs)
    assert work_b is not None
    step_b = advance(work_b.graph, work_b.state, datetime.now(UTC))
    assert [(c.node_id, c.attempt, c.takeover) for c in step_b.effects] == [("call", 1, True)]
    commit(db, work_b, "worker-b", step_b.events, wake_at=None, holding=True, lease_seconds=30)

    late = record_outcome(
        work_a.graph,
        work_a.state,
        step_a.effects[0],
        Succeeded({"from": "a"}),
        datetime.now(UTC),
        0.0,
    )
    with pytest.raises(LeaseLost):
        commit(db, work_a, "worker-a", late, wake_at=None, holding=False, lease_seconds=LEASE)

    done = record_outcome(
        work_b.graph,
        work_b.state,
        step_b.effects[0],
        Succeeded({"from": "b"}),
        datetime.now(UTC),
        0.0,
    )
    rest = advance(work_b.graph, work_b.state, datetime.now(UTC))
    commit(
        db, work_b, "worker-b", [*done, *rest.events], wake_at=None, holding=False, lease_seconds=30
    )

    final = runs.get(db, owner.actor, "alpha", str(run.id))
    assert final.view.status == "succeeded"
    assert final.view.output == {"from": "b"}
    log, _ = runs.events(db, owner.actor, "alpha", str(run.id), limit=100)
    started = [
        (e.data["attempt"], bool(e.data.get("takeover")))
        for e in log
        if e.type is EventType.STEP_STARTED and e.node_id == "call"
    ]
    assert started == [(1, False), (1, True)]
    assert sum(1 for e in log if e.type is EventType.STEP_SUCCEEDED and e.node_id == "call") == 1
    assert runs.replay(db, owner.actor, "alpha", str(run.id)).equal


def test_a_trashed_workflow_starts_no_new_run(db: Database, owner: Member) -> None:
    created = workflows.create(
        db, owner.actor, "alpha", NewWorkflow(name="Call"), definition=calling()
    )
    versions.publish(db, owner.actor, "alpha", created.workflow.key)
    workflows.delete(db, owner.actor, "alpha", created.workflow.key)

    with pytest.raises(NotFound, match="no workflow"):
        runs.start(db, owner.actor, "alpha", created.workflow.key, StartRequest())


def test_a_cancel_that_lands_first_makes_the_worker_let_go(db: Database, owner: Member) -> None:
    created = workflows.create(
        db, owner.actor, "alpha", NewWorkflow(name="Call"), definition=calling()
    )
    versions.publish(db, owner.actor, "alpha", created.workflow.key)
    run = runs.start(db, owner.actor, "alpha", created.workflow.key, StartRequest()).run
    [mine] = claim(db, "worker-a", 30, 10)
    work = load(db, mine)
    assert work is not None
    progress = advance(work.graph, work.state, datetime.now(UTC))

    runs.cancel(db, owner.actor, "alpha", str(run.id))

    with pytest.raises(LeaseLost):  # the cancel took the run off the queue
        commit(db, work, "worker-a", progress.events, wake_at=None, holding=True, lease_seconds=30)
    final = runs.get(db, owner.actor, "alpha", str(run.id))
    assert final.view.status == "cancelled"
    log, _ = runs.events(db, owner.actor, "alpha", str(run.id), limit=100)
    assert [e.type for e in log] == [EventType.RUN_QUEUED, EventType.RUN_CANCELLED]


def test_an_event_number_taken_first_is_a_conflict_and_nothing_is_half_written(
    db: Database, owner: Member
) -> None:
    created = workflows.create(
        db, owner.actor, "alpha", NewWorkflow(name="Call"), definition=calling()
    )
    versions.publish(db, owner.actor, "alpha", created.workflow.key)
    run = runs.start(db, owner.actor, "alpha", created.workflow.key, StartRequest()).run
    late = RunEvent(1, EventType.RUN_STARTED, datetime.now(UTC))

    def write_behind_the_log() -> None:
        with worker_transaction(db, run.project_id) as scope:
            store = RunStore(scope.session, scope.project.id)
            store.save_view(run.id, replace(run.view, status=RunStatus.RUNNING))
            store.append(run, [late])

    with pytest.raises(EventConflict):
        write_behind_the_log()

    kept = runs.get(db, owner.actor, "alpha", str(run.id))
    assert kept.view.status == "queued"  # the projection update rolled back with it
    log, _ = runs.events(db, owner.actor, "alpha", str(run.id), limit=10)
    assert [e.type for e in log] == [EventType.RUN_QUEUED]
