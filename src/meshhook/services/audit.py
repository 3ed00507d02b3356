"""Writing and reading the audit log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from meshhook.domain.accounts import Actor, Role
from meshhook.domain.audit import AuditEntry
from meshhook.domain.limits import DEFAULT_PAGE_SIZE
from meshhook.domain.pagination import decode_cursor, encode_cursor
from meshhook.services.transactions import new_entry, project_transaction
from meshhook.store import audit as audit_store
from meshhook.store.db import Database


def record(
    session: Session,
    actor: Actor,
    action: str,
    *,
    object_type: str,
    object_id: str,
    summary: dict[str, Any] | None = None,
) -> None:
    """Append an entry about no project (accounts, sign-ins, tokens) inside the
    caller's transaction, so it commits with the change.

    A project's entries go through its scope: ``scope.record`` and
    ``scope.record_event`` (``services/transactions.py``).
    """
    audit_store.insert_entry(session, new_entry(actor, action, object_type, object_id, summary))


def list_entries(
    db: Database,
    actor: Actor,
    project_key: str,
    *,
    limit: int = DEFAULT_PAGE_SIZE,
    cursor: str | None = None,
    action: str | None = None,
    actor_label: str | None = None,
    object_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> tuple[list[AuditEntry], str | None]:
    """A page of the project's audit log, newest first; admin role."""
    before_id = decode_cursor(cursor, types=(int,))[0] if cursor else None
    since, until = _as_utc(since), _as_utc(until)
    with project_transaction(db, actor, project_key, Role.ADMIN, write=False) as scope:
        entries = scope.audit.entries(
            limit=limit + 1,
            before_id=before_id,
            action=action,
            actor=actor_label,
            object_id=object_id,
            since=since,
            until=until,
        )
    next_cursor = encode_cursor([entries[limit - 1].id]) if len(entries) > limit else None
    return entries[:limit], next_cursor


def _as_utc(moment: datetime | None) -> datetime | None:
    # A timestamp without an offset is read as UTC, the only zone MeshHook stores.
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)
