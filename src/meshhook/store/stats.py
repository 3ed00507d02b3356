"""Run statistics rollups of one project: added to as runs finish (one upsert
per table, adding to the hour's counters), read back summed over a window.
A window's answer reads at most one row per workflow and hour, however many
runs there were."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from meshhook.domain.runs.events import RunStatus
from meshhook.domain.stats import TOP, NodeFigures, RunOutcome, Summary, Window, bucket_of, slot_of
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
        """Add one finished run to its workflow's hour."""
        keys = {
            "project_id": self.project_id,
            "workflow_id": workflow_id,
            "bucket": bucket_of(outcome.finished_at),
        }
        added = {
            _STATUS_COUNTER[outcome.status]: 1,
            DURATION_SLOTS[slot_of(outcome.milliseconds)]: 1,
        }
        if outcome.dead_letter:
            added["dead_lettered"] = 1
        if outcome.lag_milliseconds is not None:
            added[LAG_SLOTS[slot_of(outcome.lag_milliseconds)]] = 1
        zeros = dict.fromkeys((*RUN_COUNTERS, *DURATION_SLOTS, *LAG_SLOTS), 0)
        self._add(run_stats, [{**keys, **zeros, **added}], sorted(added))
        if outcome.steps:
            rows = [
                {
                    **keys,
                    "node_id": step.node_id,
                    "steps": 1,
                    "failures": int(step.failed),
                    "total_ms": step.milliseconds,
                    "max_ms": step.milliseconds,
                }
                for step in outcome.steps
            ]
            self._add(node_stats, rows, ["steps", "failures", "total_ms"], highest="max_ms")
        if outcome.error_code:
            code = outcome.error_code[:64]
            self._add(error_stats, [{**keys, "code": code, "count": 1}], ["count"])

    def _add(
        self,
        table: Any,
        rows: list[dict[str, Any]],
        summed: list[str],
        highest: str | None = None,
    ) -> None:
        """Insert ``rows``, or add their ``summed`` columns to the rows that
        exist (and keep the larger ``highest``), in one statement."""
        postgres = self.session.get_bind().dialect.name == "postgresql"
        statement = (postgresql_insert if postgres else sqlite_insert)(table)
        changes: dict[str, ColumnElement[Any]] = {
            name: table.c[name] + statement.excluded[name] for name in summed
        }
        if highest is not None:
            larger = func.greatest if postgres else func.max
            changes[highest] = larger(table.c[highest], statement.excluded[highest])
        primary = [column.name for column in table.primary_key.columns]
        self.session.execute(
            statement.on_conflict_do_update(index_elements=primary, set_=changes), rows
        )

    def summary(self, window: Window, now: datetime, workflow_id: UUID | None = None) -> Summary:
        """The figures of the project (or one workflow) over ``window``."""
        since = window.since(now)
        result = Summary(window=window, since=since, until=now)
        sums = [func.coalesce(func.sum(run_stats.c[name]), 0) for name in _ALL_COUNTERS]
        row = self.session.execute(self._scoped(select(*sums), run_stats, since, workflow_id)).one()
        figures = dict(zip(_ALL_COUNTERS, (int(value) for value in row), strict=True))
        result.by_status = {name: figures[name] for name in ("succeeded", "failed", "cancelled")}
        result.dead_lettered = figures["dead_lettered"]
        result.durations = [figures[name] for name in DURATION_SLOTS]
        result.lags = [figures[name] for name in LAG_SLOTS]
        if result.finished == 0:
            return result
        count = func.sum(error_stats.c["count"])
        errors = self._scoped(select(error_stats.c.code, count), error_stats, since, workflow_id)
        result.errors = [
            (code, int(total))
            for code, total in self.session.execute(
                errors.group_by(error_stats.c.code).order_by(count.desc()).limit(TOP)
            )
        ]
        steps = func.sum(node_stats.c.steps)
        failures = func.sum(node_stats.c.failures)
        total = func.sum(node_stats.c.total_ms)
        nodes = self._scoped(
            select(
                workflows.c.key,
                node_stats.c.node_id,
                steps,
                failures,
                total,
                func.max(node_stats.c.max_ms),
            ).join(workflows, workflows.c.id == node_stats.c.workflow_id),
            node_stats,
            since,
            workflow_id,
        ).group_by(workflows.c.key, node_stats.c.node_id)
        result.slowest = self._nodes(nodes.order_by((total / steps).desc()).limit(TOP))
        result.failing = self._nodes(
            nodes.having(failures > 0).order_by(failures.desc()).limit(TOP)
        )
        return result

    def _scoped(
        self, query: Select[Any], table: Any, since: datetime, workflow_id: UUID | None
    ) -> Select[Any]:
        query = query.where(table.c.project_id == self.project_id, table.c.bucket >= since)
        if workflow_id is not None:
            query = query.where(table.c.workflow_id == workflow_id)
        return query

    def _nodes(self, query: Select[Any]) -> list[NodeFigures]:
        return [
            NodeFigures(
                workflow_key=key,
                node_id=node_id,
                steps=int(steps),
                failures=int(failures),
                total_ms=float(total),
                max_ms=float(highest),
            )
            for key, node_id, steps, failures, total, highest in self.session.execute(query)
        ]


_ALL_COUNTERS = (*RUN_COUNTERS, *DURATION_SLOTS, *LAG_SLOTS)
