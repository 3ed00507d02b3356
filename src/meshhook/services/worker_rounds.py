"""A worker's look at what is due, in one transaction.

Every worker goes round about once a second, idle or not: it claims due runs
and, each at its own cadence, reads the queue's depth for the metrics, the due
schedule triggers and the due alert deliveries. Asked one by one that was four
transactions back to back (a thread hop, ``BEGIN``, the scope and ``COMMIT``
each); asked together it is one, so an idle worker's second is much shorter
for the requests that meet it on the same cores. (On SQLite a claim that finds
work takes a second, writing transaction: see :func:`look`.) What is found is
then acted on in transactions of its own (a schedule fired, a delivery sent).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy.orm import Session

from meshhook.services.alert_outbox import DUE_LIMIT
from meshhook.services.schedules import TICK_LIMIT
from meshhook.services.transactions import WORKER, transaction
from meshhook.store import alerts as alert_store
from meshhook.store import runs as run_store
from meshhook.store.db import Database
from meshhook.store.runs import Claimed, QueueStats
from meshhook.store.schedules import Due, due_schedules


@dataclass(frozen=True, slots=True)
class Wanted:
    """What a round asks for."""

    claim: int = 0
    """How many due runs to lease (the worker's free slots; 0: none)."""
    queue_stats: bool = False
    schedules: bool = False
    alerts: bool = False


@dataclass(frozen=True, slots=True)
class Found:
    """What a round found: only what it was asked for is filled in."""

    claimed: list[Claimed] = field(default_factory=list)
    stats: QueueStats | None = None
    schedules: list[Due] = field(default_factory=list)
    deliveries: list[tuple[UUID, UUID]] = field(default_factory=list)
    """(project id, delivery id) of the due alert deliveries."""


def look(db: Database, worker: str, lease_seconds: float, wanted: Wanted, now: datetime) -> Found:
    """Lease up to ``wanted.claim`` due runs for ``worker`` and read what else is
    wanted, in one transaction; ``now`` is the worker's clock for schedules and
    deliveries (leases are timed by the real clock).

    On SQLite, whose one write lock every save needs too, the round reads first
    and takes the lock to claim only when a run is there to be claimed: an idle
    worker never makes a save wait.
    """
    claim_at_once = wanted.claim > 0 and db.is_postgres  # SKIP LOCKED: no waiting
    with transaction(db, WORKER, write=claim_at_once) as session:
        claimed = _claim(session, worker, lease_seconds, wanted.claim) if claim_at_once else []
        claim_after = (
            wanted.claim > 0
            and not claim_at_once
            and run_store.any_claimable(session, datetime.now(UTC))
        )
        stats = run_store.queue_stats(session, datetime.now(UTC)) if wanted.queue_stats else None
        schedules = due_schedules(session, now, TICK_LIMIT) if wanted.schedules else []
        deliveries = alert_store.due_deliveries(session, now, DUE_LIMIT) if wanted.alerts else []
    if claim_after:
        with transaction(db, WORKER) as session:
            claimed = _claim(session, worker, lease_seconds, wanted.claim)
    return Found(claimed, stats, schedules, deliveries)


def _claim(session: Session, worker: str, lease_seconds: float, limit: int) -> list[Claimed]:
    return run_store.claim_due(session, worker, lease_seconds, limit, datetime.now(UTC))
