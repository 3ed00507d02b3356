"""The statistics rollups' levels agree, on both databases: every quarter,
day and week row is the sum of its hours (the largest step kept), the
project's rows are the sum of its workflows', and every window and chart,
read from the finer and coarser rows together, gives exactly the figures of
the runs that finished in it. Migration 0019 fills the new levels from the
existing rows as the engine would have written them."""

from __future__ import annotations

import random
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import create_engine, select

from meshhook.domain.accounts import Role
from meshhook.domain.runs.events import RunStatus
from meshhook.domain.stats import (
    DAY,
    HOUR,
    PERIODS,
    QUARTER,
    SLOTS,
    WEEK,
    NodeFigures,
    RunOutcome,
    StepOutcome,
    Window,
    bucket_of,
    bucket_starts,
    slot_of,
)
from meshhook.services.transactions import project_transaction
from meshhook.store import migrate
from meshhook.store.db import Database
from meshhook.store.stats import StatsStore
from meshhook.store.tables import (
    error_stats,
    node_stats,
    project_run_stats,
    projects,
    run_stats,
    workflows,
)
from tests.conftest import create_postgres_database, drop_postgres_database
from tests.factories import Member
from tests.integration.retention_helpers import CLI, make_workflow

LAST = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)  # a Monday, midnight
NOWS = (
    LAST,
    LAST + timedelta(hours=1, minutes=59),
    LAST + timedelta(days=3, hours=10, minutes=25),
    LAST + timedelta(days=6, hours=23, minutes=59, seconds=59),
)
DURATIONS = (0.5, 3.0, 250.0, 1500.0, 70_000.0)  # exact in binary: sums do not round
CODES = ("http.timeout", "http.status", "run.timeout")
NODES = {"first": ("a1", "a2"), "second": ("b1",)}


def _outcomes(generator: random.Random) -> list[RunOutcome]:
    """Runs finished over 40 days, some on the windows' edges."""
    moments = [LAST - timedelta(seconds=generator.uniform(0, 40 * DAY)) for _ in range(120)]
    for now in NOWS:
        for window in Window:
            since = window.since(now)
            moments += [since, since - timedelta(microseconds=1), now]
        moments += [now - timedelta(minutes=generator.uniform(0, 180)) for _ in range(6)]
    outcomes = []
    for moment in moments:
        status = generator.choice(list(RunStatus.__members__.values()))
        status = status if status.is_terminal else RunStatus.SUCCEEDED
        failed = status == RunStatus.FAILED
        outcomes.append(
            RunOutcome(
                status=status,
                finished_at=moment,
                milliseconds=generator.choice(DURATIONS),
                lag_milliseconds=generator.choice((None, *DURATIONS)),
                dead_letter=failed and generator.random() < 0.5,
                error_code=generator.choice(CODES) if failed else None,
                steps=(),
            )
        )
    return outcomes


def _with_steps(outcome: RunOutcome, nodes: tuple[str, ...], generator: random.Random) -> Any:
    steps = tuple(
        StepOutcome(node, generator.choice(DURATIONS), failed=generator.random() < 0.2)
        for node in nodes
    )
    return RunOutcome(**{**_fields(outcome), "steps": steps})


def _fields(outcome: RunOutcome) -> dict[str, Any]:
    return {name: getattr(outcome, name) for name in RunOutcome.__slots__}


@pytest.fixture
def history(db: Database, owner: Member) -> dict[uuid.UUID, list[RunOutcome]]:
    """Two workflows' finished runs of project ``alpha``, recorded as the
    engine does."""
    generator = random.Random(19)
    recorded: dict[uuid.UUID, list[RunOutcome]] = {}
    for name, nodes in NODES.items():
        workflow_id, _ = make_workflow(db, "alpha", name)
        recorded[workflow_id] = [
            _with_steps(outcome, nodes, generator) for outcome in _outcomes(generator)
        ]
    with project_transaction(db, CLI, "alpha", Role.OWNER) as scope:
        for workflow_id, outcomes in recorded.items():
            for outcome in outcomes:
                scope.stats.record(workflow_id, outcome)
    return recorded


def _table_rows(connection: sa.Connection, table: sa.Table) -> list[dict[str, Any]]:
    return [dict(row) for row in connection.execute(select(table)).mappings()]


def _grouped(rows: list[dict[str, Any]], keys: tuple[str, ...], period: int) -> dict[Any, Any]:
    """The rows of the hour (or day) level summed into ``period`` buckets."""
    finer = HOUR if period == QUARTER else DAY
    sums: dict[Any, dict[str, Any]] = {}
    for row in rows:
        if row["period"] != finer:
            continue
        key = (*(row[k] for k in keys), bucket_of(row["bucket"], period))
        into = sums.setdefault(key, {})
        for name, value in row.items():
            if name in (*keys, "period", "bucket"):
                continue
            into[name] = (
                max(into.get(name, value), value)
                if name == "max_ms"
                else (into.get(name, 0) + value)
            )
    return sums


def _level(rows: list[dict[str, Any]], keys: tuple[str, ...], period: int) -> dict[Any, Any]:
    return {
        (*(row[k] for k in keys), row["bucket"]): {
            name: value for name, value in row.items() if name not in (*keys, "period", "bucket")
        }
        for row in rows
        if row["period"] == period
    }


def test_every_level_is_the_sum_of_its_hours_and_the_project_of_its_workflows(
    db: Database, history: dict[uuid.UUID, list[RunOutcome]]
) -> None:
    with db.engine.connect() as connection:
        tables = {
            ("project_id", "workflow_id"): _table_rows(connection, run_stats),
            ("project_id", "workflow_id", "node_id"): _table_rows(connection, node_stats),
            ("project_id", "workflow_id", "code"): _table_rows(connection, error_stats),
        }
        own = _table_rows(connection, project_run_stats)
    for keys, rows in tables.items():
        assert {row["period"] for row in rows} == set(PERIODS)
        for period in (QUARTER, DAY, WEEK):
            if period == DAY:  # days are written directly: check them against the hours
                summed = _grouped(
                    [{**r, "period": DAY} for r in rows if r["period"] == HOUR], keys, DAY
                )
            else:
                summed = _grouped(rows, keys, period)
            assert summed == _level(rows, keys, period), (keys, period)
    workflows_summed: dict[Any, Counter[str]] = defaultdict(Counter)
    for row in tables[("project_id", "workflow_id")]:
        counters = {
            k: v
            for k, v in row.items()
            if k not in ("project_id", "workflow_id", "period", "bucket")
        }
        workflows_summed[(row["project_id"], row["period"], row["bucket"])].update(counters)
    assert {
        (row["project_id"], row["period"], row["bucket"]): Counter(
            {k: v for k, v in row.items() if k not in ("project_id", "period", "bucket")}
        )
        for row in own
    } == workflows_summed
    finished = sum(len(outcomes) for outcomes in history.values())
    assert sum(
        r["succeeded"] + r["failed"] + r["cancelled"] for r in own if r["period"] == WEEK
    ) == (finished)


def _expected(outcomes: list[RunOutcome], since: datetime) -> dict[str, Any]:
    inside = [outcome for outcome in outcomes if outcome.finished_at >= since]
    durations, lags = [0] * SLOTS, [0] * SLOTS
    for outcome in inside:
        durations[slot_of(outcome.milliseconds)] += 1
        if outcome.lag_milliseconds is not None:
            lags[slot_of(outcome.lag_milliseconds)] += 1
    return {
        "by_status": Counter(str(outcome.status) for outcome in inside),
        "dead_lettered": sum(outcome.dead_letter for outcome in inside),
        "durations": durations,
        "lags": lags,
        "errors": Counter(o.error_code for o in inside if o.error_code),
    }


def _node_figures(key: str, outcomes: list[RunOutcome], since: datetime) -> dict[Any, Any]:
    steps: dict[str, list[StepOutcome]] = defaultdict(list)
    for outcome in outcomes:
        if outcome.finished_at >= since:
            for step in outcome.steps:
                steps[step.node_id].append(step)
    return {
        (key, node): NodeFigures(
            workflow_key=key,
            node_id=node,
            steps=len(found),
            failures=sum(step.failed for step in found),
            total_ms=sum(step.milliseconds for step in found),
            max_ms=max(step.milliseconds for step in found),
        )
        for node, found in steps.items()
    }


@pytest.mark.parametrize("now", NOWS)
def test_every_window_sums_exactly_the_runs_it_covers(
    db: Database, history: dict[uuid.UUID, list[RunOutcome]], now: datetime
) -> None:
    with db.engine.connect() as connection:
        keys = dict(connection.execute(select(workflows.c.id, workflows.c.key)).all())
    everything = [outcome for outcomes in history.values() for outcome in outcomes]
    with project_transaction(db, CLI, "alpha", Role.VIEWER, write=False) as scope:
        for window in Window:
            since = window.since(now)
            for workflow_id, outcomes in [(None, everything), *history.items()]:
                summary = scope.stats.summary(window, now, workflow_id)
                expected = _expected(outcomes, since)
                assert (
                    Counter({k: v for k, v in summary.by_status.items() if v})
                    == (expected["by_status"])
                ), (window, workflow_id)
                assert summary.dead_lettered == expected["dead_lettered"]
                assert summary.durations == expected["durations"]
                assert summary.lags == expected["lags"]
                assert dict(summary.errors) == dict(expected["errors"])
                finished, failed = scope.stats.counts(window, now, workflow_id)
                assert (finished, failed) == (
                    sum(expected["by_status"].values()),
                    expected["by_status"]["failed"],
                )
                nodes: dict[Any, NodeFigures] = {}
                for wid, its in history.items():
                    if workflow_id in (None, wid):
                        nodes.update(_node_figures(keys[wid], its, since))
                assert {(n.workflow_key, n.node_id): n for n in summary.slowest} == nodes
                assert {(n.workflow_key, n.node_id): n for n in summary.failing} == {
                    key: node for key, node in nodes.items() if node.failures
                }

                series = scope.stats.series(window, now, workflow_id)
                starts = bucket_starts(window, now)
                assert [point.at for point in series.points] == starts
                counted = Counter(
                    bucket_of(o.finished_at, window.series_period)
                    for o in outcomes
                    if o.finished_at >= starts[0]
                )
                assert [sum(p.by_status.values()) for p in series.points] == [
                    counted[at] for at in starts
                ]
                assert [sum(p.durations) for p in series.points] == [counted[at] for at in starts]


# --- migration 0019 -------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'levels.db'}"
        return
    request.getfixturevalue("postgres_url")  # skips or fails without PostgreSQL
    made = create_postgres_database("meshhook_stats_levels")
    yield made
    drop_postgres_database(made)


def _all_rollups(url: str) -> dict[str, list[tuple[Any, ...]]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            found = {}
            for table in (run_stats, node_stats, error_stats, project_run_stats):
                found[table.name] = sorted(tuple(row) for row in connection.execute(select(table)))
            return found
    finally:
        engine.dispose()


def test_migration_0019_fills_the_new_levels_as_the_engine_writes_them(url: str) -> None:
    migrate.upgrade(url)
    generator = random.Random(20)
    project, workflow_id = uuid.uuid4(), uuid.uuid4()
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            projects.insert().values(id=project, key="alpha", name="Alpha", created_at=LAST)
        )
        connection.execute(
            workflows.insert().values(
                id=workflow_id, project_id=project, key="orders", name="Orders", description="",
                tags=[], is_template=False, head_version=1, created_at=LAST, created_by="t",
                updated_at=LAST, updated_by="t",
            )
        )  # fmt: skip
    with sa.orm.Session(engine) as session, session.begin():
        store = StatsStore(session, project)
        for outcome in _outcomes(generator):
            store.record(workflow_id, _with_steps(outcome, ("a", "b"), generator))
    engine.dispose()
    written = _all_rollups(url)
    assert all(written.values())

    migrate.downgrade(url, revision="0018")
    migrate.upgrade(url)

    assert _all_rollups(url) == written
