"""Request and response bodies of ``api/audit.py``."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from meshhook.domain.audit import AuditEntry


class AuditEntryOut(BaseModel):
    id: int
    actor: str
    actor_id: UUID | None
    action: str
    object_type: str
    object_id: str
    summary: dict[str, Any]
    request_id: str | None
    created_at: datetime

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditEntryOut:
        return cls(
            id=entry.id,
            actor=entry.actor,
            actor_id=entry.actor_id,
            action=entry.action,
            object_type=entry.object_type,
            object_id=entry.object_id,
            summary=entry.summary,
            request_id=entry.request_id,
            created_at=entry.created_at,
        )
