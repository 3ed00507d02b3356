"""Retention: a project's policy (viewer reads it, admin changes it, audited),
applying it now or as a dry run (admin), and the worker's periodic job.

Deleting and scrubbing go in batches, each its own short transaction, sized
to a target duration (``retention_batch_ms``; 2 ms on SQLite, 50 ms on
PostgreSQL by default): a batch that took longer than
the target makes the next one smaller, a quick one makes it larger (up to
``retention_batch_runs``), and the job rests as long as each batch took. A
deletion batch is one statement (``RetentionStore.delete_expired``), on SQLite
its own transaction: the one write lock is held only while SQLite deletes, and
the batch runs in the background (store/write_queue.py): it waits behind every
other writer of the process, and one that arrives while it runs interrupts it
(nothing of it is written; it is tried again, but never more than
:data:`MAX_YIELDS` times in a row), so a save hardly waits for it. On
PostgreSQL batches only lock their own rows.

On PostgreSQL the job also creates ``run_events`` partitions ahead and drops
the ones every project's policy has expired (``store/partitions.py``); the
runs rows of a dropped month are then deleted in batches like any others.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import structlog

from meshhook.domain.accounts import Actor, Role
from meshhook.domain.retention import KEEP_FOREVER, RetentionPolicy, checked_policy
from meshhook.services.transactions import (
    ProjectScope,
    project_transaction,
    transaction,
    worker_transaction,
)
from meshhook.settings import Settings
from meshhook.store import partitions
from meshhook.store.db import Database
from meshhook.store.retention import RunKey, WorkflowBacklog, all_policies, job_lock

log = structlog.get_logger("meshhook.retention")

MIN_BATCH = 10
SQLITE_BATCH_MS = 2.0
POSTGRES_BATCH_MS = 50.0
MAX_YIELDS = 4
"""SQLite: a deletion batch gives way to any writer that arrives while it runs
(it is interrupted and tried again), but not after this many in a row, so a
busy installation still deletes."""


@dataclass(frozen=True, slots=True)
class Knobs:
    batch_runs: int = 500
    batch_ms: float | None = None
    """None: :data:`SQLITE_BATCH_MS` or :data:`POSTGRES_BATCH_MS`."""
    partitions_ahead: int = 2

    @classmethod
    def of(cls, settings: Settings) -> Knobs:
        return cls(
            batch_runs=settings.retention_batch_runs,
            batch_ms=settings.retention_batch_ms,
            partitions_ahead=settings.retention_partitions_ahead,
        )


@dataclass(frozen=True, slots=True)
class PolicyView:
    policy: RetentionPolicy
    updated_at: datetime | None
    updated_by: str | None


@dataclass(frozen=True, slots=True)
class Applied:
    runs_deleted: int = 0
    runs_scrubbed: int = 0
    batches: int = 0


@dataclass(frozen=True, slots=True)
class RunReport:
    """What ``retention run`` did (or, dry, would do) in one project."""

    dry_run: bool
    policy: RetentionPolicy
    delete_before: datetime | None
    scrub_before: datetime | None
    workflows: tuple[WorkflowBacklog, ...]
    applied: Applied


@dataclass(slots=True)
class JobReport:
    """One pass of the background job across projects."""

    partitions_created: list[str] = field(default_factory=list)
    partitions_dropped: list[str] = field(default_factory=list)
    projects: dict[UUID, Applied] = field(default_factory=dict)


# -- the policy ---------------------------------------------------------------


def get_policy(db: Database, actor: Actor, project_key: str) -> PolicyView:
    """The project's policy; without one, everything is kept forever."""
    with project_transaction(db, actor, project_key, Role.VIEWER, write=False) as scope:
        stored = scope.retention.policy()
    if stored is None:
        return PolicyView(KEEP_FOREVER, None, None)
    return PolicyView(stored.policy, stored.updated_at, stored.updated_by)


def set_policy(
    db: Database,
    actor: Actor,
    project_key: str,
    delete_after_days: int | None,
    scrub_after_days: int | None,
) -> PolicyView:
    """Replace the project's policy (admin); audited with the old and new one."""
    policy = checked_policy(delete_after_days, scrub_after_days)
    now = datetime.now(UTC)
    with project_transaction(db, actor, project_key, Role.ADMIN) as scope:
        before = scope.retention.policy()
        scope.retention.save_policy(policy, actor.label, now)
        scope.record(
            actor,
            "retention.update",
            object_type="project",
            object_id=scope.project.key,
            summary={
                "before": (before.policy if before else KEEP_FOREVER).as_json(),
                "after": policy.as_json(),
            },
        )
    return PolicyView(policy, now, actor.label)


# -- applying it --------------------------------------------------------------


def run(db: Database, actor: Actor, project_key: str, knobs: Knobs, *, dry_run: bool) -> RunReport:
    """Apply the project's policy now (admin), or with ``dry_run`` only count
    per workflow what it would delete and scrub; a real run is audited."""
    now = datetime.now(UTC)
    with project_transaction(db, actor, project_key, Role.ADMIN, write=False) as scope:
        stored = scope.retention.policy()
        policy = stored.policy if stored else KEEP_FOREVER
        delete_before = policy.delete_before(now)
        scrub_before = policy.scrub_before(now)
        backlog = tuple(scope.retention.backlog(delete_before, scrub_before))
        project = scope.project
    applied = Applied()
    if not dry_run and not policy.keeps_forever:
        applied = apply_project(db, project.id, policy, now, knobs)
        with project_transaction(db, actor, project_key, Role.ADMIN) as scope:
            scope.record(
                actor,
                "retention.run",
                object_type="project",
                object_id=scope.project.key,
                summary={
                    "runs_deleted": applied.runs_deleted,
                    "runs_scrubbed": applied.runs_scrubbed,
                },
            )
    return RunReport(dry_run, policy, delete_before, scrub_before, backlog, applied)


class _Pacer:
    """Batch sizes that keep each transaction near ``target`` milliseconds,
    with a rest as long as the batch held its transaction after each one."""

    def __init__(
        self,
        knobs: Knobs,
        sleep: Callable[[float], None],
        *,
        postgres: bool,
        settle: Callable[[], None] = lambda: None,
    ) -> None:
        self.size = min(100, knobs.batch_runs)
        self.most = knobs.batch_runs
        default = POSTGRES_BATCH_MS if postgres else SQLITE_BATCH_MS
        self.target = (knobs.batch_ms or default) / 1000
        self.sleep = sleep
        self.settle = settle
        self.batches = 0
        self.background = not postgres
        self.gave_way = 0
        """Batches in a row that gave way to other writers."""

    @property
    def yields(self) -> bool:
        """Whether the next batch may give way to other writers (SQLite)."""
        return self.background and self.gave_way < MAX_YIELDS

    def step(self, work: Callable[[int, _Held], int]) -> int:
        """Run one batch of ``self.size``; its count of runs handled. A batch
        that gave way is counted as nothing done and tried again after a
        rest of one target's length (the writer it made way for is done by then)."""
        timer = _Held()
        done = work(self.size, timer)
        if timer.gave_way:
            self.gave_way += 1
            self.sleep(self.target)
            return 0
        self.gave_way = 0
        self.batches += 1
        # SQLite: copy this batch's WAL back before the next one (the pass
        # pays for its own checkpoints; see store/checkpoints.py).
        self.settle()
        if done:
            took = timer.seconds
            wanted = self.size * self.target / max(took, 1e-4)
            self.size = int(min(self.most, max(MIN_BATCH, min(wanted, self.size * 2))))
            self.sleep(max(took, 0.001))
        return done


class _Held:
    """How long a batch held its transaction: from when it began (on SQLite,
    with the write lock in hand) to its commit, not the wait for the lock."""

    def __init__(self) -> None:
        self.began = 0.0
        self.seconds = 0.0
        self.gave_way = False

    @contextmanager
    def holding(self, transaction: AbstractContextManager[ProjectScope]) -> Iterator[ProjectScope]:
        with transaction as scope:
            self.began = time.perf_counter()
            yield scope
        self.seconds = time.perf_counter() - self.began


def apply_project(
    db: Database,
    project_id: UUID,
    policy: RetentionPolicy,
    now: datetime,
    knobs: Knobs,
    *,
    sleep: Callable[[float], None] = time.sleep,
    stop: Callable[[], bool] = lambda: False,
) -> Applied:
    """Delete, then scrub, the project's expired runs, batch by batch."""
    pacer = _Pacer(knobs, sleep, postgres=db.is_postgres, settle=db.settle)
    deleted = scrubbed = 0
    delete_before = policy.delete_before(now)
    if delete_before is not None:
        last: list[RunKey | None] = [None]
        more = [True]
        with ExitStack() as stack:
            # SQLite: one session for the whole pass, each DELETE its own
            # transaction, so a batch builds no scope and looks up nothing
            # (less Python, less GIL taken from requests). PostgreSQL: a
            # transaction per batch.
            shared = (
                None
                if db.is_postgres
                else stack.enter_context(worker_transaction(db, project_id, statements=True))
            )
            while more[0] and not stop():

                def delete_batch(size: int, timer: _Held) -> int:
                    opened = (
                        nullcontext(shared)
                        if shared is not None
                        else worker_transaction(db, project_id, statements=True)
                    )
                    with timer.holding(opened) as scope:
                        batch = scope.retention.delete_expired(
                            delete_before, size, last[0], yields=pacer.yields
                        )
                    if batch.yielded:
                        timer.gave_way = True
                        return 0
                    last[0], more[0] = batch.last, batch.more
                    return batch.deleted

                deleted += pacer.step(delete_batch)
    scrub_before = policy.scrub_before(now)
    if scrub_before is not None:
        scrubbed = _scrub(db, project_id, scrub_before, now, pacer, stop)
    return Applied(deleted, scrubbed, pacer.batches)


def _scrub(
    db: Database,
    project_id: UUID,
    before: datetime,
    now: datetime,
    pacer: _Pacer,
    stop: Callable[[], bool],
) -> int:
    """Scrub from the project's mark (everything before it is done) up to
    ``before``, then move the mark up to the oldest run still going."""
    with worker_transaction(db, project_id, write=False) as scope:
        stored = scope.retention.policy()
    since = stored.scrubbed_before if stored else None
    scrubbed = 0
    # Each batch starts at the previous one's newest run: rows already
    # scrubbed are not walked again.
    cursor = [since]
    while not stop():

        def scrub_batch(size: int, timer: _Held) -> int:
            with timer.holding(worker_transaction(db, project_id)) as scope:
                keys: list[RunKey] = scope.retention.unscrubbed(cursor[0], before, size)
                scope.retention.scrub_runs(keys, now)
            if keys:
                cursor[0] = keys[-1].created_at
            return len(keys)

        done = pacer.step(scrub_batch)
        scrubbed += done
        if not done:
            break
    if stop():
        return scrubbed
    with worker_transaction(db, project_id) as scope:
        going = scope.retention.oldest_unfinished(since, before)
        mark = min(going, before) if going is not None else before
        if since is None or mark > since:
            scope.retention.mark_scrubbed_before(mark)
    return scrubbed


def apply_all(
    db: Database,
    knobs: Knobs,
    *,
    now: datetime | None = None,
    sleep: Callable[[float], None] = time.sleep,
    stop: Callable[[], bool] = lambda: False,
) -> JobReport:
    """One pass of the job: partitions ahead and expired ones (PostgreSQL),
    then every project's policy in batches."""
    now = now or datetime.now(UTC)
    report = JobReport()
    with transaction(db) as session:
        report.partitions_created = partitions.ensure_ahead(session, now, knobs.partitions_ahead)
    with transaction(db) as session:
        report.partitions_dropped = partitions.drop_expired(session)
        policies = all_policies(session)
    for item in policies:
        if stop():
            break
        report.projects[item.project_id] = apply_project(
            db, item.project_id, item.policy, now, knobs, sleep=sleep, stop=stop
        )
    if report.partitions_created or report.partitions_dropped or report.projects:
        log.info("retention pass", **_summary(report))
    return report


def job_pass(db: Database, knobs: Knobs, stop: Callable[[], bool]) -> JobReport | None:
    """The worker's periodic pass; None when another worker is doing it."""
    with job_lock(db) as mine:
        if not mine:
            return None
        return apply_all(db, knobs, stop=stop)


def _summary(report: JobReport) -> dict[str, Any]:
    return {
        "partitions_created": report.partitions_created,
        "partitions_dropped": report.partitions_dropped,
        "runs_deleted": sum(a.runs_deleted for a in report.projects.values()),
        "runs_scrubbed": sum(a.runs_scrubbed for a in report.projects.values()),
    }


def expired_partitions(db: Database) -> list[str]:
    """PostgreSQL: the partitions the next pass would drop (none on SQLite)."""
    with transaction(db, write=False) as session:
        return partitions.drop_expired(session, dry_run=True)
