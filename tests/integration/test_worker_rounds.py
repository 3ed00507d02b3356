"""A worker's round asks for everything due in one transaction, and gets only
what it asked for (both databases)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

from meshhook.engine.worker import Worker, WorkerSettings
from meshhook.services import runs, schedules
from meshhook.services.keys import provider_for
from meshhook.services.runs import StartRequest
from meshhook.services.worker_rounds import Found, Wanted, look
from meshhook.settings import Settings
from meshhook.store.db import Database
from tests.factories import Member
from tests.integration.test_auth_in_transaction import transactions
from tests.integration.test_schedules import next_due, publish, scheduled


def due_work(db: Database, owner: Member) -> datetime:
    """A queued run due now and a schedule trigger; when the schedule is due."""
    key = publish(db, owner, scheduled(cron="*/5 * * * *"))
    manual = {
        "nodes": [{"id": "start", "type": "manual", "config": {}}],
        "edges": [],
        "settings": {},
    }
    runs.start(db, owner.actor, "alpha", publish(db, owner, manual, "By hand"), StartRequest())
    return next_due(db, owner, key)


def test_one_transaction_claims_runs_and_reads_the_queue_and_the_due_schedules(
    db: Database, owner: Member
) -> None:
    due = due_work(db, owner)
    everything = Wanted(claim=5, queue_stats=True, schedules=True, alerts=True)
    with transactions(db) as begun:
        found = look(db, "worker-a", 30, everything, due + timedelta(seconds=1))
    # PostgreSQL claims in the same transaction (SKIP LOCKED); SQLite reads, and
    # takes its one write lock only because there is a run to claim.
    assert begun == ([True] if db.is_postgres else [False, True])
    assert len(found.claimed) == 1
    assert found.stats is not None
    assert found.stats.due == 1
    assert [item.node_id for item in found.schedules] == ["tick"]
    assert found.deliveries == []
    # Only what is asked for is read; a round with no free slot claims nothing.
    found = look(db, "worker-b", 30, Wanted(schedules=True), due - timedelta(seconds=1))
    assert found == type(found)()
    assert schedules.fire(db, look(db, "worker-b", 30, Wanted(schedules=True), due).schedules, due)


def test_an_idle_workers_round_is_one_transaction_and_takes_no_sqlite_write_lock(
    db: Database, owner: Member, tmp_path: Path
) -> None:
    publish(db, owner, scheduled(cron="0 9 * * *"))  # not due today
    keys = provider_for(Settings(home=tmp_path / "home", database_url="sqlite://"))
    worker = Worker(db, keys, WorkerSettings())
    worker.last["thresholds"] = float("inf")  # threshold rules are not this test's

    async def one_round() -> tuple[Found, list[bool]]:
        with transactions(db) as begun:
            found, _free = await worker._round()
        return found, begun

    # Claim, queue depth, schedules and alert deliveries together; on SQLite
    # without the write lock (nothing to claim), so an idle worker never makes
    # a save wait.
    idle = [db.is_postgres]
    found, begun = asyncio.run(one_round())
    assert begun == idle
    assert found.claimed == []
    assert found.schedules == []
    assert found.deliveries == []
    assert found.stats is not None
    assert found.stats.due == 0
    assert all(seen > 0 for seen in worker.last.values())
    # Nothing is due again within the second: the next round only claims.
    found, begun = asyncio.run(one_round())
    assert begun == idle
    assert found.stats is None
