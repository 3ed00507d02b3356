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
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

from bench.harness import measure, temporary_database
from meshhook.domain.accounts import Actor
from meshhook.domain.stats import PERIODS, SLOTS, Series, Summary, Window, bucket_of, slot_of
from meshhook.services import bootstrap, stats, workflows
from meshhook.services.workflows import NewWorkflow
from meshhook.store import migrate
from meshhook.store.db import Database, create_database
from meshhook.store.tables import error_stats, node_stats, project_run_stats, projects, run_stats

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
    """The rollup rows RUNS runs spread over ``days`` days leave (what the
    engine writes: every hour's figures added to its hour, quarter, day and
    week, per workflow, node and error code, and per project); returns the
    rows written."""
    generator = random.Random(42)
    now = datetime.now(UTC)
    hours = sorted({bucket_of(now - timedelta(hours=h)) for h in range(days * 24)})
    per_row = RUNS // (len(hours) * len(workflow_ids))
    failed = per_row // 20
    written = 0
    project: dict[tuple[int, datetime], dict[str, Any]] = {}
    with db.engine.begin() as connection:
        for workflow_id in workflow_ids:
            runs: dict[tuple[Any, ...], dict[str, Any]] = {}
            steps: dict[tuple[Any, ...], dict[str, Any]] = {}
            errors: dict[tuple[Any, ...], dict[str, Any]] = {}
            for hour in hours:
                counts = [0] * SLOTS
                for _ in range(200):
                    counts[slot_of(generator.lognormvariate(6, 1))] += 1
                scale = per_row / 200
                figures: dict[str, int] = {
                    "succeeded": per_row - failed,
                    "failed": failed,
                    "cancelled": 0,
                    "dead_lettered": failed,
                }
                figures.update({f"d{i}": int(c * scale) for i, c in enumerate(counts)})
                figures.update({f"l{i}": int(c * scale) for i, c in enumerate(counts[::-1])})
                node_figures = [
                    (
                        f"n{index}",
                        failed if index == nodes - 1 else 0,
                        per_row * generator.uniform(1, 50),
                        generator.uniform(50, 500),
                    )
                    for index in range(nodes)
                ]
                for period in PERIODS:
                    bucket = bucket_of(hour, period)
                    keys: dict[str, Any] = {"period": period, "bucket": bucket}
                    for target in (
                        runs.setdefault((period, bucket), {**keys, "workflow_id": workflow_id}),
                        project.setdefault((period, bucket), {**keys}),
                    ):
                        for name, value in figures.items():
                            target[name] = target.get(name, 0) + value
                    for node_id, failures, total, highest in node_figures:
                        row = steps.setdefault(
                            (period, keys["bucket"], node_id),
                            {
                                **keys,
                                "workflow_id": workflow_id,
                                "node_id": node_id,
                                "steps": 0,
                                "failures": 0,
                                "total_ms": 0.0,
                                "max_ms": 0.0,
                            },
                        )
                        row["steps"] += per_row
                        row["failures"] += failures
                        row["total_ms"] += total
                        row["max_ms"] = max(row["max_ms"], highest)
                    for code in ("http.timeout", "http.status", "run.timeout"):
                        row = errors.setdefault(
                            (period, keys["bucket"], code),
                            {**keys, "workflow_id": workflow_id, "code": code, "count": 0},
                        )
                        row["count"] += failed // 3
            for table, rows in ((run_stats, runs), (node_stats, steps), (error_stats, errors)):
                batch = [{"project_id": project_id, **row} for row in rows.values()]
                connection.execute(table.insert(), batch)
                written += len(batch)
        batch = [{"project_id": project_id, **row} for row in project.values()]
        connection.execute(project_run_stats.insert(), batch)
        written += len(batch)
    return written


def _answer(call: Callable[[Window], Summary | Series], window: Window, _: int) -> object:
    """What the endpoint sends (before orjson): the figures as JSON-ready dicts."""
    return call(window).as_json()


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
            # What autovacuum does soon after a bulk load: without it every
            # index-only read of the rollups also visits the table.
            started = time.perf_counter()
            if db.is_postgres:
                with db.engine.connect().execution_options(
                    isolation_level="AUTOCOMMIT"
                ) as connection:
                    connection.execute(
                        text("VACUUM ANALYZE run_stats, project_run_stats, node_stats, error_stats")
                    )
            vacuumed = time.perf_counter() - started
            result: dict[str, Any] = {
                "runs": RUNS,
                "workflows": workflow_count,
                "nodes_per_workflow": nodes,
                "days": days,
                "rollup_rows": rows,
                "seed_seconds": round(seeded, 1),
                "vacuum_analyze_seconds": round(vacuumed, 1),
                "baseline_get_workflow": measure(
                    lambda _: workflows.get(db, actor, PROJECT, "stats-0"), iterations
                ),
            }
            base = result["baseline_get_workflow"]["p99_ms"]
            timed: dict[str, Callable[[Window], Summary | Series]] = {
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
                    figures = measure(partial(_answer, call, window), iterations)
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
