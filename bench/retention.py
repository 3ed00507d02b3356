"""Retention deleting 1,000,000 expired runs (``--quick``: 20,000) while saves
and run starts go on: their p99 quiet and during the deletion, measured in the
same run (half before the deletion, half after), reported as ratios
(target: within 1.5x).

The expired runs (three events each, with payloads) are written straight into
the tables of project ``default``, created 400 to 220 days ago. Every run goes
through the batch path (``apply_project``), as when another project's longer
policy keeps the months from being dropped whole: the worst case, since a
dropped partition costs one catalog change. Saves are one-node edits of a 10-node
workflow through the service layer (``versions.save``), starts are
``runs.start`` of its published version (no workers: runs stay queued). The
deletion runs in a thread of the same process, as the worker job does inside
``meshhook serve``, with the default knobs (``services/retention.py``).
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.harness import summary, temporary_database
from bench.workloads import set_edit
from meshhook.domain.accounts import Actor
from meshhook.domain.retention import RetentionPolicy
from meshhook.services import bootstrap, retention, runs, versions, workflows
from meshhook.services.runs import StartRequest
from meshhook.services.workflows import NewWorkflow
from meshhook.store import migrate, partitions
from meshhook.store.db import Database, create_database
from meshhook.store.tables import projects as project_table
from meshhook.store.tables import run_events
from meshhook.store.tables import runs as run_table

PROJECT = "default"
CHUNK = 5_000
RATE = 20  # saves and run starts per second, each
PAYLOAD = {"order": 1234, "email": "someone@example.com", "items": [1, 2, 3]}


def _definition() -> dict[str, Any]:
    nodes: list[dict[str, Any]] = [{"id": "start", "type": "manual", "config": {}}]
    nodes += [{"id": f"n{i}", "type": "transform", "config": {"expression": "@"}} for i in range(9)]
    edges = [{"from": "start", "to": "n0"}] + [
        {"from": f"n{i}", "to": f"n{i + 1}"} for i in range(8)
    ]
    return {"nodes": nodes, "edges": edges, "settings": {}}


def _seed(db: Database, project_id: uuid.UUID, workflow_id: uuid.UUID, count: int) -> float:
    """``count`` finished runs of 400 to 220 days ago, three events each."""
    started = time.perf_counter()
    now = datetime.now(UTC)
    span = timedelta(days=180).total_seconds()
    for first in range(0, count, CHUNK):
        run_rows, event_rows = [], []
        for index in range(first, min(count, first + CHUNK)):
            created = now - timedelta(days=220, seconds=span * (1 - index / count))
            run_id = uuid.uuid4()
            run_rows.append(
                {
                    "id": run_id,
                    "project_id": project_id,
                    "workflow_id": workflow_id,
                    "workflow_key": "saved",
                    "version": 1,
                    "test": False,
                    "trigger": "manual",
                    "status": "succeeded",
                    "dead_letter": False,
                    "input": PAYLOAD,
                    "output": PAYLOAD,
                    "error": None,
                    "steps": [],
                    "last_seq": 3,
                    "created_at": created,
                    "created_by": "bench",
                    "started_at": created,
                    "finished_at": created,
                    "canary": False,
                }
            )
            for seq, kind in ((1, "run.queued"), (2, "run.started"), (3, "run.succeeded")):
                event_rows.append(
                    {
                        "run_id": run_id,
                        "seq": seq,
                        "run_created_at": created,
                        "project_id": project_id,
                        "type": kind,
                        "node_id": None,
                        "at": created,
                        "data": {"input": PAYLOAD} if seq == 1 else {"output": PAYLOAD},
                    }
                )
        with db.engine.begin() as connection:
            connection.execute(run_table.insert(), run_rows)
            connection.execute(run_events.insert(), event_rows)
    return time.perf_counter() - started


class _Traffic:
    """A save and a run start every ``1 / RATE`` seconds (a steady load, not a
    saturating loop that would leave no write time to anyone); the latency of
    each kind."""

    def __init__(self, db: Database, actor: Actor) -> None:
        self.db, self.actor = db, actor
        self.current = _definition()
        self.head = 1
        self.step = 0
        self.next_at = time.perf_counter()

    def round(self, saves: list[float], starts: list[float]) -> None:
        self.next_at += 1 / RATE
        time.sleep(max(0.0, self.next_at - time.perf_counter()))
        self.step += 1
        set_edit(self.current, self.step)
        began = time.perf_counter()
        saved = versions.save(
            self.db, self.actor, PROJECT, "saved", self.current, base_version=self.head
        )
        saves.append(time.perf_counter() - began)
        self.head = saved.workflow.head_version
        began = time.perf_counter()
        runs.start(self.db, self.actor, PROJECT, "run", StartRequest(input={"n": self.step}))
        starts.append(time.perf_counter() - began)


def _ratio(during: dict[str, Any], quiet: dict[str, Any]) -> float | None:
    return round(during["p99_ms"] / quiet["p99_ms"], 2) if quiet["p99_ms"] else None


def retention_section(dialect: str, workdir: Path, *, quick: bool) -> dict[str, Any]:
    """The retention workload on a fresh database of ``dialect``."""
    count = 20_000 if quick else 1_000_000
    quiet_rounds = 100 if quick else 300  # before the deletion, and as many after
    workdir.mkdir(parents=True, exist_ok=True)
    with temporary_database(dialect, workdir) as url:
        migrate.upgrade(url)
        db = create_database(url)
        try:
            actor = Actor.cli()
            bootstrap.bootstrap(db, workdir / "initial-credentials")
            with db.engine.connect() as connection:
                project_id = connection.execute(
                    select(project_table.c.id).where(project_table.c.key == PROJECT)
                ).scalar_one()
            saved = workflows.create(
                db, actor, PROJECT, NewWorkflow(name="saved", key="saved"), definition=_definition()
            )
            workflows.create(
                db, actor, PROJECT, NewWorkflow(name="run", key="run"), definition=_definition()
            )
            versions.publish(db, actor, PROJECT, "run")
            # The seeded months' partitions, as migration 0017 makes for old data.
            with db.session() as session, session.begin():
                partitions.ensure_ahead(session, datetime.now(UTC) - timedelta(days=400), 2)
            seeded = _seed(db, project_id, saved.workflow.id, count)
            traffic = _Traffic(db, actor)
            for _ in range(10):  # warm-up
                traffic.round([], [])
            traffic.next_at = time.perf_counter()
            quiet_saves: list[float] = []
            quiet_starts: list[float] = []
            for _ in range(quiet_rounds):
                traffic.round(quiet_saves, quiet_starts)

            retention.set_policy(db, actor, PROJECT, 200, None)
            knobs = retention.Knobs()
            outcome: dict[str, Any] = {}

            def delete() -> None:
                began = time.perf_counter()
                outcome["applied"] = retention.apply_project(
                    db, project_id, RetentionPolicy(200, None), datetime.now(UTC), knobs
                )
                outcome["seconds"] = time.perf_counter() - began

            worker = threading.Thread(target=delete, name="retention")
            busy_saves: list[float] = []
            busy_starts: list[float] = []
            worker.start()
            while worker.is_alive():
                traffic.round(busy_saves, busy_starts)
            worker.join()
            # Quiet again after: the machine's load drifts (other work on it),
            # so the quiet figures straddle the deletion.
            for _ in range(quiet_rounds):
                traffic.round(quiet_saves, quiet_starts)
            with db.engine.connect() as connection:
                left = connection.execute(
                    select(func.count())
                    .where(run_table.c.project_id == project_id)
                    .select_from(run_table)
                ).scalar_one()
            applied = outcome["applied"]
            quiet = {"save": summary(quiet_saves), "start": summary(quiet_starts)}
            during = {"save": summary(busy_saves), "start": summary(busy_starts)}
            ratios = {kind: _ratio(during[kind], quiet[kind]) for kind in ("save", "start")}
            return {
                "expired_runs": count,
                "events_per_run": 3,
                "seed_seconds": round(seeded, 1),
                "runs_deleted": applied.runs_deleted,
                "batches": applied.batches,
                "delete_seconds": round(outcome["seconds"], 1),
                "runs_per_second": round(applied.runs_deleted / outcome["seconds"]),
                "runs_left": left,
                "batch_target_ms": knobs.batch_ms
                or (retention.POSTGRES_BATCH_MS if db.is_postgres else retention.SQLITE_BATCH_MS),
                "quiet": quiet,
                "during": during,
                "p99_ratio": ratios,
                "target_ratio": 1.5,
                "met": all(ratio is not None and ratio <= 1.5 for ratio in ratios.values()),
            }
        finally:
            db.dispose()
