"""Webhook ids, the delivery log and the rate limit's token buckets.

``WebhookStore`` is bound to one project like every repository. ``find_hook``
is the one lookup across projects: from the SHA-256 of a request's hook id to
its project and workflow (on PostgreSQL through a SECURITY DEFINER function,
migration 0012), before any project is known.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, delete, insert, select, text, update
from sqlalchemy.orm import Session

from meshhook.store.dialect import insert_if_absent
from meshhook.store.repository import ProjectRepository
from meshhook.store.tables import webhook_buckets, webhook_deliveries, webhooks
from meshhook.store.types import UTCDateTime


@dataclass(frozen=True, slots=True)
class HookRow:
    project_id: UUID
    workflow_id: UUID
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class HookId:
    hook_id: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Delivery:
    id: UUID
    workflow_id: UUID
    at: datetime
    method: str
    status: int
    run_id: UUID | None
    latency_ms: float
    client: str | None
    failure: str | None


def find_hook(session: Session, id_hash: str) -> HookRow | None:
    """The project and workflow of a hashed hook id, in any project."""
    if session.get_bind().dialect.name == "postgresql":
        row = session.execute(
            text("SELECT project_id, workflow_id, expires_at FROM meshhook_find_webhook(:h)"),
            {"h": id_hash},
        ).first()
    else:
        row = session.execute(
            select(webhooks.c.project_id, webhooks.c.workflow_id, webhooks.c.expires_at).where(
                webhooks.c.id_hash == id_hash
            )
        ).first()
    if row is None:
        return None
    return HookRow(row.project_id, row.workflow_id, row.expires_at)


class WebhookStore(ProjectRepository):
    """The webhooks of one project (``scope.webhooks``)."""

    def current(self, workflow_id: UUID) -> HookId | None:
        row = self.session.execute(
            select(webhooks.c.hook_id, webhooks.c.created_at).where(
                webhooks.c.project_id == self.project_id,
                webhooks.c.workflow_id == workflow_id,
                webhooks.c.expires_at.is_(None),
            )
        ).first()
        return HookId(row.hook_id, row.created_at) if row else None

    def issue(self, workflow_id: UUID, hook_id: str, id_hash: str, now: datetime) -> None:
        self.session.execute(
            insert(webhooks).values(
                id_hash=id_hash,
                hook_id=hook_id,
                project_id=self.project_id,
                workflow_id=workflow_id,
                created_at=now,
                expires_at=None,
            )
        )

    def retire(self, workflow_id: UUID, until: datetime, now: datetime) -> None:
        """The current id keeps working until ``until``; expired ones are dropped."""
        where = (webhooks.c.project_id == self.project_id, webhooks.c.workflow_id == workflow_id)
        self.session.execute(delete(webhooks).where(*where, webhooks.c.expires_at <= now))
        self.session.execute(
            update(webhooks).where(*where, webhooks.c.expires_at.is_(None)).values(expires_at=until)
        )

    # -- deliveries ---------------------------------------------------------

    def add_deliveries(self, deliveries: Sequence[Delivery]) -> None:
        if not deliveries:
            return
        self.session.execute(
            insert(webhook_deliveries),
            [
                {
                    "id": d.id,
                    "project_id": self.project_id,
                    "workflow_id": d.workflow_id,
                    "at": d.at,
                    "method": d.method[:8],
                    "status": d.status,
                    "run_id": d.run_id,
                    "latency_ms": d.latency_ms,
                    "client": d.client[:64] if d.client else None,
                    "failure": d.failure,
                }
                for d in deliveries
            ],
        )

    def deliveries(self, workflow_id: UUID, limit: int) -> list[Delivery]:
        rows = self.session.execute(
            select(webhook_deliveries)
            .where(
                webhook_deliveries.c.project_id == self.project_id,
                webhook_deliveries.c.workflow_id == workflow_id,
            )
            .order_by(webhook_deliveries.c.at.desc(), webhook_deliveries.c.id)
            .limit(limit)
        )
        return [_delivery(row) for row in rows]

    def prune_deliveries(self, before: datetime) -> int:
        result = self.session.execute(
            delete(webhook_deliveries).where(
                webhook_deliveries.c.project_id == self.project_id,
                webhook_deliveries.c.at < before,
            )
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    # -- rate limit ---------------------------------------------------------

    def take_token(
        self, workflow_id: UUID, rate: float, burst: int, now: datetime
    ) -> tuple[bool, float]:
        """Take one token from the workflow's bucket; ``(taken, tokens)`` where
        ``tokens`` is what the bucket held before. On PostgreSQL one row update
        (shared by every API process); elsewhere read, compute, write."""
        on_postgres = self.session.get_bind().dialect.name == "postgresql"
        if on_postgres:
            row = self.session.execute(
                _TAKE,
                {
                    "burst": float(burst),
                    "rate": rate,
                    "now": now,
                    "w": workflow_id,
                    "p": self.project_id,
                },
            ).first()
            if row is not None:
                return True, float(row.tokens) + 1
        where = (
            webhook_buckets.c.project_id == self.project_id,
            webhook_buckets.c.workflow_id == workflow_id,
        )
        current = self.session.execute(
            select(webhook_buckets.c.tokens, webhook_buckets.c.updated_at).where(*where)
        ).first()
        if current is None:
            insert_if_absent(
                self.session,
                webhook_buckets,
                {
                    "workflow_id": workflow_id,
                    "project_id": self.project_id,
                    "tokens": float(burst) - 1,
                    "updated_at": now,
                },
            )
            return True, float(burst)
        elapsed = max(0.0, (now - current.updated_at).total_seconds())
        tokens = min(float(burst), current.tokens + elapsed * rate)
        if tokens < 1 or on_postgres:  # PostgreSQL: the update above found too few
            return False, tokens
        self.session.execute(
            update(webhook_buckets).where(*where).values(tokens=tokens - 1, updated_at=now)
        )
        return True, tokens


# One statement: PostgreSQL re-reads a row another transaction changed meanwhile
# before it applies SET and WHERE, so two processes never take the same token.
_REFILLED = "LEAST(:burst, tokens + GREATEST(0.0, EXTRACT(EPOCH FROM (:now - updated_at))) * :rate)"
_TAKE = text(
    f"UPDATE webhook_buckets SET tokens = {_REFILLED} - 1, updated_at = :now"
    f" WHERE workflow_id = :w AND project_id = :p AND {_REFILLED} >= 1 RETURNING tokens"
).bindparams(bindparam("now", type_=UTCDateTime()))


def _delivery(row: Any) -> Delivery:
    return Delivery(
        id=row.id,
        workflow_id=row.workflow_id,
        at=row.at,
        method=row.method,
        status=row.status,
        run_id=row.run_id,
        latency_ms=row.latency_ms,
        client=row.client,
        failure=row.failure,
    )
