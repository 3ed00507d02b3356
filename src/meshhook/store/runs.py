"""Runs, their event logs, the work queue and start idempotency keys.

``RunStore`` is bound to one project: every statement names its
``project_id``, so on SQLite (no RLS) a wrong id finds nothing as it would on
PostgreSQL. ``claim_due`` is the one function that looks across projects: it
leases due runs for a worker and returns only ids and projects (on PostgreSQL
through a SECURITY DEFINER function, migration 0009).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import (
    Integer,
    Select,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from meshhook.domain.errors import Conflict
from meshhook.domain.runs.events import EventType, RunEvent, RunStatus
from meshhook.domain.runs.run import Run, RunView, Trigger
from meshhook.store.repository import ProjectRepository
from meshhook.store.run_payloads import DataKeys, PayloadCipher
from meshhook.store.tables import run_events, run_idempotency, run_queue, runs


@dataclass(frozen=True, slots=True)
class Claimed:
    run_id: UUID
    project_id: UUID
    due_at: datetime


@dataclass(frozen=True, slots=True)
class QueueStats:
    due: int
    """Runs due now (waiting for a worker)."""
    oldest_due: datetime | None


@dataclass(frozen=True, slots=True)
class RunFilter:
    workflow_id: UUID | None = None
    version: int | None = None
    status: str | None = None
    trigger: str | None = None
    test: bool | None = None
    dead_letter: bool | None = None
    since: datetime | None = None
    until: datetime | None = None


class EventConflict(Conflict):
    """Another writer appended to the run's log first (a cancel, another worker)."""


class RunStore(ProjectRepository):
    """The runs of one project (``scope.runs``). Payloads are sealed on the way
    in and opened on the way out (``store/run_payloads.py``) with the project's
    data keys, when the scope was given them."""

    __slots__ = ("cipher",)

    def __init__(self, session: Session, project_id: UUID, keys: DataKeys | None = None) -> None:
        super().__init__(session, project_id)
        self.cipher = PayloadCipher(project_id, keys)

    # -- runs ---------------------------------------------------------------

    def insert(self, run: Run) -> None:
        self.session.execute(insert(runs).values(**self._run_row(run)))

    def insert_queued(self, started: Sequence[tuple[Run, RunEvent]]) -> None:
        """New runs, each with its first event and a queue row due at its
        creation: three statements however many runs there are."""
        self.session.execute(insert(runs), [self._run_row(run) for run, _ in started])
        self.session.execute(
            insert(run_events),
            [self._event_row(run, event) for run, event in started],
        )
        self.session.execute(
            insert(run_queue),
            [
                {"run_id": run.id, "project_id": self.project_id, "due_at": run.created_at}
                for run, _ in started
            ],
        )

    def _run_row(self, run: Run) -> dict[str, Any]:
        return {
            "id": run.id,
            "project_id": self.project_id,
            "workflow_id": run.workflow_id,
            "workflow_key": run.workflow_key,
            "version": run.version,
            "alias": run.alias,
            "test": run.test,
            "trigger": str(run.trigger),
            "created_at": run.created_at,
            "created_by": run.created_by,
            "resumed_from_run": run.resumed_from_run,
            "resumed_from_node": run.resumed_from_node,
            "canary": run.canary,
            **self._view_columns(run.id, run.view),
        }

    def get(self, run_id: UUID, *, for_update: bool = False) -> Run | None:
        row = self.session.execute(
            _GET[for_update], {"b_project": self.project_id, "b_run": run_id}
        ).first()
        return self._run(row) if row else None

    def page(
        self, filters: RunFilter, limit: int, after: tuple[datetime, UUID] | None
    ) -> list[Run]:
        """Newest first, keyset-paged on ``(created_at, id)``."""
        query = select(runs).where(runs.c.project_id == self.project_id)
        if filters.workflow_id is not None:
            query = query.where(runs.c.workflow_id == filters.workflow_id)
        if filters.version is not None:
            query = query.where(runs.c.version == filters.version)
        if filters.status is not None:
            query = query.where(runs.c.status == filters.status)
        if filters.trigger is not None:
            query = query.where(runs.c.trigger == filters.trigger)
        if filters.test is not None:
            query = query.where(runs.c.test == filters.test)
        if filters.dead_letter is not None:
            query = query.where(runs.c.dead_letter == filters.dead_letter)
        if filters.since is not None:
            query = query.where(runs.c.created_at >= filters.since)
        if filters.until is not None:
            query = query.where(runs.c.created_at < filters.until)
        if after is not None:
            moment, run_id = after
            query = query.where(
                or_(
                    runs.c.created_at < moment,
                    and_(runs.c.created_at == moment, runs.c.id < run_id),
                )
            )
        query = query.order_by(runs.c.created_at.desc(), runs.c.id.desc()).limit(limit)
        return [self._run(row) for row in self.session.execute(query)]

    def save_view(self, run_id: UUID, view: RunView) -> None:
        """Refresh the projection; its ``input`` was written with the run and
        never changes, so it is not sealed and written again."""
        columns = self._view_columns(run_id, view, with_input=False)
        self.session.execute(_SAVE_VIEW, {**columns, "b_project": self.project_id, "b_run": run_id})

    # -- payloads sealed and opened here, and nowhere else -------------------

    def _view_columns(
        self, run_id: UUID, view: RunView, *, with_input: bool = True
    ) -> dict[str, Any]:
        cipher = self.cipher
        columns = {
            "status": str(view.status),
            "dead_letter": view.dead_letter,
            "output": cipher.seal_value(view.output, run_id, "output"),
            "error": cipher.seal_error(view.error, run_id),
            "steps": cipher.seal_steps(view.steps, run_id),
            "last_seq": view.last_seq,
            "started_at": view.started_at,
            "finished_at": view.finished_at,
        }
        if with_input:
            columns["input"] = cipher.seal_value(view.input, run_id, "input")
        return columns

    def _run(self, row: Any) -> Run:
        cipher = self.cipher
        run_id = row.id
        return Run(
            id=run_id,
            project_id=row.project_id,
            workflow_id=row.workflow_id,
            workflow_key=row.workflow_key,
            version=row.version,
            alias=row.alias,
            test=row.test,
            trigger=Trigger(row.trigger),
            created_at=row.created_at,
            created_by=row.created_by,
            resumed_from_run=row.resumed_from_run,
            resumed_from_node=row.resumed_from_node,
            canary=row.canary,
            scrubbed_at=row.scrubbed_at,
            view=RunView(
                status=RunStatus(row.status),
                input=cipher.open_value(row.input, run_id, "input"),
                output=cipher.open_value(row.output, run_id, "output"),
                error=cipher.open_error(row.error, run_id),
                steps=cipher.open_steps(row.steps, run_id),
                started_at=row.started_at,
                finished_at=row.finished_at,
                dead_letter=row.dead_letter,
                last_seq=row.last_seq,
            ),
        )

    # -- events -------------------------------------------------------------

    def events(self, run_id: UUID, *, after: int = 0, limit: int | None = None) -> list[RunEvent]:
        query = _EVENTS if limit is None else _EVENTS.limit(limit)
        scope = {"b_project": self.project_id, "b_run": run_id, "b_after": after}
        open_event = self.cipher.open_event
        return [
            RunEvent(
                seq=row.seq,
                type=EventType(row.type),
                at=row.at,
                node_id=row.node_id,
                data=open_event(row.data, run_id, row.seq, row.node_id),
            )
            for row in self.session.execute(query, scope)
        ]

    def append(self, run: Run, events: Sequence[RunEvent]) -> None:
        """Insert events; a ``seq`` someone else took first → :class:`EventConflict`."""
        if not events:
            return
        rows = [self._event_row(run, event) for event in events]
        # No savepoint: a conflict ends the whole transaction (the caller's
        # commit or start rolls back and looks again), so none is needed.
        try:
            self.session.execute(insert(run_events), rows)
        except IntegrityError:
            raise EventConflict("the run's log moved on meanwhile") from None

    def _event_row(self, run: Run, event: RunEvent) -> dict[str, Any]:
        """Each row carries its run's creation time: the partition key on
        PostgreSQL, so a run's events share a partition (store/partitions.py)."""
        run_id = run.id
        return {
            "run_id": run_id,
            "run_created_at": run.created_at,
            "seq": event.seq,
            "project_id": self.project_id,
            "type": str(event.type),
            "node_id": event.node_id,
            "at": event.at,
            "data": self.cipher.seal_event(event.data, run_id, event.seq, event.node_id),
        }

    # -- queue --------------------------------------------------------------

    def enqueue(self, run_id: UUID, due_at: datetime) -> None:
        self.session.execute(
            insert(run_queue).values(run_id=run_id, project_id=self.project_id, due_at=due_at)
        )

    def reschedule(self, run_id: UUID, worker: str, due_at: datetime | None) -> bool:
        """Hand the run back (due again at ``due_at``, or done when ``None``);
        False when ``worker`` no longer holds its lease."""
        guard = {"b_project": self.project_id, "b_run": run_id, "b_worker": worker}
        if due_at is None:
            result = self.session.execute(_FINISH, guard)
        else:
            result = self.session.execute(_HAND_BACK, {**guard, "b_due": due_at})
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def holds_lease(self, run_id: UUID, worker: str, until: datetime) -> bool:
        """Extend ``worker``'s lease to ``until``; False when it was lost."""
        result = self.session.execute(
            _HOLD,
            {"b_project": self.project_id, "b_run": run_id, "b_worker": worker, "b_until": until},
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def dequeue(self, run_id: UUID) -> None:
        self.session.execute(
            delete(run_queue).where(
                run_queue.c.project_id == self.project_id, run_queue.c.run_id == run_id
            )
        )

    # -- idempotency keys ---------------------------------------------------

    def run_for_key(self, workflow_id: UUID, key: str, since: datetime) -> UUID | None:
        row = self.session.execute(
            select(run_idempotency.c.run_id, run_idempotency.c.created_at).where(
                run_idempotency.c.project_id == self.project_id,
                run_idempotency.c.workflow_id == workflow_id,
                run_idempotency.c.key == key,
            )
        ).first()
        if row is None or row.created_at < since:
            return None
        run_id: UUID = row.run_id
        return run_id

    def remember_key(self, workflow_id: UUID, key: str, run_id: UUID, now: datetime) -> None:
        where = (
            run_idempotency.c.project_id == self.project_id,
            run_idempotency.c.workflow_id == workflow_id,
            run_idempotency.c.key == key,
        )
        self.session.execute(delete(run_idempotency).where(*where))  # an expired one
        self.session.execute(
            insert(run_idempotency).values(
                workflow_id=workflow_id,
                key=key,
                project_id=self.project_id,
                run_id=run_id,
                created_at=now,
            )
        )


def claim_due(
    session: Session, worker: str, lease_seconds: float, limit: int, now: datetime
) -> list[Claimed]:
    """Lease up to ``limit`` due runs of any project for ``worker``."""
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(
            text(
                "SELECT run_id, project_id, due_at FROM meshhook_claim_runs(:worker, :lease, :max)"
            ),
            {"worker": worker, "lease": lease_seconds, "max": limit},
        ).all()
        return [Claimed(row.run_id, row.project_id, row.due_at) for row in rows]
    # SQLite: the write transaction already holds the database's one write lock.
    due = session.execute(_claimable(now).limit(limit)).all()
    if due:
        session.execute(
            update(run_queue)
            .where(run_queue.c.run_id.in_([row.run_id for row in due]))
            .values(lease_owner=worker, lease_until=now + timedelta(seconds=lease_seconds))
        )
    return [Claimed(row.run_id, row.project_id, row.due_at) for row in due]


def any_claimable(session: Session, now: datetime) -> bool:
    """Whether :func:`claim_due` would lease anything at ``now`` (a read: on
    SQLite a worker asks this before it takes the write lock to claim)."""
    return session.execute(_claimable(now).limit(1)).first() is not None


def _claimable(now: datetime) -> Select[tuple[UUID, UUID, datetime]]:
    """Queue entries due at ``now`` whose lease is free, soonest first."""
    return (
        select(run_queue.c.run_id, run_queue.c.project_id, run_queue.c.due_at)
        .where(
            run_queue.c.due_at <= now,
            or_(run_queue.c.lease_until.is_(None), run_queue.c.lease_until < now),
        )
        .order_by(run_queue.c.due_at)
    )


def queue_stats(session: Session, now: datetime) -> QueueStats:
    """How many runs are due and since when, across projects (counts only)."""
    if session.get_bind().dialect.name == "postgresql":
        row = session.execute(text("SELECT due, oldest_due FROM meshhook_queue_stats()")).one()
    else:
        row = session.execute(
            select(
                func.count().label("due"), func.min(run_queue.c.due_at).label("oldest_due")
            ).where(run_queue.c.due_at <= now)
        ).one()
    oldest = row.oldest_due
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return QueueStats(int(row.due), oldest)


# The statements a worker runs for every stretch of a run, built once (their
# bound parameters are prefixed ``b_`` so they never clash with a column that
# an update sets from the parameters).
_RUN = (runs.c.project_id == bindparam("b_project"), runs.c.id == bindparam("b_run"))
_GET = {False: select(runs).where(*_RUN), True: select(runs).where(*_RUN).with_for_update()}
_SAVE_VIEW = update(runs).where(*_RUN)
"""Sets the columns its parameters name (``RunStore._view_columns``)."""
_EVENTS = (
    select(run_events)
    .where(
        run_events.c.project_id == bindparam("b_project"),
        run_events.c.run_id == bindparam("b_run"),
        # Names the run's partition (pruned at execution on PostgreSQL).
        run_events.c.run_created_at
        == select(runs.c.created_at).where(runs.c.id == bindparam("b_run")).scalar_subquery(),
        run_events.c.seq > bindparam("b_after", type_=Integer),
    )
    .order_by(run_events.c.seq)
)
_LEASED = (
    run_queue.c.project_id == bindparam("b_project"),
    run_queue.c.run_id == bindparam("b_run"),
    run_queue.c.lease_owner == bindparam("b_worker"),
)
_FINISH = delete(run_queue).where(*_LEASED)
_HAND_BACK = (
    update(run_queue)
    .where(*_LEASED)
    .values(due_at=bindparam("b_due"), lease_owner=None, lease_until=None)
)
_HOLD = update(run_queue).where(*_LEASED).values(lease_until=bindparam("b_until"))
