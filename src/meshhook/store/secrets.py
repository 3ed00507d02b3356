"""Encrypted secret values and the per-project wrapped data keys.

Only ciphertext and wrapped keys pass through here; encryption happens in
``meshhook.security.envelope``, called by the secrets service.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from meshhook.domain.secrets import KEEP, Keep, SecretRecord
from meshhook.store.dialect import lock_rows
from meshhook.store.tables import project_keys, secrets


@dataclass(frozen=True, slots=True)
class StoredKey:
    project_id: UUID
    key_id: str
    wrapped_key: bytes


_METADATA = [column for column in secrets.c if column.name != "ciphertext"]


def _record(row: Any) -> SecretRecord:
    values = {column.name: getattr(row, column.name) for column in _METADATA}
    hosts = values["allowed_hosts"]
    values["allowed_hosts"] = None if hosts is None else tuple(hosts)
    return SecretRecord(**values)


def _hosts(hosts: tuple[str, ...] | None) -> list[str] | None:
    return None if hosts is None else list(hosts)


def list_secrets(session: Session, project_id: UUID) -> list[SecretRecord]:
    rows = session.execute(
        select(*_METADATA).where(secrets.c.project_id == project_id).order_by(secrets.c.name)
    ).all()
    return [_record(row) for row in rows]


def secret_names(session: Session, project_id: UUID) -> set[str]:
    rows = session.execute(select(secrets.c.name).where(secrets.c.project_id == project_id))
    return {row.name for row in rows}


def get_secret(session: Session, project_id: UUID, name: str) -> SecretRecord | None:
    row = session.execute(
        select(*_METADATA).where(secrets.c.project_id == project_id, secrets.c.name == name)
    ).first()
    return _record(row) if row else None


def get_ciphertext(session: Session, project_id: UUID, name: str) -> bytes | None:
    row = session.execute(
        select(secrets.c.ciphertext).where(
            secrets.c.project_id == project_id, secrets.c.name == name
        )
    ).first()
    return bytes(row.ciphertext) if row else None


def restricted_hosts(session: Session, project_id: UUID) -> dict[str, tuple[str, ...]]:
    """Name → allowed host patterns, for the project's secrets that have a list."""
    rows = session.execute(
        select(secrets.c.name, secrets.c.allowed_hosts).where(
            secrets.c.project_id == project_id, secrets.c.allowed_hosts.is_not(None)
        )
    )
    return {row.name: tuple(row.allowed_hosts) for row in rows}


def insert_secret(session: Session, record: SecretRecord, ciphertext: bytes) -> None:
    values = {column.name: getattr(record, column.name) for column in _METADATA}
    values["allowed_hosts"] = _hosts(record.allowed_hosts)
    session.execute(insert(secrets).values(ciphertext=ciphertext, **values))


def update_secret(
    session: Session,
    project_id: UUID,
    name: str,
    *,
    when: datetime,
    by: str,
    ciphertext: bytes | None = None,
    description: str | None = None,
    allowed_hosts: tuple[str, ...] | Keep | None = KEEP,
) -> None:
    """Change what is given (``None``/``KEEP`` leave a field as it is)."""
    values: dict[str, Any] = {"updated_at": when, "updated_by": by}
    if ciphertext is not None:
        values["ciphertext"] = ciphertext
    if description is not None:
        values["description"] = description
    if not isinstance(allowed_hosts, Keep):
        values["allowed_hosts"] = _hosts(allowed_hosts)
    session.execute(
        update(secrets)
        .where(secrets.c.project_id == project_id, secrets.c.name == name)
        .values(**values)
    )


def mark_used(session: Session, project_id: UUID, name: str, when: datetime) -> None:
    session.execute(
        update(secrets)
        .where(secrets.c.project_id == project_id, secrets.c.name == name)
        .values(last_used_at=when)
    )


def delete_secret(session: Session, project_id: UUID, name: str) -> None:
    session.execute(
        delete(secrets).where(secrets.c.project_id == project_id, secrets.c.name == name)
    )


def get_key(session: Session, project_id: UUID, *, for_update: bool = False) -> StoredKey | None:
    query = select(project_keys).where(project_keys.c.project_id == project_id)
    if for_update:
        query = lock_rows(query)
    row = session.execute(query).first()
    if row is None:
        return None
    return StoredKey(
        project_id=row.project_id, key_id=row.key_id, wrapped_key=bytes(row.wrapped_key)
    )


def insert_key(session: Session, key: StoredKey, when: datetime) -> None:
    session.execute(
        insert(project_keys).values(
            project_id=key.project_id,
            key_id=key.key_id,
            wrapped_key=key.wrapped_key,
            created_at=when,
        )
    )


def replace_key(session: Session, key: StoredKey, when: datetime) -> None:
    session.execute(
        update(project_keys)
        .where(project_keys.c.project_id == key.project_id)
        .values(key_id=key.key_id, wrapped_key=key.wrapped_key, rotated_at=when)
    )
