"""Run statistics rollups of one project: added to as runs finish (one upsert
per table, built once, adding to the hour's and the day's counters), read back summed over a window.
A window's answer reads at most about 720 rows per workflow (hours up to a
day, days beyond), however many runs there were."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Select, bindparam, func, select

from meshhook.domain.runs.events import RunStatus
from meshhook.domain.stats import (
    PERIODS,
    TOP,
    NodeFigures,
    RunOutcome,
    Series,
    SeriesPoint,
    Summary,
    Window,
    bucket_of,
    slot_of,
)
from meshhook.store import dialect, tenancy
from meshhook.store.repository import ProjectRepository
from meshhook.store.tables import (
    DURATION_SLOTS,
    LAG_SLOTS,
    RUN_COUNTERS,
    error_stats,
    node_stats,
    run_stats,
    workflows,
)

_STATUS_COUNTER = {
    RunStatus.SUCCEEDED: "succeeded",
    RunStatus.FAILED: "failed",
    RunStatus.CANCELLED: "cancelled",
}


class StatsStore(ProjectRepository):
    """The statistics rollups of one project."""

    __slots__ = ()

    def record(self, workflow_id: UUID, outcome: RunOutcome) -> None:
        """Add one finished run to its workflow's hour and day."""
        keys = [
            {
                "project_id": self.project_id,
                "period": period,
                "workflow_id": workflow_id,
                "bucket": bucket_of(outcome.finished_at, period),
            }
            for period in PERIODS
        ]
        added = {
            _STATUS_COUNTER[outcome.status]: 1,
            DURATION_SLOTS[slot_of(outcome.milliseconds)]: 1,
        }
        if outcome.dead_letter:
            added["dead_lettered"] = 1
        if outcome.lag_milliseconds is not None:
            added[LAG_SLOTS[slot_of(outcome.lag_milliseconds)]] = 1
        postgres = tenancy.is_postgres(self.session)
        execute = self.session.execute
        execute(_run_upsert(postgres, tuple(sorted(added))), [{**key, **added} for key in keys])
        if outcome.steps:
            rows = [
                {
                    **key,
                    "node_id": step.node_id,
                    "steps": 1,
                    "failures": int(step.failed),
                    "total_ms": step.milliseconds,
                    "max_ms": step.milliseconds,
                }
                for key in keys
                for step in outcome.steps
            ]
            execute(_UPSERTS[postgres, "node_stats"], rows)
        if outcome.error_code:
            code = outcome.error_code[:64]
            rows = [{**key, "code": code, "count": 1} for key in keys]
            execute(_UPSERTS[postgres, "error_stats"], rows)

    def counts(
        self, window: Window, now: datetime, workflow_id: UUID | None = None
    ) -> tuple[int, int]:
        """(finished, failed) runs of the project (or one workflow) over
        ``window``: one indexed sum over the rollup rows (alert rules)."""
        scope = {
            "project_id": self.project_id,
            "period": window.period,
            "since": window.since(now),
            "workflow_id": workflow_id,
        }
        row = self.session.execute(_COUNTS[workflow_id is not None], scope).one()
        succeeded, failed, cancelled = (int(value) for value in row)
        return succeeded + failed + cancelled, failed

    def summary(self, window: Window, now: datetime, workflow_id: UUID | None = None) -> Summary:
        """The figures of the project (or one workflow) over ``window``."""
        since = window.since(now)
        result = Summary(window=window, since=since, until=now)
        scope = {
            "project_id": self.project_id,
            "period": window.period,
            "since": since,
            "workflow_id": workflow_id,
        }
        one = workflow_id is not None
        row = self.session.execute(_TOTALS[one], scope).one()
        figures = dict(zip(_ALL_COUNTERS, (int(value) for value in row), strict=True))
        result.by_status = {name: figures[name] for name in ("succeeded", "failed", "cancelled")}
        result.dead_lettered = figures["dead_lettered"]
        result.durations = [figures[name] for name in DURATION_SLOTS]
        result.lags = [figures[name] for name in LAG_SLOTS]
        if result.finished == 0:
            return result
        result.errors = [
            (code, int(total)) for code, total in self.session.execute(_ERRORS[one], scope)
        ]
        # Every node's figures in one pass; the two top lists are picked here.
        nodes = self.session.execute(_NODES[one], scope).all()
        slowest = sorted(nodes, key=lambda n: float(n.total) / max(int(n.steps), 1), reverse=True)[
            :TOP
        ]
        failing = sorted(
            (node for node in nodes if node.failures), key=lambda n: int(n.failures), reverse=True
        )[:TOP]
        wanted = {node.workflow_id for node in (*slowest, *failing)}
        keys = dict(
            self.session.execute(
                select(workflows.c.id, workflows.c.key).where(
                    workflows.c.project_id == self.project_id, workflows.c.id.in_(wanted)
                )
            ).all()
        )
        result.slowest = [_figures(node, keys) for node in slowest]
        result.failing = [_figures(node, keys) for node in failing]
        return result

    def series(self, window: Window, now: datetime, workflow_id: UUID | None = None) -> Series:
        """The figures of the project (or one workflow) bucket by bucket over
        ``window`` (hours up to 7 days, days beyond), for a chart."""
        period = window.series_period
        scope = {
            "project_id": self.project_id,
            "period": period,
            "since": bucket_of(now - window.length, period),
            "workflow_id": workflow_id,
        }
        found = {}
        for row in self.session.execute(_SERIES[workflow_id is not None], scope):
            figures = dict(zip(_ALL_COUNTERS, (int(value) for value in row[1:]), strict=True))
            at = row[0]
            found[at] = SeriesPoint(
                at=at,
                by_status={name: figures[name] for name in ("succeeded", "failed", "cancelled")},
                dead_lettered=figures["dead_lettered"],
                durations=[figures[name] for name in DURATION_SLOTS],
                lags=[figures[name] for name in LAG_SLOTS],
            )
        return Series.dense(window, now, found)


def _figures(node: Any, keys: dict[UUID, str]) -> NodeFigures:
    return NodeFigures(
        workflow_key=keys.get(node.workflow_id, str(node.workflow_id)),
        node_id=node.node_id,
        steps=int(node.steps),
        failures=int(node.failures),
        total_ms=float(node.total),
        max_ms=float(node.highest),
    )


def _scoped(query: Select[Any], table: Any, one_workflow: bool) -> Select[Any]:
    """``query`` over the project's rows since the window's first hour (and one
    workflow's); built once per shape, with bound parameters."""
    query = query.where(
        table.c.project_id == bindparam("project_id"),
        table.c.period == bindparam("period"),
        table.c.bucket >= bindparam("since"),
    )
    if one_workflow:
        query = query.where(table.c.workflow_id == bindparam("workflow_id"))
    return query


_ALL_COUNTERS = (*RUN_COUNTERS, *DURATION_SLOTS, *LAG_SLOTS)

_TOTALS = {
    one: _scoped(
        select(*(func.coalesce(func.sum(run_stats.c[name]), 0) for name in _ALL_COUNTERS)),
        run_stats,
        one,
    )
    for one in (False, True)
}
_COUNTS = {
    one: _scoped(
        select(
            *(
                func.coalesce(func.sum(run_stats.c[name]), 0)
                for name in ("succeeded", "failed", "cancelled")
            )
        ),
        run_stats,
        one,
    )
    for one in (False, True)
}
_SERIES = {
    one: _scoped(
        select(
            run_stats.c.bucket,
            *(func.coalesce(func.sum(run_stats.c[name]), 0) for name in _ALL_COUNTERS),
        ),
        run_stats,
        one,
    )
    .group_by(run_stats.c.bucket)
    .order_by(run_stats.c.bucket)
    for one in (False, True)
}
_ERRORS = {
    one: _scoped(
        select(error_stats.c.code, func.sum(error_stats.c["count"]).label("total")),
        error_stats,
        one,
    )
    .group_by(error_stats.c.code)
    .order_by(func.sum(error_stats.c["count"]).desc())
    .limit(TOP)
    for one in (False, True)
}
_NODES = {
    one: _scoped(
        select(
            node_stats.c.workflow_id,
            node_stats.c.node_id,
            func.sum(node_stats.c.steps).label("steps"),
            func.sum(node_stats.c.failures).label("failures"),
            func.sum(node_stats.c.total_ms).label("total"),
            func.max(node_stats.c.max_ms).label("highest"),
        ),
        node_stats,
        one,
    ).group_by(node_stats.c.workflow_id, node_stats.c.node_id)
    for one in (False, True)
}


# Built once: building them per finished run cost more than the rest of the
# finishing transaction (each ``excluded`` alias lays out the table's columns
# again).
_UPSERTS = {
    (postgres, table.name): dialect.adding_upsert(table, summed, highest, postgres=postgres)
    for postgres in (False, True)
    for table, summed, highest in (
        (node_stats, ("steps", "failures", "total_ms"), "max_ms"),
        (error_stats, ("count",), None),
    )
}


@functools.lru_cache(maxsize=1024)
def _run_upsert(postgres: bool, added: tuple[str, ...]) -> Any:
    """The upsert of a run's counters that adds 1 to ``added`` (a status, a
    duration and a lag slot, dead-lettered or not: a few hundred shapes at
    most), the other counters of a new row 0 in the statement itself: few
    parameters and a short text, which psycopg parses once (all 68 counters
    as parameters were parsed again for every run)."""
    zeros = [name for name in _ALL_COUNTERS if name not in added]
    return dialect.adding_upsert(run_stats, added, postgres=postgres, zeros=zeros)
