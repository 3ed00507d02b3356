"""Retention of one project's runs (``scope.retention``): its policy, the
batches of expired runs to delete or scrub, and what a dry run reports.

Every query names ``project_id`` and walks ``ix_runs_project_id_created_at``,
so a batch costs the size of the batch, not of the table. Deleting a run
cascades to its events (one partition on PostgreSQL: the foreign key carries
the run's creation time), its queue entry and idempotency keys. Statistics
rollups are not tied to runs and stay.

Scrubbing is :meth:`RetentionStore.scrub_runs`, the one place that rewrites
stored payloads (``domain/retention.py`` says what is kept).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    and_,
    any_,
    bindparam,
    case,
    delete,
    false,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnClause

from meshhook.domain.retention import (
    RetentionPolicy,
    scrub_error,
    scrub_event_data,
    scrub_steps,
)
from meshhook.domain.runs.events import RunStatus
from meshhook.store.db import BACKGROUND, Database
from meshhook.store.dialect import same_project
from meshhook.store.repository import ProjectRepository
from meshhook.store.tables import retention_policies, run_events, runs
from meshhook.store.write_queue import yielded

FINISHED = tuple(str(status) for status in RunStatus if status.is_terminal)


@dataclass(frozen=True, slots=True)
class StoredPolicy:
    policy: RetentionPolicy
    updated_at: datetime
    updated_by: str
    scrubbed_before: datetime | None
    """Every finished run created before this is scrubbed already."""


@dataclass(frozen=True, slots=True)
class RunKey:
    """A run as its events' foreign key names it."""

    id: UUID
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DeletedBatch:
    """One batch of :meth:`RetentionStore.delete_expired`."""

    deleted: int
    more: bool
    """Whether expired finished runs may be left after this batch."""
    last: RunKey | None
    """Where the next batch starts (PostgreSQL's keyset; None on SQLite)."""
    yielded: bool = False
    """SQLite: the batch gave way to another writer and deleted nothing."""


@dataclass(frozen=True, slots=True)
class WorkflowBacklog:
    """What the policy would remove from one workflow's runs now."""

    workflow_id: UUID
    workflow_key: str
    runs_to_delete: int
    runs_to_scrub: int


@dataclass(frozen=True, slots=True)
class ProjectPolicy:
    project_id: UUID
    policy: RetentionPolicy


class RetentionStore(ProjectRepository):
    """The retention policy and expired runs of one project."""

    # -- the policy ---------------------------------------------------------

    def policy(self) -> StoredPolicy | None:
        row = self.session.execute(
            select(retention_policies).where(retention_policies.c.project_id == self.project_id)
        ).first()
        if row is None:
            return None
        return StoredPolicy(
            RetentionPolicy(row.delete_after_days, row.scrub_after_days),
            row.updated_at,
            row.updated_by,
            row.scrubbed_before,
        )

    def save_policy(self, policy: RetentionPolicy, by: str, now: datetime) -> None:
        """Set the policy (the scrub mark stays: scrubbed runs stay scrubbed)."""
        values = {
            "delete_after_days": policy.delete_after_days,
            "scrub_after_days": policy.scrub_after_days,
            "updated_at": now,
            "updated_by": by,
        }
        changed = self.session.execute(
            update(retention_policies)
            .where(retention_policies.c.project_id == self.project_id)
            .values(**values)
        )
        if not changed.rowcount:  # type: ignore[attr-defined]
            self.session.execute(
                insert(retention_policies).values(project_id=self.project_id, **values)
            )

    def mark_scrubbed_before(self, moment: datetime) -> None:
        self.session.execute(
            update(retention_policies)
            .where(retention_policies.c.project_id == self.project_id)
            .values(scrubbed_before=moment)
        )

    # -- batches ------------------------------------------------------------

    def expired(self, before: datetime, limit: int, after: RunKey | None = None) -> list[RunKey]:
        """Up to ``limit`` finished runs created before ``before``, oldest first;
        ``after`` the last key of the previous batch, so a pass does not walk
        again over the index entries of the rows it deleted (on PostgreSQL
        they stay until vacuum)."""
        query = select(runs.c.id, runs.c.created_at).where(
            runs.c.project_id == self.project_id,
            runs.c.created_at < before,
            runs.c.status.in_(FINISHED),
        )
        if after is not None:
            query = query.where(
                tuple_(runs.c.created_at, runs.c.id) > tuple_(after.created_at, after.id)
            )
        rows = self.session.execute(query.order_by(runs.c.created_at, runs.c.id).limit(limit)).all()
        return [RunKey(row.id, row.created_at) for row in rows]

    def unscrubbed(self, since: datetime | None, before: datetime, limit: int) -> list[RunKey]:
        """Up to ``limit`` finished, unscrubbed runs created in ``[since, before)``."""
        query = select(runs.c.id, runs.c.created_at).where(
            runs.c.project_id == self.project_id,
            runs.c.created_at < before,
            runs.c.status.in_(FINISHED),
            runs.c.scrubbed_at.is_(None),
        )
        if since is not None:
            query = query.where(runs.c.created_at >= since)
        rows = self.session.execute(query.order_by(runs.c.created_at, runs.c.id).limit(limit)).all()
        return [RunKey(row.id, row.created_at) for row in rows]

    def oldest_unfinished(self, since: datetime | None, before: datetime) -> datetime | None:
        """The creation time of the oldest run in ``[since, before)`` still going."""
        query = select(func.min(runs.c.created_at)).where(
            runs.c.project_id == self.project_id,
            runs.c.created_at < before,
            runs.c.status.not_in(FINISHED),
        )
        if since is not None:
            query = query.where(runs.c.created_at >= since)
        moment: datetime | None = self.session.execute(query).scalar()
        return moment

    def delete_expired(
        self, before: datetime, limit: int, after: RunKey | None = None, *, yields: bool = False
    ) -> DeletedBatch:
        """Delete up to ``limit`` of the oldest finished runs created before
        ``before`` (with their events, queue entries and idempotency keys), in
        one statement: a subquery walks the project's index by creation time
        and the ``DELETE`` takes the rows it picked by their physical address
        (``rowid`` on SQLite, ``ctid`` on PostgreSQL).

        Not ``project_id = :p AND id IN (...)``: both planners may walk the
        project's whole index for that instead of the primary key (SQLite
        always, PostgreSQL before ``runs`` was analyzed), a scan per batch.
        On SQLite, in a ``statements`` session (store/db.py), the write lock
        is held only while SQLite runs it, with no Python inside; deleted rows
        leave the index at once, so each batch starts at the oldest run again.
        With ``yields`` it runs in the background (store/write_queue.py): a
        writer arriving meanwhile interrupts it, and the batch comes back
        ``yielded`` with nothing deleted.
        On PostgreSQL the batch starts after ``after`` (deleted rows' index
        entries stay until vacuum and are not walked again), and a run that
        changed meanwhile is skipped.
        """
        postgres = self.session.get_bind().dialect.name == "postgresql"
        address: ColumnClause[Any] = literal_column("ctid" if postgres else "rowid")
        picked = (
            select(address)
            .select_from(runs)
            .where(
                runs.c.project_id == self.project_id,
                runs.c.created_at < before,
                runs.c.status.in_(FINISHED),
            )
            .order_by(runs.c.created_at, runs.c.id)
            .limit(limit)
        )
        if not postgres:
            try:
                result = self.session.execute(
                    delete(runs).where(address.in_(picked)),
                    execution_options={BACKGROUND: yields},
                )
            except OperationalError as error:
                if not yielded(error):
                    raise
                return DeletedBatch(0, True, None, yielded=True)
            deleted = int(result.rowcount)  # type: ignore[attr-defined]
            return DeletedBatch(deleted, deleted >= limit, None)
        if after is not None:
            picked = picked.where(
                tuple_(runs.c.created_at, runs.c.id) > tuple_(after.created_at, after.id)
            )
        gone = self.session.execute(
            delete(runs)
            .where(
                address == any_(func.array(picked.scalar_subquery())),
                runs.c.status.in_(FINISHED),
            )
            .returning(runs.c.created_at, runs.c.id)
        ).all()
        last = max(((row.created_at, row.id) for row in gone), default=None)
        return DeletedBatch(
            len(gone), len(gone) >= limit, RunKey(last[1], last[0]) if last else after
        )

    def delete_runs(self, keys: Sequence[RunKey]) -> int:
        """Delete these runs with their events, queue entries and idempotency keys."""
        if not keys:
            return 0
        result = self.session.execute(
            delete(runs).where(
                runs.c.project_id == self.project_id,
                runs.c.id.in_([key.id for key in keys]),
                runs.c.status.in_(FINISHED),
            )
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    def scrub_runs(self, keys: Sequence[RunKey], now: datetime) -> int:
        """Remove the payloads of these finished runs and of their events,
        keeping every other field; the number of runs scrubbed."""
        if not keys:
            return 0
        rows = self.session.execute(
            select(runs.c.id, runs.c.error, runs.c.steps).where(
                same_project(self.session, runs.c.project_id, self.project_id),
                runs.c.id.in_([key.id for key in keys]),
                runs.c.status.in_(FINISHED),
                runs.c.scrubbed_at.is_(None),
            )
        ).all()
        if not rows:
            return 0
        self.session.execute(
            update(runs)
            .where(runs.c.project_id == self.project_id, runs.c.id == bindparam("run"))
            .values(
                input=None,
                output=None,
                error=bindparam("new_error"),
                steps=bindparam("new_steps"),
                scrubbed_at=now,
            )
            .execution_options(synchronize_session=False),
            [
                {
                    "run": row.id,
                    "new_error": scrub_error(row.error),
                    "new_steps": scrub_steps(row.steps),
                }
                for row in rows
            ],
        )
        scrubbed = {row.id for row in rows}
        wanted = [(key.id, key.created_at) for key in keys if key.id in scrubbed]
        events = self.session.execute(
            select(
                run_events.c.run_id,
                run_events.c.seq,
                run_events.c.run_created_at,
                run_events.c.data,
            ).where(
                same_project(self.session, run_events.c.project_id, self.project_id),
                # run_id alone finds them through the primary key on SQLite;
                # the pair prunes to their months' partitions on PostgreSQL.
                run_events.c.run_id.in_([pair[0] for pair in wanted]),
                tuple_(run_events.c.run_id, run_events.c.run_created_at).in_(wanted),
            )
        ).all()
        if events:
            self.session.execute(
                update(run_events)
                .where(
                    run_events.c.project_id == self.project_id,
                    run_events.c.run_id == bindparam("run"),
                    run_events.c.seq == bindparam("number"),
                    run_events.c.run_created_at == bindparam("created"),
                )
                .values(data=bindparam("new_data"))
                .execution_options(synchronize_session=False),
                [
                    {
                        "run": event.run_id,
                        "number": event.seq,
                        "created": event.run_created_at,
                        "new_data": scrub_event_data(event.data),
                    }
                    for event in events
                ],
            )
        return len(rows)

    # -- the dry run ----------------------------------------------------------

    def backlog(
        self, delete_before: datetime | None, scrub_before: datetime | None
    ) -> list[WorkflowBacklog]:
        """Per workflow, the finished runs the policy would delete and scrub now."""
        if delete_before is None and scrub_before is None:
            return []
        to_delete: Any = runs.c.created_at < delete_before if delete_before else false()
        to_scrub: Any = (
            and_(runs.c.created_at < scrub_before, runs.c.scrubbed_at.is_(None), ~to_delete)
            if scrub_before
            else false()
        )
        deleting = func.sum(_flag(to_delete))
        scrubbing = func.sum(_flag(to_scrub))
        horizon = max(m for m in (delete_before, scrub_before) if m is not None)
        rows = self.session.execute(
            select(
                runs.c.workflow_id,
                runs.c.workflow_key,
                deleting.label("deleting"),
                scrubbing.label("scrubbing"),
            )
            .where(
                runs.c.project_id == self.project_id,
                runs.c.created_at < horizon,
                runs.c.status.in_(FINISHED),
            )
            .group_by(runs.c.workflow_id, runs.c.workflow_key)
            .order_by(runs.c.workflow_key)
        ).all()
        return [
            WorkflowBacklog(
                row.workflow_id, row.workflow_key, int(row.deleting or 0), int(row.scrubbing or 0)
            )
            for row in rows
            if row.deleting or row.scrubbing
        ]


def _flag(condition: Any) -> Any:
    return case((condition, 1), else_=0)


def all_policies(session: Session) -> list[ProjectPolicy]:
    """Every project's policy that removes anything, across projects (the
    job's narrow path: a SECURITY DEFINER function on PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(
            text(
                "SELECT project_id, delete_after_days, scrub_after_days"
                " FROM meshhook_retention_policies()"
            )
        ).all()
    else:
        rows = session.execute(
            select(
                retention_policies.c.project_id,
                retention_policies.c.delete_after_days,
                retention_policies.c.scrub_after_days,
            )
            .where(
                or_(
                    retention_policies.c.delete_after_days.is_not(None),
                    retention_policies.c.scrub_after_days.is_not(None),
                )
            )
            .order_by(retention_policies.c.project_id)
        ).all()
    return [
        ProjectPolicy(row.project_id, RetentionPolicy(row.delete_after_days, row.scrub_after_days))
        for row in rows
    ]


JOB_LOCK = 0x6D68_7265_7465  # "mhrete": the retention job's advisory lock


@contextmanager
def job_lock(db: Database) -> Iterator[bool]:
    """Whether this process may run the retention pass now: on PostgreSQL one
    worker at a time holds a session advisory lock for the whole pass (other
    workers skip theirs); SQLite deployments have one process."""
    if not db.is_postgres:
        yield True
        return
    with db.engine.connect() as connection:
        got = bool(
            connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": JOB_LOCK}).scalar()
        )
        connection.commit()
        try:
            yield got
        finally:
            if got:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": JOB_LOCK})
                connection.commit()
