"""Run statistics rollups of one project: added to as runs finish (one upsert
per table, built once, adding to the hour's, quarter's, day's and week's counters of the
workflow, its nodes and its error code, and of the whole project), read back
summed over a window's segments (``Window.segments``): about a dozen rows per
workflow, node and error code whatever the window, and for the project's own
figures one row per bucket."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Select, bindparam, func, select, union_all

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
    project_run_stats,
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
        """Add one finished run to its workflow's (and project's) hour,
        quarter, day and week."""
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
        shape = tuple(sorted(added))
        execute(_counters_upsert("run_stats", postgres, shape), [{**key, **added} for key in keys])
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
        # Last: every finishing run of the project updates these rows, so
        # (on PostgreSQL) their lock is held for as short a time as may be.
        execute(
            _counters_upsert("project_run_stats", postgres, shape),
            [
                {"project_id": self.project_id, "period": key["period"], "bucket": key["bucket"]}
                | added
                for key in keys
            ],
        )

    def _scope(self, window: Window, now: datetime, workflow_id: UUID | None) -> dict[str, Any]:
        fine, coarse = window.segments(now)
        return {
            "project_id": self.project_id,
            "fine": fine.period,
            "since": fine.since,
            "edge": fine.until,
            "coarse": coarse.period,
            "workflow_id": workflow_id,
        }

    def counts(
        self, window: Window, now: datetime, workflow_id: UUID | None = None
    ) -> tuple[int, int]:
        """(finished, failed) runs of the project (or one workflow) over
        ``window``: a dozen rollup rows at most, summed (alert rules)."""
        scope = self._scope(window, now, workflow_id)
        rows = self.session.execute(_COUNTS[workflow_id is not None], scope).all()
        succeeded, failed, cancelled = (sum(int(row[i]) for row in rows) for i in range(3))
        return succeeded + failed + cancelled, failed

    def summary(self, window: Window, now: datetime, workflow_id: UUID | None = None) -> Summary:
        """The figures of the project (or one workflow) over ``window``."""
        scope = self._scope(window, now, workflow_id)
        result = Summary(window=window, since=scope["since"], until=now)
        one = workflow_id is not None
        # A dozen rows at most (the project's own, or the workflow's): summed here.
        rows = self.session.execute(_TOTALS[one], scope).all()
        totals = [sum(int(row[i]) for row in rows) for i in range(len(_ALL_COUNTERS))]
        figures = dict(zip(_ALL_COUNTERS, totals, strict=True))
        result.by_status = {name: figures[name] for name in ("succeeded", "failed", "cancelled")}
        result.dead_lettered = figures["dead_lettered"]
        result.durations = [figures[name] for name in DURATION_SLOTS]
        result.lags = [figures[name] for name in LAG_SLOTS]
        if result.finished == 0:
            return result
        result.errors = [
            (code, int(total)) for code, total in self.session.execute(_ERRORS[one], scope)
        ]
        # Every node's figures (with its workflow's key) in one pass; the two
        # top lists are picked here.
        nodes = self.session.execute(_NODES[one], scope).all()
        slowest = sorted(nodes, key=lambda n: float(n.total) / max(int(n.steps), 1), reverse=True)[
            :TOP
        ]
        failing = sorted(
            (node for node in nodes if node.failures), key=lambda n: int(n.failures), reverse=True
        )[:TOP]
        result.slowest = [_figures(node) for node in slowest]
        result.failing = [_figures(node) for node in failing]
        return result

    def series(self, window: Window, now: datetime, workflow_id: UUID | None = None) -> Series:
        """The figures of the project (or one workflow) bucket by bucket over
        ``window`` (hours up to 7 days, days beyond), for a chart: one row per
        bucket, read in key order."""
        period = window.series_period
        scope = {
            "project_id": self.project_id,
            "period": period,
            "since": bucket_of(now - window.length, period),
            "workflow_id": workflow_id,
        }
        found = {}
        counters = len(RUN_COUNTERS)
        histogram = counters + len(DURATION_SLOTS)
        for row in self.session.execute(_SERIES[workflow_id is not None], scope):
            at, *values = row  # the columns of _ALL_COUNTERS, in order
            found[at] = SeriesPoint(
                at=at,
                by_status={"succeeded": values[0], "failed": values[1], "cancelled": values[2]},
                dead_lettered=values[3],
                durations=values[counters:histogram],
                lags=values[histogram:],
            )
        return Series.dense(window, now, found)


def _figures(node: Any) -> NodeFigures:
    return NodeFigures(
        workflow_key=node.key,
        node_id=node.node_id,
        steps=int(node.steps),
        failures=int(node.failures),
        total_ms=float(node.total),
        max_ms=float(node.highest),
    )


_ALL_COUNTERS = (*RUN_COUNTERS, *DURATION_SLOTS, *LAG_SLOTS)
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
_COUNTER_TABLES = {"run_stats": run_stats, "project_run_stats": project_run_stats}


@functools.lru_cache(maxsize=1024)
def _counters_upsert(table: str, postgres: bool, added: tuple[str, ...]) -> Any:
    """The upsert of a run's counters (``run_stats`` or ``project_run_stats``)
    that adds 1 to ``added`` (a status, a duration and a lag slot,
    dead-lettered or not: a few hundred shapes at most), the other counters of
    a new row 0 in the statement itself: few parameters and a short text,
    which psycopg parses once (all 68 counters as parameters were parsed again
    for every run)."""
    zeros = [name for name in _ALL_COUNTERS if name not in added]
    return dialect.adding_upsert(_COUNTER_TABLES[table], added, postgres=postgres, zeros=zeros)


def _segments(table: Any, columns: list[Any], one_workflow: bool) -> Any:
    """The rows of the window's two segments (``Window.segments``): the finer
    period's from ``since`` to ``edge``, the coarser one's from ``edge`` on;
    each an index range. Built once per shape, with bound parameters."""

    def rows(*where: ColumnElement[bool]) -> Select[Any]:
        query = select(*columns).where(table.c.project_id == bindparam("project_id"), *where)
        if one_workflow:
            query = query.where(table.c.workflow_id == bindparam("workflow_id"))
        return query

    return union_all(
        rows(
            table.c.period == bindparam("fine"),
            table.c.bucket >= bindparam("since"),
            table.c.bucket < bindparam("edge"),
        ),
        rows(table.c.period == bindparam("coarse"), table.c.bucket >= bindparam("edge")),
    )


def _own_rows(one_workflow: bool) -> Any:
    """The project's own rows, or the workflow's."""
    return run_stats if one_workflow else project_run_stats


_TOTALS = {
    one: _segments(_own_rows(one), [_own_rows(one).c[name] for name in _ALL_COUNTERS], one)
    for one in (False, True)
}
_COUNTS = {
    one: _segments(
        _own_rows(one),
        [_own_rows(one).c[name] for name in ("succeeded", "failed", "cancelled")],
        one,
    )
    for one in (False, True)
}


def _series(one_workflow: bool) -> Select[Any]:
    table = _own_rows(one_workflow)
    query = select(table.c.bucket, *(table.c[name] for name in _ALL_COUNTERS)).where(
        table.c.project_id == bindparam("project_id"),
        table.c.period == bindparam("period"),
        table.c.bucket >= bindparam("since"),
    )
    if one_workflow:
        query = query.where(table.c.workflow_id == bindparam("workflow_id"))
    return query.order_by(table.c.bucket)


_SERIES = {one: _series(one) for one in (False, True)}


def _errors(one_workflow: bool) -> Select[Any]:
    rows = _segments(
        error_stats, [error_stats.c.code, error_stats.c["count"]], one_workflow
    ).subquery()
    total = func.sum(rows.c["count"])
    return (
        select(rows.c.code, total.label("total"))
        .group_by(rows.c.code)
        .order_by(total.desc(), rows.c.code)
        .limit(TOP)
    )


_ERRORS = {one: _errors(one) for one in (False, True)}


def _nodes(one_workflow: bool) -> Select[Any]:
    columns = ("workflow_id", "node_id", "steps", "failures", "total_ms", "max_ms")
    rows = _segments(node_stats, [node_stats.c[name] for name in columns], one_workflow).subquery()
    figures = (
        select(
            rows.c.workflow_id,
            rows.c.node_id,
            func.sum(rows.c.steps).label("steps"),
            func.sum(rows.c.failures).label("failures"),
            func.sum(rows.c.total_ms).label("total"),
            func.max(rows.c.max_ms).label("highest"),
        )
        .group_by(rows.c.workflow_id, rows.c.node_id)
        .subquery()
    )
    return select(figures, workflows.c.key).join(
        workflows,
        (workflows.c.id == figures.c.workflow_id)
        & (workflows.c.project_id == bindparam("project_id")),
    )


_NODES = {one: _nodes(one) for one in (False, True)}
