"""Online backup and checked restore of a SQLite installation.

The copy is made with SQLite's online backup API inside one read transaction
on the source, so it is the database exactly as it was at one commit, while
``serve`` and ``worker`` go on writing (WAL readers do not block writers, and
a pinned snapshot never restarts the copy). It is written to a temporary file
beside the target and renamed into place only when complete and checked, so a
failed or interrupted backup or restore leaves nothing half-written.

PostgreSQL has its own tools for this (``pg_dump``, point-in-time recovery):
``docs/operations.md``.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from contextlib import closing, suppress
from dataclasses import dataclass
from pathlib import Path

# Pages copied per step: small enough for a smooth progress bar, large enough
# that a 1 GB database needs a few thousand steps, not a million.
PAGES_PER_STEP = 1024

# The tables a restore insists on finding (a MeshHook database, not any file).
REQUIRED_TABLES = ("alembic_version", "projects", "workflows", "workflow_versions", "runs")

Progress = Callable[[int, int], None]
"""Called with (pages copied, pages in all) as the copy advances."""


class BackupError(Exception):
    """The file is not a usable MeshHook SQLite database (the message says why)."""


@dataclass(frozen=True, slots=True)
class BackupSummary:
    """What a checked backup holds."""

    path: Path
    bytes: int
    revision: str
    projects: int
    workflows: int
    versions: int
    runs: int
    run_events: int


def copy_online(source: Path, target: Path, progress: Progress | None = None) -> None:
    """Copy the live database ``source`` to ``target`` (which must not exist)."""
    if target.exists():
        raise BackupError(f"{target} exists; choose a new file name")
    if not source.exists():
        raise BackupError(f"there is no database at {source}")
    partial = _partial_path(target)
    try:
        with (
            closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as reader,
            closing(sqlite3.connect(partial)) as writer,
        ):
            reader.isolation_level = None
            reader.execute("PRAGMA busy_timeout=10000")
            # One read transaction for the whole copy: every step reads the same
            # snapshot, so writes by other processes neither tear nor restart it.
            reader.execute("BEGIN")
            reader.execute("SELECT count(*) FROM sqlite_master").fetchone()

            def report(_status: int, remaining: int, total: int) -> None:
                if progress is not None:
                    progress(total - remaining, total)

            reader.backup(writer, pages=PAGES_PER_STEP, progress=report)
            reader.execute("COMMIT")
            # A backup is one self-contained file: no WAL beside it.
            writer.execute("PRAGMA journal_mode=DELETE")
        _fsync(partial)
        check(partial)
        os.replace(partial, target)
        _fsync_directory(target.parent)
    except sqlite3.DatabaseError as error:
        raise BackupError(f"cannot read {source} as a SQLite database: {error}") from error
    finally:
        with suppress(FileNotFoundError):
            partial.unlink()


def check(path: Path) -> BackupSummary:
    """Open ``path`` read-only and make sure it is an intact MeshHook database."""
    if not path.is_file():
        raise BackupError(f"there is no file at {path}")
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            verdict = db.execute("PRAGMA integrity_check").fetchone()[0]
            if verdict != "ok":
                raise BackupError(f"{path} is damaged: {verdict}")
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
            missing = [name for name in REQUIRED_TABLES if name not in tables]
            if missing:
                raise BackupError(f"{path} is not a MeshHook database (no {', '.join(missing)})")
            (revision,) = db.execute("SELECT version_num FROM alembic_version").fetchone()

            def count(table: str) -> int:
                if table not in tables:
                    return 0
                value: int = db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                return value

            return BackupSummary(
                path=path,
                bytes=path.stat().st_size,
                revision=str(revision),
                projects=count("projects"),
                workflows=count("workflows"),
                versions=count("workflow_versions"),
                runs=count("runs"),
                run_events=count("run_events"),
            )
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} is not a readable SQLite database: {error}") from error


def restore_file(backup: Path, target: Path) -> None:
    """Put the checked ``backup`` in place of the database ``target``.

    The old database's WAL and shared-memory files go with it (they belong to
    the replaced file and would corrupt the restored one).
    """
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = _partial_path(target)
    try:
        with (
            closing(sqlite3.connect(f"file:{backup}?mode=ro", uri=True)) as reader,
            closing(sqlite3.connect(partial)) as writer,
        ):
            reader.backup(writer)
            writer.execute("PRAGMA journal_mode=DELETE")
        _fsync(partial)
        check(partial)
        for suffix in ("-wal", "-shm"):
            with suppress(FileNotFoundError):
                Path(f"{target}{suffix}").unlink()
        os.replace(partial, target)
        os.chmod(target, 0o600)
        _fsync_directory(target.parent)
    finally:
        with suppress(FileNotFoundError):
            partial.unlink()


def _partial_path(target: Path) -> Path:
    return target.with_name(f".{target.name}.partial-{os.getpid()}")


def _fsync(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def _fsync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
