"""Audit log entries: who did what to which object, and when — as written
(:class:`NewAuditEntry`) and as read back (:class:`AuditEntry`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID


@dataclass(frozen=True, slots=True, kw_only=True)
class NewAuditEntry:
    """An entry about to be appended; the store adds the id and the project."""

    actor_id: UUID | None
    actor: str
    action: str
    object_type: str
    object_id: str
    summary: dict[str, Any]
    request_id: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEntry(NewAuditEntry):
    """An entry as stored: its id (newest is highest) and project."""

    id: int
    project_id: UUID | None
