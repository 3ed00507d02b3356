"""Encrypted secret values and the per-project wrapped data keys, reached as
``scope.secrets`` (:class:`SecretStore`).

Only ciphertext and wrapped keys pass through here; encryption happens in
``meshhook.security.envelope``, called by the secrets service.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    JSON,
    ColumnElement,
    and_,
    bindparam,
    delete,
    func,
    insert,
    select,
    type_coerce,
    update,
)

from meshhook.domain.secrets import KEEP, Keep, SecretRecord
from meshhook.store.dialect import insert_if_absent, lock_rows
from meshhook.store.repository import ProjectRepository, unique_conflicts
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


# Built once (every save reads it): a statement built per call costs more than
# the database takes to answer it.
_NAMES_AND_HOSTS = select(secrets.c.name, secrets.c.allowed_hosts).where(
    secrets.c.project_id == bindparam("project_id")
)


def names_and_hosts_column(postgres: bool) -> ColumnElement[Any]:
    """The project's (``:project_id``) secret names and allowed hosts as one JSON
    array of ``[name, hosts or null]``, for a statement that reads them along
    with something else (a load: no round trip of their own); read it with
    :func:`names_and_hosts_from`."""
    if postgres:
        aggregate = func.json_agg(func.json_build_array(secrets.c.name, secrets.c.allowed_hosts))
    else:
        aggregate = func.json_group_array(
            func.json_array(secrets.c.name, func.json(secrets.c.allowed_hosts))
        )
    found = select(aggregate).where(secrets.c.project_id == bindparam("project_id"))
    return type_coerce(found.scalar_subquery(), JSON)


def names_and_hosts_from(
    value: list[list[Any]] | None,
) -> tuple[set[str], dict[str, tuple[str, ...]]]:
    """What :meth:`SecretStore.names_and_hosts` answers, from
    :func:`names_and_hosts_column`'s value."""
    names: set[str] = set()
    hosts: dict[str, tuple[str, ...]] = {}
    for name, allowed in value or ():
        names.add(name)
        if allowed is not None:
            hosts[name] = tuple(allowed)
    return names, hosts


class SecretStore(ProjectRepository):
    """The secrets of one project and its wrapped data key."""

    __slots__ = ()

    def _named(self, name: str) -> Any:
        return and_(secrets.c.project_id == self.project_id, secrets.c.name == name)

    def records(self) -> list[SecretRecord]:
        """Metadata of every secret (never a value), by name."""
        rows = self.session.execute(
            select(*_METADATA)
            .where(secrets.c.project_id == self.project_id)
            .order_by(secrets.c.name)
        ).all()
        return [_record(row) for row in rows]

    def names(self) -> set[str]:
        rows = self.session.execute(
            select(secrets.c.name).where(secrets.c.project_id == self.project_id)
        )
        return {row.name for row in rows}

    def get(self, name: str) -> SecretRecord | None:
        row = self.session.execute(select(*_METADATA).where(self._named(name))).first()
        return _record(row) if row else None

    def ciphertext(self, name: str) -> bytes | None:
        row = self.session.execute(select(secrets.c.ciphertext).where(self._named(name))).first()
        return bytes(row.ciphertext) if row else None

    def names_and_hosts(self) -> tuple[set[str], dict[str, tuple[str, ...]]]:
        """:meth:`names` and :meth:`restricted_hosts` in one read."""
        rows = self.session.execute(_NAMES_AND_HOSTS, {"project_id": self.project_id})
        names: set[str] = set()
        hosts: dict[str, tuple[str, ...]] = {}
        for row in rows:
            names.add(row.name)
            if row.allowed_hosts is not None:
                hosts[row.name] = tuple(row.allowed_hosts)
        return names, hosts

    def restricted_hosts(self) -> dict[str, tuple[str, ...]]:
        """Name → allowed host patterns, for the secrets that have a list."""
        rows = self.session.execute(
            select(secrets.c.name, secrets.c.allowed_hosts).where(
                secrets.c.project_id == self.project_id, secrets.c.allowed_hosts.is_not(None)
            )
        )
        return {row.name: tuple(row.allowed_hosts) for row in rows}

    def insert(self, record: SecretRecord, ciphertext: bytes) -> None:
        """A new secret of this project (``record.project_id`` must be it)."""
        if record.project_id != self.project_id:
            raise ValueError("the secret belongs to another project")
        values = {column.name: getattr(record, column.name) for column in _METADATA}
        values["allowed_hosts"] = _hosts(record.allowed_hosts)
        with unique_conflicts(f"secret {record.name!r} was created at the same time"):
            self.session.execute(insert(secrets).values(ciphertext=ciphertext, **values))

    def update(
        self,
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
        self.session.execute(update(secrets).where(self._named(name)).values(**values))

    def mark_used(self, name: str, when: datetime) -> None:
        self.session.execute(update(secrets).where(self._named(name)).values(last_used_at=when))

    def delete(self, name: str) -> None:
        self.session.execute(delete(secrets).where(self._named(name)))

    def data_key(self, *, for_update: bool = False) -> StoredKey | None:
        """The project's data key, wrapped; ``for_update`` locks its row."""
        query = select(project_keys).where(project_keys.c.project_id == self.project_id)
        if for_update:
            query = lock_rows(query)
        row = self.session.execute(query).first()
        if row is None:
            return None
        return StoredKey(
            project_id=row.project_id, key_id=row.key_id, wrapped_key=bytes(row.wrapped_key)
        )

    def insert_data_key(
        self, key_id: str, wrapped_key: bytes, when: datetime, *, if_absent: bool = False
    ) -> None:
        """Store the project's wrapped data key; one made meanwhile by another
        transaction is a conflict, or with ``if_absent`` is kept (read it again)."""
        values = {
            "project_id": self.project_id,
            "key_id": key_id,
            "wrapped_key": wrapped_key,
            "created_at": when,
        }
        if if_absent:
            insert_if_absent(self.session, project_keys, values)
            return
        with unique_conflicts("the project's data key was created at the same time"):
            self.session.execute(insert(project_keys).values(**values))

    def replace_data_key(self, key_id: str, wrapped_key: bytes, when: datetime) -> None:
        self.session.execute(
            update(project_keys)
            .where(project_keys.c.project_id == self.project_id)
            .values(key_id=key_id, wrapped_key=wrapped_key, rotated_at=when)
        )
