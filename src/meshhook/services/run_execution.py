"""What workers do with the runs their round claimed (services/worker_rounds.py):
load them, commit their progress under the lease, and fetch the secrets a step
needs.

Every commit carries the events of one stretch of progress, the refreshed run
projection and the queue entry's next due time, in one transaction guarded by
the worker's lease: a worker whose lease was taken over commits nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from meshhook.domain.runs.events import RunEvent
from meshhook.domain.runs.graph import RunGraph
from meshhook.domain.runs.run import Run, RunView
from meshhook.domain.runs.state import RunState, fold
from meshhook.domain.stats import RunOutcome
from meshhook.services import alerts as alert_service
from meshhook.services import runs as run_service
from meshhook.services import secrets as secret_service
from meshhook.services.transactions import WORKER, worker_transaction
from meshhook.store.db import Database
from meshhook.store.runs import Claimed


class LeaseLost(Exception):
    """Another worker took the run over (this one was too slow or presumed dead)."""


@dataclass(slots=True)
class Work:
    """A claimed run, loaded: the worker keeps its state in memory while it holds
    the lease, so a long run is folded once, not once per step."""

    claimed: Claimed
    run: Run
    graph: RunGraph
    state: RunState


def load(db: Database, claimed: Claimed) -> Work | None:
    """The run and its folded state; ``None`` if it vanished (its workflow purged)."""
    with worker_transaction(db, claimed.project_id, write=False) as scope:
        store = scope.runs
        run = store.get(claimed.run_id)
        if run is None:
            return None
        graph = run_service.load_graph(scope, run)
        return Work(claimed, run, graph, fold(graph, store.events(run.id)))


def commit(
    db: Database,
    work: Work,
    worker: str,
    events: Sequence[RunEvent],
    *,
    wake_at: datetime | None,
    holding: bool,
    lease_seconds: float,
) -> None:
    """Record ``events`` and the projection; then keep the lease (``holding``:
    effects are about to run), or hand the run back due at ``wake_at``, or
    finish its queue entry. Raises :class:`LeaseLost` (nothing committed) or
    ``EventConflict`` (someone appended first)."""
    with worker_transaction(db, work.claimed.project_id) as scope:
        store = scope.runs
        now = datetime.now(UTC)
        if work.state.status.is_terminal:
            kept = store.reschedule(work.run.id, worker, None)
        elif holding:
            kept = store.holds_lease(work.run.id, worker, now + timedelta(seconds=lease_seconds))
        else:
            kept = store.reschedule(work.run.id, worker, wake_at or now)
        if not kept:
            raise LeaseLost(f"run {work.run.id}: the lease is no longer {worker}'s")
        store.append(work.run, events)
        if events:
            view = RunView.of(work.state)
            store.save_view(work.run.id, view)
            if view.status.is_terminal and not work.run.test:
                scope.stats.record(
                    work.run.workflow_id, RunOutcome.of(work.state, view.dead_letter)
                )
                alert_service.run_finished(scope, work.run, view, now, work.graph)


def renew(db: Database, work: Work, worker: str, lease_seconds: float) -> bool:
    """Extend the lease while a step is in flight; False when it was lost."""
    with worker_transaction(db, work.claimed.project_id) as scope:
        until = datetime.now(UTC) + timedelta(seconds=lease_seconds)
        return scope.runs.holds_lease(work.run.id, worker, until)


def release(db: Database, work: Work, worker: str) -> None:
    """Hand a run back at once (the worker is stopping): due now, for anyone."""
    with worker_transaction(db, work.claimed.project_id) as scope:
        scope.runs.reschedule(work.run.id, worker, datetime.now(UTC))


@dataclass(frozen=True, slots=True)
class StepSecrets:
    values: dict[str, str]
    allowed_hosts: dict[str, tuple[str, ...]]
    """The hosts each restricted secret may be sent to."""


def step_secrets(
    db: Database,
    keys: secret_service.Keys,
    work: Work,
    node_id: str,
    names: Collection[str],
) -> StepSecrets:
    """The secrets a step references (each use audited), with their allow-lists."""
    if not names:
        return StepSecrets({}, {})
    with worker_transaction(db, work.claimed.project_id) as scope:
        purpose = f"run {work.run.id} step {node_id}"
        values = secret_service.values_for_run(scope, keys, WORKER, names, purpose=purpose)
        restricted = scope.secrets.restricted_hosts()
        return StepSecrets(
            values, {name: restricted[name] for name in values if name in restricted}
        )
