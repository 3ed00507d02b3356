"""Backups of a SQLite installation: an online copy while it serves, and a
checked restore (PostgreSQL: ``pg_dump`` and PITR, ``docs/operations.md``)."""

from __future__ import annotations

from pathlib import Path

from meshhook.domain.errors import BadRequest
from meshhook.store import backup as backup_store
from meshhook.store import migrate
from meshhook.store.backup import BackupError, BackupSummary, Progress
from meshhook.store.db import sqlite_path

POSTGRES_ADVICE = (
    "backup and restore work on SQLite installations; for PostgreSQL use pg_dump or"
    " point-in-time recovery (docs/operations.md, 'Backups')"
)


def backup(database_url: str, target: Path, progress: Progress | None = None) -> BackupSummary:
    """A consistent copy of the live database at ``target``, checked."""
    source = _sqlite_file(database_url)
    try:
        backup_store.copy_online(source, target, progress)
        return backup_store.check(target)
    except BackupError as error:
        raise BadRequest(str(error)) from error


def inspect(source: Path) -> BackupSummary:
    """Check ``source`` is an intact MeshHook database this release can open."""
    try:
        summary = backup_store.check(source)
    except BackupError as error:
        raise BadRequest(str(error)) from error
    if not migrate.is_known_revision(summary.revision):
        raise BadRequest(
            f"{source} comes from a newer MeshHook (schema {summary.revision});"
            " upgrade MeshHook before restoring it"
        )
    return summary


def restore(database_url: str, source: Path) -> BackupSummary:
    """Replace the configured database with the checked backup ``source``; the
    next start migrates it if it is older than this release."""
    target = _sqlite_file(database_url)
    summary = inspect(source)
    if source.resolve() == target.resolve():
        raise BadRequest(f"{source} is the live database itself")
    try:
        backup_store.restore_file(source, target)
    except BackupError as error:
        raise BadRequest(str(error)) from error
    return summary


def _sqlite_file(database_url: str) -> Path:
    path = sqlite_path(database_url)
    if path is None:
        raise BadRequest(POSTGRES_ADVICE)
    return path
