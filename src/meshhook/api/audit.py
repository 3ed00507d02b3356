"""The project's audit log (admin)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query
from starlette.responses import Response

from meshhook.api.bodies import model_json
from meshhook.api.deps import CurrentActor, Cursor, DatabaseDep, Limit
from meshhook.api.schemas.audit import (
    AuditEntryOut,
)
from meshhook.api.schemas.common import Page
from meshhook.domain.limits import DEFAULT_PAGE_SIZE
from meshhook.services import audit

router = APIRouter(prefix="/api/v1/projects/{project}", tags=["audit"])


@router.get("/audit", name="list_audit_entries", response_model=Page[AuditEntryOut])
def list_audit_entries(
    project: str,
    db: DatabaseDep,
    actor: CurrentActor,
    cursor: Cursor,
    limit: Limit = DEFAULT_PAGE_SIZE,
    action: str | None = Query(default=None, max_length=64),
    actor_email: str | None = Query(default=None, alias="actor", max_length=320),
    object: str | None = Query(default=None, max_length=200),
    since: datetime | None = None,
    until: datetime | None = None,
) -> Response:
    """The audit log, newest first."""
    entries, next_cursor = audit.list_entries(
        db,
        actor,
        project,
        limit=limit,
        cursor=cursor.value,
        action=action,
        actor_label=actor_email,
        object_id=object,
        since=since,
        until=until,
    )
    return model_json(
        Page[AuditEntryOut](
            items=[AuditEntryOut.of(entry) for entry in entries],
            next_cursor=cursor.next(next_cursor),
        )
    )
