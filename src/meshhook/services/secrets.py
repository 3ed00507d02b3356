"""The secrets vault: write-only values, encrypted per project, audited use,
and key rotation that re-wraps data keys while servers keep serving."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from meshhook.domain.accounts import Actor, Role
from meshhook.domain.errors import NotFound, Problem, ValidationFailed
from meshhook.domain.limits import (
    MAX_ALLOWED_HOSTS,
    MAX_SECRET_NAME_LENGTH,
    MAX_SECRET_VALUE_BYTES,
)
from meshhook.domain.secrets import (
    KEEP,
    Keep,
    SecretRecord,
    normalize_allowed_hosts,
    normalize_host_pattern,
)
from meshhook.domain.workflows import check_text
from meshhook.security import envelope
from meshhook.security.envelope import Keyring, WrappedKey
from meshhook.services.payload_keys import project_data_key
from meshhook.services.transactions import (
    ProjectScope,
    enter_project,
    project_transaction,
    transaction,
)
from meshhook.store import projects as project_store
from meshhook.store.db import Database

NAME_PATTERN = re.compile(rf"^[A-Za-z_][A-Za-z0-9_]{{0,{MAX_SECRET_NAME_LENGTH - 1}}}$")


def check_secret_name(name: str) -> str:
    """A secret's name: an identifier, as expressions write ``{{ secrets.NAME }}``."""
    if not NAME_PATTERN.fullmatch(name):
        raise ValidationFailed(
            f"{name!r} is not a valid secret name",
            errors=[
                Problem(
                    "/name",
                    "secret.invalid_name",
                    "use letters, digits and _, not starting with a digit (e.g. CRM_API_TOKEN)",
                )
            ],
        )
    return name


class Keys(Protocol):
    """The current keyring, refreshed when a rotation may have changed it."""

    keyring: Keyring

    def refresh(self) -> Keyring: ...


def _data_key(scope: ProjectScope, keys: Keys, *, create: bool) -> bytes | None:
    """The project's data key, unwrapped; made (and stored wrapped) on first use."""
    return project_data_key(scope.secrets, keys, create=create, lock=create)


def check_allowed_hosts(hosts: Sequence[str] | None) -> tuple[str, ...] | None:
    """Normalised host patterns (422 with a pointer per bad one); ``None`` stays ``None``."""
    if hosts is None:
        return None
    if len(hosts) > MAX_ALLOWED_HOSTS:
        raise ValidationFailed(
            "too many allowed hosts",
            errors=[
                Problem(
                    "/allowed_hosts",
                    "secret.too_many_hosts",
                    f"at most {MAX_ALLOWED_HOSTS} hosts per secret",
                )
            ],
        )
    errors: list[Problem] = []
    for index, host in enumerate(hosts):
        try:
            normalize_host_pattern(host)
        except ValueError as error:
            errors.append(Problem(f"/allowed_hosts/{index}", "secret.invalid_host", str(error)))
    if errors:
        raise ValidationFailed("some allowed hosts are not host patterns", errors=errors)
    return normalize_allowed_hosts(hosts)


def set_secret(
    db: Database,
    keys: Keys,
    actor: Actor,
    project_key: str,
    name: str,
    value: str,
    *,
    description: str = "",
    allowed_hosts: Sequence[str] | Keep | None = KEEP,
) -> tuple[SecretRecord, bool]:
    """Create or replace a secret; returns its metadata and whether it was new.

    ``allowed_hosts`` left as ``KEEP`` keeps a replaced secret's list (a new
    secret gets none: any host), so rotating a value never widens where it goes.
    """
    check_secret_name(name)
    check_text(description, path="/description", maximum=2_000)
    hosts = allowed_hosts if isinstance(allowed_hosts, Keep) else check_allowed_hosts(allowed_hosts)
    if not value or len(value.encode()) > MAX_SECRET_VALUE_BYTES:
        raise ValidationFailed(
            "the value is empty or too large",
            errors=[
                Problem("/value", "secret.value_size", f"use 1 to {MAX_SECRET_VALUE_BYTES} bytes")
            ],
        )
    with project_transaction(db, actor, project_key, Role.ADMIN) as scope:
        data_key = _data_key(scope, keys, create=True)
        assert data_key is not None
        ciphertext = envelope.encrypt_value(
            data_key, value, project_id=str(scope.project.id), name=name
        )
        now = datetime.now(UTC)
        existing = scope.secrets.get(name)
        if existing is None:
            record = SecretRecord(
                project_id=scope.project.id,
                name=name,
                description=description,
                created_at=now,
                created_by=actor.label,
                updated_at=now,
                updated_by=actor.label,
                last_used_at=None,
                allowed_hosts=None if isinstance(hosts, Keep) else hosts,
            )
            scope.secrets.insert(record, ciphertext)
        else:
            scope.secrets.update(
                name,
                ciphertext=ciphertext,
                description=description,
                allowed_hosts=hosts,
                when=now,
                by=actor.label,
            )
        _record(
            scope,
            actor,
            "secret.create" if existing is None else "secret.update",
            name,
            _hosts_summary(existing, hosts),
        )
        found = scope.secrets.get(name)
        assert found is not None
        return found, existing is None


def update_settings(
    db: Database,
    actor: Actor,
    project_key: str,
    name: str,
    *,
    description: str | Keep = KEEP,
    allowed_hosts: Sequence[str] | Keep | None = KEEP,
) -> SecretRecord:
    """Change a secret's description or allowed hosts without its value (admin)."""
    if not isinstance(description, Keep):
        check_text(description, path="/description", maximum=2_000)
    hosts = allowed_hosts if isinstance(allowed_hosts, Keep) else check_allowed_hosts(allowed_hosts)
    with project_transaction(db, actor, project_key, Role.ADMIN) as scope:
        existing = scope.secrets.get(name)
        if existing is None:
            raise NotFound(f"no secret {name!r} in project {project_key!r}")
        changed_hosts = not isinstance(hosts, Keep) and hosts != existing.allowed_hosts
        changed_description = not isinstance(description, Keep) and (
            description != existing.description
        )
        if not (changed_hosts or changed_description):
            return existing
        scope.secrets.update(
            name,
            description=None if isinstance(description, Keep) else description,
            allowed_hosts=hosts if changed_hosts else KEEP,
            when=datetime.now(UTC),
            by=actor.label,
        )
        _record(scope, actor, "secret.update", name, _hosts_summary(existing, hosts))
        found = scope.secrets.get(name)
        assert found is not None
        return found


def _hosts_summary(
    existing: SecretRecord | None, hosts: tuple[str, ...] | Keep | None
) -> dict[str, Any]:
    """What an audit entry says of allowed hosts: the new list, when it changed."""
    if isinstance(hosts, Keep) or (existing is not None and existing.allowed_hosts == hosts):
        return {}
    return {"allowed_hosts": None if hosts is None else list(hosts)}


def _record(
    scope: ProjectScope,
    actor: Actor,
    action: str,
    name: str,
    extra: dict[str, Any] | None = None,
) -> None:
    # Never the value: only which secret, who and when (and where it may go).
    scope.record(
        actor,
        action,
        object_type="secret",
        object_id=name,
        summary={"name": name, **(extra or {})},
    )


def list_secrets(db: Database, actor: Actor, project_key: str) -> list[SecretRecord]:
    with project_transaction(db, actor, project_key, Role.ADMIN, write=False) as scope:
        return scope.secrets.records()


def get_secret(db: Database, actor: Actor, project_key: str, name: str) -> SecretRecord:
    with project_transaction(db, actor, project_key, Role.ADMIN, write=False) as scope:
        found = scope.secrets.get(name)
    if found is None:
        raise NotFound(f"no secret {name!r} in project {project_key!r}")
    return found


def delete_secret(db: Database, actor: Actor, project_key: str, name: str) -> None:
    with project_transaction(db, actor, project_key, Role.ADMIN) as scope:
        if scope.secrets.get(name) is None:
            raise NotFound(f"no secret {name!r} in project {project_key!r}")
        scope.secrets.delete(name)
        _record(scope, actor, "secret.delete", name)


def use_secret(
    db: Database, keys: Keys, actor: Actor, project_key: str, name: str, *, purpose: str
) -> str:
    """Decrypt one secret for use; every call is audited (see :func:`values_for_run`)."""
    with project_transaction(db, actor, project_key, Role.EDITOR) as scope:
        found = values_for_run(scope, keys, actor, [name], purpose=purpose)
        if name not in found:
            raise NotFound(f"no secret {name!r} in project {project_key!r}")
        return found[name]


@dataclass(frozen=True, slots=True)
class RotationReport:
    projects: int
    rewrapped: int
    active_key_id: str


def rotate_data_keys(db: Database, keyring: Keyring) -> RotationReport:
    """Re-wrap every project's data key under the keyring's active key.

    One short transaction per project, so servers keep serving throughout;
    values are not re-encrypted (their data keys do not change). Safe to run
    again after an interruption: keys already under the active key are skipped.
    """
    actor = Actor.cli()
    with transaction(db, actor, write=False) as session:
        projects = project_store.list_all(session)
    rewrapped = 0
    for project in projects:
        with transaction(db, actor) as session:
            scope = enter_project(session, project, Role.OWNER)
            stored = scope.secrets.data_key(for_update=True)
            if stored is None or stored.key_id == keyring.active.key_id:
                continue
            fresh = envelope.rewrap(
                keyring,
                WrappedKey(key_id=stored.key_id, blob=stored.wrapped_key),
                project_id=str(project.id),
            )
            scope.secrets.replace_data_key(fresh.key_id, fresh.blob, datetime.now(UTC))
            scope.record(
                actor,
                "key.rotate",
                object_type="project_key",
                object_id=str(project.id),
                summary={"from": stored.key_id, "to": fresh.key_id},
            )
            rewrapped += 1
    return RotationReport(
        projects=len(projects), rewrapped=rewrapped, active_key_id=keyring.active.key_id
    )


def key_ids_in_use(db: Database) -> set[str]:
    """Which key-encryption keys still wrap some project's data key."""
    actor = Actor.cli()
    found: set[str] = set()
    with transaction(db, actor, write=False) as session:
        for project in project_store.list_all(session):
            stored = enter_project(session, project, Role.OWNER).secrets.data_key()
            if stored is not None:
                found.add(stored.key_id)
    return found


def values_for_run(
    scope: ProjectScope, keys: Keys, actor: Actor, names: Collection[str], *, purpose: str
) -> dict[str, str]:
    """Decrypt the secrets a run's step uses, inside its worker's scope; each
    use is audited. Missing names are left out (the step then fails)."""
    found: dict[str, str] = {}
    data_key = _data_key(scope, keys, create=False) if names else None
    if data_key is None:
        return found
    now = datetime.now(UTC)
    for name in sorted(set(names)):
        ciphertext = scope.secrets.ciphertext(name)
        if ciphertext is None:
            continue
        found[name] = envelope.decrypt_value(
            data_key, ciphertext, project_id=str(scope.project.id), name=name
        )
        scope.secrets.mark_used(name, now)
        scope.record(
            actor,
            "secret.use",
            object_type="secret",
            object_id=name,
            summary={"name": name, "purpose": purpose},
        )
    return found


def values_for_hook(scope: ProjectScope, keys: Keys, names: Collection[str]) -> dict[str, str]:
    """Decrypt the secrets a webhook checks requests with (its HMAC secret, its
    JWT key), in a read-only transaction: not audited per request (a flood of
    forged requests must not write), as the delivery log records each request."""
    found: dict[str, str] = {}
    data_key = _data_key(scope, keys, create=False) if names else None
    if data_key is None:
        return found
    for name in sorted(set(names)):
        ciphertext = scope.secrets.ciphertext(name)
        if ciphertext is not None:
            found[name] = envelope.decrypt_value(
                data_key, ciphertext, project_id=str(scope.project.id), name=name
            )
    return found
