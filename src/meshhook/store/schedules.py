"""Schedule triggers: one row per ``schedule`` node of a workflow's live
version, with its next due time (``scope.schedules``).

``due_schedules`` is the one function that looks across projects: it returns
ids and due times only (on PostgreSQL through a SECURITY DEFINER function,
migration 0013); a worker then claims each inside its project's scope with
:meth:`ScheduleStore.claim`, a row lock taken with SKIP LOCKED.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, insert, literal, select, text, update
from sqlalchemy.orm import Session

from meshhook.domain.errors import NotFound
from meshhook.store.repository import ProjectRepository
from meshhook.store.tables import schedules, workflows


@dataclass(frozen=True, slots=True)
class ScheduleRow:
    workflow_id: UUID
    node_id: str
    version: int
    spec: dict[str, Any]
    next_due_at: datetime
    last_fired_at: datetime | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Due:
    project_id: UUID
    workflow_id: UUID
    node_id: str
    next_due_at: datetime


class ScheduleStore(ProjectRepository):
    """The schedules of one project."""

    __slots__ = ()

    def for_workflow(self, workflow_id: UUID) -> list[ScheduleRow]:
        rows = self.session.execute(
            select(schedules)
            .where(
                schedules.c.project_id == self.project_id, schedules.c.workflow_id == workflow_id
            )
            .order_by(schedules.c.node_id)
        ).all()
        return [_row(row) for row in rows]

    def put(self, row: ScheduleRow, *, exists: bool) -> None:
        values = {
            "version": row.version,
            "spec": row.spec,
            "next_due_at": row.next_due_at,
            "last_fired_at": row.last_fired_at,
            "updated_at": row.updated_at,
        }
        if exists:
            self.session.execute(
                update(schedules).where(*self._key(row.workflow_id, row.node_id)).values(**values)
            )
            return
        # Inserted through the workflow row, so only a workflow of the project takes one.
        source = select(
            workflows.c.id,
            literal(row.node_id, schedules.c.node_id.type),
            workflows.c.project_id,
            literal(row.version, schedules.c.version.type),
            literal(row.spec, schedules.c.spec.type),
            literal(row.next_due_at, schedules.c.next_due_at.type),
            literal(row.last_fired_at, schedules.c.last_fired_at.type),
            literal(row.updated_at, schedules.c.updated_at.type),
        ).where(workflows.c.project_id == self.project_id, workflows.c.id == row.workflow_id)
        columns = [
            "workflow_id",
            "node_id",
            "project_id",
            "version",
            "spec",
            "next_due_at",
            "last_fired_at",
            "updated_at",
        ]
        inserted = self.session.execute(
            insert(schedules).from_select(columns, source).returning(schedules.c.node_id)
        ).first()
        if inserted is None:
            raise NotFound(f"no workflow {row.workflow_id} in this project")

    def remove(self, workflow_id: UUID, node_id: str | None = None) -> None:
        """One schedule of the workflow, or (``node_id`` None) all of them."""
        where = [schedules.c.project_id == self.project_id, schedules.c.workflow_id == workflow_id]
        if node_id is not None:
            where.append(schedules.c.node_id == node_id)
        self.session.execute(delete(schedules).where(*where))

    def claim(self, workflow_id: UUID, node_id: str, due_at: datetime) -> ScheduleRow | None:
        """Lock the schedule if it is still due at ``due_at`` (no other worker
        holds or has moved it); ``None`` when someone else has it."""
        query = select(schedules).where(*self._key(workflow_id, node_id))
        if self.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        row = self.session.execute(query).first()
        if row is None or _utc(row.next_due_at) != _utc(due_at):
            return None
        return _row(row)

    def advance(
        self, workflow_id: UUID, node_id: str, next_due_at: datetime, fired: datetime | None
    ) -> None:
        values: dict[str, Any] = {"next_due_at": next_due_at}
        if fired is not None:
            values["last_fired_at"] = fired
        self.session.execute(
            update(schedules).where(*self._key(workflow_id, node_id)).values(**values)
        )

    def _key(self, workflow_id: UUID, node_id: str) -> tuple[Any, ...]:
        return (
            schedules.c.project_id == self.project_id,
            schedules.c.workflow_id == workflow_id,
            schedules.c.node_id == node_id,
        )


def due_schedules(session: Session, now: datetime, limit: int) -> list[Due]:
    """Schedules of any project due at ``now``, soonest first (ids only)."""
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(
            text(
                "SELECT project_id, workflow_id, node_id, next_due_at"
                " FROM meshhook_due_schedules(:at, :max)"
            ),
            {"at": now, "max": limit},
        ).all()
    else:
        rows = session.execute(
            select(
                schedules.c.project_id,
                schedules.c.workflow_id,
                schedules.c.node_id,
                schedules.c.next_due_at,
            )
            .where(schedules.c.next_due_at <= now)
            .order_by(schedules.c.next_due_at)
            .limit(limit)
        ).all()
    return [Due(r.project_id, r.workflow_id, r.node_id, _utc(r.next_due_at)) for r in rows]


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _row(row: Any) -> ScheduleRow:
    return ScheduleRow(
        workflow_id=row.workflow_id,
        node_id=row.node_id,
        version=row.version,
        spec=row.spec,
        next_due_at=_utc(row.next_due_at),
        last_fired_at=_utc(row.last_fired_at) if row.last_fired_at else None,
        updated_at=_utc(row.updated_at),
    )
