"""Schedule triggers: keep one row per ``schedule`` node of each workflow's
live version (alias ``production``, else the published version), fire due
ones exactly once however many workers run, and show the next fire times.

Exactly once: a worker claims a due time by locking the schedule's row (SKIP
LOCKED on PostgreSQL; SQLite has one writer) and checking it is still due at
that time, then starts the runs and moves ``next_due_at`` on, all in one
transaction. A second worker finds the row locked or moved on. Each run's
``Idempotency-Key`` is ``schedule/<node>/<due time>`` besides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import structlog

from meshhook.domain.accounts import Actor, Role
from meshhook.domain.errors import MeshHookError
from meshhook.domain.runs.run import Trigger
from meshhook.domain.schedules import ScheduleSpec, fires
from meshhook.domain.workflows import Workflow
from meshhook.services import definitions
from meshhook.services.runs import DEFAULT_ALIAS, StartRequest, start_in_scope
from meshhook.services.transactions import (
    ProjectScope,
    project_transaction,
    worker_transaction,
)
from meshhook.store.db import Database
from meshhook.store.schedules import Due, ScheduleRow

log = structlog.get_logger("meshhook.schedules")

SCHEDULER = Actor(user_id=None, label="schedule", is_admin=False)
UPCOMING = 5
TICK_LIMIT = 100


def live_version(scope: ProjectScope, workflow: Workflow) -> int | None:
    """The version schedules fire: alias ``production``'s, else the published one."""
    production = scope.aliases.get(workflow.id, DEFAULT_ALIAS)
    if production is not None:
        return production.version
    return workflow.published_version


def sync(scope: ProjectScope, workflow_id: UUID, now: datetime | None = None) -> None:
    """Make the workflow's schedule rows match its live version's ``schedule``
    nodes (none when it is deleted or unpublished). An unchanged spec keeps its
    next due time; a new or changed one is next due at its next fire time."""
    now = now or datetime.now(UTC)
    wanted: dict[str, ScheduleSpec] = {}
    workflow = scope.workflows.find(workflow_id=workflow_id)
    number = live_version(scope, workflow) if workflow is not None else None
    if workflow is not None and number is not None:
        version = scope.versions.get(workflow.id, number)
        if version is not None:
            for node in definitions.load(version.definition).get("nodes", []):
                if node.get("type") == "schedule":
                    wanted[node["id"]] = ScheduleSpec.from_config(node.get("config") or {})
    existing = {row.node_id: row for row in scope.schedules.for_workflow(workflow_id)}
    for node_id in existing.keys() - wanted.keys():
        scope.schedules.remove(workflow_id, node_id)
    for node_id, spec in wanted.items():
        assert number is not None
        old = existing.get(node_id)
        same = old is not None and old.spec == spec.as_json()
        scope.schedules.put(
            ScheduleRow(
                workflow_id=workflow_id,
                node_id=node_id,
                version=number,
                spec=spec.as_json(),
                next_due_at=old.next_due_at if same and old else spec.next_after(now),
                last_fired_at=old.last_fired_at if old else None,
                updated_at=now,
            ),
            exists=old is not None,
        )


def fire(db: Database, due: Sequence[Due], now: datetime) -> int:
    """Fire the schedules a worker's round found due at ``now``
    (services/worker_rounds.py), each in its own transaction; the number of runs
    started."""
    return sum(_fire(db, item, now) for item in due)


def _fire(db: Database, item: Due, now: datetime) -> int:
    with worker_transaction(db, item.project_id) as scope:
        row = scope.schedules.claim(item.workflow_id, item.node_id, item.next_due_at)
        if row is None:
            return 0  # another worker has it, or moved it on already
        workflow = scope.workflows.find(workflow_id=item.workflow_id)
        if workflow is None or live_version(scope, workflow) != row.version:
            sync(scope, item.workflow_id, now)  # deleted, or its live version moved
            return 0
        spec = ScheduleSpec.from_config(row.spec)
        plan = fires(spec, row.next_due_at, now)
        started = 0
        for due_at in plan.run_at:
            moment = due_at.isoformat().replace("+00:00", "Z")
            request = StartRequest(
                input={"schedule": row.node_id, "scheduled_for": moment},
                trigger=Trigger.SCHEDULE,
                trigger_node=row.node_id,
                idempotency_key=f"schedule/{row.node_id}/{moment}",
            )
            try:
                result = start_in_scope(scope, SCHEDULER, workflow, request, now=now)
            except MeshHookError as error:
                log.warning(
                    "schedule could not start a run",
                    workflow=workflow.key,
                    node_id=row.node_id,
                    scheduled_for=moment,
                    error=str(error),
                )
                continue
            started += int(result.created)
        scope.schedules.advance(
            row.workflow_id,
            row.node_id,
            plan.next_due_at,
            plan.run_at[-1] if plan.run_at else None,
        )
        log.info(
            "schedule fired",
            workflow=workflow.key,
            node_id=row.node_id,
            runs=started,
            skipped=plan.skipped,
            next_due_at=plan.next_due_at.isoformat(),
        )
        return started


@dataclass(frozen=True, slots=True)
class ScheduleView:
    node_id: str
    version: int
    spec: ScheduleSpec
    next_due_at: datetime
    last_fired_at: datetime | None
    upcoming: list[datetime]

    def as_json(self) -> dict[str, Any]:
        return {
            "node_id": self.node_id,
            "version": self.version,
            **self.spec.as_json(),
            "next_due_at": self.next_due_at.isoformat(),
            "last_fired_at": self.last_fired_at.isoformat() if self.last_fired_at else None,
            "upcoming": [moment.isoformat() for moment in self.upcoming],
        }


def describe(
    db: Database, actor: Actor, project_key: str, ref: str, *, count: int = UPCOMING
) -> list[ScheduleView]:
    """The workflow's schedules and their next ``count`` fire times (empty when
    it has no schedule trigger in its live version)."""
    with project_transaction(db, actor, project_key, Role.VIEWER, write=False) as scope:
        workflow = scope.find_workflow(ref)
        rows = scope.schedules.for_workflow(workflow.id)
    views = []
    for row in rows:
        spec = ScheduleSpec.from_config(row.spec)
        first = row.next_due_at
        views.append(
            ScheduleView(
                node_id=row.node_id,
                version=row.version,
                spec=spec,
                next_due_at=first,
                last_fired_at=row.last_fired_at,
                upcoming=[first, *spec.upcoming(first, count - 1)],
            )
        )
    return views
