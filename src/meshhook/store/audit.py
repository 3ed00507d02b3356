"""The append-only audit log: insert and read, nothing else (on PostgreSQL the
app role has no UPDATE or DELETE privilege on it).

A project's entries go through ``scope.audit`` (:class:`AuditStore`); entries
about no project (sign-ins, tokens, accounts) through :func:`insert_entry`.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from meshhook.domain.audit import AuditEntry, NewAuditEntry
from meshhook.store import batched_writes
from meshhook.store.batched_writes import Write
from meshhook.store.repository import ProjectRepository
from meshhook.store.tables import audit_log


def insert_entry(session: Session, entry: NewAuditEntry) -> None:
    """An entry about no project (``project_id`` NULL)."""
    _insert(session, None, entry)


def _insert(session: Session, project_id: UUID | None, entry: NewAuditEntry) -> None:
    batched_writes.write(
        session,
        Write(
            audit_log,
            {
                "project_id": project_id,
                "actor_id": entry.actor_id,
                "actor": entry.actor,
                "action": entry.action,
                "object_type": entry.object_type,
                "object_id": entry.object_id,
                "summary": entry.summary,
                "request_id": entry.request_id,
                "created_at": entry.created_at,
            },
        ),
    )


class AuditStore(ProjectRepository):
    """The audit entries of one project."""

    __slots__ = ()

    def insert(self, entry: NewAuditEntry) -> None:
        _insert(self.session, self.project_id, entry)

    def entries(
        self,
        *,
        limit: int,
        before_id: int | None = None,
        action: str | None = None,
        actor: str | None = None,
        object_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[AuditEntry]:
        """Newest first, keyset-paginated on ``id``."""
        query = select(audit_log).where(audit_log.c.project_id == self.project_id)
        if before_id is not None:
            query = query.where(audit_log.c.id < before_id)
        if action:
            query = query.where(audit_log.c.action == action)
        if actor:
            query = query.where(audit_log.c.actor == actor)
        if object_id:
            query = query.where(audit_log.c.object_id == object_id)
        if since:
            query = query.where(audit_log.c.created_at >= since)
        if until:
            query = query.where(audit_log.c.created_at < until)
        rows = self.session.execute(query.order_by(audit_log.c.id.desc()).limit(limit)).all()
        return [AuditEntry(**row._mapping) for row in rows]
