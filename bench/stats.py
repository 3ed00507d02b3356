"""Run statistics over 10,000,000 runs: the rollup rows such a history leaves
(30 days x 24 hours x W workflows, with per-node and error-code rows), written
straight into the rollup tables, then the window queries timed through the
service layer (a transaction, the project's role check and RLS scope
included). The same run times a primary-key read of one workflow as the
baseline, so the answer is also reported as a ratio."""

from __future__ import annotations

import random
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bench.harness import measure, temporary_database
from meshhook.domain.accounts import Actor
from meshhook.domain.stats import PERIODS, SLOTS, Window, bucket_of, slot_of
from meshhook.services import bootstrap, stats, workflows
from meshhook.services.workflows import NewWorkflow
from meshhook.store import migrate
from meshhook.store.db import Database, create_database
from meshhook.store.tables import error_stats, node_stats, projects, run_stats

RUNS = 10_000_000
PROJECT = "default"


def _definition(nodes: int) -> dict[str, Any]:
    body = [{"id": "start", "type": "manual", "config": {}}]
    body += [
        {"id": f"n{i}", "type": "transform", "config": {"expression": "@"}} for i in range(nodes)
    ]
    edges = [{"from": "start", "to": "n0"}] + [
        {"from": f"n{i}", "to": f"n{i + 1}"} for i in range(nodes - 1)
    ]
    return {"nodes": body, "edges": edges, "settings": {}}


def _history(
    db: Database, project_id: uuid.UUID, workflow_ids: list[uuid.UUID], nodes: int, days: int
) -> int:
    """Hourly and daily rollup rows for RUNS runs spread over ``days`` days
    (what the engine leaves behind); returns the rows written."""
    generator = random.Random(42)
    now = datetime.now(UTC)
    written = 0
    for period in PERIODS:
        buckets = sorted({bucket_of(now - timedelta(hours=h), period) for h in range(days * 24)})
        per_row = RUNS // (len(buckets) * len(workflow_ids))
        with db.engine.begin() as connection:
            for workflow_id in workflow_ids:
                run_rows, node_rows, error_rows = [], [], []
                for bucket in buckets:
                    keys = {
                        "project_id": project_id,
                        "period": period,
                        "workflow_id": workflow_id,
                        "bucket": bucket,
                    }
                    failed = per_row // 20
                    counts = [0] * SLOTS
                    for _ in range(200):
                        counts[slot_of(generator.lognormvariate(6, 1))] += 1
                    scale = per_row / 200
                    row: dict[str, Any] = {
                        **keys,
                        "succeeded": per_row - failed,
                        "failed": failed,
                        "cancelled": 0,
                        "dead_lettered": failed,
                    }
                    row.update({f"d{i}": int(c * scale) for i, c in enumerate(counts)})
                    row.update({f"l{i}": int(c * scale) for i, c in enumerate(counts[::-1])})
                    run_rows.append(row)
                    node_rows += [
                        {
                            **keys,
                            "node_id": f"n{index}",
                            "steps": per_row,
                            "failures": failed if index == nodes - 1 else 0,
                            "total_ms": per_row * generator.uniform(1, 50),
                            "max_ms": generator.uniform(50, 500),
                        }
                        for index in range(nodes)
                    ]
                    error_rows += [
                        {**keys, "code": code, "count": failed // 3}
                        for code in ("http.timeout", "http.status", "run.timeout")
                    ]
                connection.execute(run_stats.insert(), run_rows)
                connection.execute(node_stats.insert(), node_rows)
                connection.execute(error_stats.insert(), error_rows)
                written += len(run_rows) + len(node_rows) + len(error_rows)
    return written


def stats_section(dialect: str, workdir: Path, *, quick: bool) -> dict[str, Any]:
    """The stats workload on a fresh database of ``dialect``."""
    workflow_count, nodes, days = (5, 10, 7) if quick else (20, 20, 30)
    iterations = 30 if quick else 200
    workdir.mkdir(parents=True, exist_ok=True)
    with temporary_database(dialect, workdir) as url:
        migrate.upgrade(url)
        db = create_database(url)
        try:
            actor = Actor.cli()
            bootstrap.bootstrap(db, workdir / "initial-credentials")
            with db.engine.connect() as connection:
                project_id = connection.execute(
                    select(projects.c.id).where(projects.c.key == PROJECT)
                ).scalar_one()
            ids = []
            for index in range(workflow_count):
                created = workflows.create(
                    db,
                    actor,
                    PROJECT,
                    NewWorkflow(name=f"stats-{index}", key=f"stats-{index}"),
                    definition=_definition(nodes),
                )
                ids.append(created.workflow.id)
            started = time.perf_counter()
            rows = _history(db, project_id, ids, nodes, days)
            seeded = time.perf_counter() - started
            result: dict[str, Any] = {
                "runs": RUNS,
                "workflows": workflow_count,
                "nodes_per_workflow": nodes,
                "days": days,
                "rollup_rows": rows,
                "seed_seconds": round(seeded, 1),
                "baseline_get_workflow": measure(
                    lambda _: workflows.get(db, actor, PROJECT, "stats-0"), iterations
                ),
            }
            base = result["baseline_get_workflow"]["p99_ms"]
            timed = {
                "project": lambda window: stats.project_stats(db, actor, PROJECT, window),
                "workflow": lambda window: stats.workflow_stats(
                    db, actor, PROJECT, "stats-0", window
                ),
                "project_series": lambda window: stats.project_series(db, actor, PROJECT, window),
                "workflow_series": lambda window: stats.workflow_series(
                    db, actor, PROJECT, "stats-0", window
                ),
            }
            for name, call in timed.items():
                for window in Window:
                    figures = measure(lambda _, w=window, c=call: c(w).as_json(), iterations)
                    figures["ratio_to_baseline_p99"] = (
                        round(figures["p99_ms"] / base, 2) if base else None
                    )
                    figures["target_p99_ms"] = 50
                    figures["met"] = figures["p99_ms"] <= 50
                    result[f"{name}_{window}"] = figures
            result["finished_counted_30d"] = stats.project_stats(
                db, actor, PROJECT, Window.MONTH
            ).finished
            return result
        finally:
            db.dispose()
